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
import contextlib
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

from hyperband.core.errors import (
    ArgumentTypeError,
    ConfigurationError,
    HyperbandError,
    InvalidResultError,
    TooManyFailuresError,
    describe,
)
from hyperband.core.jobs import STOP, Best, EarlyStopped, Job
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import Sampler, space_or_sampler
from hyperband.core.schedule import DEFAULT_MAX_JOBS, degenerate
from hyperband.drivers.channel import DirectReporter, ReportServer, Request
from hyperband.drivers.checkpoints import KEEP_CHECKPOINTS, CheckpointPruner
from hyperband.drivers.executors import (
    Backend,
    ExternalBackend,
    ProcessBackend,
    ThreadBackend,
    WorkerDiedError,
    resolve,
    validate,
    worker_label,
)
from hyperband.drivers.journal import Journal, check_header, header, objective_name, replay
from hyperband.drivers.records import JobRecord, RunResult

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
            removed when the run ends. By default (``run(keep_checkpoints="best")``) it is
            removed once the configuration can no longer be promoted, unless it is the best.

    Example:
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
        point = (_plain(step), float(number))
        if self._reporter is None:
            self._reports.append(point)
            return
        decision = self._reporter(point[0], value)
        self._reports.append(point)
        if decision == "STOP":
            raise EarlyStopped(self.job.id, point[0], point[1])

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
    stopped: bool = False  # the objective let EarlyStopped out


def _execute(
    objective: Objective,
    job: Job,
    with_context: bool,
    root: str | None,
    reporter: Any = None,
) -> _Outcome:
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
        return _Outcome(None, None, start, time.time(), worker, tuple(reports), True)
    except Exception:
        return _Outcome(None, traceback.format_exc(), start, time.time(), worker, tuple(reports))
    finally:
        if reporter is not None:
            reporter.close()
    return _Outcome(value, None, start, time.time(), worker, tuple(reports))


def _step_not_past(step: object, mark: float) -> bool:
    """True when a re-run attempt's report is at or before where the earlier attempt got."""
    if type(step) is bool or not isinstance(step, numbers.Real):
        return False  # a bad step: the machine says what is wrong with it
    return float(step) <= mark


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
    # With early stopping: the last step the machine has for this job from an earlier attempt
    # (a retry, a resumed study). The attempt's reports up to it are not judged again: they
    # would go backwards; from its first report past it on, the machine judges as usual.
    catch_up: float | None = None


class _Progress:
    """A tqdm bar on a terminal, else a plain stderr line at most every ``_LOG_EVERY`` s.

    The bar advances by each finished job's budget, not by one: a job at budget 81 takes
    about 81 times one at budget 1, so tqdm's time left is then an estimate of the time left
    (counting jobs, it said "3 s left" with the long jobs, 7 s, still to run). The jobs done
    are shown next to it.
    """

    def __init__(
        self,
        enabled: bool,
        total: int | None,
        done: int,
        failed: int,
        total_budget: float | None = None,
        spent: float = 0.0,
    ) -> None:
        self._enabled = enabled
        self._total = total
        self._total_budget = total_budget
        self._bar: Any = None
        self._last = -math.inf
        self._done = done
        self._failed = failed
        self._spent = spent
        if not enabled:
            return
        if sys.stderr is not None and sys.stderr.isatty():
            try:
                tqdm = importlib.import_module("tqdm.auto").tqdm
            except ImportError:
                pass
            else:
                # tqdm shows float counts with all their digits: the bar shows percentages.
                fmt = (
                    None
                    if total_budget is None
                    else "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
                )
                self._bar = tqdm(
                    total=total_budget,
                    initial=spent,
                    unit="budget",
                    desc="hyperband",
                    file=sys.stderr,
                    bar_format=fmt,
                )
                self._bar.set_postfix_str(self._text(None, bar=True), refresh=False)

    def update(self, done: int, failed: int, best: Best | None, budget: float = 0.0) -> None:
        if not self._enabled:
            return
        self._done, self._failed = done, failed
        self._spent += budget
        if self._bar is not None:
            self._bar.set_postfix_str(self._text(best, bar=True), refresh=False)
            self._bar.update(budget)
            return
        now = time.monotonic()
        if now - self._last >= _LOG_EVERY:
            self._last = now
            self._line(best)

    def _text(self, best: Best | None, *, bar: bool) -> str:
        best_text = "none" if best is None else f"{best.value:.6g} (budget {best.budget})"
        total = "?" if self._total is None else str(self._total)
        text = f"best {best_text}, {self._failed} failed"
        if bar:
            return f"{self._done}/{total} jobs, {text}"
        of = "" if self._total_budget is None else f" of {self._total_budget:g}"
        return (
            f"hyperband: {self._done}/{total} jobs done ({self._spent:g}{of} budget units), {text}"
        )

    def _line(self, best: Best | None) -> None:
        print(self._text(best, bar=False), file=sys.stderr, flush=True)

    def close(self, best: Best | None, *, complete: bool = False) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            if complete and self._total_budget is not None:
                # Failed jobs are not promoted, so a study can end short of its scheduled budget.
                self._bar.total = self._bar.n
                self._bar.refresh()
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


