"""Does a sampler that learns bring the curve rule to half the time? (issue 16)

An experiment, not a maintained benchmark. ``bench_stopping_lcbench.py`` measures the stopping
rules with the random sampler: with its defaults the curve rule reaches the middle regret
target in 0.56-0.96x plain parallelism's time, never 0.5x. This script runs the same
simulator, tasks, seeds, W, budget limit and targets with the default sampler of ``run()``
(``KDESampler(space, trust="rank")``), with and without the curve rule, to separate the
sampler's share of the time from the rule's, in both synchronous ("parallelism") and
asynchronous (ASHA's promotions) mode. Ratios are to plain parallelism with the random sampler
(``bench_stopping_lcbench.py``'s baseline, read from its cache, as are its random-sampler
columns).

Run (the yahpo venv and data)::

    nice -n 10 python benchmarks/research/kde_curve_stopping.py [--tasks ...] [--ws 1 4 16]
    python benchmarks/research/kde_curve_stopping.py --no-run      # the table only

Runs are cached in ``kde_curve_stopping/`` next to this file (one JSON line per W and seed),
the table written to ``kde_curve_stopping.md``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

import bench_stopping as bs  # noqa: E402
import bench_stopping_lcbench as bl  # noqa: E402
from stopping import cache  # noqa: E402
from stopping import lcbench_curves as lc  # noqa: E402
from yahpo.client import LCBenchSurrogate  # noqa: E402

ROOT = HERE / "kde_curve_stopping"
# name: (exec_mode, stopping rule, simulate()'s other options). Asynchronous mode (ASHA's
# promotions) was added when the synchronous pair missed 0.5x at W=16: a rung's promotions
# there wait for its slowest job; adaptive brackets, when that did not help either: they run
# fewer brackets, starting on the budgets that rank as the largest does, so shorter chains.
METHODS: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "kde": ("parallelism", None, {}),
    "kde+curve": ("parallelism", "curve", {}),
    "kde async": ("asynchronous", None, {}),
    "kde+curve async": ("asynchronous", "curve", {}),
    "kde+curve adaptive": ("parallelism", "curve", {"brackets": "adaptive"}),
}
# Columns: name shown -> (cache name, whether bench_stopping_lcbench.py's cache holds it).
SHOWN: dict[str, tuple[str, bool]] = {
    "random+curve": ("parallelism+curve", True),
    "random+curve async": ("asynchronous+curve", True),
    **{m: (m, False) for m in METHODS},
}
KDE: dict[str, Any] = {"sampler": "kde", "sampler_options": {"trust": "rank"}}
# bench_stopping_lcbench.py's cache of runs.
THEIRS = bl.HERE / "results" / "stopping_runs"


def records(column: tuple[str, bool], name: str) -> dict[tuple[int, int], Any]:
    """The cached runs of a ``SHOWN`` column on the task named ``name``."""
    method, theirs = column
    return cache.load(THEIRS if theirs else ROOT, method, name)


def run_task(task: str, ws: list[int], seeds: range) -> None:
    name = bl.name_of(task)
    limit = bl.limit_of(bl.ITERATIONS)
    with LCBenchSurrogate(task) as sur:
        w = lc.lcbench_curve_workload(task, sur)
        for method, (exec_mode, rule_name, options) in METHODS.items():
            done = cache.load(ROOT, method, name)
            t0 = time.perf_counter()
            for workers in ws:
                for seed in seeds:
                    if (workers, seed) in done:
                        continue
                    rule = bs.make_rule(rule_name, None)
                    record = bs.ours(w, workers, seed, exec_mode, rule, limit, **KDE, **options)
                    cache.append(ROOT, method, name, workers, seed, record)
            print(f"{name:<16} {method:<12} {time.perf_counter() - t0:7.1f} s", flush=True)


def table(tasks: list[str], ws: list[int], seeds: range) -> str:
    limit = bl.limit_of(bl.ITERATIONS)
    lines = [
        "Median time to the middle regret target, ratio to plain parallelism (random sampler); "
        "n/r: the median run did not reach it.",
        "",
        "| task | W | " + " | ".join(SHOWN) + " |",
        "|---|---:|" + "---:|" * len(SHOWN),
    ]
    halved = dict.fromkeys(SHOWN, 0)
    for task in tasks:
        name = bl.name_of(task)
        base = {k: r for k, r in records((bl.BASELINE, True), name).items() if k[1] in seeds}
        loaded = {m: records(column, name) for m, column in SHOWN.items()}
        for workers in ws:
            goal = bl.targets_of(base, limit, workers)
            if not goal:
                continue
            middle = goal[len(goal) // 2]

            def median_time(
                recs: dict[tuple[int, int], Any], x: int = workers, target: float = middle
            ) -> float:
                runs = [r for (wk, s), r in recs.items() if wk == x and s in seeds]
                return bs.median([bs.to_target(r, target, limit)[0] for r in runs])

            ref = median_time(base)
            cells = []
            for m in SHOWN:
                t = median_time(loaded[m])
                ratio = t / ref if math.isfinite(t) and math.isfinite(ref) else math.nan
                halved[m] += ratio <= 0.5
                cells.append("n/r" if math.isnan(ratio) else f"{ratio:.2f}")
            lines.append(f"| {task} | {workers} | " + " | ".join(cells) + " |")
    lines.append("| (task, W) at <= 0.5x | | " + " | ".join(str(v) for v in halved.values()) + " |")
    return "\n".join([*lines, "", *regret_lines(tasks, ws, seeds)])


def regret_lines(tasks: list[str], ws: list[int], seeds: range) -> list[str]:
    """Median regret when the budget ran out (median over W of the per-W medians)."""
    limit = bl.limit_of(bl.ITERATIONS)
    columns = {"random": (bl.BASELINE, True), **SHOWN}
    lines = [
        "Median regret when the budget ran out (median over W of the per-W medians); the last "
        "columns: with the curve rule over without, same sampler and mode.",
        "",
        "| task | " + " | ".join(columns) + " | kde+curve / kde | async: kde+curve / kde |",
        "|---|" + "---:|" * (len(columns) + 2),
    ]
    for task in tasks:
        name = bl.name_of(task)
        cells: dict[str, float] = {}
        for m, column in columns.items():
            recs = records(column, name)
            per_w = [
                bs.median(
                    [bs.at_limit(r, limit) for (x, s), r in recs.items() if x == w and s in seeds]
                )
                for w in ws
            ]
            cells[m] = bs.median(per_w)
        ratios = (
            cells["kde+curve"] / cells["kde"],
            cells["kde+curve async"] / cells["kde async"],
        )
        lines.append(
            f"| {task} | "
            + " | ".join(f"{c:.3g}" for c in cells.values())
            + " | "
            + " | ".join(f"{r:.2f}" for r in ratios)
            + " |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=bl.TASKS)
    parser.add_argument("--ws", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--seeds", type=int, default=bl.SEEDS)
    parser.add_argument("--no-run", action="store_true")
    args = parser.parse_args()
    seeds = range(args.seeds)
    if not args.no_run:
        for task in args.tasks:
            run_task(task, args.ws, seeds)
    out = table(bl.TASKS, args.ws, seeds)
    print(out)
    (HERE / "kde_curve_stopping.md").write_text(out + "\n")


if __name__ == "__main__":
    main()
