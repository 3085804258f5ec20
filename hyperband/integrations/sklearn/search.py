"""``HyperbandSearchCV``: Hyperband over cross-validated scikit-learn estimators."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import attrs
import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import check_scoring as sklearn_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, indexable

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.drivers.records import RunResult
from hyperband.drivers.runner import run
from hyperband.integrations.sklearn import checks
from hyperband.integrations.sklearn.evaluate import Cold, Evaluate, Warm, subset_orders, units
from hyperband.integrations.sklearn.params import check_names, space_names
from hyperband.integrations.sklearn.results import cv_results

__all__ = ["HyperbandSearchCV"]


_F = TypeVar("_F", bound=Callable[..., Any])


def _delegate(name: str) -> Callable[[_F], _F]:
    """Offer the method ``name`` when the estimator the search ends with (or, unfitted, the
    one it starts from) has it, as scikit-learn's searches do."""

    def check(self: HyperbandSearchCV) -> bool:
        getattr(getattr(self, "best_estimator_", self.estimator), name)
        return True

    return cast(Callable[[_F], _F], available_if(check))


@attrs.frozen
class _Plan:
    """What ``fit`` checked and built before the run."""

    objective: Any
    space: Any
    sampler: Any
    max_budget: float
    min_budget: float
    seed: int
    n_splits: int
    scorer: Any
    error_score: float | None


