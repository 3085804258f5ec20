"""bench_stopping_lcbench and its LCBench curve workloads, against the fake surrogate.

``benchmarks/yahpo/fake_server.py`` speaks the real server's protocol with made-up curves
(``fake_result``), so these run in CI without yahpo: the workload's values and clock, one
small benchmark run end to end (our methods in process, a peer in its own process through
``run_peer.py``), and the cache that lets a rerun skip finished runs.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband

# The fake server's data folder fixture and the importer of the benchmark modules: the
# adapter's tests own them.
from . import test_lcbench_adapter as adapter

FAKE, TASK, _import = adapter.FAKE, adapter.TASK, adapter._import
data = adapter.data  # the fixture

lcb = _import("bench_stopping_lcbench")
lc = _import("stopping.lcbench_curves")
cache = _import("stopping.cache")
fake = _import("yahpo.fake_server")
client = _import("yahpo.client")
space = _import("yahpo.space")


def _setup(data: Path) -> Any:
    surrogate = {"data_path": data, "python": sys.executable, "server": FAKE}
    return lcb.Setup(surrogate=surrogate, optimum={TASK: 0.05})


def _configs(n: int) -> list[dict[str, Any]]:
    draws = hyperband.RandomSampler(space.NNI_SPACE).sample(np.random.default_rng(1), n)
    return [space.clean_config(d) for d in draws]


def test_workload_reports_the_error_and_runs_on_the_surrogates_monotone_clock(
    data: Path,
) -> None:
    with client.LCBenchSurrogate(TASK, **_setup(data).surrogate) as sur:
        w = lc.lcbench_curve_workload(TASK, sur, optimum=0.05)
        assert (w.name, w.max_budget, w.min_budget, w.eta) == ("lcbench_126029", 52, 1, 3)
        assert w.integer_budgets
        assert w.report_every == 1
        assert w.mode == "minimize"
        for config in _configs(3):
            for epoch in (1, 6, 7, 52):
                expected = 1 - fake.fake_result(TASK, config, epoch)["val_accuracy"] / 100
                assert w.curve(config, epoch) == pytest.approx(expected)
            assert w.true_value(config) == w.curve(config, 52)
            times = [fake.fake_result(TASK, config, e)["time"] for e in range(1, 53)]
            clock = np.maximum.accumulate(times)
            # The fake's cumulative time dips at epoch 7: that step takes 0 s, not less.
            dip = fake.TIME_DIP_EPOCH
            assert w.duration(config, dip, dip - 1) == 0.0
            assert w.duration(config, 17, 6) == pytest.approx(clock[16] - clock[5])
            assert w.duration(config, 52, None) == pytest.approx(clock[51])
            assert w.regret(config) == pytest.approx(max(0.0, w.true_value(config) - 0.05))
        # One round trip a configuration, whatever is asked of it afterwards.
        assert sur.n_requests == 3
        with pytest.raises(ValueError, match="whole number of epochs"):
            w.curve(_configs(1)[0], 1.5)


def test_workload_refuses_another_tasks_surrogate_and_names_are_parsed(data: Path) -> None:
    with (
        client.LCBenchSurrogate("7593", **_setup(data).surrogate) as sur,
        pytest.raises(ValueError, match="for task 7593, not 126029"),
    ):
        lc.lcbench_curve_workload(TASK, sur, optimum=0.0)
    assert lc.task_of("lcbench_126029") == TASK
    assert not lc.is_lcbench("crossing")
    with pytest.raises(ValueError, match="not an lcbench workload name"):
        lc.task_of("crossing")


def test_quick_run_fills_the_cache_tabulates_and_a_rerun_skips_every_run(
    data: Path, tmp_path: Path
) -> None:
    root, out = tmp_path / "runs", tmp_path / "out.json"
    argv = ["--quick", "--tasks", TASK, "--seeds", "2", "--cache", str(root), "--out", str(out)]
    result = lcb.main(argv, _setup(data))
    methods = [*lcb.phases(True, range(2))["ours"][0][0]]
    assert "parallelism+curve" in methods
    assert "curve(0.5,3,1)" in methods
    files = {m: root / cache.plain(m) / f"lcbench_{TASK}.jsonl" for m in methods}
    for m in files:
        records = cache.load(root, m, f"lcbench_{TASK}")
        assert set(records) == {(4, 0), (4, 1)}, m
        for record in records.values():
            # (time, budget spent, regret): the clock is the fake's seconds, not epochs.
            times = [t for t, _, _ in record["history"]]
            assert times
            assert times == sorted(times)
            assert all(0 <= r < 1 for _, _, r in record["history"])
    assert len(result["targets"][TASK]["4"]) == 3
    assert result["budget_limit"] == lcb.limit_of(1)
    assert "| 126029 |" in result["markdown"]
    assert json.loads(out.read_text())["tasks"] == [TASK]
    before = {m: p.read_text() for m, p in files.items()}
    # A rerun starts no surrogate at all: a server that cannot start must not be needed.
    broken = lcb.Setup(
        surrogate={"data_path": data, "python": sys.executable, "server": tmp_path / "missing.py"},
        optimum={TASK: 0.05},
    )
    lcb.main(argv, broken)
    assert {m: p.read_text() for m, p in files.items()} == before


def test_a_peer_runs_in_its_own_process_on_the_same_workload(data: Path, tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    root = tmp_path / "runs"
    lcb.run_task(root, TASK, ["optuna_sh"], [2], range(1), 1, _setup(data))
    records = cache.load(root, "optuna_sh", f"lcbench_{TASK}")
    assert set(records) == {(2, 0)}
    record = records[2, 0]
    assert record["jobs"] > 0
    assert 0 < record["stopped"] < record["jobs"]
    regrets = [r for _, _, r in record["history"]]
    assert regrets
    assert all(0 <= r < 1 for r in regrets)
    assert not math.isinf(regrets[-1])


def test_equal_budget_table_leaves_out_a_peer_with_too_few_runs() -> None:
    pytest.importorskip("scipy", reason="scipy is in the bench extra")
    peers = list(lcb.bs.PEER_LABELS)
    full, partial = peers[0], peers[1]
    cells = [(4, s) for s in range(lcb.SEEDS)]
    rng = np.random.default_rng(0)
    data = {
        "parallelism": {c: 0.5 + 0.01 * rng.random() for c in cells},
        full: {c: 0.1 + 0.01 * rng.random() for c in cells},
        partial: dict.fromkeys(cells[:3], 0.9),  # an unfinished batch: 3 runs
    }
    table = lcb.peer_table({"7": data})
    row = next(line for line in table.splitlines() if line.startswith("| 7 "))
    assert row.startswith(f"| 7 ({lcb.SEEDS}) | ")  # pooled over all ten cells, not three
    assert "(lower)" in row
    assert f"Left out (fewer than {lcb.SEEDS} runs on the task): 7: " in table
    assert f"{lcb.bs.PEER_SHORT[partial]} (3)" in table
