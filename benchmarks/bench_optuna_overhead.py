"""Overhead per configuration: Optuna 5's HyperbandPruner vs our ask/tell machine.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_optuna_overhead.py [--quick] [--trials 3000]

Needs ``optuna==5.0.0`` (``pip install -e ".[bench]"``).

Both sides early-stop N configurations of the same 3-parameter space (uniform, log-uniform,
3-way categorical), sampled at random, with Hyperband at R=81, eta=3, on a zero-cost
objective whose value is the configuration's ``x``. Measured in one process, one after the
other, with ``time.perf_counter``:

- Optuna (one *trial* = one configuration): ``study.ask()``, three ``trial.suggest_*`` calls
  (``RandomSampler(seed=0)``: the sampler is not what is measured, and TPE would dominate),
  then for step = 1..81 ``trial.report(x, step)`` and ``trial.should_prune()`` until it prunes,
  then ``study.tell(trial, x)`` or ``study.tell(trial, state=PRUNED)``. In-memory storage,
  ``HyperbandPruner(min_resource=1, max_resource=81, reduction_factor=3)``, direction
  maximize, Optuna's logging set to WARNING (its per-trial INFO line is not counted).
  Optuna's cost per trial grows with the number of trials in the study (its pruner reads the
  study's trials at every ``should_prune``), so the mean over the first n trials and the mean of
  the last block of trials are both reported.
- Ours: ``hyperband.Hyperband(space, max_budget=81, eta=3)``, parallelism mode, run for
  ``ceil(N / 143)`` whole iterations (143 configurations per iteration, >= N), one job at a
  time: ``ask()`` (bracket starts and config sampling amortised), ``tell(job.id, x)``
  (promotions, best tracking), the driver loop. A configuration is 1.44 jobs on average
  (206 jobs per 143 configurations).

The ratio is Optuna's microseconds per trial over ours per configuration: the same work
(Hyperband early stopping of one configuration), each through its own API. Our per-job figure
is printed too. Best of ``--repeat`` timings for ours (it is fast and noisy); one run for
Optuna (it is slow and its cost depends on the study's history).

Outputs ``benchmarks/results/bench_optuna_overhead.json`` (with the markdown) and a table.
``--quick`` runs 150 trials and writes ``bench_optuna_overhead_quick.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import gc
import json
import math
import time
from pathlib import Path
from typing import Any

import hyperband

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

R = 81
ETA = 3
SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
}
CONFIGS_PER_ITERATION = sum(b.rungs[0].n_configs for b in hyperband.schedule(R, ETA).brackets)


def optuna_run(n_trials: int) -> dict[str, Any]:
    """Seconds for ``n_trials`` Optuna trials, with the cumulative time at each quarter."""
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=R, reduction_factor=ETA),
    )
    ask, tell = study.ask, study.tell
    steps = pruned = 0
    marks: list[tuple[int, float]] = []
    quarters = {max(1, n_trials * k // 4) for k in (1, 2, 3, 4)}
    gc.collect()
    start = time.perf_counter()
    for i in range(n_trials):
        trial = ask()
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
        for step in range(1, R + 1):
            trial.report(x, step)
            steps += 1
            if trial.should_prune():
                tell(trial, state=TrialState.PRUNED)
                pruned += 1
                break
        else:
            tell(trial, x)
        if i + 1 in quarters:
            marks.append((i + 1, time.perf_counter() - start))
    seconds = time.perf_counter() - start
    last_n = marks[-1][0] - marks[-2][0] if len(marks) > 1 else marks[-1][0]
    last_s = marks[-1][1] - marks[-2][1] if len(marks) > 1 else marks[-1][1]
    return {
        "version": optuna.__version__,
        "trials": n_trials,
        "seconds": seconds,
        "us_per_trial": seconds / n_trials * 1e6,
        "us_per_trial_last_block": last_s / last_n * 1e6,
        "last_block": last_n,
        "cumulative": [{"trials": n, "us_per_trial": s / n * 1e6} for n, s in marks],
        "steps_per_trial": steps / n_trials,
        "pruned_fraction": pruned / n_trials,
    }


def ours_run(iterations: int) -> tuple[float, int, int]:
    """Seconds, jobs and configurations for ``iterations`` whole Hyperband iterations."""
    hb = hyperband.Hyperband(SPACE, max_budget=R, eta=ETA, iterations=iterations, seed=0)
    ask, tell = hb.ask, hb.tell
    configs = 0
    gc.collect()
    start = time.perf_counter()
    while True:
        job = ask()
        if job is hyperband.DONE:
            break
        assert isinstance(job, hyperband.Job)  # one job out at a time: never WAIT
        configs += job.rung == 0
        tell(job.id, job.config["x"])
    seconds = time.perf_counter() - start
    return seconds, hb.n_asked, configs


def markdown(report: dict[str, Any]) -> str:
    o, u = report["optuna"], report["ours"]
    return "\n".join(
        [
            f"Hyperband bookkeeping per configuration, R=81, eta=3, zero-cost objective, "
            f"random sampling, {o['trials']} configurations, one process.",
            "",
            "| | us per configuration | us per job | notes |",
            "|---|---:|---:|---|",
            f"| Optuna {o['version']} HyperbandPruner, ask/tell, in-memory | "
            f"{o['us_per_trial']:,.0f} (last {o['last_block']}: "
            f"{o['us_per_trial_last_block']:,.0f}) | - | {o['steps_per_trial']:.1f} "
            f"report+should_prune per trial ({o['us_per_trial'] / o['steps_per_trial']:,.0f} us "
            f"per step, all included); {o['pruned_fraction']:.0%} pruned |",
            f"| hyperband (ours) ask/tell | {u['us_per_config']:.1f} | {u['us_per_job']:.2f} | "
            f"{u['jobs'] / u['configs']:.2f} jobs per configuration |",
            "",
            f"Ratio, Optuna / ours, per configuration: **{report['ratio']:,.0f}x** "
            f"(Optuna's last {o['last_block']} trials alone: "
            f"{report['ratio_last_block']:,.0f}x).",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="150 trials")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--trials", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N timings for ours")
    args = parser.parse_args(argv)
    n = 150 if args.quick else args.trials
    start = time.perf_counter()

    iterations = math.ceil(n / CONFIGS_PER_ITERATION)
    ours_run(iterations)  # warm-up: imports, caches
    timings = [ours_run(iterations) for _ in range(args.repeat)]
    seconds, jobs, configs = min(timings)
    ours = {
        "iterations": iterations,
        "jobs": jobs,
        "configs": configs,
        "seconds": seconds,
        "us_per_job": seconds / jobs * 1e6,
        "us_per_config": seconds / configs * 1e6,
    }
    optuna_run(20)  # warm-up: imports, caches (a separate study)
    opt = optuna_run(n)
    report = {
        "benchmark": "bench_optuna_overhead",
        "quick": args.quick,
        "optuna": opt,
        "ours": ours,
        "ratio": opt["us_per_trial"] / ours["us_per_config"],
        "ratio_last_block": opt["us_per_trial_last_block"] / ours["us_per_config"],
    }
    report["markdown"] = markdown(report)
    report["seconds"] = time.perf_counter() - start
    args.results.mkdir(parents=True, exist_ok=True)
    name = "bench_optuna_overhead_quick.json" if args.quick else "bench_optuna_overhead.json"
    out = args.results / name
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(report["markdown"])
    growth = ", ".join(f"{c['trials']}: {c['us_per_trial']:,.0f}" for c in opt["cumulative"])
    print(f"Optuna mean us/trial over the first n trials: {growth}")
    print(f"wrote {out}; {report['seconds']:.1f} s")
    return report


if __name__ == "__main__":
    main()
