"""What a study's records add up to: the budget its jobs used, and its workers numbered.

Shared by the text summary, the matplotlib figure and the HTML report, so the three count
alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import JobRecord, RunResult

__all__ = ["cost", "number_workers", "spent"]


def cost(record: JobRecord) -> float:
    """Budget units a job used, counted from scratch: its budget, or where it was stopped
    (`hyperband.JobRecord.cost`, the drivers' definition, which the progress display uses
    too)."""
    return record.cost


def spent(result: RunResult) -> float:
    """Budget units the study's jobs used, failed ones included (they ran too); a stopped
    job counts up to the step where it was stopped (`hyperband.RunResult.spent`)."""
    return result.spent


def number_workers(started: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Workers (``host/pid/thread`` labels) numbered in the order they first started a job,
    from ``(worker, start)`` pairs."""
    index: dict[str, int] = {}
    for worker, _ in sorted(started, key=lambda pair: pair[1]):
        index.setdefault(worker, len(index))
    return index
