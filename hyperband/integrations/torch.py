"""PyTorch: epochs as the budget for a hand-written training loop (the ``torch`` extra).

``TorchEpochs(context, model=model, optimizer=optimizer)`` goes into an objective that takes a
context (see `hyperband.run`) and drives its epoch loop::

    epochs = TorchEpochs(context, model=model, optimizer=optimizer)
    for epoch in epochs:              # only the epochs this job still has to train
        train_one_epoch(model, optimizer)
        epochs.report(validation_loss(model))
    return epochs.value

It

- loads, on a promotion, the state that the configuration's previous rung saved into the
  objects it was given (``model.load_state_dict``, ``optimizer.load_state_dict``, and any
  other object with ``state_dict``/``load_state_dict``: a learning-rate scheduler, a
  ``GradScaler``), so the loop continues at epoch ``previous_budget + 1`` instead of
  training from scratch;
- reports each epoch's value through ``context.report(epoch, value)``, the epoch counted from
  the configuration's first rung (tensors of one element are taken as numbers);
- ends the loop after the epoch in which the stopping rule stopped the job (``run(
  early_stop=...)``): `hyperband.EarlyStopped` is caught, so the objective returns as usual
  and the job is recorded as stopped;
- saves the objects' ``state_dict()`` into the configuration's checkpoint directory after
  the job's last epoch (whole or not at all, so a promotion never reads half a file).

Budgets are whole epochs: a budget is rounded down (at least 1 epoch); choose ``max_budget``,
``min_budget`` and ``eta`` with integral budgets (27, 1, 3) to train exactly the budget.

This module imports PyTorch only when a `TorchEpochs` is made, so it imports without it.

Examples:
    >>> from hyperband.integrations.torch import scalar
    >>> scalar(0.25), scalar(3)
    (0.25, 3.0)
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.drivers.context import Context
from hyperband.integrations.boosting import RoundsCallback, rounds

__all__ = ["TorchEpochs", "rounds", "scalar"]


def scalar(value: object, owner: str = "report") -> float:
    """``value`` as a float: a real number, or an object of one element with ``item()`` (a
    tensor, a numpy array); else `ArgumentTypeError` naming ``owner``'s argument."""
    number = value
    if not isinstance(value, numbers.Real) and callable(getattr(value, "item", None)):
        try:
            number = value.item()  # type: ignore[attr-defined]
        except (RuntimeError, ValueError):  # more than one element
            number = value
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise ArgumentTypeError(
            f"{owner}: value must be a real number or a tensor of one element, "
            f"got {describe(value)}"
        )
    return float(number)


class TorchEpochs(RoundsCallback):
    """The epochs of one job of a hand-written PyTorch loop: resume, report, stop, save.

    Args:
        context: the objective's `hyperband.Context`.
        save: keep the objects' state in the checkpoint directory after the job's last
            epoch, for a promotion to continue (``False``: every rung trains from scratch).
        **state: the objects to checkpoint, by name: anything with ``state_dict()`` and
            ``load_state_dict()`` (``model=``, ``optimizer=``, ``scheduler=``, ...). Give the
            same names in every rung.

    Attributes:
        start: the epochs the objects hold before the job's first epoch: the previous
            rung's when the job resumed its checkpoint, else 0.
        max_epochs: the epoch the job trains to: its budget, rounded down.
        resumed: the path of the checkpoint loaded into the objects, or ``None`` (a first
            rung, or no such checkpoint: then it trains from scratch, and reports only the
            epochs past the previous rung).
        value: the last reported value (what the objective returns), ``None`` before any.
        stopped: whether the stopping rule stopped the job.

    Raises:
        ModuleNotFoundError: PyTorch is not installed (the message names the extra).
        ArgumentTypeError: ``context`` is not a Context; no object to checkpoint, or one
            without ``state_dict``/``load_state_dict``.
        ConfigurationError: the previous rung's checkpoint lacks one of the names.

    Examples:
        >>> import torch
        >>> def objective(config, budget, context):
        ...     model = torch.nn.Linear(4, 1)
        ...     optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"])
        ...     epochs = TorchEpochs(context, model=model, optimizer=optimizer)
        ...     for epoch in epochs:
        ...         loss = train_one_epoch(model, optimizer)
        ...         epochs.report(loss)  # the study's mode: "minimize"
        ...     return epochs.value
    """

    owner = "TorchEpochs"
    template = "torch_{}_epochs.pt"
    module = "torch"

    def __init__(self, context: Context, *, save: bool = True, **state: Any) -> None:
        super().__init__(context, save=save)
        if not state:
            raise ArgumentTypeError(
                "TorchEpochs: name the objects to checkpoint, as keywords "
                "(TorchEpochs(context, model=model, optimizer=optimizer)), got none"
            )
        for name, thing in state.items():
            if not all(callable(getattr(thing, m, None)) for m in _METHODS):
                raise ArgumentTypeError(
                    f"TorchEpochs: {name} must have state_dict() and load_state_dict() "
                    f"(a module, an optimizer, a scheduler), got {describe(thing)}"
                )
        self._state = state
        self._epoch: int | None = None  # the epoch the loop is in
        self._reported: int | None = None
        if self._resume is not None:
            self._load(self._resume)

    @property
    def start(self) -> int:
        """The epochs trained before the job's first epoch."""
        return self._start

    @property
    def max_epochs(self) -> int:
        """The epoch the job trains to (its budget, rounded down)."""
        return self._target

    @property
    def resumed(self) -> str | None:
        """The checkpoint loaded into the objects, or None."""
        return self._resume

    def __iter__(self) -> Iterator[int]:
        """The epochs to train, ``start + 1`` to ``max_epochs``; it ends after the epoch in
        which the job was stopped, and saves the checkpoint after the last one (not when
        the loop is left with ``break``)."""
        for epoch in range(self._start + 1, self._target + 1):
            self._epoch = epoch
            yield epoch
            if self.stopped:
                return
        self._save(self._target, self._write)

    def report(self, value: object) -> bool:
        """Report this epoch's value (once an epoch); whether the job is now stopped (the
        loop then ends after this epoch).

        Raises:
            ConfigurationError: called outside the loop, or twice in one epoch.
            ArgumentTypeError: ``value`` is not a number or a tensor of one element.
        """
        epoch = self._epoch
        if epoch is None or epoch == self._reported:
            where = "before the first epoch" if epoch is None else f"twice in epoch {epoch}"
            raise ConfigurationError(
                f"TorchEpochs.report: report once an epoch, inside `for epoch in epochs:`; "
                f"it was called {where}"
            )
        number = scalar(value, "TorchEpochs.report")
        self._reported = epoch
        return self.stopped or self._report(epoch, number)

    def _load(self, path: str) -> None:
        saved = self._engine.load(path, map_location="cpu", weights_only=True)
        missing = [name for name in self._state if name not in saved]
        if missing:
            raise ConfigurationError(
                f"TorchEpochs: the checkpoint {path} has no {', '.join(map(repr, missing))} "
                f"(it holds {', '.join(map(repr, sorted(saved)))}): name the same objects "
                "in every rung"
            )
        for name, thing in self._state.items():
            thing.load_state_dict(saved[name])

    def _write(self, path: str) -> None:
        self._engine.save({name: thing.state_dict() for name, thing in self._state.items()}, path)


_METHODS = ("state_dict", "load_state_dict")
