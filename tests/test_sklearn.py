"""HyperbandSearchCV: scikit-learn's search API over Hyperband, with real estimators."""

from __future__ import annotations

import doctest
import importlib
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.optional import missing_reason, require, run_without

require("sklearn")

from scipy import stats  # noqa: E402  (a dependency of scikit-learn)
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from hyperband import ArgumentTypeError, ConfigurationError, TooManyFailuresError  # noqa: E402
from hyperband.integrations.sklearn import HyperbandSearchCV  # noqa: E402
from hyperband.integrations.sklearn.evaluate import subset_orders  # noqa: E402

X, Y = load_iris(return_X_y=True)
TREES = {"max_depth": [1, 2, 4, None], "min_samples_leaf": [1, 2, 8]}


class Counting(ClassifierMixin, BaseEstimator):
    """Scores how many fits built it (1 from scratch; 2 and more when warm started) and,
    with ``rows=True``, how many rows its last fit saw."""

    def __init__(
        self, n_estimators: int = 1, warm_start: bool = False, c: float = 0.0, rows: bool = False
    ) -> None:
        self.n_estimators = n_estimators
        self.warm_start = warm_start
        self.c = c
        self.rows = rows

    def fit(self, X: Any, y: Any) -> Counting:
        if self.c < 0:
            raise ValueError("c must be >= 0 (a deliberate failure)")
        self.fits_ = getattr(self, "fits_", 0) + 1 if self.warm_start else 1
        self.n_rows_ = len(X)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X: Any) -> Any:
        return np.full(len(X), self.classes_[0])

    def score(self, X: Any, y: Any) -> float:
        return float(self.n_rows_ if self.rows else self.fits_)


def forest_search(**kwargs: Any) -> HyperbandSearchCV:
    options: dict[str, Any] = {
        "resource": "n_estimators",
        "max_resources": 9,
        "cv": 3,
        "random_state": 0,
    }
    return HyperbandSearchCV(RandomForestClassifier(random_state=0), TREES, **{**options, **kwargs})


def test_search_fits_refits_and_delegates_like_a_scikit_learn_search() -> None:
    search = forest_search().fit(X, Y)
    results = search.cv_results_
    n = len(results["params"])
    assert n == len(search.result_.history) > 0
    keys = {"mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time", "params"}
    keys |= {f"split{k}_test_score" for k in range(3)}
    keys |= {"mean_test_score", "std_test_score", "rank_test_score", "iter", "n_resources"}
    keys |= {"param_max_depth", "param_min_samples_leaf", "bracket", "rung", "status"}
    assert keys <= set(results)
    assert all(len(v) == n for v in results.values())
    splits = np.column_stack([results[f"split{k}_test_score"] for k in range(3)])
    np.testing.assert_allclose(splits.mean(axis=1), results["mean_test_score"])
    np.testing.assert_allclose(splits.std(axis=1), results["std_test_score"])
    assert results["rank_test_score"][np.argmax(results["mean_test_score"])] == 1
    assert isinstance(results["param_max_depth"], np.ma.MaskedArray)
    # The best: Hyperband's best, at the largest budget, as HalvingRandomSearchCV picks it.
    best = search.best_index_
    assert results["n_resources"][best] == search.max_resources_ == 9
    assert search.best_params_ == results["params"][best]
    assert search.best_score_ == results["mean_test_score"][best]
    top = results["n_resources"] == 9
    assert search.best_score_ == results["mean_test_score"][top].max()
    assert search.n_resources_ == [1, 3, 9]
    assert search.n_splits_ == 3
    assert sorted(set(results["n_resources"])) == [1, 3, 9]
    # The refit best estimator: its parameters, the resource at its budget, all the rows.
    est = search.best_estimator_
    assert est.get_params()["n_estimators"] == 9
    assert {k: est.get_params()[k] for k in TREES} == search.best_params_
    assert (search.predict(X) == est.predict(X)).all()
    np.testing.assert_allclose(search.predict_proba(X[:5]), est.predict_proba(X[:5]))
    assert search.score(X, Y) == est.score(X, Y)
    assert list(search.classes_) == [0, 1, 2]
    assert search.n_features_in_ == 4
    assert is_classifier(search)
    assert not hasattr(search, "transform")  # a forest has none: nor has the search


