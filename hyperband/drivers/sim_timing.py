"""How long a simulated job takes and what it returns: the user's functions, or the defaults."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from hyperband.core.errors import ConfigurationError, describe
from hyperband.core.jobs import Job
from hyperband.drivers.sim_results import Number

__all__ = [
    "DEFAULT_SIGMA",
    "CurveFn",
    "DurationFn",
    "ObjectiveFn",
    "default_duration",
    "finite_time",
    "report_steps",
    "timer",
    "valuer",
]

DurationFn = Callable[[dict[str, Any], Number, "Number | None"], float]
"""``duration(config, budget, previous_budget) -> time``; ``previous_budget`` is ``None`` unless
the job is a promotion resumed from its checkpoint."""
ObjectiveFn = Callable[[dict[str, Any], Number], Any]
CurveFn = Callable[[dict[str, Any], Number], Any]
"""``curve(config, step) -> value``: the value after training to ``step`` (in budget units)."""


# Domain tags keep the per-job random streams of durations and of the default objective apart
# from each other and from the machine's own (seed, iteration, bracket) streams, which use
# two-element spawn keys.
_DURATION_STREAM = 0
_OBJECTIVE_STREAM = 1
DEFAULT_SIGMA = 0.3


def _factor(seed: int, job: Job, sigma: float) -> float:
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(_DURATION_STREAM, job.config_id, job.rung))
    )
    return float(rng.lognormal(0.0, sigma))


def default_duration(seed: int, *, sigma: float = DEFAULT_SIGMA) -> Callable[[Job, bool], float]:
    """The default job duration: the work to do times a LogNormal(0, sigma) factor.

    The work is the job's budget, or ``budget - previous_budget`` for a promotion resumed from
    its checkpoint. The factor is drawn from an RNG derived from ``(seed, config_id, rung)``, so
    a job takes the same time whatever the number of workers or the exec mode.
    """

    def duration(job: Job, resume: bool) -> float:
        work = job.budget
        if resume and job.previous_budget is not None:
            work = job.budget - job.previous_budget
        return float(work) * _factor(seed, job, sigma)

    return duration


def _default_objective(seed: int) -> Callable[[Job], float]:
    # One uniform quality per configuration, the same at every budget: a deterministic stand-in
    # that exercises promotions without pretending to model learning curves.
    def objective(job: Job) -> float:
        rng = np.random.default_rng(
            np.random.SeedSequence(seed, spawn_key=(_OBJECTIVE_STREAM, job.config_id, 0))
        )
        return float(rng.random())

    return objective


def report_steps(job: Job, report_every: float) -> list[Number]:
    """The steps a simulated job reports at: the multiples of ``report_every`` inside its
    segment ``(previous_budget or 0, budget)``, then its budget.

    Examples:
        >>> from hyperband import Job
        >>> report_steps(Job(0, {}, 0, 9, 2, 1, 0, 3, 0), 2)
        [4, 6, 8, 9]
    """
    start = job.previous_budget or 0
    budget = job.budget
    steps: list[Number] = []
    k = math.floor(start / report_every) + 1
    while True:
        t = k * report_every
        # A multiple within rounding of the budget is the budget itself.
        if t >= budget or math.isclose(t, budget, rel_tol=1e-12):
            break
        if t > start:
            steps.append(int(t) if float(t).is_integer() else t)
        k += 1
    steps.append(budget)
    return steps


def timer(duration: DurationFn | None, resume: bool, seed: int) -> Callable[[Job, Number], float]:
    """``time_to(job, step)``: the time ``job`` takes from its start to ``step``."""
    if duration is None:

        def time_to(job: Job, step: Number) -> float:
            start = job.previous_budget if resume and job.previous_budget is not None else 0
            return float(step - start) * _factor(seed, job, DEFAULT_SIGMA)

        return time_to
    user_duration = duration

    def user_time_to(job: Job, step: Number) -> float:
        prev = job.previous_budget if resume else None
        raw = user_duration(job.config, step, prev)
        d = finite_time(raw)
        if d is None:
            raise ConfigurationError(
                f"duration(config, {step!r}, {prev!r}) must return a finite number "
                f">= 0, got {describe(raw)}"
            )
        return d

    return user_time_to


def valuer(
    curve: CurveFn | None, objective: ObjectiveFn | None, seed: int
) -> Callable[[Job, Number], Any]:
    """``job_value(job, step)``: what ``job`` reports at ``step`` (its result at its budget)."""
    if curve is not None:
        user_curve = curve

        def curve_value(job: Job, step: Number) -> Any:
            return user_curve(job.config, step)

        return curve_value
    if objective is None:
        default_objective = _default_objective(seed)

        def default_value(job: Job, step: Number) -> Any:
            return default_objective(job)

        return default_value
    user_objective = objective

    def objective_value(job: Job, step: Number) -> Any:
        return user_objective(job.config, job.budget)

    return objective_value


def finite_time(value: object) -> float | None:
    """``value`` as a float if it is a finite real >= 0, else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    x = float(value)
    return x if math.isfinite(x) and x >= 0 else None
