"""KDESampler: cost per draw, spread of concurrent draws, failures, and its default options.

Run:  OPENBLAS_NUM_THREADS=1 nice -n 19 python benchmarks/bench_kde.py [--seeds 20] [--quick]
      [--only cost,spread,parallel,failures,defaults,holdout]

Sections (each writes its numbers into ``benchmarks/results/bench_kde.json``, and prints a table):

- ``cost``: milliseconds per ``sample(rng, 1)`` with N = 100, 1000, 5000 observations, all at
  one budget (the worst case: every one of them is in the model), for d = 6 (Hartmann-6's
  space) and d = 16 (counting ones: 8 binary choices + 8 uniform). Three numbers: the model
  cached (no observe since the last draw), with 16 pending configurations, and one
  ``observe`` at the model's budget before every draw (the model is refitted each time).
- ``spread``: 16 configurations drawn one after another while the earlier ones are pending
  (what 16 workers asking at once see), after 100 observations of Hartmann-6 at full budget;
  the mean and the smallest pairwise distance (Euclidean, divided by sqrt(6) so that the
  cube's diagonal is 1), with ``pending="bad"`` and ``"ignore"``, with the default random
  fraction and with model draws only; 16 uniform draws for reference.
- ``parallel``: the regret after 4 Hyperband iterations run by ``simulate()`` with 16 workers,
  ``pending="bad"`` vs ``"ignore"``, with 1 worker, and random Hyperband with 16 workers.
- ``failures``: regret after 4 iterations (sequential) on Hartmann-6 where a region fails,
  with ``failures="bad"`` and ``"ignore"``: a region far from the optimum (``x0 > 0.6``), a
  region next to it (``x5 > 0.7``; the optimum has ``x5 = 0.657``), and 10% of jobs failing
  at random whatever their configuration.
- ``defaults``: regret at 25% and 100% of 4 iterations' budget (sequential) for random
  Hyperband, KDE Hyperband with its defaults, with BOHB's and with one option changed at a
  time, on the workloads of ``workloads`` (not digits: its configurations are rows of a
  table); seeds 0 .. seeds - 1, where the defaults were chosen.
- ``holdout``: the defaults, BOHB's and random Hyperband again on the next 2 x seeds seeds,
  which played no part in the choice.

Regret: the distance of the noise-free value at ``max_budget`` of the incumbent (the best
result observed at ``max_budget``) from the optimum; medians and interquartile ranges over
seeds.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as wl  # noqa: E402

import hyperband  # noqa: E402
from hyperband import KDESampler, RandomSampler  # noqa: E402

RESULTS = HERE / "results" / "bench_kde.json"
Config = dict[str, Any]
FailFn = Callable[[Config, float, int], bool]


def _quartiles(values: list[float]) -> dict[str, float]:
    q25, q50, q75 = np.percentile(values, [25, 50, 75])
    return {"median": float(q50), "q25": float(q25), "q75": float(q75)}


def _show(q: dict[str, float]) -> str:
    return f"{q['median']:.3g} [{q['q25']:.3g}, {q['q75']:.3g}]"


# ---------------------------------------------------------------------- cost


def _cost_row(space: dict[str, Any], n: int, repeats: int) -> dict[str, float]:
    sampler = KDESampler(space, random_fraction=0.0)
    rng = np.random.default_rng(0)
    configs = RandomSampler(space).sample(rng, n + repeats)
    for config in configs[:n]:
        sampler.observe(config, 1, float(rng.random()))
    sampler.sample(rng, 1)  # fit once
    pending = [(c, 1) for c in configs[:16]]
    # CPU time: other processes share the cores; the sampler runs on one thread.
    start = time.process_time()
    for _ in range(repeats):
        sampler.sample(rng, 1)
    cached = time.process_time() - start
    start = time.process_time()
    for _ in range(repeats):
        sampler.sample(rng, 1, pending=pending)
    with_pending = time.process_time() - start
    start = time.process_time()
    for config in configs[n:]:
        sampler.observe(config, 1, 0.5)
        sampler.sample(rng, 1)
    refitted = time.process_time() - start
    scale = 1e3 / repeats
    return {
        "cached_ms": cached * scale,
        "pending16_ms": with_pending * scale,
        "refit_ms": refitted * scale,
    }


def bench_cost(repeats: int) -> dict[str, Any]:
    spaces = {6: wl.hartmann6("good").space, 16: wl.counting_ones().space}
    out: dict[str, Any] = {}
    for d, space in spaces.items():
        for n in (100, 1000, 5000):
            key = f"d={d} N={n}"
            row = out[key] = _cost_row(space, n, repeats)
            print(
                f"cost {key:12s}: cached {row['cached_ms']:6.2f} ms, 16 pending "
                f"{row['pending16_ms']:6.2f} ms, observe + refit + draw {row['refit_ms']:6.2f} ms",
                flush=True,
            )
    return out


# ---------------------------------------------------------------------- spread


def _vector(config: Config) -> Any:
    return np.array([config[f"x{j}"] for j in range(6)])


def _pairwise(configs: list[Config]) -> tuple[float, float]:
    x = np.array([_vector(c) for c in configs])
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1)) / math.sqrt(6)
    upper = d[np.triu_indices(len(x), 1)]
    return float(upper.mean()), float(upper.min())


def bench_spread(seeds: int, observations: int = 100, workers: int = 16) -> dict[str, Any]:
    w = wl.hartmann6("good")
    out: dict[str, Any] = {}
    for fraction in (0.2, 0.0):  # the default, and model draws only
        for pending in ("bad", "ignore"):
            means, mins = [], []
            for seed in range(seeds):
                driver = KDESampler(w.space)
                sampler = KDESampler(w.space, random_fraction=fraction, pending=pending)
                for k in range(observations):
                    (config,) = driver.sample(np.random.default_rng([seed, k]), 1)
                    value = w(config, w.max_budget)
                    driver.observe(config, w.max_budget, value)
                    sampler.observe(config, w.max_budget, value)
                drawn: list[Config] = []
                for k in range(workers):
                    rng = np.random.default_rng([seed, 10**6, k])
                    run = [(c, w.max_budget) for c in drawn]
                    drawn += sampler.sample(rng, 1, pending=run)
                mean, smallest = _pairwise(drawn)
                means.append(mean)
                mins.append(smallest)
            key = f"random_fraction={fraction:.2f} pending={pending}"
            out[key] = {"mean": statistics.fmean(means), "min": statistics.fmean(mins)}
            print(
                f"spread {key}: mean pairwise {out[key]['mean']:.3f}, "
                f"smallest pairwise {out[key]['min']:.4f}",
                flush=True,
            )
    rng = np.random.default_rng(0)
    uniform = [
        _pairwise([{f"x{j}": float(v) for j, v in enumerate(rng.random(6))} for _ in range(16)])
        for _ in range(1000)
    ]
    out["uniform"] = {
        "mean": statistics.fmean(u[0] for u in uniform),
        "min": statistics.fmean(u[1] for u in uniform),
    }
    print(f"spread uniform: {out['uniform']}", flush=True)
    return out


# ---------------------------------------------------------------------- studies


def study(
    w: wl.Workload,
    sampler: Any,
    seed: int,
    iterations: int = 4,
    fails: FailFn | None = None,
) -> dict[str, float]:
    """A sequential study until ``iterations`` iterations' budget is spent (from scratch)."""
    sched = hyperband.schedule(w.max_budget, w.eta, min_budget=w.min_budget)
    total = iterations * float(sched.total_budget)
    hb = hyperband.Hyperband(
        sampler,
        w.max_budget,
        eta=w.eta,
        min_budget=w.min_budget,
        mode=w.mode,
        exec_mode="serial",
        iterations=None,
        seed=seed,
    )
    spent = 0.0
    failed = jobs = 0
    regret_25 = math.nan
    sign = -1.0 if w.mode == "maximize" else 1.0
    incumbent, regret = (math.inf, -1), math.nan
    while True:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        if spent + job.budget > total:
            break
        spent += job.budget
        jobs += 1
        if fails is not None and fails(job.config, job.budget, job.id):
            hb.fail(job.id, "region fails")
            failed += 1
        else:
            value = w(job.config, job.budget)
            hb.tell(job.id, value)
            if job.budget == w.max_budget and (sign * value, job.config_id) < incumbent:
                incumbent = (sign * value, job.config_id)
                regret = w.regret(job.config)
        if spent <= 0.25 * total:
            regret_25 = regret
    return {"regret": regret, "regret_25": regret_25, "failed": failed / max(jobs, 1)}


