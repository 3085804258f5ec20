"""The peers' harness: runner plumbing (benchmarks/peers/common.py, spaces.py), the LCBench peer
batch and report (benchmarks/bench_lcbench_peers.py) and bench_compare's peer batches.

No real peer runs here: a fake runner (a real subprocess of this interpreter) or a fake
``execute`` writes the traces a peer would. No test asserts a timing.
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
PEERS = BENCH / "peers"


def _import(name: str, folder: Path = BENCH) -> ModuleType:
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return importlib.import_module(name)


common = _import("common", PEERS)
spaces = _import("spaces", PEERS)
wl = _import("workloads")


class _Whole:
    """A workload of whole budgets (as lcbench's): records the budgets it is asked."""

    name = "whole"
    max_budget, min_budget, eta = 52, 1, 3
    mode = "minimize"
    integer_budgets = True

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, config: dict[str, Any], budget: float) -> float:
        self.asked.append(budget)
        return float(config["x"]) / budget


# ---------------------------------------------------------------------- peers/common.py


def test_recorder_trains_whole_budgets_on_a_workload_of_whole_budgets() -> None:
    w = _Whole()
    rec = common.Recorder(w, total=100.0)
    assert rec({"x": 1.0}, 52 / 27) == pytest.approx(0.5)  # 1.93 epochs train 2
    assert rec({"x": 1.0}, 52 / 3) == pytest.approx(1 / 17)
    assert w.asked == [2.0, 17.0]
    assert [t[1] for t in rec.trace] == [2.0, 17.0]
    assert rec.spent == 19.0  # charged the epochs trained
    assert not rec.exhausted
    rec.record({"x": 2.0}, 52.0, 0.1, 81.0)
    assert rec.exhausted
    assert rec.trace[-1] == [{"x": 2.0}, 52.0, 0.1, 81.0]
    # A workload of real budgets keeps them (snapped to an integer only at float error).
    branin = common.Recorder(wl.branin(), total=10.0)
    assert branin.budget(81 / 3**4) == 1.0
    assert branin.budget(52 / 27) == pytest.approx(52 / 27)


def test_table_bracket_costs_with_whole_budgets() -> None:
    # lcbench: 52 epochs, eta 3 -> rungs 1.93, 5.78, 17.3, 52, trained as 2, 6, 17, 52.
    assert common.table_brackets(52, 1, 3, integer=True) == [
        27 * 2 + 9 * 6 + 3 * 17 + 52,
        9 * 6 + 3 * 17 + 52,
        6 * 17 + 2 * 52,
        4 * 52,
    ]
    real = common.table_brackets(52, 1, 3)
    assert real[0] == pytest.approx(27 * 52 / 27 + 9 * 52 / 9 + 3 * 52 / 3 + 52)
    w = _Whole()
    assert common.brackets_needed(w, 782) == 4  # one iteration: 211 + 157 + 206 + 208
    assert common.brackets_needed(w, 783) == 5


