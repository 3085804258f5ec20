"""The objective ``HyperbandSearchCV`` runs: one job is one configuration cross-validated at
one budget.

The budget is either a number of training rows (``resource="n_samples"``: each fold trains on
the first ``n`` rows of a fixed order of its training rows, so a larger budget sees a superset
of a smaller one's rows; the test rows are always the whole fold) or the value of an estimator
parameter (``n_estimators``, ``max_iter``, a pipeline's ``clf__n_estimators``). Budgets are
rounded to the nearest integer >= 1 before use.

Warm start: ``Warm`` keeps each fold's fitted estimator in the configuration's checkpoint
directory; a promotion loads them, sets the resource parameter to the new budget and fits
again with ``warm_start=True``, so an ensemble grows from where it stopped instead of
starting over. Early stopping builds on it: a warm-started job grows its estimators in a few
increments and reports the mean test score after each, the only intermediate values a
cross-validated fit has.
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from hyperband.core.jobs import EarlyStopped
from hyperband.drivers.context import Context

__all__ = ["Cold", "Evaluate", "Warm", "n_rows", "report_steps", "subset_orders", "units"]

Split = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]
_CHECKPOINT = "fold_estimators.pkl"


def units(budget: float) -> int:
    """The budget as the integer an estimator gets: the nearest one, at least 1."""
    return max(1, math.floor(budget + 0.5))


def n_rows(data: Any) -> int:
    """How many rows an array-like has (``shape[0]``, else ``len``)."""
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(data)


def subset_orders(
    splits: Sequence[Split], y: Any, classifier: bool, seed: int
) -> list[npt.NDArray[np.intp]]:
    """For each fold, its training rows in the order budgets take them (a prefix each).

    A classifier's order interleaves the classes: each class's rows are shuffled and spread
    evenly over the order, so that every prefix holds about the classes' proportions (a
    small budget still sees every class). Otherwise a plain shuffle. The RNG is derived from
    ``(seed, fold)`` only.
    """
    labels = None if y is None else np.asarray(y)
    orders = []
    for k, (train, _) in enumerate(splits):
        rng = np.random.default_rng([seed, k])
        if classifier and labels is not None and labels.ndim == 1:
            fold_labels = labels[train]
            keys = np.empty(len(train))
            for cls in np.unique(fold_labels):
                where = np.flatnonzero(fold_labels == cls)
                keys[where] = (rng.permutation(len(where)) + rng.random(len(where))) / len(where)
            orders.append(np.asarray(train)[np.argsort(keys, kind="stable")])
        else:
            orders.append(rng.permutation(np.asarray(train)))
    return orders


def _take(data: Any, rows: npt.NDArray[np.intp]) -> Any:
    return None if data is None else _safe_indexing(data, rows)


def _fit_params(params: Mapping[str, Any], rows: npt.NDArray[np.intp], n: int) -> dict[str, Any]:
    """The fit parameters for a fit on ``rows``: those with one entry per row (sample_weight)
    are subset, the others passed as they are."""
    out = {}
    for name, value in params.items():
        aligned = hasattr(value, "__len__") and not isinstance(value, str | bytes | Mapping)
        out[name] = _take(value, rows) if aligned and n_rows(value) == n else value
    return out


@attrs.frozen(slots=False)
class Evaluate:
    """Cross-validates one configuration at one budget (picklable, for process executors)."""

    estimator: Any
    X: Any
    y: Any
    splits: list[Split]
    orders: list[npt.NDArray[np.intp]] | None  # None: the resource is a parameter
    resource: str
    scorer: Any
    fit_params: dict[str, Any]
    return_train_score: bool
    warm_param: str | None = None  # the warm_start parameter's name, when warm starting

    def estimators(self, config: Mapping[str, Any], n: int) -> list[Any]:
        """A fresh estimator per fold with the configuration (and the resource) set."""
        params = dict(config)
        if self.orders is None:
            params[self.resource] = n
        if self.warm_param is not None:
            params[self.warm_param] = True
        return [clone(self.estimator).set_params(**params) for _ in self.splits]

    def __call__(
        self,
        config: Mapping[str, Any],
        budget: float,
        fitted: list[Any] | None = None,
        *,
        steps: Sequence[int] = (),
        report: Callable[[int, float], None] | None = None,
    ) -> dict[str, Any]:
        """Fit and score every fold; ``fitted`` continues estimators of a lower budget.

        With ``steps`` (resource values below the budget, increasing; a warm-started
        parameter resource only), the folds are fitted and scored at each step first, and
        ``report(step, mean test score)`` is called there: when it raises
        `hyperband.EarlyStopped`, the job ends with the scores of that step.
        """
        n = units(budget)
        if fitted is None:
            fitted = self.estimators(config, n)
        times = {"fit_time": [0.0] * len(fitted), "score_time": [0.0] * len(fitted)}
        for step in (*steps, n):
            test = self._fit_and_score(fitted, step, times)
            if step < n and report is not None:
                try:
                    report(step, float(np.mean(test)))
                except EarlyStopped:
                    return self._result(fitted, step, test, times)
        return self._result(fitted, n, test, times)

    def _rows(self, k: int, n: int) -> npt.NDArray[np.intp]:
        """Fold ``k``'s training rows at budget ``n``."""
        return np.asarray(self.splits[k][0]) if self.orders is None else self.orders[k][:n]

    def _fit_and_score(
        self, fitted: list[Any], n: int, times: dict[str, list[float]]
    ) -> list[float]:
        """Fit each fold's estimator at ``n`` and score it on its test rows; the seconds add
        up in ``times``."""
        total = n_rows(self.X)
        scores = []
        for k, (_, test) in enumerate(self.splits):
            rows = self._rows(k, n)
            if self.orders is None:
                fitted[k].set_params(**{self.resource: n})
            start = time.perf_counter()
            fitted[k].fit(
                _take(self.X, rows),
                _take(self.y, rows),
                **_fit_params(self.fit_params, rows, total),
            )
            times["fit_time"][k] += time.perf_counter() - start
            start = time.perf_counter()
            scores.append(float(self.scorer(fitted[k], _take(self.X, test), _take(self.y, test))))
            times["score_time"][k] += time.perf_counter() - start
        return scores

    def _result(
        self, fitted: list[Any], n: int, test: list[float], times: dict[str, list[float]]
    ) -> dict[str, Any]:
        """The job's result: the scores of the folds as fitted at ``n``."""
        train = []
        if self.return_train_score:
            for k, est in enumerate(fitted):
                rows = self._rows(k, n)
                train.append(float(self.scorer(est, _take(self.X, rows), _take(self.y, rows))))
        return {
            "default": float(np.mean(test)),
            "test_scores": test,
            "train_scores": train,
            **times,
            "n_resources": n,
        }


