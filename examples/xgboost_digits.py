"""Tune XGBoost on the digits dataset with Hyperband: the budget is boosting rounds.

The dataset ships inside scikit-learn (no download). ``XGBoostCallback`` reports the
validation ``mlogloss`` after every round, ends a job that the median rule stops, and lets a
promoted configuration continue its saved booster instead of boosting from scratch. At the
end the best configuration is trained once more on train + validation and scored on a test
set it never saw, and the study's cost in boosting rounds is compared with training every
configuration it tried for the full budget.

Run it (about 10 s on two cores; needs ``pip install 'hyperband[xgboost,sklearn]'``)::

    python examples/xgboost_digits.py --max-budget 81 --workers 2
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hyperband
from hyperband.drivers.context import Context
from hyperband.integrations.xgboost import XGBoostCallback

SPACE = {
    "eta": {"_type": "loguniform", "_value": [0.01, 0.5]},
    "max_depth": {"_type": "randint", "_value": [1, 8]},
    "min_child_weight": {"_type": "loguniform", "_value": [0.1, 20]},
    "lambda": {"_type": "loguniform", "_value": [0.01, 10]},
}
FIXED = {"objective": "multi:softprob", "num_class": 10, "eval_metric": "mlogloss"}


def split(seed: int = 0) -> tuple[Any, ...]:
    """Train, validation and test sets (60/20/20, stratified)."""
    x, y = load_digits(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=seed
    )
    x_train, x_valid, y_train, y_valid = train_test_split(
        x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=seed
    )
    return x_train, y_train, x_valid, y_valid, x_test, y_test


def main(argv: list[str] | None = None) -> hyperband.RunResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-budget", type=int, default=81, help="boosting rounds")
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    x_train, y_train, x_valid, y_valid, x_test, y_test = split(args.seed)
    train, valid = xgb.DMatrix(x_train, y_train), xgb.DMatrix(x_valid, y_valid)
    params = {**FIXED, "nthread": 1, "seed": args.seed}

    def objective(config: dict[str, Any], budget: float, context: Context) -> float | None:
        cb = XGBoostCallback(context)  # the last eval set's last metric: mlogloss
        xgb.train(
            {**params, **config},
            train,
            num_boost_round=cb.num_boost_round,
            xgb_model=cb.xgb_model,
            evals=[(valid, "valid")],
            verbose_eval=False,
            callbacks=[cb],
        )
        return cb.value

    result = hyperband.run(
        objective,
        SPACE,
        max_budget=args.max_budget,
        eta=args.eta,
        mode="minimize",
        early_stop="median",
        workers=args.workers,
        seed=args.seed,
        progress=False,
    )
    assert result.best is not None
    boosted = sum(len(r.reports) for r in result.history)  # one report per round
    tried = len({r.job.config_id for r in result.history})
    print(f"best validation mlogloss {result.best.value:.4f}: {result.best.config}")
    print(
        f"{tried} configurations, {result.n_stopped} jobs stopped early; {boosted} rounds "
        f"boosted, against {tried * args.max_budget} for all at {args.max_budget} rounds"
    )
    full = xgb.DMatrix(np.vstack([x_train, x_valid]), np.concatenate([y_train, y_valid]))
    final = xgb.train({**params, **result.best.config}, full, args.max_budget)
    predicted = final.predict(xgb.DMatrix(x_test)).argmax(axis=1)
    print(f"test accuracy of the best configuration: {(predicted == y_test).mean():.3f}")
    return result


if __name__ == "__main__":
    main()
