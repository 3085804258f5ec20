"""The workers of a study's records, numbered alike by the text summary, the matplotlib figure
and the HTML report. (The budget a job used is `hyperband.JobRecord.cost`, and a study's
`hyperband.RunResult.spent`: the drivers' one definition, which the progress display uses too.)
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["number_workers"]


def number_workers(started: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Workers (``host/pid/thread`` labels) numbered in the order they first started a job,
    from ``(worker, start)`` pairs."""
    index: dict[str, int] = {}
    for worker, _ in sorted(started, key=lambda pair: pair[1]):
        index.setdefault(worker, len(index))
    return index
