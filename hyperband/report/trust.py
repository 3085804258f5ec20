"""How far each budget was trusted after each result: the HTML report's "Trust per budget" chart,
and the text report's weights under adaptive brackets.

A budget's trust weight is MFES-HB's ``w ∝ p ** 3`` (`hyperband.core.trust`), ``p`` being its
rank consistency with the top budget. The series is the sampler's own weights when it measures
them (``KDESampler.trust_weights``, read after each result while the journal is replayed:
`SamplerTrace`), else the weights ``brackets="adaptive"`` measures from the results
(`measure`, with `hyperband.core.adaptive.BracketChooser`), which need no model and work for
any sampler.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from hyperband.core.adaptive import BracketChooser
from hyperband.core.schedule import Schedule
from hyperband.core.trust import trust_weights

__all__ = ["SamplerTrace", "TrustPoint", "TrustSeries", "measure", "series", "steps"]


@attrs.frozen
class TrustPoint:
    """The trust after one result.

    Attributes:
        weights: each measured budget's weight (each in ``[0, 1]``, summing to 1); ``{}``
            while no budget is measured.
        p: each budget's rank consistency with the top budget (``None``: unmeasured).
    """

    weights: dict[float, float]
    p: dict[float, float | None]


def _point(weights: Mapping[Any, float], p: Mapping[Any, float | None]) -> TrustPoint:
    return TrustPoint(
        {float(b): float(w) for b, w in weights.items()},
        {float(b): None if v is None else float(v) for b, v in p.items()},
    )


class SamplerTrace:
    """A replay's ``on_result`` hook: the sampler's weights and consistency after each result.

    ``points`` stays ``None`` when the sampler does not measure trust (no ``trust_weights``,
    an optional part of the sampler protocol).
    """

    def __init__(self) -> None:
        self.points: list[TrustPoint] | None = []

    def __call__(self, hb: Any) -> None:
        if self.points is None:
            return
        weights = getattr(hb.sampler, "trust_weights", None)
        if weights is None:
            self.points = None
            return
        self.points.append(_point(weights, getattr(hb.sampler, "consistency", None) or {}))


@attrs.frozen
class TrustSeries:
    """The trust of each budget after each result (``None`` where the budget is unmeasured).

    Attributes:
        source: ``"sampler"`` (its own weights) or ``"results"`` (measured from the results
            as ``brackets="adaptive"`` does).
        results: results recorded so far, one per point.
        spent: budget units spent so far, one per point.
        weights: ``{budget: weight per point}``.
        p: ``{budget: rank consistency per point}``.
    """

    source: str
    results: list[int]
    spent: list[float]
    weights: dict[float, list[float | None]]
    p: dict[float, list[float | None]]

    @property
    def measured(self) -> list[float]:
        """The budgets that had a weight at some point, smallest first."""
        return sorted(b for b, ws in self.weights.items() if any(w is not None for w in ws))

    @property
    def shown(self) -> bool:
        """Worth a chart: at least two budgets were measured against each other."""
        return len(self.measured) >= 2

    def final(self) -> TrustPoint:
        """The last point: the trust when the study ended (or was read)."""
        k = len(self.results) - 1
        return TrustPoint(
            {b: w for b, ws in self.weights.items() if (w := ws[k]) is not None},
            {b: ps[k] for b, ps in self.p.items()},
        )


def measure(
    results: Iterable[tuple[int, float, str, float | None]], sched: Schedule, *, maximize: bool
) -> list[TrustPoint]:
    """The weights the bracket chooser measures from the successes, after each result.

    Args:
        results: ``(configuration id, budget, status, value)`` of each result, in the order
            they were recorded.
        sched: the study's schedule (its budgets, and the top budget ``max_budget``).
        maximize: larger values are better.
    """
    chooser = BracketChooser(sched, 0, adaptive=True)  # the seed only draws: unused here
    sign = -1.0 if maximize else 1.0
    points = []
    for config_id, budget, status, value in results:
        if status == "succeeded" and value is not None:
            chooser.record(config_id, budget, sign * value)
        p = chooser.consistency()
        measured = {b: v for b, v in p.items() if v is not None}
        # A single measured budget is the top one, weighed against nothing.
        points.append(_point(trust_weights(measured) if len(measured) > 1 else {}, p))
    return points


def series(source: str, points: Sequence[TrustPoint], costs: Iterable[float]) -> TrustSeries:
    """The series of ``points``, one per result; ``costs``: the budget each result used."""
    budgets = sorted({b for pt in points for b in (*pt.weights, *pt.p)})
    spent = list(itertools.accumulate(costs, initial=0.0))[1 : len(points) + 1]
    return TrustSeries(
        source,
        list(range(1, len(points) + 1)),
        spent,
        {b: [pt.weights.get(b) for pt in points] for b in budgets},
        {b: [pt.p.get(b) for pt in points] for b in budgets},
    )


def steps(series: TrustSeries) -> list[int]:
    """The first point, those where some weight changed, and the last: all a step chart
    needs."""
    rows = list(zip(*series.weights.values(), strict=True))
    last = len(rows) - 1
    return [k for k, row in enumerate(rows) if k in (0, last) or row != rows[k - 1]]
