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

import importlib
import logging
import os
import sys
from collections.abc import Sequence

from hyperband.cli import report, run, schedule
from hyperband.cli.args import EXIT_BROKEN_PIPE, EXIT_USAGE, CliError, Parser, one_line
from hyperband.core.errors import HyperbandError

__all__ = ["main"]

# The subcommands, in the order --help lists them: each adds its parser and runs its command.
_COMMANDS = {"schedule": schedule, "run": run, "report": report}


def _parser() -> Parser:
    parser = Parser(prog="hyperband", description="Hyperband schedules, studies and reports.")
    # The package is loaded before any of its modules: no import of the top layer needed.
    version = importlib.import_module("hyperband").__version__
    parser.add_argument("--version", action="version", version=f"hyperband {version}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success; 1 when the dask scheduler was lost mid-study (run again
        to resume); 2 on bad arguments; 3 when no job succeeded or ``--max-failures`` stopped
        the run; 130 when interrupted (Ctrl-C); 143 when terminated (SIGTERM); 141 when the
        reader of the output went away (a closed pipe).

    Examples:
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
        return f"hyperband: {record.levelname.lower()}: {one_line(record.getMessage())}"


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    if not (sys.argv[1:] if argv is None else argv):
        # A bare `hyperband`: how to call it, then the one-line error.
        print(parser.format_usage().rstrip(), file=sys.stderr)
        return _usage_error(
            f"a COMMAND is required: {', '.join(list(_COMMANDS)[:-1])} or {list(_COMMANDS)[-1]} "
            "(hyperband COMMAND --help says more)"
        )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help: argparse printed it and asked to exit
        return exc.code if isinstance(exc.code, int) else 0
    except CliError as exc:
        return _usage_error(str(exc))
    try:
        code: int = _COMMANDS[args.command].command(args, sys.stdout)
    except (CliError, HyperbandError) as exc:
        return _usage_error(str(exc))
    return code


def _usage_error(message: str) -> int:
    # One line whatever the message: multi-line text would read as a traceback.
    print(f"hyperband: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE
