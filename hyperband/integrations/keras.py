"""Keras 3: epochs as the budget (the ``keras`` extra).

``KerasCallback(context)`` goes into ``model.fit(..., callbacks=[cb])`` inside an objective
that takes a context (see `hyperband.run`), with ``epochs=cb.epochs`` and
``initial_epoch=cb.initial_epoch``, and the model from ``cb.load_or_build(build)``. It

- reports the monitored value (``"val_loss"`` by default) after every epoch through
  ``context.report(epoch, value)``, the epoch counted from the configuration's first rung,
  so the budget is the number of epochs;
- stops training cleanly when the stopping rule stops the job (``run(early_stop=...)``): it
  sets ``model.stop_training``, Keras's own way to end ``fit`` after the epoch, so ``fit``
  returns and the objective returns as usual (the job is recorded as stopped, not failed);
- saves the model (a ``.keras`` file: weights, optimizer state and compile arguments) into
  the configuration's checkpoint directory after its last epoch, and on a promotion
  ``load_or_build`` loads that model, so the promoted job trains only the epochs still
  missing, from where the previous rung ended.

The rules are those of the boosting callbacks (`hyperband.integrations.boosting`), with
epochs for rounds: a budget is rounded down to whole epochs, at least 1; without the saved
model (not saved, or removed) a promotion trains from scratch and reports only the epochs
past the previous rung, so the learning curve never goes back.

Any Keras 3 backend works; the tests run jax on the CPU. Choose it before Keras is first
imported (``os.environ["KERAS_BACKEND"] = "jax"``). This module imports Keras only when a
callback is made, so it imports without it.

Examples:
    >>> from hyperband.integrations.keras import epochs
    >>> epochs(9), epochs(3.5), epochs(0.5)
    (9, 3, 1)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.drivers.context import Context
from hyperband.integrations.boosting import RoundsCallback, with_base
from hyperband.integrations.boosting import rounds as epochs

__all__ = ["KerasCallback", "epochs"]


def _keras(owner: str) -> Any:
    """Import Keras, or raise `ModuleNotFoundError` naming the extra when it is missing.

    Another missing module (the backend that ``KERAS_BACKEND`` or ``keras.json`` names,
    TensorFlow by default) is raised as it is: the extra would not bring it.
    """
    try:
        return importlib.import_module("keras")
    except ImportError as exc:
        if exc.name != "keras":
            raise
        raise ModuleNotFoundError(
            f"{owner} needs keras: pip install 'hyperband[keras]'", name="keras"
        ) from None


class KerasCallback(RoundsCallback):
    """A Keras 3 callback for ``model.fit``: per-epoch reports, clean stops, resumes.

    Made, it is also a ``keras.callbacks.Callback`` (the class is derived when the callback
    is made, so this module does not import Keras).

    Args:
        context: the `hyperband.Context` the objective received.
        monitor: the key of the epoch's logs to report (``"val_loss"``,
            ``"val_accuracy"``, ``"loss"``, ...), as Keras's ``EarlyStopping`` names it. A
            ``val_`` key needs ``validation_data`` (or ``validation_split``). Run the study
            in its direction: ``mode="minimize"`` for a loss.
        save: keep the model in the checkpoint directory after the job's last epoch, for a
            promotion to continue (``False``: every rung trains from scratch).

    Attributes:
        epochs: pass it as ``model.fit(epochs=...)``: the job's budget in epochs, counted
            from the configuration's first rung (Keras's ``epochs`` is where training ends).
        initial_epoch: pass it as ``model.fit(initial_epoch=...)``: the epochs the model of
            ``load_or_build`` already holds (0 for a fresh model).
        resume_path: the path of the model that the configuration's previous rung saved,
            or ``None`` (first rung, or no saved model: then training starts afresh).
        value: the last reported value (what the objective returns), ``None`` before any.
        stopped: ``True`` once the stopping rule has stopped the job.

    Raises:
        ModuleNotFoundError: Keras is not installed (the message names the extra).
        ArgumentTypeError: ``context`` is not a Context, or ``monitor`` not a str.
        ConfigurationError: ``monitor`` is empty.

    Examples:
        >>> def objective(config, budget, context):
        ...     cb = KerasCallback(context, "val_loss")
        ...     model = cb.load_or_build(lambda: build(config))  # compiled
        ...     model.fit(X, Y, validation_data=(XV, YV), verbose=0, callbacks=[cb],
        ...               epochs=cb.epochs, initial_epoch=cb.initial_epoch)
        ...     return cb.value
    """

    owner = "KerasCallback"
    template = "keras_{}_epochs.keras"  # Keras saves a whole model only as .keras
    module = "keras"
    # Keras's Callback sets these (annotations only: nothing here hides them).
    model: Any
    params: dict[str, Any] | None

    def __new__(cls, *args: Any, **kwargs: Any) -> KerasCallback:
        # Keras calls every hook of a callback and syncs the jax state in Callback.model.
        made: type[KerasCallback] = with_base(cls, _keras(cls.owner).callbacks.Callback)
        return super().__new__(made)

    def __init__(self, context: Context, monitor: str = "val_loss", *, save: bool = True):
        if not isinstance(monitor, str) or not monitor:
            error = ConfigurationError if monitor == "" else ArgumentTypeError
            raise error(
                f"{self.owner}: monitor must be a non-empty str, a key of the epoch's logs "
                f"such as 'val_loss', got {describe(monitor)}"
            )
        super().__init__(context, monitor, save=save)
        self._engine.callbacks.Callback.__init__(self)
        self.monitor = monitor
        self._next = self._start  # the epoch fit must train next

    @property
    def epochs(self) -> int:
        """The epoch at which the job's training ends: ``model.fit(epochs=...)``."""
        return self._target

    @property
    def initial_epoch(self) -> int:
        """The epoch the job's training starts at: ``model.fit(initial_epoch=...)``."""
        return self._start

    @property
    def resume_path(self) -> str | None:
        """The previous rung's saved model that a promotion continues, or None."""
        return self._resume

    def load_or_build(self, build: Callable[[], Any], **load_options: Any) -> Any:
        """The model to train: the previous rung's, loaded, or ``build()``'s.

        Args:
            build: makes a fresh compiled model, called only without a model to continue.
            **load_options: for ``keras.saving.load_model`` (``custom_objects``, ...).

        Raises:
            ArgumentTypeError: ``build`` is not callable.
        """
        if not callable(build):
            raise ArgumentTypeError(
                f"{self.owner}.load_or_build: build must be a callable that makes a "
                f"compiled model, got {describe(build)}"
            )
        if self._resume is None:
            return build()
        return self._engine.saving.load_model(self._resume, **load_options)

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        """Check that fit trains the job's epochs, and a promotion the saved model."""
        planned = (self.params or {}).get("epochs")
        if planned is not None and planned != self._target:
            raise ConfigurationError(
                f"{self.owner}: fit trains up to epoch {planned}, the job's budget is "
                f"{self._target} epochs: pass epochs=cb.epochs to model.fit"
            )
        optimizer = getattr(self.model, "optimizer", None)
        steps = getattr(optimizer, "iterations", None)
        if self._start > 0 and steps is not None and int(steps) == 0:
            raise ConfigurationError(
                f"{self.owner}: initial_epoch is {self._start} but the model has never been "
                "trained: train the model of cb.load_or_build(build), which loads the "
                "previous rung's"
            )

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Check that the epoch is the next of the job's: otherwise the epochs would not be
        the budget's."""
        if epoch != self._next or epoch >= self._target:
            raise ConfigurationError(
                f"{self.owner}: fit trains epoch {epoch + 1}, but the job trains epochs "
                f"{self._next + 1} to {self._target}: pass epochs=cb.epochs and "
                "initial_epoch=cb.initial_epoch to model.fit"
            )

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Report the epoch's value; stop training when the job is stopped; save the model
        after the job's last epoch."""
        step = epoch + 1  # epochs trained so far, the earlier rungs' included
        self._next = step
        if self._report(step, self._pick(logs or {})):
            self.model.stop_training = True  # fit returns after this epoch
            return
        self._save(step, self.model.save)

    def _pick(self, logs: Mapping[str, Any]) -> float:
        """The monitored value among the epoch's logs."""
        if self.monitor in logs:
            return float(logs[self.monitor])
        hint = ""
        if self.monitor.startswith("val_") and not any(k.startswith("val_") for k in logs):
            hint = ": pass validation_data=(x, y) to model.fit"
        computed = ", ".join(logs) or "nothing"
        raise ConfigurationError(
            f"{self.owner}: monitor {self.monitor!r} is not among the epoch's logs; this "
            f"training computes {computed}{hint}"
        )
