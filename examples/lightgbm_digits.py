"""LightGBM's scikit-learn estimator tuned by asynchronous Hyperband on the digits dataset.

The budget is boosting rounds. ``LGBMClassifier`` takes ``LightGBMCallback`` in ``fit``: the
callback reports the validation ``multi_logloss`` after every round, ends the training of a
job that the rung rule stops, and a promoted configuration continues its saved booster
(``init_model``) with only the rounds still missing (``n_estimators``). Asynchronous mode
(ASHA) promotes as soon as a configuration is in its rung's top third, so two workers never
wait for a whole rung. At the end the best configuration is refitted on train + validation
and scored on a test set it never saw.

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
    "min_child_samples": {"_type": "randint", "_value": [2, 40]},
    "reg_lambda": {"_type": "loguniform", "_value": [0.01, 10]},
}


def classifier(config: dict[str, Any], rounds: int, seed: int) -> lgb.LGBMClassifier:
    return lgb.LGBMClassifier(
        **config, n_estimators=rounds, n_jobs=1, random_state=seed, verbose=-1
    )


def main(argv: list[str] | None = None) -> hyperband.RunResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-budget", type=int, default=81, help="boosting rounds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    x, y = load_digits(return_X_y=True)
    x_fit, x_test, y_fit, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=args.seed
    )
    x_train, x_valid, y_train, y_valid = train_test_split(
        x_fit, y_fit, test_size=0.25, stratify=y_fit, random_state=args.seed
    )

    def objective(config: dict[str, Any], budget: float, context: Context) -> float | None:
        cb = LightGBMCallback(context, "multi_logloss")
        model = classifier(config, cb.num_boost_round, args.seed)
        model.fit(
            x_train,
            y_train,
            eval_X=x_valid,
            eval_y=y_valid,
            init_model=cb.init_model,
            callbacks=[cb],
        )
        return cb.value

    result = hyperband.run(
        objective,
        SPACE,
        max_budget=args.max_budget,
        mode="minimize",
        exec_mode="asynchronous",
        early_stop="rung",
        workers=args.workers,
        seed=args.seed,
        progress=False,
    )
    assert result.best is not None
    stopped = [r for r in result.history if r.status == "stopped"]
    print(f"best validation multi_logloss {result.best.value:.4f}: {result.best.config}")
    boosted = sum(len(r.reports) for r in result.history)  # a report a round
    print(
        f"{len(result.history)} jobs, {len(stopped)} stopped by the rung rule; {boosted} "
        f"rounds boosted, {result.spent:g} if every promotion had started from scratch"
    )
    final = classifier(result.best.config, args.max_budget, args.seed).fit(x_fit, y_fit)
    accuracy = float(np.mean(final.predict(x_test) == y_test))
    print(f"test accuracy of the best configuration: {accuracy:.3f}")
    return result


if __name__ == "__main__":
    main()
