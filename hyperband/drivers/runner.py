"""``hyperband.run``: drive a ``Hyperband`` machine with an executor.

``run`` is a pipeline of named steps: check the options, open or resume the journal (which
builds the machine), start the executor, drive the machine to the end (``driver.Driver``, the
only place with threads, clocks and files), and summarise the records as a ``RunResult``.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from hyperband.core.errors import ConfigurationError, HyperbandError
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import Sampler
from hyperband.core.schedule import DEFAULT_MAX_JOBS, degenerate
from hyperband.drivers.context import Context, Objective, takes_context
from hyperband.drivers.defaults import Choices
from hyperband.drivers.driver import Driver
from hyperband.drivers.executors import Backend, resolve
from hyperband.drivers.job_record import JobRecord
from hyperband.drivers.journal import (
    Journal,
    check_header,
    earlier_attempts,
    header,
    objective_name,
    read,
    replay,
    retryable,
)
from hyperband.drivers.options import check_executor, check_options
from hyperband.drivers.progress import Progress
from hyperband.drivers.records import RunResult
from hyperband.drivers.worker_start import refuse_nested_study

__all__ = ["Context", "run"]

logger = logging.getLogger("hyperband")


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
    brackets: str | None = None,
    retry_failed: bool = False,
    fail_fast: int | None = None,
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
            can no longer be promoted (it failed or was stopped, reached its bracket's last
            rung, or a closed rung did not promote it; under ``"asynchronous"``, once no result
            can reach its rung and ASHA will not promote it), except the best configuration's;
            never one that a pending or queued promotion will resume. ``"all"`` keeps every
            directory.
        sampler: where configurations come from: ``None`` (the ``space`` argument: a space
            is sampled at random), ``"random"``, ``"kde"`` (`hyperband.KDESampler`, BOHB's
            model), or a sampler object. A named sampler is built fresh over ``space``.
        sampler_options: keyword arguments for a named sampler (``{"top_fraction": 0.1}``).
        early_stop: ``None``, ``"median"``, ``"rung"``, ``"curve"`` or a rule object (see
            `hyperband.Hyperband`): then ``context.report(step, value)`` asks the machine, and
            raises `hyperband.EarlyStopped` in the objective when the job is stopped; the job
            is recorded with status ``"stopped"``.
        max_jobs: refuse a schedule of more jobs per iteration than this (see
            `hyperband.schedule`); ``None`` for no bound.
        brackets: ``"cycle"`` (NNI's order) or ``"adaptive"`` (each new bracket run drawn from
            the budgets' trust weights; see `hyperband.Hyperband`).
        retry_failed: when resuming a journal, run its failed jobs again (each a new attempt,
            counted in ``JobRecord.attempts``; the journal records a ``retry`` event). Only
            failures the study did not go on from: a job whose rung closed without it (and
            promoted others) or whose bracket then ended stays failed; the progress output
            says how many. Needs ``journal``.
        fail_fast: stop the run, raising ``hyperband.TooManyFailuresError``, when each of its
            first ``fail_fast`` finished jobs failed: an objective that fails every time (a
            misspelt hyperparameter, a missing file) then costs that many jobs, not every job
            of the first rungs. ``None``: never (``hyperband run`` uses 10).

    Returns:
        A [`RunResult`][hyperband.RunResult]: ``best``, ``history`` (one
        [`JobRecord`][hyperband.JobRecord] per job), ``schedule``, ``params``. A run stopped
        by an exception (``TooManyFailuresError``, ``KeyboardInterrupt``, or a lost dask
        scheduler) attaches the ``RunResult`` so far to it as ``exc.result`` (with
        ``done=False``).

    Raises:
        HyperbandError: a bad argument (naming it), or a journal that belongs to another
            study (``JournalMismatchError``) or is corrupt (``JournalError``).
        TooManyFailuresError: ``max_failures`` jobs failed, or the first ``fail_fast`` all
            did; the running jobs were cancelled
            and the journal closed (run again with it to resume).
        KeyboardInterrupt: on Ctrl-C, after cancelling the running jobs and closing the
            journal: run again with the same journal to resume.
        WorkerStartError: ``executor="processes"`` cannot start its worker processes (a
            script without the ``if __name__ == "__main__":`` guard, or read from standard
            input), or ``run`` was called while a worker process imported such a script.

    Examples:
        >>> import hyperband
        >>> space = {"x": {"_type": "uniform", "_value": [-1, 1]}}
        >>> result = hyperband.run(lambda config, budget: -config["x"] ** 2, space,
        ...                        max_budget=9, seed=0, progress=False)
        >>> result.best.budget, result.n_failed
        (9, 0)
    """
    # First: in a worker process importing an unguarded script, no study may start at all.
    refuse_nested_study()
    limit = check_options(
        objective,
        timeout=timeout,
        retries=retries,
        progress=progress,
        study_name=study_name,
        allow_objective_change=allow_objective_change,
        max_failures=max_failures,
        keep_checkpoints=keep_checkpoints,
        fail_fast=fail_fast,
    )
    study = _Study(
        Choices(space, sampler, sampler_options, brackets),
        max_budget,
        eta,
        min_budget,
        seed,
        {
            "mode": mode,
            "exec_mode": exec_mode,
            "sizing": sizing,
            "iterations": iterations,
            "early_stop": early_stop,
            "max_jobs": max_jobs,
        },
    )
    study.probe()
    check_executor(objective, executor, workers, timeout, limit)
    with_context = takes_context(objective)
    with contextlib.ExitStack() as cleanup:
        hb, records, jl, resumed = _open(
            study, journal, objective, study_name, allow_objective_change, retry_failed
        )
        if jl is not None:
            cleanup.callback(jl.close)
        root = _checkpoint_root(jl, with_context, cleanup)
        # Last: it may start worker processes, pointless if the journal is refused.
        backends: list[Backend] = []
        cleanup.callback(_shut_down, backends)  # first: a Ctrl-C may come as soon as it exists
        backends.append(resolve(executor, workers))
        _check_checkpoints(backends[0], with_context, root)
        driver = Driver(hb, objective, backends, jl, records, with_context, root, limit, retries)
        cleanup.callback(driver.close)
        driver.configure(max_failures, keep_checkpoints, fail_fast)
        driver.progress = _progress(progress, hb, records, iterations)
        resumed.start(driver)
        _drive(driver, driver.progress)
        return RunResult._of(hb, driver.records, workers=driver.backend.capacity)


