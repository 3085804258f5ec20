"""LightningCallback: real Lightning training in a real hyperband study."""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import attrs
import pytest

import hyperband
from hyperband import ArgumentTypeError, ConfigurationError
from hyperband.drivers.context import Context
from hyperband.integrations import lightning as adapter
from hyperband.integrations.lightning import LightningCallback
from tests import boosting_checks
from tests.optional import require
from tests.torch_checks import StopOddConfigs, check_example, load_example, promoted

lightning = require("lightning")
torch = require("torch")
require("sklearn")

# Lightning 2.6 calls torch 2.13's deprecated LeafSpec; the suite turns warnings into errors.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning"
)
SPACE = {"lr": {"_type": "loguniform", "_value": [0.01, 0.3]}}


@pytest.fixture(scope="module")
def example() -> Any:
    return load_example("lightning_digits")


def test_a_study_resumes_promotions_and_stops_jobs_cleanly(
    example: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    check_example(example.main(9, workers=2, early_stop=StopOddConfigs()), capsys)


def fit(example: Any, context: Context, seed: int = 0, **options: Any) -> Any:
    """One job's training of the example's model: the trainer and the model."""
    cb = LightningCallback(context, options.pop("monitor", "val_loss"))
    trainer = lightning.Trainer(max_epochs=cb.max_epochs, callbacks=[cb], **example.QUIET)
    model = example.MLP(hidden=8, lr=0.01, dropout=0.0, seed=seed, **options)
    # One batch an epoch: the shuffled order restarts with each fit.
    data = example.Digits(batch_size=2048)
    trainer.fit(model, datamodule=data, ckpt_path=cb.ckpt_path)
    return cb, trainer, model


def test_a_promotion_continues_the_weights_and_the_epoch_count(
    example: Any, tmp_path: Path
) -> None:
    job = attrs.evolve(hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask(), budget=1)
    first, trainer, _ = fit(example, Context(job, tmp_path, []))
    assert (first.max_epochs, first.ckpt_path, trainer.current_epoch) == (1, None, 1)
    saved = tmp_path / "lightning_1_epochs.ckpt"
    assert saved.exists()
    steps = trainer.global_step
    reports: list[tuple[float, float]] = []
    cb, trainer, model = fit(example, Context(promoted(job, 3), tmp_path, reports))
    assert cb.ckpt_path == str(saved)
    assert [step for step, _ in reports] == [2, 3]
    assert (trainer.current_epoch, trainer.global_step) == (3, 3 * steps)
    assert (tmp_path / "lightning_3_epochs.ckpt").exists()
    # The same as three epochs in one go (but for the order of a sum): weights and optimizer
    # state restored.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    straight: list[tuple[float, float]] = []
    _, _, reference = fit(example, Context(attrs.evolve(job, budget=3), scratch, straight))
    assert [step for step, _ in straight] == [1, 2, 3]
    for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.allclose(mine, theirs, rtol=0, atol=1e-6)


def test_a_stop_ends_fit_after_that_epoch_without_saving(example: Any, tmp_path: Path) -> None:
    def stop_at_2(step: Any, value: Any) -> str:
        return "STOP" if step == 2 else "CONTINUE"

    job = attrs.evolve(hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask(), budget=9)
    reports: list[tuple[float, float]] = []
    cb, trainer, _ = fit(example, Context(job, tmp_path, reports, stop_at_2))
    assert cb.stopped
    assert [step for step, _ in reports] == [1, 2]
    assert trainer.current_epoch == 2
    assert cb.value == reports[-1][1]
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_and_an_unlogged_monitor_are_named(example: Any, tmp_path: Path) -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    context = Context(job, tmp_path, [])
    with pytest.raises(ArgumentTypeError, match=r"context must be the objective's .*got 3"):
        LightningCallback(3)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"monitor must be a str, got None"):
        LightningCallback(context, None)  # type: ignore[arg-type]
    with pytest.raises(
        ConfigurationError,
        match=r"monitor 'val_acc' was not logged .*epoch 1 \(logged: 'val_loss'\)",
    ):
        fit(example, context, monitor="val_acc")


def test_it_is_a_lightning_callback() -> None:
    job = hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask()
    one = LightningCallback(Context(job, Path("."), []))
    two = LightningCallback(Context(job, Path("."), []))
    assert isinstance(one, lightning.pytorch.Callback)
    assert isinstance(one, LightningCallback)
    assert type(one) is type(two)
    assert one.state_key == "LightningCallback"


def test_docstring_examples() -> None:
    assert doctest.testmod(adapter).failed == 0


def test_without_lightning_the_module_imports_and_the_callback_names_the_extra() -> None:
    boosting_checks.check_missing_engine("lightning", "LightningCallback")
