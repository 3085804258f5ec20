"""Smoke tests of the main job, examples/digits.py: tiny budgets, including checkpoint resume."""

from __future__ import annotations

import importlib.util
import json
import pickle
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband

from .optional import require

require("sklearn")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONFIG = {"learning_rate_init": 0.01, "alpha": 1e-4, "hidden_layer_size": 16, "batch_size": 64}


@pytest.fixture(scope="module")
def digits() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("digits_example", EXAMPLES / "digits.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def context(job: hyperband.Job, checkpoint_dir: Path) -> Any:
    reports: list[tuple[float, float]] = []
    return types.SimpleNamespace(
        job=job,
        checkpoint_dir=checkpoint_dir,
        report=lambda step, value: reports.append((step, value)),
        reports=reports,
    )


def job(budget: int, previous: int | None = None) -> hyperband.Job:
    return hyperband.Job(
        id=0 if previous is None else 1,
        config=CONFIG,
        config_id=3,
        budget=budget,
        bracket=1,
        rung=0 if previous is None else 1,
        iteration=0,
        previous_budget=previous,
        resume_from=None if previous is None else 0,
    )


def samples_seen(path: Path) -> int:
    with open(path, "rb") as f:
        return int(pickle.load(f)["model"].t_)


def test_space_file_is_valid(digits: types.ModuleType) -> None:
    space = json.loads((EXAMPLES / "digits_space.json").read_text())
    hyperband.validate_space(space)
    configs = hyperband.RandomSampler(space).sample(np.random.default_rng(0), 4)
    assert all(set(c) == set(CONFIG) for c in configs)
    digits.make_model(configs[0], random_state=0)  # every key is one the model takes


def test_objective_without_context_trains_from_scratch(digits: types.ModuleType) -> None:
    result = digits.objective(CONFIG, 2)
    assert 0.0 <= result["default"] <= 1.0
    assert result["epochs_trained"] == 2
    assert result["resumed"] is False
    # Deterministic: the same configuration and budget give the same model.
    assert digits.objective(CONFIG, 2)["default"] == result["default"]


def test_a_promotion_resumes_from_the_checkpoint(digits: types.ModuleType, tmp_path: Path) -> None:
    n_train = len(digits.load_data()[0])
    first = context(job(2), tmp_path)
    r0 = digits.objective(CONFIG, 2, first)
    assert r0["epochs_trained"] == 2
    assert r0["resumed"] is False
    assert samples_seen(tmp_path / "model-2.pkl") == 2 * n_train
    assert [step for step, _ in first.reports] == [1, 2]

    promoted = context(job(5, previous=2), tmp_path)
    r1 = digits.objective(CONFIG, 5, promoted)
    assert r1["resumed"] is True
    assert r1["epochs_trained"] == 3  # 5 - 2, not 5
    # The saved model continued the checkpoint: it has seen 5 epochs of samples, not 3.
    assert samples_seen(tmp_path / "model-5.pkl") == 5 * n_train
    assert [step for step, _ in promoted.reports] == [3, 4, 5]
    # The previous rung's checkpoint is kept (a retried promotion needs it).
    assert samples_seen(tmp_path / "model-2.pkl") == 2 * n_train


def test_a_promotion_without_its_checkpoint_trains_from_scratch(
    digits: types.ModuleType, tmp_path: Path
) -> None:
    result = digits.objective(CONFIG, 4, context(job(4, previous=2), tmp_path))
    assert result["resumed"] is False
    assert result["epochs_trained"] == 4
    assert samples_seen(tmp_path / "model-4.pkl") == 4 * len(digits.load_data()[0])


def test_a_study_resumes_every_promotion(digits: types.ModuleType) -> None:
    space = json.loads((EXAMPLES / "digits_space.json").read_text())
    result = hyperband.run(
        digits.objective, space, max_budget=3, eta=3, seed=0, executor="serial", progress=False
    )
    assert result.n_failed == 0
    assert result.best is not None
    assert result.best.budget == 3
    for record in result.history:
        promoted = record.job.previous_budget is not None
        assert record.extra["resumed"] is promoted
        expected = record.job.budget - (record.job.previous_budget or 0)
        assert record.extra["epochs_trained"] == expected
        assert len(record.reports) == expected
    trained = sum(r.extra["epochs_trained"] for r in result.history)
    assert trained < sum(r.job.budget for r in result.history)
