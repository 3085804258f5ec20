"""Optuna 5.0.0's ``TPESampler`` + ``HyperbandPruner`` on one workload (inside .venvs/optuna).

One trial = one configuration trained step by step: it reports its value at each rung budget
``min_budget * eta**k`` up to ``max_budget`` and stops when the pruner says so (the pruner only
decides at those steps, so reporting every step would give the same decisions: shared
PEERS.md). Trials CONTINUE training across rungs: each report is recorded as an evaluation at
that budget, charged only the steps trained since the trial's previous report, so a trial
costs the budget it reached (what it costs in a real use of Optuna; see
``bench_compare.py`` for what that means for the comparison). TPE and the pruner are
Optuna's defaults apart from the seed and the pruner's resources (min and max budget, eta);
``study_name`` is fixed because the pruner's bracket of a trial is a hash of it (optuna #3893).
"""

from __future__ import annotations

import common

common.one_thread()

from typing import Any  # noqa: E402

import optuna  # noqa: E402
from spaces import suggest_optuna  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def rung_budgets(w: Any) -> list[float]:
    steps, b = [], float(w.min_budget)
    while b < w.max_budget:
        steps.append(b)
        b *= w.eta
    return [*steps, float(w.max_budget)]


def drive(w: Any, seed: int, rec: common.Recorder) -> None:
    steps = rung_budgets(w)

    def objective(trial: optuna.Trial) -> float:
        config = suggest_optuna(trial, w.space)
        previous = 0.0
        value = float("nan")
        for b in steps:
            value = rec(config, b, cost=b - previous)
            previous = b
            trial.report(value, int(b))
            if trial.should_prune():
                raise optuna.TrialPruned
        return value

    def stop(study: optuna.Study, trial: Any) -> None:
        if rec.exhausted:
            study.stop()

    study = optuna.create_study(
        study_name=f"{w.name}-{seed}",
        direction="maximize" if w.mode == "maximize" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=w.min_budget, max_resource=w.max_budget, reduction_factor=w.eta
        ),
    )
    study.optimize(objective, callbacks=[stop])


if __name__ == "__main__":
    common.main("Optuna TPE + HyperbandPruner", optuna.__version__, drive)
