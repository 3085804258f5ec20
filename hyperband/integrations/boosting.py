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

from hyperband.core.errors import ArgumentTypeError, describe
from hyperband.core.jobs import EarlyStopped
from hyperband.drivers.context import Context

__all__ = ["RoundPlan", "check_arguments", "engine", "rounds"]


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


class RoundPlan:
    """The rounds one job boosts, the model it continues, its reports and its save.

    Args:
        context: the objective's Context.
        template: the saved model's file name, with ``{}`` for its number of rounds.

    Attributes:
        target: the rounds the booster holds after the job's last round.
        start: the rounds the booster holds before the job's first round (those of
            ``resume``, or 0).
        resume: the path of the previous rung's model to continue, or ``None``.
        stopped: whether the stopping rule stopped the job.

    Examples:
        >>> import tempfile, pathlib
        >>> from hyperband import Hyperband
        >>> job = Hyperband({"x": {"_type": "uniform", "_value": [0, 1]}}, 9).ask()
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> plan = RoundPlan(Context(job, folder, []), "model_{}.txt")
        >>> plan.start, plan.target, plan.resume
        (0, 1, None)
    """

    def __init__(self, context: Context, template: str) -> None:
        self.context = context
        self.template = template
        job = context.job
        self.target = rounds(job.budget)
        self._previous = 0.0 if job.previous_budget is None else float(job.previous_budget)
        done = 0 if job.previous_budget is None else rounds(job.previous_budget)
        saved = self.path(done)
        if done and done < self.target and saved.exists():
            self.resume: Path | None = saved
            self.start = done
        else:
            self.resume = None
            self.start = 0
        self.stopped = False

    @property
    def missing(self) -> int:
        """The rounds to boost: the target minus what the resumed model holds."""
        return self.target - self.start

    def path(self, n_rounds: int) -> Path:
        """Where the model of ``n_rounds`` rounds is saved."""
        return self.context.checkpoint_dir / self.template.format(n_rounds)

    def report(self, step: int, value: float) -> bool:
        """Report round ``step`` (rounds boosted so far); whether the job is now stopped.

        A round the previous rung already reported (a booster re-trained from scratch) is
        not reported again.
        """
        if step <= self._previous:
            return False
        try:
            self.context.report(step, value)
        except EarlyStopped:
            self.stopped = True
        return self.stopped

    def save(self, step: int, write: Callable[[str], object]) -> None:
        """After the job's last round (``step == target``), save the model with ``write``
        (given a file name): whole or not at all, so a promotion never reads half a model."""
        if step != self.target:
            return
        final = self.path(step)
        # The same extension: XGBoost picks the format from it.
        scratch = final.with_name(f"partial-{final.name}")
        write(str(scratch))
        scratch.replace(final)
