"""The checks of the machine's arguments and inputs, one small named function each.

Each returns the value to use, or raises a `HyperbandError` whose message names the argument,
the rule and the value received, before anything changes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperband.core.errors import (
    ArgumentTypeError,
    ConfigurationError,
    InvalidResultError,
    describe,
)
from hyperband.core.jobs import Job
from hyperband.core.sampling import RandomSampler, Sampler, is_sampler

__all__ = [
    "EXEC_MODES",
    "MODES",
    "STEP_TOLERANCE",
    "check_choice",
    "check_iterations",
    "check_sampler",
    "check_seed",
    "check_step",
    "parse_value",
]

MODES = ("maximize", "minimize")
# A report's step this far past its job's budget, relative to the budget, is the budget: a step
# computed as ``fraction * budget`` can land a rounding error past it (27.000000000000004).
STEP_TOLERANCE = 1e-9
EXEC_MODES = ("parallelism", "serial", "asynchronous")


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """``value``, one of ``choices``."""
    if value not in choices:
        raise ConfigurationError(
            f"{name} must be one of {', '.join(map(repr, choices))}, got {describe(value)}"
        )
    assert isinstance(value, str)
    return value


def check_iterations(iterations: object) -> int | None:
    """An int >= 1, or ``None`` for no limit."""
    if iterations is None:
        return None
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral):
        raise ArgumentTypeError(
            f"iterations must be an int >= 1 or None, got {describe(iterations)}"
        )
    if iterations < 1:
        raise ConfigurationError(
            f"iterations must be >= 1 (or None for no limit), got {describe(iterations)}"
        )
    return int(iterations)


def check_seed(seed: object) -> int:
    """An int >= 0; ``None`` draws fresh entropy."""
    if seed is None:
        # Fresh entropy, recorded in the params and the snapshot so the run can be repeated.
        entropy = np.random.SeedSequence().entropy
        assert isinstance(entropy, int)
        return entropy
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ArgumentTypeError(f"seed must be an int >= 0 or None, got {describe(seed)}")
    if seed < 0:
        raise ConfigurationError(f"seed must be >= 0, got {describe(seed)}")
    return int(seed)


def check_sampler(space_or_sampler: object) -> Sampler:
    """A search space's `RandomSampler`, or the sampler given."""
    if isinstance(space_or_sampler, Mapping):
        return RandomSampler(space_or_sampler)
    if is_sampler(space_or_sampler):
        return space_or_sampler  # type: ignore[return-value]
    raise ArgumentTypeError(
        "space_or_sampler must be a search space (a dict in NNI's format) or a sampler "
        f"(an object with sample(rng, n)), got {describe(space_or_sampler)}"
    )


def check_step(job: Job, step: object, last: float | None) -> float:
    """A report's step: in the job's budget segment, and not before its ``last`` report's.

    A step past the budget by at most ``STEP_TOLERANCE`` times the budget (float rounding) is
    taken as the budget itself; a larger overshoot is an error.
    """
    # An int or a float, the common case, skips the slow ABC check (bool is neither type).
    if (
        type(step) is not float
        and type(step) is not int
        and (isinstance(step, bool) or not isinstance(step, numbers.Real))
    ):
        raise ArgumentTypeError(
            f"step for job {job.id} must be a real number, got {describe(step)}"
        )
    t = float(step)
    start = job.previous_budget or 0
    # A NaN or infinite step is never inside the segment: asked only then.
    if not start < t <= job.budget:
        if job.budget < t <= job.budget * (1 + STEP_TOLERANCE):
            return float(job.budget)  # rounding, not an overshoot (`last` is <= the budget)
        if not math.isfinite(t):
            raise ConfigurationError(f"step for job {job.id} must be finite, got {describe(step)}")
        raise ConfigurationError(
            f"step for job {job.id} must be in ({start}, {job.budget}] (its budget segment, "
            f"in budget units), got {describe(step)}"
        )
    if last is not None and t < last:
        raise ConfigurationError(
            f"step for job {job.id} must not go backwards: its last report was at step "
            f"{last:g}, got {describe(step)}"
        )
    return t


def parse_value(job_id: int, value: object) -> tuple[float, dict[str, Any]]:
    """A result's value, and the other keys of a dict one (NNI's metric format)."""
    if type(value) is float and value - value == 0.0:  # a finite float: the common case
        return value, {}
    extra: dict[str, Any] = {}
    raw = value
    if type(value) is dict:
        if "default" not in value:
            raise InvalidResultError(
                f"value for job {job_id} must be a number or a dict with a 'default' key, "
                f"got a dict with keys {sorted(map(str, value))}"
            )
        raw = value["default"]
        extra = {k: v for k, v in value.items() if k != "default"}
    where = "value['default']" if raw is not value else "value"
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
        raise InvalidResultError(
            f"{where} for job {job_id} must be a finite real number, got {describe(raw)}"
        )
    v = float(raw)
    if not math.isfinite(v):
        raise InvalidResultError(
            f"{where} for job {job_id} must be finite (not NaN or inf), got {describe(raw)}"
        )
    return v, extra