def bench_failures(seeds: int) -> dict[str, Any]:
    w = wl.hartmann6("good")

    def random_failure(config: Config, budget: float, job_id: int) -> bool:
        return float(np.random.default_rng([job_id, 7]).random()) < 0.1

    scenarios: dict[str, FailFn] = {
        "x0 > 0.6 fails (away from the optimum)": lambda c, b, j: c["x0"] > 0.6,
        "x5 > 0.7 fails (next to the optimum)": lambda c, b, j: c["x5"] > 0.7,
        "10% of jobs fail at random": random_failure,
    }
    out: dict[str, Any] = {}
    for label, fails in scenarios.items():
        samplers: dict[str, dict[str, Any] | None] = {
            "failures=bad": {"failures": "bad"},
            "failures=ignore": {"failures": "ignore"},
            "random sampler": None,
        }
        for option, options in samplers.items():
            runs = [
                study(
                    w,
                    w.space if options is None else KDESampler(w.space, **options),
                    seed,
                    fails=fails,
                )
                for seed in range(seeds)
            ]
            key = f"{label} | {option}"
            out[key] = {
                "regret": _quartiles([r["regret"] for r in runs]),
                "failed_fraction": statistics.fmean(r["failed"] for r in runs),
            }
            print(
                f"failures {key}: regret {_show(out[key]['regret'])}, "
                f"failed jobs {out[key]['failed_fraction']:.1%}",
                flush=True,
            )
    return out


