"""The benchmark workloads (benchmarks/workloads.py) and smoke runs of the benchmark scripts.

The benchmark scripts are not part of the package, so they are imported from their folder.
No test asserts a timing.
"""

from __future__ import annotations

import importlib
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import hyperband

from .optional import require

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _import(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


wl = _import("workloads")


def _sample(w: Any, n: int, seed: int = 1) -> list[dict[str, Any]]:
    if w.sampler is not None:
        return list(w.sampler.sample(np.random.default_rng(seed), n))
    return hyperband.RandomSampler(w.space).sample(np.random.default_rng(seed), n)


# ---------------------------------------------------------------------- Hartmann-6


@pytest.mark.parametrize("correlation", ["good", "bad"])
def test_hartmann6_known_optimum_at_full_fidelity(correlation: str) -> None:
    w = wl.hartmann6(correlation)
    x_star = dict(zip([f"x{j}" for j in range(6)], wl.H6_ARGMIN, strict=True))
    assert w(x_star, 81) == pytest.approx(-3.32237, abs=1e-5)
    assert w.true_value(x_star) == pytest.approx(-3.32237, abs=1e-5)
    assert w.regret(x_star) < 1e-5
    assert w.optimum == -3.32237


def test_hartmann6_good_fidelity_is_kandasamy_form() -> None:
    # alpha' = alpha - 0.1 (1 - z): at z = 0 every bump is 0.1 lower.
    x = np.array(wl.H6_ARGMIN)
    bumps = np.exp(-np.sum(wl._H6_A * (x - wl._H6_P) ** 2, axis=1))
    expected = -float((wl._H6_ALPHA - 0.1) @ bumps)
    assert wl.hartmann6_value(x, 0.0, "good") == pytest.approx(expected, rel=1e-12)


def test_hartmann6_bad_fidelity_reverses_the_ranking() -> None:
    # The global optimum (in bump 3's basin) beats bump 1's centre at full fidelity but loses
    # to it at the lowest budget; the good fidelity keeps the order.
    x_star, bump1 = np.array(wl.H6_ARGMIN), wl._H6_P[0]
    z_low = 1 / 81
    assert wl.hartmann6_value(x_star, 1.0, "bad") < wl.hartmann6_value(bump1, 1.0, "bad")
    assert wl.hartmann6_value(x_star, z_low, "bad") > wl.hartmann6_value(bump1, z_low, "bad")
    assert wl.hartmann6_value(x_star, z_low, "good") < wl.hartmann6_value(bump1, z_low, "good")


# ---------------------------------------------------------------------- counting ones


def test_counting_ones_all_ones_at_max_budget_is_16() -> None:
    w = wl.counting_ones()
    ones = {**{f"c{i}": 1 for i in range(8)}, **{f"x{j}": 1.0 for j in range(8)}}
    assert w(ones, 729) == 16.0
    assert w.regret(ones) == 0.0
    # Near-ones continuous values: close to 16, within the Bernoulli noise.
    near = {**ones, **{f"x{j}": 0.95 for j in range(8)}}
    assert w(near, 729) == pytest.approx(8 + 8 * 0.95, abs=0.1)


def test_counting_ones_noise_shrinks_with_budget() -> None:
    w = wl.counting_ones()
    configs = _sample(w, 200)
    err = {b: np.std([w(c, b) - w.true_value(c) for c in configs]) for b in (9, 729)}
    assert err[729] < err[9] / 3  # sd ~ 1/sqrt(budget): 9x smaller in theory


# ---------------------------------------------------------------------- learning curves


def test_learning_curves_cross() -> None:
    w = wl.learning_curves()
    fast = {"lr": 1.0, "reg": 0.3, "family": "exp", "decay": 1.0}
    slow = {"lr": 1e-3, "reg": 0.3, "family": "exp", "decay": 1.0}
    # Fast starts better, slow ends better (both with and without the noise).
    assert w(fast, 1) < w(slow, 1)
    assert w(fast, 81) > w(slow, 81)
    # And it happens in a random sample too: some pair flips between budget 1 and 81.
    configs = _sample(w, 50)
    low = np.array([w(c, 1) for c in configs])
    high = np.array([w(c, 81) for c in configs])
    flips = (low[:, None] < low[None, :]) & (high[:, None] > high[None, :])
    assert flips.any()


def test_learning_curves_optimum_is_a_lower_bound() -> None:
    w = wl.learning_curves()
    true = [w.true_value(c) for c in _sample(w, 2000)]
    assert min(true) >= w.optimum
    assert min(true) - w.optimum < 0.01  # the grid search found the real optimum


# ---------------------------------------------------------------------- digits table


def test_digits_table_loads_with_the_expected_shape() -> None:
    table = wl.load_digits_table()
    assert table.accuracy.shape == (300, 81)
    assert table.epoch_seconds.shape == (300, 81)
    assert len(table.configs) == 300
    assert ((table.accuracy >= 0) & (table.accuracy <= 1)).all()
    assert (table.epoch_seconds > 0).all()
    # The MLP learns: the best configuration ends far above chance (0.1).
    assert table.accuracy[:, -1].max() > 0.9
    assert wl.DIGITS_TABLE.stat().st_size < 300 * 1024


def test_digits_workload_replays_the_table() -> None:
    w = wl.digits()
    table = wl.load_digits_table()
    configs = w.sampler.sample(np.random.default_rng(0), 5)
    assert all(0 <= c["row"] < 300 for c in configs)
    c = configs[0]
    assert w(c, 9) == table.accuracy[c["row"], 8]
    assert w.seconds(c, 9, None) == pytest.approx(table.epoch_seconds[c["row"], :9].sum())
    assert w.seconds(c, 9, 3) == pytest.approx(table.epoch_seconds[c["row"], 3:9].sum())
    with pytest.raises(ValueError, match="whole number of epochs"):
        w(c, 2.5)
    # Configurations are fresh dicts, never the table's own.
    row = c["row"]
    c["row"] = -1
    assert table.configs[row]["row"] == row


# ---------------------------------------------------------------------- all workloads


@pytest.mark.parametrize(
    "name", ["counting_ones", "hartmann6_good", "hartmann6_bad", "learning_curves", "digits"]
)
def test_workload_is_deterministic_and_well_formed(name: str) -> None:
    w = wl.workload(name)
    again = wl.workload(name)
    hyperband.validate_space(w.space)
    assert w.mode in ("maximize", "minimize")
    sched = hyperband.schedule(w.max_budget, w.eta, min_budget=w.min_budget)
    budgets = sorted({r.budget for b in sched.brackets for r in b.rungs})
    for config in _sample(w, 10):
        for b in budgets:
            value = w(config, b)
            assert math.isfinite(value)
            assert value == again(dict(config), b)  # a fresh workload, an equal dict
        assert w.regret(config) >= 0.0


@pytest.mark.parametrize("name", ["counting_ones", "learning_curves"])
def test_noise_depends_on_seed_config_and_budget(name: str) -> None:
    w0, w1 = wl.workload(name, seed=0), wl.workload(name, seed=1)
    c = _sample(w0, 1)[0]
    b = w0.min_budget
    assert w0(c, b) != w1(c, b)
    assert w0(c, b) != w0(c, 3 * b) or name == "counting_ones"


def test_unknown_workload() -> None:
    with pytest.raises(ValueError, match="unknown workload"):
        wl.workload("nope")


# ---------------------------------------------------------------------- benchmark smoke runs


def test_bench_quality_quick(tmp_path: Path) -> None:
    bench = _import("bench_quality")
    report = bench.main(["--quick", "--results", str(tmp_path)])
    assert (tmp_path / "bench_quality_quick.json").exists()
    assert [r["workload"] for r in report["workloads"]] == list(bench.TOTAL)
    for r in report["workloads"]:
        # Random search has a max-budget result from its first job; the others may not have
        # one yet at the quick run's tiny budget.
        assert r["methods"]["RS"]["final_scratch"]["median"] is not None
        for m in bench.METHODS:
            median = r["methods"][m]["final_scratch"]["median"]
            assert median is None or median >= 0
    require("matplotlib")
    bench.plot(report["workloads"], tmp_path / "quality.png")
    assert (tmp_path / "quality.png").stat().st_size > 0


def test_bench_resume_quick(tmp_path: Path) -> None:
    bench = _import("bench_resume")
    report = bench.main(["--quick", "--results", str(tmp_path)])
    check = report["check_r81_eta3"]
    assert (check["s4_scratch"], check["s4_resumed"]) == (405, 297)
    assert check["s4_saving"] == pytest.approx(108 / 405)


def test_bench_optuna_overhead_quick(tmp_path: Path) -> None:
    require("optuna")
    bench = _import("bench_optuna_overhead")
    report = bench.main(["--quick", "--repeat", "1", "--results", str(tmp_path)])
    assert report["optuna"]["trials"] == 150
    assert report["ours"]["configs"] >= 150
