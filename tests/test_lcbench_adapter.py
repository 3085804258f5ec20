"""The YAHPO Gym lcbench adapter (benchmarks/yahpo/): space, protocol, client, workload.

CI has neither yahpo-gym nor its venv, so the client is tested against
``benchmarks/yahpo/fake_server.py``: ``server.py``'s own protocol code (stdout redirection,
request checks) with made-up deterministic curves that these tests recompute. The tests of the
real surrogate skip unless ``benchmarks/yahpo/.venv`` and the data exist. No test asserts a
timing.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import math
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import hyperband

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _import(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


space = _import("yahpo.space")
server = _import("yahpo.server")
fake = _import("yahpo.fake_server")
client = _import("yahpo.client")
lcbench = _import("yahpo.lcbench")
reference = _import("yahpo.reference")

FAKE = BENCH / "yahpo" / "fake_server.py"
TASK = "126029"

A_CONFIG: dict[str, Any] = {
    "batch_size": 64,
    "learning_rate": 0.003,
    "max_dropout": 0.2,
    "max_units": 256,
    "momentum": 0.9,
    "num_layers": 2,
    "weight_decay": 0.001,
}


def _fake_value(config: dict[str, Any], epoch: int, target: str = "val_accuracy") -> float:
    return fake.fake_result(TASK, space.clean_config(config), epoch)[target]


def _requests(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A stand-in data folder: the client checks that these two files exist."""
    folder = tmp_path / "yahpo_data"
    (folder / "lcbench").mkdir(parents=True)
    for name in ("model.onnx", "config_space.json"):
        (folder / "lcbench" / name).write_text("")
    return folder


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "requests.jsonl"


def _fake(data: Path, *args: str, task: str = TASK, **kwargs: Any) -> Any:
    return client.LCBenchSurrogate(
        task, data_path=data, python=sys.executable, server=FAKE, server_args=args, **kwargs
    )


@pytest.fixture
def sur(data: Path, log: Path) -> Iterator[Any]:
    with _fake(data, "--log", str(log)) as surrogate:
        yield surrogate


# ---------------------------------------------------------------------- the space


def test_nni_space_is_valid_and_its_draws_are_clean_configs() -> None:
    draws = hyperband.RandomSampler(space.NNI_SPACE).sample(np.random.default_rng(0), 300)
    cleaned = [space.clean_config(d) for d in draws]
    for name in ("batch_size", "max_units", "num_layers"):
        assert all(type(c[name]) is int for c in cleaned)
    assert {c["num_layers"] for c in cleaned} == {1, 2, 3, 4, 5}  # randint's upper is excluded
    assert space.NNI_SPACE["batch_size"] == {"_type": "qloguniform", "_value": [16, 512, 1]}


def test_clean_config_rounds_ints_clamps_float_error_and_drops_other_keys() -> None:
    p = {q.name: q for q in space.PARAMS}
    raw = {
        **A_CONFIG,
        "batch_size": 63.7,
        "max_units": np.float64(1024.4),
        "num_layers": np.int64(5),
        "learning_rate": p["learning_rate"].upper * (1 + 1e-12),
        "momentum": 0.99 + 1e-12,
        "weight_decay": 1e-5 * (1 - 1e-12),
        "row": 7,
        "epoch": 3,
    }
    c = space.clean_config(raw)
    assert c == {
        **A_CONFIG,
        "batch_size": 64,
        "max_units": 1024,
        "num_layers": 5,
        "learning_rate": p["learning_rate"].upper,
        "momentum": 0.99,
        "weight_decay": 1e-5,
    }
    assert all(type(c[n]) is int for n in ("batch_size", "max_units", "num_layers"))


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("learning_rate", 0.5, ValueError),
        ("learning_rate", 0.0, ValueError),
        ("batch_size", 513, ValueError),
        ("num_layers", 0, ValueError),
        ("momentum", 1.0, ValueError),
        ("max_dropout", math.nan, ValueError),
        ("num_layers", True, TypeError),
        ("batch_size", "64", TypeError),
    ],
)
def test_clean_config_refuses_values_beyond_float_error(
    name: str, value: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match=name):
        space.clean_config({**A_CONFIG, name: value})