def test_runner_main_runs_each_seed_and_writes_it_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[int] = []

    def drive(w: Any, seed: int, rec: Any) -> None:
        if seed == 3:
            raise RuntimeError("the peer crashed")
        ran.append(seed)
        rec({"x1": 0.0, "x2": float(seed)}, w.max_budget)

    out = str(tmp_path / "branin-{seed}.json")
    monkeypatch.setattr(sys, "argv", ["run", "branin", "0,2,3,4", "100.0", out])
    with pytest.raises(RuntimeError, match="crashed"):
        common.main("fake", "1.0", drive)
    assert ran == [0, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["branin-0.json", "branin-2.json"]
    report = json.loads((tmp_path / "branin-2.json").read_text())
    assert report["seed"] == 2
    assert report["workload"] == "branin"
    assert report["trace"][0][:2] == [{"x1": 0.0, "x2": 2.0}, 81.0]
    monkeypatch.setattr(sys, "argv", ["run", "branin", "0,1", "100.0", str(tmp_path / "x.json")])
    with pytest.raises(SystemExit, match="seed"):
        common.main("fake", "1.0", drive)


def test_load_workload_names_lcbench_tasks() -> None:
    assert common.load_workload("branin").name == "branin"
    assert common.LCBENCH == "lcbench_"


# ---------------------------------------------------------------------- peers/spaces.py


def test_from_synetune_gives_the_nni_configuration() -> None:
    space = {
        "u": {"_type": "uniform", "_value": [0, 1]},
        "q": {"_type": "qloguniform", "_value": [16, 512, 1]},
        "r": {"_type": "randint", "_value": [1, 6]},
        "c": {"_type": "choice", "_value": ["exp", "pow3"]},
        "o": {"_type": "choice", "_value": [16, 32, 64]},
    }

    class Scalar:  # a numpy scalar's item()
        def __init__(self, v: Any) -> None:
            self.v = v

        def item(self) -> Any:
            return self.v

    values = {"u": 0.25, "q": 145, "r": 5, "c": "pow3", "o": Scalar(32), "epoch": 3}
    config = spaces.from_synetune(space, values)
    assert config == {"u": 0.25, "q": 145.0, "r": 5, "c": "pow3", "o": 32}
    assert spaces.in_space(space, config)


# ---------------------------------------------------------------------- bench_lcbench_peers.py


class _Task:
    """A stand-in lcbench workload: regret = the observed value at 52 epochs."""

    max_budget, min_budget, eta, mode = 52, 1, 3, "minimize"
    integer_budgets = True

    def __init__(self, task: str, closed: list[str]) -> None:
        self.name, self.task, self.closed = f"lcbench_{task}", task, closed
        self.below_reference: list[Any] = []

    def regret(self, config: dict[str, Any]) -> float:
        return float(config["x"])

    def close(self) -> None:
        self.closed.append(self.task)


def _fake_execute(calls: list[list[str]], fail_after: int | None = None) -> Any:
    """Writes the traces of the seeds a peer command asks for (each seed's incumbent has
    regret seed / 100), failing after ``fail_after`` seeds."""

    def execute(cmd: list[str]) -> None:
        calls.append(cmd)
        _, seeds, total, out = cmd[-4:]
        for k, seed in enumerate(int(s) for s in seeds.split(",")):
            if fail_after is not None and k == fail_after:
                raise subprocess.CalledProcessError(1, cmd)
            trace = [[{"x": 1.0}, 2.0, 0.9, 2.0], [{"x": seed / 100}, 52.0, 0.1, 52.0]]
            run = {"version": "9", "wall": 2.0, "cpu": 1.0, "objective_wall": 0.5}
            run |= {"objective_cpu": 0.5, "trace": trace}
            Path(out.format(seed=seed)).write_text(json.dumps(run))
            assert float(total) == 3268.0

    return execute


def test_lcbench_peer_batch_is_resumable_and_orders_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lp = _import("bench_lcbench_peers")
    cmp = _import("bench_compare")
    monkeypatch.setattr(cmp, "trace_path", lambda peer, w, seed: tmp_path / "t" / f"{w}-{seed}")
    fake_venvs = tmp_path / "venvs"
    for venv in ("dehb", "smac", "synetune"):
        (fake_venvs / venv / "bin").mkdir(parents=True)
        (fake_venvs / venv / "bin" / "python").write_text("")
    cmp = _import("bench_compare")
    monkeypatch.setattr(cmp, "VENVS", fake_venvs)
    closed: list[str] = []
    calls: list[list[str]] = []
    peers = ["SMAC3 MF", "DEHB", "Syne Tune BOHB"]
    tasks = ["7593", "168331", "126029"]
    made = lp.run_batch(
        peers,
        tasks,
        [0, 1],
        tmp_path,
        3268.0,
        workload=lambda t: _Task(t, closed),
        execute=_fake_execute(calls, fail_after=1),  # every process dies after its first seed
    )
    assert made == 9
    # Cheap peers first on every task, SMAC3 last, on its first tasks first.
    order = [(Path(c[4]).name, c[-4]) for c in calls]
    assert order[:6] == [
        ("run_dehb.py", "lcbench_7593"),
        ("run_synetune.py", "lcbench_7593"),
        ("run_dehb.py", "lcbench_168331"),
        ("run_synetune.py", "lcbench_168331"),
        ("run_dehb.py", "lcbench_126029"),
        ("run_synetune.py", "lcbench_126029"),
    ]
    assert [c[-4] for c in calls[6:]] == ["lcbench_126029", "lcbench_168331", "lcbench_7593"]
    assert calls[1][5] == "bohb"  # Syne Tune's scheduler comes before the run's arguments
    assert all(c[:3] == ["nice", "-n", "10"] and c[-3] == "0,1" for c in calls)
    assert sorted(closed) == sorted(tasks * 2)  # one scorer per task and group, closed
    record = json.loads(lp.run_path(tmp_path, "DEHB", "7593", 0).read_text())
    assert record["final_regret"] == 0.0
    assert record["regret_at"] == [0.0, 0.0]  # 54 epochs spent: within 25% of 3268
    assert not lp.run_path(tmp_path, "DEHB", "7593", 1).exists()
    assert not list((tmp_path / "t").iterdir())  # reduced traces are removed
    # Resumed: only the missing seed of each (peer, task) runs; a trace a killed batch left is
    # reduced without running it again.
    calls.clear()
    left = {"version": "9", "wall": 2.0, "cpu": 1.0, "objective_wall": 0.5, "objective_cpu": 0.5}
    left["trace"] = [[{"x": 0.5}, 52.0, 0.1, 52.0]]
    (tmp_path / "t" / "lcbench_7593-1").write_text(json.dumps(left))
    made = lp.run_batch(
        peers, tasks, [0, 1], tmp_path, 3268.0, workload=lambda t: _Task(t, closed),
        execute=_fake_execute(calls),
    )  # fmt: skip
    assert made == 9
    assert {c[-3] for c in calls} == {"1"}
    assert len(calls) == 8  # not DEHB on 7593 (the first to look): its trace was there
    record = json.loads(lp.run_path(tmp_path, "DEHB", "7593", 1).read_text())
    assert record["final_regret"] == 0.5
    calls.clear()
    assert lp.run_batch(peers, tasks, [0, 1], tmp_path, 3268.0, execute=_fake_execute(calls)) == 0
    assert calls == []  # nothing left: no surrogate is even started


def _entry(medians: dict[str, tuple[float | None, float | None]]) -> dict[str, Any]:
    return {
        m: {"seeds": 10, "at": {"0.25": [a, a, a], "1": [b, b, b]}} for m, (a, b) in medians.items()
    }


def test_lcbench_report_counts_the_best_of_ours_against_the_best_peer(tmp_path: Path) -> None:
    lp = _import("bench_lcbench_peers")
    ours = {
        "tasks": {
            "1": {"methods": _entry({"HB": (0.5, 0.2), "KDE HB": (0.3, 0.1)})},
            "2": {"methods": _entry({"HB": (0.5, 0.2), "KDE HB": (None, 0.3)})},
        }
    }
    records = {}
    for task, regrets in (("1", (0.3, 0.05)), ("2", (0.4, 0.3))):
        rec = {"regret_at": list(regrets), "cpu": 2.0, "objective_cpu": 1.0, "run_configs": 100}
        rec |= {"version": "1", "wall": 3.0}
        records[task] = {"DEHB": [rec] * 3, "SMAC3 MF": []}
    summary = lp.summarise(ours, records)
    one, two = summary["tasks"]["1"]["versus"], summary["tasks"]["2"]["versus"]
    assert one["0.25"]["ours"] == [0.3, "KDE HB"]
    assert one["0.25"]["ours_at_or_below"] is True  # a tie counts for ours
    assert one["1"]["ours_at_or_below"] is False
    assert one["1"]["peer"] == [0.05, "DEHB"]
    assert two["0.25"]["ours_at_or_below"] is False
    assert two["1"]["ours_at_or_below"] is True
    assert summary["tasks"]["1"]["peers"] == ["DEHB"]  # SMAC3 has no run there
    text = lp.markdown(summary, seeds=10)
    assert "1 of 2 tasks at 25% of the budget, 1 of 2 tasks at 100%" in text
    assert "Cells with fewer than 10 seeds: DEHB: 3 on 1, 2." in text
    assert "Peers not run on some tasks: " in text
    assert "SMAC3 MF" in text
    assert "| 1 | *DEHB* | 3 | **0.3 [0.3, 0.3]** | **0.05 [0.05, 0.05]** |" in text
    assert "| DEHB | 1 | 3.0 (2.0) | 10 |" in text


def test_lcbench_significance_names_only_peers_lower_beyond_seed_noise() -> None:
    lp = _import("bench_lcbench_peers")
    pytest.importorskip("scipy", reason="scipy is in the bench extra")

    def runs(final: list[float]) -> list[dict[str, Any]]:
        return [{"regret_at": [0.5, v]} for v in final]

    ours = [0.30, 0.31, 0.32, 0.33, 0.34, 0.35]
    our_runs = {"1": {lp.DEFAULT: dict(enumerate(runs(ours))), "HB": dict(enumerate(runs(ours)))}}
    peer_runs = {
        "1": {
            "low": runs([0.10, 0.11, 0.12, 0.13, 0.14, 0.15]),  # every seed below ours
            "same": runs([0.305, 0.315, 0.325, 0.335, 0.345, 0.355]),
            "high": runs([0.90, 0.91, 0.92, 0.93, 0.94, 0.95]),
            "few": runs([0.0, 0.0]),  # two seeds: not tested
        }
    }
    versus = {"0.25": {"ours": [0.5, "HB"]}, "1": {"ours": [0.3, "HB"]}}
    summary = {"tasks": {"1": {"versus": versus, "peers": list(peer_runs["1"])}}}
    table = lp.significance(summary, our_runs, peer_runs)
    final = table["1"]["1"]
    assert final["default"] == {"method": lp.DEFAULT, "lower": ["low"], "higher": ["high"]}
    assert final["best"]["method"] == "HB"
    assert table["1"]["0.25"]["best"]["lower"] == []  # all equal at 25%: nothing significant
    text = "\n".join(lp.significance_lines(table))
    assert "| 1 | none (0) | none (0) | low (1) | low (1) |" in text
    assert "1 of 1 at 25% (the default" in text
    assert "0 of 1 at 100% (the default" in text


# ---------------------------------------------------------------------- bench_compare.py


FAKE_RUNNER = """
import json, sys
workload, seeds, total, out = sys.argv[1:5]
for seed in seeds.split(","):
    if seed == "2":
        sys.exit(3)
    run = {"version": "0", "wall": 1.0, "cpu": 1.0, "objective_wall": 0.0, "objective_cpu": 0.0,
           "trace": [[{"x1": 3.14159, "x2": 2.275}, 81.0, 0.4, 81.0]]}
    open(out.format(seed=seed), "w").write(json.dumps(run))
"""


def test_compare_runs_a_peers_missing_seeds_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmp = _import("bench_compare")
    calls: list[list[str]] = []

    def command(name: str, workload: str, seeds: list[int], total: float, out: str) -> list[str]:
        calls.append([name, workload, ",".join(map(str, seeds))])
        return [sys.executable, "-c", FAKE_RUNNER, workload, ",".join(map(str, seeds)), "1", out]

    monkeypatch.setattr(cmp, "peer_command", command)
    monkeypatch.setattr(cmp, "TRACES", tmp_path / "traces")
    logged: list[str] = []
    cmp.run_batch(["DEHB"], ["branin"], 3, tmp_path, 0.1, rerun=False, log=logged.append)
    assert calls == [["DEHB", "branin", "0,1,2"]]
    records = json.loads((tmp_path / "dehb.json").read_text())
    assert sorted(records) == ["branin/0", "branin/1"]  # seed 2's process failed: kept 0, 1
    assert records["branin/0"]["final_regret"] < 1e-4
    assert any("FAILED" in line for line in logged)
    calls.clear()
    cmp.run_batch(["DEHB"], ["branin"], 3, tmp_path, 0.1, rerun=False, log=logged.append)
    assert calls == [["DEHB", "branin", "2"]]  # resumed: only the missing seed


def test_compare_lists_the_candidates_and_syne_tune() -> None:
    cmp = _import("bench_compare")
    assert set(cmp.CANDIDATES) <= set(cmp.OURS)
    assert cmp.PEERS["Syne Tune BOHB"].args == ("bohb",)
    assert set(cmp.PEER_ORDER) == set(cmp.PEERS)
    assert math.isfinite(cmp.TOTAL["branin"])


def test_compare_render_only_runs_nothing(tmp_path: Path) -> None:
    cmp = _import("bench_compare")
    cmp.run_batch(["HB li2018", "RS"], ["branin"], 2, tmp_path / "compare", 0.1, rerun=True)
    saved = (tmp_path / "compare" / "hb_li2018.json").read_text()
    report = cmp.main(
        ["--quick", "--render-only", "--results", str(tmp_path), "--workloads", "branin"]
    )
    assert (tmp_path / "compare" / "hb_li2018.json").read_text() == saved
    assert sorted(p.name for p in (tmp_path / "compare").iterdir()) == ["hb_li2018.json", "rs.json"]
    (entry,) = report["workloads"]
    assert sorted(entry["methods"]) == ["HB li2018", "RS"]
    assert "| HB li2018 | 2 |" in report["markdown"]
    assert "best of ours at 25%" in report["markdown"]
    assert entry["versus"]["1"]["ours"][1] == "HB li2018"
    assert entry["versus"]["1"]["peer"] is None
