"""LightGBMCallback: real LightGBM training in real hyperband studies."""

from __future__ import annotations

import doctest
import subprocess
import sys
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


def classifier(config: dict[str, Any], cb: LightGBMCallback, **kwargs: Any) -> Any:
    """LightGBM's scikit-learn API: the callback and the model to continue go to ``fit``."""
    options = {"n_estimators": cb.num_boost_round, **kwargs}
    fit = {"init_model": options.pop("init_model", cb.init_model)}
    fit["eval_X"], fit["eval_y"] = options.pop("eval", (X[VALID], Y[VALID]))
    model = lgb.LGBMClassifier(
        **config, **options, verbose=-1, n_jobs=1, random_state=0, min_child_samples=5
    )
    return model.fit(X[TRAIN], Y[TRAIN], callbacks=[cb], **fit)


def sklearn_objective(config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
    cb = LightGBMCallback(context, "binary_logloss")
    model = classifier(config, cb)
    return {"default": cb.value, "trees": model.booster_.num_trees(), "resumed": cb.init_model}


def test_the_scikit_learn_api_reports_stops_cleanly_and_continues_its_booster() -> None:
    boosting_checks.check_studies(sklearn_objective, SPACE, "trees")


SAVED = "lightgbm_1_rounds.txt"


def test_a_scikit_learn_model_continued_equals_one_boosted_from_scratch(tmp_path: Path) -> None:
    config = {"learning_rate": 0.1, "num_leaves": 7}
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    promoted = boosting_checks.check_continued_equals_scratch(
        lambda cb: classifier(config, cb), LightGBMCallback, job, tmp_path, SAVED, X[VALID]
    )
    scratch_dir = tmp_path / "scratch"
    # What the scikit-learn API gets wrong is named with its own arguments.
    with pytest.raises(ConfigurationError, match=r"starts with 0 rounds, expected 1: pass init"):
        classifier(config, LightGBMCallback(Context(promoted, tmp_path, [])), init_model=None)
    with pytest.raises(ConfigurationError, match=r"ends after round 100, .*n_estimators=cb"):
        classifier(config, LightGBMCallback(Context(job, scratch_dir, [])), n_estimators=100)
    with pytest.raises(ConfigurationError, match=r"eval_X=\.\.\., eval_y="):
        classifier(config, LightGBMCallback(Context(job, scratch_dir, [])), eval=(None, None))


def test_the_digits_example_runs(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "lightgbm_digits.py"
    command = [sys.executable, str(example), "--max-budget", "9", "--workers", "1"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert "best validation multi_logloss" in out
    assert "stopped by the rung rule" in out
    accuracy = float(out.rsplit("test accuracy of the best configuration: ", 1)[1])
    assert accuracy > 0.8


def test_docstring_examples() -> None:
    assert doctest.testmod(adapter).failed == 0


def test_without_lightgbm_the_module_imports_and_the_callback_names_the_extra() -> None:
    boosting_checks.check_missing_engine("lightgbm", "LightGBMCallback")
