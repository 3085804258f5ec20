"""The observations per budget, and which budgets' model a draw uses.

Today's rule is BOHB's: the model is fitted on the largest budget that has enough observations
for both densities, and on that budget alone. ``_Budgets`` is the one place that knows it, so a
rule that combines several budgets' models (per-budget trust weights) replaces this module only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hyperband.samplers.kde.densities import _Density
from hyperband.samplers.kde.encoding import FloatArray

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
    """The observations at every budget, and the model fitted on the largest with enough.

    Args:
        width: the number of dimensions of an encoded row.
        needed: the fewest observations at one budget that leave enough for both densities.
    """

    __slots__ = ("_model", "model_budget", "needed", "stores", "width")

    def __init__(self, width: int, needed: int) -> None:
        self.width = width
        self.needed = needed
        self.stores: dict[float, _Store] = {}
        #: The budget the model is fitted on, None while no budget has enough observations.
        self.model_budget: float | None = None
        self._model: _Model | None = None

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
        if store.n >= self.needed and (self.model_budget is None or budget > self.model_budget):
            self.model_budget = budget

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
