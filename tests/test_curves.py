"""The learning-curve workloads (benchmarks/workloads/curves.py), the peers' simulator
(benchmarks/stopping/peers.py) and a smoke run of benchmarks/bench_stopping.py.

The benchmark scripts are not part of the package, so they are imported from their folder.
No test asserts a timing; every file a test writes is under tmp_path.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _import(name: str) -> ModuleType:
    for folder in (BENCH, BENCH / "stopping"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    return importlib.import_module(name)


curves = _import("workloads.curves")
NAMES = list(curves.CURVE_WORKLOADS)


def _configs(w: Any, n: int, seed: int = 3) -> list[dict[str, Any]]:
    stream = curves.config_stream(w, seed)
    return [stream(k) for k in range(n)]


@pytest.mark.parametrize("name", NAMES)
def test_curve_is_deterministic_and_ends_at_its_final_value(name: str) -> None:
    w = curves.curve_workload(name)
    again = curves.curve_workload(name)
    for config in _configs(w, 5):
        for step in (w.min_budget, w.max_budget):
            assert w.curve(config, step) == again.curve(dict(config), step)
        assert math.isfinite(w.true_value(config))
        assert w.regret(config) >= 0
    # The noise-free final value is what the noisy curve scatters around at max_budget.
    configs = _configs(w, 40)
    gaps = [w.curve(c, w.max_budget) - w.true_value(c) for c in configs]
    assert abs(float(np.mean(gaps))) < 0.1 * (1 + abs(w.optimum))


@pytest.mark.parametrize("name", [n for n in NAMES if n != "digits"])
def test_noise_depends_on_the_seed(name: str) -> None:
    a, b = curves.curve_workload(name, 0), curves.curve_workload(name, 1)
    config = _configs(a, 1)[0]
    step = a.max_budget // 3
    assert a.curve(config, step) != b.curve(config, step)
    assert a.true_value(config) == b.true_value(config)


@pytest.mark.parametrize("name", NAMES)
def test_optimum_bounds_the_true_values(name: str) -> None:
    w = curves.curve_workload(name)
    sign = 1 if w.mode == "maximize" else -1
    for config in _configs(w, 200):
        assert sign * w.true_value(config) <= sign * w.optimum + 1e-12


@pytest.mark.parametrize("name", ["hartmann6", "counting_ones", "parallel"])
def test_values_approach_the_final_one_as_the_budget_grows(name: str) -> None:
    w = curves.curve_workload(name)
    configs = _configs(w, 30)
    early = np.mean([abs(w.curve(c, w.min_budget) - w.true_value(c)) for c in configs])
    late = np.mean([abs(w.curve(c, w.max_budget // 3) - w.true_value(c)) for c in configs])
    assert late < early


def test_parallel_curves_never_cross_without_noise_and_crossing_ones_do() -> None:
    par = curves.parallel()
    configs = _configs(par, 30)
    finals = [curves._par_final(c) for c in configs]
    # One time constant for all: the order at any step is the order of the final values.
    order = np.argsort(finals)
    for t in (1, 9, 81):
        noise_free = [f + 0.4 * math.exp(-t / 10) for f in finals]
        assert list(np.argsort(noise_free)) == list(order)
    cross = curves.crossing()
    ranks_early = np.argsort([cross.curve(c, 1) for c in _configs(cross, 30)])
    ranks_late = np.argsort([cross.true_value(c) for c in _configs(cross, 30)])
    assert list(ranks_early) != list(ranks_late)


def test_counting_ones_is_a_running_mean_of_one_stream() -> None:
    w = curves.counting_ones()
    config = _configs(w, 1)[0]
    ones = sum(config[f"c{i}"] for i in range(8))
    # Each value is ones + (successes so far) / t for an integer count of successes <= 8 t.
    for t in (9, 27, 729):
        successes = (w.curve(config, t) - ones) * t
        assert successes == pytest.approx(round(successes), abs=1e-6)
    # Extending a run keeps its draws: the count of successes never falls.
    counts = [(w.curve(config, t) - ones) * t for t in range(9, 100, 9)]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(counts))


def test_digits_curve_replays_the_table_and_its_seconds() -> None:
    w = curves.digits()
    table = _import("workloads").load_digits_table()
    config = _configs(w, 1)[0]
    row = config["row"]
    assert w.curve(config, 5) == pytest.approx(table.accuracy[row, 4])
    assert w.duration(config, 9, 3) == pytest.approx(table.epoch_seconds[row, 3:9].sum())


def test_speed_is_per_configuration_and_durations_add_up() -> None:
    w = curves.hartmann6()
    a, b = _configs(w, 2)
    assert w.speed(a) != w.speed(b)
    assert w.duration(a, 9, 3) + w.duration(a, 3, None) == pytest.approx(w.duration(a, 9, None))


def test_config_stream_is_fixed_by_the_seed() -> None:
    w = curves.crossing()
    assert _configs(w, 3, seed=1) == _configs(w, 3, seed=1)
    assert _configs(w, 3, seed=1) != _configs(w, 3, seed=2)


# ---------------------------------------------------------------------- the peers' simulator


class StopAtFirstReport:
    """Stops every other trial at its first report: a peer that is easy to reason about."""

    def __init__(self, w: Any, seed: int) -> None:
        self.reports: list[tuple[int, float]] = []
        self.ends: list[tuple[int, bool]] = []

    def start(self, k: int) -> int:
        return k

    def report(self, handle: int, step: float, value: float, history: list[float]) -> bool:
        self.reports.append((handle, step))
        return handle % 2 == 1

    def end(self, handle: int, value: float, *, completed: bool) -> None:
        self.ends.append((handle, completed))


def test_peer_simulator_spends_what_ran_and_frees_stopped_workers() -> None:
    peers = _import("peers")
    w = curves.parallel()
    made: list[StopAtFirstReport] = []

    def make(w: Any, seed: int) -> StopAtFirstReport:
        made.append(StopAtFirstReport(w, seed))
        return made[-1]

    record = peers.run_peer(make, w, 2, 0, budget_limit=500)
    peer = made[0]
    steps = peers.grid(w)
    assert steps[0] == 1
    assert 81 in steps
    assert 3 in steps  # rung budgets are always reported
    completed = [k for k, done in peer.ends if done]
    stopped = [k for k, done in peer.ends if not done]
    assert all(k % 2 == 0 for k in completed)
    assert all(k % 2 == 1 for k in stopped)
    assert record["stopped"] == len(stopped)
    # Every completed trial ran the whole grid; every stopped one reported once.
    for k in completed:
        assert [s for h, s in peer.reports if h == k] == steps
    for k in stopped:
        assert [s for h, s in peer.reports if h == k] == [steps[0]]
    times = [t for t, _, _ in record["history"]]
    assert times == sorted(times)
    regrets = [r for _, _, r in record["history"]]
    assert all(r >= 0 for r in regrets)


def test_peer_adapters_in_this_venv_decide_something() -> None:
    peers = _import("peers")
    w = curves.crossing()
    for name, module in (("optuna_sh", "optuna"), ("nni_median", "nni")):
        pytest.importorskip(module)
        record = peers.run_peer(peers.PEERS[name], w, 4, 0, budget_limit=800)
        assert record["stopped"] > 0, name
        assert record["history"], name


# ---------------------------------------------------------------------- benchmark smoke run


def test_bench_stopping_quick(tmp_path: Path) -> None:
    bench = _import("bench_stopping")
    only = ["parallelism", "parallelism+rung", "asynchronous+median"]
    if importlib.util.find_spec("nni") is not None:
        only.append("nni_median")

    def run(out: str) -> dict[str, Any]:
        args = ["--quick", "--workloads", "parallel", "--only", *only]
        return bench.main([*args, "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / out)])

    out = run("stopping.json")
    assert (tmp_path / "stopping.json").exists()
    summary = out["summary"]["parallel"]
    assert set(summary) == set(only)
    assert summary["parallelism"]["4"]["stopped"] == 0
    assert summary["parallelism+rung"]["4"]["stopped"] > 0
    assert "| ours, parallelism+rung |" in out["markdown"]
    # A rerun finds every run in the cache and runs nothing again.
    files = sorted((tmp_path / "cache").rglob("*.jsonl"))
    sizes = [f.stat().st_size for f in files]
    assert run("again.json")["summary"] == out["summary"]
    assert [f.stat().st_size for f in files] == sizes
