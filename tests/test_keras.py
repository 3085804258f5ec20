"""KerasCallback: real Keras 3 training (the jax backend, CPU) in real hyperband studies."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

# Before Keras is first imported: it reads the backend once. jax installs lighter than
# TensorFlow (the extra pins it).
os.environ.setdefault("KERAS_BACKEND", "jax")

import hyperband
from hyperband import ArgumentTypeError, ConfigurationError
from hyperband.core.jobs import Job
from hyperband.core.stopping import StopView
from hyperband.drivers.context import Context
from hyperband.integrations import keras as adapter
from hyperband.integrations.keras import KerasCallback
from tests import boosting_checks
from tests.optional import require

keras = require("keras")

# Keras 3.15's Variable.__array__ takes no copy argument, which numpy 2 warns about when
# model.save converts a variable (the suite makes warnings errors).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

ROOT = Path(__file__).resolve().parent.parent
BATCH = 32
_data = np.random.default_rng(0)
X = _data.normal(size=(96, 4)).astype("float32")
Y = (X @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * _data.normal(size=96)).astype("float32")
XV, YV = X[64:], Y[64:]
X, Y = X[:64], Y[:64]
STEPS = len(X) // BATCH  # optimizer steps per epoch
SPACE = {"learning_rate": {"_type": "loguniform", "_value": [0.003, 0.1]}}


def build(learning_rate: float = 0.03) -> Any:
    """A tiny seeded MLP. Eager (``jit_compile=False``): compiling each study's model with
    XLA takes longer than training it on this data."""
    init = keras.initializers.GlorotUniform
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu", kernel_initializer=init(seed=1)),
            keras.layers.Dense(1, kernel_initializer=init(seed=2)),
        ]
    )
    model.compile(keras.optimizers.Adam(learning_rate), "mse", jit_compile=False)
    return model


def fit(model: Any, cb: KerasCallback, **kwargs: Any) -> Any:
    options = {"epochs": cb.epochs, "initial_epoch": cb.initial_epoch, **kwargs}
    model.fit(X, Y, batch_size=BATCH, shuffle=False, verbose=0, callbacks=[cb], **options)
    return model


def trained_epochs(model: Any) -> int:
    """The epochs a model holds, from its optimizer's step count (saved with it)."""
    return int(model.optimizer.iterations) // STEPS


