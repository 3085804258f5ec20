"""Time to target on LCBench: early stopping on real learning curves, the surrogate's seconds
as the clock.

The ten development tasks of ``yahpo/lcbench.py`` (``DEV_TASKS``) as curve workloads
(``stopping/lcbench_curves.py``): a job reports its validation error after every epoch, and a
report happens when the configuration has trained that far by the surrogate's own per-epoch
times. Everything else is ``bench_stopping.py``'s, by import: its simulator (ours: the real
machine in :func:`hyperband.simulate`; the peers: ``stopping/peers.py``), its per-run cache
(``results/stopping_runs/``, so reruns skip finished runs) and its metrics.

- ours: ``exec_mode`` ``"parallelism"`` and ``"asynchronous"``, ``early_stop`` None,
  ``"rung"``, ``"curve"`` and ``"median"``, and the curve rule with other options
  (``VARIANTS``) to choose its defaults;
- peers: Ray Tune's ASHAScheduler, Optuna's HyperbandPruner and SuccessiveHalvingPruner, NNI's
  MedianstopAssessor, Syne Tune 0.13's HyperbandScheduler, Syne Tune 0.16's ASHA and BOHB
  (BOHB trains the configurations its KDE searcher proposes; the others the shared stream)
  (their venvs: ``stopping/setup_venvs.sh``).

W = 4, then 1 and 16 simulated workers; 10 seeds; each run until ``ITERATIONS`` Hyperband
iterations' worth of epochs (schedule 52, eta 3, min 1, integer budgets: 817 epochs each).
Regret: the incumbent's true error at 52 epochs less the task's reference error. Targets per
task: the 9th, 7th and 5th deciles of plain parallelism's regret when its budget ran out (its
runs at W=4): what 10%, 30% and 50% of those runs do better than. The middle one is the
headline's.

Run:  python benchmarks/bench_stopping_lcbench.py [--quick] [--phase ours|more|peers ...]
          [--tasks ID ...] [--no-run]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_stopping as bs  # noqa: E402
import numpy as np  # noqa: E402
from stopping import cache  # noqa: E402
from stopping import lcbench_curves as lc  # noqa: E402
from workloads import curves  # noqa: E402
from yahpo import lcbench  # noqa: E402
from yahpo.client import LCBenchSurrogate  # noqa: E402

import hyperband  # noqa: E402

RESULTS = HERE / "results" / "stopping_lcbench.json"
TASKS = list(lcbench.DEV_TASKS)
SEEDS = 10
ITERATIONS = 2
# The order of the work: W=4 first (every method), then W=1 and W=16.
FIRST_W = [4]
MORE_W = [1, 16]
QUANTILES = (0.9, 0.7, 0.5)

OURS: dict[str, tuple[str, Any]] = {
    "parallelism": ("parallelism", None),
    "parallelism+rung": ("parallelism", "rung"),
    "parallelism+curve": ("parallelism", "curve"),
    "parallelism+median": ("parallelism", "median"),
    "asynchronous": ("asynchronous", None),
    "asynchronous+rung": ("asynchronous", "rung"),
    "asynchronous+curve": ("asynchronous", "curve"),
    "asynchronous+median": ("asynchronous", "median"),
}
# The curve rule's options, to choose its defaults (at W=4 first, like the rest). Its
# defaults are (0.2, 3, 1), chosen here; (0.05, 4, 3) were its first ones.
VARIANTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "curve(0.05,4,3)": (
        "parallelism",
        "curve",
        {"threshold": 0.05, "min_reports": 4, "min_peers": 3},
    ),
    "curve(0.5,3,1)": (
        "parallelism",
        "curve",
        {"threshold": 0.5, "min_reports": 3, "min_peers": 1},
    ),
    "asynchronous+curve(0.5,3,1)": (
        "asynchronous",
        "curve",
        {"threshold": 0.5, "min_reports": 3, "min_peers": 1},
    ),
}
# Every ratio is to this method at the same W, and its regrets set the targets.
BASELINE = "parallelism"


@dataclass(frozen=True)
class Setup:
    """Where the surrogate comes from (the tests pass the fake server) and the references.

    Attributes:
        surrogate: keyword arguments of :class:`LCBenchSurrogate` (``data_path``, ``python``,
            ``server``); empty: the yahpo venv and data.
        optimum: reference errors by task; a task not here reads ``lcbench_reference.json``.
    """

    surrogate: dict[str, Any] = field(default_factory=dict)
    optimum: dict[str, float] = field(default_factory=dict)

    def peer_args(self, task: str) -> list[str]:
        """``run_peer.py``'s options to build the same workload in a peer's interpreter."""
        out: list[str] = []
        flags = {"python": "--surrogate-python", "server": "--surrogate-server"}
        flags["data_path"] = "--yahpo-data"
        for key, flag in flags.items():
            if self.surrogate.get(key) is not None:
                out += [flag, str(self.surrogate[key])]
        if task in self.optimum:
            out += ["--optimum", repr(self.optimum[task])]
        return out


def name_of(task: str) -> str:
    return lc.PREFIX + task


def missing(root: Path, method: str, name: str, ws: list[int], seeds: range) -> bool:
    done = cache.load(root, method, name)
    return not all((x, s) in done for x in ws for s in seeds)


def run_task(
    root: Path,
    task: str,
    methods: list[str],
    ws: list[int],
    seeds: range,
    iterations: int,
    setup: Setup,
) -> None:
    """Run the missing cells of ``methods`` x ``ws`` x ``seeds`` on one task: ours here, with
    one surrogate server for the task; each peer in its own interpreter and server."""
    name = name_of(task)
    todo = [m for m in methods if missing(root, m, name, ws, seeds)]
    if not todo:
        return
    its = {name: iterations}
    with LCBenchSurrogate(task, **setup.surrogate) as sur:
        w = lc.lcbench_curve_workload(task, sur, optimum=setup.optimum.get(task))

        def make(_: str) -> curves.CurveWorkload:
            return w

        for method in todo:
            t0 = time.perf_counter()
            note = ""
            if method in OURS:
                bs.run_ours(root, method, OURS[method], None, name, ws, seeds, its, make)
            elif method in VARIANTS:
                mode, rule, options = VARIANTS[method]
                bs.run_ours(root, method, (mode, rule), options, name, ws, seeds, its, make)
            elif not bs.run_peer(root, method, name, ws, seeds, its, make, setup.peer_args(task)):
                note = " (skipped: no venv)"
            print(f"{name:<16} {method:<30} {time.perf_counter() - t0:7.1f} s{note}", flush=True)


# ---------------------------------------------------------------------- tables

ALL_W = [1, 4, 16]
# The columns of the time tables: ours, with a short heading each.
SHOWN = {
    "parallelism+rung": "rung",
    "parallelism+median": "median",
    "parallelism+curve": "curve",
    "curve(0.05,4,3)": "curve(0.05,4,3)",
    "curve(0.5,3,1)": "curve(0.5,3,1)",
    "asynchronous": "async",
    "asynchronous+rung": "async+rung",
    "asynchronous+curve": "async+curve",
    "asynchronous+curve(0.5,3,1)": "async+curve(0.5,3,1)",
}


def limit_of(iterations: int) -> float:
    """The total budget of a run, in epochs."""
    sched = hyperband.schedule(
        lcbench.MAX_BUDGET, lcbench.ETA, min_budget=lcbench.MIN_BUDGET, integer_budgets=True
    )
    return float(iterations * sched.total_budget)


def targets_of(
    records: dict[tuple[int, int], dict[str, Any]], limit: float, workers: int
) -> tuple[float, ...]:
    """The task's regret targets at W=``workers``: deciles (``QUANTILES``) of plain
    parallelism's regret at the limit over its runs with that many workers. Per W, because
    the more workers, the more jobs are cut short by the limit: plain parallelism's median
    run with 16 workers does not reach what its median run with 4 does."""
    regrets = [bs.at_limit(r, limit) for (x, _), r in records.items() if x == workers]
    finite = [r for r in regrets if math.isfinite(r)]
    if len(finite) < 2:
        return ()
    return tuple(float(np.quantile(finite, q)) for q in QUANTILES)


def tabulate(
    root: Path, tasks: list[str], seeds: range, iterations: int, setup: Setup
) -> dict[str, Any]:
    """The summaries of every cached cell of ``tasks`` x ``seeds`` and the Markdown tables."""
    del setup  # the cache holds all a table needs
    limit = limit_of(iterations)
    summary: dict[str, Any] = {}
    targets: dict[str, dict[str, tuple[float, ...]]] = {}
    regrets: dict[str, dict[str, dict[tuple[int, int], float]]] = {}
    for task in tasks:
        name = name_of(task)
        loaded = {
            m: {k: r for k, r in cache.load(root, m, name).items() if k[1] in seeds}
            for m in [*OURS, *VARIANTS, *bs.PEER_LABELS]
        }
        targets[task] = {}
        summary[task] = {}
        for x in ALL_W:
            targets[task][str(x)] = goal = targets_of(loaded[BASELINE], limit, x)
            if not goal:
                continue
            for m, recs in loaded.items():
                at_w = {k: r for k, r in recs.items() if k[0] == x}
                if at_w:
                    per_w = bs.summarise(at_w, None, [x], limit, goal)
                    summary[task].setdefault(m, {}).update(per_w)
        if not summary[task]:
            del summary[task]
            continue
        regrets[task] = {
            m: {k: bs.at_limit(r, limit) for k, r in recs.items()} for m, recs in loaded.items()
        }
    markdown = "\n\n".join(
        [
            time_tables(summary),
            regret_table(summary),
            "At equal budget: mean regret when the budget ran out over the (W, seed) runs "
            "that every peer has made on the task (their number after the task), our best "
            "mode by that mean (any of ours, the curve options included) against each peer; "
            "(lower) / (higher): the peer's regrets are lower / higher than ours by a "
            "one-sided Mann-Whitney U test at 5%.",
            peer_table(regrets),
        ]
    )
    return {
        "benchmark": "stopping_lcbench",
        "tasks": tasks,
        "seeds": len(seeds),
        "workers": ALL_W,
        "iterations": iterations,
        "budget_limit": limit,
        "quantiles": QUANTILES,
        "targets": targets,
        "summary": summary,
        "markdown": markdown,
    }


def _mid(s: dict[str, Any]) -> dict[str, Any]:
    return s["targets"][len(s["targets"]) // 2]


def _halved(ratio: str) -> bool:
    """Whether a ratio cell of ``bs._ratio`` says at most 0.5x."""
    try:
        return float(ratio) <= 0.5
    except ValueError:
        return ratio.startswith("<1")  # the baseline never got there, the method did


def _by_mode(cols: list[str]) -> list[tuple[str, list[str]]]:
    """``cols`` split into the synchronous and the asynchronous methods: one table of all of
    them is wider than the docs' column."""
    groups = [
        ("synchronous", [m for m in cols if not m.startswith("asynchronous")]),
        ("asynchronous", [m for m in cols if m.startswith("asynchronous")]),
    ]
    return [(mode, group) for mode, group in groups if group]


