"""The one-dimensional kernels of the KDE, and the normal distribution functions they need.

numpy has no ``erf`` and no normal quantile, and scipy is not a dependency: both are written
here, to the precision the truncated Gaussian kernels need.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from hyperband.samplers.kde.encoding import _CAT, FloatArray, _Dim

_SQRT2: Final = math.sqrt(2.0)


def _log_mean_exp(k: FloatArray) -> FloatArray:
    """``log(mean(exp(k), axis=1))``, computed stably; ``k`` is overwritten."""
    top = k.max(axis=1)
    k -= top[:, None]
    np.exp(k, out=k)
    return np.log(k.mean(axis=1)) + top  # type: ignore[no-any-return]


def _geometric(h: Any, t: FloatArray) -> FloatArray:
    """``sum_{k=1}^{t} h^k`` elementwise (``h`` broadcasts against ``t``)."""
    flat = np.asarray(h) >= 1.0 - 1e-12
    hh = np.where(flat, 0.5, h)
    return np.where(flat, t, hh * (1.0 - hh**t) / (1.0 - hh))


def _log_kernel_table(family: int, levels: int, h: float) -> FloatArray:
    """``T[x, m]``: the log kernel at level ``x`` of a discrete kernel centred on level ``m``."""
    if family == _CAT:
        # Aitchison-Aitken: 1 - h on the centre, h / (c - 1) on every other option.
        table = np.full((levels, levels), math.log(h / (levels - 1)))
        np.fill_diagonal(table, math.log1p(-h))
        return table
    # Wang-van Ryzin, (1 - h) on the centre and (1 - h) h^|x - m| / 2 elsewhere, normalised
    # over the finite set of levels so that it is a density there.
    distance = np.abs(np.subtract.outer(np.arange(levels), np.arange(levels))).astype(np.float64)
    log_w = np.where(distance == 0, 0.0, math.log(0.5) + distance * math.log(h))
    return log_w - np.log(np.exp(log_w).sum(axis=0))  # type: ignore[no-any-return]


def _direct_log_kernel(dim: _Dim, x: FloatArray, m: FloatArray, h: float) -> FloatArray:
    """The log kernel of points ``x`` at centres ``m`` of a discrete dimension with many levels."""
    levels = dim.levels
    xa, ma = ~np.isnan(x), ~np.isnan(m)
    xv, mv = np.where(xa, x, 0.0), np.where(ma, m, 0.0)
    if dim.family == _CAT:
        k = np.where(xv[:, None] == mv[None, :], math.log1p(-h), math.log(h / (levels - 1)))
    else:
        distance = np.abs(xv[:, None] - mv[None, :])
        total = 1.0 + 0.5 * (_geometric(h, mv) + _geometric(h, levels - 1 - mv))
        k = np.where(distance == 0, 0.0, math.log(0.5) + distance * math.log(h))
        k -= np.log(total)[None, :]
    k = np.where(ma[None, :], k, -math.log(levels))
    return np.where(xa[:, None], k, 0.0)


def _sample_aitchison_aitken(
    m: FloatArray, levels: FloatArray, h: FloatArray, r1: FloatArray, r2: FloatArray
) -> FloatArray:
    """Options drawn from Aitchison-Aitken kernels centred on ``m``: ``m`` with probability
    ``1 - h``, else one of the others uniformly."""
    other = np.minimum(np.floor(r2 * (levels - 1.0)), levels - 2.0)
    other += other >= m  # skip the centre
    return np.where(r1 < h, other, m)


def _sample_wang_van_ryzin(
    m: FloatArray, levels: FloatArray, h: FloatArray, r1: FloatArray, r2: FloatArray
) -> FloatArray:
    """Levels drawn from the normalised Wang-van Ryzin kernels centred on ``m``."""
    left, right = m, levels - 1.0 - m
    g_left, g_right = _geometric(h, left), _geometric(h, right)
    u = r1 * (1.0 + 0.5 * (g_left + g_right))
    side = np.where(u < 1.0, 0.0, np.where(u < 1.0 + 0.5 * g_left, -1.0, 1.0))
    span = np.where(side < 0, left, right)
    # The offset d in 1..span has probability proportional to h^d: invert its distribution.
    flat = np.broadcast_to(h >= 1.0 - 1e-12, m.shape)
    hh = np.where(flat, 0.5, h)
    geometric = np.ceil(np.log1p(-r2 * (1.0 - hh**span)) / np.log(hh))
    offset = np.where(flat, np.ceil(r2 * span), geometric)
    offset = np.clip(offset, 1.0, np.maximum(span, 1.0))
    return np.clip(np.where(side == 0, m, m + side * offset), 0.0, levels - 1.0)


def _erfc(x: FloatArray) -> FloatArray:
    """The complementary error function, relative error < 1.2e-7 (Numerical Recipes' erfcc)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t
                    * (
                        0.27886807
                        + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                    )
                )
            )
        )
    )
    r = t * np.exp(-z * z + poly)
    return np.where(x >= 0, r, 2.0 - r)


def _norm_cdf(x: FloatArray) -> FloatArray:
    return 0.5 * _erfc(-x / _SQRT2)


# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_PPF_A: Final = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_PPF_B: Final = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_PPF_C: Final = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_PPF_D: Final = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
)
_PPF_LOW: Final = 0.02425


def _polyval(coefficients: tuple[float, ...], x: FloatArray) -> FloatArray:
    out = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        out = out * x + c
    return out


def _norm_ppf(p: FloatArray) -> FloatArray:
    """The standard normal quantile of ``p`` in ``(0, 1)``."""
    q = p - 0.5
    r = q * q
    central = _polyval(_PPF_A, r) * q / (_polyval(_PPF_B, r) * r + 1.0)
    tail_p = np.minimum(p, 1.0 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(-2.0 * np.log(tail_p))
        tail = _polyval(_PPF_C, s) / (_polyval(_PPF_D, s) * s + 1.0)
    tail = np.where(p < 0.5, tail, -tail)
    return np.where(tail_p < _PPF_LOW, tail, central)


def _log_truncation(m: FloatArray, h: FloatArray) -> FloatArray:
    """``log P(0 <= N(m, h^2) <= 1)`` for centres ``m`` in ``[0, 1]``."""
    # Both tails are computed from their own side, so the sum stays accurate when it is tiny.
    tails = _norm_cdf(-m / h) + _norm_cdf((m - 1.0) / h)
    return np.log1p(-np.minimum(tails, 1.0 - 1e-16))


def _truncated_normal(m: FloatArray, s: FloatArray, r: FloatArray) -> FloatArray:
    """``N(m, s^2)`` truncated to ``[0, 1]``, by inverting its distribution at ``r``."""
    lo = _norm_cdf(-m / s)
    hi = _norm_cdf((1.0 - m) / s)
    u = np.clip(lo + r * (hi - lo), 1e-300, 1.0 - 1e-16)
    return np.clip(m + s * _norm_ppf(u), 0.0, 1.0)
