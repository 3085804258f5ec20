"""``hyperband run``: run a study of ``module:function`` (or ``path/to/file.py:function``) with
``hyperband.run``, then print the best configuration."""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import importlib
import json
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hyperband.cli.args import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_JOBS_FAILED,
    EXIT_TERMINATED,
    CliError,
    Parser,
    add_max_jobs,
    add_schedule_args,
    int_at_least,
    json_object,
    one_line,
    positive_seconds,
)
from hyperband.core.adaptive import BRACKET_MODES
from hyperband.core.errors import HyperbandError, TooManyFailuresError
from hyperband.core.machine import EXEC_MODES
from hyperband.core.sampling import SAMPLERS
from hyperband.core.stopping import STOPPING_RULES
from hyperband.drivers.checkpoints import KEEP_CHECKPOINTS
from hyperband.drivers.plugs import EXECUTOR_PLUGS
from hyperband.report.text import result_lines

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult

__all__ = ["EXECUTORS", "add_parser", "command", "load_objective"]

EXECUTORS = ("serial", "threads", "processes", "dask", "ray")
# Without --max-failures, a run whose first FAIL_FAST jobs all failed stops.
FAIL_FAST = 10
# A seed drawn for the user: at most 9 digits (hyperband.run itself draws 128 bits).
SEED_RANGE = 10**9


