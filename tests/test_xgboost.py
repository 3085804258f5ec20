"""XGBoostCallback: real XGBoost training in real hyperband studies."""

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
from hyperband.core.jobs import Job
from hyperband.drivers.context import Context
from hyperband.integrations import boosting
from hyperband.integrations import xgboost as adapter
from hyperband.integrations.xgboost import XGBoostCallback
from tests import boosting_checks
from tests.optional import require

xgb = require("xgboost")
datasets = require("sklearn.datasets")

X, Y = datasets.load_breast_cancer(return_X_y=True)
TRAIN = xgb.DMatrix(X[:400], Y[:400])
VALID = xgb.DMatrix(X[400:], Y[400:])
SPACE = {
    "eta": {"_type": "loguniform", "_value": [0.02, 0.3]},
    "max_depth": {"_type": "randint", "_value": [1, 6]},
}
FIXED = {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1, "seed": 0}


def boost(config: dict[str, Any], cb: XGBoostCallback, **kwargs: Any) -> Any:
    options = {"evals": [(TRAIN, "train"), (VALID, "valid")], **kwargs}
    return xgb.train(
        {**FIXED, **config},
        TRAIN,
        num_boost_round=options.pop("num_boost_round", cb.num_boost_round),
        xgb_model=options.pop("xgb_model", cb.xgb_model),
        verbose_eval=False,
        callbacks=[cb],
        **options,
    )


