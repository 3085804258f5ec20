"""``hyperband.run``: drive a ``Hyperband`` machine with an executor.

The driver is the only place with threads, clocks and files: it asks the machine for a job
whenever a slot is free, submits it, and tells the machine each result as it completes
(``concurrent.futures.wait(..., FIRST_COMPLETED)``, with the earliest job deadline as the wait's
timeout: no polling, no sleeps). Only this thread touches the machine and the journal, so the
journal's event order is the order of the machine's calls, which is what makes replay exact.
"""

from __future__ import annotations

import collections
import concurrent.futures
import copy
import importlib
import inspect
import logging
import math
import numbers
import os
import pickle
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import attrs

from ._errors import ArgumentTypeError, ConfigurationError, InvalidResultError, describe
from ._executors import (
    Backend,
    ExternalBackend,
    ProcessBackend,
    ThreadBackend,
    WorkerDiedError,
    resolve,
    validate,
    worker_label,
)
from ._jobs import Best, Job
from ._journal import Journal, check_header, header, replay
from ._machine import Hyperband
from ._records import JobRecord, RunResult
from ._samplers import Sampler

__all__ = ["Context", "run"]

logger = logging.getLogger("hyperband")

Objective = Callable[..., Any]

# Plain progress lines (no terminal or no tqdm) come at most this often, in seconds.
_LOG_EVERY = 10.0


class Context:
    """What an objective declaring a third parameter receives.

    Attributes:
        job: the ``Job``; for a promotion ``job.resume_from`` and
            ``job.previous_budget`` say which rung the configuration comes from.
        checkpoint_dir: a directory of this configuration's own, shared by all its jobs (every
            rung it reaches), created before the call. Under ``<journal stem>.checkpoints/``
            with a journal (kept, so a resumed study finds it), else in a temporary directory
            removed when the run ends.

    Example:
        >>> def objective(config, budget, context):
        ...     context.report(1, 0.5)        # an intermediate value, kept in the record
        ...     return config["x"] * budget
    """

    def __init__(self, job: Job, checkpoint_dir: Path, reports: list[tuple[float, float]]):
        self.job = job
        self.checkpoint_dir = checkpoint_dir
        self._reports = reports

    def report(self, step: float, value: float) -> None:
        """Record an intermediate value (a learning curve point); kept in ``JobRecord.reports``.

        Args:
            step: where in training (an epoch, a number of samples, ...).
            value: the metric there.

        Raises:
            ArgumentTypeError: ``step`` or ``value`` is not a real number.
        """
        pair: tuple[object, object] = (step, value)
        for name, x in zip(("step", "value"), pair, strict=True):
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                raise ArgumentTypeError(
                    f"report(): {name} must be a real number, got {describe(x)}"
                )
        self._reports.append((_plain(pair[0]), float(value)))

    def __repr__(self) -> str:
        return f"Context(job={self.job!r}, checkpoint_dir={str(self.checkpoint_dir)!r})"


def _plain(x: object) -> float:
    if isinstance(x, numbers.Integral):
        return int(x)
    assert isinstance(x, numbers.Real)
    return float(x)


@attrs.frozen(slots=False)
class _Outcome:
    """What a job attempt sends back from the worker (picklable, small)."""

    value: Any
    error: str | None
    start: float
    end: float
    worker: str
    reports: tuple[tuple[float, float], ...]


def _execute(objective: Objective, job: Job, with_context: bool, root: str | None) -> _Outcome:
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
            value = objective(config, job.budget, Context(job, directory, reports))
        else:
            value = objective(config, job.budget)
    except Exception:
        return _Outcome(None, traceback.format_exc(), start, time.time(), worker, tuple(reports))
    return _Outcome(value, None, start, time.time(), worker, tuple(reports))


def _takes_context(objective: Objective) -> bool:
    """True when the objective declares a third positional parameter."""
    try:
        signature = inspect.signature(objective)
    except (TypeError, ValueError):  # some builtins have none: call them with two arguments
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in signature.parameters.values()) >= 3


@attrs.define
class _Flight:
    """One attempt of a job, submitted and not yet resolved."""

    job: Job
    attempt: int
    submitted: float  # time.time()
    deadline: float  # time.monotonic(); inf without a timeout
    backend: Backend