def time_tables(summary: dict[str, Any]) -> str:
    """Per W and mode: each task's median time to the middle target, ours as a ratio to plain
    parallelism's (its own median in seconds in the first column)."""
    out = []
    for x in ALL_W:
        shown = [m for m in SHOWN if any(str(x) in summary[t].get(m, {}) for t in summary)]
        for mode, cols in _by_mode(shown):
            out.append(_time_table(summary, x, mode, cols))
    return "\n\n".join(out)


def _time_table(summary: dict[str, Any], x: int, mode: str, cols: list[str]) -> str:
    lines = [
        f"W={x}, {mode}: median time to the middle target, ratio to plain parallelism.",
        "",
        "| task | parallelism (s) | " + " | ".join(SHOWN[m] for m in cols) + " |",
        "|---|---:|" + "---:|" * len(cols),
    ]
    halved = dict.fromkeys(cols, 0)
    for task, methods in summary.items():
        base = methods.get(BASELINE, {}).get(str(x))
        if base is None:
            continue
        cells = []
        for m in cols:
            s = methods.get(m, {}).get(str(x))
            ratio = "-" if s is None else bs._ratio(_mid(s)["time"], _mid(base)["time"])
            halved[m] += ratio not in ("-", "n/r") and float(ratio.split()[0].lstrip("<")) <= 0.5
            cells.append(ratio)
        lines.append(f"| {task} | {bs._fmt(_mid(base)['time'], 5)} | " + " | ".join(cells) + " |")
    lines.append("| tasks at <= 0.5x | | " + " | ".join(str(halved[m]) for m in cols) + " |")
    return "\n".join(lines)


