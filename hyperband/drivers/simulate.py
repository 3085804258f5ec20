"""simulate(): W workers and a fake clock around the real machine.

A discrete-event simulation: workers ask the real ``Hyperband`` for jobs, each
job occupies its worker for a duration drawn from a user function, and results are told back in
order of completion time. With a learning curve, each job also reports its value every
``report_every`` budget units, and the machine's stopping rule may end it early: its worker is
free from that moment. It answers planning questions ("how long with 16 workers?", "how much
does checkpoint resume save?", "what does early stopping buy?") without running anything, and
it is the yardstick the benchmarks use to compare scheduling policies.
"""

from __future__ import annotations

import heapq
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import numpy as np

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.jobs import STOP, Best, Job, Stats
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import Sampler, space_or_sampler
from hyperband.core.schedule import Schedule
from hyperband.drivers.plugs import PLOTS, load

__all__ = [
    "CurveFn",
    "DurationFn",
    "SimulatedJob",
    "SimulationResult",
    "default_duration",
    "simulate",
]

Number = int | float
DurationFn = Callable[[dict[str, Any], Number, "Number | None"], float]
"""``duration(config, budget, previous_budget) -> time``; ``previous_budget`` is ``None`` unless
the job is a promotion resumed from its checkpoint."""
ObjectiveFn = Callable[[dict[str, Any], Number], Any]
CurveFn = Callable[[dict[str, Any], Number], Any]
"""``curve(config, step) -> value``: the value after training to ``step`` (in budget units)."""
BestPoint = tuple[float, float, Best]

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
        end: the simulated time it finished, or was stopped (its worker is free from then).
        value: the objective value told to the machine; for a stopped job, its last report.
        status: ``"succeeded"``, or ``"stopped"`` when the stopping rule ended it early.
        step: how far it trained, in budget units: its budget, or the step of the report that
            stopped it.
        spent: the budget it used: ``step``, less ``previous_budget`` for a promotion resumed
            from its checkpoint.
    """

    job: Job
    worker: int
    start: float
    end: float
    value: float
    status: str = "succeeded"
    step: Number | None = None
    spent: float | None = None

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
            "status": self.status,
            "step": j.budget if self.step is None else self.step,
            "spent": self.spent,
        }


@attrs.frozen(slots=False)
class SimulationResult:
    """What [`simulate`][hyperband.simulate] measured.

    Attributes:
        workers: the number of simulated workers ``W``.
        exec_mode: ``"serial"``, ``"parallelism"`` or ``"asynchronous"``.
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
        stats: the machine's counters at the end (`hyperband.Stats`: stops, reports,
            promotions, mispromotions in ``"asynchronous"`` mode).
        budget_spent: the budget the jobs used, counting only what ran: a stopped job counts
            up to its last report, a resumed promotion from its previous budget on.
        best_history: ``(time, budget_spent, best)`` each time the machine's best changed,
            in time order (``budget_spent`` as of that moment).
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
    stats: Stats | None = None
    budget_spent: float = 0.0
    best_history: tuple[BestPoint, ...] = ()

    @property
    def stopped(self) -> tuple[SimulatedJob, ...]:
        """The jobs the stopping rule ended early, by job id."""
        return tuple(j for j in self.jobs if j.status == "stopped")

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
        # The report layer draws; the drivers name it (see plugs), they do not import it.
        plots = load(PLOTS)
        spans = [
            plots.Span(j.worker, j.start, j.end, j.job.bracket, j.job.iteration) for j in self.jobs
        ]
        return plots.plot_timeline(spans, ax=ax, xlabel="simulated time")


def _factor(seed: int, job: Job, sigma: float) -> float:
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(_DURATION_STREAM, job.config_id, job.rung))
    )
    return float(rng.lognormal(0.0, sigma))


def default_duration(seed: int, *, sigma: float = _DEFAULT_SIGMA) -> Callable[[Job, bool], float]:
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


