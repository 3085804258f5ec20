"""The ``hyperband`` command line (also ``python -m hyperband``).

Commands:

- ``schedule``: the bracket table and totals; with ``--workers`` a simulated makespan and
  utilisation for both exec modes.
- ``run``: run a study of ``module:function`` (or ``path/to/file.py:function``) with
  ``hyperband.run``, then print the best configuration.
- ``report``: summarise a study's journal; ``--plot`` draws the worker timeline and the best
  value against budget spent; ``--html`` writes the interactive report (``--live``: again and
  again while the study runs).

Bad arguments print one line, ``hyperband: error: ...``, and exit with code 2; never a
traceback. Errors the library raises on bad input (``HyperbandError``) are reported the same
way. Exit codes: see ``main``. A closed pipe (``hyperband report ... | head``) ends the command
quietly, like other Unix tools.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

from hyperband.core.errors import HyperbandError, TooManyFailuresError
from hyperband.core.machine import EXEC_MODES
from hyperband.core.sampling import SAMPLERS
from hyperband.core.schedule import DEFAULT_MAX_JOBS, SIZINGS, degenerate, schedule
from hyperband.core.stopping import STOPPING_RULES
from hyperband.drivers.checkpoints import KEEP_CHECKPOINTS
from hyperband.report.plots import last_line

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult

__all__ = ["CliError", "load_objective", "main"]

EXECUTORS = ("serial", "threads", "processes", "dask")
EXIT_FAILURE = 1  # the study could not finish (the dask scheduler was lost): resume it
EXIT_USAGE = 2
EXIT_JOBS_FAILED = 3  # no job succeeded, or --max-failures stopped the run
EXIT_INTERRUPTED = 130  # the shell's convention for a process stopped by SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a Unix tool killed by a closed pipe reports
SORTS = ("budget", "value", "job", "duration")


class CliError(Exception):
    """A usage error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not exit (``main`` returns 2).

    argparse's default prints the whole usage block and calls ``sys.exit``; a one-line error
    is what scripts and humans can read, and raising keeps ``main([...])`` testable
    in-process. Sub-command parsers are built with the same class.
    """

    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def _number(text: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return int(value) if value.is_integer() else value


def _int_at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text!r}")
    return float(value)


def _add_schedule_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-budget", type=_number, required=True, help="largest budget (R)")
    p.add_argument("--eta", type=_number, default=3, help="halving rate (default 3)")
    p.add_argument("--min-budget", type=_number, default=1, help="smallest budget (default 1)")
    p.add_argument(
        "--sizing", choices=SIZINGS, default="li2018", help="bracket sizing rule (default li2018)"
    )


def _add_max_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-jobs",
        type=_int_at_least(1),
        default=DEFAULT_MAX_JOBS,
        help=f"refuse a schedule of more jobs per iteration (default {DEFAULT_MAX_JOBS}): "
        "a bigger one is almost always a slip (a budget in the wrong unit, an eta close to 1)",
    )


def _parser() -> _Parser:
    parser = _Parser(prog="hyperband", description="Hyperband schedules, studies and reports.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "schedule",
        help="print the bracket table of a schedule",
        description="Print the bracket table (rows: rung i; columns: bracket s; cells: n r) "
        "and its totals. With --workers, also simulate the study on W workers (job time = "
        "budget x LogNormal(0, 0.3)) and print the makespan and utilisation of both exec modes.",
    )
    _add_schedule_args(p)
    p.add_argument(
        "--integer-budgets", action="store_true", help="round non-integral budgets to ints"
    )
    p.add_argument(
        "--workers", type=_int_at_least(1), help="simulate the study on this many workers"
    )
    p.add_argument("--iterations", type=_int_at_least(1), default=1, help="iterations to simulate")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="simulation seed")
    p.add_argument(
        "--resume",
        action="store_true",
        help="simulate promotions resumed from checkpoints (cost: budget - previous budget)",
    )
    _add_max_jobs(p)

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
    _add_schedule_args(p)
    p.add_argument(
        "--exec-mode",
        choices=EXEC_MODES,
        default="parallelism",
        help="default parallelism; asynchronous: ASHA's promotions",
    )
    p.add_argument("--iterations", type=_int_at_least(1), default=1, help="default 1")
    p.add_argument(
        "--sampler",
        choices=tuple(SAMPLERS),
        default="random",
        help="where configurations come from: random (default) or kde (BOHB's model)",
    )
    p.add_argument(
        "--sampler-options",
        type=_json_object,
        metavar="JSON",
        help="keyword arguments of the sampler, e.g. '{\"top_fraction\": 0.1}'",
    )
    p.add_argument(
        "--early-stop",
        choices=tuple(STOPPING_RULES),
        help="stop unpromising jobs at their context.report() calls: median or rung "
        "(default: no early stopping)",
    )
    _add_max_jobs(p)
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        help="default threads (dask with --scheduler); dask without --scheduler: a local "
        "cluster of --workers processes",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786 (implies "
        "--executor dask; needs pip install 'hyperband[dask]')",
    )
    p.add_argument(
        "--workers",
        type=_int_at_least(1),
        help="jobs in flight (default: the CPU count; with --scheduler the cluster's threads)",
    )
    p.add_argument(
        "--journal", type=Path, help="JSON-lines journal; an existing one resumes the study"
    )
    p.add_argument("--seed", type=_int_at_least(0), help="seed (default: fresh, printed)")
    p.add_argument("--minimize", action="store_true", help="minimize (default: maximize)")
    p.add_argument("--timeout", type=_positive_seconds, help="seconds per job before it fails")
    p.add_argument("--retries", type=_int_at_least(0), default=0, help="retries of a failed job")
    p.add_argument(
        "--max-failures",
        type=_int_at_least(1),
        metavar="N",
        help="stop the run once N of its jobs failed (exit code 3); default: never",
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
        "--keep-checkpoints",
        choices=KEEP_CHECKPOINTS,
        default="best",
        help="best (default): remove a configuration's checkpoint directory once it can no "
        "longer be promoted, except the best one's; all: keep every directory",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar or log lines")

    p = sub.add_parser(
        "report",
        help="summarise a study's journal",
        description="Summarise a journal written by `hyperband run --journal`. With --plot, "
        "also draw the worker timeline (jobs per worker, coloured by bracket) and the best "
        "value against budget spent (needs matplotlib: pip install 'hyperband[plot]').",
    )
    p.add_argument("journal", type=Path, help="the journal file")
    p.add_argument("--plot", type=Path, metavar="OUT", help="write the figure here (.png, .svg)")
    p.add_argument(
        "--trials",
        action="store_true",
        help="also print a table of the jobs: configuration, budget, value, status, and why a "
        "failed job failed",
    )
    p.add_argument(
        "--sort",
        choices=SORTS,
        default="budget",
        help="order of --trials: budget (largest budget first, then best value; the default), "
        "value (best first), job (job id), duration (longest first); failed jobs come last",
    )
    p.add_argument(
        "--top", type=_int_at_least(1), metavar="K", help="--trials: only the first K rows"
    )
    p.add_argument(
        "--html",
        type=Path,
        metavar="PATH",
        help="write an interactive, self-contained HTML report here (needs plotly: "
        "pip install 'hyperband[report]')",
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="with --html: rewrite the report every --interval seconds until the study is "
        "complete (the page reloads itself); Ctrl-C stops",
    )
    p.add_argument(
        "--interval",
        type=_positive_seconds,
        metavar="SECONDS",
        help="with --live: seconds between rewrites (default 5)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success; 1 when the dask scheduler was lost mid-study (run again
        to resume); 2 on bad arguments; 3 when no job succeeded or ``--max-failures`` stopped
        the run; 130 when interrupted; 141 when the reader of the output went away (a closed
        pipe).

    Example:
        >>> main(["schedule", "--max-budget", "9", "--eta", "3"])  # doctest: +NORMALIZE_WHITESPACE
           s=2  s=1  s=0
        i  n r  n r  n r
        0  9 1  5 3  3 9
        1  3 3  1 9
        2  1 9
        <BLANKLINE>
        3 brackets, 22 jobs, 78 budget units per iteration
        0
    """
    # The library's warnings (a degenerate schedule, a journal resumed without a check) are
    # one line each, like the errors.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LineFormatter())
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("hyperband")
    logger.addHandler(handler)
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a closed pipe shows on the last write
    except BrokenPipeError:
        # The reader went away (| head): stop quietly like a Unix tool. Python's documented
        # recipe: point stdout at devnull so the flush at exit does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        logger.removeHandler(handler)
    return code


