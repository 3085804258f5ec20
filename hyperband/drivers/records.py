"""What ``hyperband.run`` returns: a ``RunResult`` with one ``JobRecord`` per job."""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from hyperband.core.jobs import Best, Job, Stats
from hyperband.core.schedule import Schedule

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.core.machine import Hyperband
    from hyperband.core.sampling import Sampler

__all__ = ["JobRecord", "RunResult", "jsonable"]


def jsonable(obj: Any) -> Any:
    """``json.dumps(default=...)`` hook: numpy scalars and arrays, paths, sets; else ``repr``."""
    item = getattr(obj, "item", None)
    if callable(item) and getattr(obj, "shape", None) == ():
        return item()  # a numpy scalar or 0-d array
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return repr(obj)


@attrs.frozen(slots=False)
class JobRecord:
    """What happened to one job of a run.

    Attributes:
        job: the [`Job`][hyperband.Job] (its config, budget, bracket, rung, ...).
        status: ``"succeeded"``, ``"failed"``, or ``"stopped"`` (ended early by the stopping
            rule of ``run(early_stop=...)``).
        value: the objective value (the ``"default"`` of a dict result); for a stopped job the
            value of the report that stopped it; ``None`` on failure.
        extra: the other keys of a dict result. A stopped job's has ``"stopped_at"`` (the
            step), and ``"returned"`` or ``"after_stop"`` when the objective returned a value
            or failed after the stop (nothing is lost).
        error: for a failure, why: the objective's traceback, ``"worker process 123 died
            (killed by SIGSEGV)"``, ``"timed out after 5 s"``, ...; ``None`` on success.
        start: when the last attempt started (seconds since the epoch; measured in the worker
            when it returned, else when the driver submitted the job).
        end: when it ended (seconds since the epoch).
        worker: where the last attempt ran, ``"host/pid/thread name"``.
        reports: the ``(step, value)`` pairs the objective passed to ``context.report``.
        attempts: how many times the job ran (``1 + retries used``).

    Example:
        >>> import hyperband
        >>> result = hyperband.run(lambda config, budget: config["x"] * budget,
        ...                        {"x": {"_type": "uniform", "_value": [0, 1]}},
        ...                        max_budget=3, seed=0, progress=False)
        >>> record = result.history[0]
        >>> record.status, record.job.rung
        ('succeeded', 0)
    """

    job: Job
    status: Literal["succeeded", "failed", "stopped"]
    value: float | None
    extra: dict[str, Any] = attrs.field(factory=dict)
    error: str | None = None
    start: float = math.nan
    end: float = math.nan
    worker: str = ""
    reports: tuple[tuple[float, float], ...] = ()
    attempts: int = 1

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """The record as a flat JSON-serialisable dict (the job's fields first)."""
        job = self.job
        return {
            "job_id": job.id,
            "config_id": job.config_id,
            "iteration": job.iteration,
            "bracket": job.bracket,
            "rung": job.rung,
            "budget": job.budget,
            "previous_budget": job.previous_budget,
            "resume_from": job.resume_from,
            "config": job.config,
            **self._outcome(),
            "duration": self.duration,
        }

    def event(self) -> dict[str, Any]:
        """The journal's ``result`` event for this record."""
        return {"event": "result", "job_id": self.job.id, **self._outcome()}

    def _outcome(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "value": self.value,
            "extra": self.extra,
            "error": self.error,
            "start": self.start,
            "end": self.end,
            "worker": self.worker,
            "reports": [list(r) for r in self.reports],
            "attempts": self.attempts,
        }

    @classmethod
    def from_event(cls, job: Job, event: Mapping[str, Any]) -> JobRecord:
        """Rebuild a record from its journal ``result`` event."""
        value = event.get("value")
        return cls(
            job,
            event["status"],
            None if value is None else float(value),
            dict(event.get("extra") or {}),
            event.get("error"),
            float(event.get("start", math.nan)),
            float(event.get("end", math.nan)),
            str(event.get("worker", "")),
            tuple((r[0], r[1]) for r in event.get("reports") or ()),
            int(event.get("attempts", 1)),
        )