class _Progress:
    """A tqdm bar on a terminal, else a plain stderr line at most every ``_LOG_EVERY`` s."""

    def __init__(self, enabled: bool, total: int | None, done: int, failed: int) -> None:
        self._enabled = enabled
        self._total = total
        self._bar: Any = None
        self._last = -math.inf
        self._done = done
        self._failed = failed
        if not enabled:
            return
        if sys.stderr is not None and sys.stderr.isatty():
            try:
                tqdm = importlib.import_module("tqdm.auto").tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(
                    total=total, initial=done, unit="job", desc="hyperband", file=sys.stderr
                )

    def update(self, done: int, failed: int, best: Best | None) -> None:
        if not self._enabled:
            return
        step = done - self._done
        self._done, self._failed = done, failed
        if self._bar is not None:
            self._bar.set_postfix_str(self._text(best, bar=True), refresh=False)
            self._bar.update(step)
            return
        now = time.monotonic()
        if now - self._last >= _LOG_EVERY:
            self._last = now
            self._line(best)

    def _text(self, best: Best | None, *, bar: bool) -> str:
        best_text = "none" if best is None else f"{best.value:.6g} (budget {best.budget})"
        text = f"best {best_text}, {self._failed} failed"
        if bar:
            return text
        total = "?" if self._total is None else str(self._total)
        return f"hyperband: {self._done}/{total} jobs done, {text}"

    def _line(self, best: Best | None) -> None:
        print(self._text(best, bar=False), file=sys.stderr, flush=True)

    def close(self, best: Best | None) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            self._line(best)


def _check_options(
    objective: object, timeout: object, retries: object, progress: object
) -> float | None:
    if not callable(objective):
        raise ArgumentTypeError(
            f"objective must be a callable objective(config, budget[, context]), got "
            f"{describe(objective)}"
        )
    if not isinstance(progress, bool):
        raise ArgumentTypeError(f"progress must be a bool, got {describe(progress)}")
    if isinstance(retries, bool) or not isinstance(retries, int):
        raise ArgumentTypeError(f"retries must be an int >= 0, got {describe(retries)}")
    if retries < 0:
        raise ConfigurationError(f"retries must be >= 0, got {describe(retries)}")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise ArgumentTypeError(
            f"timeout must be a number of seconds > 0 or None, got {describe(timeout)}"
        )
    seconds = float(timeout)
    if not seconds > 0 or not math.isfinite(seconds):
        raise ConfigurationError(
            f"timeout must be a finite number of seconds > 0 (or None), got {describe(timeout)}"
        )
    return seconds


