"""Calibration of the curve rule's forecasts on real learning curves (LCBench and LCDB).

Run:  nice -n 10 python benchmarks/bench_curves.py             (the full run, ~10-30 minutes)
      python benchmarks/bench_curves.py --quick --results DIR    (a smoke run)

From the first k% (10, 25, 50) of the budget of each real curve, `CurveRule`'s forecaster
(``hyperband.core.curve_fit.forecast``) predicts the loss (validation error) at the end of the
curve. Reported per family set and k: the median absolute error of the forecast's median, the
coverage of its 80% predictive interval (the share of curves whose final value falls inside),
the interval's median width, and the same error for three baselines:

- ``last value``: the curve's last observed value;
- ``median of peers``: the median final value of the other curves of the same task;
- ``last + peers' gain``: the last value plus the median, over the other curves of the task,
  of their change from the same step to the end (a peer-informed baseline; not a target).

Curves (losses are validation errors, lower is better):

- LCBench through YAHPO Gym's surrogate (``benchmarks/yahpo``; needs its venv and data):
  ``--lcbench-configs`` random configurations on each of the 10 development tasks
  (``lcbench.DEV_TASKS``), 52 epochs each; and as a check, the same on the first 10 of
  ``lcbench.HELD_OUT`` ("LCBench held-out", the default family set only).
- LCDB 0.1.0 (Mohr et al. 2022): validation error against training-set size (anchors 16,
  23, 32, ... x sqrt 2), averaged over its outer and inner seeds, per dataset and learner;
  curves with at least 8 anchors, ``--lcdb-curves`` of them drawn with a fixed seed. The sdist
  is fetched with ``pip download lcdb==0.1.0 --no-deps`` into ``benchmarks/data/lcdb/``
  (gitignored) if missing, and its ``database-accuracy.csv`` read directly (importing the
  package pulls in openml). "LCDB held-out": the next ``--lcdb-curves`` of the same
  permutation, disjoint from the first (the default family set only).

The forecaster's calibration constants (``_NMAX``, ``_GAP`` in ``hyperband/core/curve_fit.py``)
were chosen on the LCBench development tasks and the first LCDB draw; the held-out rows were
looked at only to check them (``benchmarks/research/curve_calibration.md``).

Cost: CPU milliseconds of one ``CurveRule.should_stop`` for a job with 50 reports on a rung of
27 peers (a judged report: the fit runs): the median of 200 blocks of 20 calls. Target: at
most 1 ms.

Writes ``benchmarks/results/bench_curves.json`` (``bench_curves_quick.json`` with ``--quick``),
its table under ``"markdown"``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import subprocess
import sys
import tarfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LCDB_DIR = HERE / "data" / "lcdb"
LCDB_VERSION = "0.1.0"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import hyperband  # noqa: E402
from hyperband.core.curve_fit import DEFAULT_FAMILIES, forecast  # noqa: E402
from hyperband.core.stopping import Peer, StopView  # noqa: E402

FRACTIONS = (0.1, 0.25, 0.5)
FAMILY_SETS: dict[str, tuple[str, ...]] = {
    "all four": DEFAULT_FAMILIES,
    "pow3": ("pow3",),
    "exp3": ("exp3",),
    "logpow": ("logpow",),
    "weibull": ("weibull",),
    "pow3 + exp3": ("pow3", "exp3"),
}
LEVEL = 0.8

# (group, steps, losses): one real curve; group = the task it belongs to (its peers).
Curve = tuple[str, np.ndarray, np.ndarray]


def lcbench_curves(n_configs: int, tasks: Sequence[str], seed: int = 0) -> list[Curve]:
    """``n_configs`` random configurations' validation-error curves on each task."""
    from yahpo import lcbench, space
    from yahpo.client import LCBenchSurrogate

    out: list[Curve] = []
    epochs = np.arange(1, lcbench.MAX_BUDGET + 1, dtype=float)
    for task in tasks:
        configs = space.sample(np.random.default_rng([seed, int(task)]), n_configs)
        with LCBenchSurrogate(task) as surrogate:
            errors, _ = surrogate.curves(configs)
        out += [(f"lcbench {task}", epochs, row) for row in errors]
    return out


def _lcdb_csv() -> Path:
    csv = LCDB_DIR / f"lcdb-{LCDB_VERSION}" / "lcdb" / "database-accuracy.csv"
    if csv.is_file():
        return csv
    LCDB_DIR.mkdir(parents=True, exist_ok=True)
    sdist = LCDB_DIR / f"lcdb-{LCDB_VERSION}.tar.gz"
    if not sdist.is_file():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"lcdb=={LCDB_VERSION}", "--no-deps",
             "--no-binary", ":all:", "-d", str(LCDB_DIR)],
            check=True,
        )  # fmt: skip
    with tarfile.open(sdist) as tar:
        member = f"lcdb-{LCDB_VERSION}/lcdb/database-accuracy.csv"
        tar.extract(member, LCDB_DIR, filter="data")
    return csv


