"""The benchmark workloads (benchmarks/workloads/) and smoke runs of the benchmark scripts.

The benchmark scripts are not part of the package, so they are imported from their folder.
No test asserts a timing.
"""

from __future__ import annotations

import importlib
import json
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


def _digits_config(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "row"}


def test_digits_any_configuration_is_its_nearest_row() -> None:
    w = wl.digits()
    table = wl.load_digits_table()
    # A row's own values, without its `row` key, are that row (300 of 300).
    for row in table.configs:
        assert w(_digits_config(row), 81) == table.accuracy[row["row"], 80]
    # A random configuration of the space (what other samplers and the peers evaluate).
    configs = hyperband.RandomSampler(w.space).sample(np.random.default_rng(3), 20)
    for c in configs:
        assert "row" not in c
        assert w.regret(c) >= 0
        assert w(c, 81) in table.accuracy[:, 80]


def test_digits_nearest_row_uses_a_log_scale() -> None:
    space = {"lr": {"_type": "loguniform", "_value": [1e-4, 1.0]}}
    rows = [{"lr": 0.01}, {"lr": 1.0}]
    find = wl.nearest_row(space, rows)
    # 0.2 is nearer 0.01 on a linear scale, nearer 1.0 on a log one (0.7 vs 1.3 decades).
    assert find({"lr": 0.2}) == 1
    assert find({"lr": 0.05}) == 0
    assert find({"lr": 1e-4}) == 0


def test_nearest_row_ranks_numeric_choices_and_one_hots_others() -> None:
    space = {
        "size": {"_type": "choice", "_value": [16, 32, 64, 128]},
        "act": {"_type": "choice", "_value": ["relu", "tanh", "elu"]},
        "x": {"_type": "uniform", "_value": [0, 10]},
    }
    rows = [
        {"size": 16, "act": "relu", "x": 0.0},
        {"size": 128, "act": "relu", "x": 0.0},
        {"size": 32, "act": "tanh", "x": 0.0},
    ]
    find = wl.nearest_row(space, rows)
    assert find({"size": 64, "act": "relu", "x": 0.0}) == 1  # rank 2 of 3: nearer 128 than 16
    assert find({"size": 32, "act": "relu", "x": 0.0}) == 0  # one rank away beats another act
    assert find({"size": 32, "act": "elu", "x": 9.0}) == 2
    with pytest.raises(ValueError, match="normal"):
        wl.nearest_row({"n": {"_type": "normal", "_value": [0, 1]}}, [{"n": 0.0}])


# ---------------------------------------------------------------------- Branin


def test_branin_optimum_at_the_three_minimisers() -> None:
    w = wl.branin()
    assert w.optimum == pytest.approx(0.397887, abs=1e-6)
    for x1, x2 in wl.BRANIN_ARGMIN:
        c = {"x1": x1, "x2": x2}
        assert w(c, 81) == pytest.approx(0.397887, abs=1e-6)
        assert w.regret(c) < 1e-9
    assert w.regret({"x1": 0.0, "x2": 0.0}) == pytest.approx(55.60 - 0.397887, abs=0.01)


def test_branin_fidelity_is_kandasamy_form_and_well_correlated() -> None:
    w = wl.branin()
    # At z = 0 every coefficient is shifted: b - 0.01, c - 0.1, t + 0.05.
    x1, x2 = 2.0, 5.0
    b, c, t = 5.1 / (4 * math.pi**2) - 0.01, 5 / math.pi - 0.1, 1 / (8 * math.pi) + 0.05
    expected = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    assert wl.branin_value(x1, x2, 0.0) == pytest.approx(expected, rel=1e-12)
    configs = _sample(w, 300)
    low = np.array([w(c, 1) for c in configs])
    high = np.array([w.true_value(c) for c in configs])
    assert not np.allclose(low, high)  # the low fidelity is biased...
    rho = np.corrcoef(np.argsort(np.argsort(low)), np.argsort(np.argsort(high)))[0, 1]
    assert rho > 0.9  # ...but ranks the configurations almost as the full one does


# ---------------------------------------------------------------------- all workloads


@pytest.mark.parametrize("name", wl.NAMES)
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


# ---------------------------------------------------------------------- peer translators

PEERS = BENCH / "peers"


def _spaces() -> ModuleType:
    if str(PEERS) not in sys.path:
        sys.path.insert(0, str(PEERS))
    return importlib.import_module("spaces")


@pytest.mark.parametrize("ordinal_as", ["ordinal", "integer"])
def test_configspace_translator_on_every_workload(ordinal_as: str) -> None:
    pytest.importorskip(
        "ConfigSpace", reason="ConfigSpace is in the peers' venvs (benchmarks/peers/setup.sh)"
    )
    spaces = _spaces()
    for name in wl.NAMES:
        w = wl.workload(name)
        cs = spaces.to_configspace(w.space, seed=0, ordinal_as=ordinal_as)
        assert sorted(cs.keys()) == sorted(w.space)
        seen = set()
        for sample in cs.sample_configuration(40):
            config = spaces.from_configspace(w.space, sample)
            assert spaces.in_space(w.space, config), config
            assert math.isfinite(w(config, w.max_budget))
            seen.add(json.dumps(config, sort_keys=True))
        assert len(seen) > 1


