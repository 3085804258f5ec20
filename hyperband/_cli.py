"""The ``hyperband`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._errors import HyperbandError
from ._schedule import SIZINGS, schedule


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    return int(value) if value.is_integer() else value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hyperband", description="Hyperband schedules and studies."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "schedule",
        help="print the bracket table of a schedule",
        description="Print the bracket table (rows: rung i; columns: bracket s; cells: n r).",
    )
    p.add_argument("--max-budget", type=_number, required=True, help="largest budget (R)")
    p.add_argument("--eta", type=_number, default=3, help="halving rate (default 3)")
    p.add_argument("--min-budget", type=_number, default=1, help="smallest budget (default 1)")
    p.add_argument("--sizing", choices=SIZINGS, default="li2018", help="bracket sizing rule")
    p.add_argument(
        "--integer-budgets", action="store_true", help="round non-integral budgets to ints"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "schedule":
            sched = schedule(
                args.max_budget,
                args.eta,
                min_budget=args.min_budget,
                sizing=args.sizing,
                integer_budgets=args.integer_budgets,
            )
            print(sched)
            print(
                f"\n{len(sched.brackets)} brackets, {sched.total_jobs} jobs, "
                f"{sched.total_budget:g} budget units per iteration"
            )
    except HyperbandError as exc:
        print(f"hyperband: error: {exc}", file=sys.stderr)
        return 2
    return 0