def test_the_search_is_a_scikit_learn_estimator_clone_and_params_round_trip() -> None:
    search = forest_search(n_jobs=2, eta=2)
    copy = clone(search)
    assert copy is not search
    assert copy.get_params(deep=False).keys() == search.get_params(deep=False).keys()
    assert copy.get_params()["estimator__n_estimators"] == 100
    copy.set_params(eta=4, estimator__max_features=2)
    assert (copy.eta, copy.estimator.max_features) == (4, 2)
    assert (search.eta, search.estimator.max_features) == (2, "sqrt")  # the original stays
    assert repr(search).startswith("HyperbandSearchCV(")
    # scikit-learn's own checks of the parameter conventions.
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_set_params,
    )

    check_get_params_invariance("search", search)
    check_set_params("search", search)
    check_no_attributes_set_in_init("search", search)


def test_the_same_random_state_gives_the_same_search_on_any_executor() -> None:
    first = forest_search(random_state=3).fit(X, Y).cv_results_
    threads = forest_search(random_state=3, n_jobs=2).fit(X, Y).cv_results_
    other = forest_search(random_state=4).fit(X, Y).cv_results_
    for again in (threads,):
        assert again["params"] == first["params"]
        np.testing.assert_array_equal(again["mean_test_score"], first["mean_test_score"])
        np.testing.assert_array_equal(again["n_resources"], first["n_resources"])
    assert other["params"] != first["params"]


