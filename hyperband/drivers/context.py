"""The objective's side of ``hyperband.run``: its ``Context``, and one attempt of a job.

``execute`` is what a worker (a thread, a process, a dask worker) runs for each attempt; it
turns the objective's exceptions into an ``Outcome``, so a failing objective fails its job,
never the run.
"""

from __future__ import annotations

import copy
import inspect
import numbers
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from hyperband.core.errors import ArgumentTypeError, describe
from hyperband.core.jobs import EarlyStopped, Job
from hyperband.drivers.executors import worker_label

__all__ = ["Context", "Objective", "Outcome", "execute", "plain", "step_not_past", "takes_context"]

Objective = Callable[..., Any]


class Context:
    """What an objective declaring a third parameter receives.

    Attributes:
        job: the ``Job``; for a promotion ``job.resume_from`` and
            ``job.previous_budget`` say which rung the configuration comes from.
        checkpoint_dir: a directory of this configuration's own, shared by all its jobs (every
            rung it reaches), created before the call. Under ``<journal stem>.checkpoints/``
            with a journal (kept, so a resumed study finds it), else in a temporary directory
            removed when the run ends. By default (``run(keep_checkpoints="best")``) it is
            removed once the configuration can no longer be promoted, unless it is the best.

    Examples:
        >>> def objective(config, budget, context):
        ...     context.report(1, 0.5)        # an intermediate value, kept in the record
        ...     return config["x"] * budget
    """

    def __init__(
        self,
        job: Job,
        checkpoint_dir: Path,
        reports: list[tuple[float, float]],
        reporter: Callable[[Any, Any], str] | None = None,
    ):
        self.job = job
        self.checkpoint_dir = checkpoint_dir
        self._reports = reports
        self._reporter = reporter

    def report(self, step: float, value: float | dict[str, Any]) -> None:
        """Report an intermediate value (a learning curve point); kept in ``JobRecord.reports``.

        With early stopping (``run(early_stop=...)``) the machine judges the report and this
        call raises `hyperband.EarlyStopped` when the job is stopped: catch it to clean up,
        and return (what you return is kept, but the job stays stopped).

        Args:
            step: where in training. With early stopping, in budget units: in the job's
                segment ``(job.previous_budget or 0, job.budget]``, never going back (an epoch
                count, when the budget is epochs). Without, any real number.
            value: the metric there (a number, or a dict with ``"default"`` as for results).

        Raises:
            EarlyStopped: the stopping rule stopped the job.
            ArgumentTypeError: ``step`` or ``value`` is not a real number.
            ConfigurationError: with early stopping, ``step`` is outside the job's segment
                or goes back.
            InvalidResultError: with early stopping, ``value`` is NaN or infinite.
        """
        number = value.get("default") if isinstance(value, dict) else value
        pair: tuple[object, object] = (step, number)
        for name, x in zip(("step", "value"), pair, strict=True):
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                raise ArgumentTypeError(
                    f"report(): {name} must be a real number, got {describe(x)}"
                )
        assert isinstance(number, numbers.Real)
        point = (plain(step), float(number))
        if self._reporter is None:
            self._reports.append(point)
            return
        decision = self._reporter(point[0], value)
        self._reports.append(point)
        if decision == "STOP":
            raise EarlyStopped(self.job.id, point[0], point[1])

    def __repr__(self) -> str:
        return f"Context(job={self.job!r}, checkpoint_dir={str(self.checkpoint_dir)!r})"


def plain(x: object) -> float:
    if isinstance(x, numbers.Integral):
        return int(x)
    assert isinstance(x, numbers.Real)
    return float(x)


@attrs.frozen(slots=False)
class Outcome:
    """What a job attempt sends back from the worker (picklable, small)."""

    value: Any
    error: str | None
    start: float
    end: float
    worker: str
    reports: tuple[tuple[float, float], ...]
    stopped: bool = False  # the objective let EarlyStopped out


def execute(
    objective: Objective,
    job: Job,
    with_context: bool,
    root: str | None,
    reporter: Any = None,
) -> Outcome:
    """Run one attempt of ``job`` in a worker; the objective's exceptions become an outcome."""
    start = time.time()
    worker = worker_label()
    reports: list[tuple[float, float]] = []
    # A copy: the objective may mutate its config, which the machine shares between jobs.
    config = copy.deepcopy(job.config)
    try:
        if with_context:
            assert root is not None
            directory = Path(root) / f"config-{job.config_id}"
            directory.mkdir(parents=True, exist_ok=True)
            value = objective(config, job.budget, Context(job, directory, reports, reporter))
        else:
            value = objective(config, job.budget)
    except EarlyStopped:
        return Outcome(None, None, start, time.time(), worker, tuple(reports), True)
    except Exception:
        return Outcome(None, traceback.format_exc(), start, time.time(), worker, tuple(reports))
    finally:
        if reporter is not None:
            reporter.close()
    return Outcome(value, None, start, time.time(), worker, tuple(reports))


def step_not_past(step: object, mark: float) -> bool:
    """True when a re-run attempt's report is at or before where the earlier attempt got."""
    if type(step) is bool or not isinstance(step, numbers.Real):
        return False  # a bad step: the machine says what is wrong with it
    return float(step) <= mark


def takes_context(objective: Objective) -> bool:
    """True when the objective declares a third positional parameter."""
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):  # some builtins have none: call them with two arguments
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in signature.parameters.values()) >= 3