def regret_table(summary: dict[str, Any]) -> str:
    """Median regret when the budget ran out (W pooled by their medians), ours as a ratio to
    plain parallelism's, and the share of jobs stopped at W=4; a table per mode."""
    shown = [m for m in SHOWN if any(m in summary[t] for t in summary)]
    return "\n\n".join(_regret_table(summary, mode, cols) for mode, cols in _by_mode(shown))


def _regret_table(summary: dict[str, Any], mode: str, cols: list[str]) -> str:
    lines = [
        f"{mode.capitalize()}: median regret when the budget ran out (median over W of the "
        "per-W medians), ratio to plain parallelism's; in brackets the share of jobs stopped "
        "at W=4.",
        "",
        "| task | targets W=4 | parallelism | " + " | ".join(SHOWN[m] for m in cols) + " |",
        "|---|---|---:|" + "---:|" * len(cols),
    ]
    for task, methods in summary.items():

        def pooled(m: str, methods: dict[str, Any] = methods) -> float:
            per_w = methods.get(m, {})
            return statistics.median(s["regret"] for s in per_w.values()) if per_w else math.nan

        base = pooled(BASELINE)
        cells = []
        for m in cols:
            s4 = methods.get(m, {}).get("4")
            share = "" if s4 is None else f" [{s4['stopped']:.0%}]"
            cells.append(bs._ratio(pooled(m), base) + share)
        goal = " / ".join(f"{t['target']:.3g}" for t in methods[BASELINE]["4"]["targets"])
        lines.append(f"| {task} | {goal} | {bs._fmt(base, 3)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def peer_table(regrets: dict[str, dict[str, dict[tuple[int, int], float]]]) -> str:
    """At equal budget, on the (W, seed) cells every peer with at least ``SEEDS`` runs on the
    task has run (and ours too); their number after the task. A peer with fewer runs there (a
    batch not finished) shows "-" and is listed under the table: pooling only the cells it has
    would weaken every other comparison."""
    peers = list(bs.PEER_LABELS)
    ours = [*OURS, *VARIANTS]
    lines = [
        "| task (runs) | ours | " + " | ".join(bs.PEER_SHORT[p] for p in peers) + " |",
        "|---|---|" + "---:|" * len(peers),
    ]
    few: dict[str, list[str]] = {}
    for task, data in regrets.items():
        enough = [p for p in peers if len(data.get(p, {})) >= SEEDS]
        few[task] = [
            f"{bs.PEER_SHORT[p]} ({len(data[p])})" for p in peers if p not in enough and data.get(p)
        ]
        ran = [set(data[p]) for p in enough]
        if not ran:
            continue
        cells = set.intersection(*ran)
        cells &= set.union(*(set(data[m]) for m in ours if data.get(m)))
        kept = [m for m in data if m not in peers or m in enough]
        pooled = {m: [data[m][c] for c in sorted(cells) if c in data[m]] for m in kept}
        # Ours only where every cell is there: a mode with fewer runs is not comparable.
        mine = [m for m in ours if len(pooled.get(m, [])) == len(cells)]
        if not cells or not mine:
            continue
        row = bs.equal_budget_row(f"{task} ({len(cells)})", pooled, mine, peers, fmt=".3g")
        lines.append(row)
    listed = [f"{task}: {', '.join(names)}" for task, names in few.items() if names]
    if listed:
        lines += ["", f"Left out (fewer than {SEEDS} runs on the task): " + "; ".join(listed) + "."]
    return "\n".join(lines)


Step = tuple[list[str], list[int], range]


def phases(quick: bool, seeds: range) -> dict[str, list[Step]]:
    """The work in the order it runs: (methods, W, seeds) steps, each over every task.

    Synchronous mode with every rule at W=4 first, the curve rule's options next, then
    W=1 and 16, then the asynchronous mode.

    The peers go cheapest first (Optuna's pruners read every trial at every report: tens of
    seconds a run; Syne Tune 0.16's BOHB refits its KDE at every new trial: about 35 s a run
    at W=4 on a loaded machine), and over half the seeds on every task before the other half.
    """
    plain = [m for m in OURS if m.startswith("parallelism")]
    rest = [m for m in OURS if m not in plain]
    if quick:
        return {"ours": [([*plain, "curve(0.5,3,1)"], [4], seeds)], "more": [], "peers": []}
    peers = [
        "nni_median",
        "ray_asha",
        "syne_hb",
        "syne16_asha",
        "optuna_sh",
        "optuna_hb",
        "syne16_bohb",
    ]
    half = range(seeds.start, seeds.start + len(seeds) // 2)
    tuned = [v for v in VARIANTS if v.startswith("curve")]
    asynchronous = [*rest, *(v for v in VARIANTS if v not in tuned)]
    return {
        "ours": [(plain, FIRST_W, seeds), (tuned, FIRST_W, seeds)],
        "more": [
            ([*plain, *tuned], MORE_W, seeds),
            (asynchronous, FIRST_W, seeds),
            (asynchronous, MORE_W, seeds),
        ],
        "peers": [(peers, FIRST_W, half), (peers, FIRST_W, seeds), (peers, MORE_W, seeds)],
    }


def main(argv: list[str] | None = None, setup: Setup | None = None) -> dict[str, Any]:
    """The command line (see the module docstring); ``setup``: the tests' fake surrogate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 tasks, 2 seeds, W=4, 1 iteration")
    parser.add_argument("--tasks", nargs="*", default=TASKS)
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--phase", nargs="*", choices=["ours", "more", "peers"])
    parser.add_argument("--only", nargs="*", help="run only these methods")
    parser.add_argument("--no-run", action="store_true", help="only tabulate the cache")
    parser.add_argument("--cache", type=Path, default=bs.CACHE)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick and args.cache == bs.CACHE:
        # A quick run's budget is smaller: its runs must not land in the real cache.
        with tempfile.TemporaryDirectory() as tmp:
            more = ["--cache", tmp, "--out", str(Path(tmp) / "out.json")]
            return main([*(argv or []), *more], setup)
    return run(args, setup or Setup())


def run(args: argparse.Namespace, setup: Setup) -> dict[str, Any]:
    """Run the missing cells of the chosen phases, then tabulate everything cached."""
    tasks = args.tasks[:2] if args.quick and args.tasks == TASKS else args.tasks
    seeds = range(2 if args.quick else args.seeds)
    iterations = 1 if args.quick else ITERATIONS
    steps = phases(args.quick, seeds)
    started = time.perf_counter()
    for phase in args.phase or list(steps):
        for methods, ws, step_seeds in steps[phase]:
            methods = [m for m in methods if not args.only or m in args.only]
            for task in tasks:
                if not args.no_run:
                    run_task(args.cache, task, methods, ws, step_seeds, iterations, setup)
    out = tabulate(args.cache, tasks, seeds, iterations, setup)
    out["total_seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=_json_default) + "\n")
    print(out["markdown"])
    return out


def _json_default(x: Any) -> Any:
    raise TypeError(f"not JSON: {x!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
