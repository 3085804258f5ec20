"""Learning-curve extrapolation: monotone curve families fitted to a job's reports.

A family is ``loss = c + a * phi(u)`` with ``u = step / last report's step``, ``a >= 0`` and a
basis ``phi`` that decreases in ``u``, so every fitted curve is monotone (the loss never rises
with more budget). ``phi`` has one or two shape parameters; instead of iterating on them, each
family spans a fixed grid of shapes (relative to the last report, so that shapes that bend
inside the observed window are always there), and for each shape the linear part ``(c, a)`` is
the closed-form least-squares fit, bounded to ``a >= 0`` (a fit that would rise is the flat
fit). Each family's best shape is then polished by a local search. Every shape is a model; the
forecast at the target budget is the mixture of their Gaussian predictive distributions, each
weighted by its likelihood (fit quality), tempered and widened so that the mixture's spread
covers the extrapolation error of real curves. No random numbers: the same reports give the
same forecast.

The families:

- ``"pow3"``: ``phi = u ** -alpha`` (power law; Domhan et al. 2015);
- ``"exp3"``: ``phi = exp(-beta * u)`` (exponential decay);
- ``"logpow"``: ``phi = 1 / (1 + (u / tau) ** gamma)`` (log-power: a sigmoid in log budget);
- ``"weibull"``: ``phi = exp(-(u / lam) ** delta)`` (Janoschek/Weibull-like saturation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_FAMILIES", "FAMILIES", "Forecast", "forecast"]

Array = npt.NDArray[np.float64]

# Calibrated on real curves (benchmarks/bench_curves.py: LCBench's development tasks and an
# LCDB sample; checked on held-out LCBench tasks and other LCDB curves) so that 80% intervals
# hold 70-90% of real final values. Real curves are not exactly any family, so the likelihood
# weights count at most _NMAX reports (many reports must not make one shape certain), and
# _GAP of the change the curve would still make at its recent log-linear rate is added to
# every model's spread. _TEMPERATURE (divides the log-likelihood weights) and _INFLATION
# (multiplies each model's residual spread) are left at 1: first fitted to LCBench alone
# (4 and 1.5, with _GAP 0.8), they made LCDB's intervals hold 92-95%
# (benchmarks/research/curve_calibration.md has the grid that chose these).
_NMAX = 8
_GAP = 1.2
_TEMPERATURE = 1.0
_INFLATION = 1.0
# The best grid point of each family is polished by this many rounds of a local grid (9
# points across one coarse step each way for one shape parameter, 3 x 3 for two), each round
# narrower than the previous one.
_ROUNDS = 3


@attrs.frozen(slots=True, eq=False)
class _Family:
    """A family's basis ``phi(u, shape)`` (``u = step / last step``; the shape parameters in
    log space), its coarse grid of shapes and the grid's spacing."""

    basis: Callable[[Array, Array], Array]  # (u (m,), shapes (G, d)) -> (G, m)
    grid: Array
    spacing: Array


def _grid(*axes: Array) -> tuple[Array, Array]:
    logs = [np.log(a) for a in axes]
    mesh = np.stack([m.ravel() for m in np.meshgrid(*logs, indexing="ij")], axis=1)
    return mesh, np.array([lg[1] - lg[0] for lg in logs])


def _pow3(u: Array, shape: Array) -> Array:
    out: Array = np.exp(-np.exp(shape[:, :1]) * np.log(u)[None, :])
    return out


def _exp3(u: Array, shape: Array) -> Array:
    return np.exp(-np.exp(shape[:, :1]) * u[None, :])


def _logpow(u: Array, shape: Array) -> Array:
    logu = np.log(u)[None, :]
    return 1.0 / (1.0 + np.exp(np.exp(shape[:, 1:2]) * (logu - shape[:, :1])))


def _weibull(u: Array, shape: Array) -> Array:
    logu = np.log(u)[None, :]
    return np.exp(-np.exp(np.exp(shape[:, 1:2]) * (logu - shape[:, :1])))


