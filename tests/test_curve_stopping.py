"""early_stop="curve" end to end: the machine, snapshots, simulate(), run() with a journal on
processes, the CLI and the NNI advisor's classArgs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import CurveRule, Hyperband, RunResult

SPACE: dict[str, Any] = {"lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}}


def accuracy(config: dict[str, Any], epoch: float) -> float:
    """A learning curve to maximize: saturating, at a level set by the learning rate."""
    lr = config["lr"]
    return 0.9 - abs(math.log10(lr) + 2) / 4 - 0.5 * math.exp(-epoch * lr * 20)


def drive(hb: Hyperband, stop_after: int | None = None) -> list[tuple[int, str]]:
    """Ask, report every epoch, tell; the decisions made, until done (or ``stop_after`` jobs)."""
    decisions: list[tuple[int, str]] = []
    jobs = 0
    while not hb.done and (stop_after is None or jobs < stop_after):
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        jobs += 1
        start = int(job.previous_budget or 0)
        for epoch in range(start + 1, int(job.budget) + 1):
            decision = hb.report(job.id, epoch, accuracy(job.config, epoch))
            decisions.append((job.id, decision.name))
            if decision is hyperband.STOP:
                break
        else:
            hb.tell(job.id, accuracy(job.config, job.budget))
    return decisions


def test_the_machine_stops_jobs_and_keeps_the_best_when_maximizing() -> None:
    hb = Hyperband(SPACE, max_budget=27, eta=3, mode="maximize", early_stop="curve", seed=0)
    assert isinstance(hb.early_stop, CurveRule)
    drive(hb)
    assert 0 < hb.stats.n_stopped < hb.stats.n_asked
    best = hb.best
    assert best is not None
    assert best.budget == 27
    plain = Hyperband(SPACE, max_budget=27, eta=3, mode="maximize", seed=0)
    drive(plain)
    assert plain.best is not None
    assert best.value >= plain.best.value - 0.02  # stopping lost (almost) nothing


def test_a_restored_snapshot_makes_the_same_decisions() -> None:
    kwargs: dict[str, Any] = {"max_budget": 27, "eta": 3, "mode": "maximize", "seed": 1}
    rule = CurveRule(threshold=0.1, min_peers=2)
    whole = Hyperband(SPACE, early_stop=rule, **kwargs)
    first = drive(whole)
    half = Hyperband(SPACE, early_stop=rule, **kwargs)
    head = drive(half, stop_after=20)
    state = json.loads(json.dumps(half.snapshot()))
    assert state["params"]["early_stop"] == {"name": "curve", "options": rule.options}
    restored = Hyperband.restore(state, SPACE)
    assert isinstance(restored.early_stop, CurveRule)
    assert restored.early_stop.options == rule.options
    assert head + drive(restored) == first
    assert any(d == "STOP" for _, d in first)


def test_simulate_with_the_curve_rule_saves_time_and_is_deterministic() -> None:
    def run(rule: str | None) -> hyperband.SimulationResult:
        return hyperband.simulate(
            27, 3, workers=4, space=SPACE, curve=accuracy, early_stop=rule, seed=2,
            iterations=2,
        )  # fmt: skip

    curve, again, plain = run("curve"), run("curve"), run(None)
    assert curve.stopped
    assert [j.to_dict() for j in curve.jobs] == [j.to_dict() for j in again.jobs]
    assert curve.makespan < plain.makespan
    assert curve.best is not None
    assert curve.best.job_id not in {j.job.id for j in curve.stopped}


def reporting(config: dict[str, Any], budget: float, context: Any) -> float:
    start = int(context.job.previous_budget or 0)
    for epoch in range(start + 1, int(budget) + 1):
        context.report(epoch, accuracy(config, epoch))
    return accuracy(config, budget)


def test_run_on_processes_journals_the_decisions_and_replays_them(tmp_path: Path) -> None:
    journal = tmp_path / "study.jsonl"
    result = hyperband.run(
        reporting, SPACE, max_budget=27, eta=3, seed=0, early_stop="curve",
        executor="processes", workers=2, journal=journal, progress=False,
        sampler="random",  # spread-out draws: some are bad enough to stop
    )  # fmt: skip
    assert result.n_stopped > 0
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    assert events[0]["params"]["early_stop"]["name"] == "curve"
    stops = [e for e in events if e["event"] == "report" and e["decision"] == "STOP"]
    assert len(stops) == result.n_stopped
    again = RunResult.from_journal(journal)
    assert [(r.job.id, r.status, r.value, r.extra) for r in again.history] == [
        (r.job.id, r.status, r.value, r.extra) for r in result.history
    ]
    assert again.best == result.best
    # The prediction that stopped each job is journaled with it, in losses (-accuracy).
    for record in (r for r in again.history if r.status == "stopped"):
        why = record.extra["stop"]
        assert why["rule"] == "curve"
        assert why["budget"] == record.job.budget
        low, high = why["interval_loss"]
        assert low <= why["median_loss"] <= high
        assert why["probability"] < hyperband.CurveRule().threshold
        assert why["median_loss"] > why["edge_loss"] - (high - low)


def test_a_stopped_result_keeps_the_rule_s_explanation_and_others_have_none() -> None:
    hb = Hyperband(SPACE, max_budget=27, eta=3, mode="maximize", early_stop="curve", seed=0)
    decisions = drive(hb)
    stopped = [job_id for job_id, d in decisions if d == "STOP"]
    result = hb.stopped_result(stopped[0])
    assert result is not None
    assert result.status == "stopped"
    assert set(result.extra["stop"]) == {
        "rule", "budget", "median_loss", "interval_loss", "edge_loss", "probability",
    }  # fmt: skip
    assert hb.stopped_result(decisions[0][0] if decisions[0][0] not in stopped else -1) is None
    rung = Hyperband(SPACE, max_budget=27, eta=3, mode="maximize", early_stop="rung", seed=0)
    stops = [job_id for job_id, d in drive(rung) if d == "STOP"]
    stopped_by_rung = rung.stopped_result(stops[0])
    assert stopped_by_rung is not None
    assert stopped_by_rung.extra["stop"]["rule"] == "rung"  # the rung rule explains too

    class Silent:  # the rung rule's decisions, without explain()
        def should_stop(self, view: hyperband.StopView) -> bool:
            return hyperband.RungRule().should_stop(view)

    silent = Hyperband(SPACE, max_budget=27, eta=3, mode="maximize", early_stop=Silent(), seed=0)
    stops = [job_id for job_id, d in drive(silent) if d == "STOP"]
    stopped_silently = silent.stopped_result(stops[0])
    assert stopped_silently is not None
    assert stopped_silently.extra == {}  # a rule without explain(): nothing to keep


def test_the_cli_takes_early_stop_curve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hyperband.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "curve_objective.py").write_text(
        "import math\n"
        "def learning(config, budget, context):\n"
        "    start = int(context.job.previous_budget or 0)\n"
        "    for epoch in range(start + 1, int(budget) + 1):\n"
        "        context.report(epoch, config['x'] - 0.5 * math.exp(-epoch / 3))\n"
        "    return config['x'] - 0.5 * math.exp(-budget / 3)\n"
    )
    (tmp_path / "space.json").write_text(json.dumps({"x": {"_type": "uniform", "_value": [0, 1]}}))
    code = main(
        ["run", "curve_objective:learning", "--space", "space.json", "--max-budget", "27",
         "--seed", "0", "--no-progress", "--journal", "study.jsonl", "--early-stop", "curve",
         "--executor", "serial", "--sampler", "random", "--brackets", "cycle"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    study = json.loads((tmp_path / "study.jsonl").read_text().splitlines()[0])
    assert study["params"]["early_stop"]["name"] == "curve"
    result = RunResult.from_journal(tmp_path / "study.jsonl")
    assert result.n_stopped > 0
    assert f"{result.n_stopped} stopped early" in out


def test_the_nni_advisor_takes_early_stop_curve_and_its_options() -> None:
    pytest.importorskip("nni", reason="the nni extra is not installed")
    from nni.runtime.tuner_command_channel import CommandType

    from hyperband.integrations.nni import HyperbandAdvisor

    from .test_nni_advisor import make

    options = {"threshold": 0.2, "min_peers": 2, "families": ["pow3", "exp3"]}
    advisor, _ = make(early_stop="curve", early_stop_options=options)
    advisor.process_command(CommandType.Initialize, SPACE)
    assert advisor.machine is not None
    rule = advisor.machine.early_stop
    assert isinstance(rule, CurveRule)
    assert rule.options == {**options, "min_reports": 3}
    sent: list[tuple[Any, str]] = []

    class Reporting(HyperbandAdvisor):
        def send(self, command: Any, data: str) -> None:
            sent.append((command, data))

    with pytest.raises(hyperband.HyperbandError, match="CurveRule: threshold must be in"):
        Reporting(
            command_channel_url="ws://_unittest_", R=9, eta=3, early_stop="curve",
            early_stop_options={"threshold": 2},
        )  # fmt: skip
    assert [c for c, _ in sent] == [CommandType.Error]
