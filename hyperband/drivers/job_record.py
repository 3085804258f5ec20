"""``JobRecord``: what happened to one job of a run, and its journal ``result`` event.

Plain data below both the journal (which writes and replays records) and ``RunResult`` (which
holds them and is rebuilt from a journal), so the dependency between those goes one way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from hyperband.core.jobs import Job

__all__ = ["JobRecord", "cost"]


def cost(status: str, budget: float, extra: Mapping[str, Any]) -> float:
    """Budget units a job used, counted from scratch as the schedule counts them: its budget,
    or, for a job stopped early, the step it was stopped at (its last report).

    The one definition of what a job costs: `JobRecord.cost`, the progress display of
    ``run``, the text report and the HTML report all use it, so that they agree. A failed job
    costs its budget: it ran too, and how far is not known.
    """
    if status == "stopped":
        return float(extra.get("stopped_at", budget))
    return float(budget)


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

    Examples:
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
    def cost(self) -> float:
        """Budget units the job used, counted from scratch (see `cost`)."""
        return cost(self.status, self.job.budget, self.extra)

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
