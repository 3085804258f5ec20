"""Plots of finished studies (a journal) and of simulations (``hyperband report --plot``).

matplotlib is imported inside the plotting functions only (the ``plot`` extra), with the
non-interactive Agg backend when no backend was chosen, so the CLI works on a headless machine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from hyperband.report import accounting

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult

__all__ = [
    "BestPoint",
    "Span",
    "best_so_far",
    "plot_best",
    "plot_result",
    "plot_timeline",
    "pyplot",
    "result_figure",
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

    Examples:
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


def plot_result(result: RunResult, path: Path, *, title: str | None = None) -> None:
    """Save the worker timeline and the best value against budget spent to ``path``."""
    fig = result_figure(result, title=title)
    try:
        fig.savefig(path, dpi=120)
    finally:
        pyplot().close(fig)


def result_figure(result: RunResult, *, title: str | None = None) -> Any:
    """The figure of ``hyperband report --plot`` (a matplotlib Figure; the caller closes it).

    Top: the worker timeline. Bottom: every result, and the best value at the largest budget
    reached, against the budget spent so far (failed jobs' budget included: they ran too).
    """
    plt = pyplot()
    timed = [r for r in result.history if math.isfinite(r.start) and math.isfinite(r.end)]
    t0 = min((r.start for r in timed), default=0.0)
    index = accounting.number_workers((r.worker, r.start) for r in timed)
    spans = [
        Span(index[r.worker], r.start - t0, r.end - t0, r.job.bracket, r.job.iteration)
        for r in timed
    ]
    finished = sorted(result.history, key=lambda r: r.end if math.isfinite(r.end) else 0.0)
    results = []
    unpaid = 0.0  # budget of failed jobs, charged to the next success's point
    for r in finished:
        if r.status != "succeeded" or r.value is None:
            unpaid += r.cost
            continue
        budget = float(r.job.budget)
        results.append((unpaid + budget, r.value, budget, r.job.config_id))
        unpaid = 0.0
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8), layout="constrained")
    try:
        plot_timeline(spans, ax=ax1, xlabel="time since the first job started (s)", title=title)
        plot_best(
            results,
            maximize=result.params.get("mode", "maximize") == "maximize",
            ax=ax2,
            title="best value against budget spent",
        )
    except BaseException:
        plt.close(fig)
        raise
    return fig