def lcdb_curves(n_curves: int, seed: int = 0, min_anchors: int = 8, skip: int = 0) -> list[Curve]:
    """``n_curves`` LCDB curves (dataset x learner, seeds averaged), drawn with ``seed``,
    after the first ``skip`` of the same draw (``skip=n`` gives a disjoint second sample)."""
    cache = LCDB_DIR / "curves.npz"
    if not cache.is_file():
        import pandas as pd  # only to build the cache from LCDB's CSV

        df = pd.read_csv(_lcdb_csv(), usecols=["openmlid", "learner", "size_train", "score_valid"])
        mean = df.groupby(["openmlid", "learner", "size_train"])["score_valid"].mean()
        keys, steps, losses = [], [], []
        for (dataset, learner), part in mean.groupby(level=[0, 1]):
            sizes = part.index.get_level_values(2).to_numpy(dtype=float)
            values = part.to_numpy(dtype=float)
            if len(sizes) >= min_anchors and np.all(np.isfinite(values)):
                keys.append(f"{dataset}/{learner}")
                steps.append(sizes)
                losses.append(1.0 - values)
        np.savez_compressed(
            cache,
            keys=np.array(keys),
            lengths=np.array([len(s) for s in steps]),
            steps=np.concatenate(steps),
            losses=np.concatenate(losses),
        )
    data = np.load(cache)
    ends = np.cumsum(data["lengths"])
    starts = ends - data["lengths"]
    pick = np.random.default_rng(seed).permutation(len(ends))[skip : skip + n_curves]
    return [
        (
            "lcdb " + str(data["keys"][i]).split("/")[0],
            data["steps"][starts[i] : ends[i]],
            data["losses"][starts[i] : ends[i]],
        )
        for i in sorted(pick)
    ]


