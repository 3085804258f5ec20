"""Syne Tune 0.16's ASHA and BOHB as peers of the stopping benchmark
(``benchmarks/stopping/peers.py``: ``syne16_asha``, ``syne16_bohb``).

The adapters' logic runs against a fake ``syne_tune`` (put in ``sys.modules``): what they hand
the scheduler, in which order, what they make of its answers, and which configurations the
simulator trains. One test runs the REAL 0.16 package in its own virtualenv
(``benchmarks/stopping/.venvs/syne16``, made by ``setup_venvs.sh syne16``) through
``run_peer.py``, and skips when that venv is missing. Every file a test writes is under
tmp_path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from . import test_curves as tc
from .optional import require

curves = tc.curves
peers = tc._import("peers")
bench = tc._import("bench_stopping")
lcb = tc._import("bench_stopping_lcbench")
cache = tc._import("stopping.cache")

SYNE16 = tc.BENCH / "stopping" / ".venvs" / "syne16" / "bin" / "python"


class FakeScheduler:
    """Records every call; answers STOP at max_t (as 0.16 does) and for odd trial ids at
    their first report; proposes ``{"x0": 0.5, ...}`` configurations with x0 = k / 100."""

    made: ClassVar[list[FakeScheduler]] = []

    def __init__(self, config_space: dict[str, Any], **kwargs: Any) -> None:
        self.config_space, self.kwargs = config_space, kwargs
        self.calls: list[tuple[str, Any]] = []
        self.global_draw = float(np.random.random())  # what the global RNG gives after seeding
        self.made.append(self)

    def suggest(self) -> Any:
        k = sum(name == "suggest" for name, _ in self.calls)
        self.calls.append(("suggest", k))
        config = dict.fromkeys(self.config_space, 0.5)
        config["x0"] = k / 100
        return types.SimpleNamespace(config=config)

    def on_trial_add(self, trial: Any) -> None:
        self.calls.append(("add", trial.trial_id))

    def on_trial_result(self, trial: Any, result: dict[str, Any]) -> str:
        self.calls.append(("result", (trial.trial_id, result["epoch"], result["value"])))
        if result["epoch"] >= self.kwargs["max_t"]:
            return "STOP"
        return "STOP" if trial.trial_id % 2 else "CONTINUE"

    def on_trial_remove(self, trial: Any) -> None:
        self.calls.append(("remove", trial.trial_id))

    def on_trial_complete(self, trial: Any, result: dict[str, Any]) -> None:
        raise AssertionError("the Tuner never completes a trial it was told to STOP")


class FakeASHA(FakeScheduler):
    pass


class FakeBOHB(FakeScheduler):
    pass


class FakeTrial:
    def __init__(self, trial_id: int, config: dict[str, Any], creation_time: Any) -> None:
        self.trial_id, self.config = trial_id, config


@pytest.fixture
def fake_syne(monkeypatch: pytest.MonkeyPatch) -> type[FakeScheduler]:
    """A ``syne_tune`` with the 0.16 names the adapters import, and the domains
    ``peers/spaces.py`` translates to (here: ``uniform`` only)."""
    modules = {
        name: types.ModuleType(name)
        for name in (
            "syne_tune",
            "syne_tune.optimizer",
            "syne_tune.optimizer.baselines",
            "syne_tune.backend",
            "syne_tune.backend.trial_status",
            "syne_tune.config_space",
        )
    }
    modules["syne_tune.optimizer.baselines"].ASHA = FakeASHA  # type: ignore[attr-defined]
    modules["syne_tune.optimizer.baselines"].BOHB = FakeBOHB  # type: ignore[attr-defined]
    modules["syne_tune.optimizer"].baselines = modules["syne_tune.optimizer.baselines"]  # type: ignore[attr-defined]
    modules["syne_tune.backend.trial_status"].Trial = FakeTrial  # type: ignore[attr-defined]
    modules["syne_tune"].config_space = modules["syne_tune.config_space"]  # type: ignore[attr-defined]
    modules["syne_tune.config_space"].uniform = lambda lo, hi: ("uniform", lo, hi)  # type: ignore[attr-defined]
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(FakeScheduler, "made", [])
    return FakeScheduler


def test_asha_adapter_drives_the_scheduler_as_the_tuner_does(
    fake_syne: type[FakeScheduler],
) -> None:
    w = curves.hartmann6()
    np.random.seed(123)  # the adapter must reseed the global RNG, whatever came before
    record = peers.run_peer(peers.PEERS["syne16_asha"], w, 2, 7, budget_limit=400)
    s = fake_syne.made[0]
    assert type(s) is FakeASHA
    assert s.kwargs == {
        "metric": "value",
        "time_attr": "epoch",
        "max_t": 81,
        "do_minimize": True,
        "random_seed": 7,
        "grace_period": 1,
        "reduction_factor": 3,
    }
    assert s.config_space == {f"x{j}": ("uniform", 0.0, 1.0) for j in range(6)}
    np.random.seed(7)
    assert s.global_draw == np.random.random()
    steps = peers.grid(w)
    removed = [k for name, k in s.calls if name == "remove"]
    assert removed
    assert any(k % 2 == 0 for k in removed)  # a trial that completed is removed too
    for k in sorted({k for name, k in s.calls if name == "add"}):
        mine = [(name, x) for name, x in s.calls if x == k or (name == "result" and x[0] == k)]
        # suggest, add, its reports, then (unless the budget ran out first) removed, after a
        # stop and at max_t alike.
        assert mine[:2] == [("suggest", k), ("add", k)]
        reported = [x[1] for name, x in mine if name == "result"]
        if k in removed:
            assert mine[-1] == ("remove", k)
            assert reported == ([steps[0]] if k % 2 else steps)
    # STOP at max_t is the natural end: the even trials completed, only odd ones stopped.
    assert record["stopped"] == sum(1 for name, k in s.calls if name == "remove" and k % 2)
    assert record["history"]
    # ASHA's trials train the shared stream, not its searcher's draws (x0 = k / 100).
    values = {x[0]: x[2] for name, x in s.calls if name == "result" and x[1] == steps[0]}
    stream = curves.config_stream(w, 7)
    assert values[0] == w.curve(stream(0), steps[0])
    assert values[0] != w.curve({**{f"x{j}": 0.5 for j in range(6)}, "x0": 0.0}, steps[0])


def test_bohb_adapter_trains_the_configurations_its_searcher_proposes(
    fake_syne: type[FakeScheduler],
) -> None:
    w = curves.hartmann6()
    peers.run_peer(peers.PEERS["syne16_bohb"], w, 2, 3, budget_limit=300)
    s = fake_syne.made[0]
    assert type(s) is FakeBOHB
    steps = peers.grid(w)
    first = {x[0]: x[2] for name, x in s.calls if name == "result" and x[1] == steps[0]}
    proposed = {f"x{j}": 0.5 for j in range(6)}
    for k, value in first.items():
        assert value == w.curve({**proposed, "x0": k / 100}, steps[0])
    assert first[1] != w.curve(curves.config_stream(w, 3)(1), steps[0])


def test_the_new_peers_are_registered_and_run_in_the_syne16_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for peer in ("syne16_asha", "syne16_bohb"):
        assert peer in peers.PEERS
        assert peer in bench.PEER_LABELS
        assert peer in bench.PEER_SHORT
        assert bench.PEER_VENV[peer] == "syne16"
        assert all(peer in methods for methods, _, _ in lcb.phases(False, range(10))["peers"])
    monkeypatch.setattr(bench, "VENVS", tmp_path)
    assert bench.peer_python("syne16_bohb") is None
    python = tmp_path / "syne16" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    assert bench.peer_python("syne16_asha") == str(python)
    assert "requirements-syne16.txt" in (tc.BENCH / "stopping" / "setup_venvs.sh").read_text()
    pins = (tc.BENCH / "stopping" / "requirements-syne16.txt").read_text()
    assert "syne-tune==0.16.0" in pins
    assert "attrs==" in pins


def test_equal_budget_table_shows_a_peer_without_runs_as_a_dash(tmp_path: Path) -> None:
    require("scipy")
    its = {"parallel": 1}
    for i, method in enumerate([*bench.OURS, "ray_asha"]):
        for seed in range(3):
            history = [[1.0, 10.0, 0.1 + 0.01 * (i + seed)]]
            record = {"history": history, "jobs": 1, "stopped": 0, "mispromoted": None}
            cache.append(tmp_path, method, "parallel", 4, seed, record)
    table = bench.equal_budget_table(tmp_path, ["parallel"], [4], range(3), its)
    row = next(line for line in table.splitlines() if line.startswith("| Curves that never"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 2 + len(bench.PEER_LABELS)
    shown = dict(zip(bench.PEER_LABELS, cells[2:], strict=True))
    assert shown["ray_asha"].startswith("0.1")
    assert shown["syne16_bohb"] == "-"


@pytest.mark.skipif(not SYNE16.exists(), reason="no syne16 venv (setup_venvs.sh syne16)")
@pytest.mark.parametrize("peer", ["syne16_asha", "syne16_bohb"])
def test_real_syne_tune_016_runs_in_its_venv(peer: str, tmp_path: Path) -> None:
    cmd = [
        str(SYNE16),
        str(tc.BENCH / "stopping" / "run_peer.py"),
        peer,
        "parallel",
        "--workers",
        "4",
        "--seeds",
        "0",
        "--budget-limit",
        "400",
        "--cache",
        str(tmp_path),
    ]
    root = str(tc.BENCH.parent)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": root}
    subprocess.run(cmd, check=True, env=env, timeout=60)
    record = cache.load(tmp_path, peer, "parallel")[4, 0]
    assert 0 < record["stopped"] < record["jobs"]
    assert record["history"]
    assert all(r >= 0 for _, _, r in record["history"])
    # Seeded: a second run gives the same record.
    again = tmp_path / "again"
    subprocess.run([*cmd[:-1], str(again)], check=True, env=env, timeout=60)
    assert cache.load(again, peer, "parallel")[4, 0] == record
