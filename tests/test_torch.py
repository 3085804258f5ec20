"""TorchEpochs: a hand-written PyTorch loop's epochs, resumed, reported, stopped and saved."""

from __future__ import annotations

import doctest
from pathlib import Path
from typing import Any

import attrs
import pytest

import hyperband
from hyperband import ArgumentTypeError, ConfigurationError
from hyperband.drivers.context import Context
from hyperband.integrations import torch as adapter
from hyperband.integrations.torch import TorchEpochs, scalar
from tests import boosting_checks
from tests.optional import require
from tests.torch_checks import promoted

torch = require("torch")

SPACE = {"lr": {"_type": "loguniform", "_value": [0.01, 0.3]}}
X = torch.linspace(-1, 1, 32).reshape(8, 4)
Y = X.sum(dim=1, keepdim=True)


def build(seed: int = 0) -> tuple[Any, Any]:
    generator = torch.Generator().manual_seed(seed)
    model = torch.nn.Linear(4, 1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.uniform_(-1, 1, generator=generator)
    # Momentum: its buffers are the optimizer's state, which a resume must restore too.
    return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def train(context: Context) -> tuple[TorchEpochs, Any]:
    model, optimizer = build()
    epochs = TorchEpochs(context, model=model, optimizer=optimizer)
    for _ in epochs:
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), Y)
        loss.backward()
        optimizer.step()
        epochs.report(loss.detach())
    return epochs, model


def first_job(budget: int = 1) -> hyperband.Job:
    """A configuration's first job, of ``budget`` epochs."""
    return attrs.evolve(hyperband.Hyperband(SPACE, max_budget=9, seed=0).ask(), budget=budget)


def test_a_promotion_continues_the_weights_the_optimizer_and_the_epoch_count(
    tmp_path: Path,
) -> None:
    job = first_job()
    first, _ = train(Context(job, tmp_path, []))
    assert (first.start, first.max_epochs, first.resumed) == (0, 1, None)
    saved = tmp_path / "torch_1_epochs.pt"
    assert saved.exists()
    reports: list[tuple[float, float]] = []
    resumed, model = train(Context(promoted(job, 3), tmp_path, reports))
    assert (resumed.start, resumed.max_epochs, resumed.resumed) == (1, 3, str(saved))
    assert [step for step, _ in reports] == [2, 3]
    assert resumed.value == reports[-1][1]
    assert (tmp_path / "torch_3_epochs.pt").exists()
    # The same as three epochs in one go: the weights and the momentum were restored.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    straight: list[tuple[float, float]] = []
    _, reference = train(Context(first_job(3), scratch, straight))
    assert [step for step, _ in straight] == [1, 2, 3]  # no checkpoint: from scratch
    assert straight[1:] == reports
    for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(mine, theirs)


def test_without_the_previous_checkpoint_it_trains_from_scratch_reporting_only_new_epochs(
    tmp_path: Path,
) -> None:
    reports: list[tuple[float, float]] = []
    epochs, _ = train(Context(promoted(first_job(), 3), tmp_path, reports))
    assert (epochs.start, epochs.resumed) == (0, None)
    assert [step for step, _ in reports] == [2, 3]


def test_save_false_and_break_leave_no_checkpoint(tmp_path: Path) -> None:
    model, _ = build()
    for _ in TorchEpochs(Context(first_job(), tmp_path, []), model=model, save=False):
        pass
    epochs = TorchEpochs(Context(first_job(3), tmp_path, []), model=model)
    for _ in epochs:
        break
    assert list(tmp_path.iterdir()) == []


def test_a_stop_ends_the_loop_after_that_epoch_without_saving(tmp_path: Path) -> None:
    def stop_at_2(step: Any, value: Any) -> str:
        return "STOP" if step == 2 else "CONTINUE"

    reports: list[tuple[float, float]] = []
    epochs, _ = train(Context(first_job(9), tmp_path, reports, stop_at_2))
    assert epochs.stopped
    assert [step for step, _ in reports] == [1, 2]
    assert epochs.value == reports[-1][1]
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    context = Context(first_job(), tmp_path, [])
    model, _ = build()
    with pytest.raises(ArgumentTypeError, match=r"context must be the objective's .*got 3"):
        TorchEpochs(3, model=model)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"name the objects to checkpoint.*got none"):
        TorchEpochs(context)
    with pytest.raises(ArgumentTypeError, match=r"scheduler must have state_dict\(\).*got 0.5"):
        TorchEpochs(context, model=model, scheduler=0.5)
    epochs = TorchEpochs(context, model=model)
    with pytest.raises(ConfigurationError, match="called before the first epoch"):
        epochs.report(1.0)
    for _ in epochs:
        with pytest.raises(ArgumentTypeError, match=r"tensor of one element, got 'low'"):
            epochs.report("low")
        with pytest.raises(ArgumentTypeError, match=r"tensor of one element, got tensor"):
            epochs.report(torch.zeros(2))
        epochs.report(torch.tensor(0.5))
        with pytest.raises(ConfigurationError, match="called twice in epoch 1"):
            epochs.report(0.25)
    assert epochs.value == 0.5
    assert scalar(torch.tensor([2.5])) == 2.5


def test_a_checkpoint_without_a_named_object_is_named(tmp_path: Path) -> None:
    model, optimizer = build()
    for _ in TorchEpochs(Context(first_job(), tmp_path, []), model=model):
        pass
    with pytest.raises(ConfigurationError, match=r"has no 'optimizer' \(it holds 'model'\)"):
        TorchEpochs(
            Context(promoted(first_job(), 3), tmp_path, []), model=model, optimizer=optimizer
        )


def test_docstring_examples() -> None:
    assert doctest.testmod(adapter).failed == 0


def test_without_torch_the_module_imports_and_the_helper_names_the_extra() -> None:
    boosting_checks.check_missing_engine("torch", "TorchEpochs")