def _check_identity_options(study_name: object, allow_objective_change: object) -> None:
    if study_name is not None and not isinstance(study_name, str):
        raise ArgumentTypeError(f"study_name must be a str or None, got {describe(study_name)}")
    if not isinstance(allow_objective_change, bool):
        raise ArgumentTypeError(
            f"allow_objective_change must be a bool, got {describe(allow_objective_change)}"
        )


def _check_max_failures(max_failures: object) -> None:
    if max_failures is None:
        return
    if isinstance(max_failures, bool) or not isinstance(max_failures, int):
        raise ArgumentTypeError(
            f"max_failures must be an int >= 1 or None, got {describe(max_failures)}"
        )
    if max_failures < 1:
        raise ConfigurationError(
            f"max_failures must be >= 1 (or None), got {describe(max_failures)}"
        )


def run(
    objective: Objective,
    space: Mapping[str, Any] | Sampler | None,
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
    study_name: str | None = None,
    allow_objective_change: bool = False,
    max_failures: int | None = None,
    keep_checkpoints: str = "best",
    sampler: str | Sampler | None = None,
    sampler_options: Mapping[str, Any] | None = None,
    early_stop: Any = None,
    max_jobs: int | None = DEFAULT_MAX_JOBS,
) -> RunResult:
    """Run a Hyperband study: every job of the schedule, on an executor, to the end.

    Args:
        objective: ``objective(config, budget)`` returns a number, or a dict with the number
            under ``"default"`` (the other keys are kept in ``JobRecord.extra``). If it declares
            a third parameter, it also receives a ``Context`` (the job, a checkpoint
            directory, ``report(step, value)``). For ``executor="processes"`` it must pickle (a
            module-level function).
        space: a search space in NNI's format, or a sampler (see `hyperband.Hyperband`);
            ``None`` when ``sampler`` is a sampler object.
        max_budget: the budget of the last rung of every bracket (NNI's ``R``).
        eta: the halving rate (> 1).
        min_budget: the smallest budget a rung may get.
        mode: ``"maximize"`` or ``"minimize"``.
        exec_mode: ``"parallelism"``, ``"serial"`` or ``"asynchronous"`` (ASHA; see
            `hyperband.Hyperband`).
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
            it (the other study parameters, the objective's ``module:qualname`` and
            ``study_name`` must match it); jobs that were running re-run. A file that is not
            a journal is refused, unchanged.
        progress: a tqdm bar when stderr is a terminal and tqdm is installed, else a line on
            stderr at most every 10 s; ``False`` for silence.
        timeout: seconds a job may take from submission; a job over it fails (its worker
            process is killed; a thread cannot be, so it is abandoned). Not with ``"serial"``.
        retries: how many times a failed job is tried again before it counts as failed.
        study_name: a name for the study, recorded in the journal; resuming the journal
            needs the same name.
        allow_objective_change: resume a journal written by an objective of another
            ``module:qualname`` (a function you renamed or moved); by default that is a
            ``JournalMismatchError``, so two objectives never mix their results.
        max_failures: stop the run (fail fast) once this many of its jobs failed (after
            their retries), raising ``hyperband.TooManyFailuresError``; ``None``: never.
            A resumed study counts only the failures of this run.
        keep_checkpoints: ``"best"`` removes a configuration's checkpoint directory once it
            can no longer be promoted (it failed, reached its bracket's last rung, or a closed
            rung did not promote it), except the best configuration's; never one that a
            pending or queued promotion will resume. ``"all"`` keeps every directory.
        sampler: where configurations come from: ``None`` (the ``space`` argument: a space
            is sampled at random), ``"random"``, ``"kde"`` (`hyperband.KDESampler`, BOHB's
            model), or a sampler object. A named sampler is built fresh over ``space``.
        sampler_options: keyword arguments for a named sampler (``{"top_fraction": 0.1}``).
        early_stop: ``None``, ``"median"``, ``"rung"`` or a rule object (see
            `hyperband.Hyperband`): then ``context.report(step, value)`` asks the machine, and
            raises `hyperband.EarlyStopped` in the objective when the job is stopped; the job
            is recorded with status ``"stopped"``.
        max_jobs: refuse a schedule of more jobs per iteration than this (see
            `hyperband.schedule`); ``None`` for no bound.

    Returns:
        A [`RunResult`][hyperband.RunResult]: ``best``, ``history`` (one
        [`JobRecord`][hyperband.JobRecord] per job), ``schedule``, ``params``. A run stopped
        by an exception (``TooManyFailuresError``, ``KeyboardInterrupt``, or a lost dask
        scheduler) attaches the ``RunResult`` so far to it as ``exc.result`` (with
        ``done=False``).

    Raises:
        HyperbandError: a bad argument (naming it), or a journal that belongs to another
            study (``JournalMismatchError``) or is corrupt (``JournalError``).
        TooManyFailuresError: ``max_failures`` jobs failed; the running jobs were cancelled
            and the journal closed (run again with it to resume).
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
    _check_identity_options(study_name, allow_objective_change)
    _check_max_failures(max_failures)
    if keep_checkpoints not in KEEP_CHECKPOINTS:
        raise ConfigurationError(
            f"keep_checkpoints must be one of {', '.join(map(repr, KEEP_CHECKPOINTS))}, got "
            f"{describe(keep_checkpoints)}"
        )
    make_space = space_or_sampler(space, sampler, sampler_options)
    study: dict[str, Any] = {
        "mode": mode,
        "exec_mode": exec_mode,
        "sizing": sizing,
        "iterations": iterations,
        "early_stop": early_stop,
        "max_jobs": max_jobs,
    }
    # Validate every study argument before touching the file system or starting workers.
    probe = Hyperband(
        make_space(), max_budget, eta, min_budget, seed=0 if seed is None else seed, **study
    )
    reason = degenerate(probe.schedule)
    if reason is not None:
        logger.warning("%s", reason)
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
    driver: _Driver | None = None
    try:
        records: list[JobRecord] = []
        if journal is not None:
            jl, events = Journal.open(journal)
            if events:
                journal_seed = (events[0].get("params") or {}).get("seed")
                hb = Hyperband(
                    make_space(),
                    max_budget,
                    eta,
                    min_budget,
                    seed=seed
                    if seed is not None or not isinstance(journal_seed, int)
                    else journal_seed,
                    **study,
                )
                check_header(
                    jl.path,
                    events[0],
                    {**hb.params, "seed": seed},
                    hb.sampler,
                    objective=objective_name(objective),
                    study_name=study_name,
                    allow_objective_change=allow_objective_change,
                )
                records = replay(jl.path, hb, events[1:])
                jl.cut_torn_tail()  # only now: the journal is this study's
                # A job stopped just before a kill has its stop in the journal, not its result.
                have = {e.get("job_id") for e in events if e.get("event") == "result"}
                for rec in records:
                    if rec.job.id not in have:
                        jl.result(rec)
                logger.info(
                    "journal %s: resuming (%d jobs done, %d to run again)",
                    jl.path,
                    len(records),
                    len(hb.pending),
                )
            else:
                hb = Hyperband(make_space(), max_budget, eta, min_budget, seed=seed, **study)
                study_header = header(
                    hb, objective=objective_name(objective), study_name=study_name
                )
                jl.write(study_header, sync=True)
            root: str | None = str(jl.path.with_name(jl.path.stem + ".checkpoints"))
        else:
            hb = Hyperband(make_space(), max_budget, eta, min_budget, seed=seed, **study)
            root = None
        if with_context and root is None:
            scratch = root = tempfile.mkdtemp(prefix="hyperband-checkpoints-")

        # Last: it may start worker processes, pointless if the journal is refused.
        backends.append(resolve(executor, workers))
        driver = _Driver(hb, objective, backends, jl, records, with_context, root, limit, retries)
        driver.max_failures = max_failures
        if hb.early_stop is not None and with_context:
            driver.listen()
        if with_context and root is not None and keep_checkpoints != "all":
            driver.pruner = CheckpointPruner(root, keep_checkpoints)
        total = None if iterations is None else hb.schedule.total_jobs * iterations
        total_budget = None if iterations is None else float(hb.schedule.total_budget) * iterations
        failed = sum(r.status == "failed" for r in records)
        spent = math.fsum(float(r.job.budget) for r in records)
        bar = _Progress(progress, total, len(records), failed, total_budget, spent)
        driver.progress = bar
        try:
            driver.loop()
        except BaseException as exc:
            # The library's own stop reasons explain themselves in their message.
            logger.log(
                logging.INFO if isinstance(exc, HyperbandError) else logging.WARNING,
                "run %s: %d running jobs cancelled%s",
                "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped ({exc!r})",
                len(driver.inflight),
                "" if jl is None else f"; run again with journal={str(jl.path)!r} to resume",
            )
            so_far = RunResult._of(hb, driver.records, done=False)
            with contextlib.suppress(AttributeError):  # an exception class with __slots__
                exc.result = so_far  # type: ignore[attr-defined]
            raise
        finally:
            bar.close(hb.best, complete=hb.done)
        if driver.pruner is not None:
            driver.pruner.prune(hb, driver.stuck.values())
        return RunResult._of(hb, driver.records)
    finally:
        if driver is not None and driver.server is not None:
            driver.server.close()
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
        # a slot until they finish, and their outcome is ignored. Values: their config ids.
        self.stuck: dict[concurrent.futures.Future[Any], int] = {}
        self.pruner: CheckpointPruner | None = None
        # Jobs to submit before asking for new ones: a resumed study's pending jobs, retries.
        self.queue: collections.deque[tuple[Job, int]] = collections.deque(
            (job, 1) for job in hb.pending
        )
        self.n_failed = sum(r.status == "failed" for r in records)
        self.max_failures: int | None = None
        self.failures = 0  # in this run, for max_failures
        # Early stopping: where reports arrive, the attempt running each job, and the jobs the
        # machine stopped while their attempt runs: job id -> (step, value) of the stop.
        self.server: ReportServer | None = None
        self.current: dict[int, _Flight] = {}
        self.stopped: dict[int, tuple[float, float]] = {}

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
            if _step_not_past(request.step, flight.catch_up):
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
            self.stopped[request.job_id] = (_plain(request.step), float(number))
            logger.debug("job %d stopped at step %s", request.job_id, request.step)
        request.answer(("ok", decision.name))

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
        flight = _Flight(job, attempt, submitted, deadline, backend)
        if self.server is not None:
            earlier = self.hb.reports(job.id)
            flight.catch_up = float(earlier[-1][0]) if earlier else None
        # Before submitting: a serial job reports (and may be stopped) inside submit().
        self.current[job.id] = flight
        try:
            future = backend.submit(
                _execute,
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

    def complete(self, future: concurrent.futures.Future[Any], flight: _Flight) -> None:
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
        if not isinstance(out, _Outcome):  # pragma: no cover - a misbehaving executor
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

    def record_stop(self, future: concurrent.futures.Future[Any], flight: _Flight) -> None:
        """The job the machine stopped has ended: record it as stopped, keeping what it did."""
        job = flight.job
        step, value = self.stopped.pop(job.id)
        self.current.pop(job.id, None)
        extra: dict[str, Any] = {"stopped_at": _plain(step)}
        start, end, worker = flight.submitted, time.time(), ""
        reports: tuple[tuple[float, float], ...] = ()
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            extra["after_stop"] = f"{type(exc).__name__}: {exc}"
        elif not future.cancelled():
            out = future.result()
            if isinstance(out, _Outcome):
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
        flight: _Flight,
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
            extra = {"stopped_at": _plain(step), "after_stop": last}
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
                reason.strip().splitlines()[-1] if reason.strip() else reason,
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
        if self.max_failures is not None and self.failures >= self.max_failures:
            last = reason.strip().splitlines()[-1] if reason.strip() else "(no reason given)"
            raise TooManyFailuresError(
                self.failures, self.max_failures, f"job {job.id} at budget {job.budget}: {last}"
            )

    def record(self, rec: JobRecord) -> None:
        if self.journal is not None:
            self.journal.result(rec)
        self.records.append(rec)
        logger.debug("job %d %s: %s", rec.job.id, rec.status, rec.value)
        if self.progress is not None:
            self.progress.update(len(self.records), self.n_failed, self.hb.best, rec.job.budget)
        if self.pruner is not None:
            self.pruner.after_result(self.hb, self.stuck.values())