_RELATIVE = np.geomspace(0.05, 20.0, 6)  # times the last report's step
FAMILIES: dict[str, _Family] = {
    # loss = c + a * u ** -alpha (power law; Domhan et al. 2015)
    "pow3": _Family(_pow3, *_grid(np.geomspace(0.02, 3.0, 12))),
    # loss = c + a * exp(-beta * u)
    "exp3": _Family(_exp3, *_grid(np.geomspace(0.05, 20.0, 12))),
    # loss = c + a / (1 + (u / tau) ** gamma): log-power, a sigmoid in log budget
    "logpow": _Family(_logpow, *_grid(_RELATIVE, np.array([0.5, 1.5, 4.0]))),
    # loss = c + a * exp(-(u / lam) ** delta): Janoschek/Weibull-like saturation
    "weibull": _Family(_weibull, *_grid(_RELATIVE, np.array([0.3, 0.7, 2.0]))),
}
DEFAULT_FAMILIES: tuple[str, ...] = ("pow3", "exp3", "logpow", "weibull")


def _erf(z: Array) -> Array:
    # Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7): numpy has no erf, and the core
    # takes no scipy.
    s = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: Array = s * (1.0 - poly * np.exp(-a * a))
    return out


@attrs.frozen(slots=True, eq=False)
class Forecast:
    """The predictive distribution of a curve's loss at the target budget: a mixture of normals.

    Attributes:
        means: each model's predicted loss.
        sds: each model's predictive standard deviation (> 0).
        weights: each model's weight (they sum to 1).
    """

    means: Array
    sds: Array
    weights: Array

    def cdf(self, loss: float) -> float:
        """The probability that the loss at the target is below ``loss``."""
        return float(self._cdf(np.array([loss], dtype=np.float64))[0])

    def _cdf(self, losses: Array) -> Array:
        z = np.clip((losses[None, :] - self.means[:, None]) / self.sds[:, None], -40.0, 40.0)
        out: Array = np.clip(self.weights @ (0.5 + 0.5 * _erf(z / np.sqrt(2.0))), 0.0, 1.0)
        return out

    def quantile(self, q: float) -> float:
        """The loss below which the target's loss falls with probability ``q`` (in (0, 1))."""
        lo = float(np.min(self.means - 8 * self.sds))
        hi = float(np.max(self.means + 8 * self.sds))
        # Rounds of a grid of the CDF, each inside the previous one's bracket of q: 64 ** 6
        # times narrower in the end, in a few vectorised steps.
        for _ in range(6):
            grid = np.linspace(lo, hi, 65)
            i = int(np.searchsorted(self._cdf(grid), q))
            lo, hi = float(grid[max(i - 1, 0)]), float(grid[min(i, 64)])
        return 0.5 * (lo + hi)

    @property
    def median(self) -> float:
        """The median predicted loss."""
        return self.quantile(0.5)

    def interval(self, level: float = 0.8) -> tuple[float, float]:
        """The central ``level`` predictive interval of the loss."""
        tail = (1.0 - level) / 2
        return self.quantile(tail), self.quantile(1.0 - tail)


