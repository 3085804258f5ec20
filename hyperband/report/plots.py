"""Summaries and plots of finished studies (a journal) and of simulations.

matplotlib is imported inside the plotting functions only (the ``plot`` extra), with the
non-interactive Agg backend when no backend was chosen, so the CLI works on a headless machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

__all__ = [
    "BestPoint",
    "Span",
    "best_so_far",
    "last_line",
    "number_workers",
    "plot_best",
    "plot_timeline",
    "pyplot",
]


class Span(NamedTuple):
    """One job on a worker's timeline."""

    worker: int
    start: float
    end: float
    bracket: int
    iteration: int = 0


class BestPoint(NamedTuple):
    """The incumbent after a result: budget spent so far, and the best value then."""

    spent: float
    value: float
    budget: float


def last_line(text: str | None) -> str:
    """The last non-blank line of a failure's text (its exception, under the traceback)."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no reason given)"


def number_workers(started: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Workers (``host/pid/thread`` labels) numbered in the order they first started a job,
    from ``(worker, start)`` pairs."""
    index: dict[str, int] = {}
    for worker, _ in sorted(started, key=lambda pair: pair[1]):
        index.setdefault(worker, len(index))
    return index


def pyplot() -> Any:
    """matplotlib.pyplot, on the Agg backend unless the user already picked one.

    Raises:
        ImportError: matplotlib is not installed (with the extra to install in the message).
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'hyperband[plot]'") from exc
    # Only when pyplot was never imported: switching a backend the user chose would surprise.
    import sys

    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def best_so_far(
    results: Iterable[tuple[float, float, float, int]], *, maximize: bool = True
) -> list[BestPoint]:
    """The incumbent as budget is spent, with the machine's rule for "best".

    Args:
        results: ``(budget_spent_by_this_job, value, budget, config_id)`` of each successful
            job, in the order the results arrived.
        maximize: whether larger values are better.

    Returns:
        One point per result: the cumulative budget and the best value among the results at
        the largest budget reached so far (ties to the lower config id), as
        ``hyperband.Hyperband.best`` defines it.

    Example:
        >>> for p in best_so_far([(1, 0.5, 1, 0), (1, 0.7, 1, 1), (3, 0.6, 3, 0)]):
        ...     print(p.spent, p.value, p.budget)
        1.0 0.5 1
        2.0 0.7 1
        5.0 0.6 3
    """
    sign = -1.0 if maximize else 1.0
    spent = 0.0
    best: tuple[float, tuple[float, int], float] | None = None  # (budget, key, value)
    out = []
    for cost, value, budget, config_id in results:
        spent += cost
        key = (sign * value, config_id)
        if best is None or budget > best[0] or (budget == best[0] and key < best[1]):
            best = (budget, key, value)
        out.append(BestPoint(spent, best[2], best[0]))
    return out


def plot_timeline(
    spans: Sequence[Span], *, ax: Any = None, xlabel: str = "time (s)", title: str | None = None
) -> Any:
    """Draw jobs as horizontal bars, one row per worker, coloured by bracket.

    Args:
        spans: the jobs.
        ax: a matplotlib ``Axes``; a new figure when ``None``.
        xlabel: the x-axis label.
        title: an optional title.

    Returns:
        The ``Axes``.
    """
    plt = pyplot()
    if ax is None:
        # Constrained: the legend sits right of the axes and must stay inside the figure.
        _, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    brackets = sorted({s.bracket for s in spans}, reverse=True)
    cmap = plt.get_cmap("tab10")
    colour = {b: cmap(k % 10) for k, b in enumerate(brackets)}
    for b in brackets:
        mine = [s for s in spans if s.bracket == b]
        ax.barh(
            [s.worker for s in mine],
            [s.end - s.start for s in mine],
            left=[s.start for s in mine],
            height=0.8,
            color=colour[b],
            edgecolor="white",
            linewidth=0.3,
            label=f"bracket s={b}",
        )
    workers = sorted({s.worker for s in spans})
    if workers:
        ax.set_ylim(min(workers) - 0.6, max(workers) + 0.6)
    if len(workers) <= 32:
        ax.set_yticks(workers)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("worker")
    if title:
        ax.set_title(title)
    if brackets:
        # Outside the axes: inside, it would hide the jobs it labels.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax


def plot_best(
    results: Sequence[tuple[float, float, float, int]],
    *,
    maximize: bool = True,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Plot every result and the incumbent (see ``best_so_far``) against budget spent.

    Args:
        results: ``(budget_spent_by_this_job, value, budget, config_id)`` per successful job,
            in the order the results arrived.
        maximize: whether larger values are better.
        ax: a matplotlib ``Axes``; a new figure when ``None``.
        title: an optional title.

    Returns:
        The ``Axes``.
    """
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    points = best_so_far(results, maximize=maximize)
    if points:
        spent = [p.spent for p in points]
        budgets = [r[2] for r in results]
        sc = ax.scatter(
            spent,
            [r[1] for r in results],
            c=budgets,
            cmap="viridis",
            s=10,
            alpha=0.6,
            norm=_log_norm(budgets),
            label="results",
        )
        plt.colorbar(sc, ax=ax, label="job budget")
        ax.step(
            spent,
            [p.value for p in points],
            where="post",
            color="black",
            label="best at the largest budget reached",
        )
        ax.legend(loc="lower right" if maximize else "upper right", fontsize="small")
    ax.set_xlabel("budget spent")
    ax.set_ylabel("value")
    if title:
        ax.set_title(title)
    return ax


def _log_norm(values: Sequence[float]) -> Any:
    from matplotlib.colors import LogNorm, Normalize

    lo, hi = min(values), max(values)
    if lo > 0 and hi > lo:
        return LogNorm(lo, hi)
    return Normalize(lo, hi if hi > lo else lo + 1)