class HyperbandSearchCV(MetaEstimatorMixin, BaseEstimator):  # type: ignore[misc]
    """Hyperband search over an estimator's parameters, with scikit-learn's search API.

    Each job cross-validates one configuration at one budget (``resource``), in parallel
    through ``hyperband.run``'s executors; Hyperband promotes the best configurations of each
    rung to a larger budget, up to ``max_resources``. The attributes follow
    ``HalvingRandomSearchCV``'s, and the search is an estimator itself: ``clone``,
    ``get_params``/``set_params``, and ``predict``, ``score``, ... of the refit best estimator.

    Args:
        estimator: a scikit-learn estimator (or a ``Pipeline``).
        param_distributions: what to search: an NNI-format search space or a ConfigSpace
            space (then ``sampler`` may be ``"kde"``), or scikit-learn's format (a dict, or a
            list of dicts, of parameter names to lists or ``scipy.stats`` distributions,
            drawn at random), or ``None`` with a sampler object as ``sampler``. The names are
            parameters of ``estimator`` (``"clf__C"`` in a pipeline), set with
            ``set_params``.
        resource: what the budget counts: ``"n_samples"`` (each fold trains on that many of
            its training rows; the test rows are always the whole fold) or the name of an
            integer parameter of ``estimator`` (``"n_estimators"``, ``"max_iter"``,
            ``"clf__n_estimators"``). Budgets are rounded to the nearest integer >= 1.
        max_resources: the budget of the last rung. ``"auto"`` (only for ``"n_samples"``):
            the smallest fold's training rows.
        min_resources: the smallest budget. ``"auto"``: ``2 * n_splits * n_classes`` rows
            (``n_classes`` is 1 for a regressor) for ``"n_samples"``, else 1.
        eta: the halving rate (> 1); ``HalvingRandomSearchCV``'s ``factor``.
        sampler: ``None``/``"random"``, ``"kde"`` (BOHB's model; NNI or ConfigSpace spaces
            only), or a sampler object (see `hyperband.run`).
        warm_start: ``"auto"``: a promotion continues the configuration's fitted estimators
            (``warm_start=True``, the resource raised to the new budget) when the resource is
            an ``n_estimators`` and the estimator has ``warm_start``; ``True``: also for
            another parameter that counts the total (``max_iter`` of
            ``HistGradientBoostingClassifier``; not ``max_iter`` of ``SGDClassifier`` or
            ``MLPClassifier``, which count per fit); ``False``: every job fits from scratch.
        early_stop: ``None``, ``"median"``, ``"rung"``, ``"curve"`` or a rule object, as in
            `hyperband.run`: stop a job whose scores on the way to its budget make it a
            poor candidate. It needs intermediate scores, which only a warm-started job
            has (a parameter resource with warm start, see ``warm_start``): each job then
            grows its estimators in increments and reports the mean test score after each
            one; otherwise ``fit`` raises `hyperband.ConfigurationError`. A stopped job's
            row in ``cv_results_`` has ``status`` ``"stopped"`` and the scores where it
            stopped (``stopped_at``).
        n_reports: with ``early_stop``, how many times at most a job reports before its
            budget: at evenly spaced whole resource values past its previous rung's (a
            budget 27 to 81 with 4: at 38, 49, 60 and 71). Each costs one scoring of every
            fold.
        cv: as in scikit-learn: ``None`` (5 folds), an int, a splitter or an iterable of
            ``(train, test)`` index pairs; stratified for a classifier.
        scoring: one metric: ``None`` (the estimator's ``score``), a scorer name or a
            callable ``scorer(estimator, X, y)``. Greater is better.
        refit: ``True``: fit ``best_estimator_`` on all of ``X`` with ``best_params_`` (and
            the resource parameter at the best job's budget); ``False``: no refit; a
            callable ``refit(cv_results_) -> index`` picks ``best_index_``.
        error_score: the score of a failed fit in ``cv_results_`` (a failed job is never
            promoted); ``"raise"`` stops the search at the first failed fit with
            ``hyperband.TooManyFailuresError``, whose message holds the traceback.
        return_train_score: also score each fit on its training rows.
        n_jobs: how many jobs run at once: ``None`` is 1, ``-1`` every core.
        executor: ``"threads"``, ``"processes"``, ``"serial"``, ``"dask"`` or an executor
            object (see `hyperband.run`).
        iterations: how many times to run the whole Hyperband schedule.
        random_state: ``None``, an int or a ``RandomState``: the run's seed (``seed_``),
            which fixes the configurations, the promotions and the row subsets.
        journal: a journal file (see `hyperband.run`): the search resumes from it.
        verbose: ``> 0`` shows the run's progress.

    Attributes:
        cv_results_: a dict of arrays, one row per job (see the docs page).
        best_index_: the row of the best job: the best mean test score at the largest
            budget reached (Hyperband's ``best``), or what a callable ``refit`` chose.
        best_score_: its mean test score (not with a callable ``refit``).
        best_params_: its configuration.
        best_estimator_: the refit estimator (with ``refit``).
        n_resources_: the distinct budgets of the schedule, smallest first.
        max_resources_, min_resources_: the budgets used.
        n_splits_: the number of folds.
        scorer_: the scorer.
        refit_time_: seconds the refit took.
        seed_: the run's seed.
        result_: the run's `hyperband.RunResult` (every job, the schedule).

    Examples:
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.ensemble import RandomForestClassifier
        >>> from hyperband.integrations.sklearn import HyperbandSearchCV
        >>> X, y = load_iris(return_X_y=True)
        >>> search = HyperbandSearchCV(
        ...     RandomForestClassifier(random_state=0),
        ...     {"max_depth": [2, 4, None], "min_samples_leaf": [1, 2, 4]},
        ...     resource="n_estimators", max_resources=9, cv=3, random_state=0,
        ... ).fit(X, y)
        >>> search.best_params_["max_depth"] in (2, 4, None), search.n_resources_
        (True, [1, 3, 9])
    """

    def __init__(
        self,
        estimator: Any,
        param_distributions: Any,
        *,
        resource: str = "n_samples",
        max_resources: Any = "auto",
        min_resources: Any = "auto",
        eta: float = 3,
        sampler: Any = None,
        warm_start: Any = "auto",
        early_stop: Any = None,
        n_reports: int = 4,
        cv: Any = 5,
        scoring: Any = None,
        refit: Any = True,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        n_jobs: int | None = None,
        executor: Any = "threads",
        iterations: int = 1,
        random_state: Any = None,
        journal: Any = None,
        verbose: int = 0,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.resource = resource
        self.max_resources = max_resources
        self.min_resources = min_resources
        self.eta = eta
        self.sampler = sampler
        self.warm_start = warm_start
        self.early_stop = early_stop
        self.n_reports = n_reports
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.n_jobs = n_jobs
        self.executor = executor
        self.iterations = iterations
        self.random_state = random_state
        self.journal = journal
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> Any:
        """Run the search, then refit the best configuration on all of ``X``.

        Args:
            X: the training data (an array-like or a pandas DataFrame).
            y: the targets, or None.
            groups: group labels for a group splitter (``GroupKFold``).
            **fit_params: passed to the estimator's ``fit``; one with an entry per row
                (``sample_weight``) is subset along with the rows.

        Returns:
            The fitted search.

        Raises:
            ConfigurationError, ArgumentTypeError: a bad argument, named.
            ValueError: every job failed (the message shows the first error).
            TooManyFailuresError: a fit failed under ``error_score="raise"``.
        """
        X, y, groups = indexable(X, y, groups)
        plan = self._plan(X, y, groups, fit_params)
        result = run(
            plan.objective,
            plan.space,
            sampler=plan.sampler,
            max_budget=plan.max_budget,
            min_budget=plan.min_budget,
            eta=self.eta,
            mode="maximize",
            iterations=self.iterations,
            seed=plan.seed,
            executor=self.executor,
            workers=checks.n_workers(self.n_jobs, self.executor),
            journal=self.journal,
            progress=bool(self.verbose),
            max_failures=1 if plan.error_score is None else None,
            early_stop=self.early_stop,
        )
        self._store(result, plan)
        if self.refit:
            self._refit(X, y, fit_params)
        return self

    def _plan(self, X: Any, y: Any, groups: Any, fit_params: Mapping[str, Any]) -> _Plan:
        """Check every argument and build the objective, before any job runs."""
        estimator = self.estimator
        if not callable(getattr(estimator, "get_params", None)) or not callable(
            getattr(estimator, "fit", None)
        ):
            raise ArgumentTypeError(
                f"estimator must be a scikit-learn estimator (with fit and get_params), got "
                f"{describe(estimator)}"
            )
        params = estimator.get_params(deep=True)
        resource = self.resource
        if not isinstance(resource, str) or (resource != "n_samples" and resource not in params):
            raise ConfigurationError(
                f"resource must be 'n_samples' or a parameter of {type(estimator).__name__} "
                f"(such as 'n_estimators' or 'max_iter'), got {describe(resource)}"
            )
        space, sampler = checks.search_space(self.param_distributions, self.sampler)
        names = space_names(space)
        if names is not None:
            check_names(names, params, resource, type(estimator).__name__)
        checks.check_scoring(self.scoring)
        error_score = checks.check_error_score(self.error_score)
        return_train = checks.check_flag("return_train_score", self.return_train_score)
        if not (isinstance(self.refit, bool) or callable(self.refit)):
            raise ArgumentTypeError(
                f"refit must be True, False or a callable, got {describe(self.refit)}"
            )
        warm = checks.warm_param(self.warm_start, resource, params)
        n_reports = checks.check_early_stop(self.early_stop, self.n_reports, warm, resource)
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int):
            # run() takes None for "until interrupted": a fit must end.
            raise ArgumentTypeError(
                f"iterations must be an int >= 1, got {describe(self.iterations)}"
            )
        classifier = is_classifier(estimator)
        splits = list(check_cv(self.cv, y, classifier=classifier).split(X, y, groups))
        labels = np.asarray(y) if classifier and y is not None else None
        n_classes = len(np.unique(labels)) if labels is not None and labels.ndim == 1 else 1
        top, bottom = checks.resources(
            resource, self.max_resources, self.min_resources, splits, n_classes
        )
        seed = checks.seed_of(self.random_state)
        orders = subset_orders(splits, y, classifier, seed) if resource == "n_samples" else None
        scorer = sklearn_scoring(estimator, scoring=self.scoring)
        evaluate = Evaluate(
            estimator, X, y, splits, orders, resource, scorer, dict(fit_params), return_train, warm
        )
        objective = Cold(evaluate) if warm is None else Warm(evaluate, top, n_reports)
        return _Plan(objective, space, sampler, top, bottom, seed, len(splits), scorer, error_score)

    def _store(self, result: RunResult, plan: _Plan) -> None:
        """The fitted attributes of a finished run."""
        error_score = np.nan if plan.error_score is None else plan.error_score
        results = cv_results(result.history, plan.n_splits, self.return_train_score, error_score)
        if callable(self.refit):
            index = self.refit(results)
            if (
                isinstance(index, bool)
                or not isinstance(index, int | np.integer)
                or not (0 <= index < len(results["params"]))
            ):
                raise ConfigurationError(
                    f"refit: the callable must return a row index of cv_results_ (0 to "
                    f"{len(results['params']) - 1}), got {describe(index)}"
                )
        elif result.best is None:
            first = next((r.error for r in result.history if r.error), None)
            raise ValueError(
                f"every one of the {len(result.history)} jobs failed; the first error:\n{first}"
            )
        else:
            index = int(np.flatnonzero(results["job_id"] == result.best.job_id)[0])
        self.result_ = result
        self.cv_results_ = results
        self.best_index_ = int(index)
        self.best_params_ = dict(results["params"][index])
        if not callable(self.refit):
            self.best_score_ = float(results["mean_test_score"][index])
        budgets = {units(r.budget) for b in result.schedule.brackets for r in b.rungs}
        self.n_resources_ = sorted(budgets)
        self.max_resources_ = units(plan.max_budget)
        self.min_resources_ = units(plan.min_budget)
        self.n_splits_ = plan.n_splits
        self.scorer_ = plan.scorer
        self.multimetric_ = False
        self.seed_ = plan.seed

    def _refit(self, X: Any, y: Any, fit_params: Mapping[str, Any]) -> None:
        params = dict(self.best_params_)
        if self.resource != "n_samples":
            params[self.resource] = int(self.cv_results_["n_resources"][self.best_index_])
        best = clone(self.estimator).set_params(**params)
        start = time.perf_counter()
        best.fit(X, y, **fit_params)
        self.refit_time_ = time.perf_counter() - start
        self.best_estimator_ = best

    def _fitted(self, method: str) -> Any:
        """The refit best estimator, or NotFittedError saying why there is none."""
        check_is_fitted(self)
        if not self.refit:
            raise NotFittedError(
                f"{type(self).__name__} was created with refit=False: {method} needs the "
                "best estimator refit on the whole data; fit with refit=True, or build one "
                "from best_params_"
            )
        return self.best_estimator_

    @_delegate("predict")
    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict(X)``."""
        return self._fitted("predict").predict(X)

    @_delegate("predict_proba")
    def predict_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_proba(X)``."""
        return self._fitted("predict_proba").predict_proba(X)

    @_delegate("predict_log_proba")
    def predict_log_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_log_proba(X)``."""
        return self._fitted("predict_log_proba").predict_log_proba(X)

    @_delegate("decision_function")
    def decision_function(self, X: Any) -> Any:
        """``best_estimator_.decision_function(X)``."""
        return self._fitted("decision_function").decision_function(X)

    @_delegate("score_samples")
    def score_samples(self, X: Any) -> Any:
        """``best_estimator_.score_samples(X)``."""
        return self._fitted("score_samples").score_samples(X)

    @_delegate("transform")
    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform(X)``."""
        return self._fitted("transform").transform(X)

    @_delegate("inverse_transform")
    def inverse_transform(self, X: Any) -> Any:
        """``best_estimator_.inverse_transform(X)``."""
        return self._fitted("inverse_transform").inverse_transform(X)

    def score(self, X: Any, y: Any = None) -> float:
        """The search's scorer (``scoring``) on ``best_estimator_``: greater is better."""
        return float(self.scorer_(self._fitted("score"), X, y))

    @property
    def classes_(self) -> Any:
        """The class labels of ``best_estimator_`` (a classifier)."""
        return self._fitted("classes_").classes_

    @property
    def n_features_in_(self) -> int:
        """The number of features ``best_estimator_`` was fitted on."""
        return int(self._fitted("n_features_in_").n_features_in_)

    def __sklearn_tags__(self) -> Any:
        # The search is what its estimator is: a classifier's search is a classifier, so
        # that is_classifier(), cross_val_score's stratification and pipelines treat it so.
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.pairwise = inner.input_tags.pairwise
        return tags
