"""Boosting rounds as the budget: what the LightGBM and XGBoost callbacks share.

A job of a configuration trains its booster up to ``rounds(job.budget)`` rounds. On a
promotion the configuration's previous rung saved its booster in the checkpoint directory
after ``rounds(job.previous_budget)`` rounds: the job continues that model with only the
missing rounds; without it (not saved, or the file is gone) it boosts from scratch and
reports only the rounds past the previous rung, so the learning curve never goes back.

Examples:
    >>> from hyperband.integrations.boosting import rounds
    >>> rounds(9), rounds(3.5), rounds(0.5)
    (9, 3, 1)
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.jobs import EarlyStopped
from hyperband.drivers.context import Context

__all__ = [
    "RoundsCallback",
    "check_arguments",
    "engine",
    "no_such_metric",
    "rounds",
    "with_base",
]


def rounds(budget: float) -> int:
    """The boosting rounds a budget allows: rounded down, at least 1."""
    return max(1, math.floor(budget + 1e-9))


def engine(module: str, owner: str) -> Any:
    """Import the boosting library ``module`` (also the name of the extra that installs
    it), or raise `ModuleNotFoundError` with the install line."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModuleNotFoundError(
            f"{owner} needs {module}: pip install 'hyperband[{module}]'", name=module
        ) from None


def with_base(cls: type[Any], base: type[Any]) -> type[Any]:
    """``cls`` with a framework's callback class as a further base, made once per class and
    kept on it (every callback of a class has one type). Frameworks that call every hook or
    check ``isinstance`` need a real subclass; deriving it here keeps them out of imports."""
    if issubclass(cls, base):
        return cls
    made: type[Any] | None = cls.__dict__.get("_with_base")
    if made is None or not issubclass(made, base):
        names = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        made = type(cls.__name__, (cls, base), {**names, "__doc__": cls.__doc__})
        cls._with_base = made
    return made


def check_arguments(owner: str, context: object, **names: object) -> Context:
    """``context`` as a Context, each of ``names`` a str or None, or `ArgumentTypeError`."""
    if not isinstance(context, Context):
        raise ArgumentTypeError(
            f"{owner}: context must be the objective's hyperband Context (declare a third "
            f"parameter: objective(config, budget, context)), got {describe(context)}"
        )
    for name, value in names.items():
        if value is not None and not isinstance(value, str):
            raise ArgumentTypeError(f"{owner}: {name} must be a str or None, got {describe(value)}")
    return context


def no_such_metric(owner: str, metric: str | None, dataset: str | None, computed: str) -> Exception:
    """The error for a metric or dataset that the training does not compute."""
    return ConfigurationError(
        f"{owner}: no metric {metric!r} on dataset {dataset!r}; this training computes {computed}"
    )


class RoundsCallback:
    """The base of the boosting callbacks: the rounds one job boosts, the model it
    continues, its reports and its save.

    A subclass names itself (``owner``) and its saved model's file (``template``, with
    ``{}`` for the number of rounds), and calls `_report` and `_save` after each round.

    Attributes:
        num_boost_round: the rounds to boost: the job's budget minus what the resumed
            model already holds.
        value: the last reported value (what the objective returns), ``None`` before any.
        stopped: whether the stopping rule stopped the job.

    Examples:
        >>> import tempfile, pathlib
        >>> from hyperband import Hyperband
        >>> job = Hyperband({"x": {"_type": "uniform", "_value": [0, 1]}}, 9).ask()
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> cb = RoundsCallback(Context(job, folder, []))
        >>> cb.num_boost_round, cb._resume
        (1, None)
    """

    owner = "RoundsCallback"
    template = "model_{}_rounds"
    module: str | None = None  # the boosting library, imported when a callback is made

    def __init__(
        self,
        context: Context,
        metric: str | None = None,
        *,
        dataset: str | None = None,
        save: bool = True,
    ) -> None:
        self._engine: Any = None if self.module is None else engine(self.module, self.owner)
        self._adopt()
        self.context = check_arguments(self.owner, context, metric=metric, dataset=dataset)
        self.metric = metric
        self.dataset = dataset
        self.save = bool(save)
        job = context.job
        self._target = rounds(job.budget)
        self._previous = 0.0 if job.previous_budget is None else float(job.previous_budget)
        done = 0 if job.previous_budget is None else rounds(job.previous_budget)
        saved = self._path(done)
        resumes = 0 < done < self._target and saved.exists()
        # The rounds the booster holds before the job's first round.
        self._start = done if resumes else 0
        self._resume = str(saved) if resumes else None
        self.num_boost_round = self._target - self._start
        self.value: float | None = None
        self.stopped = False

    def _adopt(self) -> None:
        """What a subclass needs of its library before the arguments are checked."""

    def _path(self, n_rounds: int) -> Path:
        return self.context.checkpoint_dir / self.template.format(n_rounds)

    def _report(self, step: int, value: float) -> bool:
        """Report round ``step`` (rounds boosted so far); whether the job is now stopped.

        A round the previous rung already reported (a booster re-trained from scratch) is
        not reported again.
        """
        self.value = value
        if step <= self._previous:
            return False
        try:
            self.context.report(step, value)
        except EarlyStopped:
            self.stopped = True
        return self.stopped

    def _save(self, step: int, write: Callable[[str], object]) -> None:
        """After the job's last round (``step`` is the target), save the model with
        ``write`` (given a file name): whole or not at all, so that a promotion never reads
        half a model."""
        if not self.save or step != self._target:
            return
        final = self._path(step)
        # The same extension: XGBoost picks the format from it.
        scratch = final.with_name(f"partial-{final.name}")
        write(str(scratch))
        scratch.replace(final)