def test_clean_config_names_a_missing_parameter() -> None:
    with pytest.raises(KeyError, match="momentum"):
        space.clean_config({k: v for k, v in A_CONFIG.items() if k != "momentum"})


def test_encode_decode_round_trip_and_corners() -> None:
    configs = space.sample(np.random.default_rng(1), 200)
    back = space.decode(space.encode(configs))
    for c, d in zip(configs, back, strict=True):
        assert c.keys() == d.keys()
        for name in c:
            # Integers come back exactly; floats up to the ulp a log and an exp can cost.
            assert type(c[name]) is type(d[name])
            assert d[name] == pytest.approx(c[name], rel=1e-12, abs=0)
    low, high = space.decode(np.zeros(7))[0], space.decode(np.ones(7))[0]
    assert low == {p.name: p.lower for p in space.PARAMS}
    # exp(log(hi)) overshoots the upper bound by float error: decode must clamp it.
    assert high == {p.name: p.upper for p in space.PARAMS}


def test_decode_gives_each_layer_count_an_equal_share() -> None:
    # randint's law: five equal cells of the coordinate, [0, 0.2) -> 1, ..., [0.8, 1] -> 5.
    u = np.full((7, 7), 0.5)
    u[:, space.NAMES.index("num_layers")] = [0.0, 0.19, 0.21, 0.39, 0.41, 0.81, 1.0]
    assert [c["num_layers"] for c in space.decode(u)] == [1, 1, 2, 2, 3, 5, 5]
    counts = np.bincount([c["num_layers"] for c in space.sample(np.random.default_rng(0), 5000)])
    np.testing.assert_allclose(counts[1:] / 5000, 0.2, atol=0.03)


def test_tasks_split_into_dev_and_held_out() -> None:
    assert len(lcbench.DEV_TASKS) == 10
    assert not set(lcbench.DEV_TASKS) & set(lcbench.HELD_OUT)
    assert sorted((*lcbench.DEV_TASKS, *lcbench.HELD_OUT)) == sorted(space.ALL_TASKS)
    assert len(space.ALL_TASKS) == 34


def test_space_matches_the_data_config_space_json() -> None:
    path = client.default_data_path() / "lcbench" / "config_space.json"
    if not path.is_file():
        pytest.skip(f"the yahpo_data folder is absent ({path}); set YAHPO_DATA")
    hps = {h["name"]: h for h in json.loads(path.read_text())["hyperparameters"]}
    for p in space.PARAMS:
        h = hps[p.name]
        assert (h["lower"], h["upper"], h["log"]) == (p.lower, p.upper, p.log), p.name
        assert h["type"] == ("uniform_int" if p.integer else "uniform_float"), p.name
    assert tuple(hps["OpenML_task_id"]["choices"]) == space.ALL_TASKS
    assert (hps["epoch"]["lower"], hps["epoch"]["upper"]) == (1, space.MAX_EPOCH)


# ---------------------------------------------------------------------- the protocol


def _fake_backend() -> Any:
    return fake.FakeBackend(argparse.Namespace(data=Path("unused"), fail_start=None, hang=False))