def objective(config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
    cb = KerasCallback(context)  # val_loss
    model = cb.load_or_build(lambda: build(config["learning_rate"]))
    fit(model, cb, validation_data=(XV, YV))
    return {"default": cb.value, "epochs": trained_epochs(model), "resumed": cb.resume_path}


def study(**kwargs: Any) -> hyperband.RunResult:
    return boosting_checks.study(objective, SPACE, **kwargs)


def evolve(job: Job, **changes: Any) -> Job:
    return attrs.evolve(job, **changes)


def first_job(**changes: Any) -> Job:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    return evolve(job, **changes)


def test_promotions_continue_their_model_and_report_every_epoch() -> None:
    # Budgets 1, 2, 4 epochs: 14 jobs, 4 promotions, one of them a promoted job's.
    result = study(max_budget=4, eta=2)
    assert [r.error for r in result.history if r.error] == []
    boosting_checks.check_rounds_and_promotions(result, "epochs", max_budget=4)


class StopAtSecondEpoch:
    """Stops every 3-epoch job of the odd configurations at epoch 2: a deterministic STOP."""

    def should_stop(self, view: StopView) -> bool:
        return view.job.budget == 3 and view.step == 2 and view.job.config_id % 2 == 1


def test_a_stopped_job_stops_training_cleanly() -> None:
    # Budgets 1 and 3 epochs: 3@1 1@3 | 2@3, 6 jobs.
    result = study(max_budget=3, early_stop=StopAtSecondEpoch())
    boosting_checks.check_clean_stops(result, "epochs")
    stopped = [r.job for r in result.history if r.status == "stopped"]
    assert all(job.config_id % 2 == 1 for job in stopped)


def test_a_continued_model_equals_one_trained_in_one_go(tmp_path: Path) -> None:
    job = first_job()
    first = KerasCallback(Context(job, tmp_path, []), "loss")
    assert (first.resume_path, first.initial_epoch, first.epochs) == (None, 0, 1)
    fit(first.load_or_build(build), first)
    # The same configuration promoted to 9 epochs continues the 1-epoch model.
    promoted = evolve(job, budget=9, previous_budget=1, resume_from=job.id)
    reports: list[tuple[float, float]] = []
    cb = KerasCallback(Context(promoted, tmp_path, reports), "loss")
    assert cb.resume_path == str(tmp_path / "keras_1_epochs.keras")
    assert (cb.initial_epoch, cb.epochs) == (1, 9)
    continued = fit(cb.load_or_build(build), cb)
    assert [s for s, _ in reports] == list(range(2, 10))
    assert trained_epochs(continued) == 9
    assert (tmp_path / "keras_9_epochs.keras").exists()
    assert not list(tmp_path.glob("partial-*"))
    # Weights and optimizer state were saved whole: the same as 9 epochs in one go.
    history = build().fit(X, Y, batch_size=BATCH, shuffle=False, verbose=0, epochs=9)
    assert cb.value == pytest.approx(history.history["loss"][-1], rel=1e-5)
    scratch = build()
    scratch.fit(X, Y, batch_size=BATCH, shuffle=False, verbose=0, epochs=9)
    for mine, theirs in zip(continued.get_weights(), scratch.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_without_its_saved_model_a_promotion_trains_from_scratch(tmp_path: Path) -> None:
    promoted = first_job(budget=9, previous_budget=3, resume_from=0)
    reports: list[tuple[float, float]] = []
    cb = KerasCallback(Context(promoted, tmp_path, reports), "loss", save=False)
    assert (cb.resume_path, cb.initial_epoch, cb.epochs) == (None, 0, 9)
    model = fit(cb.load_or_build(build), cb)
    assert trained_epochs(model) == 9
    assert [s for s, _ in reports] == list(range(4, 10))  # the curve never goes back
    assert not list(tmp_path.iterdir())  # save=False


def test_a_stop_sets_stop_training_and_the_model_is_not_saved(tmp_path: Path) -> None:
    def reporter(step: float, value: object) -> str:
        return "STOP" if step == 2 else "CONTINUE"

    reports: list[tuple[float, float]] = []
    cb = KerasCallback(Context(first_job(budget=3), tmp_path, reports, reporter), "loss")
    model = fit(build(), cb)  # returns: EarlyStopped does not escape fit
    assert cb.stopped
    assert trained_epochs(model) == 2
    assert [s for s, _ in reports] == [1, 2]
    assert cb.value == reports[-1][1]
    assert not list(tmp_path.iterdir())  # a stopped job is never promoted


def test_bad_arguments_and_misuse_are_named(tmp_path: Path) -> None:
    context = Context(first_job(budget=3), tmp_path, [])
    with pytest.raises(ArgumentTypeError, match=r"context must be the objective's .*got 3"):
        KerasCallback(3)  # type: ignore[arg-type]
    for bad in (5, None):
        with pytest.raises(ArgumentTypeError, match=r"monitor must be a non-empty str"):
            KerasCallback(context, bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"monitor must be a non-empty str.*got ''"):
        KerasCallback(context, "")
    with pytest.raises(ArgumentTypeError, match=r"build must be a callable .*got 3"):
        KerasCallback(context).load_or_build(3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"'val_loss' .*computes loss: pass valid"):
        fit(build(), KerasCallback(context))
    with pytest.raises(ConfigurationError, match=r"'val_mae' .*computes loss, val_loss$"):
        fit(build(), KerasCallback(context, "val_mae"), validation_data=(XV, YV))
    with pytest.raises(ConfigurationError, match=r"up to epoch 5, .* 3 epochs: pass epochs="):
        fit(build(), KerasCallback(context, "loss"), epochs=5)
    with pytest.raises(ConfigurationError, match=r"trains epoch 2, .*epochs 1 to 3: pass"):
        fit(build(), KerasCallback(context, "loss"), initial_epoch=1)


def test_a_promotion_that_does_not_train_the_saved_model_is_named(tmp_path: Path) -> None:
    job = first_job()
    fit(build(), KerasCallback(Context(job, tmp_path, []), "loss"))
    promoted = evolve(job, budget=3, previous_budget=1, resume_from=job.id)
    cb = KerasCallback(Context(promoted, tmp_path, []), "loss")
    with pytest.raises(ConfigurationError, match=r"never been trained: train the model of cb"):
        fit(build(), cb)


def test_it_is_a_keras_callback_and_keras_loads_only_when_one_is_made() -> None:
    cb = KerasCallback(Context(first_job(), Path("unused"), []))
    assert isinstance(cb, keras.callbacks.Callback)
    assert isinstance(cb, KerasCallback)
    assert type(cb).__name__ == "KerasCallback"
    code = (
        "import sys\n"
        "import hyperband, hyperband.integrations.keras\n"
        "print(sorted(m for m in ('keras', 'jax') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[]", out.stderr


def test_a_missing_backend_is_raised_as_it_is_not_as_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['tensorflow'] = None\n"
        "from hyperband.integrations.keras import KerasCallback\n"
        "try:\n"
        "    KerasCallback(None)\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name.split('.')[0])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "tensorflow", out.stderr


def test_without_keras_the_module_imports_and_the_callback_names_the_extra() -> None:
    boosting_checks.check_missing_engine("keras", "KerasCallback")


def test_docstring_examples() -> None:
    assert doctest.testmod(adapter).failed == 0


def test_the_digits_example_runs(tmp_path: Path) -> None:
    example = ROOT / "examples" / "keras_digits.py"
    command = [sys.executable, str(example), "--max-budget", "3", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    ).stdout
    assert "best validation loss" in out
    assert "epochs trained, against" in out
    assert "if promotions had trained from scratch" in out
    accuracy = float(out.rsplit("test accuracy of the best configuration: ", 1)[1])
    assert accuracy > 0.5
