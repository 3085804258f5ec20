"""LightGBMCallback: real LightGBM training in real hyperband studies."""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband import ConfigurationError
from hyperband.drivers.context import Context
from hyperband.integrations import lightgbm as adapter
from hyperband.integrations.lightgbm import LightGBMCallback
from tests import boosting_checks
from tests.optional import require

lgb = require("lightgbm")
datasets = require("sklearn.datasets")

X, Y = datasets.load_breast_cancer(return_X_y=True)
TRAIN, VALID = slice(0, 400), slice(400, None)
SPACE = {
    "learning_rate": {"_type": "loguniform", "_value": [0.02, 0.3]},
    "num_leaves": {"_type": "randint", "_value": [2, 16]},
}
FIXED = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": 0, "min_data_in_leaf": 5}


def boost(config: dict[str, Any], cb: LightGBMCallback, **kwargs: Any) -> Any:
    train = lgb.Dataset(X[TRAIN], Y[TRAIN])
    valid = lgb.Dataset(X[VALID], Y[VALID], reference=train)
    options = {"valid_sets": [valid], "callbacks": [cb], **kwargs}
    return lgb.train(
        {**FIXED, **config},
        train,
        num_boost_round=cb.num_boost_round,
        init_model=cb.init_model,
        **options,
    )


def objective(config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
    cb = LightGBMCallback(context, "binary_logloss")
    booster = boost(config, cb)
    return {"default": cb.value, "trees": booster.num_trees(), "resumed": cb.init_model}


def study(**kwargs: Any) -> hyperband.RunResult:
    return boosting_checks.study(objective, SPACE, **kwargs)


def test_promotions_continue_their_booster_and_report_every_round() -> None:
    boosting_checks.check_rounds_and_promotions(study(), "trees")


def test_a_continued_booster_equals_one_boosted_from_scratch(tmp_path: Path) -> None:
    config = {"learning_rate": 0.1, "num_leaves": 7}
    hb = hyperband.Hyperband(SPACE, max_budget=9, seed=0)
    job = hb.ask()
    first = Context(job, tmp_path, [])
    boost(config, LightGBMCallback(first))
    # The same configuration promoted to 9 rounds continues the 1-round model.
    promoted = type(job)(**{**vars_of(job), "budget": 9, "previous_budget": job.budget})
    cb = LightGBMCallback(Context(promoted, tmp_path, []))
    assert cb.init_model is not None
    assert cb.num_boost_round == 8
    continued = boost(config, cb)
    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    fresh = Context(type(job)(**{**vars_of(job), "budget": 9}), scratch_dir, [])
    scratch = boost(config, LightGBMCallback(fresh))
    np.testing.assert_allclose(
        continued.predict(X[VALID]), scratch.predict(X[VALID]), rtol=1e-9, atol=1e-12
    )


def vars_of(job: Any) -> dict[str, Any]:
    import attrs

    return attrs.asdict(job, recurse=False)


def test_a_stopped_job_stops_training_cleanly() -> None:
    boosting_checks.check_clean_stops(study(early_stop="median"), "trees")


def test_bad_arguments_and_a_training_without_a_metric_are_named(tmp_path: Path) -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    context = Context(job, tmp_path, [])
    boosting_checks.check_argument_errors(LightGBMCallback, context)
    with pytest.raises(ConfigurationError, match="pass valid_sets"):
        boost({}, LightGBMCallback(context), valid_sets=None)
    with pytest.raises(ConfigurationError, match=r"no metric 'auc' .*valid_0/binary_logloss"):
        boost({}, LightGBMCallback(context, "auc"))


def test_docstring_examples() -> None:
    assert doctest.testmod(adapter).failed == 0


def test_without_lightgbm_the_module_imports_and_the_callback_names_the_extra() -> None:
    boosting_checks.check_missing_engine("lightgbm", "LightGBMCallback")
