"""Kernel density estimates over the encoded space: bandwidths, features and candidates.

The densities are defined over active dimensions only: a kernel centred on an observation
multiplies, over the dimensions active in the point evaluated, either the dimension's kernel
(when the observation has that dimension active too) or the dimension's prior density (when it
does not: the observation says nothing about it). Each kernel is then a proper density over the
tree-shaped space, no value is ever imputed, and an inactive dimension never pulls the model
anywhere. Sampling a candidate follows the same rule: a dimension the chosen centre lacks is
drawn from its prior.

The log kernel of every continuous or small discrete dimension is an inner product of a few
features of the point with a few features of the centre, so the log densities of all candidates
at all centres are one matrix product (plus a log-sum-exp); the features of the observations are
computed once per model and cached until an observation changes the model.

The observations of one budget become two densities by ``_split``: the best ``top_fraction``
(at least ``min_points``) are *good*, the rest (at least ``min_points``) *bad*.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from hyperband.samplers.kde.encoding import (
    _CAT,
    _CONST,
    _ORD,
    _REAL,
    _UNIT,
    _Z_MAX,
    FloatArray,
    _Dim,
)
from hyperband.samplers.kde.kernels import (
    _direct_log_kernel,
    _log_kernel_table,
    _log_truncation,
    _sample_aitchison_aitken,
    _sample_wang_van_ryzin,
    _truncated_normal,
)

# Discrete dimensions with at most this many options get one feature column per option (a
# matrix product); larger ones are compared directly, so memory stays linear in the options.
_MAX_ONEHOT: Final = 64
_LOG_2PI: Final = math.log(2.0 * math.pi)
# The normal-reference rule: h = 1.06 sd n^(-1/(4+d)) (Silverman; statsmodels' default).
_NORMAL_REFERENCE: Final = 1.06


def _n_good(n: int, min_points: int, top_fraction: float) -> int:
    # The epsilon keeps floor(0.15 * 20) at 3 whatever the float rounding of the product.
    return max(min_points, math.floor(top_fraction * n + 1e-9))


def _needed(min_points: int, top_fraction: float) -> int:
    """The fewest observations that leave ``min_points`` in each of the good and bad sets."""
    # n - n_good(n) never decreases as n grows, and holds at hi: binary search.
    lo, hi = 2 * min_points, 2 * min_points + math.ceil(min_points / (1.0 - top_fraction)) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if mid - _n_good(mid, min_points, top_fraction) >= min_points:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _split(
    codes: FloatArray, losses: FloatArray, min_points: int, top_fraction: float
) -> tuple[FloatArray, FloatArray]:
    """The rows of the good and of the bad observations, by loss (ties in arrival order)."""
    order = np.argsort(losses, kind="stable")
    n_good = _n_good(losses.size, min_points, top_fraction)
    return codes[order[:n_good]], codes[order[n_good:]]


class _Density:
    """A fitted kernel density: its centres, bandwidths and the centres' features."""

    __slots__ = ("bw", "data", "features")

    def __init__(self, data: FloatArray, bw: FloatArray, features: FloatArray) -> None:
        self.data = data
        self.bw = bw
        self.features = features


