"""PyTorch Lightning: epochs as the budget (the ``lightning`` extra).

``LightningCallback(context, monitor="val_loss")`` goes into a ``lightning.Trainer``'s
``callbacks`` inside an objective that takes a context (see `hyperband.run`); its
``max_epochs`` and ``ckpt_path`` go to the trainer and to ``fit``::

    cb = LightningCallback(context, monitor="val_loss")
    trainer = lightning.Trainer(max_epochs=cb.max_epochs, callbacks=[cb])
    trainer.fit(model, train_loader, valid_loader, ckpt_path=cb.ckpt_path)
    return cb.value

At the end of every training epoch it reports the monitored metric through
``context.report(epoch, value)`` (the epoch counted from the configuration's first rung: a
resumed trainer's counter goes on); when the stopping rule stops the job it sets
``trainer.should_stop``, so ``fit`` returns after that epoch and the job is recorded as
stopped, not failed; when the job has trained its whole budget it saves a Lightning
checkpoint (``trainer.save_checkpoint``) into the configuration's checkpoint directory, which
a promotion's ``fit(ckpt_path=...)`` restores (weights, optimizers, schedulers, epoch and step
counters) to train only the epochs still missing. Budgets are whole epochs (rounded down, at
least 1). Lightning is imported only when a callback is made. See docs/pytorch.md.

Examples:
    >>> from hyperband.integrations.lightning import rounds
    >>> rounds(9), rounds(3.5), rounds(0.5)
    (9, 3, 1)
"""

from __future__ import annotations

from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.drivers.context import Context
from hyperband.integrations.boosting import RoundsCallback, engine, rounds, with_base
from hyperband.integrations.torch import scalar

__all__ = ["LightningCallback", "rounds"]


class LightningCallback(RoundsCallback):
    """A Lightning ``Callback`` that reports each epoch, stops, saves and resumes.

    Making one imports Lightning, and the object is also a ``lightning.pytorch.Callback``
    (the class gets that base when it is first made, so this module imports without
    Lightning).

    Args:
        context: the objective's `hyperband.Context`.
        monitor: the logged metric to report (``self.log(monitor, ...)`` in the
            LightningModule; a validation metric is there at the end of the epoch when the
            trainer validates every epoch, its default). Run the study in its direction
            (``mode="minimize"`` for a loss).
        save: keep a checkpoint after the job's last epoch, for a promotion to continue
            (``False``: every rung trains from scratch).

    Attributes:
        max_epochs: what to pass to ``Trainer(max_epochs=...)``: the job's budget, rounded
            down (the epochs of earlier rungs included: a resumed trainer counts on).
        ckpt_path: what to pass to ``trainer.fit(ckpt_path=...)``: the checkpoint that the
            configuration's previous rung saved, or ``None`` (a first rung, or no such
            checkpoint: then it trains from scratch, and reports only the epochs past the
            previous rung).
        value: the last reported value (what the objective returns), ``None`` before any.
        stopped: whether the stopping rule stopped the job.

    Raises:
        ModuleNotFoundError: Lightning is not installed (the message names the extra).
        ArgumentTypeError: ``context`` is not a Context, ``monitor`` not a str.
        ConfigurationError: (during ``fit``) ``monitor`` was not logged by the end of an
            epoch; the message lists what was.

    Examples:
        >>> def objective(config, budget, context):
        ...     import lightning
        ...     cb = LightningCallback(context, monitor="val_loss")
        ...     trainer = lightning.Trainer(max_epochs=cb.max_epochs, callbacks=[cb],
        ...                                 logger=False, enable_progress_bar=False)
        ...     trainer.fit(Model(**config), TRAIN, VALID, ckpt_path=cb.ckpt_path)
        ...     return cb.value
    """

    owner = "LightningCallback"
    template = "lightning_{}_epochs.ckpt"
    module = "lightning"

    def __new__(cls, *args: Any, **kwargs: Any) -> LightningCallback:
        base = engine(cls.module or "lightning", cls.owner).pytorch.Callback
        made: LightningCallback = super().__new__(with_base(cls, base))
        return made

    def __init__(self, context: Context, monitor: str = "val_loss", *, save: bool = True):
        if not isinstance(monitor, str):
            raise ArgumentTypeError(
                f"LightningCallback: monitor must be a str, got {describe(monitor)}"
            )
        super().__init__(context, monitor, save=save)
        self.monitor = monitor

    @property
    def max_epochs(self) -> int:
        """The epoch to train to: ``Trainer(max_epochs=...)``."""
        return self._target

    @property
    def ckpt_path(self) -> str | None:
        """The checkpoint to resume: ``trainer.fit(ckpt_path=...)``, or None."""
        return self._resume

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        """Report the monitored metric of this epoch; stop the trainer when the job is
        stopped."""
        if self.stopped:  # min_epochs can keep a stopped trainer going: report no more
            trainer.should_stop = True
            return
        metrics = trainer.callback_metrics
        if self.monitor not in metrics:
            logged = ", ".join(map(repr, sorted(metrics))) or "nothing"
            raise ConfigurationError(
                f"LightningCallback: monitor {self.monitor!r} was not logged by the end of "
                f"epoch {trainer.current_epoch + 1} (logged: {logged}); log it with "
                f"self.log({self.monitor!r}, ...) and validate every epoch"
            )
        value = scalar(metrics[self.monitor], f"LightningCallback: {self.monitor}")
        # current_epoch counts from the configuration's first rung (a resumed checkpoint
        # restores it), and is this epoch's index until the epoch ends.
        if self._report(trainer.current_epoch + 1, value):
            trainer.should_stop = True

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        """Save the checkpoint when the job trained its whole budget."""
        if not self.stopped:
            self._save(trainer.current_epoch, trainer.save_checkpoint)
