"""Quality at equal total budget: Hyperband vs successive halving vs random search.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_quality.py [--quick] [--seeds 20]

For every workload of ``benchmarks/workloads/`` and 20 seeds, four methods are driven
sequentially (ask, evaluate, tell) through our ``hyperband.Hyperband`` machine:

- ``HB li2018``: Hyperband, ``sizing="li2018"``, ``iterations=None`` (until the budget is spent);
- ``HB table``: the same with ``sizing="table"``;
- ``SH``: successive halving, the most aggressive bracket ``s = s_max`` only, repeated: the
  same machine, with every job of any other bracket failed at once (a failed job costs nothing
  and is never promoted, so the other brackets resolve empty);
- ``RS``: random search at ``max_budget``: the machine with ``min_budget = max_budget`` (one
  bracket of one configuration per iteration).

All four share the machine's seed, so e.g. the first SH bracket sees the same configurations as
HB's first bracket. The total budget is ``T = TOTAL[workload] x max_budget``. A job costs its
``budget`` when trained from scratch (the main table and the plot) or, in the second table,
``budget - previous_budget`` for a promotion resumed from its checkpoint; a run goes on until
the next job would take the resumed cost past ``T``, and the from-scratch figures use the jobs
that fit in ``T`` at from-scratch cost (a prefix of the same run). The incumbent is the
configuration with the best *observed* value among the jobs run at ``max_budget`` (ties to the
lower config_id: the machine's own ``best``, which the script checks); its *regret* is the
distance of its noise-free value at ``max_budget`` from the workload's optimum (0 = optimal).
Reported: median and interquartile range over seeds of the regret after a given budget spent;
also, per workload, the Spearman correlation between each lower rung budget's values and the
noise-free values at ``max_budget`` (1000 random configurations): how trustworthy the low
budgets are.

Outputs: ``benchmarks/results/bench_quality.json`` (medians/quartiles on a budget grid, final
tables, and the markdown), the plot ``docs/img/quality_regret.png``, and a table on stdout.
``--quick`` runs 3 seeds at a tenth of the budget, writes to ``bench_quality_quick.json`` and
makes no plot: a smoke test.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # `workloads` lives beside this script

import workloads as wl  # noqa: E402

import hyperband  # noqa: E402

RESULTS = HERE / "results"
PLOT = HERE.parent / "docs" / "img" / "quality_regret.png"

METHODS = ("HB li2018", "HB table", "SH", "RS")
# Total budget per workload, in units of its max_budget. One li2018 iteration costs 23.5 x
# max_budget on every schedule here (1902/81), so 200 is about 8.5 Hyperband iterations. The
# digits table has 300 configurations only and saturates fast (8 of them end within one
# validation image of the best): it gets one Hyperband iteration's worth.
TOTAL: dict[str, float] = {
    "counting_ones": 200,
    "hartmann6_good": 200,
    "hartmann6_bad": 200,
    "learning_curves": 200,
    "digits": 24,
}
GRID_POINTS = 48

FloatArray = npt.NDArray[np.float64]


def make_machine(w: wl.Workload, method: str, seed: int) -> hyperband.Hyperband:
    """The machine a method is driven through (see the module docstring)."""
    common: dict[str, Any] = {
        "eta": w.eta,
        "mode": w.mode,
        "exec_mode": "serial",
        "iterations": None,
        "seed": seed,
    }
    if method == "RS":
        return hyperband.Hyperband(
            w.space_or_sampler, w.max_budget, min_budget=w.max_budget, **common
        )
    sizing = "table" if method == "HB table" else "li2018"
    return hyperband.Hyperband(
        w.space_or_sampler, w.max_budget, min_budget=w.min_budget, sizing=sizing, **common
    )


def run_one(
    w: wl.Workload, method: str, seed: int, total: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Drive one run until the resumed-cost budget reaches ``total``.

    Returns, after each job told, the from-scratch budget spent, the resumed budget spent
    (always <= the former) and the incumbent's regret (NaN before any job at max_budget).
    """
    hb = make_machine(w, method, seed)
    s_max = hb.schedule.s_max
    sign = -1.0 if w.mode == "maximize" else 1.0
    scratch: list[float] = []
    resumed: list[float] = []
    regret: list[float] = []
    spent_scratch = spent_resumed = 0.0
    # Ranked like the machine's `best`: by signed value, ties to the lower config_id.
    incumbent: tuple[float, int] = (math.inf, -1)
    incumbent_regret = math.nan
    while True:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)  # sequential and unlimited: never WAIT/DONE
        if method == "SH" and job.bracket != s_max:
            hb.fail(job.id, "successive halving runs bracket s_max only")
            continue
        prev = job.previous_budget
        cost_resumed = job.budget - (prev or 0)
        if spent_resumed + cost_resumed > total:
            break
        value = w(job.config, job.budget)
        hb.tell(job.id, value)
        spent_scratch += job.budget
        spent_resumed += cost_resumed
        key = (sign * value, job.config_id)
        if job.budget == w.max_budget and key < incumbent:
            incumbent = key
            incumbent_regret = w.regret(job.config)
        scratch.append(spent_scratch)
        resumed.append(spent_resumed)
        regret.append(incumbent_regret)
    best = hb.best
    if best is not None and best.budget == w.max_budget:
        # Our incumbent is the machine's own `best`, tracked independently.
        assert best.config_id == incumbent[1], (best, incumbent)
    return np.array(scratch), np.array(resumed), np.array(regret)