@attrs.frozen(slots=False)
class RunResult:
    """The outcome of [`hyperband.run`][hyperband.run].

    Attributes:
        best: the machine's [`Best`][hyperband.Best] (``None`` when no job succeeded).
        history: one [`JobRecord`][hyperband.JobRecord] per finished job, in the order they
            finished (for a resumed study, the journal's records first).
        schedule: the bracket [`Schedule`][hyperband.Schedule] of one iteration.
        params: the study's parameters (``max_budget``, ``eta``, ..., the ``seed`` used).
        done: whether every job of the study was resolved; ``False`` for the result a
            stopped run attaches to its exception (``KeyboardInterrupt``,
            ``TooManyFailuresError``) and for the journal of an unfinished
            study. A done study can have fewer jobs than scheduled: a failed job is never
            promoted.
        stats: the machine's counters (`hyperband.Stats`): jobs asked, succeeded, failed and
            stopped, reports, promotions, and the mispromotions of ``"asynchronous"`` mode
            (promoted configurations not among their rung's top in hindsight).

    Example:
        >>> import hyperband
        >>> result = hyperband.run(lambda config, budget: -(config["x"] - 0.3) ** 2,
        ...                        {"x": {"_type": "uniform", "_value": [0, 1]}},
        ...                        max_budget=9, seed=1, progress=False)
        >>> result.best.budget, len(result.history) == result.schedule.total_jobs
        (9, True)
        >>> rows = result.to_dicts()
    """

    best: Best | None
    history: tuple[JobRecord, ...]
    schedule: Schedule
    params: dict[str, Any] = attrs.field(factory=dict)
    done: bool = attrs.field(default=True, kw_only=True)
    stats: Stats | None = attrs.field(default=None, kw_only=True)

    @property
    def n_succeeded(self) -> int:
        """How many jobs succeeded."""
        return sum(r.status == "succeeded" for r in self.history)

    @property
    def n_failed(self) -> int:
        """How many jobs failed (after their retries)."""
        return sum(r.status == "failed" for r in self.history)

    @property
    def n_stopped(self) -> int:
        """How many jobs the stopping rule stopped early."""
        return sum(r.status == "stopped" for r in self.history)

    def to_dicts(self) -> list[dict[str, Any]]:
        """The history as a list of flat dicts (see
        [`JobRecord.to_dict`][hyperband.JobRecord.to_dict]).
        """
        return [r.to_dict() for r in self.history]

    def to_json(self, indent: int | None = None) -> str:
        """The best result, the parameters and the history as a JSON document."""
        doc = {
            "params": self.params,
            "best": None if self.best is None else self.best.to_dict(),
            "stats": None if self.stats is None else self.stats.to_dict(),
            "history": self.to_dicts(),
        }
        return json.dumps(doc, indent=indent, default=jsonable)

    def to_pandas(self) -> Any:
        """The history as a ``pandas.DataFrame``, one row per job (pandas is imported here).

        The configuration's top-level parameters become columns named ``config.<name>``.

        Raises:
            ImportError: pandas is not installed (``pip install pandas``).
        """
        try:
            pd = importlib.import_module("pandas")
        except ImportError as exc:
            raise ImportError(
                "RunResult.to_pandas() needs pandas: pip install pandas "
                "(or use to_dicts() / to_json())"
            ) from exc
        rows = []
        for row in self.to_dicts():
            config = row.pop("config")
            row.update({f"config.{k}": v for k, v in config.items()})
            rows.append(row)
        return pd.DataFrame(rows)

    @classmethod
    def from_journal(
        cls, path: str | os.PathLike[str], space: Mapping[str, Any] | Sampler | None = None
    ) -> RunResult:
        """Rebuild the result of a study (finished or not) from its journal, read-only.

        Args:
            path: the journal file written by ``run(journal=...)``.
            space: the search space or sampler; needed only when the study used a custom
                sampler (a search space is stored in the journal).

        Raises:
            JournalError: the file is not a journal or its events do not replay.

        Example:
            >>> import hyperband, pathlib, tempfile
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "study.jsonl"
            >>> space = {"x": {"_type": "uniform", "_value": [0, 1]}}
            >>> _ = hyperband.run(lambda c, b: c["x"], space, max_budget=3, seed=0,
            ...                   journal=path, progress=False)
            >>> hyperband.RunResult.from_journal(path).best.budget
            3
        """
        from hyperband.drivers.journal import load

        return cls._of(*load(path, space))

    @classmethod
    def _of(
        cls, hb: Hyperband, records: Sequence[JobRecord], *, done: bool | None = None
    ) -> RunResult:
        """The result of machine ``hb`` with its ``records`` (``done``: ``hb.done`` unless
        given)."""
        return cls(
            hb.best,
            tuple(records),
            hb.schedule,
            hb.params,
            done=hb.done if done is None else done,
            stats=hb.stats,
        )
