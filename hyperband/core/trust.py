"""Trust between budgets: how well a cheap budget ranks configurations as the top budget does.

MFES-HB (Li et al., AAAI 2021) measures, for each budget, the fraction ``p`` of pairs of
configurations measured at the top budget that the budget's model puts in the same order as
the top budget's values, and weighs the budget by ``p ** 3``. ``p = 1`` is a budget that ranks
perfectly, ``1/2`` one that ranks at random, ``0`` one that ranks backwards. The samplers that
learn (``hyperband.KDESampler``) use these functions to combine their per-budget models, and
anything that wants to read the weights can compute them the same way.

Pure functions of their arguments, numpy only: they keep replays exact.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Final, TypeVar

import numpy as np

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe

__all__ = ["MIN_PAIRS", "MIN_TOP", "concordance", "rank_consistency", "trust_weights"]

Number = int | float
K = TypeVar("K", bound=Hashable)  # what names one configuration across budgets

#: The fewest results at the top budget before any budget is measured against it.
MIN_TOP: Final = 4
#: The fewest configurations evaluated at a budget and at the top budget to measure it.
MIN_PAIRS: Final = 5


def concordance(scores: Sequence[float], targets: Sequence[float]) -> float | None:
    """The fraction of pairs that ``scores`` orders as ``targets`` does (higher = better).

    Pairs whose targets tie carry no information and are left out; a pair whose scores tie
    counts one half, as a coin would.

    Args:
        scores: what a model predicts for each configuration (higher is better).
        targets: what the top budget measured for the same configurations (higher is better).

    Returns:
        A number in ``[0, 1]``, or ``None`` when no pair has distinct targets.

    Raises:
        ConfigurationError: the two sequences differ in length or hold a NaN.

    Examples:
        >>> concordance([1, 2, 3], [10, 20, 30])
        1.0
        >>> concordance([3, 2, 1], [10, 20, 30])
        0.0
        >>> concordance([1, 1], [1, 2])
        0.5
    """
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    if s.shape != t.shape or s.ndim != 1:
        raise ConfigurationError(
            f"concordance: scores and targets must be two sequences of one length, got "
            f"{s.shape} and {t.shape}"
        )
    if np.isnan(s).any() or np.isnan(t).any():
        raise ConfigurationError("concordance: scores and targets must not hold NaN")
    dt = np.sign(t[:, None] - t[None, :])
    upper = np.triu(dt != 0, 1)
    if not upper.any():
        return None
    agree = (np.sign(s[:, None] - s[None, :]) * dt)[upper]
    return float((agree > 0).mean() + 0.5 * (agree == 0).mean())


def trust_weights(p: Mapping[Number, float], power: float = 3.0) -> dict[Number, float]:
    """Weights ``∝ p ** power`` over budgets, summing to 1 (MFES-HB's rule, ``power=3``).

    Args:
        p: each budget's concordance with the top budget, in ``[0, 1]``.
        power: how sharply better-ranking budgets win, ``> 0``.

    Returns:
        ``{budget: weight}`` in the order of ``p``; every weight in ``[0, 1]``, their sum 1.
        When every ``p`` is 0 (every budget ranks backwards), the weights are equal: there is
        nothing to prefer, and no weight may be NaN. ``{}`` for an empty ``p``.

    Raises:
        ConfigurationError: a ``p`` outside ``[0, 1]``, or ``power <= 0``.
        ArgumentTypeError: ``power`` is not a number.

    Examples:
        >>> trust_weights({1: 0.5, 9: 1.0})
        {1: 0.1111111111111111, 9: 0.8888888888888888}
    """
    if isinstance(power, bool) or not isinstance(power, (int, float)):
        raise ArgumentTypeError(f"trust_weights: power must be a number, got {describe(power)}")
    if not (math.isfinite(power) and power > 0):
        raise ConfigurationError(f"trust_weights: power must be > 0, got {power!r}")
    for budget, value in p.items():
        if not 0.0 <= value <= 1.0:
            raise ConfigurationError(
                f"trust_weights: p of budget {budget!r} must be in [0, 1], got {value!r}"
            )
    raw = {b: float(v) ** power for b, v in p.items()}
    total = math.fsum(raw.values())
    if total <= 0.0:
        return {b: 1.0 / len(raw) for b in raw}
    return {b: v / total for b, v in raw.items()}


def rank_consistency(
    losses: Mapping[float, Mapping[K, float]], top: float, budgets: Iterable[float]
) -> dict[float, float | None]:
    """Each budget's rank consistency with ``top``, on the configurations evaluated at both.

    Args:
        losses: the finite losses at each budget, by configuration (any key that names one
            configuration across budgets).
        top: the budget the others are measured against; its own consistency is 1.
        budgets: the budgets to measure, in the order of the result.

    Returns:
        ``{budget: p}``, with ``None`` for a budget with fewer than ``MIN_PAIRS``
        configurations evaluated at both; ``{}`` until ``top`` has ``MIN_TOP`` results.

    Examples:
        >>> at = {1: {"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.0, "e": 0.5}}
        >>> at[9] = {k: -v for k, v in at[1].items()}
        >>> rank_consistency(at, 9, [1, 9])
        {1: 0.0, 9: 1.0}
    """
    at_top = losses.get(top, {})
    if len(at_top) < MIN_TOP:
        return {}
    out: dict[float, float | None] = {}
    for b in budgets:
        cheap = losses.get(b, {})
        shared = list(cheap.keys() & at_top.keys())
        if b == top:
            out[b] = 1.0
        elif len(shared) < MIN_PAIRS:
            out[b] = None
        else:
            out[b] = concordance([-cheap[k] for k in shared], [-at_top[k] for k in shared])
    return out