def report_steps(start: int, end: int, n_reports: int) -> list[int]:
    """The resource values below ``end`` at which a job going from ``start`` to ``end``
    reports: up to ``n_reports``, evenly spaced whole units in ``(start, end)``.

    Examples:
        >>> report_steps(27, 81, 4), report_steps(1, 3, 4), report_steps(0, 1, 4)
        ([38, 49, 60, 71], [2], [])
    """
    span = end - start
    if span <= 1:
        return []
    count = min(n_reports + 1, span)
    return sorted({start + math.ceil(j * span / count) for j in range(1, count)})


@attrs.frozen
class Cold:
    """The objective without warm start: every job fits from scratch."""

    evaluate: Evaluate

    def __call__(self, config: dict[str, Any], budget: float) -> dict[str, Any]:
        return self.evaluate(config, budget)


@attrs.frozen
class Warm:
    """The objective with warm start: a promotion continues its configuration's estimators.

    The fitted estimators are pickled into the configuration's checkpoint directory (below
    ``max_budget`` only: nothing continues from the last rung) and loaded by the next rung's
    job when they were fitted at its ``previous_budget``; otherwise it fits from scratch.

    With ``n_reports`` (early stopping), a job grows its estimators in up to
    ``n_reports + 1`` warm-started increments (`report_steps`), and reports the mean test
    score after each one but the last through ``context.report``: a job the stopping rule
    stops returns the scores of its last increment, and saves nothing (it is never
    promoted).
    """

    evaluate: Evaluate
    max_budget: float
    n_reports: int | None = None

    def __call__(self, config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
        path = context.checkpoint_dir / _CHECKPOINT
        fitted = None
        previous = context.job.previous_budget
        if previous is not None and path.exists():
            with path.open("rb") as f:
                saved_n, saved = pickle.load(f)
            if saved_n == units(previous) and len(saved) == len(self.evaluate.splits):
                fitted = saved
        n = units(budget)
        fresh = self.evaluate.estimators(config, n) if fitted is None else fitted
        steps: list[int] = []
        if self.n_reports is not None:
            # The same steps whether the estimators were loaded or start over, so that the
            # jobs of a segment report at the same steps, and only past the previous rung.
            start = 0 if previous is None else units(previous)
            steps = report_steps(start, n, self.n_reports)
        result = self.evaluate(config, budget, fresh, steps=steps, report=context.report)
        if budget < self.max_budget and result["n_resources"] == n:
            scratch = path.with_suffix(".tmp")
            with scratch.open("wb") as f:
                pickle.dump((n, fresh), f)
            scratch.replace(path)  # whole or not at all: a killed job leaves no torn file
        return result