def _peer_predictions(curves: list[Curve], cut: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each curve's "median of peers" and "last + peers' gain" predictions."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (group, _, _) in enumerate(curves):
        groups[group].append(i)
    median_final = np.empty(len(curves))
    with_gain = np.empty(len(curves))
    for i, (group, steps, losses) in enumerate(curves):
        last_step, last = steps[cut[i] - 1], losses[cut[i] - 1]
        finals, gains = [], []
        for j in groups[group]:
            if j == i:
                continue
            s, y = curves[j][1], curves[j][2]
            finals.append(y[-1])
            at = np.flatnonzero(s == last_step)
            if at.size and s[-1] == steps[-1]:
                gains.append(y[-1] - y[at[-1]])
        median_final[i] = np.median(finals) if finals else last
        with_gain[i] = last + (np.median(gains) if gains else 0.0)
    return median_final, with_gain


def score(curves: list[Curve], fraction: float, sets: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Errors and coverage of each family set and baseline at one fraction of the budget."""
    cut = np.array([int(np.sum(s <= fraction * s[-1])) for _, s, _ in curves])
    usable = [i for i in range(len(curves)) if cut[i] >= 3 and cut[i] < len(curves[i][1])]
    if not usable:
        return {"n": 0, "sets": {}}
    finals = np.array([curves[i][2][-1] for i in usable])
    last = np.array([curves[i][2][cut[i] - 1] for i in usable])
    median_final, with_gain = _peer_predictions(curves, cut)
    row: dict[str, Any] = {
        "n": len(usable),
        "last value": float(np.median(np.abs(last - finals))),
        "median of peers": float(np.median(np.abs(median_final[usable] - finals))),
        "last + peers' gain": float(np.median(np.abs(with_gain[usable] - finals))),
        "sets": {},
    }
    tail = (1 - LEVEL) / 2
    for name, families in sets.items():
        medians, inside, widths = [], [], []
        for k, i in enumerate(usable):
            _, steps, losses = curves[i]
            fc = forecast(steps[: cut[i]], losses[: cut[i]], steps[-1], families)
            lo, mid, hi = fc.quantile(tail), fc.median, fc.quantile(1 - tail)
            medians.append(mid)
            inside.append(lo <= finals[k] <= hi)
            widths.append(hi - lo)
        row["sets"][name] = {
            "error": float(np.median(np.abs(np.array(medians) - finals))),
            "coverage": float(np.mean(inside)),
            "width": float(np.median(widths)),
        }
    return row


def cost_ms(reports: int = 50, peers: int = 27, repeat: int = 200) -> float:
    """Median CPU ms of one judged ``CurveRule.should_stop``."""
    rng = np.random.default_rng(0)
    budget = float(reports + 2)
    steps = np.arange(1, reports + 1, dtype=float)
    curve = tuple(
        (float(s), float(0.3 + 0.5 * s**-0.5 + 0.01 * e))
        for s, e in zip(steps, rng.standard_normal(reports), strict=True)
    )
    others = tuple(
        Peer(i + 1, "succeeded", ((budget, float(0.1 + 0.01 * i)),)) for i in range(peers)
    )
    job = hyperband.Job(0, {}, 0, budget, 3, 0, 0)
    view = StopView(
        job, curve[-1][0], curve[-1][1], curve, 9, peers + 1, 3.0,
        rung_peers=lambda: others, segment_peers=lambda: (),
    )  # fmt: skip
    rule = hyperband.CurveRule()
    assert rule.judge(view) is not None  # the fit runs: the expensive path is measured
    # Blocks of calls between two clock readings: reading the CPU clock is itself slow on
    # some machines (milliseconds in a gVisor sandbox).
    times = []
    for _ in range(repeat):
        start = time.process_time_ns()
        for _ in range(20):
            rule.should_stop(view)
        times.append((time.process_time_ns() - start) / 20)
    return float(np.median(times)) / 1e6


def markdown(results: dict[str, Any]) -> str:
    """The table: one row per source, fraction and family set, baselines alongside."""
    lines = [
        "| curves | k | family set | error | 80% coverage | width | last value | "
        "median of peers | last + peers' gain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    gain = "last + peers' gain"
    for source, rows in results["sources"].items():
        for fraction, row in rows.items():
            for name, cell in row["sets"].items():
                lines.append(
                    f"| {source} (n={row['n']}) | {float(fraction):.0%} | {name} | "
                    f"{cell['error']:.4f} | {cell['coverage']:.0%} | {cell['width']:.4f} | "
                    f"{row['last value']:.4f} | {row['median of peers']:.4f} | "
                    f"{row[gain]:.4f} |"
                )
    lines.append("")
    lines.append(f"CurveRule.should_stop, 50 reports, 27 peers: {results['cost_ms']:.3f} ms CPU")
    return "\n".join(lines)


def curve_sources(
    n_lcbench: int,
    n_lcdb: int,
    tasks: Sequence[str],
    *,
    with_lcbench: bool = True,
    with_lcdb: bool = True,
) -> dict[str, list[Curve]]:
    """The curves by source: LCBench on ``tasks`` and on as many ``HELD_OUT`` tasks, LCDB's
    first ``n_lcdb`` curves and the next ``n_lcdb`` ("held-out": only to check)."""
    from yahpo import lcbench

    sources: dict[str, list[Curve]] = {}
    if with_lcbench:
        sources["LCBench"] = lcbench_curves(n_lcbench, tasks)
        sources["LCBench held-out"] = lcbench_curves(n_lcbench, lcbench.HELD_OUT[: len(tasks)])
    if with_lcdb:
        sources["LCDB"] = lcdb_curves(n_lcdb)
        sources["LCDB held-out"] = lcdb_curves(n_lcdb, skip=n_lcdb)
    return sources


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--lcbench-configs", type=int, default=100)
    parser.add_argument("--lcdb-curves", type=int, default=1000)
    parser.add_argument("--no-lcdb", action="store_true", help="LCBench only")
    parser.add_argument("--no-lcbench", action="store_true", help="LCDB only")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from yahpo import lcbench

    tasks = lcbench.DEV_TASKS[:1] if args.quick else lcbench.DEV_TASKS
    n_lcbench = 20 if args.quick else args.lcbench_configs
    n_lcdb = 50 if args.quick else args.lcdb_curves
    sets = {"all four": DEFAULT_FAMILIES} if args.quick else FAMILY_SETS
    sources = curve_sources(
        n_lcbench, n_lcdb, tasks, with_lcbench=not args.no_lcbench, with_lcdb=not args.no_lcdb
    )
    results: dict[str, Any] = {"level": LEVEL, "sources": {}}
    for source, curves in sources.items():
        results["sources"][source] = {}
        check = {"all four": DEFAULT_FAMILIES} if source.endswith("held-out") else sets
        for fraction in FRACTIONS:
            row = score(curves, fraction, check)
            results["sources"][source][str(fraction)] = row
            print(source, fraction, json.dumps(row), flush=True)
    results["cost_ms"] = cost_ms(repeat=5 if args.quick else 200)
    results["markdown"] = markdown(results)
    print(results["markdown"])
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / ("bench_curves_quick.json" if args.quick else "bench_curves.json")
    out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