class _Running:
    """A job on its worker: where it is in its reports."""

    __slots__ = ("job", "last", "start", "steps", "time", "worker")

    def __init__(self, job: Job, worker: int, start: float, steps: list[Number], last: float):
        self.job = job
        self.worker = worker
        self.start = start
        self.steps = steps  # the steps still to report, next first (reversed: pop from the end)
        self.last = last  # the step trained to so far (where the budget spent is counted from)
        self.time = start  # the time of its last event


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
        early_stop: the machine's stopping rule (``None``, ``"median"``, ``"rung"`` or a rule
            object; see [`Hyperband`][hyperband.Hyperband]); needs a ``curve``.
        budget_limit: stop handing out new jobs once the budget spent (`budget_spent`, as of
            the last event) reaches this; the jobs running then run to their end. Required
            with ``iterations=None``.
        sampler: as for [`run`][hyperband.run]: ``"random"``, ``"kde"``, ``"optuna"`` (built
            over ``space``) or a sampler object (then ``space`` is ``None``).
        sampler_options: keyword arguments for a named ``sampler``.

    Returns:
        A [`SimulationResult`][hyperband.SimulationResult] with the makespan, utilisation,
        lower bound, total work, every job's worker and start/end times and status, the budget
        spent and the history of the best result.

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
        >>> stopped = hyperband.simulate(81, 3, workers=16, curve=lambda c, t: c["x"] * t,
        ...                              early_stop="rung")
        >>> stopped.budget_spent < parallel.budget_spent, len(stopped.stopped) > 0
        (True, True)
    """
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
    every = _time(report_every)
    if every is None or every <= 0:
        raise ConfigurationError(
            f"report_every must be a finite number > 0, got {describe(report_every)}"
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
    )

    if duration is None:
        machine_seed = hb.seed

        def time_to(job: Job, step: Number) -> float:
            start = job.previous_budget if resume and job.previous_budget is not None else 0
            return float(step - start) * _factor(machine_seed, job, _DEFAULT_SIGMA)

    else:
        user_duration = duration

        def time_to(job: Job, step: Number) -> float:
            prev = job.previous_budget if resume else None
            raw = user_duration(job.config, step, prev)
            d = _time(raw)
            if d is None:
                raise ConfigurationError(
                    f"duration(config, {step!r}, {prev!r}) must return a finite number "
                    f">= 0, got {describe(raw)}"
                )
            return d

    if curve is not None:
        user_curve = curve

        def job_value(job: Job, step: Number) -> Any:
            return user_curve(job.config, step)

    elif objective is None:
        default_objective = _default_objective(hb.seed)

        def job_value(job: Job, step: Number) -> Any:
            return default_objective(job)

    else:
        user_objective = objective

        def job_value(job: Job, step: Number) -> Any:
            return user_objective(job.config, job.budget)

    # Events: (time, job id). A job has one event at a time (its next report, or its end), so
    # the job id breaks ties deterministically.
    events: list[tuple[float, int]] = []
    free = list(range(n_workers))  # a heap: the lowest free worker index takes the next job
    running: dict[int, _Running] = {}
    records: dict[int, SimulatedJob] = {}
    history: list[BestPoint] = []
    spent = 0.0
    now = 0.0
    exhausted = False  # ask() said WAIT or DONE since the last result

    def schedule_next(run: _Running) -> None:
        run.time = max(run.time, run.start + time_to(run.job, run.steps[-1]))
        heapq.heappush(events, (run.time, run.job.id))

    while True:
        while free and not exhausted and (limit is None or spent < limit):
            job = hb.ask()
            if not isinstance(job, Job):
                exhausted = True
                break
            worker = heapq.heappop(free)
            origin = job.previous_budget if resume and job.previous_budget is not None else 0
            steps = report_steps(job, every) if curve is not None else [job.budget]
            steps.reverse()
            run = running[job.id] = _Running(job, worker, now, steps, float(origin))
            schedule_next(run)
        if not events:
            break
        now = events[0][0]
        # Handle every event due now before asking again, so the machine decides with all of
        # them (a promotion that became certain goes out before a fresh bracket starts).
        while events and events[0][0] == now:
            _, job_id = heapq.heappop(events)
            run = running[job_id]
            job = run.job
            step = run.steps.pop()
            spent += float(step) - run.last
            run.last = float(step)
            raw = job_value(job, step)
            status = "succeeded"
            if curve is not None:
                if hb.report(job_id, step, raw) is STOP:
                    status = "stopped"
                elif run.steps:
                    schedule_next(run)
                    continue
            if status == "succeeded":
                before = hb.best
                value = hb.tell(job_id, raw).value
                if hb.best is not before and hb.best is not None:
                    history.append((now, spent, hb.best))
            else:
                value = raw["default"] if isinstance(raw, Mapping) else raw
            assert value is not None  # a told job always has one
            del running[job_id]
            records[job_id] = SimulatedJob(
                job,
                run.worker,
                run.start,
                now,
                float(value),
                status,
                step,
                run.last - (job.previous_budget if resume and job.previous_budget else 0),
            )
            heapq.heappush(free, run.worker)
        exhausted = False
    if limit is None and not hb.done:  # pragma: no cover - the machine never stalls
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
        stats=hb.stats,
        budget_spent=spent,
        best_history=tuple(history),
    )


def _budget_limit(value: object) -> float | None:
    if value is None:
        return None
    x = _time(value)
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


def _time(value: object) -> float | None:
    """``value`` as a float if it is a finite real >= 0, else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    x = float(value)
    return x if math.isfinite(x) and x >= 0 else None
