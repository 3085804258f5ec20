"""The trust weights of KDE Hyperband as results arrive, on a well and a badly ranking LCBench task.

Run:  nice -n 10 python benchmarks/plot_trust_weights.py          (2 tasks x 10 seeds, ~2 min)
      python benchmarks/plot_trust_weights.py --quick --results DIR --img DIR   (1 seed, 1/4)
      python benchmarks/plot_trust_weights.py --plot-only          (replot the saved JSON)

It needs the yahpo venv and data, as ``bench_lcbench.py`` does (``bash benchmarks/yahpo/setup.sh``).

The method and budget are ``bench_lcbench.py``'s "KDE HB trust" (its helpers, imported):
``KDESampler(space, trust="rank")`` in ``hyperband.Hyperband`` with the li2018 sizing, rungs at
2, 6, 17 and 52 epochs, driven sequentially by ``bench_compare.run_ours`` until 4 Hyperband
iterations' worth of epochs (3268) are spent. After each result, the sampler's
``trust_weights`` (MFES-HB's ``w ∝ p ** 3``, summing to 1 over the measured budgets) and
``consistency`` (``p``: the fraction of pairs of configurations evaluated at both a budget and
52 epochs that the two put in the same order) are recorded.

Tasks: 168331, whose cheap epochs rank configurations as epoch 52 does, and 167201, whose epoch
2 ranks badly (Spearman about 0.3 against epoch 52, issue 15). One panel each: per budget, the
median over seeds of its weight against the epochs spent (the band: the interquartile range),
where at least half of the seeds have measured it.

Writes ``docs/img/trust_weights.png`` and ``benchmarks/results/trust_weights.json`` (the final
weights and ``p``, median over seeds, and the medians on the plot's grid).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_lcbench as bench
import numpy as np
from bench_compare import Ours, run_ours
from yahpo import lcbench
from yahpo.client import LCBenchSurrogate

import hyperband

HERE = Path(__file__).resolve().parent
IMG = HERE.parent / "docs" / "img"
TASKS = {"168331": "ranks well", "167201": "ranks badly"}
METHOD = "KDE HB trust"
GRID = 200  # points of the plot's x axis

# One run's trust after each result: (epochs spent, {budget: weight}, {budget: p}).
Point = tuple[float, dict[float, float], dict[float, float | None]]


def trust_run(w: lcbench.LCBenchWorkload, seed: int, total: float) -> list[Point]:
    """One "KDE HB trust" run of ``bench_lcbench``, and its trust after each result."""
    method, made = bench._method(bench.FACTORIES[METHOD])
    points: list[Point] = []
    spent = [0.0]

    def state() -> tuple[dict[float, float], dict[float, float | None]]:
        sampler = made[0]
        return (
            {float(b): v for b, v in sampler.trust_weights.items()},
            {float(b): p for b, p in sampler.consistency.items()},
        )

    def record(job: hyperband.Job, hb: hyperband.Hyperband) -> bool:
        # run_ours calls this before each evaluation: the trust after the previous result.
        if spent[0] > 0:
            points.append((spent[0], *state()))
        spent[0] += float(job.budget)
        return False  # evaluate every job

    run_ours(Ours(method.make, skip=record), w, seed, total)
    points.append((spent[0], *state()))
    return points


def on_grid(points: list[Point], grid: np.ndarray, budget: float) -> np.ndarray:
    """A run's weight of ``budget`` at each grid point (NaN while unmeasured)."""
    at = np.array([p[0] for p in points])
    weights = np.array([p[1].get(budget, np.nan) for p in points])
    k = np.searchsorted(at, grid, side="right") - 1
    return np.where(k >= 0, weights[np.clip(k, 0, None)], np.nan)


def summarise(runs: list[list[Point]], total: float) -> dict[str, Any]:
    """Per budget: the final weight and ``p`` (median over runs), and the median and quartiles
    of the weight on the grid where at least half of the runs measured it."""
    grid = np.linspace(0.0, total, GRID)
    out: dict[str, Any] = {"grid": grid.tolist(), "budgets": {}}
    for b in bench.COST_BUDGETS:
        b = float(b)
        final_w = [r[-1][1][b] for r in runs if b in r[-1][1]]
        final_p = [p for r in runs if (p := r[-1][2].get(b)) is not None]
        curves = np.array([on_grid(r, grid, b) for r in runs])
        enough = np.sum(~np.isnan(curves), axis=0) * 2 >= len(runs)
        quart: list[list[float | None]] = [[None] * GRID for _ in range(3)]
        if enough.any():
            q = np.nanpercentile(curves[:, enough], [50, 25, 75], axis=0)
            for row, values in zip(quart, q, strict=True):
                for k, v in zip(np.flatnonzero(enough), values, strict=True):
                    row[k] = float(v)
        out["budgets"][f"{b:g}"] = {
            "final_weight": float(np.median(final_w)) if final_w else None,
            "final_p": float(np.median(final_p)) if final_p else None,
            "measured_runs": len(final_p),
            "median": quart[0],
            "q25": quart[1],
            "q75": quart[2],
        }
    return out


