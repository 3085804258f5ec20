"""Tune LightGBM on the digits dataset with Hyperband: the budget is boosting rounds.

The dataset ships inside scikit-learn (no download). ``LightGBMCallback`` reports the
validation ``multi_logloss`` after every round, ends a job that the median rule stops, and
lets a promoted configuration continue its saved booster (``init_model``) instead of
boosting from scratch. At the end the best configuration is trained once more on train +
validation and scored on a test set it never saw, and the study's cost in boosting rounds is
compared with training every configuration it tried for the full budget.

Run it (about 10-20 s on two cores; needs ``pip install 'hyperband[lightgbm,sklearn]'``)::

    python examples/lightgbm_digits.py --max-budget 81 --workers 2
"""

from __future__ import annotations

import argparse
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hyperband
from hyperband.drivers.context import Context
from hyperband.integrations.lightgbm import LightGBMCallback

SPACE = {
    "learning_rate": {"_type": "loguniform", "_value": [0.01, 0.5]},
    "num_leaves": {"_type": "randint", "_value": [2, 64]},
    "min_data_in_leaf": {"_type": "randint", "_value": [2, 40]},
    "lambda_l2": {"_type": "loguniform", "_value": [0.01, 10]},
}
FIXED = {"objective": "multiclass", "num_class": 10, "metric": "multi_logloss", "verbose": -1}


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
    params = {**FIXED, "num_threads": 1, "seed": args.seed}

    def objective(config: dict[str, Any], budget: float, context: Context) -> float | None:
        # A Dataset per job: LightGBM binds a Dataset to the parameters it was built with.
        train = lgb.Dataset(x_train, y_train)
        valid = lgb.Dataset(x_valid, y_valid, reference=train)
        cb = LightGBMCallback(context, "multi_logloss")
        lgb.train(
            {**params, **config},
            train,
            num_boost_round=cb.num_boost_round,
            init_model=cb.init_model,
            valid_sets=[valid],
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
    print(f"best validation multi_logloss {result.best.value:.4f}: {result.best.config}")
    print(
        f"{tried} configurations, {result.n_stopped} jobs stopped early; {boosted} rounds "
        f"boosted, against {tried * args.max_budget} for all at {args.max_budget} rounds"
    )
    full = lgb.Dataset(np.vstack([x_train, x_valid]), np.concatenate([y_train, y_valid]))
    final = lgb.train({**params, **result.best.config}, full, args.max_budget)
    predicted = np.asarray(final.predict(x_test)).argmax(axis=1)
    print(f"test accuracy of the best configuration: {(predicted == y_test).mean():.3f}")
    return result


if __name__ == "__main__":
    main()