class _LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = " ".join(record.getMessage().split())
        return f"hyperband: {record.levelname.lower()}: {line}"


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help: argparse printed it and asked to exit
        return exc.code if isinstance(exc.code, int) else 0
    except CliError as exc:
        return _usage_error(str(exc))
    try:
        if args.command == "schedule":
            _cmd_schedule(args, sys.stdout)
        elif args.command == "run":
            return _cmd_run(args, sys.stdout)
        else:
            return _cmd_report(args, sys.stdout)
    except (CliError, HyperbandError) as exc:
        return _usage_error(str(exc))
    return 0


def _warn(message: str) -> None:
    print(f"hyperband: warning: {' '.join(message.split())}", file=sys.stderr)


def _usage_error(message: str) -> int:
    # One line whatever the message: multi-line text would read as a traceback.
    line = " ".join(message.split())
    print(f"hyperband: error: {line}", file=sys.stderr)
    return EXIT_USAGE


# ---------------------------------------------------------------------- schedule


def _cmd_schedule(args: argparse.Namespace, out: IO[str]) -> None:
    sched = schedule(
        args.max_budget,
        args.eta,
        min_budget=args.min_budget,
        sizing=args.sizing,
        integer_budgets=args.integer_budgets,
        max_jobs=args.max_jobs,
    )
    reason = degenerate(sched)
    if reason is not None:
        _warn(reason)
    print(sched, file=out)
    print(
        f"\n{len(sched.brackets)} brackets, {sched.total_jobs} jobs, "
        f"{sched.total_budget:g} budget units per iteration",
        file=out,
    )
    if args.workers is None:
        return
    from hyperband.drivers.simulate import simulate

    iterations = args.iterations
    runs = {
        mode: simulate(
            args.max_budget,
            args.eta,
            workers=args.workers,
            min_budget=args.min_budget,
            exec_mode=mode,
            sizing=args.sizing,
            iterations=iterations,
            seed=args.seed,
            resume=args.resume,
            integer_budgets=args.integer_budgets,
        )
        for mode in ("serial", "parallelism")
    }
    plural = "s" if iterations > 1 else ""
    how = "resumed from checkpoints" if args.resume else "from scratch"
    print(
        f"\nSimulated on {args.workers} workers, {iterations} iteration{plural}, promotions "
        f"{how}, seed {args.seed}\n(time unit: one budget unit; a job takes its work x "
        "LogNormal(0, 0.3)):",
        file=out,
    )
    rows = [("exec mode", "makespan", "utilisation", "lower bound", "makespan/bound")]
    for mode, r in runs.items():
        rows.append(
            (
                mode,
                f"{r.makespan:.1f}",
                f"{r.utilisation:.1%}",
                f"{r.lower_bound:.1f}",
                f"{r.bound_ratio:.2f}",
            )
        )
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  " + "  ".join(cells), file=out)
    serial, parallel = runs["serial"].makespan, runs["parallelism"].makespan
    if parallel > 0:
        print(
            f"parallelism finishes {serial / parallel:.2f}x sooner than serial "
            f"(total work {runs['parallelism'].total_work:.1f})",
            file=out,
        )


