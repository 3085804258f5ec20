"""What the tests of the boosting callbacks (LightGBM, XGBoost) check of a real study."""

from __future__ import annotations

from collections.abc import Callable
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
