"""CPU per draw of ``OptunaSampler`` (TPE) at 600 results, against Optuna's TPE alone.

Run by hand (not a test):  OPENBLAS_NUM_THREADS=1 nice -n 10 python
benchmarks/bench_optuna_draw.py [--results 600] [--pending 8] [--repeats 7] [--profile]
[--out FILE]

A 7-parameter space (two log-uniform, two uniform, a randint and two choices). Each timing is
the least CPU time (``time.process_time``) of ``--repeats`` rounds of ``--draws`` draws, in ms
per draw, the rounds of the four interleaved:

- ``grown``: ``OptunaSampler(space)`` (its default, ``TPESampler(multivariate=True,
  group=True, constant_liar=True)``) as a study uses it: each result observed right after its
  draw, with the ``--pending`` configurations drawn last still running, up to ``--results``
  results at one budget; then ``sample(rng, 1, pending=...)`` is timed.
- ``fresh``: the same sampler with the same ``--results`` observations made without drawing:
  a restored machine's.
- ``optuna``: Optuna alone, the floor: a bare in-memory study with the same TPE settings, the
  same ``--results`` completed trials and the same pending configurations as running trials;
  ``study.ask()`` plus one ``suggest_*`` per parameter, then the trial is told failed.
  ``optuna_ask`` is ``study.ask()`` alone: Optuna 5 samples the group at the first
  ``suggest_*``, so this is only the study's own bookkeeping.

``--profile`` adds the share of a grown draw spent inside Optuna's TPE sampler (its
``infer_relative_search_space``, ``sample_relative`` and ``sample_independent``, from a
cProfile), the rest being the wrapper and Optuna's study, trial and storage code.

Results: ``benchmarks/results/bench_optuna_draw.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import cProfile
import json
import math
import pstats
import sys
import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_optuna_draw.json"
SPACE: dict[str, Any] = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "wd": {"_type": "loguniform", "_value": [1e-6, 1e-2]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
    "momentum": {"_type": "uniform", "_value": [0.8, 0.99]},
    "units": {"_type": "randint", "_value": [16, 512]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
    "batch": {"_type": "choice", "_value": [16, 32, 64, 128]},
}
BUDGET = 9


def loss(config: dict[str, Any]) -> float:
    """A smooth loss with its optimum inside the space."""
    return (
        (math.log10(config["lr"]) + 3) ** 2
        + (math.log10(config["wd"]) + 4) ** 2 / 4
        + (config["dropout"] - 0.2) ** 2
        + (config["momentum"] - 0.9) ** 2
        + ((config["units"] - 256) / 256) ** 2
        + 0.1 * (config["act"] != "gelu")
        + 0.05 * (config["batch"] != 64)
    )


def grown(results: int, n_pending: int) -> tuple[Any, list[tuple[dict[str, Any], int]]]:
    """An OptunaSampler after ``results`` draw-then-observe steps; the pending configurations."""
    from hyperband.integrations.optuna import OptunaSampler

    sampler = OptunaSampler(SPACE)
    rng = np.random.default_rng(0)
    running: deque[dict[str, Any]] = deque()
    for _ in range(results + n_pending):
        (config,) = sampler.sample(rng, 1, pending=[(c, BUDGET) for c in running])
        running.append(config)
        if len(running) > n_pending:
            done = running.popleft()
            sampler.observe(done, BUDGET, loss(done))
    return sampler, [(c, BUDGET) for c in running]


def fresh(observed: Any) -> Any:
    """A new OptunaSampler told the same results, without any draw."""
    from hyperband.integrations.optuna import OptunaSampler

    sampler = OptunaSampler(SPACE)
    sampler._trials = {b: list(ts) for b, ts in observed._trials.items()}
    sampler._finished = dict(observed._finished)
    sampler._seen = set(observed._seen)
    sampler._dists = dict(observed._dists)
    return sampler


def per_draw(draws: dict[str, Any], n: int, repeats: int) -> dict[str, float]:
    """The least CPU ms per call of each of ``draws``, over ``repeats`` rounds of ``n`` calls
    of each, interleaved (so that all of them see the same load)."""
    for draw in draws.values():
        draw()  # warm-up
    best = dict.fromkeys(draws, math.inf)
    for _ in range(repeats):
        for name, draw in draws.items():
            start = time.process_time()
            for _ in range(n):
                draw()
            best[name] = min(best[name], (time.process_time() - start) / n)
    return {name: t * 1e3 for name, t in best.items()}


def bare_study(sampler: Any, pending: list[tuple[dict[str, Any], int]]) -> Any:
    """Optuna alone: the same TPE settings, completed trials and running trials."""
    import optuna

    from hyperband.integrations.optuna import _key

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # group=True is an experimental feature
        tpe = optuna.samplers.TPESampler(seed=0, multivariate=True, group=True, constant_liar=True)
    study = optuna.create_study(sampler=tpe, direction="minimize")
    study.add_trials(sampler._trials[BUDGET])
    for config, _ in pending:
        study.add_trial(sampler._running_trial(optuna, _key(config), config))
    return study


def bare_draw(study: Any, ask_only: bool) -> Any:
    import optuna

    from hyperband.integrations.optuna import _suggest_block

    failed = optuna.trial.TrialState.FAIL

    def draw() -> None:
        trial = study.ask()
        if not ask_only:
            _suggest_block(trial, SPACE, "")
        study.tell(trial, state=failed)

    return draw


# TPESampler's own entry points; the study calls each separately (none calls another).
TPE_METHODS = ("infer_relative_search_space", "sample_relative", "sample_independent")


def profile_split(draw: Any, draws: int) -> float:
    """The share of a draw's time inside Optuna's TPE sampler (its entry points' cumulative
    time in a cProfile of ``draws`` draws); the rest is the wrapper and Optuna's study, trial
    and storage code. cProfile slows small calls most, so only the share is used."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(draws):
        draw()
    profiler.disable()
    stats = pstats.Stats(profiler)
    tpe = total = 0.0
    for (path, _, name), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if path.endswith("samplers/_tpe/sampler.py") and name in TPE_METHODS:
            tpe += cumulative
        elif path.endswith("integrations/optuna.py") and name == "sample":
            total += cumulative
    stats.sort_stats("cumulative").print_stats(15)
    return tpe / total


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=600)
    parser.add_argument("--pending", type=int, default=8)
    parser.add_argument("--draws", type=int, default=10, help="draws per timed round")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small, no results file")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the result file")
    args = parser.parse_args(argv)
    if args.quick:
        args.results, args.draws, args.repeats = 30, 2, 2
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    start = time.perf_counter()
    sampler, pending = grown(args.results, args.pending)
    setup = time.perf_counter() - start
    rng = np.random.default_rng(1)
    other = fresh(sampler)
    study = bare_study(sampler, pending)
    ms = per_draw(
        {
            "grown": lambda: sampler.sample(rng, 1, pending=pending),
            "fresh": lambda: other.sample(rng, 1, pending=pending),
            "optuna": bare_draw(study, False),
            "optuna_ask": bare_draw(study, True),
        },
        args.draws,
        args.repeats,
    )
    out: dict[str, Any] = {
        "benchmark": "optuna_draw",
        "optuna": optuna.__version__,
        "results": args.results,
        "pending": args.pending,
        "ms_per_draw": ms,
        "setup_seconds": setup,
        "load": os.getloadavg()[0],
    }
    if args.profile:
        share = profile_split(lambda: sampler.sample(rng, 1, pending=pending), args.draws)
        out["tpe_share"] = share
        out["grown_ms_split"] = {"tpe": ms["grown"] * share, "rest": ms["grown"] * (1 - share)}
    print(json.dumps(out, indent=1))
    if not args.quick:
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
