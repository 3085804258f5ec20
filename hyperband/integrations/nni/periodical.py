"""The PERIODICAL metrics of the jobs, and the jobs the stopping rule stopped.

A trial's ``nni.report_intermediate_result`` values go to the machine's ``report`` at a step in
budget units: the metric's ``"step"`` when it is a dict with one; else the k-th PERIODICAL
metric of a job (counting every one received, bad ones included) is at ``previous_budget + k``
(one report per budget unit), clamped to the job's budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperband.core.jobs import Job
from hyperband.integrations.nni.messages import STEP_KEY, _default_number, _plain


class _Periodical:
    """The PERIODICAL metrics received per job, and the jobs stopped early."""

    __slots__ = ("counts", "intermediate", "stopped")

    def __init__(self) -> None:
        self.intermediate: dict[int, list[float]] = {}
        self.counts: dict[int, int] = {}  # job id -> PERIODICAL metrics received
        # Jobs the stopping rule stopped -> the trial killed for it (None: none was running).
        self.stopped: dict[int, str | None] = {}

    def record(self, jid: int, value: Any) -> tuple[int, float]:
        """Count one PERIODICAL metric of job ``jid`` and keep its number: ``(k, number)``.

        Raises:
            ValueError: the metric has no finite ``"default"`` number (it still counts).
        """
        k = self.counts[jid] = self.counts.get(jid, 0) + 1
        # A finite float, the common case, skips the general check.
        number = value if type(value) is float and value - value == 0.0 else _default_number(value)
        self.intermediate.setdefault(jid, []).append(number)
        return k, number

    def state(self) -> dict[str, Any]:
        """The checkpoint's record of these (JSON: lists of pairs)."""
        return {
            "intermediate": [[k, v] for k, v in self.intermediate.items()],
            "periodical": [[k, n] for k, n in self.counts.items()],
            "stopped": [[k, t] for k, t in self.stopped.items()],
        }

    @classmethod
    def restore(cls, state: Mapping[str, Any]) -> _Periodical:
        """The record a checkpoint's ``state`` holds."""
        new = cls()
        new.intermediate = {int(k): list(v) for k, v in state.get("intermediate", [])}
        new.counts = {int(k): int(n) for k, n in state.get("periodical", [])}
        new.stopped = {int(k): t for k, t in state.get("stopped", [])}
        return new


def _step(value: Any, job: Job, k: int) -> Any:
    """The step of the ``k``-th PERIODICAL metric ``value`` of ``job``, in budget units."""
    if isinstance(value, dict) and STEP_KEY in value:
        return value[STEP_KEY]
    return _plain(min((job.previous_budget or 0) + k, job.budget))
