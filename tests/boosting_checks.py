"""What the tests of the boosting callbacks (LightGBM, XGBoost) check of a real study."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import hyperband


def study(objective: Callable[..., Any], space: dict[str, Any], **kwargs: Any) -> Any:
    """A threaded study up to 27 rounds, minimizing a loss."""
    options: dict[str, Any] = {"max_budget": 27, "eta": 3, "mode": "minimize", "seed": 0}
    return hyperband.run(objective, space, progress=False, workers=2, **{**options, **kwargs})


def check_rounds_and_promotions(
    result: hyperband.RunResult, rounds: str, max_budget: float = 27
) -> None:
    """Every round reported, each booster holding its budget's rounds (``extra[rounds]``),
    and every promotion continuing its saved model (``extra["resumed"]``)."""
    assert result.n_failed == 0
    promoted = [r for r in result.history if r.job.previous_budget is not None]
    assert promoted
    for rec in result.history:
        start = int(rec.job.previous_budget or 0)
        # Every round of this rung reported, counted from the configuration's first round.
        assert [s for s, _ in rec.reports] == list(range(start + 1, int(rec.job.budget) + 1))
        assert rec.extra[rounds] == rec.job.budget  # the earlier rungs' rounds included
        assert rec.value == rec.reports[-1][1]
    assert all(r.extra["resumed"] for r in promoted)  # not boosted from scratch
    assert result.best is not None
    assert result.best.budget == max_budget


def check_studies(objective: Callable[..., Any], space: dict[str, Any], rounds: str) -> None:
    """A study reports every round and continues its boosters; one with early stopping
    stops some jobs cleanly."""
    check_rounds_and_promotions(study(objective, space), rounds)
    check_clean_stops(study(objective, space, early_stop="median"), rounds)


def check_clean_stops(result: hyperband.RunResult, rounds: str) -> None:
    """Some jobs stopped, none failed, and each stopped job's booster and value are those of
    the round it stopped at."""
    assert result.n_failed == 0
    stopped = [r for r in result.history if r.status == "stopped"]
    assert stopped
    for rec in stopped:
        # It stopped at a report before its budget, and nothing was reported after it.
        assert rec.reports[-1][0] < rec.job.budget
        assert rec.value == rec.reports[-1][1]
        # The training returned the booster as it was, and the objective returned (the
        # runner keeps what a stopped job returned under "returned").
        assert "after_stop" not in rec.extra
        assert rec.extra["stopped_at"] == rec.reports[-1][0]
        assert rec.extra["returned"][rounds] == rec.reports[-1][0]


def check_continued_equals_scratch(
    fit: Callable[[Any], Any], callback: type[Any], job: Any, folder: Path, saved: str, rows: Any
) -> Any:
    """Train ``job`` (1 round) with ``fit(cb)`` (which returns a scikit-learn model), then
    its promotion to 9 rounds, which must continue the saved model (the file ``saved``) with
    8 rounds, report rounds 2 to 9, and predict on ``rows`` as 9 rounds from scratch do.
    Returns the promoted job."""
    import attrs
    import numpy as np

    from hyperband.drivers.context import Context

    fit(callback(Context(job, folder, [])))
    promoted = attrs.evolve(job, budget=9, previous_budget=job.budget, resume_from=job.id)
    reports: list[tuple[float, float]] = []
    cb = callback(Context(promoted, folder, reports))
    assert (cb._resume, cb.num_boost_round) == (str(folder / saved), 8)
    continued = fit(cb)
    assert [s for s, _ in reports] == list(range(2, 10))
    scratch_dir = folder / "scratch"
    scratch_dir.mkdir()
    scratch = fit(callback(Context(attrs.evolve(job, budget=9), scratch_dir, [])))
    np.testing.assert_allclose(
        continued.predict_proba(rows), scratch.predict_proba(rows), rtol=1e-6
    )
    return promoted


def check_argument_errors(callback: type[Any], context: Any) -> None:
    """A callback names its argument of the wrong type."""
    import pytest

    from hyperband import ArgumentTypeError

    with pytest.raises(ArgumentTypeError, match=r"context must be the objective's .*got 3"):
        callback(3)
    with pytest.raises(ArgumentTypeError, match=r"metric must be a str or None, got 5"):
        callback(context, 5)
    with pytest.raises(ArgumentTypeError, match=r"dataset must be a str or None, got 1.5"):
        callback(context, dataset=1.5)


def check_missing_engine(module: str, callback: str) -> None:
    """Without ``module`` the adapter imports, and making ``callback`` names the extra."""
    from tests.optional import missing_reason, run_without

    assert f"'.[{module}]'" in missing_reason(module)
    code = (
        f"from hyperband.integrations.{module} import {callback}\n"
        "try:\n"
        f"    {callback}(None)\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name, exc)\n"
    )
    expected = f"{module} {callback} needs {module}: pip install 'hyperband[{module}]'"
    assert run_without(module, code).strip() == expected