def _points(steps: Sequence[float], losses: Sequence[float]) -> tuple[Array, Array]:
    """The curve with one point per step (the later report at a step counts)."""
    t = np.asarray(steps, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    keep = np.append(t[1:] != t[:-1], True)
    return t[keep], y[keep]


@attrs.frozen(slots=True, eq=False)
class _Fits:
    """The bounded least-squares fits of ``z = c + a * phi`` (``a >= 0``) for each basis row:
    residual sums of squares, predictions at the target and their standard deviations."""

    rss: Array
    means: Array
    sds: Array


def _fit(basis: Array, z: Array) -> _Fits:
    n = z.size
    phi = basis[:, :-1]
    mean_phi = phi.sum(axis=1) / n
    dev_t = basis[:, -1] - mean_phi
    sxx = np.einsum("ij,ij->i", phi, phi) - n * mean_phi * mean_phi
    zc = z - z.sum() / n
    sxy = phi @ zc  # zc sums to 0, so phi need not be centred
    # A basis flat over the reports says nothing about the target: the flat fit. So does a
    # fit that would rise: the bound a >= 0 is active.
    ok = (sxx > 1e-12 * (1.0 + mean_phi * mean_phi)) & (sxy > 0)
    sxx[~ok] = 1.0
    sxy[~ok] = 0.0
    slope = sxy / sxx
    rss = np.maximum(float(zc @ zc) - slope * sxy, 0.0)
    var = rss / max(n - 2, 1) + _FLOOR**2
    var *= 1.0 + 1.0 / n + np.where(ok, dev_t * dev_t / sxx, 0.0)
    means = z.sum() / n + slope * dev_t
    var = _INFLATION**2 * var
    return _Fits(rss, means, np.sqrt(var))


_FLOOR = 1e-6  # the noise floor, in units of the curve's span


def _polish(chosen: Sequence[_Family], u: Array, z: Array, fits: _Fits) -> None:
    """Replace each family's best grid point by a local search around it (in place): rounds
    of a local grid of _TRIALS shapes per family, each round narrower than the previous."""
    sizes = [family.grid.shape[0] for family in chosen]
    starts = np.cumsum([0, *sizes[:-1]])
    rows = np.array(
        [
            start + int(np.argmin(fits.rss[start : start + size]))
            for start, size in zip(starts, sizes, strict=True)
        ]
    )
    shapes = [
        family.grid[row - start] for family, row, start in zip(chosen, rows, starts, strict=True)
    ]
    widths = [family.spacing for family in chosen]
    # Every family tries _TRIALS shapes a round, so one argmin over a reshape finds each
    # family's best: the rounds cost a few vectorised steps, not a loop over families.
    first = np.arange(len(chosen)) * _TRIALS
    for _ in range(_ROUNDS):
        trial = [s + _OFFSETS[s.size] * w for s, w in zip(shapes, widths, strict=True)]
        local = _fit(np.concatenate([f.basis(u, g) for f, g in zip(chosen, trial, strict=True)]), z)
        pick = first + local.rss.reshape(len(chosen), _TRIALS).argmin(axis=1)
        better = local.rss[pick] < fits.rss[rows]
        fits.rss[rows[better]] = local.rss[pick[better]]
        fits.means[rows[better]] = local.means[pick[better]]
        fits.sds[rows[better]] = local.sds[pick[better]]
        for j in np.flatnonzero(better):
            shapes[j] = trial[j][pick[j] - first[j]]
        widths = [w / _NARROWING[w.size] for w in widths]


_TRIALS = 9
_OFFSETS = {
    1: np.linspace(-1.0, 1.0, _TRIALS)[:, None],
    2: np.stack([m.ravel() for m in np.meshgrid([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0])], axis=1),
}
_NARROWING = {1: 4.0, 2: 2.0}


def forecast(
    steps: Sequence[float],
    losses: Sequence[float],
    target: float,
    families: Sequence[str] = DEFAULT_FAMILIES,
) -> Forecast:
    """Fit the monotone families to a curve and forecast its loss at ``target``.

    Args:
        steps: the report steps (> 0, non-decreasing); at least 3 distinct ones.
        losses: the loss at each step (finite; lower is better).
        target: the budget to forecast at (>= the last step).
        families: names of `FAMILIES` to mix, each with equal prior weight.

    Returns:
        The predictive distribution of the loss at ``target``.

    Examples:
        >>> steps = [1, 2, 3, 4, 5, 6]
        >>> f = forecast(steps, [0.2 + 0.8 * s ** -0.5 for s in steps], 50)
        >>> round(f.median, 3)
        0.313
    """
    t, y = _points(steps, losses)
    u = np.append(t, target) / t[-1]
    # Work in a scale where the curve spans [-1, 1] around its last point: no overflow for
    # huge losses, and one noise floor whatever the units.
    big = float(np.max(np.abs(y))) or 1.0
    z = y / big
    anchor = float(z[-1])
    span = float(np.max(z) - np.min(z)) or 1.0
    z = (z - anchor) / span
    chosen = [FAMILIES[name] for name in families]
    sizes = [f.grid.shape[0] for f in chosen]
    fits = _fit(np.concatenate([f.basis(u, f.grid) for f in chosen]), z)
    # Each family's best grid point is replaced by its polished shape, so that exact curves
    # are recovered; the other grid points keep the spread of plausible extrapolations.
    _polish(chosen, u, z, fits)
    # However well the families fit, the further the curve would go at its recent rate in
    # log budget, the less the target is known: a share of that log-linear change is added
    # to every model's uncertainty.
    tail = np.log(t[-max(3, t.size // 2) :])
    lz = z[-tail.size :]
    dt = tail - tail.mean()
    rate = min(float(dt @ (lz - lz.mean())) / max(float(dt @ dt), 1e-300), 0.0)
    reach = -rate * float(np.log(target / t[-1]))
    fits.sds[:] = np.sqrt(fits.sds**2 + (_GAP * reach) ** 2)
    prior = np.repeat([-np.log(size) for size in sizes], sizes)
    logw = prior - 0.5 * min(z.size, _NMAX) * np.log(fits.rss / z.size + _FLOOR**2) / _TEMPERATURE
    w = np.exp(logw - logw.max())
    return Forecast((fits.means * span + anchor) * big, fits.sds * (span * big), w / w.sum())