class _Layout:
    """The dimensions grouped by family, and the kernel computations vectorised over them.

    The features (see ``features_of_centres``) come in this order: for the ``k``
    continuous dimensions, ``k`` columns of each of their four features; then, for each
    discrete dimension with at most ``_MAX_ONEHOT`` options, one column per option.
    """

    def __init__(self, dims: list[_Dim]) -> None:
        self.dims = dims
        self.n_dims = len(dims)
        family = np.array([dim.family for dim in dims], dtype=np.int64)
        self.levels = np.array([dim.levels for dim in dims], dtype=np.float64)
        self.prior_sd = np.array([dim.prior_sd for dim in dims], dtype=np.float64)
        self.unit = np.flatnonzero(family == _UNIT)
        self.real = np.flatnonzero(family == _REAL)
        self.cat = np.flatnonzero(family == _CAT)
        self.ord = np.flatnonzero(family == _ORD)
        self.const = np.flatnonzero(family == _CONST)
        self.cont = np.flatnonzero((family == _UNIT) | (family == _REAL))
        self.is_unit = family[self.cont] == _UNIT
        # Dimensions whose spread is the standard deviation of their codes.
        self.spread = np.flatnonzero((family == _UNIT) | (family == _REAL) | (family == _ORD))
        self.d = self.n_dims - self.const.size
        k = self.cont.size
        offset = 4 * k
        onehot: list[int] = []
        offsets: list[int] = []
        self.direct: list[int] = []
        for j in np.flatnonzero((family == _CAT) | (family == _ORD)).tolist():
            if dims[j].levels <= _MAX_ONEHOT:
                onehot.append(j)
                offsets.append(offset)
                offset += dims[j].levels
            else:
                self.direct.append(j)
        self.onehot = np.array(onehot, dtype=np.int64)
        self.onehot_offsets = np.array(offsets, dtype=np.int64)
        self.n_features = offset
        self.conditional = [
            (j, dim.parent, float(dim.option)) for j, dim in enumerate(dims) if dim.parent >= 0
        ]

    def bandwidths(self, data: FloatArray, floor: float) -> FloatArray:
        """The normal-reference bandwidth of every modelled dimension (NaN for constants)."""
        bw = np.full(self.n_dims, np.nan)
        exponent = -1.0 / (4.0 + self.d)
        idx = self.spread
        if idx.size:
            x = data[:, idx]
            active = ~np.isnan(x)
            count = active.sum(axis=0)
            k = np.maximum(count, 1)
            mean = np.where(active, x, 0.0).sum(axis=0) / k
            dev = np.where(active, x - mean, 0.0)
            sd = np.sqrt((dev * dev).sum(axis=0) / k)
            sd = np.where(count >= 2, sd, self.prior_sd[idx])
            bw[idx] = np.maximum(_NORMAL_REFERENCE * sd * k**exponent, floor)
        if self.ord.size:
            bw[self.ord] = np.minimum(bw[self.ord], 1.0)
        for j in self.cat.tolist():
            column = data[:, j]
            values = column[~np.isnan(column)]
            n, levels = values.size, self.dims[j].levels
            if n < 2:
                sd = self.dims[j].prior_sd
            else:
                p = np.bincount(values.astype(np.int64), minlength=levels) / n
                sd = math.sqrt(float(np.dot(p, 1.0 - p)) / 2.0)
            h = max(_NORMAL_REFERENCE * sd * max(n, 1) ** exponent, floor)
            bw[j] = min(h, (levels - 1) / levels)
        return bw

    def features_of_centres(self, data: FloatArray, bw: FloatArray) -> FloatArray:
        """``G`` (features x centres): ``F @ G`` is the log kernel of every point at every centre.

        For a continuous dimension with bandwidth ``h``, a point with value ``x`` (active: ``a``)
        has the features ``(a x^2, a x, a, a log prior(x))`` and a centre ``m`` (active: ``b``)
        has ``(-b / 2h^2, b m / h^2, b (-m^2 / 2h^2 - log h - log(2 pi) / 2 - log Z(m)), 1 - b)``:
        their product is the log of the Gaussian kernel (truncated to ``[0, 1]``: ``Z``) when
        both are active, the log prior density when only the point is, 0 when the point is
        inactive. A discrete dimension: the point's one-hot row picks the centre's log kernel.
        """
        n = data.shape[0]
        g = np.empty((self.n_features, n))
        k = self.cont.size
        if k:
            x = data[:, self.cont]
            active = ~np.isnan(x)
            m = np.where(active, x, 0.0)
            h = bw[self.cont]
            inv = 1.0 / (h * h)
            const = -0.5 * inv * m * m - np.log(h) - 0.5 * _LOG_2PI
            if self.is_unit.any():
                const[:, self.is_unit] -= _log_truncation(m[:, self.is_unit], h[self.is_unit])
            g[:k] = np.where(active, -0.5 * inv, 0.0).T
            g[k : 2 * k] = (m * inv).T
            g[2 * k : 3 * k] = np.where(active, const, 0.0).T
            g[3 * k : 4 * k] = (~active).T
        for j, o in zip(self.onehot.tolist(), self.onehot_offsets.tolist(), strict=True):
            dim = self.dims[j]
            column = data[:, j]
            active = ~np.isnan(column)
            table = _log_kernel_table(dim.family, dim.levels, float(bw[j]))
            block = table[:, np.where(active, column, 0.0).astype(np.int64)]
            block[:, ~active] = -math.log(dim.levels)
            g[o : o + dim.levels] = block
        return g

    def features_of_points(self, codes: FloatArray) -> FloatArray:
        """``F`` (points x features), the points' side of ``features_of_centres``."""
        f = np.zeros((codes.shape[0], self.n_features))
        k = self.cont.size
        if k:
            x = codes[:, self.cont]
            active = ~np.isnan(x)
            xv = np.where(active, x, 0.0)
            f[:, :k] = xv * xv
            f[:, k : 2 * k] = xv
            f[:, 2 * k : 3 * k] = active
            real = ~self.is_unit
            if real.any():
                xr = xv[:, real]
                f[:, 3 * k + np.flatnonzero(real)] = np.where(
                    active[:, real], -0.5 * xr * xr - 0.5 * _LOG_2PI, 0.0
                )
        if self.onehot.size:
            x = codes[:, self.onehot]
            rows, cols = np.nonzero(~np.isnan(x))
            f[rows, self.onehot_offsets[cols] + x[rows, cols].astype(np.int64)] = 1.0
        return f

    def log_kernels(self, f: FloatArray, codes: FloatArray, dens: _Density) -> FloatArray:
        """The log kernel of every point (rows of ``f``/``codes``) at every centre of ``dens``."""
        k: FloatArray = f @ dens.features
        for j in self.direct:
            k += _direct_log_kernel(self.dims[j], codes[:, j], dens.data[:, j], float(dens.bw[j]))
        return k

    def candidates(
        self, rng: np.random.Generator, good: _Density, size: int, factor: float
    ) -> FloatArray:
        """``size`` points drawn from the good density with widened continuous bandwidths.

        Each candidate picks a centre at random; per dimension it draws from that centre's
        kernel (continuous bandwidths times ``factor``, as BOHB does), or from the dimension's
        prior when the centre has the dimension inactive. A sub-parameter whose option the
        candidate did not choose is then made inactive. The random draws made do not depend
        on their outcomes.
        """
        n_centres = good.data.shape[0]
        centres = good.data[(rng.random(size) * n_centres).astype(np.int64)]
        codes = np.zeros((size, self.n_dims))
        if self.unit.size:
            m = centres[:, self.unit]
            has = ~np.isnan(m)
            r = rng.random((size, self.unit.size))
            drawn = _truncated_normal(np.where(has, m, 0.5), factor * good.bw[self.unit], r)
            codes[:, self.unit] = np.where(has, drawn, r)
        if self.real.size:
            m = centres[:, self.real]
            has = ~np.isnan(m)
            z = rng.standard_normal((size, self.real.size))
            drawn = np.where(has, np.where(has, m, 0.0) + factor * good.bw[self.real] * z, z)
            codes[:, self.real] = np.clip(drawn, -_Z_MAX, _Z_MAX)
        for idx, kernel in (
            (self.cat, _sample_aitchison_aitken),
            (self.ord, _sample_wang_van_ryzin),
        ):
            if idx.size:
                m = centres[:, idx]
                has = ~np.isnan(m)
                r1 = rng.random((size, idx.size))
                r2 = rng.random((size, idx.size))
                levels = self.levels[idx]
                prior = np.minimum(np.floor(r1 * levels), levels - 1.0)
                drawn = kernel(np.where(has, m, 0.0), levels, good.bw[idx], r1, r2)
                codes[:, idx] = np.where(has, drawn, prior)
        # Parents come before their sub-parameters, so one pass settles nested conditions.
        for j, parent, option in self.conditional:
            codes[:, j] = np.where(codes[:, parent] == option, codes[:, j], np.nan)
        return codes