def regret_at(spent: FloatArray, regret: FloatArray, grid: FloatArray) -> FloatArray:
    """The incumbent's regret once ``grid[k]`` budget is spent (step function; NaN before)."""
    idx = np.searchsorted(spent, grid, side="right") - 1
    out = np.full(len(grid), math.nan)
    ok = idx >= 0
    out[ok] = regret[idx[ok]]
    return out


def quartiles(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Median and interquartile range over seeds (axis 0); NaN where any seed has no value."""
    with np.errstate(invalid="ignore"):
        q = np.percentile(x, [25, 50, 75], axis=0)
    bad = np.isnan(x).any(axis=0)
    q[:, bad] = math.nan
    return q[1], q[0], q[2]


def _ranks(x: FloatArray) -> FloatArray:
    """Ranks with ties averaged (as scipy's rankdata), for Spearman's correlation."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=float)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, weights=ranks) / counts)[inverse]


def fidelity_correlation(w: wl.Workload, n: int, seed: int = 12345) -> dict[str, float]:
    """Spearman correlation, over ``n`` random configurations, between the value observed at
    each lower rung budget and the noise-free value at ``max_budget``: how well the low
    budgets rank the configurations (1 = perfectly)."""
    rng = np.random.default_rng(seed)
    if w.sampler is not None:
        configs = w.sampler.sample(rng, n)
    else:
        configs = hyperband.RandomSampler(w.space).sample(rng, n)
    truth = _ranks(np.array([w.true_value(c) for c in configs]))
    sched = hyperband.schedule(w.max_budget, w.eta, min_budget=w.min_budget)
    out = {}
    for rung in sched.brackets[0].rungs[:-1]:
        low = _ranks(np.array([w(c, rung.budget) for c in configs]))
        out[str(rung.budget)] = float(np.corrcoef(low, truth)[0, 1])
    return out


def _setup(name: str, scale: float) -> tuple[wl.Workload, float, FloatArray]:
    """The workload, its total budget and the budget grid the curves are sampled on."""
    w = wl.workload(name)
    total_units = TOTAL[name] * scale
    grid = np.geomspace(1.0, total_units, GRID_POINTS) * w.max_budget
    return w, total_units * w.max_budget, grid


def bench_method(name: str, method: str, seeds: int, scale: float) -> dict[str, Any]:
    """One method x all seeds on one workload (a process-pool task: plain data in and out)."""
    start = time.perf_counter()
    w, total, grid = _setup(name, scale)
    curves = np.empty((seeds, len(grid)))
    final = {"scratch": np.empty(seeds), "resumed": np.empty(seeds)}
    jobs = np.empty(seeds)
    for seed in range(seeds):
        scratch, _, regret = run_one(w, method, seed, total)
        curves[seed] = regret_at(scratch, regret, grid)
        final["scratch"][seed] = regret_at(scratch, regret, np.array([total]))[0]
        final["resumed"][seed] = regret[-1]
        jobs[seed] = int(np.searchsorted(scratch, total, side="right"))
    med, q25, q75 = quartiles(curves)
    entry: dict[str, Any] = {
        "median": _clean(med),
        "q25": _clean(q25),
        "q75": _clean(q75),
        "jobs_median": float(np.median(jobs)),
    }
    for cost, values in final.items():
        fm, f25, f75 = quartiles(values[:, None])
        entry[f"final_{cost}"] = {
            "median": _clean(fm)[0],
            "q25": _clean(f25)[0],
            "q75": _clean(f75)[0],
            "per_seed": values.tolist(),
        }
    entry["seconds"] = time.perf_counter() - start
    return entry


def bench_workloads(
    names: list[str], seeds: int, scale: float, workers: int
) -> list[dict[str, Any]]:
    """Every method on every named workload, on ``workers`` processes (1: in this one)."""
    tasks = [(name, method) for name in names for method in METHODS]
    args = (
        [n for n, _ in tasks],
        [m for _, m in tasks],
        [seeds] * len(tasks),
        [scale] * len(tasks),
    )
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            entries = list(pool.map(bench_method, *args))
    else:
        entries = list(map(bench_method, *args))
    done = dict(zip(tasks, entries, strict=True))
    out = []
    for name in names:
        w, total, grid = _setup(name, scale)
        methods = {m: done[name, m] for m in METHODS}
        out.append(
            {
                "workload": name,
                "title": w.title,
                "description": w.description,
                "mode": w.mode,
                "optimum": w.optimum,
                "max_budget": w.max_budget,
                "min_budget": w.min_budget,
                "eta": w.eta,
                "total_budget": total,
                "grid": (grid / w.max_budget).tolist(),
                "methods": methods,
                "spearman": fidelity_correlation(w, 100 if scale < 1 else 1000),
                "seconds": sum(e["seconds"] for e in methods.values()),
            }
        )
    return out


def _clean(x: FloatArray) -> list[float | None]:
    """JSON has no NaN: None instead."""
    return [None if math.isnan(v) else float(v) for v in x]


def _fmt(entry: dict[str, Any]) -> str:
    m, lo, hi = entry["median"], entry["q25"], entry["q75"]
    if m is None:
        return "n/a"
    return f"{m:.4g} [{lo:.3g}, {hi:.3g}]"


def markdown(results: list[dict[str, Any]], seeds: int) -> str:
    """The workloads' fidelity table and the two final-budget tables, in Markdown."""
    lines = [
        "How well each lower budget ranks the configurations: Spearman correlation between the "
        "value at that budget and the noise-free value at max_budget, 1000 random "
        "configurations.",
        "",
        "| workload | budgets | direction | optimum | at r_0 | at 3 r_0 | at 9 r_0 | at 27 r_0 |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rho = " | ".join(f"{v:.2f}" for v in r["spearman"].values())
        lines.append(
            f"| {r['title']} | {r['min_budget']}..{r['max_budget']}, eta {r['eta']} | "
            f"{r['mode']} | {r['optimum']:.5g} | {rho} |"
        )
    lines.append("")
    for cost, label in (
        ("scratch", "a job costs its budget (trained from scratch)"),
        ("resumed", "a promotion costs budget - previous_budget (resumed from a checkpoint)"),
    ):
        lines.append(
            f"Regret of the incumbent at the final budget, median [25%, 75%] over {seeds} "
            f"seeds; {label}. Lower is better; the lowest median per row is in bold."
        )
        lines.append("")
        lines.append("| workload | budget (x max) | " + " | ".join(METHODS) + " |")
        lines.append("|---|---:|" + "---:|" * len(METHODS))
        for r in results:
            cells = [r["methods"][m][f"final_{cost}"] for m in METHODS]
            medians = [c["median"] for c in cells]
            best = min((v for v in medians if v is not None), default=None)
            text = [
                f"**{_fmt(c)}**" if c["median"] is not None and c["median"] == best else _fmt(c)
                for c in cells
            ]
            units = r["total_budget"] / r["max_budget"]
            lines.append(f"| {r['title']} | {units:g} | " + " | ".join(text) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Median regret vs budget (IQR shaded), one panel per workload; a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    n = len(results)
    cols = 3
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 3.3 * rows), squeeze=False)
    colors = {"HB li2018": "C0", "HB table": "C2", "SH": "C3", "RS": "C7"}
    for ax, r in zip(axes.flat, results, strict=False):
        grid = np.array(r["grid"])
        series = {
            m: [
                np.array([math.nan if v is None else v for v in r["methods"][m][k]])
                for k in ("median", "q25", "q75")
            ]
            for m in METHODS
        }
        values = np.concatenate([x for s in series.values() for x in s])
        positive = values[values > 0]
        # A regret of exactly 0 cannot be drawn on a log axis: it is drawn at the bottom edge.
        floor = float(positive.min()) / 2 if positive.size else 1e-6
        for m, (med, lo, hi) in series.items():
            clip = np.maximum
            ax.plot(grid, clip(med, floor), color=colors[m], label=m, lw=1.6)
            ax.fill_between(
                grid, clip(lo, floor), clip(hi, floor), color=colors[m], alpha=0.15, lw=0
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(r["title"], fontsize=10)
        ax.set_xlabel("budget spent / max_budget")
        ax.set_ylabel("regret (median, IQR)")
        ax.grid(alpha=0.3, which="both", lw=0.5)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    target = list(axes.flat)[n] if n < rows * cols else axes.flat[0]
    target.legend(handles, labels, loc="center", fontsize=10, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds, 1/10 budget, no plot")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="processes")
    parser.add_argument("--workloads", nargs="+", default=list(TOTAL))
    args = parser.parse_args(argv)
    seeds = 3 if args.quick else args.seeds
    scale = 0.1 if args.quick else 1.0

    start = time.perf_counter()
    workers = 1 if args.quick else args.workers
    results = bench_workloads(list(args.workloads), seeds, scale, workers)
    table = markdown(results, seeds)
    report = {
        "benchmark": "bench_quality",
        "quick": args.quick,
        "seeds": seeds,
        "methods": list(METHODS),
        "workloads": results,
        "markdown": table,
        "seconds": time.perf_counter() - start,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / ("bench_quality_quick.json" if args.quick else "bench_quality.json")
    out.write_text(json.dumps(report, indent=1) + "\n")
    if not args.quick:
        plot(results, PLOT)
    print(table)
    for r in results:
        jobs = ", ".join(f"{m} {r['methods'][m]['jobs_median']:.0f}" for m in METHODS)
        print(f"{r['workload']}: {r['seconds']:.1f} s of work; median jobs run: {jobs}")
    print(f"wrote {out}; total {report['seconds']:.1f} s")
    return report


if __name__ == "__main__":
    main()
