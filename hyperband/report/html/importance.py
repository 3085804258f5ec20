"""How strongly each hyperparameter goes with the value at the top budget (numpy only).

A rank measure per hyperparameter, like optuna-dashboard's importance chart but without a
model: for a number, Spearman's rank correlation with the value; for a category, the
correlation ratio η of the value's ranks (the square root of the share of their variance
that the categories explain, a one-way ANOVA on ranks). Both lie in [0, 1] once rho is taken
in absolute value, 0 meaning no relation a rank can see. Interactions and effects that
rise then fall are missed: this is a first look, not fANOVA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from hyperband.report.html.data import Hint, StudyData, flatten, space_hints

__all__ = ["MIN_RESULTS", "Importance", "correlation_ratio", "importance", "ranks", "spearman"]

MIN_RESULTS = 5  # results a budget needs before its ranks mean anything


@attrs.frozen
class Importance:
    """One hyperparameter's rank relation with the value.

    Attributes:
        name: the (flattened) hyperparameter.
        kind: ``"spearman"`` (a number) or ``"eta"`` (a category).
        score: ``|rho|`` or ``η``, in [0, 1].
        rho: Spearman's signed rho (``None`` for a category): positive when larger values of
            the hyperparameter go with larger values of the objective.
        n: results it was measured on (those that have the hyperparameter).
        budget: the budget of those results.
    """

    name: str
    kind: str
    score: float
    rho: float | None
    n: int
    budget: float


def ranks(x: Sequence[float] | np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Ranks from 1, ties sharing their average rank.

    Examples:
        >>> ranks([10.0, 30.0, 20.0, 30.0]).tolist()
        [1.0, 3.5, 2.0, 3.5]
    """
    values = np.asarray(x, dtype=float)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # ranks before each distinct value
    average = first + (counts + 1) / 2.0
    return np.asarray(average[inverse], dtype=float)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (0 when either side is constant).

    Examples:
        >>> spearman([1, 2, 3, 4], [1, 3, 9, 27])
        1.0
    """
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    scale = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return 0.0 if scale == 0 else float(rx @ ry) / scale


def correlation_ratio(groups: Sequence[Any], y: Sequence[float]) -> float:
    """η of ``y``'s ranks by group: sqrt(between-group / total sum of squares), in [0, 1].

    Examples:
        >>> correlation_ratio(["a", "a", "b", "b"], [1.0, 2.0, 3.0, 4.0])
        0.894...
    """
    r = ranks(y)
    centred = r - r.mean()
    total = float(centred @ centred)
    if total == 0:
        return 0.0
    labels = [str(g) for g in groups]
    between = 0.0
    for label in set(labels):
        mine = np.array([k for k, g in enumerate(labels) if g == label])
        between += len(mine) * float(centred[mine].mean()) ** 2
    return math.sqrt(between / total)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _measure(
    name: str, pairs: list[tuple[Any, float]], hint: Hint | None, budget: float
) -> Importance | None:
    if len(pairs) < MIN_RESULTS:
        return None
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    categorical = (hint is not None and hint.categories is not None) or not all(
        _is_number(x) for x in xs
    )
    if categorical:
        return Importance(name, "eta", correlation_ratio(xs, ys), None, len(pairs), budget)
    rho = spearman(xs, ys)
    return Importance(name, "spearman", abs(rho), rho, len(pairs), budget)


def importance(data: StudyData) -> list[Importance]:
    """The importance of each hyperparameter at the largest budget with enough results.

    Successful results with a value count (at least ``MIN_RESULTS`` of them); a nested
    parameter is measured on the results that have it. Sorted by score, largest first;
    empty when no budget has enough results.
    """
    ok = [j for j in data.finished if j.status == "succeeded" and j.value is not None]
    counts: dict[float, int] = {}
    for j in ok:
        counts[j.budget] = counts.get(j.budget, 0) + 1
    enough = [b for b, n in counts.items() if n >= MIN_RESULTS]
    if not enough:
        return []
    budget = max(enough)
    rows = [(flatten(j.config), float(j.value or 0.0)) for j in ok if j.budget == budget]
    names: dict[str, None] = {}
    for config, _ in rows:
        names.update(dict.fromkeys(config))
    hints = space_hints(data.space)
    found = []
    for name in names:
        pairs = [(c[name], y) for c, y in rows if c.get(name) is not None]
        measured = _measure(name, pairs, hints.get(name), budget)
        if measured is not None:
            found.append(measured)
    return sorted(found, key=lambda m: -m.score)