def test_serve_answers_each_line_and_survives_bad_requests() -> None:
    good = {"op": "query", "task": TASK, "configs": [A_CONFIG], "queries": [[0, 6]]}
    lines = [
        "not json",
        json.dumps({**good, "task": "1"}),
        json.dumps({**good, "queries": [[1, 6]]}),
        json.dumps({**good, "queries": [[0, 53]]}),
        json.dumps({**good, "queries": [[0, 6.0]]}),
        json.dumps({**good, "configs": [{**A_CONFIG, "learning_rate": 3.0}]}),
        json.dumps({**good, "op": "quit"}),
        "",
        json.dumps(good),
    ]
    out = io.StringIO()
    server.serve(_fake_backend(), io.StringIO("\n".join(lines) + "\n"), out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [a["ok"] for a in answers] == [False] * 7 + [True]
    assert "unknown lcbench task '1'" in answers[1]["error"]
    assert "learning_rate" in answers[5]["error"]
    assert answers[-1]["results"]["val_accuracy"] == [_fake_value(A_CONFIG, 6)]


# ---------------------------------------------------------------------- the client


def test_query_returns_every_target_of_each_pair(sur: Any) -> None:
    configs = space.sample(np.random.default_rng(2), 3)
    out = sur.query(configs, [1, 17, 52])
    assert set(out) == set(fake.TARGETS)
    for target in fake.TARGETS:
        expected = [_fake_value(c, e, target) for c, e in zip(configs, [1, 17, 52], strict=True)]
        np.testing.assert_array_equal(out[target], expected)
    np.testing.assert_array_equal(
        sur.val_error(configs, 17), [1 - _fake_value(c, 17) / 100 for c in configs]
    )


def test_the_citation_on_stdout_goes_to_stderr(sur: Any) -> None:
    # The fake prints it at start-up as yahpo does; the hello still arrived as the first line.
    assert sur.hello["backend"] == "fake"
    tail = sur._stderr_tail()
    assert "cite" in tail
    assert "file descriptor 1" in tail


def test_a_batch_is_one_request_and_a_config_is_sent_once(sur: Any, log: Path) -> None:
    configs = space.sample(np.random.default_rng(3), 50)
    sur.query(configs, 52)
    sur.query([A_CONFIG] * 3, [2, 6, 17])
    requests = _requests(log)
    assert len(requests) == sur.n_requests == 2
    assert len(requests[0]["configs"]) == 50
    assert requests[1]["configs"] == [A_CONFIG]
    assert requests[1]["queries"] == [[0, 2], [0, 6], [0, 17]]
    assert sur.n_queries == 53


def test_the_cache_sends_only_what_is_missing(sur: Any, log: Path) -> None:
    configs = space.sample(np.random.default_rng(4), 5)
    first = sur.query(configs, 6)
    again = sur.query(configs, 6)
    np.testing.assert_array_equal(first["val_accuracy"], again["val_accuracy"])
    assert len(_requests(log)) == 1
    # A float batch size that rounds to a cached config is that config: no new request.
    sur.query([{**configs[0], "batch_size": configs[0]["batch_size"] + 0.2}], 6)
    assert len(_requests(log)) == 1
    extra = space.sample(np.random.default_rng(5), 1)
    mixed = sur.query([configs[0], extra[0], configs[1], extra[0]], [6, 6, 17, 6])
    requests = _requests(log)
    assert len(requests) == 2
    assert requests[1]["queries"] == [[0, 6], [1, 17]]
    assert mixed["val_accuracy"][1] == mixed["val_accuracy"][3] == _fake_value(extra[0], 6)
    assert sur.n_queries == 7
    sur.clear_cache()
    sur.query(configs[:1], 6)
    assert len(_requests(log)) == 3


def test_the_server_gets_ints_and_values_clamped_onto_bounds(sur: Any, log: Path) -> None:
    raw = {
        **A_CONFIG,
        "batch_size": 15.6,
        "max_units": np.float64(700.2),
        "num_layers": np.int64(3),
        "learning_rate": 0.10000000000000002 * (1 + 1e-12),
    }
    out = sur.query([raw], 52)
    sent = _requests(log)[0]["configs"][0]
    assert sent["batch_size"] == 16
    assert type(sent["batch_size"]) is int
    assert sent["max_units"] == 700
    assert type(sent["max_units"]) is int
    assert sent["num_layers"] == 3
    assert type(sent["num_layers"]) is int
    assert sent["learning_rate"] == 0.10000000000000002
    assert out["val_accuracy"][0] == _fake_value(raw, 52)


def test_bad_configs_and_epochs_are_refused_before_sending(sur: Any, log: Path) -> None:
    with pytest.raises(ValueError, match="learning_rate"):
        sur.query([{**A_CONFIG, "learning_rate": 0.2}], 6)
    for epoch in (0, 53, 2.5, True, "6"):
        with pytest.raises(ValueError, match=r"whole number in 1\.\.52"):
            sur.query([A_CONFIG], epoch)
    with pytest.raises(ValueError, match="2 configurations but 3 epochs"):
        sur.query([A_CONFIG, A_CONFIG], [1, 2, 3])
    assert _requests(log) == []
    assert sur.query([A_CONFIG], 6.0)["val_accuracy"][0] == _fake_value(A_CONFIG, 6)
    assert sur.query([], 6)["val_accuracy"].shape == (0,)


def test_curves_are_whole_curves_in_one_request(sur: Any, log: Path) -> None:
    configs = space.sample(np.random.default_rng(6), 4)
    error, seconds = sur.curves(configs)
    assert error.shape == seconds.shape == (4, 52)
    assert len(_requests(log)) == 1
    for i, c in enumerate(configs):
        expected = [1 - _fake_value(c, e) / 100 for e in range(1, 53)]
        np.testing.assert_allclose(error[i], expected, rtol=0, atol=1e-15)
        np.testing.assert_array_equal(seconds[i], [_fake_value(c, e, "time") for e in range(1, 53)])
    assert error[0, 0] > error[0, -1]


def test_close_stops_the_server_and_later_queries_fail(data: Path) -> None:
    with _fake(data) as surrogate:
        proc = surrogate._proc
        assert not surrogate.closed
    assert surrogate.closed
    assert proc.returncode == 0  # it left on the end of its input, not killed
    surrogate.close()  # twice is fine
    with pytest.raises(client.SurrogateError, match="closed"):
        surrogate.query([A_CONFIG], 3)


def test_the_server_does_not_inherit_pythonpath(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PYTHONPATH meant for the project env must not shadow the venv's own numpy.
    poison = tmp_path / "poison" / "numpy"
    poison.mkdir(parents=True)
    (poison / "__init__.py").write_text("raise ImportError('the project PYTHONPATH leaked')\n")
    monkeypatch.setenv("PYTHONPATH", str(poison.parent))
    with _fake(data) as surrogate:
        assert surrogate.query([A_CONFIG], 2)["val_accuracy"][0] == _fake_value(A_CONFIG, 2)


def test_threads_may_share_a_surrogate(sur: Any) -> None:
    batches = [space.sample(np.random.default_rng(20 + k), 40) for k in range(4)]
    results: dict[int, Any] = {}

    def work(k: int) -> None:
        for e in range(1, 11):  # many round trips each, so that they interleave
            results[(k, e)] = sur.val_error(batches[k], e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (k, e), errors in results.items():
        np.testing.assert_array_equal(errors, [1 - _fake_value(c, e) / 100 for c in batches[k]])
    assert len(results) == 40


def test_a_surrogate_stays_in_its_process(sur: Any) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(sur)
    sur._pid = -1  # as in a forked child: the pipe is the parent's
    with pytest.raises(client.SurrogateError, match="another process"):
        sur.query([A_CONFIG], 3)


def test_a_missing_venv_says_to_run_setup(data: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"bash benchmarks/yahpo/setup\.sh"):
        client.LCBenchSurrogate(TASK, data_path=data, python=tmp_path / "no-venv" / "python")


def test_missing_data_names_yahpo_data(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="YAHPO_DATA"):
        client.LCBenchSurrogate(TASK, data_path=tmp_path / "nowhere", python=sys.executable)


def test_the_data_path_comes_from_yahpo_data_else_beside_the_repo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("YAHPO_DATA", str(tmp_path))
    assert client.default_data_path() == tmp_path
    monkeypatch.delenv("YAHPO_DATA")
    assert client.default_data_path() == BENCH.parent.parent / "shared" / "yahpo_data"


def test_a_server_that_cannot_start_says_why(data: Path) -> None:
    with pytest.raises(client.SurrogateError, match=r"no onnx here.*setup\.sh"):
        _fake(data, "--fail-start", "no onnx here")


def test_a_server_that_never_answers_times_out(data: Path) -> None:
    with pytest.raises(client.SurrogateError, match="not done starting after 1 s"):
        _fake(data, "--hang", start_timeout=1.0)


def test_a_server_that_dies_mid_run_is_reported(data: Path) -> None:
    with _fake(data, "--die-after", "2") as surrogate:
        surrogate.query([A_CONFIG], 3)
        with pytest.raises(client.SurrogateError, match="exited with status 3"):
            surrogate.query([A_CONFIG], 4)
        assert surrogate.closed
        with pytest.raises(client.SurrogateError, match="closed"):
            surrogate.query([A_CONFIG], 5)


def test_an_unknown_task_is_refused_with_the_known_ones(data: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown lcbench task '42'.*126029"):
        _fake(data, task=42)


# ---------------------------------------------------------------------- the workload


def test_rung_epochs_are_the_schedule_rounded() -> None:
    sched = hyperband.schedule(
        lcbench.MAX_BUDGET, lcbench.ETA, min_budget=lcbench.MIN_BUDGET, integer_budgets=True
    )
    budgets = sorted({r.budget for b in sched.brackets for r in b.rungs})
    assert tuple(budgets) == lcbench.RUNG_EPOCHS == (2, 6, 17, 52)
    assert sched.s_max == 3


def test_workload_values_seconds_and_prefetch(sur: Any, log: Path) -> None:
    w = lcbench.lcbench_workload(TASK, sur, optimum=0.01)
    assert (w.max_budget, w.min_budget, w.eta, w.mode) == (52, 1, 3, "minimize")
    assert w.integer_budgets
    assert w.space == space.NNI_SPACE
    assert w(A_CONFIG, 2) == 1 - _fake_value(A_CONFIG, 2) / 100
    # One round trip brought every rung of the configuration: the rest come from the cache.
    assert w(A_CONFIG, 6) == 1 - _fake_value(A_CONFIG, 6) / 100
    assert w(A_CONFIG, 17.0) == 1 - _fake_value(A_CONFIG, 17) / 100
    assert w.true_value(A_CONFIG) == w(A_CONFIG, 52) == 1 - _fake_value(A_CONFIG, 52) / 100
    t = {e: _fake_value(A_CONFIG, e, "time") for e in (2, 6, 17, 52)}
    assert w.seconds is not None
    assert w.seconds(A_CONFIG, 6, None) == t[6]
    assert w.seconds(A_CONFIG, 17, 6) == pytest.approx(t[17] - t[6], rel=1e-12)
    assert len(_requests(log)) == 1
    assert _requests(log)[0]["queries"] == [[0, 2], [0, 6], [0, 17], [0, 52]]


def test_workload_seconds_never_negative_across_a_time_dip(sur: Any) -> None:
    w = lcbench.lcbench_workload(TASK, sur, optimum=0.0)
    dip = fake.TIME_DIP_EPOCH
    assert _fake_value(A_CONFIG, dip, "time") < _fake_value(A_CONFIG, dip - 1, "time")
    assert w.seconds is not None
    assert w.seconds(A_CONFIG, dip, dip - 1) == 0.0


def test_workload_refuses_fractional_budgets(sur: Any) -> None:
    w = lcbench.lcbench_workload(TASK, sur, optimum=0.0)
    with pytest.raises(ValueError, match="integer_budgets=True"):
        w(A_CONFIG, 52 / 27)
    with pytest.raises(ValueError, match=r"1\.\.52"):
        w(A_CONFIG, 0)


def test_regret_against_the_reference_and_below_it(sur: Any) -> None:
    value = 1 - _fake_value(A_CONFIG, 52) / 100
    w = lcbench.lcbench_workload(TASK, sur, optimum=value - 0.03)
    assert w.regret(A_CONFIG) == pytest.approx(0.03, abs=1e-12)
    assert w.below_reference == []
    better = lcbench.lcbench_workload(TASK, sur, optimum=value + 0.01)
    with pytest.warns(RuntimeWarning, match="beat the reference"):
        assert better.regret(A_CONFIG) == 0.0
    assert better.below_reference == [(A_CONFIG, value)]


def test_workload_checks_its_task(sur: Any) -> None:
    with pytest.raises(ValueError, match="unknown lcbench task"):
        lcbench.lcbench_workload("1", sur, optimum=0.0)
    with pytest.raises(ValueError, match="not 7593"):
        lcbench.lcbench_workload("7593", sur, optimum=0.0)


def test_the_reference_comes_from_the_file(tmp_path: Path, sur: Any) -> None:
    missing = tmp_path / "none.json"
    with pytest.raises(FileNotFoundError, match=r"reference\.py"):
        lcbench.load_reference(TASK, missing)
    path = tmp_path / "ref.json"
    path.write_text(json.dumps({"tasks": {TASK: {"reference": 0.125}}}))
    assert lcbench.load_reference(int(TASK), path) == 0.125
    with pytest.raises(KeyError, match="7593"):
        lcbench.load_reference("7593", path)
    assert lcbench.lcbench_workload(TASK, sur, reference_file=path).optimum == 0.125


# ---------------------------------------------------------------------- reference.py


def test_spearman_with_and_without_ties() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert reference.spearman(x, x**3) == pytest.approx(1.0)
    assert reference.spearman(x, -x) == pytest.approx(-1.0)
    # Ranks with ties averaged: [1, 2.5, 2.5, 4] against [1, 2, 3, 4] -> Pearson of the ranks.
    a, b = [1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]
    expected = float(np.corrcoef([1, 2.5, 2.5, 4], [1, 2, 3, 4])[0, 1])
    assert reference.spearman(a, b) == pytest.approx(expected)


def test_rank_correlations_compare_each_epoch_with_52(sur: Any) -> None:
    configs = space.sample(np.random.default_rng(9), 30)
    rho = reference.rank_correlations(sur, configs)
    final = [_fake_value(c, 52) for c in configs]
    for e in (1, 2, 3, 6, 17):
        expected = reference.spearman([_fake_value(c, e) for c in configs], final)
        assert rho[str(e)] == expected
    assert rho["1"] != rho["17"]


def test_local_search_only_moves_to_better_points(sur: Any) -> None:
    starts = space.sample(np.random.default_rng(10), 6)
    start_errors = sur.val_error(starts, 52)
    configs, errors, n = reference.local_search(
        sur,
        np.random.default_rng(11),
        space.encode(starts),
        start_errors,
        rounds=4,
        proposals=1,  # one proposal a round: a walk that took any step would get worse
        sigma_first=0.3,
        sigma_last=0.1,
    )
    assert n == 6 * 1 * 4
    assert np.all(errors <= start_errors)
    assert np.any(errors < start_errors)
    np.testing.assert_array_equal(errors, sur.val_error(configs, 52))


def test_task_reference_on_the_fake(sur: Any) -> None:
    options = {"n_random": 300, "starts": 4, "rounds": 3, "proposals": 5, "n_spearman": 40}
    entry = reference.task_reference(sur, seed=0, **options)
    rs, ls = entry["random_search"], entry["local_search"]
    assert entry["reference"] == min(rs["best"], ls["best"])
    assert ls["best"] <= ls["start_error"]  # a local search only moves to better points
    assert ls["n_queries"] == 4 * 5 * 3
    assert rs["n_queries"] == 300
    # The stored configurations have the stored values.
    assert 1 - _fake_value(rs["config"], 52) / 100 == rs["best"]
    assert 1 - _fake_value(ls["config"], 52) / 100 == ls["best"]
    assert set(entry["spearman_vs_epoch_52"]) == {"1", "2", "3", "6", "17"}
    again = reference.task_reference(sur, seed=0, **options)
    assert {k: v for k, v in again.items() if k not in ("seconds", "server_queries")} == {
        k: v for k, v in entry.items() if k not in ("seconds", "server_queries")
    }


# ---------------------------------------------------------------------- the real surrogate

REAL_DATA = client.default_data_path()
real = pytest.mark.skipif(
    not client.VENV_PYTHON.exists() or not (REAL_DATA / "lcbench" / "model.onnx").is_file(),
    reason=(
        "the yahpo venv or the yahpo_data folder is absent: run `bash benchmarks/yahpo/setup.sh` "
        "(and set YAHPO_DATA if the data is not in ../shared/yahpo_data)"
    ),
)


@real
def test_real_surrogate_starts_and_is_deterministic_across_processes() -> None:
    configs = space.sample(np.random.default_rng(7), 20)
    with client.LCBenchSurrogate(TASK) as a, client.LCBenchSurrogate(TASK) as b:
        assert tuple(a.hello["tasks"]) == space.ALL_TASKS
        assert a.hello["data_version"] == "1.0.2"
        error_a, time_a = a.curves(configs)
        error_b, time_b = b.curves(configs)
    np.testing.assert_array_equal(error_a, error_b)
    np.testing.assert_array_equal(time_a, time_b)
    assert np.all((error_a > 0) & (error_a < 1))
    assert np.all(time_a > 0)


@real
def test_real_surrogate_takes_float_ints_and_bound_float_error() -> None:
    # Sent as is, both crash yahpo's check (the reason clean_config exists).
    raw = {**A_CONFIG, "batch_size": 511.6, "learning_rate": 0.10000000000000002 * (1 + 1e-12)}
    with client.LCBenchSurrogate(TASK) as s:
        assert 0 < s.val_error([raw], 52)[0] < 1


@real
def test_real_server_without_yahpo_check_matches_yahpo_with_it() -> None:
    # The server passes check=False (clean_config does the checking): the values must be
    # those of yahpo's own checked path.
    script = f"""
import json, sys
sys.path.insert(0, {str(BENCH)!r})
from pathlib import Path
from yahpo import server, space
import numpy as np
backend = server.YahpoBackend(Path({str(REAL_DATA)!r}))
from yahpo_gym import benchmark_set
checked = benchmark_set.BenchmarkSet("lcbench", multithread=False, check=True)
checked.set_instance("{TASK}")
configs = space.sample(np.random.default_rng(8), 10)
mine = backend.predict("{TASK}", configs, [(i, 1 + 5 * i) for i in range(10)])["val_accuracy"]
rows = [{{**c, "epoch": 1 + 5 * i, "OpenML_task_id": "{TASK}"}} for i, c in enumerate(configs)]
theirs = [float(r["val_accuracy"]) for r in checked.objective_function(rows)]
print(json.dumps([mine, theirs]))
"""
    done = subprocess.run(
        [str(client.VENV_PYTHON), "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    mine, theirs = json.loads(done.stdout.strip().splitlines()[-1])
    assert mine == theirs


@real
def test_real_reference_file_reproduces_its_values() -> None:
    if not lcbench.REFERENCE_FILE.is_file():
        pytest.skip("benchmarks/results/lcbench_reference.json is absent: run reference.py")
    tasks = json.loads(lcbench.REFERENCE_FILE.read_text())["tasks"]
    assert set(lcbench.DEV_TASKS) <= set(tasks)
    for task in lcbench.DEV_TASKS[:2]:
        entry = tasks[task]
        with lcbench.lcbench_workload(task) as w:
            assert w.optimum == entry["reference"]
            for search in ("random_search", "local_search"):
                assert w.true_value(entry[search]["config"]) == entry[search]["best"]


# ---------------------------------------------------------------------- bench_lcbench.py


def test_bench_lcbench_quick_on_the_fake(data: Path, tmp_path: Path) -> None:
    bench = _import("bench_lcbench")
    ref = tmp_path / "reference.json"
    ref.write_text(json.dumps({"tasks": {TASK: {"reference": 0.0}}}))
    made: list[Any] = []

    def surrogate(task: str) -> Any:
        made.append(_fake(data, task=task))
        return made[-1]

    before = sorted(p.name for p in (BENCH / "results").rglob("*"))
    out = tmp_path / "out"
    report = bench.main(
        ["--quick", "--results", str(out), "--tasks", TASK, "--reference", str(ref)], surrogate
    )
    assert sorted(p.name for p in (BENCH / "results").rglob("*")) == before
    assert json.loads((out / "bench_lcbench_quick.json").read_text())["markdown"]
    assert len(made) == 1
    assert made[0].closed
    assert report["methods"] == list(bench.METHODS)
    assert report["total_budget"] == bench.SCHEDULE.total_budget == 817
    assert bench.TOTAL == 4 * 817
    entry = report["summary"]["tasks"][TASK]
    for method in bench.METHODS:
        e = entry["methods"][method]
        assert e["seeds"] == 1
        final = e["at"]["1"][0]
        assert final is not None
        assert final > 0
        run = report["runs"][TASK][method]["0"]
        assert run["spent"] <= 817
    assert set(entry["trust"]) == {"KDE HB", "KDE HB trust", "KDE HB trust adaptive"}
    assert report["summary"]["trust_changed"]["compared"] == 1
    for trust in ("off", "rank"):
        row = report["cost"]["rows"][trust]
        assert sum(row["observations"].values()) == 1000
        assert row["cached_ms"] > 0
        assert row["observe_top_ms"] > 0
    assert f"| {TASK} | KDE HB trust | 1 |" in report["markdown"]
