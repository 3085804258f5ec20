"""OptunaSampler (Optuna's TPE inside Hyperband) against KDESampler and random Hyperband.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 19 python benchmarks/bench_optuna_sampler.py [--seeds 10]
      [--workloads counting_ones,hartmann6_good,...] [--methods random,kde,tpe]

Each method runs sequential studies (``exec_mode="serial"``, one job at a time, every job
trained from scratch) until 4 Hyperband iterations' budget is spent, on the workloads of
``workloads`` (not digits: its configurations are rows of a table), ``--seeds`` seeds each.
Reported per workload and method: the regret at 25% and 100% of that budget (median and
interquartile range over seeds; see ``bench_kde.py`` for the definition), and the cost of the
sampler: milliseconds of ``sample()`` per configuration drawn and per ``observe()`` call, and
the seconds a whole study takes.

Methods: ``random`` (Hyperband's random sampler), ``kde`` (``KDESampler`` with BOHB's
defaults), ``tpe`` (``OptunaSampler`` with its default: Optuna 5's ``TPESampler(multivariate=
True, group=True, constant_liar=True)``, the study built from the largest budget with 10
finished results). ``--methods tpe_kde_min`` (not run by default) is that TPE with the study
built from the largest budget with as many results as the KDE needs for its model (``2 (d + 1)``
and a little more), to tell the sampler from the budget rule; ``--out`` names another result
file for such runs.

Results: ``benchmarks/results/bench_optuna_sampler.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as wl  # noqa: E402
from bench_kde import _quartiles, _show, study  # noqa: E402

from hyperband import KDESampler  # noqa: E402
from hyperband.integrations.optuna import OptunaSampler  # noqa: E402

RESULTS = HERE / "results" / "bench_optuna_sampler.json"
WORKLOADS = ("counting_ones", "hartmann6_good", "hartmann6_bad", "learning_curves")
METHODS = ("random", "kde", "tpe")
# Not run by default: TPE whose study waits for as many results at a budget as the KDE's model.
EXTRA_METHODS = ("tpe_kde_min",)


class Timed:
    """A sampler wrapper that times ``sample`` and ``observe`` (and passes everything on)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sample_seconds = 0.0
        self.drawn = 0
        self.observe_seconds = 0.0
        self.observed = 0

    def sample(self, rng: Any, n: int, *, pending: Any = ()) -> list[dict[str, Any]]:
        start = time.perf_counter()
        out: list[dict[str, Any]] = self.inner.sample(rng, n, pending=pending)
        self.sample_seconds += time.perf_counter() - start
        self.drawn += n
        return out

    def observe(self, config: dict[str, Any], budget: float, loss: float | None) -> None:
        start = time.perf_counter()
        self.inner.observe(config, budget, loss)
        self.observe_seconds += time.perf_counter() - start
        self.observed += 1


def make(method: str, w: wl.Workload) -> Any:
    if method == "random":
        return w.space
    if method == "kde":
        return Timed(KDESampler(w.space))
    if method == "tpe_kde_min":
        return Timed(OptunaSampler(w.space, min_trials=KDESampler(w.space)._needed))
    return Timed(OptunaSampler(w.space))


def bench(seeds: int, workloads: list[str], methods: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in workloads:
        w = wl.workload(name)
        for method in methods:
            runs, ms_draw, ms_observe, seconds = [], [], [], []
            for seed in range(seeds):
                sampler = make(method, w)
                start = time.perf_counter()
                runs.append(study(w, sampler, seed))
                seconds.append(time.perf_counter() - start)
                if isinstance(sampler, Timed):
                    ms_draw.append(1e3 * sampler.sample_seconds / max(sampler.drawn, 1))
                    ms_observe.append(1e3 * sampler.observe_seconds / max(sampler.observed, 1))
            key = f"{name} | {method}"
            out[key] = {
                "regret_25": _quartiles([r["regret_25"] for r in runs]),
                "regret": _quartiles([r["regret"] for r in runs]),
                "seconds_per_study": _quartiles(seconds),
                "ms_per_draw": _quartiles(ms_draw) if ms_draw else None,
                "ms_per_observe": _quartiles(ms_observe) if ms_observe else None,
            }
            cost = (
                f", {out[key]['ms_per_draw']['median']:.2f} ms/draw, "
                f"{out[key]['ms_per_observe']['median']:.3f} ms/observe"
                if ms_draw
                else ""
            )
            print(
                f"{key}: regret at 25% {_show(out[key]['regret_25'])}, at 100% "
                f"{_show(out[key]['regret'])}; {_median(seconds):.1f} s/study{cost}",
                flush=True,
            )
    return out


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown table (regret: median [IQR])."""
    rows = [
        "| workload | sampler | regret at 25% | regret at 100% | ms per draw | s per study |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, r in results["bench"].items():
        name, method = key.split(" | ")
        draw = "" if r["ms_per_draw"] is None else f"{r['ms_per_draw']['median']:.2f}"
        rows.append(
            f"| {name} | {method} | {_show(r['regret_25'])} | {_show(r['regret'])} | {draw} "
            f"| {r['seconds_per_study']['median']:.1f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--markdown", action="store_true", help="print the saved results")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the result file")
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(args.out.read_text())))
        return
    import optuna

    results = {
        "seeds": args.seeds,
        "iterations": 4,
        "optuna": optuna.__version__,
        "bench": bench(args.seeds, args.workloads.split(","), args.methods.split(",")),
    }
    if args.out.exists():
        # Runs of other methods (or workloads) with the same seeds stay: one method can be run
        # again (after a change of its defaults) without the slow TPE studies.
        old = json.loads(args.out.read_text())
        if (old["seeds"], old["iterations"], old["optuna"]) == (args.seeds, 4, optuna.__version__):
            results["bench"] = {**old["bench"], **results["bench"]}
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(markdown(results))


if __name__ == "__main__":
    main()
