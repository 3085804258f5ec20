"""Why the process pool's workers cannot start, said once and in one line (issue 18).

A worker process started with ``spawn`` or ``forkserver`` imports the main module again,
under the name ``__mp_main__``, before it runs anything of ours: multiprocessing does that so
that a function defined in ``__main__`` unpickles. While it does, multiprocessing marks the
process (``current_process()._inheriting``, the flag behind its own "Safe importing of main
module" error). Two scripts cannot survive that import:

- a script read from standard input (``python - <<EOF``): there is no file to import again
  (``FileNotFoundError: '<stdin>'``). ``check_main_importable`` refuses it in the driver,
  before anything starts;
- a script that calls ``run()`` at its top level, without ``if __name__ == "__main__":``:
  every worker would run a study of its own while it starts. ``refuse_nested_study`` makes
  that ``run()`` raise instead.

A worker of ours that fails in that import (the nested ``run()``, or any other error in the
script's top level once it has imported hyperband) writes the error's one line to a file of
the pool's start directory, named in the worker's process name, instead of printing a
traceback (``report_start_failure``, installed by ``import hyperband`` in a starting worker).
The pool reads it (``reported_line``) and raises one ``WorkerStartError`` with it at the
first failed start (``start_error``), where it used to respawn the workers for every job.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

from hyperband.core.errors import WorkerStartError

__all__ = [
    "WORKER_NAME",
    "check_main_importable",
    "main_source",
    "one_line",
    "ready",
    "refuse_nested_study",
    "report_start_failure",
    "reported_line",
    "start_error",
    "worker_name",
]

#: The process name of the pool's workers, before ``:`` and the start directory.
WORKER_NAME = "hyperband-worker"
GUARD = 'if __name__ == "__main__":'
FIX = (
    f"put the code that starts the study under `{GUARD}` in the main script, and define the "
    "objective at module level, in that script or in an importable module (not in a script "
    "read from standard input)"
)
# A worker's error line is cut here: multiprocessing's own hint alone is 600 characters.
_LINE_LIMIT = 700


def _starting() -> bool:
    """True in a process that multiprocessing started while it imports the main module."""
    return bool(getattr(multiprocessing.process.current_process(), "_inheriting", False))


def main_source() -> str | None:
    """What a new worker process imports as its main module: a file, a module, or nothing.

    The rule of ``multiprocessing.spawn.get_preparation_data`` (not called: it would fix the
    global start method as a side effect).
    """
    # In a starting worker the script being imported is ``__mp_main__`` (``__main__`` becomes
    # it only once the import is done).
    main = sys.modules.get("__mp_main__") or sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if isinstance(name, str):
        return name  # python -m module: imported by name
    path = getattr(main, "__file__", None)
    if not isinstance(path, str):
        return None  # python -c, an interactive session: nothing is imported again
    origin = getattr(multiprocessing.process, "ORIGINAL_DIR", None)  # the cwd at its start
    if not os.path.isabs(path) and origin is not None:
        path = os.path.join(origin, path)
    return os.path.normpath(path)


def one_line(error: BaseException) -> str:
    text = " ".join(f"{type(error).__name__}: {error}".split())
    return text if len(text) <= _LINE_LIMIT else text[: _LINE_LIMIT - 3] + "..."


def refuse_nested_study() -> None:
    """Raise ``WorkerStartError`` when ``run()`` is called while a worker imports ``__main__``.

    Any process multiprocessing starts (ours, a dask nanny's, the user's pool) runs an
    unguarded script's top level while it starts; a study started there would run once per
    worker, and its own pool could not start anyway.
    """
    if _starting():
        raise WorkerStartError(
            f"hyperband.run() was called while a worker process imported the main module "
            f"{main_source()!r} again (as '__mp_main__'), so each worker would run a study of "
            f"its own; put the code that starts the study under `{GUARD}`"
        )


def check_main_importable() -> None:
    """Refuse a main module that worker processes cannot import again, before they start.

    Raises:
        WorkerStartError: the main module was read from standard input (or its file is gone).
    """
    source = main_source()
    if source is None or not os.path.isabs(source):
        return  # none, or a module name: importable, as the driver imported it
    if Path(source).stem == "ipython":
        return  # multiprocessing does not import IPython's main again
    try:
        with open(source, "rb"):
            pass
    except OSError as exc:
        where = "was read from standard input" if source.endswith("<stdin>") else "has no file"
        raise WorkerStartError(
            f"executor='processes' cannot start its worker processes: each one imports the "
            f"main module again, and this one {where} ({one_line(exc)}); save the script to a "
            f"file and run that: {FIX}"
        ) from None


def worker_name(start_dir: str) -> str:
    """The process name of a worker that reports a failed start into ``start_dir``."""
    return f"{WORKER_NAME}:{start_dir}"


def report_start_failure() -> None:
    """In a starting worker of the pool: report an error that stops it in one line, quietly.

    The error leaves the import of the main module through ``sys.excepthook`` (the forkserver
    calls it, and so does a ``spawn`` child's interpreter), after multiprocessing has cleared
    its mark: the hook is ours until the worker is ready (``ready`` restores the previous one).
    It writes the line where the pool reads it, and hands one it cannot write to the previous
    hook.
    """
    if not _starting():
        return
    prefix, _, start_dir = multiprocessing.process.current_process().name.partition(":")
    if prefix != WORKER_NAME or not start_dir:
        return  # another pool's process: none of ours to report to
    previous = sys.excepthook

    def hook(
        kind: type[BaseException], error: BaseException, tb: types.TracebackType | None
    ) -> None:
        try:
            Path(start_dir, f"{os.getpid()}.txt").write_text(one_line(error))
        except OSError:
            previous(kind, error, tb)

    _previous_hooks.append(previous)
    sys.excepthook = hook


# The excepthook ``report_start_failure`` replaced, while this process is a starting worker.
_previous_hooks: list[Callable[..., object]] = []


def ready() -> None:
    """The worker started: its errors are its jobs' now, and the previous excepthook is back."""
    while _previous_hooks:
        sys.excepthook = _previous_hooks.pop()


def reported_line(start_dir: str, pid: int | None) -> str | None:
    """The error line the worker ``pid`` reported into ``start_dir``, if any (then removed)."""
    path = Path(start_dir, f"{pid}.txt")
    try:
        line = path.read_text()
    except OSError:
        return None
    path.unlink(missing_ok=True)
    return line or None


def start_error(exit_text: str | None, line: str | None) -> WorkerStartError:
    """The error ``run()`` raises when the pool's first worker could not start.

    Args:
        exit_text: how the worker exited before it was ready (``"exit code 1"``); None when
            starting it raised ``line`` in this process.
        line: the worker's error in one line, if it reported one.
    """
    said = f"its error: {line}" if line is not None else "its error, if any, is printed above"
    failed = (
        f"starting the first raised {line}"
        if exit_text is None
        else f"the first exited ({exit_text}) before it was ready; {said}"
    )
    source = main_source()
    if source is None:
        return WorkerStartError(f"executor='processes' cannot start its worker processes: {failed}")
    return WorkerStartError(
        f"executor='processes' cannot start its worker processes: each one imports the main "
        f"module {source!r} again (as '__mp_main__'), and {failed}. To fix it, {FIX}"
    )
