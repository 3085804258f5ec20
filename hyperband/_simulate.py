"""simulate(): W workers and a fake clock around the real machine.

A discrete-event simulation: workers ask the real ``Hyperband`` for jobs, each
job occupies its worker for a duration drawn from a user function, and results are told back in
order of completion time. It answers planning questions ("how long with 16 workers?", "how much
does checkpoint resume save?") without running anything, and it is the yardstick the benchmarks
use to compare scheduling policies.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np

from ._errors import ArgumentTypeError, ConfigurationError, describe
from ._jobs import Best, Job
from ._machine import Hyperband
from ._samplers import Sampler
from ._schedule import Schedule

__all__ = ["DurationFn", "SimulatedJob", "SimulationResult", "default_duration", "simulate"]

Number = int | float
DurationFn = Callable[[dict[str, Any], Number, "Number | None"], float]
"""``duration(config, budget, previous_budget) -> time``; ``previous_budget`` is ``None`` unless
the job is a promotion resumed from its checkpoint."""
ObjectiveFn = Callable[[dict[str, Any], Number], Any]

# Domain tags keep the per-job random streams of durations and of the default objective apart
# from each other and from the machine's own (seed, iteration, bracket) streams, which use
# two-element spawn keys.
_DURATION_STREAM = 0
_OBJECTIVE_STREAM = 1
_DEFAULT_SPACE: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}
_DEFAULT_SIGMA = 0.3


@attrs.frozen(slots=False)
class SimulatedJob:
    """One job of a simulation: what ran, where and when.

    Attributes:
        job: the machine's [`Job`][hyperband.Job].
        worker: the worker index it ran on (``0 .. workers - 1``).
        start: the simulated time it started.
        end: the simulated time it finished.
        value: the objective value told to the machine.
    """

    job: Job
    worker: int
    start: float
    end: float
    value: float

    @property
    def duration(self) -> float:
        """``end - start``."""
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-serialisable dict (handy for a DataFrame or a plot)."""
        j = self.job
        return {
            "job_id": j.id,
            "config_id": j.config_id,
            "iteration": j.iteration,
            "bracket": j.bracket,
            "rung": j.rung,
            "budget": j.budget,
            "previous_budget": j.previous_budget,
            "worker": self.worker,
            "start": self.start,
            "end": self.end,
            "value": self.value,
        }


@attrs.frozen(slots=False)
class SimulationResult:
    """What [`simulate`][hyperband.simulate] measured.

    Attributes:
        workers: the number of simulated workers ``W``.
        exec_mode: ``"serial"`` or ``"parallelism"``.
        resume: whether promotions resumed from their checkpoint.
        makespan: the time the last job finished (the first started at 0).
        total_work: the sum of all job durations (the busy time of all workers together).
        utilisation: ``total_work / (workers * makespan)``, in ``(0, 1]``.
        lower_bound: ``max(total_work / workers, longest chain)``, where a chain is a
            configuration's jobs rung after rung (each needs the previous one's result). No
            scheduler can finish these jobs sooner.
        jobs: every job, by job id, with its worker and start/end times.
        best: the machine's best result at the end.
        schedule: the bracket schedule of one iteration.
    """

    workers: int
    exec_mode: str
    resume: bool
    makespan: float
    total_work: float
    utilisation: float
    lower_bound: float
    jobs: tuple[SimulatedJob, ...]
    best: Best | None
    schedule: Schedule

    @property
    def bound_ratio(self) -> float:
        """``makespan / lower_bound`` (>= 1; 1 is optimal)."""
        return self.makespan / self.lower_bound if self.lower_bound > 0 else 1.0

    def timeline(self) -> list[dict[str, Any]]:
        """Every job as a flat dict (see
        [`SimulatedJob.to_dict`][hyperband.SimulatedJob.to_dict]), by job id.
        """
        return [j.to_dict() for j in self.jobs]

    def plot_timeline(self, ax: Any = None) -> Any:
        """Draw the worker timeline (one row per worker, bars coloured by bracket).

        Needs matplotlib (the ``plot`` extra).

        Args:
            ax: a matplotlib ``Axes``; a new figure is made when ``None``.

        Returns:
            The ``Axes`` drawn on.
        """
        from ._report import Span, plot_timeline

        spans = [Span(j.worker, j.start, j.end, j.job.bracket, j.job.iteration) for j in self.jobs]
        return plot_timeline(spans, ax=ax, xlabel="simulated time")