def bench_parallel(seeds: int, workers: int = 16) -> dict[str, Any]:
    out: dict[str, Any] = {}
    variants: list[tuple[str, int, dict[str, Any] | None]] = [
        ("1 worker", 1, {}),
        (f"{workers} workers, pending=bad", workers, {}),
        (f"{workers} workers, pending=ignore", workers, {"pending": "ignore"}),
        (f"{workers} workers, random sampler", workers, None),
    ]
    names = ("counting_ones", "hartmann6_good", "hartmann6_bad", "learning_curves")
    for w in map(wl.workload, names):
        for label, n_workers, options in variants:
            regrets = []
            for seed in range(seeds):
                result = hyperband.simulate(
                    w.max_budget,
                    w.eta,
                    min_budget=w.min_budget,
                    workers=n_workers,
                    iterations=4,
                    seed=seed,
                    objective=w.evaluate,
                    mode=w.mode,
                    space=w.space if options is None else KDESampler(w.space, **options),
                )
                assert result.best is not None
                regrets.append(w.regret(result.best.config))
            key = f"{w.name} | {label}"
            out[key] = _quartiles(regrets)
            print(f"parallel {key}: regret {_show(out[key])}", flush=True)
    return out


BOHB = {"n_candidates": 64, "random_fraction": 1 / 3}
VARIANTS: dict[str, dict[str, Any] | None] = {
    "random": None,
    "kde (defaults)": {},
    "BOHB's (64, 1/3)": BOHB,
    "n_candidates=64": {"n_candidates": 64},
    "n_candidates=16": {"n_candidates": 16},
    "random_fraction=1/3": {"random_fraction": 1 / 3},
    "random_fraction=0.1": {"random_fraction": 0.1},
    "top_fraction=0.10": {"top_fraction": 0.10},
    "top_fraction=0.30": {"top_fraction": 0.30},
    "bandwidth_factor=1": {"bandwidth_factor": 1.0},
    "bandwidth_factor=2": {"bandwidth_factor": 2.0},
    "min_points=d/2+1": {"min_points": "half"},
}
# Not digits: its configurations are rows of a table.
DEFAULTS_WORKLOADS = (
    "counting_ones",
    "hartmann6_good",
    "hartmann6_bad",
    "learning_curves",
    "branin",
)