def test_optuna_translator_on_every_workload() -> None:
    optuna = pytest.importorskip("optuna")
    spaces = _spaces()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in wl.NAMES:
        w = wl.workload(name)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        values = {k: set() for k in w.space}
        for _ in range(40):
            trial = study.ask()
            config = spaces.suggest_optuna(trial, w.space)
            assert spaces.in_space(w.space, config), config
            assert trial.params.keys() == w.space.keys()
            study.tell(trial, w(config, w.max_budget))
            for k, v in config.items():
                values[k].add(v)
        for k, spec in w.space.items():  # every option of a choice shows up (40 draws)
            if spec["_type"] == "choice":
                assert values[k] == set(spec["_value"])


def test_translators_refuse_what_they_cannot_translate() -> None:
    spaces = _spaces()
    nested = {"a": {"_type": "choice", "_value": [{"_name": "x"}, {"_name": "y"}]}}
    with pytest.raises(ValueError, match="nested"):
        spaces._check("a", nested["a"])
    with pytest.raises(ValueError, match="normal"):
        spaces._check("n", {"_type": "normal", "_value": [0, 1]})
    space = {"q": {"_type": "quniform", "_value": [0, 10, 2.5]}}
    assert spaces.from_configspace(space, {"q": 6.0}) == {"q": 5.0}
    space = {"c": {"_type": "choice", "_value": [64, 16, 32]}}
    assert spaces._options(space["c"])[1] == [16, 32, 64]  # ordinal: in increasing order
    assert spaces.from_configspace(space, {"c": 2}) == {"c": 64}  # the rank (HpBandSter)
    assert spaces.from_configspace(space, {"c": "32"}) == {"c": 32}  # the label


def test_peer_bracket_costs_are_the_papers_table() -> None:
    common = importlib.import_module("common") if str(PEERS) in sys.path else None
    if common is None:
        _spaces()
        common = importlib.import_module("common")
    # R=81, eta=3: 1,701 units an iteration, s = 4 first (shared PEERS.md).
    assert common.table_brackets(81, 1, 3) == [405, 324, 243, 324, 405]
    assert common.brackets_needed(wl.branin(), 1701) == 5
    assert common.brackets_needed(wl.branin(), 1702) == 6
    assert common.snap(81 / 3**4) == 1.0
    assert common.snap(2.5) == 2.5


# ---------------------------------------------------------------------- the comparison


def test_reduce_trace_charges_truncates_and_breaks_ties_to_the_earlier() -> None:
    cmp = _import("bench_compare")
    w = wl.branin()
    a, b, c = ({"x1": x, "x2": 2.275} for x in (math.pi, 3.0, 0.0))
    trace = [
        (c, 1.0, 5.0, 1.0),
        (b, 81.0, 1.0, 81.0),  # the first at max_budget: the incumbent
        (a, 81.0, 1.0, 81.0),  # ties: the earlier one stays
        (a, 81.0, 0.5, 81.0),  # better
        (c, 81.0, 0.1, 81.0),  # past the total: not counted
    ]
    run = {"version": "x", "wall": 1.0, "cpu": 1.0, "objective_wall": 0.0, "objective_cpu": 0.0}
    rec = cmp.reduce_trace(w, 1 + 3 * 81, {**run, "trace": trace})
    assert rec["evaluations"] == 4
    assert rec["spent"] == 244
    assert rec["configs"] == 3
    assert rec["run_configs"] == 3
    assert rec["at_max_budget"] == 3
    assert [at for at, _ in rec["curve"]] == [82, 244]
    assert rec["curve"][0][1] == pytest.approx(w.regret(b))
    assert rec["final_regret"] == pytest.approx(0.0, abs=1e-9)
    spent = np.array([1.0, 81.0, 82.0, 200.0, 244.0])
    assert cmp.regret_at(rec, spent).tolist()[:2] == [math.inf, math.inf]
    assert cmp.regret_at(rec, spent)[2] == pytest.approx(w.regret(b))
    # Maximised workloads rank by the largest value.
    co = wl.counting_ones()
    ones = {**{f"c{i}": 1 for i in range(8)}, **{f"x{j}": 1.0 for j in range(8)}}
    zeros = {k: 0 * v for k, v in ones.items()}
    rec = cmp.reduce_trace(
        co, 1e9, {**run, "trace": [(zeros, 729.0, 0.0, 729.0), (ones, 729.0, 16.0, 729.0)]}
    )
    assert rec["final_regret"] == 0.0


def test_bench_compare_quick_runs_our_methods_only(tmp_path: Path) -> None:
    cmp = _import("bench_compare")
    before = sorted(p.name for p in (BENCH / "results").rglob("*"))
    report = cmp.main(["--quick", "--results", str(tmp_path)])
    assert sorted(p.name for p in (BENCH / "results").rglob("*")) == before
    assert (tmp_path / "bench_compare_quick.json").exists()
    assert report["methods"] == list(cmp.OURS)
    assert [e["workload"] for e in report["workloads"]] == list(wl.NAMES)
    for entry in report["workloads"]:
        rs = entry["methods"]["RS"]
        assert rs["seeds"] == 2
        assert rs["at"]["1"][0] is not None
        assert rs["at"]["1"][0] >= 0
        assert rs["ms_per_config_cpu"] > 0
    # Records are checkpointed per (workload, seed): one file per method.
    records = json.loads((tmp_path / "compare" / "hb_li2018.json").read_text())
    assert set(records) == {f"{n}/{s}" for n in wl.NAMES for s in range(2)}
    assert "| HB li2018 |" in report["markdown"]
    require("matplotlib")
    cmp.plot(report["workloads"], report["methods"], tmp_path / "compare.png")
    assert (tmp_path / "compare.png").stat().st_size > 0