@attrs.frozen
class _Study:
    """What builds the study's machine: all of it but the seed, the sampler and the bracket
    order when a journal supplies them (``journal``: its header, once read)."""

    choices: Choices
    max_budget: float
    eta: float
    min_budget: float
    seed: int | None
    options: dict[str, Any]
    journal: Mapping[str, Any] | None = None

    def machine(self, seed: int | None) -> Hyperband:
        make_space, brackets = self.choices.resolve(self.journal)
        return Hyperband(
            make_space(),
            self.max_budget,
            self.eta,
            self.min_budget,
            seed=seed,
            brackets=brackets,
            **self.options,
        )

    def probe(self) -> None:
        """Validate every study argument before touching the file system or starting workers."""
        self.choices.check()
        reason = degenerate(self.machine(0 if self.seed is None else self.seed).schedule)
        if reason is not None:
            logger.warning("%s", reason)


def _open(
    study: _Study,
    journal: str | os.PathLike[str] | None,
    objective: Objective,
    study_name: str | None,
    allow_objective_change: bool,
    retry_failed: bool,
) -> tuple[Hyperband, list[JobRecord], Journal | None, _Resumed]:
    """The machine and the records so far: a new study, or the journal's, replayed."""
    resumed = _Resumed(retry_failed)
    if journal is None:
        if retry_failed:
            raise ConfigurationError(
                "retry_failed=True re-runs the failed jobs of a journal, but no journal was "
                "given: pass journal= (CLI: --journal)"
            )
        return study.machine(study.seed), [], None, resumed
    jl, events = Journal.open(journal)
    try:
        if not events:
            hb = study.machine(study.seed)
            jl.write(
                header(hb, objective=objective_name(objective), study_name=study_name), sync=True
            )
            return hb, [], jl, resumed
        hb, records = _resume(
            jl, events, study, objective, study_name, allow_objective_change, resumed
        )
    except BaseException:
        jl.close()
        raise
    return hb, records, jl, resumed


def _resume(
    jl: Journal,
    events: list[dict[str, Any]],
    study: _Study,
    objective: Objective,
    study_name: str | None,
    allow_objective_change: bool,
    resumed: _Resumed,
) -> tuple[Hyperband, list[JobRecord]]:
    """Replay the journal of this study (checked first) into a fresh machine; with
    ``retry_failed``, journal the failures that can run again and replay it once more."""
    journal_seed = (events[0].get("params") or {}).get("seed")
    study = attrs.evolve(study, journal=events[0])
    seed = study.seed
    machine = functools.partial(
        study.machine,
        seed if seed is not None or not isinstance(journal_seed, int) else journal_seed,
    )
    hb = machine()
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
    resumed.resumed, resumed.running = True, len(hb.pending)
    resumed.counts.update(r.status for r in records)
    failed = [r.job.id for r in records if r.status == "failed"]
    if resumed.retry_failed and failed:
        chosen = retryable(jl.path, machine, events[1:], failed)
        resumed.retried = len(chosen)
        for job_id in chosen:
            jl.retry(job_id)
        if chosen:
            # What a later resume reads: the journal as it now is, retry events included.
            events = read(jl.path)[0]
            hb = machine()
            records = replay(jl.path, hb, events[1:])
    resumed.earlier = earlier_attempts(events)
    logger.info(
        "journal %s: resuming (%d jobs done, %d to run again)",
        jl.path,
        len(records),
        len(hb.pending),
    )
    return hb, records


