"""The observations per budget, which budget's model a draw uses, and how far each is trusted.

BOHB's rule (``trust="off"``): the model is fitted on the largest budget that has enough
observations for both densities, and on that budget alone.

With ``trust="rank"``, each cheaper budget is measured against the top budget (the largest
observed): ``p`` is the fraction of pairs of configurations measured at both that the two
budgets put in the same order (``hyperband.core.trust.concordance``). A budget that ranks worse
than chance (``p < 1/2``) is passed over: the model is fitted on the largest budget with enough
observations that is not. The weights ``∝ p ** 3`` (MFES-HB) say how far each budget is trusted;
they are reported, and they choose the budget, but the densities are not mixed: measured on
synthetic and LCBench workloads, a mixture of the per-budget densities with those weights lost
to BOHB's single model, because weights of nearly equal ``p`` (0.6 to 0.9) dilute the top
budget's sharp density with the cheap budgets' broad ones (docs/samplers.md has the numbers).

Why pairs measured at both budgets and not, as MFES-HB does, the cheap budget's model scored on
the top budget's configurations: the model's score is biased upwards, since the cheap model was
fitted on those very configurations (on the badly correlated Hartmann-6 it reported p = 0.68 to
0.77 where the true rank consistency is 0.41 to 0.46); the pairs track the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

from hyperband.core.trust import rank_consistency, trust_weights
from hyperband.samplers.kde.densities import _Density
from hyperband.samplers.kde.encoding import FloatArray

#: MFES-HB's exponent: weights ``∝ p ** POWER``.
POWER: Final = 3.0

#: Fits the good and bad densities on one budget's rows of codes and losses.
Fit = Callable[[FloatArray, FloatArray], tuple[_Density, _Density]]


class _Store:
    """The observations at one budget: encoded rows and losses, in arrays that grow by doubling."""

    __slots__ = ("codes", "losses", "n")

    def __init__(self, width: int) -> None:
        self.codes = np.empty((8, width))
        self.losses = np.empty(8)
        self.n = 0

    def add(self, row: FloatArray, loss: float) -> None:
        if self.n == self.losses.size:
            self.codes = np.concatenate([self.codes, np.empty_like(self.codes)])
            self.losses = np.concatenate([self.losses, np.empty_like(self.losses)])
        self.codes[self.n] = row
        self.losses[self.n] = loss
        self.n += 1


class _Model:
    """The good and bad densities fitted on the ``n`` observations at ``budget``."""

    __slots__ = ("bad", "budget", "good", "n")

    def __init__(self, budget: float, n: int, good: _Density, bad: _Density) -> None:
        self.budget = budget
        self.n = n
        self.good = good
        self.bad = bad


class _Budgets:
    """The observations at every budget, and the model fitted on the budget a draw trusts.

    Args:
        width: the number of dimensions of an encoded row.
        needed: the fewest observations at one budget that leave enough for both densities.
        trust: ``"off"`` (BOHB's rule) or ``"rank"`` (pass over budgets that rank backwards).
    """

    __slots__ = (
        "_consistency",
        "_finite",
        "_key",
        "_largest",
        "_model",
        "needed",
        "stores",
        "trust",
        "width",
    )

    def __init__(self, width: int, needed: int, trust: str = "off") -> None:
        self.width = width
        self.needed = needed
        self.trust = trust
        self.stores: dict[float, _Store] = {}
        # The largest budget with enough observations (BOHB's model budget).
        self._largest: float | None = None
        self._model: _Model | None = None
        self._key: tuple[tuple[float, int], ...] = ()
        self._consistency: dict[float, float | None] = {}
        # The finite losses at each budget, by configuration (its encoded row).
        self._finite: dict[float, dict[bytes, float]] = {}

    @property
    def model_budget(self) -> float | None:
        """The budget the next draw's model is fitted on, None while there is none."""
        if self.trust == "off" or self._largest is None:
            return self._largest
        p = self.consistency()
        usable = [b for b, s in self.stores.items() if s.n >= self.needed and _ranks(p.get(b))]
        return max(usable) if usable else None

    def consistency(self) -> dict[float, float | None]:
        """Each budget's rank consistency with the top budget (the top's own is 1).

        ``{}`` until the top budget has 4 finite results; a budget with fewer than
        5 configurations measured at both is present with ``None`` (unmeasured,
        which is not the same as untrusted). Recomputed only when an observation arrived.
        """
        key = tuple(sorted((b, s.n) for b, s in self.stores.items()))
        if key != self._key:
            self._key, self._consistency = key, self._measure()
        return dict(self._consistency)

    def weights(self) -> dict[float, float]:
        """MFES-HB's weights over the measured budgets, ``∝ p ** 3``, summing to 1; ``{}``
        while nothing is measured."""
        measured = {b: p for b, p in sorted(self.consistency().items()) if p is not None}
        return trust_weights(measured, POWER) if len(measured) > 1 else dict.fromkeys(measured, 1.0)

    def _measure(self) -> dict[float, float | None]:
        if not self.stores:
            return {}
        return rank_consistency(self._finite, max(self.stores), sorted(self.stores))

    @property
    def n(self) -> int:
        """How many observations are kept, over all budgets."""
        return sum(store.n for store in self.stores.values())

    def add(self, budget: float, row: FloatArray, loss: float) -> None:
        """Keep one observation; the model moves up to ``budget`` once it has enough."""
        store = self.stores.get(budget)
        if store is None:
            store = self.stores[budget] = _Store(self.width)
        store.add(row, loss)
        if np.isfinite(loss):
            # A configuration's row is its identity across budgets: promotions keep the row.
            self._finite.setdefault(budget, {})[row.tobytes()] = loss
        if store.n >= self.needed and (self._largest is None or budget > self._largest):
            self._largest = budget

    def model(self, fit: Fit) -> _Model | None:
        """The model for the next draw, refitted by ``fit`` only when its observations changed."""
        b = self.model_budget
        if b is None:
            return None
        store = self.stores[b]
        model = self._model
        if model is None or model.budget != b or model.n != store.n:
            n = store.n
            good, bad = fit(store.codes[:n], store.losses[:n])
            model = self._model = _Model(b, n, good, bad)
        return model


def _ranks(p: float | None) -> bool:
    """Whether a budget of rank consistency ``p`` may carry the model: an unmeasured budget
    (``None``) keeps BOHB's benefit of the doubt; below 1/2 it ranks worse than a coin."""
    return p is None or p >= 0.5
