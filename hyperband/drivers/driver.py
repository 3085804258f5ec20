"""The event loop of ``hyperband.run``: ask, submit, wait, tell.

It asks the machine for a job whenever a slot is free, submits it, and tells the machine each
result as it completes (``concurrent.futures.wait(..., FIRST_COMPLETED)``, with the earliest job
deadline as the wait's timeout: no polling, no sleeps). Only this thread touches the machine
and the journal, so the journal's event order is the order of the machine's calls, which is
what makes replay exact.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import math
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import attrs

from hyperband.core.errors import (
    HyperbandError,
    InvalidResultError,
    TooManyFailuresError,
    describe,
)
from hyperband.core.jobs import STOP, Job
from hyperband.core.machine import Hyperband
from hyperband.drivers.channel import DirectReporter, ReportServer, Request
from hyperband.drivers.checkpoints import CheckpointPruner
from hyperband.drivers.context import Objective, Outcome, execute, plain, step_not_past
from hyperband.drivers.executors import (
    Backend,
    ExternalBackend,
    ProcessBackend,
    ThreadBackend,
    WorkerDiedError,
)
from hyperband.drivers.failures import failure_line
from hyperband.drivers.job_record import JobRecord
from hyperband.drivers.journal import Journal
from hyperband.drivers.progress import Progress

__all__ = ["Driver", "Flight"]

logger = logging.getLogger("hyperband")


@attrs.define
class Flight:
    """One attempt of a job, submitted and not yet resolved."""

    job: Job
    attempt: int
    submitted: float  # time.time()
    deadline: float  # time.monotonic(); inf without a timeout
    backend: Backend
    # With early stopping: the last step the machine has for this job from an earlier attempt
    # (a retry, a resumed study). The attempt's reports up to it are not judged again: they
    # would go backwards; from its first report past it on, the machine judges as usual.
    catch_up: float | None = None


class Driver:
    """The event loop of one run (a class only to share its state between small methods)."""

    def __init__(
        self,
        hb: Hyperband,
        objective: Objective,
        backends: list[Backend],
        journal: Journal | None,
        records: list[JobRecord],
        with_context: bool,
        root: str | None,
        timeout: float | None,
        retries: int,
    ) -> None:
        self.hb = hb
        self.objective = objective
        self.backends = backends  # every backend used; the last is the current one
        self.journal = journal
        self.records = records
        self.with_context = with_context
        self.root = root
        self.timeout = timeout
        self.retries = retries
        self.progress: Progress | None = None
        self.inflight: dict[concurrent.futures.Future[Any], Flight] = {}
        # Futures of jobs already resolved (timed out) whose worker is still busy: they hold
        # a slot until they finish, and their outcome is ignored. Values: their config ids.
        self.stuck: dict[concurrent.futures.Future[Any], int] = {}
        self.pruner: CheckpointPruner | None = None
        # Jobs to submit before asking for new ones: a resumed study's pending jobs, retries.
        self.queue: collections.deque[tuple[Job, int]] = collections.deque(
            (job, 1) for job in hb.pending
        )
        self.n_failed = sum(r.status == "failed" for r in records)
        self.max_failures: int | None = None
        self.fail_fast: int | None = None
        self.failures = 0  # in this run, for max_failures and fail_fast
        self.resumed = len(records)  # records of earlier runs: this run's come after
        # Attempts spent before this run on the jobs a resumed journal sent back to run
        # (retry_failed): their records count them too.
        self.earlier: dict[int, int] = {}
        # Early stopping: where reports arrive, the attempt running each job, and the jobs the
        # machine stopped while their attempt runs: job id -> (step, value) of the stop.
        self.server: ReportServer | None = None
        self.current: dict[int, Flight] = {}
        self.stopped: dict[int, tuple[float, float]] = {}

    def configure(
        self, max_failures: int | None, keep_checkpoints: str, fail_fast: int | None = None
    ) -> None:
        """Set the run's options: fail fast, reports (a stopping rule and an objective that
        can report), checkpoint cleanup (an objective with checkpoints, unless ``"all"``)."""
        self.max_failures = max_failures
        self.fail_fast = fail_fast
        if self.hb.early_stop is not None and self.with_context:
            self.listen()
        if self.with_context and self.root is not None and keep_checkpoints != "all":
            self.pruner = CheckpointPruner(self.root, keep_checkpoints)

    def listen(self) -> None:
        """Route the objective's reports to the machine (a rule is set and it can report)."""
        kind = self.backend.kind
        host = None if kind in ("serial", "threads") else getattr(self.backend, "report_host", "")
        self.server = ReportServer(host or ("127.0.0.1" if host is not None else None))

    def reporter(self, job: Job, attempt: int) -> Any:
        """How the attempt's ``context.report`` reaches ``on_report``."""
        if self.server is None:
            return None
        if self.backend.kind == "serial":
            return DirectReporter(self.on_report, job.id, attempt)
        return self.server.reporter(job.id, attempt, local=self.backend.kind == "threads")

    def on_report(self, request: Request) -> None:
        """Ask the machine about one report, journal it, and answer the objective."""
        flight = self.current.get(request.job_id)
        if flight is None or flight.attempt != request.attempt or request.job_id in self.stopped:
            # An abandoned attempt (timed out, retried) or a job already stopped: stop it.
            request.answer(("ok", "STOP"))
            return
        if flight.catch_up is not None:
            if step_not_past(request.step, flight.catch_up):
                request.answer(("ok", "CONTINUE"))
                return
            flight.catch_up = None
        try:
            decision = self.hb.report(request.job_id, request.step, request.value)
        except HyperbandError as exc:
            request.answer(("error", (type(exc).__name__, str(exc))))
            return
        if self.journal is not None:
            self.journal.report(request.job_id, request.step, request.value, decision.name)
        if decision is STOP:
            value = request.value
            number = value.get("default") if isinstance(value, dict) else value
            assert number is not None  # the machine accepted it
            self.stopped[request.job_id] = (plain(request.step), float(number))
            logger.debug("job %d stopped at step %s", request.job_id, request.step)
        request.answer(("ok", decision.name))

    def close(self) -> None:
        """Stop listening for reports."""
        if self.server is not None:
            self.server.close()

    @property
    def backend(self) -> Backend:
        return self.backends[-1]

    def loop(self) -> None:
        while True:
            self.fill()
            if not self.inflight and (self.hb.done or not self.stuck):
                if not self.hb.done:  # pragma: no cover - WAIT implies a pending job
                    raise AssertionError(f"the machine waits with nothing in flight: {self.hb!r}")
                return
            wait_for = min((f.deadline for f in self.inflight.values()), default=math.inf)
            delay = None if wait_for == math.inf else max(0.0, wait_for - time.monotonic())
            waiting: list[concurrent.futures.Future[Any]] = [*self.inflight, *self.stuck]
            if self.server is not None:
                waiting.append(self.server.doorbell)
            done, _ = concurrent.futures.wait(
                waiting, timeout=delay, return_when=concurrent.futures.FIRST_COMPLETED
            )
            if self.server is not None:
                for request in self.server.take():
                    self.on_report(request)
            for future in done:
                self.stuck.pop(future, None)
                flight = self.inflight.pop(future, None)
                if flight is not None:
                    self.complete(future, flight)
            self.expire()

    def fill(self) -> None:
        """Submit jobs while a slot is free and the machine has work."""
        while len(self.inflight) + len(self.stuck) < self.backend.capacity:
            if self.queue:
                job, attempt = self.queue.popleft()
            else:
                asked = self.hb.ask()
                if not isinstance(asked, Job):
                    return
                job, attempt = asked, 1
                if self.journal is not None:
                    self.journal.ask(job)
            self.submit(job, attempt)

    def submit(self, job: Job, attempt: int) -> None:
        submitted = time.time()
        deadline = math.inf if self.timeout is None else time.monotonic() + self.timeout
        backend = self.backend
        flight = Flight(job, attempt, submitted, deadline, backend)
        if self.server is not None:
            earlier = self.hb.reports(job.id)
            flight.catch_up = float(earlier[-1][0]) if earlier else None
        # Before submitting: a serial job reports (and may be stopped) inside submit().
        self.current[job.id] = flight
        try:
            future = backend.submit(
                execute,
                self.objective,
                job,
                self.with_context,
                self.root,
                self.reporter(job, attempt),
            )
        except concurrent.futures.BrokenExecutor as exc:
            del self.current[job.id]
            self.replace(backend, exc)
            self.queue.appendleft((job, attempt))
            return
        self.inflight[future] = flight

    def replace(self, broken: Backend, exc: BaseException) -> None:
        """The user's executor broke: go on with a pool of the run's own, of the same size."""
        if broken is not self.backend:
            return  # already replaced
        if isinstance(broken, ExternalBackend):
            new: Backend
            if isinstance(exc, BrokenProcessPool):
                new = ProcessBackend(broken.capacity)
            else:
                new = ThreadBackend(broken.capacity)
            logger.warning(
                "executor %r is broken (%s: %s); the run goes on with executor=%r of %d workers",
                broken.executor,
                type(exc).__name__,
                exc,
                new.kind,
                new.capacity,
            )
            self.backends.append(new)
            return
        raise exc  # pragma: no cover - the run's own backends never raise BrokenExecutor

    def expire(self) -> None:
        """Stop the jobs past their deadline; each fails with a timeout."""
        now = time.monotonic()
        for future, flight in list(self.inflight.items()):
            if flight.deadline > now or future.done():
                continue
            del self.inflight[future]
            if not flight.backend.stop(future):
                self.stuck[future] = flight.job.config_id
            reason = f"timed out after {self.timeout:g} s (the run's timeout)"
            self.failed(flight, reason, flight.submitted, time.time(), "", ())

    def complete(self, future: concurrent.futures.Future[Any], flight: Flight) -> None:
        job = flight.job
        if job.id in self.stopped:
            self.record_stop(future, flight)
            return
        if future.cancelled():  # pragma: no cover - only stop() cancels, and it resolves too
            self.failed(flight, "cancelled", flight.submitted, time.time(), "", ())
            return
        exc = future.exception()
        if isinstance(exc, concurrent.futures.BrokenExecutor) and flight.backend.kind == "external":
            # Every job in flight on a broken pool fails with it, whichever crashed: none is
            # charged; all re-run on the replacement, which tells a crash from a bystander.
            self.replace(flight.backend, exc)
            self.queue.appendleft((job, flight.attempt))
            return
        if isinstance(exc, WorkerDiedError):
            self.failed(flight, str(exc), flight.submitted, time.time(), exc.worker, ())
            return
        if exc is not None:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.failed(flight, text, flight.submitted, time.time(), "", ())
            return
        out = future.result()
        if not isinstance(out, Outcome):  # pragma: no cover - a misbehaving executor
            self.failed(
                flight, f"executor returned {describe(out)}", flight.submitted, time.time(), "", ()
            )
            return
        if out.error is not None:
            self.failed(flight, out.error, out.start, out.end, out.worker, out.reports)
            return
        if out.stopped:  # pragma: no cover - EarlyStopped comes only with a stop recorded
            self.failed(flight, "EarlyStopped without a stop", out.start, out.end, "", ())
            return
        try:
            result = self.hb.tell(job.id, out.value)
        except InvalidResultError as err:
            self.failed(
                flight,
                f"the objective's return value is invalid: {err}",
                out.start,
                out.end,
                out.worker,
                out.reports,
            )
            return
        assert result.value is not None
        self.current.pop(job.id, None)
        self.record(
            JobRecord(
                job,
                "succeeded",
                result.value,
                result.extra,
                None,
                out.start,
                out.end,
                out.worker,
                out.reports,
                flight.attempt,
            )
        )

    def why_stopped(self, job_id: int) -> dict[str, Any]:
        """``{"stop": ...}`` when the rule said why it stopped the job (journaled), else ``{}``."""
        result = self.hb.stopped_result(job_id)
        why = None if result is None else result.extra.get("stop")
        return {} if why is None else {"stop": why}

    def record_stop(self, future: concurrent.futures.Future[Any], flight: Flight) -> None:
        """The job the machine stopped has ended: record it as stopped, keeping what it did."""
        job = flight.job
        step, value = self.stopped.pop(job.id)
        self.current.pop(job.id, None)
        extra: dict[str, Any] = {"stopped_at": plain(step), **self.why_stopped(job.id)}
        start, end, worker = flight.submitted, time.time(), ""
        reports: tuple[tuple[float, float], ...] = ()
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            extra["after_stop"] = f"{type(exc).__name__}: {exc}"
        elif not future.cancelled():
            out = future.result()
            if isinstance(out, Outcome):
                start, end, worker, reports = out.start, out.end, out.worker, out.reports
                if out.error is not None:
                    extra["after_stop"] = out.error.strip().splitlines()[-1]
                elif not out.stopped:
                    # It finished anyway (the stop raced its end, or it caught EarlyStopped and
                    # returned): nothing is lost, but the machine has resolved it as stopped.
                    extra["returned"] = out.value
        self.record(
            JobRecord(
                job, "stopped", value, extra, None, start, end, worker, reports, flight.attempt
            )
        )

    def failed(
        self,
        flight: Flight,
        reason: str,
        start: float,
        end: float,
        worker: str,
        reports: tuple[tuple[float, float], ...],
    ) -> None:
        job = flight.job
        if job.id in self.stopped:
            # Stopped first: a crash, kill or timeout after the stop changes nothing.
            step, value = self.stopped.pop(job.id)
            self.current.pop(job.id, None)
            last = reason.strip().splitlines()[-1] if reason.strip() else reason
            extra = {"stopped_at": plain(step), **self.why_stopped(job.id), "after_stop": last}
            self.record(
                JobRecord(
                    job, "stopped", value, extra, None, start, end, worker, reports, flight.attempt
                )
            )
            return
        if flight.attempt <= self.retries:
            logger.info(
                "job %d failed (attempt %d of %d), retrying: %s",
                job.id,
                flight.attempt,
                self.retries + 1,
                failure_line(reason),
            )
            self.queue.appendleft((job, flight.attempt + 1))
            return
        self.current.pop(job.id, None)
        result = self.hb.fail(job.id, reason)
        self.n_failed += 1
        self.failures += 1
        self.record(
            JobRecord(
                job, "failed", None, {}, result.error, start, end, worker, reports, flight.attempt
            )
        )
        last = f"job {job.id} at budget {job.budget}: {failure_line(reason)}"
        if self.max_failures is not None and self.failures >= self.max_failures:
            raise TooManyFailuresError(self.failures, self.max_failures, last)
        every = self.failures == len(self.records) - self.resumed  # no success in this run
        if self.fail_fast is not None and every and self.failures >= self.fail_fast:
            error = TooManyFailuresError(self.failures, self.fail_fast, last)
            error.args = (
                f"fail_fast: the first {self.failures} jobs of this run all failed, so it "
                f"stopped (an objective that fails every time?); the last one: {last}",
            )
            raise error

    def record(self, rec: JobRecord) -> None:
        if rec.job.id in self.earlier:
            rec = attrs.evolve(rec, attempts=rec.attempts + self.earlier.pop(rec.job.id))
        if self.journal is not None:
            self.journal.result(rec)
        self.records.append(rec)
        logger.debug("job %d %s: %s", rec.job.id, rec.status, rec.value)
        if self.progress is not None:
            self.progress.update(len(self.records), self.n_failed, self.hb.best, rec.cost)
        if self.pruner is not None:
            # A job stopped by the machine may still be running (its objective sees the stop
            # only at its next report) and writing to its directory: keep that one too.
            running = {flight.job.config_id for flight in self.current.values()}
            self.pruner.after_result(self.hb, running.union(self.stuck.values()))
