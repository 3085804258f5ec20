"""``hyperband schedule``: the bracket table and totals; with ``--workers`` a simulated makespan
and utilisation for both exec modes."""

from __future__ import annotations

import argparse
from typing import IO, TYPE_CHECKING

from hyperband.cli.args import (
    CliError,
    Parser,
    add_max_jobs,
    add_schedule_args,
    int_at_least,
    warn,
)
from hyperband.core.schedule import degenerate, schedule
from hyperband.report.text import counted, simulation_lines

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.simulate import SimulationResult

__all__ = ["add_parser", "command"]


def add_parser(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``schedule`` and its arguments to the subcommands ``sub``."""
    p = sub.add_parser(
        "schedule",
        help="print the bracket table of a schedule",
        description="Print the bracket table (rows: rung i; columns: bracket s; cells: n r) "
        "and its totals. With --workers, also simulate the study on W workers (job time = "
        "budget x LogNormal(0, 0.3)) and print the makespan and utilisation of both exec modes.",
    )
    add_schedule_args(p)
    p.add_argument(
        "--integer-budgets", action="store_true", help="round non-integral budgets to ints"
    )
    p.add_argument(
        "--workers", type=int_at_least(1), help="simulate the study on this many workers"
    )
    p.add_argument(
        "--iterations", type=int_at_least(1), help="with --workers: iterations to simulate (1)"
    )
    p.add_argument("--seed", type=int_at_least(0), help="with --workers: simulation seed (0)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="with --workers: simulate promotions resumed from checkpoints (cost: budget - "
        "previous budget)",
    )
    add_max_jobs(p)


def command(args: argparse.Namespace, out: IO[str]) -> int:
    """Print the schedule of ``args`` (and its simulation, with ``--workers``) to ``out``."""
    if args.workers is None:
        for flag in ("iterations", "seed", "resume"):
            if getattr(args, flag) not in (None, False):
                raise CliError(
                    f"--{flag} applies to --workers only (the simulation); pass --workers W "
                    "to simulate the study on W workers"
                )
    args.iterations = 1 if args.iterations is None else args.iterations
    args.seed = 0 if args.seed is None else args.seed
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
        warn(reason)
    print(sched, file=out)
    print(
        f"\n{counted(len(sched.brackets), 'bracket')}, {counted(sched.total_jobs, 'job')}, "
        f"{counted(float(sched.total_budget), 'budget unit')} per iteration",
        file=out,
    )
    if args.workers is not None:
        lines = simulation_lines(
            _simulate(args),
            workers=args.workers,
            iterations=args.iterations,
            resume=args.resume,
            seed=args.seed,
        )
        for line in lines:
            print(line, file=out)
    return 0


def _simulate(args: argparse.Namespace) -> dict[str, SimulationResult]:
    from hyperband.drivers.simulate import simulate

    return {
        mode: simulate(
            args.max_budget,
            args.eta,
            workers=args.workers,
            min_budget=args.min_budget,
            exec_mode=mode,
            sizing=args.sizing,
            iterations=args.iterations,
            seed=args.seed,
            resume=args.resume,
            integer_budgets=args.integer_budgets,
        )
        for mode in ("serial", "parallelism")
    }