def run(
    objective: Objective,
    space: Mapping[str, Any] | Sampler,
    *,
    max_budget: float,
    eta: float = 3,
    min_budget: float = 1,
    mode: str = "maximize",
    exec_mode: str = "parallelism",
    sizing: str = "li2018",
    iterations: int | None = 1,
    seed: int | None = None,
    executor: Any = "threads",
    workers: int | None = None,
    journal: str | os.PathLike[str] | None = None,
    progress: bool = True,
    timeout: float | None = None,
    retries: int = 0,
) -> RunResult:
    """Run a Hyperband study: every job of the schedule, on an executor, to the end.

    Args:
        objective: ``objective(config, budget)`` returns a number, or a dict with the number
            under ``"default"`` (the other keys are kept in ``JobRecord.extra``). If it declares
            a third parameter, it also receives a ``Context`` (the job, a checkpoint
            directory, ``report(step, value)``). For ``executor="processes"`` it must pickle (a
            module-level function).
        space: a search space in NNI's format, or a sampler (see
            [`Hyperband`][hyperband.Hyperband]).
        max_budget: the budget of the last rung of every bracket (NNI's ``R``).
        eta: the halving rate (> 1).
        min_budget: the smallest budget a rung may get.
        mode: ``"maximize"`` or ``"minimize"``.
        exec_mode: ``"parallelism"`` or ``"serial"`` (see [`Hyperband`][hyperband.Hyperband]).
        sizing: ``"li2018"`` or ``"table"`` (see [`schedule`][hyperband.schedule]).
        iterations: how many times to run the schedule; ``None`` runs until interrupted.
        seed: the seed; ``None`` draws one (recorded in the result's ``params`` and the
            journal; resuming a journal reuses it).
        executor: ``"serial"`` (in this thread, for debugging), ``"threads"``,
            ``"processes"``, ``"dask"`` (a dask ``LocalCluster`` of ``workers`` processes;
            extra ``dask``), or an object with the concurrent.futures ``submit``
            (``ThreadPoolExecutor``, ``ProcessPoolExecutor``, loky, mpi4py.futures, a dask
            ``Client``). Executors the run creates, it shuts down; executors passed in are
            left open.
        workers: how many jobs to keep in flight; ``None``: the executor's size (its
            ``_max_workers``), else ``os.cpu_count()``. Always 1 for ``"serial"``.
        journal: a JSON-lines file recording the study. If it exists, the study resumes from
            it (the other study parameters must match it); jobs that were running re-run.
        progress: a tqdm bar when stderr is a terminal and tqdm is installed, else a line on
            stderr at most every 10 s; ``False`` for silence.
        timeout: seconds a job may take from submission; a job over it fails (its worker
            process is killed; a thread cannot be, so it is abandoned). Not with ``"serial"``.
        retries: how many times a failed job is tried again before it counts as failed.

    Returns:
        A [`RunResult`][hyperband.RunResult]: ``best``, ``history`` (one
        [`JobRecord`][hyperband.JobRecord] per job), ``schedule``, ``params``.

    Raises:
        HyperbandError: a bad argument (naming it), or a journal that belongs to another
            study (``JournalMismatchError``) or is corrupt (``JournalError``).
        KeyboardInterrupt: on Ctrl-C, after cancelling the running jobs and closing the
            journal: run again with the same journal to resume.

    Example:
        >>> import hyperband
        >>> space = {"x": {"_type": "uniform", "_value": [-1, 1]}}
        >>> result = hyperband.run(lambda config, budget: -config["x"] ** 2, space,
        ...                        max_budget=9, seed=0, progress=False)
        >>> result.best.budget, result.n_failed
        (9, 0)
    """
    limit = _check_options(objective, timeout, retries, progress)
    study: dict[str, Any] = {
        "mode": mode,
        "exec_mode": exec_mode,
        "sizing": sizing,
        "iterations": iterations,
    }
    # Validate every study argument before touching the file system or starting workers.
    Hyperband(space, max_budget, eta, min_budget, seed=0 if seed is None else seed, **study)
    if limit is not None and executor == "serial":
        raise ConfigurationError(
            f"timeout needs a pool: executor='serial' runs jobs in the calling thread and cannot "
            f"stop one, got timeout={describe(timeout)}; use executor='threads' or 'processes'"
        )
    if executor == "processes":
        try:
            pickle.dumps(objective)
        except Exception as exc:
            raise ArgumentTypeError(
                "objective must pickle for executor='processes' (define it at module level, "
                f"not as a lambda or closure), got {describe(objective)}: {exc}"
            ) from exc
    validate(executor, workers)
    with_context = _takes_context(objective)

    jl: Journal | None = None
    scratch: str | None = None
    backends: list[Backend] = []
    try:
        records: list[JobRecord] = []
        if journal is not None:
            jl, events = Journal.open(journal)
            if events:
                journal_seed = (events[0].get("params") or {}).get("seed")
                hb = Hyperband(
                    space,
                    max_budget,
                    eta,
                    min_budget,
                    seed=seed
                    if seed is not None or not isinstance(journal_seed, int)
                    else journal_seed,
                    **study,
                )
                check_header(jl.path, events[0], {**hb.params, "seed": seed}, hb.sampler)
                records = replay(jl.path, hb, events[1:])
                logger.info(
                    "journal %s: resuming (%d jobs done, %d to run again)",
                    jl.path,
                    len(records),
                    len(hb.pending),
                )
            else:
                hb = Hyperband(space, max_budget, eta, min_budget, seed=seed, **study)
                jl.write(header(hb), sync=True)
            root: str | None = str(jl.path.with_name(jl.path.stem + ".checkpoints"))
        else:
            hb = Hyperband(space, max_budget, eta, min_budget, seed=seed, **study)
            root = None
        if with_context and root is None:
            scratch = root = tempfile.mkdtemp(prefix="hyperband-checkpoints-")

        # Last: it may start worker processes, pointless if the journal is refused.
        backends.append(resolve(executor, workers))
        driver = _Driver(hb, objective, backends, jl, records, with_context, root, limit, retries)
        total = None if iterations is None else hb.schedule.total_jobs * iterations
        failed = sum(r.status == "failed" for r in records)
        bar = _Progress(progress, total, len(records), failed)
        driver.progress = bar
        try:
            driver.loop()
        except BaseException as exc:
            logger.warning(
                "run %s: %d running jobs cancelled%s",
                "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped ({exc!r})",
                len(driver.inflight),
                "" if jl is None else f"; run again with journal={str(jl.path)!r} to resume",
            )
            raise
        finally:
            bar.close(hb.best)
        return RunResult(hb.best, tuple(driver.records), hb.schedule, hb.params)
    finally:
        for b in backends:
            if b.owned:
                b.shutdown(cancel=True)
        if jl is not None:
            jl.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