def add_parser(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``run`` and its arguments to the subcommands ``sub``."""
    p = sub.add_parser(
        "run",
        help="run a study of an objective function",
        description="Run a Hyperband study of TARGET, a function objective(config, budget"
        "[, context]) given as module:function or path/to/file.py:function, then print the "
        "best configuration.",
    )
    p.add_argument("target", metavar="TARGET", help="module:function or path/to/file.py:function")
    p.add_argument(
        "--space",
        required=True,
        type=Path,
        help="search space JSON file (NNI's format, or ConfigSpace's JSON)",
    )
    add_schedule_args(p)
    p.add_argument(
        "--exec-mode",
        choices=EXEC_MODES,
        default="parallelism",
        help="default parallelism; asynchronous: ASHA's promotions",
    )
    p.add_argument("--iterations", type=int_at_least(1), default=1, help="default 1")
    p.add_argument(
        "--sampler",
        choices=tuple(SAMPLERS),
        help="where configurations come from: random, kde (BOHB's model) or optuna (an Optuna "
        "sampler, TPE by default; needs pip install 'hyperband[optuna]'); default: kde with "
        "trust='rank', or the journal's when resuming one",
    )
    p.add_argument(
        "--sampler-options",
        type=json_object,
        metavar="JSON",
        help="keyword arguments of the sampler, e.g. '{\"top_fraction\": 0.1}'",
    )
    p.add_argument(
        "--early-stop",
        choices=tuple(STOPPING_RULES),
        help="stop unpromising jobs at their context.report() calls: median, rung or "
        "curve (default: no early stopping)",
    )
    p.add_argument(
        "--brackets",
        choices=BRACKET_MODES,
        help="which bracket runs next: cycle (NNI's order) or adaptive (drawn from how well "
        "each budget ranks configurations as the largest does); default: cycle, or the "
        "journal's when resuming one",
    )
    add_max_jobs(p)
    _add_execution_args(p)


def _add_execution_args(p: argparse.ArgumentParser) -> None:
    """Where and how the study runs: executor, workers, journal, seed, failures, checkpoints."""
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        help="default threads (dask with --scheduler); dask without --scheduler: a local "
        "cluster of --workers processes; ray: the Ray cluster of $RAY_ADDRESS, else a local "
        "instance of --workers CPUs",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786 (implies "
        "--executor dask; needs pip install 'hyperband[dask]')",
    )
    p.add_argument(
        "--workers",
        type=int_at_least(1),
        help="jobs in flight (default: the CPU count; with --scheduler the cluster's threads)",
    )
    p.add_argument(
        "--journal", type=Path, help="JSON-lines journal; an existing one resumes the study"
    )
    p.add_argument("--seed", type=int_at_least(0), help="seed (default: fresh, printed)")
    p.add_argument("--minimize", action="store_true", help="minimize (default: maximize)")
    p.add_argument("--timeout", type=positive_seconds, help="seconds per job before it fails")
    p.add_argument("--retries", type=int_at_least(0), default=0, help="retries of a failed job")
    p.add_argument(
        "--max-failures",
        type=_max_failures,
        metavar="N",
        help=f"stop the run once N of its jobs failed (exit code 3); default: once its first "
        f"{FAIL_FAST} jobs all failed (an objective that fails every time); none: never",
    )
    p.add_argument(
        "--study-name", help="a name for the study, kept in the journal (resuming needs it)"
    )
    p.add_argument(
        "--allow-objective-change",
        action="store_true",
        help="resume a journal written by an objective of another module:function (one you "
        "renamed or moved)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="with an existing --journal: run its failed jobs again (those whose rung did not "
        "go on without them), once their cause is fixed",
    )
    p.add_argument(
        "--keep-checkpoints",
        choices=KEEP_CHECKPOINTS,
        default="best",
        help="best (default): remove a configuration's checkpoint directory once it can no "
        "longer be promoted, except the best one's; all: keep every directory",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar or log lines")


def _max_failures(text: str) -> int | str:
    """``--max-failures``: an int >= 1, or ``none``."""
    return "none" if text.strip().lower() == "none" else int_at_least(1)(text)


def _failure_policy(args: argparse.Namespace) -> dict[str, int | None]:
    """``run()``'s ``max_failures`` and ``fail_fast`` for ``--max-failures``."""
    if args.max_failures is None:
        return {"max_failures": None, "fail_fast": FAIL_FAST}
    if args.max_failures == "none":
        return {"max_failures": None, "fail_fast": None}
    return {"max_failures": args.max_failures, "fail_fast": None}


def _seed(args: argparse.Namespace) -> int | None:
    """``--seed``, or a fresh one short enough to read and type back (a journal being resumed
    keeps its own: None)."""
    if args.seed is not None:
        return int(args.seed)
    journal = args.journal
    if journal is not None and journal.exists() and journal.stat().st_size > 0:
        return None
    return secrets.randbelow(SEED_RANGE)


def load_objective(target: str) -> Callable[..., Any]:
    """Resolve ``module:function`` or ``path/to/file.py:function`` to the function.

    The current directory goes on ``sys.path`` (as with ``python -m``), so a module next to
    you imports. A file path puts the file's directory on ``sys.path`` and imports the file
    under its stem, so worker processes can import it by name too (a function is pickled by
    reference to its module).

    Args:
        target: ``"module:function"`` (``function`` may be dotted: ``module:Class.method``) or
            ``"path/to/file.py:function"``.

    Returns:
        The callable.

    Raises:
        CliError: the target is malformed, does not import, or names no callable.

    Examples:
        >>> load_objective("math:sqrt")(9.0)
        3.0
    """
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name or not attr:
        raise CliError(
            f"TARGET must be module:function or path/to/file.py:function, got {target!r}"
        )
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        path = Path(module_name).resolve()
        if not path.is_file():
            raise CliError(f"TARGET: file {module_name!r} does not exist")
        if path.suffix != ".py":
            raise CliError(f"TARGET: file {module_name!r} must be a .py file")
        folder, module_name = str(path.parent), path.stem
        if folder not in sys.path:
            sys.path.insert(0, folder)
        loaded = sys.modules.get(module_name)
        loaded_file = getattr(loaded, "__file__", None)
        if loaded is not None and (loaded_file is None or Path(loaded_file).resolve() != path):
            raise CliError(
                f"TARGET: cannot import {str(path)!r} as module {module_name!r}: a module of "
                f"that name is already imported from {loaded_file!r}; rename the file"
            )
    else:
        cwd = os.getcwd()
        if cwd not in sys.path and "" not in sys.path:
            sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module may raise anything while importing
        raise CliError(
            f"TARGET: cannot import module {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CliError(f"TARGET: module {module_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise CliError(f"TARGET: {target!r} must name a callable, got {type(obj).__name__}")
    return obj  # type: ignore[no-any-return]


def _load_space(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"--space: cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"--space: {str(path)!r} is not valid JSON: {exc}") from None
    from hyperband.core.configspace import space_from_file  # NNI's format or ConfigSpace's JSON

    return space_from_file(data, f"--space {str(path)!r}")


def command(args: argparse.Namespace, out: IO[str]) -> int:
    """Run the study of ``args``, print its result to ``out``; return the exit code."""
    executor: Any = args.executor or ("dask" if args.scheduler is not None else "threads")
    if args.scheduler is not None and executor != "dask":
        raise CliError(f"--scheduler needs --executor dask, got --executor {executor}")
    if args.retry_failed and args.journal is None:
        raise CliError("--retry-failed re-runs the failed jobs of a journal: it needs --journal")
    objective = load_objective(args.target)
    space = _load_space(args.space)
    client: Any = None
    # The dask plug sits above the command line (integrations are the top layer): reached by
    # its name through the drivers' plug table, like executor="dask" itself.
    dask = EXECUTOR_PLUGS["dask"]
    if args.scheduler is not None:
        executor = client = dask.load().connect(args.scheduler)
    try:
        with _terminate_as_interrupt():
            result = _run(args, objective, space, executor)
    except OSError as exc:
        raise _os_error(exc, args.journal) from None
    except KeyboardInterrupt as exc:
        return _interrupted(exc, out, args.journal)
    except TooManyFailuresError as exc:
        return _too_many_failures(exc, out, args.journal)
    except concurrent.futures.BrokenExecutor as exc:
        # A lost dask scheduler (SchedulerLostError, a HyperbandError): caught by what it is,
        # so the command line need not import the dask plug to recognise it.
        if not isinstance(exc, HyperbandError):
            raise
        return _executor_lost(exc, args.journal)
    finally:
        if client is not None:
            dask.load().close_client(client)
    _print(result_lines(result, journal=args.journal), out)
    if result.n_succeeded == 0:
        print(
            f"hyperband: error: no job succeeded ({result.n_failed} failed): see the reasons above",
            file=sys.stderr,
        )
        return EXIT_JOBS_FAILED
    return 0


def _run(
    args: argparse.Namespace, objective: Callable[..., Any], space: Any, executor: Any
) -> RunResult:
    # Imported here: the drivers are only needed to run, and tests replace run() in its module.
    from hyperband.drivers.runner import run

    return run(
        objective,
        space,
        max_budget=args.max_budget,
        eta=args.eta,
        min_budget=args.min_budget,
        mode="minimize" if args.minimize else "maximize",
        exec_mode=args.exec_mode,
        sizing=args.sizing,
        iterations=args.iterations,
        seed=_seed(args),
        executor=executor,
        workers=args.workers,
        journal=args.journal,
        progress=not args.no_progress,
        timeout=args.timeout,
        retries=args.retries,
        study_name=args.study_name,
        allow_objective_change=args.allow_objective_change,
        keep_checkpoints=args.keep_checkpoints,
        sampler=args.sampler,
        sampler_options=args.sampler_options,
        early_stop=args.early_stop,
        max_jobs=args.max_jobs,
        brackets=args.brackets,
        retry_failed=args.retry_failed,
        **_failure_policy(args),
    )


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it stops as on Ctrl-C: the running jobs
    cancelled, the journal closed, the summary printed."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While the study runs, SIGTERM stops it like Ctrl-C (exit code 143, not a bare kill)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread (an embedding program)
        return

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, previous)  # a second SIGTERM ends the process at once
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print(lines: list[str], out: IO[str]) -> None:
    for line in lines:
        print(line, file=out)


def _os_error(exc: OSError, journal: Path | None) -> CliError:
    # The driver's own files (the journal, its checkpoint folder): the objective's errors
    # never get here, they fail their job.
    if journal is not None and exc.filename is not None:
        return CliError(f"--journal: cannot use {str(exc.filename)!r}: {exc.strerror or exc}")
    return CliError(f"cannot run the study: {type(exc).__name__}: {exc}")


def _print_so_far(exc: BaseException, out: IO[str], journal: Path | None) -> None:
    """The summary of a run stopped by ``exc`` (run() attaches what it had done)."""
    result = getattr(exc, "result", None)
    if result is not None:
        _print(result_lines(result, journal=journal), out)


def _interrupted(exc: KeyboardInterrupt, out: IO[str], journal: Path | None) -> int:
    _print_so_far(exc, out, journal)
    how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    if journal is not None:
        print(
            f"hyperband: {how}; the journal {str(journal)!r} holds every finished job: run "
            "the same command to resume",
            file=sys.stderr,
        )
    else:
        print(
            f"hyperband: {how}; nothing can be resumed (no --journal): the best so far "
            "is above; pass --journal FILE to be able to resume a study",
            file=sys.stderr,
        )
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


def _too_many_failures(exc: TooManyFailuresError, out: IO[str], journal: Path | None) -> int:
    _print_so_far(exc, out, journal)
    where = f"; the journal {str(journal)!r} resumes the study" if journal is not None else ""
    print(f"hyperband: error: {one_line(str(exc))}{where}", file=sys.stderr)
    return EXIT_JOBS_FAILED


def _executor_lost(exc: BaseException, journal: Path | None) -> int:
    where = (
        f"the journal {str(journal)!r} holds every finished job: start the scheduler and workers "
        "again, then run the same command to resume"
        if journal
        else "pass --journal to be able to resume a study"
    )
    print(f"hyperband: error: {exc}; {where}", file=sys.stderr)
    return EXIT_FAILURE