def default_duration(seed: int, *, sigma: float = _DEFAULT_SIGMA) -> Callable[[Job, bool], float]:
    """The default job duration: the work to do times a LogNormal(0, sigma) factor.

    The work is the job's budget, or ``budget - previous_budget`` for a promotion resumed from
    its checkpoint. The factor is drawn from an RNG derived from ``(seed, config_id, rung)``, so
    a job takes the same time whatever the number of workers or the exec mode.
    """

    def duration(job: Job, resume: bool) -> float:
        rng = np.random.default_rng(
            np.random.SeedSequence(seed, spawn_key=(_DURATION_STREAM, job.config_id, job.rung))
        )
        work = job.budget
        if resume and job.previous_budget is not None:
            work = job.budget - job.previous_budget
        return float(work) * float(rng.lognormal(0.0, sigma))

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


def simulate(
    max_budget: float,
    eta: float = 3,
    *,
    workers: int,
    min_budget: float = 1,
    exec_mode: str = "parallelism",
    sizing: str = "li2018",
    iterations: int = 1,
    seed: int = 0,
    duration: DurationFn | None = None,
    objective: ObjectiveFn | None = None,
    mode: str = "maximize",
    resume: bool = False,
    space: Mapping[str, Any] | Sampler | None = None,
    integer_budgets: bool = False,
) -> SimulationResult:
    """Simulate ``workers`` workers running a Hyperband study on a fake clock.

    The real [`Hyperband`][hyperband.Hyperband] machine decides everything; the simulation only
    decides how long each job takes. Whenever a worker is free it asks the machine for a job;
    when a job's time is up its result is told. Events at the same time are handled in job id
    order, so a simulation is fully deterministic for a given seed.

    Args:
        max_budget: the budget of every bracket's last rung (``R``).
        eta: the halving rate (> 1).
        workers: how many jobs can run at once (an int >= 1).
        min_budget: the smallest budget.
        exec_mode: ``"parallelism"`` or ``"serial"`` (see [`Hyperband`][hyperband.Hyperband]).
        sizing: ``"li2018"`` or ``"table"``.
        iterations: how many Hyperband iterations to run (an int >= 1).
        seed: seeds the machine, the default durations and the default objective.
        duration: ``duration(config, budget, previous_budget) -> time`` (a finite number >= 0).
            ``previous_budget`` is the budget a promoted configuration already trained for when
            ``resume=True``, else ``None``. Default: the work (``budget``, or
            ``budget - previous_budget`` when resumed) times LogNormal(0, 0.3), drawn from an RNG
            derived from ``(seed, config_id, rung)``.
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

    Returns:
        A [`SimulationResult`][hyperband.SimulationResult] with the makespan, utilisation,
        lower bound, total work and every job's worker and start/end times.

    Raises:
        HyperbandError: a bad argument (the message names it), or a ``duration`` that returned
            something other than a finite number >= 0.

    Example:
        >>> import hyperband
        >>> serial = hyperband.simulate(81, 3, workers=16, exec_mode="serial")
        >>> parallel = hyperband.simulate(81, 3, workers=16, exec_mode="parallelism")
        >>> parallel.makespan < serial.makespan
        True
        >>> len(parallel.jobs), parallel.makespan >= parallel.lower_bound
        (206, True)
    """
    n_workers = _int_at_least("workers", workers, 1)
    if _is_none(iterations):
        # The machine accepts None (run forever); a simulation must end.
        raise ConfigurationError("iterations must be an int >= 1 in a simulation, got None")
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
    seed = _int_at_least("seed", seed, 0)
    hb = Hyperband(
        _DEFAULT_SPACE if space is None else space,
        max_budget,
        eta,
        min_budget,
        mode=mode,
        exec_mode=exec_mode,
        sizing=sizing,
        iterations=iterations,
        seed=seed,
        integer_budgets=integer_budgets,
    )

    if duration is None:
        default = default_duration(hb.seed)

        def job_duration(job: Job) -> float:
            return default(job, resume)

    else:
        user_duration = duration

        def job_duration(job: Job) -> float:
            prev = job.previous_budget if resume else None
            raw = user_duration(job.config, job.budget, prev)
            d = _time(raw)
            if d is None:
                raise ConfigurationError(
                    f"duration(config, {job.budget!r}, {prev!r}) must return a finite number "
                    f">= 0, got {describe(raw)}"
                )
            return d

    if objective is None:
        job_value: Callable[[Job], Any] = _default_objective(hb.seed)
    else:
        user_objective = objective

        def job_value(job: Job) -> Any:
            return user_objective(job.config, job.budget)

    # Events: (end time, job id, worker). The job id breaks ties deterministically.
    events: list[tuple[float, int, int]] = []
    free = list(range(n_workers))  # a heap: the lowest free worker index takes the next job
    started: dict[int, tuple[Job, int, float]] = {}
    records: dict[int, SimulatedJob] = {}
    now = 0.0
    exhausted = False  # ask() said WAIT or DONE since the last result
    while True:
        while free and not exhausted:
            job = hb.ask()
            if not isinstance(job, Job):
                exhausted = True
                break
            worker = heapq.heappop(free)
            started[job.id] = (job, worker, now)
            heapq.heappush(events, (now + job_duration(job), job.id, worker))
        if not events:
            break
        now = events[0][0]
        # Tell every result due now before asking again, so the machine decides with all of
        # them (a promotion that became certain goes out before a fresh bracket starts).
        while events and events[0][0] == now:
            end, job_id, worker = heapq.heappop(events)
            job, worker, start = started.pop(job_id)
            result = hb.tell(job_id, job_value(job))
            value = result.value
            assert value is not None  # a told job always has one
            records[job_id] = SimulatedJob(job, worker, start, end, value)
            heapq.heappush(free, worker)
        exhausted = False
    if not hb.done:  # pragma: no cover - the machine never stalls with nothing pending
        raise AssertionError("the machine returned WAIT with no job pending")

    jobs = tuple(records[k] for k in sorted(records))
    makespan = max((j.end for j in jobs), default=0.0)
    total_work = math.fsum(j.duration for j in jobs)
    chain: dict[int, float] = {}
    for j in jobs:  # by job id, so a job's resume_from is already in chain
        parent = j.job.resume_from
        chain[j.job.id] = j.duration + (chain[parent] if parent is not None else 0.0)
    longest = max(chain.values(), default=0.0)
    lower_bound = max(total_work / n_workers, longest)
    # Busy time can exceed workers * makespan only by float rounding (W=1: the same sum in a
    # different order), so cap it: utilisation is a fraction by definition.
    utilisation = min(1.0, total_work / (n_workers * makespan)) if makespan > 0 else 1.0
    return SimulationResult(
        workers=n_workers,
        exec_mode=hb.exec_mode,
        resume=resume,
        makespan=makespan,
        total_work=total_work,
        utilisation=utilisation,
        lower_bound=lower_bound,
        jobs=jobs,
        best=hb.best,
        schedule=hb.schedule,
    )


def _int_at_least(name: str, value: object, low: int) -> int:
    # Typed as object: callers without a type checker pass anything.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be an int >= {low}, got {describe(value)}")
    if value < low:
        raise ConfigurationError(f"{name} must be >= {low}, got {describe(value)}")
    return int(value)


def _is_none(value: object) -> bool:
    return value is None


def _time(value: object) -> float | None:
    """``value`` as a float if it is a finite real >= 0, else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    x = float(value)
    return x if math.isfinite(x) and x >= 0 else None
