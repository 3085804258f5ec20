"""What a study does not use costs nothing per job (issue 18 item 10).

The timings are benchmarks/bench_machine_speed.py's (never asserted here). These tests check
the shape of the hot path instead: the cycle records no results for adaptive brackets, a batch
sampler is never drawn lazily, and the fast paths of ``report`` accept and refuse what the
general checks do.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband.core.adaptive import BracketChooser
from hyperband.core.discipline import Draws

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}
BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(**kwargs: Any) -> hyperband.Hyperband:
    hb = hyperband.Hyperband(SPACE, max_budget=27, eta=3, iterations=2, seed=0, **kwargs)
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        hb.tell(job.id, job.config["x"])
    return hb


@pytest.mark.parametrize("exec_mode", ["parallelism", "serial", "asynchronous"])
def test_the_cycle_records_no_result_for_adaptive_brackets(
    monkeypatch: pytest.MonkeyPatch, exec_mode: str
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(BracketChooser, "record", lambda self, *args: calls.append(args))
    _run(exec_mode=exec_mode)
    assert calls == []
    # The same patch sees every success of an adaptive study.
    hb = _run(exec_mode=exec_mode, brackets="adaptive")
    assert len(calls) == hb.n_succeeded > 0


def test_a_batch_sampler_is_never_drawn_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    def draw(self: Draws, iteration: int, s: int, k: int) -> dict[str, Any]:
        raise AssertionError("a lazy draw with a batch sampler")

    monkeypatch.setattr(Draws, "draw", draw)
    assert _run().n_succeeded == 2 * hyperband.schedule(27, 3).total_jobs


@pytest.mark.parametrize("step", [1, 1.0, np.float64(1.0), np.int64(1), Fraction(1)])
def test_report_takes_any_real_step_and_value(step: object) -> None:
    hb = hyperband.Hyperband(SPACE, max_budget=27, eta=3, seed=0)
    job = hb.ask()
    assert isinstance(job, hyperband.Job)
    for value in (0.5, 1, np.float64(0.5), {"default": 0.5}):
        assert hb.report(job.id, step, value) is hyperband.CONTINUE
    assert hb.reports(job.id) == ((1, 0.5), (1, 1.0), (1, 0.5), (1, 0.5))


@pytest.mark.parametrize(
    ("step", "value", "error", "match"),
    [
        (True, 0.5, hyperband.ArgumentTypeError, "must be a real number"),
        ("1", 0.5, hyperband.ArgumentTypeError, "must be a real number"),
        (float("nan"), 0.5, hyperband.ConfigurationError, "must be finite"),
        (float("inf"), 0.5, hyperband.ConfigurationError, "must be finite"),
        (-float("inf"), 0.5, hyperband.ConfigurationError, "must be finite"),
        (2, 0.5, hyperband.ConfigurationError, r"must be in \(0, 1\]"),
        (0, 0.5, hyperband.ConfigurationError, r"must be in \(0, 1\]"),
        (1, float("inf"), hyperband.InvalidResultError, "must be finite"),
        (1, float("nan"), hyperband.InvalidResultError, "must be finite"),
        (1, True, hyperband.InvalidResultError, "must be a finite real number"),
        (1, "0.5", hyperband.InvalidResultError, "must be a finite real number"),
    ],
)
def test_report_refuses_what_it_refused(
    step: object, value: object, error: type[Exception], match: str
) -> None:
    hb = hyperband.Hyperband(SPACE, max_budget=27, eta=3, seed=0)
    job = hb.ask()
    assert isinstance(job, hyperband.Job)
    assert job.budget == 1
    with pytest.raises(error, match=match):
        hb.report(job.id, step, value)
    assert hb.reports(job.id) == ()


@pytest.mark.parametrize("workload", ["machine", "fixed"])
def test_the_benchmark_child_times_this_tree(workload: str) -> None:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import bench_machine_speed

    assert bench_machine_speed.measure(BENCH.parent, workload, 500, 1) > 0
    with pytest.raises(RuntimeError, match="imported hyperband from"):
        # A tree without hyperband: the child finds another one, which must not count.
        bench_machine_speed.measure(BENCH, workload, 500, 1)
