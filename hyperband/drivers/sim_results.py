"""What ``hyperband.simulate`` returns: a ``SimulationResult`` with one ``SimulatedJob`` per job."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from hyperband.core.jobs import Best, Job, Stats
from hyperband.core.schedule import Schedule
from hyperband.drivers.plugs import PLOTS, load

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.core.machine import Hyperband

__all__ = ["BestPoint", "Number", "SimulatedJob", "SimulationResult", "summarise"]

Number = int | float
BestPoint = tuple[float, float, Best]


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
        extra: as `hyperband.JobRecord.extra` in ``run()``: a dict result's other keys; for a
            stopped job ``"stopped_at"`` (its step) and, when the rule explains its stops
            (`hyperband.CurveRule`), ``"stop"``: the forecast that stopped it.
    """

    job: Job
    worker: int
    start: float
    end: float
    value: float
    status: str = "succeeded"
    step: Number | None = None
    spent: float | None = None
    extra: dict[str, Any] = attrs.field(factory=dict)

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


def summarise(
    records: Mapping[int, SimulatedJob],
    workers: int,
    hb: Hyperband,
    resume: bool,
    spent: float,
    history: list[BestPoint],
) -> SimulationResult:
    """The measures of a finished simulation: makespan, work, lower bound, utilisation."""
    jobs = tuple(records[k] for k in sorted(records))
    makespan = max((j.end for j in jobs), default=0.0)
    total_work = math.fsum(j.duration for j in jobs)
    chain: dict[int, float] = {}
    for j in jobs:  # by job id, so a job's resume_from is already in chain
        parent = j.job.resume_from
        chain[j.job.id] = j.duration + (chain[parent] if parent is not None else 0.0)
    longest = max(chain.values(), default=0.0)
    lower_bound = max(total_work / workers, longest)
    # Busy time can exceed workers * makespan only by float rounding (W=1: the same sum in a
    # different order), so cap it: utilisation is a fraction by definition.
    utilisation = min(1.0, total_work / (workers * makespan)) if makespan > 0 else 1.0
    return SimulationResult(
        workers=workers,
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
