"""What the subcommands share: the usage error, the one-line-error parser, exit codes and
argument types.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from hyperband.core.schedule import DEFAULT_MAX_JOBS, SIZINGS

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_JOBS_FAILED",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "CliError",
    "Parser",
    "add_max_jobs",
    "add_schedule_args",
    "int_at_least",
    "json_object",
    "number",
    "one_line",
    "positive_seconds",
    "warn",
]

EXIT_FAILURE = 1  # the study could not finish (the dask scheduler was lost): resume it
EXIT_USAGE = 2
EXIT_JOBS_FAILED = 3  # no job succeeded, or --max-failures stopped the run
EXIT_INTERRUPTED = 130  # the shell's convention for a process stopped by SIGINT
EXIT_TERMINATED = 143  # ... and by SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a Unix tool killed by a closed pipe reports


class CliError(Exception):
    """A usage error: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and do not exit (``main`` returns 2).

    argparse's default prints the whole usage block and calls ``sys.exit``; a one-line error
    is what scripts and humans can read, and raising keeps ``main([...])`` testable
    in-process. Sub-command parsers are built with the same class.
    """

    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def number(text: str) -> int | float:
    """A finite number: an int when it is integral (``"3.0"`` -> 3)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return int(value) if value.is_integer() else value


def int_at_least(low: int) -> Callable[[str], int]:
    """An argument type: an integer ``>= low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def json_object(text: str) -> dict[str, Any]:
    """A JSON object (``--sampler-options``)."""
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """A number of seconds ``> 0``."""
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text!r}")
    return float(value)


def add_schedule_args(p: argparse.ArgumentParser) -> None:
    """The schedule's arguments: ``--max-budget``, ``--eta``, ``--min-budget``, ``--sizing``."""
    p.add_argument("--max-budget", type=number, required=True, help="largest budget (R)")
    p.add_argument("--eta", type=number, default=3, help="halving rate (default 3)")
    p.add_argument("--min-budget", type=number, default=1, help="smallest budget (default 1)")
    p.add_argument(
        "--sizing", choices=SIZINGS, default="li2018", help="bracket sizing rule (default li2018)"
    )


def add_max_jobs(p: argparse.ArgumentParser) -> None:
    """``--max-jobs``: the largest schedule accepted."""
    p.add_argument(
        "--max-jobs",
        type=int_at_least(1),
        default=DEFAULT_MAX_JOBS,
        help=f"refuse a schedule of more jobs per iteration (default {DEFAULT_MAX_JOBS}): "
        "a bigger one is almost always a slip (a budget in the wrong unit, an eta close to 1)",
    )


def one_line(text: str) -> str:
    """``text`` with its whitespace (newlines included) collapsed to single spaces."""
    return " ".join(text.split())


def warn(message: str) -> None:
    """Print a one-line warning on stderr."""
    print(f"hyperband: warning: {one_line(message)}", file=sys.stderr)
