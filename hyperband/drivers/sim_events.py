"""The discrete-event loop of ``hyperband.simulate``: workers, a fake clock, the real machine."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Any

from hyperband.core.jobs import STOP, Job
from hyperband.core.machine import Hyperband
from hyperband.drivers.sim_results import BestPoint, Number, SimulatedJob
from hyperband.drivers.sim_timing import report_steps

__all__ = ["Clock"]


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


class Clock:
    """Workers ask the machine for jobs; each job's reports and end are events in time order."""

    def __init__(
        self,
        hb: Hyperband,
        workers: int,
        time_to: Callable[[Job, Number], float],
        job_value: Callable[[Job, Number], Any],
        *,
        resume: bool,
        every: float | None,
        limit: float | None,
    ) -> None:
        self.hb = hb
        self.time_to = time_to
        self.job_value = job_value
        self.resume = resume
        self.every = every  # report every this many budget units; None: no curve, no reports
        self.limit = limit
        # Events: (time, job id). A job has one event at a time (its next report, or its end),
        # so the job id breaks ties deterministically.
        self.events: list[tuple[float, int]] = []
        self.free = list(range(workers))  # a heap: the lowest free worker takes the next job
        self.running: dict[int, _Running] = {}
        self.records: dict[int, SimulatedJob] = {}
        self.history: list[BestPoint] = []
        self.spent = 0.0
        self.now = 0.0

    def run(self) -> None:
        """Run until the machine is done (or the budget limit is reached and jobs ended)."""
        while True:
            self.hand_out()
            if not self.events:
                break
            self.now = self.events[0][0]
            # Handle every event due now before asking again, so the machine decides with all
            # of them (a promotion that became certain goes out before a fresh bracket starts).
            while self.events and self.events[0][0] == self.now:
                _, job_id = heapq.heappop(self.events)
                self.handle(job_id)
        if self.limit is None and not self.hb.done:  # pragma: no cover - the machine never stalls
            raise AssertionError("the machine returned WAIT with no job pending")

    def hand_out(self) -> None:
        """Give the free workers jobs until the machine has none (WAIT or DONE) for now."""
        while self.free and (self.limit is None or self.spent < self.limit):
            job = self.hb.ask()
            if not isinstance(job, Job):
                return
            worker = heapq.heappop(self.free)
            origin = job.previous_budget if self.resume and job.previous_budget is not None else 0
            steps = report_steps(job, self.every) if self.every is not None else [job.budget]
            steps.reverse()
            run = self.running[job.id] = _Running(job, worker, self.now, steps, float(origin))
            self.schedule_next(run)

    def schedule_next(self, run: _Running) -> None:
        run.time = max(run.time, run.start + self.time_to(run.job, run.steps[-1]))
        heapq.heappush(self.events, (run.time, run.job.id))

    def handle(self, job_id: int) -> None:
        """The job's next report, or its end, is due now."""
        hb = self.hb
        run = self.running[job_id]
        job = run.job
        step = run.steps.pop()
        self.spent += float(step) - run.last
        run.last = float(step)
        raw = self.job_value(job, step)
        status = "succeeded"
        extra: dict[str, Any]
        if self.every is not None:
            if hb.report(job_id, step, raw) is STOP:
                status = "stopped"
            elif run.steps:
                self.schedule_next(run)
                return
        if status == "succeeded":
            before = hb.best
            told = hb.tell(job_id, raw)
            value, extra = told.value, dict(told.extra)
            if hb.best is not before and hb.best is not None:
                self.history.append((self.now, self.spent, hb.best))
        else:
            value = raw["default"] if isinstance(raw, Mapping) else raw
            # As run() records it: the step, and the rule's explanation when it gives one.
            stopped = hb.stopped_result(job_id)
            extra = {"stopped_at": step, **(stopped.extra if stopped is not None else {})}
        assert value is not None  # a told job always has one
        del self.running[job_id]
        self.records[job_id] = SimulatedJob(
            job,
            run.worker,
            run.start,
            self.now,
            float(value),
            status,
            step,
            run.last - (job.previous_budget if self.resume and job.previous_budget else 0),
            extra,
        )
        heapq.heappush(self.free, run.worker)