def test_processes_executor_runs_the_search_in_worker_processes() -> None:
    serial = forest_search(executor="serial").fit(X, Y)
    procs = forest_search(executor="processes", n_jobs=2).fit(X, Y)
    assert procs.cv_results_["params"] == serial.cv_results_["params"]
    np.testing.assert_array_equal(
        procs.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    # Worker labels are host/pid/thread: the jobs ran in other processes than this one.
    pids = {r.worker.split("/")[1] for r in procs.result_.history}
    assert pids
    assert str(os.getpid()) not in pids


def test_warm_start_continues_the_estimators_of_the_previous_rung() -> None:
    params = {"c": [0.0, 1.0, 2.0, 3.0]}
    common: dict[str, Any] = {"resource": "n_estimators", "max_resources": 9, "cv": 3}
    warm = HyperbandSearchCV(Counting(), params, random_state=0, **common).fit(X, Y)
    res = warm.cv_results_
    # Score = how many fits built the estimator: rung i continues rungs 0..i-1.
    np.testing.assert_array_equal(res["mean_test_score"], res["rung"] + 1)
    assert (res["rung"] > 0).any()
    cold = HyperbandSearchCV(Counting(), params, warm_start=False, random_state=0, **common)
    assert (cold.fit(X, Y).cv_results_["mean_test_score"] == 1).all()
    # A forest warm started is the forest fitted from scratch (same random_state): the
    # checkpoints continue the right configuration's trees.
    a = forest_search(warm_start=True).fit(X, Y).cv_results_
    b = forest_search(warm_start=False).fit(X, Y).cv_results_
    np.testing.assert_array_equal(a["mean_test_score"], b["mean_test_score"])


def test_n_samples_budgets_count_training_rows_in_nested_class_balanced_subsets() -> None:
    search = HyperbandSearchCV(
        Counting(rows=True), {"c": [0.0, 1.0]}, cv=3, random_state=0, max_resources=90
    ).fit(X, Y)
    res = search.cv_results_
    np.testing.assert_array_equal(res["mean_test_score"], res["n_resources"])
    assert search.min_resources_ == 2 * 3 * 3  # HalvingRandomSearchCV's smallest
    assert search.best_estimator_.n_rows_ == len(X)  # the refit sees every row
    # Every prefix of a fold's order holds the classes in proportion.
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    for order, (train, _) in zip(subset_orders(splits, Y, True, seed=5), splits, strict=True):
        assert sorted(order) == sorted(train)
        shares = np.bincount(Y[train]) / len(train)
        for n in range(3, len(order) + 1, 3):
            assert np.abs(np.bincount(Y[order[:n]], minlength=3) - shares * n).max() < 2


def test_a_pipeline_inside_with_a_step_parameter_as_resource() -> None:
    pipe = Pipeline([("scale", StandardScaler()), ("rf", RandomForestClassifier(random_state=0))])
    search = HyperbandSearchCV(
        pipe,
        {"rf__max_depth": {"_type": "choice", "_value": [2, 4]}},
        resource="rf__n_estimators",
        max_resources=9,
        cv=3,
        random_state=0,
    ).fit(X, Y)
    assert search.best_estimator_.named_steps["rf"].n_estimators == 9
    assert search.best_estimator_.named_steps["rf"].warm_start is False  # as given
    assert search.best_params_["rf__max_depth"] in (2, 4)


def test_scikit_learn_style_distributions_and_lists_of_dicts() -> None:
    space = [
        {"alpha": stats.loguniform(1e-3, 1e2), "fit_intercept": [True]},
        {"alpha": [0.5], "fit_intercept": [False]},
    ]
    kwargs: dict[str, Any] = {"resource": "n_samples", "cv": 3, "random_state": 1}
    kwargs["scoring"] = "neg_mean_squared_error"
    a = HyperbandSearchCV(Ridge(), space, **kwargs).fit(X, X[:, 0] * 2)
    b = HyperbandSearchCV(Ridge(), space, **kwargs).fit(X, X[:, 0] * 2)
    assert a.cv_results_["params"] == b.cv_results_["params"]
    alphas = [p["alpha"] for p in a.cv_results_["params"]]
    assert all(type(x) is float and 1e-3 <= x <= 1e2 for x in alphas)
    assert {p["fit_intercept"] for p in a.cv_results_["params"]} == {True, False}
    assert all(p["alpha"] == 0.5 for p in a.cv_results_["params"] if not p["fit_intercept"])
    assert not is_classifier(a)
    assert a.best_score_ <= 0


def test_kde_sampler_with_an_nni_space() -> None:
    space = {"max_depth": {"_type": "randint", "_value": [1, 6]}}
    search = HyperbandSearchCV(
        DecisionTreeClassifier(random_state=0), space, sampler="kde", cv=3, random_state=0
    ).fit(X, Y)
    assert 1 <= search.best_params_["max_depth"] < 6
    assert search.result_.params["seed"] == search.seed_ == 0


def test_refit_false_and_refit_callable() -> None:
    search = forest_search(refit=False).fit(X, Y)
    assert not hasattr(search, "best_estimator_")
    assert search.best_params_
    with pytest.raises(NotFittedError, match="refit=False"):
        search.predict(X)
    with pytest.raises(NotFittedError):
        forest_search().predict(X)  # never fitted
    last = forest_search(refit=lambda results: len(results["params"]) - 1).fit(X, Y)
    assert last.best_index_ == len(last.cv_results_["params"]) - 1
    assert not hasattr(last, "best_score_")
    with pytest.raises(ConfigurationError, match=r"refit: .*row index.*got 'x'"):
        forest_search(refit=lambda results: "x").fit(X, Y)


def test_failed_fits_score_error_score_and_raise_stops_the_search() -> None:
    params = {"c": [-1.0, 0.0, 1.0]}
    kwargs: dict[str, Any] = {"resource": "n_estimators", "max_resources": 3, "cv": 2}
    search = HyperbandSearchCV(Counting(), params, random_state=0, error_score=-5.0, **kwargs)
    res = search.fit(X, Y).cv_results_
    failed = res["status"] == "failed"
    assert failed.any()
    assert not failed.all()
    assert (res["mean_test_score"][failed] == -5.0).all()
    assert all(p["c"] == -1.0 for p in np.asarray(res["params"])[failed])
    assert np.isnan(res["mean_fit_time"][failed]).all()
    raising = HyperbandSearchCV(Counting(), params, random_state=0, error_score="raise", **kwargs)
    with pytest.raises(TooManyFailuresError, match="deliberate failure"):
        raising.fit(X, Y)
    with pytest.raises(ValueError, match=r"every one of the \d+ jobs failed"):
        HyperbandSearchCV(Counting(), {"c": [-1.0]}, random_state=0, **kwargs).fit(X, Y)


def test_a_journal_resumes_the_search(tmp_path: Path) -> None:
    journal = tmp_path / "search.jsonl"
    first = forest_search(journal=str(journal)).fit(X, Y)
    again = forest_search(journal=str(journal)).fit(X, Y)  # replayed, nothing re-run
    assert again.cv_results_["params"] == first.cv_results_["params"]
    np.testing.assert_array_equal(
        again.cv_results_["split0_test_score"], first.cv_results_["split0_test_score"]
    )


BAD: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"resource": "depth"}, ConfigurationError, r"resource must be 'n_samples' or a parameter"),
    ({"resource": "n_samples", "max_resources": 1000}, ConfigurationError, r"max_resources .*1000"),
    ({"max_resources": "auto"}, ConfigurationError, r"max_resources='auto' is only for"),
    ({"max_resources": -3}, ConfigurationError, r"max_resources must be .*-3"),
    ({"min_resources": 20}, ConfigurationError, r"min_resources must be <= max_resources .*20"),
    ({"eta": 1}, ConfigurationError, r"eta"),
    ({"iterations": None}, ArgumentTypeError, r"iterations must be an int >= 1, got None"),
    ({"iterations": 0}, ConfigurationError, r"iterations"),
    ({"warm_start": "yes"}, ConfigurationError, r"warm_start must be 'auto', True or False"),
    ({"resource": "n_samples", "warm_start": True}, ConfigurationError, r"warm_start=True"),
    ({"scoring": ["accuracy", "f1"]}, ConfigurationError, r"scoring must be .*one metric"),
    ({"error_score": "nan"}, ConfigurationError, r"error_score must be 'raise' or a number"),
    ({"n_jobs": 0}, ConfigurationError, r"n_jobs must be None or a non-zero int .*got 0"),
    ({"random_state": "seven"}, ArgumentTypeError, r"random_state must be .*'seven'"),
    ({"random_state": -1}, ConfigurationError, r"random_state must be >= 0, got -1"),
    ({"refit": "yes"}, ArgumentTypeError, r"refit must be True, False or a callable"),
    ({"return_train_score": 1}, ArgumentTypeError, r"return_train_score must be True or False"),
    ({"sampler": "kde"}, ConfigurationError, r"sampler='kde' draws from a search space in NNI"),
    ({"executor": "fork"}, ConfigurationError, r"executor"),
    ({"param_distributions": {"depth": [1]}}, ConfigurationError, r"'depth' is not a parameter"),
    ({"param_distributions": {"n_estimators": [1]}}, ConfigurationError, r"resource parameter"),
    ({"param_distributions": {"max_depth": 3}}, ArgumentTypeError, r"\['max_depth'\] must be a"),
    ({"param_distributions": {"max_depth": []}}, ConfigurationError, r"must not be an empty"),
    (
        {"param_distributions": []},
        ConfigurationError,
        r"param_distributions must not be an empty list",
    ),
    ({"param_distributions": 3}, ArgumentTypeError, r"param_distributions must be a search"),
    ({"estimator": "forest"}, ArgumentTypeError, r"estimator must be a scikit-learn estimator"),
]


