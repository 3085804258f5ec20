"""A report's step a float rounding past the job's budget is the budget; a real overshoot is not.

A user computing ``step += budget / 10`` ten times reaches ``9.000000000000002`` for a budget of
9: the machine takes it as the budget (within ``STEP_TOLERANCE`` of it, relative), in the
machine itself and through ``run()``, and still refuses a step really past the budget.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.core.options import STEP_TOLERANCE

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def last_rung_job(hb: hyperband.Hyperband) -> hyperband.Job:
    """The first job handed out at the study's largest budget, trained from scratch."""
    while True:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        if job.budget == hb.schedule.max_budget and job.previous_budget is None:
            return job
        hb.tell(job.id, job.config["x"])


def test_a_step_a_rounding_past_the_budget_is_the_budget() -> None:
    hb = hyperband.Hyperband(SPACE, max_budget=27, early_stop="rung", seed=0)
    job = last_rung_job(hb)
    hair = math.nextafter(27.0, math.inf)
    assert repr(hair) == "27.000000000000004"
    assert hb.report(job.id, 13.5, 0.5) is hyperband.CONTINUE
    assert hb.report(job.id, hair, 0.6) is hyperband.CONTINUE
    assert hb.reports(job.id)[-1] == (27, 0.6)  # clamped to the budget
    # A report at the budget again is not a step back, even if it is a hair past once more.
    assert hb.report(job.id, 27, 0.7) is hyperband.CONTINUE
    assert hb.report(job.id, 27 * (1 + STEP_TOLERANCE), 0.7) is hyperband.CONTINUE
    assert hb.tell(job.id, 0.7).status == "succeeded"


def test_a_real_overshoot_is_still_refused_and_changes_nothing() -> None:
    hb = hyperband.Hyperband(SPACE, max_budget=27, early_stop="rung", seed=0)
    job = last_rung_job(hb)
    hb.report(job.id, 3, 0.5)
    before = hb.snapshot()
    for step in (27 * (1 + 10 * STEP_TOLERANCE), 27.001, 28):
        with pytest.raises(hyperband.ConfigurationError) as err:
            hb.report(job.id, step, 0.6)
        assert f"step for job {job.id} must be in (0, 27]" in str(err.value)
        assert repr(step) in str(err.value)
    assert hb.snapshot() == before


def test_the_tolerance_is_relative_to_the_budget() -> None:
    # A budget of 1: 1e-9 past is within, 1e-8 past is not (an absolute 1e-9 of a budget of
    # 1e6 would be below its float resolution).
    hb = hyperband.Hyperband(SPACE, max_budget=1e6, min_budget=1e6, seed=0)
    job = hb.ask()
    assert isinstance(job, hyperband.Job)
    hb.report(job.id, 1e6 * (1 + 0.5 * STEP_TOLERANCE), 0.1)
    assert hb.reports(job.id)[-1] == (1_000_000, 0.1)
    with pytest.raises(hyperband.ConfigurationError):
        hb.report(job.id, 1e6 * (1 + 2 * STEP_TOLERANCE), 0.1)


def accumulating(config: dict[str, Any], budget: float, context: Any) -> float:
    """Reports ten times, adding a tenth of the budget each time: 9.000000000000002 at 9."""
    step = float(context.job.previous_budget or 0)
    width = (budget - step) / 10
    value = 0.0
    for _ in range(10):
        step += width
        value = config["x"] * step
        context.report(step, value)
    return value


def test_run_accepts_a_step_a_rounding_past_the_budget(tmp_path: Path) -> None:
    journal = tmp_path / "study.jsonl"
    study = {"max_budget": 9, "seed": 0, "sampler": "random", "early_stop": "rung"}
    result = hyperband.run(
        accumulating, SPACE, **study, executor="serial", journal=journal, progress=False
    )
    assert result.n_failed == 0, [r.error for r in result.history if r.error]
    past = [r for r in result.history if r.reports and r.reports[-1][0] > r.job.budget]
    assert past, "no job reported a hair past its budget: the test lost its point"
    assert result.n_stopped > 0  # the rule did judge these jobs
    # The journal replays with the same decisions.
    replayed = hyperband.RunResult.from_journal(journal)
    assert [r.status for r in replayed.history] == [r.status for r in result.history]