def objective(config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
    cb = XGBoostCallback(context)  # the last dataset's last metric: valid/logloss
    booster = boost(config, cb)
    return {"default": cb.value, "rounds": booster.num_boosted_rounds(), "resumed": cb.xgb_model}


def test_promotions_continue_their_booster_and_report_every_round() -> None:
    result = boosting_checks.study(objective, SPACE)
    boosting_checks.check_rounds_and_promotions(result, "rounds")


def evolve(job: Job, **changes: Any) -> Job:
    import attrs

    return attrs.evolve(job, **changes)


def test_a_continued_booster_equals_one_boosted_from_scratch(tmp_path: Path) -> None:
    config = {"eta": 0.2, "max_depth": 3}
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    assert job.budget == 1
    first = XGBoostCallback(Context(job, tmp_path, []))
    assert (first.xgb_model, first.num_boost_round) == (None, 1)
    boost(config, first)
    # The same configuration promoted to 9 rounds continues the 1-round model.
    promoted = evolve(job, budget=9, previous_budget=job.budget, resume_from=job.id)
    cb = XGBoostCallback(Context(promoted, tmp_path, []))
    assert cb.xgb_model == str(tmp_path / "xgboost_1_rounds.ubj")
    assert cb.num_boost_round == 8
    continued = boost(config, cb)
    assert continued.num_boosted_rounds() == 9
    assert (tmp_path / "xgboost_9_rounds.ubj").exists()
    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    scratch = boost(config, XGBoostCallback(Context(evolve(job, budget=9), scratch_dir, [])))
    np.testing.assert_allclose(continued.predict(VALID), scratch.predict(VALID), rtol=1e-7)


def test_without_its_saved_model_a_promotion_boosts_from_scratch(tmp_path: Path) -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    promoted = evolve(job, budget=9, previous_budget=3, resume_from=job.id)
    reports: list[tuple[float, float]] = []
    cb = XGBoostCallback(Context(promoted, tmp_path, reports))
    assert (cb.xgb_model, cb.num_boost_round) == (None, 9)
    assert boost({}, cb).num_boosted_rounds() == 9
    assert [s for s, _ in reports] == list(range(4, 10))  # the curve never goes back


def test_a_stopped_job_stops_training_cleanly() -> None:
    result = boosting_checks.study(objective, SPACE, early_stop="median")
    boosting_checks.check_clean_stops(result, "rounds")


def test_bad_arguments_and_a_training_without_a_metric_are_named(tmp_path: Path) -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    context = Context(job, tmp_path, [])
    boosting_checks.check_argument_errors(XGBoostCallback, context)
    with pytest.raises(ConfigurationError, match=r"pass evals=\[\(dvalid, 'valid'\)\]"):
        boost({}, XGBoostCallback(context), evals=[])
    computed = "train/logloss, valid/logloss"
    with pytest.raises(ConfigurationError, match=rf"no metric 'auc' .*{computed}"):
        boost({}, XGBoostCallback(context, "auc"))
    with pytest.raises(ConfigurationError, match=rf"dataset 'test'.*{computed}"):
        boost({}, XGBoostCallback(context, dataset="test"))
    with pytest.raises(ConfigurationError, match=r"past the job's 1 rounds: pass num_boost"):
        boost({}, XGBoostCallback(context), num_boost_round=5)
    with pytest.raises(ConfigurationError, match=r"not xgboost\.cv"):
        xgb.cv(FIXED, TRAIN, num_boost_round=1, callbacks=[XGBoostCallback(context)])


def test_a_promotion_that_does_not_pass_the_saved_model_is_named(tmp_path: Path) -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    boost({}, XGBoostCallback(Context(job, tmp_path, [])))
    promoted = evolve(job, budget=3, previous_budget=1, resume_from=job.id)
    cb = XGBoostCallback(Context(promoted, tmp_path, []))
    with pytest.raises(ConfigurationError, match=r"starts with 0 rounds, expected 1: pass xgb_"):
        boost({}, cb, xgb_model=None)


def test_the_metric_and_dataset_to_report_can_be_chosen(tmp_path: Path) -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    job = evolve(job, budget=3)
    history: dict[str, Any] = {}
    params = {"eval_metric": ["logloss", "auc"]}
    for metric, dataset in ((None, None), ("logloss", "train"), ("logloss", None)):
        reports: list[tuple[float, float]] = []
        folder = tmp_path / f"{metric}-{dataset}"
        folder.mkdir()
        cb = XGBoostCallback(Context(job, folder, reports), metric, dataset=dataset)
        boost(params, cb, evals_result=history)
        name = dataset or "valid"
        assert [v for _, v in reports] == history[name][metric or "auc"]
        assert cb.value == reports[-1][1]


def classifier(config: dict[str, Any], cb: XGBoostCallback, **kwargs: Any) -> Any:
    """XGBoost's scikit-learn API: the callback in the constructor, the model to continue
    in ``fit``."""
    options = {"n_estimators": cb.num_boost_round, "xgb_model": cb.xgb_model, **kwargs}
    fit = {"xgb_model": options.pop("xgb_model"), "eval_set": options.pop("eval_set", None)}
    if fit["eval_set"] is None:
        fit["eval_set"] = [(X[:400], Y[:400]), (X[400:], Y[400:])]
    model = xgb.XGBClassifier(
        **config,
        **options,
        eval_metric="logloss",
        n_jobs=1,
        random_state=0,
        callbacks=[cb],
    )
    return model.fit(X[:400], Y[:400], verbose=False, **fit)


def sklearn_objective(config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
    cb = XGBoostCallback(context)  # the last eval_set's last metric: validation_1/logloss
    model = classifier({"learning_rate": config["eta"], "max_depth": config["max_depth"]}, cb)
    rounds = model.get_booster().num_boosted_rounds()
    return {"default": cb.value, "rounds": rounds, "resumed": cb.xgb_model}


def test_the_scikit_learn_api_reports_stops_cleanly_and_continues_its_booster() -> None:
    boosting_checks.check_studies(sklearn_objective, SPACE, "rounds")


SAVED = "xgboost_1_rounds.ubj"


def test_a_scikit_learn_model_continued_equals_one_boosted_from_scratch(tmp_path: Path) -> None:
    config = {"learning_rate": 0.2, "max_depth": 3}
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    promoted = boosting_checks.check_continued_equals_scratch(
        lambda cb: classifier(config, cb), XGBoostCallback, job, tmp_path, SAVED, X[400:]
    )
    assert (tmp_path / "xgboost_9_rounds.ubj").exists()
    scratch_dir = tmp_path / "scratch"
    # What the scikit-learn API gets wrong is named with its own arguments.
    with pytest.raises(ConfigurationError, match=r"n_estimators=cb.num_boost_round, and fit"):
        classifier(config, XGBoostCallback(Context(promoted, tmp_path, [])), xgb_model=None)
    with pytest.raises(ConfigurationError, match=r"past the job's 1 rounds.*n_estimators=cb"):
        classifier(config, XGBoostCallback(Context(job, scratch_dir, [])), n_estimators=3)
    with pytest.raises(ConfigurationError, match=r"fit\(\.\.\., eval_set=\[\(X_valid"):
        classifier(config, XGBoostCallback(Context(job, scratch_dir, [])), eval_set=[])


def test_the_digits_example_runs(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "xgboost_digits.py"
    command = [sys.executable, str(example), "--max-budget", "9", "--workers", "1"]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert "best validation mlogloss" in out
    assert "rounds boosted, against" in out
    accuracy = float(out.rsplit("test accuracy of the best configuration: ", 1)[1])
    assert accuracy > 0.8


def test_docstring_examples() -> None:
    assert doctest.testmod(adapter).failed == 0
    assert doctest.testmod(boosting).failed == 0


def test_without_xgboost_the_module_imports_and_the_callback_names_the_extra() -> None:
    boosting_checks.check_missing_engine("xgboost", "XGBoostCallback")
