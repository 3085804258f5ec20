"""LightGBMCallback: real LightGBM training in real hyperband studies."""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband import ArgumentTypeError, ConfigurationError
from hyperband.drivers.context import Context
from hyperband.integrations import lightgbm as adapter
from hyperband.integrations.lightgbm import LightGBMCallback
from tests.optional import missing_reason, require, run_without

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
    options: dict[str, Any] = {"max_budget": 27, "eta": 3, "mode": "minimize", "seed": 0}
    return hyperband.run(objective, SPACE, progress=False, workers=2, **{**options, **kwargs})


def test_promotions_continue_their_booster_and_report_every_round() -> None:
    result = study()
    assert result.n_failed == 0
    promoted = [r for r in result.history if r.job.previous_budget is not None]
    assert promoted
    for rec in result.history:
        start = int(rec.job.previous_budget or 0)
        # Every round of this rung reported, counted from the configuration's first round.
        assert [s for s, _ in rec.reports] == list(range(start + 1, int(rec.job.budget) + 1))
        assert rec.extra["trees"] == rec.job.budget  # the earlier rungs' trees included
        assert rec.value == rec.reports[-1][1]
    # A promotion started from the model its previous rung saved, not from scratch.
    assert all(r.extra["resumed"] for r in promoted)
    assert result.best is not None
    assert result.best.budget == 27


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
    result = study(early_stop="median")
    assert result.n_failed == 0
    stopped = [r for r in result.history if r.status == "stopped"]
    assert stopped
    for rec in stopped:
        # It stopped at a report before its budget, and nothing was reported after it.
        assert rec.reports[-1][0] < rec.job.budget
        assert rec.value == rec.reports[-1][1]
        # lightgbm.train returned the booster as it was, and the objective returned (the
        # runner keeps what a stopped job returned under "returned").
        assert "after_stop" not in rec.extra
        assert rec.extra["stopped_at"] == rec.reports[-1][0]
        assert rec.extra["returned"]["trees"] == rec.reports[-1][0]


def test_bad_arguments_and_a_training_without_a_metric_are_named(tmp_path: Path) -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    context = Context(job, tmp_path, [])
    with pytest.raises(ArgumentTypeError, match=r"context must be the objective's .*got 3"):
        LightGBMCallback(3)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"metric must be a str or None, got 5"):
        LightGBMCallback(context, 5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="pass valid_sets"):
        boost({}, LightGBMCallback(context), valid_sets=None)
    with pytest.raises(ConfigurationError, match=r"no metric 'auc' .*valid_0/binary_logloss"):
        boost({}, LightGBMCallback(context, "auc"))


def test_docstring_examples() -> None:
    assert doctest.testmod(adapter).failed == 0


def test_without_lightgbm_the_module_imports_and_the_callback_names_the_extra() -> None:
    assert "'.[lightgbm]'" in missing_reason("lightgbm")
    code = (
        "from hyperband.integrations.lightgbm import LightGBMCallback\n"
        "try:\n"
        "    LightGBMCallback(None)\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name, exc)\n"
    )
    out = run_without("lightgbm", code)
    assert out.strip() == (
        "lightgbm LightGBMCallback needs lightgbm: pip install 'hyperband[lightgbm]'"
    )
