"""What ``hyperband.run`` returns: a ``RunResult`` with one ``JobRecord`` per job.

``JobRecord`` and ``jsonable`` live in modules below the journal and are re-exported here;
``RunResult`` sits above the journal, which it replays in ``from_journal``.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from hyperband.core.jobs import Best, Job, Stats
from hyperband.core.schedule import Schedule
from hyperband.drivers.encoding import jsonable
from hyperband.drivers.job_record import JobRecord
from hyperband.drivers.journal import load

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.core.machine import Hyperband
    from hyperband.core.sampling import Sampler

__all__ = ["JobRecord", "RunResult", "jsonable"]


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
        pending: the jobs asked without a result, oldest first: running when the run stopped
            (a run stopped by an exception, or the journal of an unfinished study). A resumed
            study runs them again.
        workers: how many jobs the run could keep in flight at once: ``run(workers=...)`` as
            the executor resolved it (1 for ``"serial"``, else the number asked for, or the
            pool's or the cluster's size, or the CPU count). ``None`` for a result read from a
            journal, which does not record it.

    Examples:
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
    pending: tuple[Job, ...] = attrs.field(default=(), kw_only=True)
    workers: int | None = attrs.field(default=None, kw_only=True)

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

    @property
    def spent(self) -> float:
        """Budget units the jobs used, counted from scratch: each job's budget, failed ones
        included (they ran too), a stopped job's up to the step it was stopped at (see
        [`JobRecord.cost`][hyperband.JobRecord.cost])."""
        return math.fsum(r.cost for r in self.history)

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

        Examples:
            >>> import hyperband, pathlib, tempfile
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "study.jsonl"
            >>> space = {"x": {"_type": "uniform", "_value": [0, 1]}}
            >>> _ = hyperband.run(lambda c, b: c["x"], space, max_budget=3, seed=0,
            ...                   journal=path, progress=False)
            >>> hyperband.RunResult.from_journal(path).best.budget
            3
        """
        return cls._of(*load(path, space))

    @classmethod
    def _of(
        cls,
        hb: Hyperband,
        records: Sequence[JobRecord],
        *,
        done: bool | None = None,
        workers: int | None = None,
    ) -> RunResult:
        """The result of machine ``hb`` with its ``records`` (``done``: ``hb.done`` unless
        given; ``workers``: the jobs the run could keep in flight, when a run made it)."""
        return cls(
            hb.best,
            tuple(records),
            hb.schedule,
            hb.params,
            done=hb.done if done is None else done,
            stats=hb.stats,
            pending=tuple(hb.pending),
            workers=workers,
        )