@pytest.mark.parametrize(("change", "error", "message"), BAD, ids=[str(b[0]) for b in BAD])
def test_bad_arguments_are_named_and_leave_the_search_unfitted(
    change: dict[str, Any], error: type[Exception], message: str
) -> None:
    search = forest_search().set_params(**change)
    with pytest.raises(error, match=message):
        search.fit(X, Y)
    assert not hasattr(search, "cv_results_")


def test_docstring_examples() -> None:
    for name in ("", ".params", ".search"):
        module = importlib.import_module(f"hyperband.integrations.sklearn{name}")
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0, name


def test_without_scikit_learn_the_import_names_the_extra() -> None:
    assert "'.[sklearn]'" in missing_reason("sklearn")
    code = (
        "import hyperband\n"
        "try:\n"
        "    import hyperband.integrations.sklearn\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name, exc)\n"
    )
    out = run_without("sklearn", code)
    assert out.strip() == (
        "sklearn HyperbandSearchCV needs scikit-learn: pip install 'hyperband[sklearn]'"
    )


def test_scikit_learn_estimator_checks_pass_but_three_about_the_inner_errors() -> None:
    from sklearn.utils.estimator_checks import check_estimator

    search = HyperbandSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"min_samples_leaf": [1, 2]},
        resource="max_depth",
        max_resources=3,
        min_resources=3,  # one job: the checks are about the API, and they fit often
        cv=2,
        random_state=0,
        executor="serial",
    )
    # Each of these wants the inner estimator's own error or warning out of fit; a failed
    # fit fails its job instead (with error_score's score), and when every job failed the
    # search raises one ValueError that holds the first traceback.
    expected = {
        "check_dtype_object": "the inner fit's TypeError fails its job",
        "check_estimators_nan_inf": "the inner fit's ValueError fails its job",
        "check_supervised_y_2d": "the inner fit's DataConversionWarning stays in the job",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checks' own SkipTestWarning and test data
        results = check_estimator(search, on_fail=None, expected_failed_checks=expected)
    unexpected = [
        (r["check_name"], str(r["exception"])[:200])
        for r in results
        if r["status"] == "failed" and r["check_name"] not in expected
    ]
    assert unexpected == []
    assert sum(r["status"] == "passed" for r in results) >= 50