@attrs.define
class _Resumed:
    """What resuming a journal found and did, for the notices at the start of the run."""

    retry_failed: bool
    resumed: bool = False  # False: a new journal (or none)
    counts: collections.Counter[str] = attrs.Factory(collections.Counter)  # results by status
    running: int = 0  # jobs asked without a result: they run again
    retried: int = 0  # failed jobs sent back to run
    earlier: dict[int, int] = attrs.Factory(dict)  # job id -> attempts spent before

    def start(self, driver: Driver) -> None:
        """Before the run starts: count the earlier attempts, print the notices."""
        driver.earlier = self.earlier
        if self.resumed and driver.journal is not None and driver.progress is not None:
            for line in self.notices(driver.journal.path):
                driver.progress.notice(line)

    def notices(self, path: Path) -> list[str]:
        """What the progress output says at the start of a resumed run."""
        count = self.counts
        failed = count["failed"]
        lines = [
            f"resuming the journal {str(path)!r}: {_counted(count.total(), 'result')}: "
            f"{count['succeeded']} succeeded, {failed} failed, {count['stopped']} stopped"
            + (
                f"; {_counted(self.running, 'job')} that were running run again"
                if self.running
                else ""
            )
        ]
        if failed and self.retry_failed:
            refused = failed - self.retried
            lines.append(
                f"retry_failed: re-running {self.retried} of the {_counted(failed, 'failed job')}"
                + (
                    f"; {refused} cannot be re-run: the study went on from their failure (a "
                    "closed rung, an ended bracket, or draws that learned from it)"
                    if refused
                    else ""
                )
            )
        elif failed:
            lines.append(
                f"{_counted(failed, 'failed job')} {'is' if failed == 1 else 'are'} not re-run; "
                "pass retry_failed=True (CLI: --retry-failed) to run them again"
            )
        return lines


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _checkpoint_root(
    jl: Journal | None, with_context: bool, cleanup: contextlib.ExitStack
) -> str | None:
    """Where the configurations' checkpoint directories go: by the journal, kept, else a
    temporary directory removed at the end (only for an objective that takes a context)."""
    if jl is not None:
        return str(jl.path.with_name(jl.path.stem + ".checkpoints"))
    if not with_context:
        return None
    scratch = tempfile.mkdtemp(prefix="hyperband-checkpoints-")
    cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
    return scratch


def _check_checkpoints(backend: Backend, with_context: bool, root: str | None) -> None:
    """Before the first job: a backend on a cluster checks that every node sees the checkpoint
    directory (``executor="ray"`` does; see ``RayBackend.check_directory``)."""
    check = getattr(backend, "check_directory", None)
    if with_context and root is not None and check is not None:
        check(root)


def _shut_down(backends: list[Backend]) -> None:
    """Shut down the backends the run created (a replacement too); leave the user's open."""
    for b in backends:
        if b.owned:
            b.shutdown(cancel=True)


def _progress(
    enabled: bool, hb: Hyperband, records: list[JobRecord], iterations: int | None
) -> Progress:
    """The progress display, counting the records a resumed study already has."""
    total = None if iterations is None else hb.schedule.total_jobs * iterations
    total_budget = None if iterations is None else float(hb.schedule.total_budget) * iterations
    failed = sum(r.status == "failed" for r in records)
    spent = math.fsum(r.cost for r in records)  # a stopped job up to its stop
    return Progress(enabled, total, len(records), failed, total_budget, spent)


def _drive(driver: Driver, bar: Progress) -> None:
    """Run the loop to the end, then remove the checkpoints no promotion needs; a run stopped
    by an exception attaches its result so far."""
    hb = driver.hb
    try:
        driver.loop()
    except BaseException as exc:
        # The library's own stop reasons explain themselves in their message.
        journal = driver.journal
        logger.log(
            logging.INFO if isinstance(exc, HyperbandError) else logging.WARNING,
            "run %s: %s cancelled%s",
            "interrupted" if isinstance(exc, KeyboardInterrupt) else f"stopped ({exc!r})",
            _counted(len(driver.inflight), "running job"),
            ""
            if journal is None
            else f"; the journal {str(journal.path)!r} holds every finished job: run again with "
            "it to resume",
        )
        so_far = RunResult._of(hb, driver.records, done=False, workers=driver.backend.capacity)
        with contextlib.suppress(AttributeError):  # an exception class with __slots__
            exc.result = so_far  # type: ignore[attr-defined]
        raise
    finally:
        bar.close(hb.best, complete=hb.done)
    if driver.pruner is not None:
        driver.pruner.prune(hb, driver.stuck.values())