class _Driver:
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
        self.progress: _Progress | None = None
        self.inflight: dict[concurrent.futures.Future[Any], _Flight] = {}
        # Futures of jobs already resolved (timed out) whose worker is still busy: they hold
        # a slot until they finish, and their outcome is ignored.
        self.stuck: set[concurrent.futures.Future[Any]] = set()
        # Jobs to submit before asking for new ones: a resumed study's pending jobs, retries.
        self.queue: collections.deque[tuple[Job, int]] = collections.deque(
            (job, 1) for job in hb.pending
        )
        self.n_failed = sum(r.status == "failed" for r in records)

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
            done, _ = concurrent.futures.wait(
                [*self.inflight, *self.stuck],
                timeout=delay,
                return_when=concurrent.futures.FIRST_COMPLETED,
            )
            for future in done:
                self.stuck.discard(future)
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
        try:
            future = backend.submit(_execute, self.objective, job, self.with_context, self.root)
        except concurrent.futures.BrokenExecutor as exc:
            self.replace(backend, exc)
            self.queue.appendleft((job, attempt))
            return
        self.inflight[future] = _Flight(job, attempt, submitted, deadline, backend)

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
                self.stuck.add(future)
            reason = f"timed out after {self.timeout:g} s (the run's timeout)"
            self.failed(flight, reason, flight.submitted, time.time(), "", ())

    def complete(self, future: concurrent.futures.Future[Any], flight: _Flight) -> None:
        job = flight.job
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
        if not isinstance(out, _Outcome):  # pragma: no cover - a misbehaving executor
            self.failed(
                flight, f"executor returned {describe(out)}", flight.submitted, time.time(), "", ()
            )
            return
        if out.error is not None:
            self.failed(flight, out.error, out.start, out.end, out.worker, out.reports)
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

    def failed(
        self,
        flight: _Flight,
        reason: str,
        start: float,
        end: float,
        worker: str,
        reports: tuple[tuple[float, float], ...],
    ) -> None:
        job = flight.job
        if flight.attempt <= self.retries:
            logger.info(
                "job %d failed (attempt %d of %d), retrying: %s",
                job.id,
                flight.attempt,
                self.retries + 1,
                reason.strip().splitlines()[-1] if reason.strip() else reason,
            )
            self.queue.appendleft((job, flight.attempt + 1))
            return
        result = self.hb.fail(job.id, reason)
        self.n_failed += 1
        self.record(
            JobRecord(
                job, "failed", None, {}, result.error, start, end, worker, reports, flight.attempt
            )
        )

    def record(self, rec: JobRecord) -> None:
        if self.journal is not None:
            self.journal.result(rec)
        self.records.append(rec)
        logger.debug("job %d %s: %s", rec.job.id, rec.status, rec.value)
        if self.progress is not None:
            self.progress.update(len(self.records), self.n_failed, self.hb.best)
