"""What a study's records add up to: the budget its jobs used, and its workers numbered.

Shared by the text summary, the matplotlib figure and the HTML report, so the three count
alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult

__all__ = ["cost", "number_workers", "spent"]


def cost(record: Any) -> float:
    """Budget units a job used, counted from scratch: its budget, or where it was stopped."""
    if record.status == "stopped":
        return float(record.extra.get("stopped_at", record.job.budget))
    return float(record.job.budget)


def spent(result: RunResult) -> float:
    """Budget units the study's jobs used, failed ones included (they ran too); a stopped
    job counts up to the step where it was stopped."""
    return math.fsum(cost(r) for r in result.history)


def number_workers(started: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Workers (``host/pid/thread`` labels) numbered in the order they first started a job,
    from ``(worker, start)`` pairs."""
    index: dict[str, int] = {}
    for worker, _ in sorted(started, key=lambda pair: pair[1]):
        index.setdefault(worker, len(index))
    return index