def _variants(seeds: range, variants: list[str], section: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in DEFAULTS_WORKLOADS:
        w = wl.workload(name)
        d = len(w.space)
        for label in variants:
            options = VARIANTS[label]
            if options is not None and options.get("min_points") == "half":
                options = {"min_points": d // 2 + 1}
            runs = [
                study(w, w.space if options is None else KDESampler(w.space, **options), seed)
                for seed in seeds
            ]
            key = f"{name} | {label}"
            out[key] = {
                "regret_25": _quartiles([r["regret_25"] for r in runs]),
                "regret": _quartiles([r["regret"] for r in runs]),
            }
            print(
                f"{section} {key}: regret at 25% {_show(out[key]['regret_25'])}, "
                f"at 100% {_show(out[key]['regret'])}",
                flush=True,
            )
    return out


def bench_defaults(seeds: int, variants: list[str]) -> dict[str, Any]:
    """The options, seeds ``0 .. seeds - 1``: where the defaults were chosen."""
    return _variants(range(seeds), variants, "defaults")


def bench_holdout(seeds: int) -> dict[str, Any]:
    """The defaults against BOHB's on fresh seeds (``seeds .. 3 seeds - 1``): the check that
    the choice made on the first seeds was not the luck of those seeds."""
    labels = ["random", "kde (defaults)", "BOHB's (64, 1/3)"]
    return _variants(range(seeds, 3 * seeds), labels, "holdout")


def _parts(keys: Any, i: int) -> list[str]:
    """Part ``i`` of each ``"a | b"`` key, first-seen order, once each."""
    return list(dict.fromkeys(key.split(" | ")[i] for key in keys))


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The tables of the samplers page, from a results dict."""
    parts: list[str] = []
    cost = results.get("cost")
    if cost:
        rows = []
        for n in (100, 1000, 5000):
            row = [str(n)]
            for d in (6, 16):
                c = cost[f"d={d} N={n}"]
                row += [f"{c['cached_ms']:.2f}", f"{c['pending16_ms']:.2f}", f"{c['refit_ms']:.2f}"]
            rows.append(row)
        header = ["observations"] + [
            f"d={d}: {what}" for d in (6, 16) for what in ("cached", "16 pending", "refit")
        ]
        parts.append(
            "**Cost of one `sample(rng, 1)`**, ms of CPU time:\n\n" + _md_table(header, rows)
        )
    spread = results.get("spread")
    if spread:
        rows = [
            [
                key.replace("random_fraction", "random fraction"),
                f"{v['mean']:.3f}",
                f"{v['min']:.3f}",
            ]
            for key, v in spread.items()
        ]
        parts.append(
            "**Spread of 16 concurrent draws** (Hartmann-6, 100 observations):\n\n"
            + _md_table(["draws", "mean pairwise distance", "smallest pairwise distance"], rows)
        )
    parallel = results.get("parallel")
    if parallel:
        names = _parts(parallel, 0)
        labels = _parts(parallel, 1)
        rows = [
            [label] + [_show(parallel[f"{name} | {label}"]) for name in names] for label in labels
        ]
        parts.append(
            "**Regret with 16 workers** (`simulate()`):\n\n"
            + _md_table(["", *(n.replace("_", " ") for n in names)], rows)
        )
    failures = results.get("failures")
    if failures:
        scenarios = _parts(failures, 0)
        options = ["failures=bad", "failures=ignore", "random sampler"]
        rows = [
            [scenario]
            + [
                f"{_show(failures[f'{scenario} | {o}']['regret'])}, "
                f"{failures[f'{scenario} | {o}']['failed_fraction']:.0%} failed"
                for o in options
            ]
            for scenario in scenarios
        ]
        parts.append("**Failures** (Hartmann-6):\n\n" + _md_table(["", *options], rows))
    for section, title in (
        ("defaults", "**Options**, median regret at 100% (25%) of the budget"),
        ("holdout", "**The defaults on fresh seeds**, median regret at 100% (25%) of the budget"),
    ):
        parts += _options_table(results.get(section), title)
    return "\n\n".join(parts) + "\n"


def _options_table(defaults: dict[str, Any] | None, title: str) -> list[str]:
    parts: list[str] = []
    if defaults:
        names = _parts(defaults, 0)
        labels = _parts(defaults, 1)
        rows = [
            [label]
            + [
                f"{defaults[f'{name} | {label}']['regret']['median']:.3g} "
                f"({defaults[f'{name} | {label}']['regret_25']['median']:.3g})"
                for name in names
            ]
            for label in labels
        ]
        parts.append(f"{title}:\n\n" + _md_table(["", *(n.replace("_", " ") for n in names)], rows))
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 seeds, few variants")
    parser.add_argument("--only", default="cost,spread,parallel,failures,defaults,holdout")
    parser.add_argument(
        "--markdown", action="store_true", help="print the tables of the saved results and exit"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(json.loads(RESULTS.read_text())))
        return
    seeds = 3 if args.quick else args.seeds
    results: dict[str, Any] = {}
    if RESULTS.exists() and not args.quick:
        results = json.loads(RESULTS.read_text())
    results["seeds"] = seeds
    only = args.only.split(",")
    if "cost" in only:
        results["cost"] = bench_cost(20 if args.quick else 100)
    if "spread" in only:
        results["spread"] = bench_spread(seeds)
    if "parallel" in only:
        results["parallel"] = bench_parallel(seeds)
    if "failures" in only:
        results["failures"] = bench_failures(seeds)
    if "defaults" in only:
        variants = ["random", "kde (defaults)"] if args.quick else list(VARIANTS)
        results["defaults"] = bench_defaults(seeds, variants)
    if "holdout" in only and not args.quick:
        results["holdout"] = bench_holdout(seeds)
    if not args.quick:
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
