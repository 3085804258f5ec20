"""HyperbandSearchCV(early_stop=...): warm-started jobs report their CV score on the way to
their budget, and a stopping rule stops some of them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.optional import require

require("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402

import hyperband  # noqa: E402
from hyperband.integrations.sklearn import HyperbandSearchCV  # noqa: E402
from hyperband.integrations.sklearn.evaluate import report_steps, units  # noqa: E402
from tests.test_sklearn import Counting  # noqa: E402

X, Y = load_iris(return_X_y=True)
BOOSTING = {"learning_rate": [0.01, 0.03, 0.1, 0.3, 1.0], "max_depth": [1, 2, 3]}


def boosting_search(**kwargs: Any) -> HyperbandSearchCV:
    """A small serial search of gradient boosting up to 9 trees, ``kwargs`` set on it."""
    search = HyperbandSearchCV(
        GradientBoostingClassifier(random_state=0),
        BOOSTING,
        resource="n_estimators",
        max_resources=9,
        cv=3,
        random_state=0,
        executor="serial",
    )
    return search.set_params(**kwargs)


def segment_steps(job: hyperband.Job, n_reports: int) -> list[int]:
    start = 0 if job.previous_budget is None else units(job.previous_budget)
    return report_steps(start, units(job.budget), n_reports)


def test_a_stopping_rule_stops_jobs_and_cv_results_shows_where() -> None:
    search = boosting_search(early_stop="rung").fit(X, Y)
    res = search.cv_results_
    stopped = np.flatnonzero(res["status"] == "stopped")
    assert len(stopped) > 0
    assert (res["status"] != "failed").all()
    records = {r.job.id: r for r in search.result_.history}
    for i in range(len(res["params"])):
        rec = records[int(res["job_id"][i])]
        steps = segment_steps(rec.job, 4)
        if i in stopped:
            # Stopped at one of its reports, before its budget, with that report's scores.
            at = res["stopped_at"][i]
            assert at < res["n_resources"][i]
            assert [s for s, _ in rec.reports] == [s for s in steps if s <= at]
            assert res["mean_test_score"][i] == rec.reports[-1][1]
            assert np.isfinite([res[f"split{k}_test_score"][i] for k in range(3)]).all()
            assert np.isfinite(res["mean_fit_time"][i])
        else:
            # Every report of its segment, then its score at the budget.
            assert np.isnan(res["stopped_at"][i])
            assert [s for s, _ in rec.reports] == steps
    assert res["status"][search.best_index_] == "succeeded"
    assert res["n_resources"][search.best_index_] == 9
    # Stopping saved budget: the same search without it costs more.
    plain = boosting_search().fit(X, Y)
    assert (plain.cv_results_["status"] == "succeeded").all()
    cost = sum(r.cost for r in search.result_.history)
    assert cost < sum(r.cost for r in plain.result_.history)


def test_a_stopped_jobs_scores_are_those_of_its_estimators_where_it_stopped() -> None:
    # Counting scores how many fits built it: a job stopped at its k-th report made k fits.
    search = HyperbandSearchCV(
        Counting(),
        {"c": [0.0, 1.0, 2.0, 3.0]},
        resource="n_estimators",
        max_resources=27,
        cv=2,
        random_state=0,
        early_stop=StopLarge(),
        n_reports=2,
    ).fit(X, Y)
    res = search.cv_results_
    rows = _by_row(search)
    large = np.array([p["c"] >= 2 for p in res["params"]])
    with_reports = np.array([bool(segment_steps(r.job, 2)) for r in rows], dtype=bool)
    # Exactly the jobs the rule names, at their first report, are stopped.
    np.testing.assert_array_equal(res["status"] == "stopped", large & with_reports)
    for i, rec in enumerate(rows):
        if res["status"][i] == "stopped":
            assert len(rec.reports) == 1
            assert res["mean_test_score"][i] == rec.reports[0][1]
        elif rec.job.rung == 0:
            # A first rung's estimators grow in one warm fit per report, then the last.
            assert res["mean_test_score"][i] == len(segment_steps(rec.job, 2)) + 1
    assert search.best_params_["c"] < 2


class StopLarge:
    """A custom stopping rule: stops a configuration with ``c >= 2`` at its first report."""

    def should_stop(self, view: Any) -> bool:
        return bool(view.job.config["c"] >= 2)


def _by_row(search: HyperbandSearchCV) -> list[Any]:
    records = {r.job.id: r for r in search.result_.history}
    return [records[int(j)] for j in search.cv_results_["job_id"]]


def test_early_stop_is_a_parameter_get_set_and_clone_carry() -> None:
    rule = hyperband.RungRule(min_peers=2)
    search = boosting_search(early_stop=rule, n_reports=3)
    params = search.get_params()
    assert params["early_stop"] is rule
    assert params["n_reports"] == 3
    copy = clone(search)
    assert isinstance(copy.early_stop, hyperband.RungRule)
    assert copy.early_stop.options == rule.options
    assert copy.n_reports == 3
    copy.set_params(early_stop=None)
    assert copy.fit(X, Y).result_.n_stopped == 0
    assert search.early_stop is rule  # the original stays
    assert boosting_search().get_params()["early_stop"] is None


def test_reports_go_through_worker_threads_too() -> None:
    search = boosting_search(early_stop="rung", executor="threads", n_jobs=2).fit(X, Y)
    assert search.result_.n_stopped > 0
    assert search.result_.n_failed == 0


def test_report_steps_are_evenly_spaced_whole_units_past_the_previous_rung() -> None:
    assert report_steps(27, 81, 4) == [38, 49, 60, 71]
    assert report_steps(0, 9, 2) == [3, 6]
    assert report_steps(3, 9, 10) == [4, 5, 6, 7, 8]
    assert report_steps(1, 3, 4) == [2]
    assert report_steps(0, 1, 4) == []
    assert report_steps(3, 4, 4) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"warm_start": False}, r"early_stop='rung' needs scores .*warm start is off"),
        ({"resource": "n_samples", "max_resources": "auto"}, r"the budget is training rows"),
        ({"early_stop": "sometimes"}, r"early_stop must be None, one of .*'sometimes'"),
        ({"early_stop": 3}, r"early_stop must be None, one of .*should_stop.*got 3"),
        ({"n_reports": 0}, r"n_reports must be >= 1, got 0"),
        ({"n_reports": 2.5}, r"n_reports must be an int >= 1, got 2.5"),
    ],
)
def test_bad_early_stop_arguments_are_named_and_leave_the_search_unfitted(
    change: dict[str, Any], message: str
) -> None:
    search = boosting_search(**{"early_stop": "rung", **change})
    with pytest.raises(hyperband.HyperbandError, match=message):
        search.fit(X, Y)
    assert not hasattr(search, "cv_results_")