def plot(summary: dict[str, dict[str, Any]], path: Path, seeds: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(summary), figsize=(11, 3.8), sharey=True, squeeze=False)
    for ax, (task, entry) in zip(axes.flat, summary.items(), strict=True):
        x = np.array(entry["grid"]) / lcbench.MAX_BUDGET
        for k, (b, e) in enumerate(entry["budgets"].items()):
            colour = f"C{k}"
            med = np.array([np.nan if v is None else v for v in e["median"]])
            if np.isnan(med).all():
                label = f"{b} epochs: never measured"
                ax.plot([], [], color=colour, label=label)
                continue
            lo = np.array([np.nan if v is None else v for v in e["q25"]])
            hi = np.array([np.nan if v is None else v for v in e["q75"]])
            p = e["final_p"]
            label = f"{b} epochs: " + ("unmeasured at the end" if p is None else f"final p {p:.2f}")
            ax.plot(x, med, color=colour, lw=1.8, label=label, drawstyle="steps-post")
            ax.fill_between(x, lo, hi, color=colour, alpha=0.15, step="post", lw=0)
        ax.set_title(f"LCBench {task}: epoch 2 {TASKS[task]}", fontsize=10)
        ax.set_xlabel("epochs spent (x 52: full trainings)")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    axes.flat[0].set_ylabel("trust weight (median, IQR band)")
    fig.suptitle(
        f'KDESampler(trust="rank") in Hyperband, {seeds} seed{"s" if seeds != 1 else ""}: '
        "each budget's weight ∝ p³ as results arrive",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(
    argv: list[str] | None = None,
    surrogate: Callable[[str], LCBenchSurrogate] | None = None,
) -> dict[str, Any]:
    """Run, plot, write; ``surrogate(task)`` makes each task's surrogate (default: the real one;
    the tests pass a fake)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 iteration's budget")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. SEEDS - 1")
    parser.add_argument("--results", type=Path, default=bench.RESULTS, help="JSON folder")
    parser.add_argument("--img", type=Path, default=IMG, help="PNG folder")
    parser.add_argument("--reference", type=Path, default=lcbench.REFERENCE_FILE)
    parser.add_argument("--plot-only", action="store_true", help="replot the saved JSON")
    args = parser.parse_args(argv)
    name = "trust_weights_quick" if args.quick else "trust_weights"
    if args.plot_only:
        saved: dict[str, Any] = json.loads((args.results / f"{name}.json").read_text())
        plot(saved["tasks"], args.img / f"{name}.png", len(saved["seeds"]))
        return saved
    seeds = range(1 if args.quick else args.seeds)
    total = float(bench.SCHEDULE.total_budget if args.quick else bench.TOTAL)
    make = surrogate or LCBenchSurrogate
    start = time.perf_counter()
    summary: dict[str, dict[str, Any]] = {}
    for task in TASKS:
        with lcbench.lcbench_workload(task, make(task), reference_file=args.reference) as w:
            runs = [trust_run(w, seed, total) for seed in seeds]
        summary[task] = summarise(runs, total)
        final = ", ".join(
            f"{b}: w {_num(e['final_weight'])} p {_num(e['final_p'])}"
            for b, e in summary[task]["budgets"].items()
        )
        print(f"{task} ({TASKS[task]}), final medians: {final}")
    plot(summary, args.img / f"{name}.png", len(seeds))
    # What the docs quote: the final medians per task; the plot's medians on its grid.
    report = {"benchmark": "plot_trust_weights", "version": hyperband.__version__}
    report |= {"method": METHOD, "seeds": list(seeds), "total_budget": total}
    report |= {"tasks": summary, "seconds": time.perf_counter() - start}
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"{name}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out} and {args.img / f'{name}.png'}; {report['seconds']:.1f} s")
    return report


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    main()
