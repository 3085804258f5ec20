"""simulate(): W workers and a fake clock around the real machine.

A discrete-event simulation: workers ask the real ``Hyperband`` for jobs, each
job occupies its worker for a duration drawn from a user function, and results are told back in
order of completion time. With a learning curve, each job also reports its value every
``report_every`` budget units, and the machine's stopping rule may end it early: its worker is
free from that moment. It answers planning questions ("how long with 16 workers?", "how much
does checkpoint resume save?", "what does early stopping buy?") without running anything, and
it is the yardstick the benchmarks use to compare scheduling policies.

``simulate`` checks its arguments, builds the machine, runs the event loop
(``sim_events.Clock``) with the job timing of ``sim_timing``, and summarises the jobs as a
``SimulationResult`` (``sim_results``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import Sampler, space_or_sampler
from hyperband.drivers.sim_events import Clock
from hyperband.drivers.sim_results import SimulatedJob, SimulationResult, summarise
from hyperband.drivers.sim_timing import (
    CurveFn,
    DurationFn,
    ObjectiveFn,
    default_duration,
    finite_time,
    report_steps,
    timer,
    valuer,
)

__all__ = [
    "CurveFn",
    "DurationFn",
    "SimulatedJob",
    "SimulationResult",
    "default_duration",
    "report_steps",
    "simulate",
]

_DEFAULT_SPACE: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}


def simulate(
    max_budget: float,
    eta: float = 3,
    *,
    workers: int,
    min_budget: float = 1,
    exec_mode: str = "parallelism",
    sizing: str = "li2018",
    iterations: int | None = 1,
    seed: int = 0,
    duration: DurationFn | None = None,
    objective: ObjectiveFn | None = None,
    mode: str = "maximize",
    resume: bool = False,
    space: Mapping[str, Any] | Sampler | None = None,
    integer_budgets: bool = False,
    curve: CurveFn | None = None,
    report_every: float = 1,
    early_stop: Any = None,
    budget_limit: float | None = None,
    sampler: str | Sampler | None = None,
    sampler_options: Mapping[str, Any] | None = None,
    brackets: str = "cycle",
) -> SimulationResult:
    """Simulate ``workers`` workers running a Hyperband study on a fake clock.

    The real [`Hyperband`][hyperband.Hyperband] machine decides everything; the simulation only
    decides how long each job takes. Whenever a worker is free it asks the machine for a job;
    when a job's time is up its result is told. Events at the same time are handled in job id
    order, so a simulation is fully deterministic for a given seed.

    With a learning ``curve``, a job also reports ``curve(config, step)`` to the machine
    (`Hyperband.report`) at every multiple of ``report_every`` inside its budget segment
    ``(previous_budget or 0, budget)`` and at its budget, where its last report is followed by
    its `tell` with the same value. The report at ``step`` happens at ``start + duration(config,
    step, previous_budget)``: the time to train from where the job starts (its previous budget
    when resumed, else 0) to ``step``, by the same ``duration`` function that times whole jobs
    (a time that would go backwards from one step to the next is held at the previous one).
    When the stopping rule answers ``STOP``, the job ends then and its worker is free at once.

    Args:
        max_budget: the budget of every bracket's last rung (``R``).
        eta: the halving rate (> 1).
        workers: how many jobs can run at once (an int >= 1).
        min_budget: the smallest budget.
        exec_mode: ``"parallelism"``, ``"serial"`` or ``"asynchronous"`` (see
            [`Hyperband`][hyperband.Hyperband]).
        sizing: ``"li2018"`` or ``"table"``.
        iterations: how many Hyperband iterations to run (an int >= 1), or ``None`` to run
            until ``budget_limit``.
        seed: seeds the machine, the default durations and the default objective.
        duration: ``duration(config, budget, previous_budget) -> time`` (a finite number >= 0).
            ``previous_budget`` is the budget a promoted configuration already trained for when
            ``resume=True``, else ``None``. Default: the work (``budget``, or
            ``budget - previous_budget`` when resumed) times LogNormal(0, 0.3), drawn from an RNG
            derived from ``(seed, config_id, rung)``. With a ``curve``, it is also called with
            each report's step as the budget.
        objective: ``objective(config, budget)`` returns what the job tells the machine (a
            number, or a dict with ``"default"``). Default: a uniform random quality per
            configuration, derived from ``(seed, config_id)``.
        mode: ``"maximize"`` or ``"minimize"``.
        resume: ``True``: a promotion continues its checkpoint and costs only
            ``budget - previous_budget``; ``False``: every job trains from scratch.
        space: the search space or sampler for the configurations (default: one uniform
            parameter ``x``; it only matters to your ``duration``/``objective``).
        integer_budgets: round non-integral budgets to ints (see
            [`hyperband.schedule`][hyperband.schedule]).
        curve: ``curve(config, step) -> value`` (a number or a dict with ``"default"``): the
            value after training to ``step``, in budget units; replaces ``objective``. A job's
            result is ``curve(config, budget)``.
        report_every: with a ``curve``, report every this many budget units (> 0).
        early_stop: the machine's stopping rule (``None``, ``"median"``, ``"rung"``,
            ``"curve"`` or a rule object; see [`Hyperband`][hyperband.Hyperband]); needs a
            ``curve``.
        budget_limit: stop handing out new jobs once the budget spent (`budget_spent`, as of
            the last event) reaches this; the jobs running then run to their end. Required
            with ``iterations=None``.
        sampler: as for [`run`][hyperband.run]: ``"random"``, ``"kde"``, ``"optuna"`` (built
            over ``space``) or a sampler object (then ``space`` is ``None``).
        sampler_options: keyword arguments for a named ``sampler``.
        brackets: ``"cycle"`` or ``"adaptive"``, as for [`Hyperband`][hyperband.Hyperband].

    Returns:
        A [`SimulationResult`][hyperband.SimulationResult] with the makespan, utilisation,
        lower bound, total work, every job's worker and start/end times and status, the budget
        spent and the history of the best result.

    Raises:
        HyperbandError: a bad argument (the message names it), or a ``duration`` that returned
            something other than a finite number >= 0.

    Examples:
        >>> import hyperband
        >>> serial = hyperband.simulate(81, 3, workers=16, exec_mode="serial")
        >>> parallel = hyperband.simulate(81, 3, workers=16, exec_mode="parallelism")
        >>> parallel.makespan < serial.makespan
        True
        >>> len(parallel.jobs), parallel.makespan >= parallel.lower_bound
        (206, True)
        >>> stopped = hyperband.simulate(81, 3, workers=16, curve=lambda c, t: c["x"] * t,
        ...                              early_stop="rung")
        >>> stopped.budget_spent < parallel.budget_spent, len(stopped.stopped) > 0
        (True, True)
    """
    n_workers, limit, every = _check(
        workers,
        budget_limit,
        iterations,
        resume,
        duration,
        objective,
        curve,
        early_stop,
        report_every,
    )
    seed = _int_at_least("seed", seed, 0)
    if space is None and (sampler is None or isinstance(sampler, str)):
        space = _DEFAULT_SPACE
    hb = Hyperband(
        space_or_sampler(space, sampler, sampler_options)(),
        max_budget,
        eta,
        min_budget,
        mode=mode,
        exec_mode=exec_mode,
        sizing=sizing,
        iterations=iterations,
        seed=seed,
        integer_budgets=integer_budgets,
        early_stop=early_stop,
        brackets=brackets,
    )
    clock = Clock(
        hb,
        n_workers,
        timer(duration, resume, hb.seed),
        valuer(curve, objective, hb.seed),
        resume=resume,
        every=None if curve is None else every,
        limit=limit,
    )
    clock.run()
    return summarise(clock.records, n_workers, hb, resume, clock.spent, clock.history)


def _check(
    workers: object,
    budget_limit: object,
    iterations: object,
    resume: object,
    duration: object,
    objective: object,
    curve: object,
    early_stop: object,
    report_every: object,
) -> tuple[int, float | None, float]:
    """Check the simulation's own arguments; returns the workers, budget limit and report step."""
    n_workers = _int_at_least("workers", workers, 1)
    limit = _budget_limit(budget_limit)
    if _is_none(iterations) and limit is None:
        # The machine accepts None (run forever); a simulation must end.
        raise ConfigurationError(
            "iterations must be an int >= 1 in a simulation, got None (or give budget_limit)"
        )
    if not isinstance(resume, bool):
        raise ArgumentTypeError(f"resume must be a bool, got {describe(resume)}")
    if duration is not None and not callable(duration):
        raise ArgumentTypeError(
            f"duration must be a function (config, budget, previous_budget) -> time, "
            f"got {describe(duration)}"
        )
    if objective is not None and not callable(objective):
        raise ArgumentTypeError(
            f"objective must be a function (config, budget) -> value, got {describe(objective)}"
        )
    if curve is not None and not callable(curve):
        raise ArgumentTypeError(
            f"curve must be a function (config, step) -> value, got {describe(curve)}"
        )
    if curve is not None and objective is not None:
        raise ConfigurationError(
            "objective must be None when a curve is given (a job's result is "
            "curve(config, budget)), got both"
        )
    if early_stop is not None and curve is None:
        raise ConfigurationError(
            f"early_stop needs a curve (without reports nothing can be stopped), got "
            f"early_stop={describe(early_stop)} and curve=None"
        )
    every = finite_time(report_every)
    if every is None or every <= 0:
        raise ConfigurationError(
            f"report_every must be a finite number > 0, got {describe(report_every)}"
        )
    return n_workers, limit, every


def _budget_limit(value: object) -> float | None:
    if value is None:
        return None
    x = finite_time(value)
    if x is None or x <= 0:
        raise ConfigurationError(f"budget_limit must be a finite number > 0, got {describe(value)}")
    return x


def _int_at_least(name: str, value: object, low: int) -> int:
    # Typed as object: callers without a type checker pass anything.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be an int >= {low}, got {describe(value)}")
    if value < low:
        raise ConfigurationError(f"{name} must be >= {low}, got {describe(value)}")
    return int(value)


def _is_none(value: object) -> bool:
    return value is None