# ---------------------------------------------------------------------- run


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

    Example:
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


def _cmd_run(args: argparse.Namespace, out: IO[str]) -> int:
    executor: Any = args.executor or ("dask" if args.scheduler is not None else "threads")
    if args.scheduler is not None and executor != "dask":
        raise CliError(f"--scheduler needs --executor dask, got --executor {executor}")
    objective = load_objective(args.target)
    space = _load_space(args.space)
    from hyperband.drivers.runner import run
    from hyperband.integrations.dask import (  # no distributed import
        SchedulerLostError,
        close_client,
    )

    client: Any = None
    if args.scheduler is not None:
        from hyperband.integrations.dask import connect

        executor = client = connect(args.scheduler)
    try:
        result = run(
            objective,
            space,
            max_budget=args.max_budget,
            eta=args.eta,
            min_budget=args.min_budget,
            mode="minimize" if args.minimize else "maximize",
            exec_mode=args.exec_mode,
            sizing=args.sizing,
            iterations=args.iterations,
            seed=args.seed,
            executor=executor,
            workers=args.workers,
            journal=args.journal,
            progress=not args.no_progress,
            timeout=args.timeout,
            retries=args.retries,
            study_name=args.study_name,
            allow_objective_change=args.allow_objective_change,
            max_failures=args.max_failures,
            keep_checkpoints=args.keep_checkpoints,
            sampler=args.sampler,
            sampler_options=args.sampler_options,
            early_stop=args.early_stop,
            max_jobs=args.max_jobs,
        )
    except OSError as exc:
        # The driver's own files (the journal, its checkpoint folder): the objective's errors
        # never get here, they fail their job.
        if args.journal is not None and exc.filename is not None:
            raise CliError(
                f"--journal: cannot use {str(exc.filename)!r}: {exc.strerror or exc}"
            ) from None
        raise CliError(f"cannot run the study: {type(exc).__name__}: {exc}") from None
    except KeyboardInterrupt as exc:
        _print_so_far(exc, out, args.journal)
        if args.journal is not None:
            print(
                f"hyperband: interrupted; the journal {str(args.journal)!r} is complete: run "
                "the same command to resume",
                file=sys.stderr,
            )
        else:
            print(
                "hyperband: interrupted; nothing can be resumed (no --journal): the best so far "
                "is above; pass --journal FILE to be able to resume a study",
                file=sys.stderr,
            )
        return EXIT_INTERRUPTED
    except TooManyFailuresError as exc:
        _print_so_far(exc, out, args.journal)
        where = (
            f"; the journal {str(args.journal)!r} resumes the study"
            if args.journal is not None
            else ""
        )
        print(f"hyperband: error: {_one_line(str(exc))}{where}", file=sys.stderr)
        return EXIT_JOBS_FAILED
    except SchedulerLostError as exc:
        where = (
            f"the journal {str(args.journal)!r} is complete: start the scheduler and workers "
            "again, then run the same command to resume"
            if args.journal
            else "pass --journal to be able to resume a study"
        )
        print(f"hyperband: error: {exc}; {where}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        if client is not None:
            close_client(client)
    _print_result(result, out, journal=args.journal)
    if result.n_succeeded == 0:
        print(
            f"hyperband: error: no job succeeded ({result.n_failed} failed): see the reasons above",
            file=sys.stderr,
        )
        return EXIT_JOBS_FAILED
    return 0


def _print_so_far(exc: BaseException, out: IO[str], journal: Path | None) -> None:
    """The summary of a run stopped by ``exc`` (run() attaches what it had done)."""
    result = getattr(exc, "result", None)
    if result is not None:
        _print_result(result, out, journal=journal)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _print_result(result: RunResult, out: IO[str], *, journal: Path | None = None) -> None:
    params = result.params
    iterations = params.get("iterations") or 1
    scheduled = result.schedule.total_jobs * iterations
    best = result.best
    if best is None:
        print("best: none (no job succeeded)", file=out)
    else:
        print(
            f"best: {best.value:.6g} at budget {best.budget:g} "
            f"(configuration {best.config_id}, job {best.job_id})",
            file=out,
        )
        print(f"config: {json.dumps(best.config, sort_keys=True)}", file=out)
    retried = sum(r.attempts > 1 for r in result.history)
    print(
        f"jobs: {len(result.history)} of {scheduled} scheduled finished: "
        f"{result.n_succeeded} succeeded, {result.n_failed} failed, "
        + (f"{result.n_stopped} stopped early, " if result.n_stopped else "")
        + f"{retried} retried",
        file=out,
    )
    print(f"budget: {_spent(result):g} units", file=out)
    if result.params.get("exec_mode") == "asynchronous" and result.stats is not None:
        print(_promotions_line(result.stats), file=out)
    for r in [r for r in result.history if r.status == "failed"][:5]:
        print(f"failed: job {r.job.id} at budget {r.job.budget:g}: {last_line(r.error)}", file=out)
    if result.n_failed > 5:
        print(f"failed: ... and {result.n_failed - 5} more", file=out)
    seed = params.get("seed")
    if seed is not None:
        print(f"seed: {seed} (pass --seed {seed} to repeat this study)", file=out)
    if journal is not None:
        print(f"journal: {journal} (summary: hyperband report {journal})", file=out)


def _promotions_line(stats: Any) -> str:
    return (
        f"promotions: {stats.n_promoted}, {stats.n_mispromoted} of them not in their rung's "
        "top in hindsight (asynchronous mode promotes early)"
    )


def _cost(record: Any) -> float:
    """Budget units a job used, counted from scratch: its budget, or where it was stopped."""
    if record.status == "stopped":
        return float(record.extra.get("stopped_at", record.job.budget))
    return float(record.job.budget)


def _spent(result: RunResult) -> float:
    """Budget units the study's jobs used, failed ones included (they ran too); a stopped
    job counts up to the step where it was stopped."""
    return math.fsum(_cost(r) for r in result.history)


# ---------------------------------------------------------------------- report


def _load_journal(path: Path) -> tuple[RunResult, dict[str, Any]]:
    """Read a journal into a RunResult and its study header; the one place that reads them."""
    if not path.is_file():
        raise CliError(f"JOURNAL: file {str(path)!r} does not exist")
    from hyperband.drivers.journal import load_events, read
    from hyperband.drivers.records import RunResult

    events, _, size = read(path)
    return RunResult._of(*load_events(path, events, size)), events[0]


def _check_html(args: argparse.Namespace) -> None:
    if args.live and args.html is None:
        raise CliError("--live needs --html PATH: the report file to keep rewriting")
    if args.interval is not None and not args.live:
        raise CliError(f"--interval applies to --live only, got --interval {args.interval:g}")
    if args.html is None:
        return
    if not args.html.parent.is_dir():
        raise CliError(f"--html: folder {str(args.html.parent)!r} does not exist")
    from hyperband.report.html import plotly_js

    try:
        plotly_js()
    except ImportError as exc:
        raise CliError(f"--html: {exc}") from None


def _cmd_report(args: argparse.Namespace, out: IO[str]) -> int:
    _check_html(args)
    if args.live:
        from hyperband.report.html import live

        try:
            return live(args.journal, args.html, interval=args.interval or 5.0, out=out)
        except OSError as exc:
            raise CliError(f"--html: cannot write {str(args.html)!r}: {exc}") from None
    if args.plot is not None:
        # Check what can be checked before printing anything, so a bad --plot is one error
        # line, not a summary followed by an error.
        folder = args.plot.parent
        if not folder.is_dir():
            raise CliError(f"--plot: folder {str(folder)!r} does not exist")
        try:
            from hyperband.report.plots import pyplot

            pyplot()
        except ImportError as exc:
            raise CliError(f"--plot: {exc}") from None
    result, study = _load_journal(args.journal)
    print(f"journal: {args.journal}", file=out)
    for line in summary_lines(result, study):
        print(line, file=out)
    if args.trials:
        print("trials:", file=out)
        for line in trial_lines(result, sort=args.sort, top=args.top):
            print(line, file=out)
    if args.plot is not None:
        try:
            plot_result(result, args.plot, title=str(args.journal))
        except (OSError, ValueError) as exc:  # unwritable file, unknown image format
            raise CliError(f"--plot: cannot write {str(args.plot)!r}: {exc}") from None
        print(f"plot: {args.plot}", file=out)
    if args.html is not None:
        from hyperband.report.html import html_report

        try:
            html_report(args.journal, args.html)
        except OSError as exc:
            raise CliError(f"--html: cannot write {str(args.html)!r}: {exc}") from None
        print(f"html: {args.html} ({args.html.stat().st_size / 1e6:.1f} MB)", file=out)
    return 0


def summary_lines(result: RunResult, study: Mapping[str, Any] | None = None) -> list[str]:
    """The text summary of a study (``hyperband report``), one string per line.

    Args:
        result: the study (see ``RunResult.from_journal``).
        study: the journal's header, for the objective and the study's name.
    """
    p = result.params
    keys = ("max_budget", "eta", "min_budget", "mode", "exec_mode", "sizing", "iterations", "seed")
    lines = ["study: " + " ".join(f"{k}={p[k]}" for k in keys if k in p)]
    if study is not None and (study.get("objective") or study.get("study_name")):
        name = study.get("study_name")
        lines.append(
            f"objective: {study.get('objective') or 'not recorded'}"
            + ("" if name is None else f" (study {name!r})")
        )
    iterations = p.get("iterations") or 1
    scheduled = result.schedule.total_jobs * iterations
    history = result.history
    if not result.done:
        state = f"unfinished: up to {max(0, scheduled - len(history))} more to run"
    elif len(history) < scheduled:
        which = "failed and stopped jobs are" if result.n_stopped else "failed jobs are"
        state = f"complete; {which} not promoted, so fewer ran"
    else:
        state = "complete"
    lines.append(
        f"jobs: {len(history)} of {scheduled} scheduled ({state}): "
        f"{result.n_succeeded} succeeded, {result.n_failed} failed"
        + (f", {result.n_stopped} stopped early" if result.n_stopped else "")
    )
    lines.append(
        f"budget: {_spent(result):g} units spent of "
        f"{float(result.schedule.total_budget) * iterations:g} scheduled"
    )
    if p.get("exec_mode") == "asynchronous" and result.stats is not None:
        lines.append(_promotions_line(result.stats))
    timed = [r for r in history if math.isfinite(r.start) and math.isfinite(r.end)]
    if timed:
        lines.append(_time_line([(r.start, r.end) for r in timed]))
    lines.append("brackets:")
    rows = [("iteration", "s", "jobs", "failed", "stopped", "budget", "best at max")]
    groups: dict[tuple[int, int], list[Any]] = {}
    for r in history:
        groups.setdefault((r.job.iteration, r.job.bracket), []).append(r)
    maximize = p.get("mode", "maximize") == "maximize"
    for (it, s), recs in sorted(groups.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        top = max(r.job.budget for r in recs)
        values = [
            r.value
            for r in recs
            if r.status == "succeeded" and r.value is not None and r.job.budget == top
        ]
        best = (max if maximize else min)(values) if values else None
        rows.append(
            (
                str(it),
                str(s),
                str(len(recs)),
                str(sum(r.status == "failed" for r in recs)),
                str(sum(r.status == "stopped" for r in recs)),
                f"{math.fsum(_cost(r) for r in recs):g}",
                "-" if best is None else f"{best:.6g} @ {top:g}",
            )
        )
    lines.extend(_table(rows))
    lines.extend(_failure_lines(result))
    best_result = result.best
    if best_result is None:
        lines.append("best: none (no job succeeded)")
    else:
        lines.append(
            f"best: {best_result.value:.6g} at budget {best_result.budget:g} "
            f"(configuration {best_result.config_id}, job {best_result.job_id})"
        )
        lines.append(f"config: {json.dumps(best_result.config, sort_keys=True)}")
    return lines


def _table(rows: Sequence[Sequence[str]], *, left: int = 0) -> list[str]:
    """Rows as aligned text: numbers right-aligned; the last ``left`` columns left-aligned."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    first_left = len(widths) - left
    out = []
    for row in rows:
        cells = [
            c.ljust(w) if k >= first_left else c.rjust(w)
            for k, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append(("  " + "  ".join(cells)).rstrip())
    return out


# A stretch with no job running longer than this is the time between a stopped run and its
# resume, not the runner's own overhead (which is milliseconds between jobs).
_BETWEEN_RUNS = 10.0


def _time_line(spans: Sequence[tuple[float, float]]) -> str:
    """Wall time, busy time, peak concurrency and utilisation of jobs ``(start, end)``.

    A resumed study has a gap between its runs, and new worker names in each: gaps of more
    than ``_BETWEEN_RUNS`` seconds with no job running are left out of the wall time, and the
    workers are counted as the most jobs running at once.
    """
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    busy = math.fsum(end - start for start, end in spans)
    between = 0.0
    reach = math.inf
    for start, end in sorted(spans):
        if start - reach > _BETWEEN_RUNS:
            between += start - reach
        reach = end if reach == math.inf else max(reach, end)
    # Ends before starts at the same instant: a worker handing over is not two jobs at once.
    edges = sorted([(end, -1) for _, end in spans] + [(start, 1) for start, _ in spans])
    peak = running = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    active = wall - between
    when = f"{wall:.3g} s wall (first start to last end)"
    if between > 0:
        when = (
            f"{active:.3g} s wall (first start to last end: {wall:.3g} s, less {between:.3g} s "
            "between runs with no job running)"
        )
    use = f", utilisation {busy / (peak * active):.0%}" if active > 0 and peak > 0 else ""
    return (
        f"time: {when}, {busy:.3g} s busy, at most {peak} job{'s' if peak != 1 else ''} at once"
        f"{use}"
    )


def _failure_lines(result: RunResult, limit: int = 5) -> list[str]:
    """Why jobs failed: their last error lines, alike ones (differing in numbers) grouped."""
    groups: dict[str, list[str]] = {}
    for r in result.history:
        if r.status == "failed":
            reason = last_line(r.error)
            groups.setdefault(re.sub(r"\d+(\.\d+)?", "N", reason), []).append(reason)
    if not groups:
        return []
    ranked = sorted(groups.values(), key=len, reverse=True)
    plural = "s" if len(ranked) != 1 else ""
    lines = [f"failures: {result.n_failed} jobs failed, for {len(ranked)} reason{plural}:"]
    for reasons in ranked[:limit]:
        alike = f" (and {len(reasons) - 1} alike)" if len(reasons) > 1 else ""
        lines.append(f"  {len(reasons):>5} x {reasons[0]}{alike}")
    if len(ranked) > limit:
        lines.append(f"  ... and {len(ranked) - limit} other reasons (see --trials)")
    return lines


def trial_lines(result: RunResult, *, sort: str = "budget", top: int | None = None) -> list[str]:
    """The jobs of a study as a table (``hyperband report --trials``), one string per line.

    Args:
        result: the study.
        sort: ``"budget"`` (largest budget first, then best value), ``"value"`` (best
            first), ``"job"`` (job id) or ``"duration"`` (longest first); failed jobs come
            after the successes in the first two.
        top: keep only the first ``top`` rows.
    """
    sign = -1.0 if result.params.get("mode", "maximize") == "maximize" else 1.0

    def rank(r: Any) -> tuple[float, ...]:
        # Stopped jobs' values are partial (measured before their budget): after successes.
        failed = 0 if r.status == "succeeded" else 1 if r.status == "stopped" else 2
        value = math.inf if r.value is None else sign * r.value
        if sort == "budget":
            return (-float(r.job.budget), failed, value, r.job.id)
        if sort == "value":
            return (failed, value, -float(r.job.budget), r.job.id)
        if sort == "duration":
            duration = r.duration if math.isfinite(r.duration) else -math.inf
            return (-duration, r.job.id)
        return (r.job.id,)

    records = sorted(result.history, key=rank)[:top]
    if not records:
        return ["  (no job finished)"]
    head = ("job", "config", "iteration", "s", "rung", "budget", "status", "value", "seconds")
    rows: list[tuple[str, ...]] = [(*head, "parameters", "reason")]
    for r in records:
        rows.append(
            (
                str(r.job.id),
                str(r.job.config_id),
                str(r.job.iteration),
                str(r.job.bracket),
                str(r.job.rung),
                f"{r.job.budget:g}",
                r.status,
                "-" if r.value is None else f"{r.value:.6g}",
                f"{r.duration:.3g}" if math.isfinite(r.duration) else "-",
                json.dumps(r.job.config, sort_keys=True),
                ""
                if r.status == "succeeded"
                else f"stopped at step {r.extra.get('stopped_at', '?')}"
                if r.status == "stopped"
                else last_line(r.error),
            )
        )
    return _table(rows, left=2)


def plot_result(result: RunResult, path: Path, *, title: str | None = None) -> None:
    """Save the worker timeline and the best value against budget spent to ``path``."""
    from hyperband.report.plots import pyplot

    fig = result_figure(result, title=title)
    try:
        fig.savefig(path, dpi=120)
    finally:
        pyplot().close(fig)


def result_figure(result: RunResult, *, title: str | None = None) -> Any:
    """The figure of ``hyperband report --plot`` (a matplotlib Figure; the caller closes it).

    Top: the worker timeline. Bottom: every result, and the best value at the largest budget
    reached, against the budget spent so far (failed jobs' budget included: they ran too).
    """
    from hyperband.report.plots import Span, number_workers, plot_best, plot_timeline, pyplot

    plt = pyplot()
    timed = [r for r in result.history if math.isfinite(r.start) and math.isfinite(r.end)]
    t0 = min((r.start for r in timed), default=0.0)
    index = number_workers((r.worker, r.start) for r in timed)
    spans = [
        Span(index[r.worker], r.start - t0, r.end - t0, r.job.bracket, r.job.iteration)
        for r in timed
    ]
    finished = sorted(result.history, key=lambda r: r.end if math.isfinite(r.end) else 0.0)
    results = []
    unpaid = 0.0  # budget of failed jobs, charged to the next success's point
    for r in finished:
        if r.status != "succeeded" or r.value is None:
            unpaid += _cost(r)
            continue
        budget = float(r.job.budget)
        results.append((unpaid + budget, r.value, budget, r.job.config_id))
        unpaid = 0.0
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8), layout="constrained")
    try:
        plot_timeline(spans, ax=ax1, xlabel="time since the first job started (s)", title=title)
        plot_best(
            results,
            maximize=result.params.get("mode", "maximize") == "maximize",
            ax=ax2,
            title="best value against budget spent",
        )
    except BaseException:
        plt.close(fig)
        raise
    return fig
