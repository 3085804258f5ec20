"""Why a job was stopped travels with it: in simulate()'s jobs as in run()'s records, and
through a journal replay even when the run ended before the stopped job's result was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hyperband

from .runner_helpers import CURVE_STUDY, SPACE, curve, reporting


def sim_curve(config: dict[str, Any], step: float) -> float:
    """Rising towards a quality set by x; most configurations are hopeless early on."""
    return config["x"] - 0.5 / (1.0 + step)


def test_simulate_keeps_the_curve_rule_s_explanation() -> None:
    sim = hyperband.simulate(
        27, 3, workers=4, curve=sim_curve, report_every=1, early_stop="curve", seed=0
    )
    stopped = sim.stopped
    assert stopped
    for job in stopped:
        why = job.extra["stop"]
        assert why["rule"] == "curve"
        assert why["budget"] == job.job.budget
        assert why["probability"] < 0.2  # the rule's default threshold
        low, high = why["interval_loss"]
        assert low <= why["median_loss"] <= high
        assert job.extra["stopped_at"] == job.step
    succeeded = [j for j in sim.jobs if j.status == "succeeded"]
    assert succeeded
    assert all(j.extra == {} for j in succeeded)


def test_simulate_keeps_the_rung_rule_s_explanation() -> None:
    sim = hyperband.simulate(27, 3, workers=4, curve=sim_curve, early_stop="rung", seed=0)
    assert sim.stopped
    for job in sim.stopped:
        why = job.extra["stop"]
        assert why["rule"] == "rung"
        assert why["step"] == job.step
        assert why["ahead"] >= why["k"] >= 1  # why it stopped: k peers ahead at the step
        assert why["edge_loss"] < why["loss"]


class Silent:
    """The rung rule's decisions without its explain()."""

    def should_stop(self, view: hyperband.StopView) -> bool:
        return hyperband.RungRule().should_stop(view)


def test_simulate_stops_by_a_rule_without_explanation_keep_their_step() -> None:
    sim = hyperband.simulate(27, 3, workers=4, curve=sim_curve, early_stop=Silent(), seed=0)
    assert sim.stopped
    assert all(j.extra == {"stopped_at": j.step} for j in sim.stopped)


def test_simulate_keeps_a_dict_result_s_other_keys() -> None:
    sim = hyperband.simulate(
        9, 3, workers=2, curve=lambda c, t: {"default": c["x"] * t, "loss": 1 - c["x"]}, seed=0
    )
    assert all(set(j.extra) == {"loss"} for j in sim.jobs)


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replay_without_the_stopped_job_s_result_keeps_its_explanation(tmp_path: Path) -> None:
    journal = tmp_path / "study.jsonl"
    result = hyperband.run(
        reporting, SPACE, **CURVE_STUDY, executor="serial", journal=journal, progress=False
    )
    stopped = [r for r in result.history if r.status == "stopped" and "stop" in r.extra]
    assert stopped, "the curve rule explained no stop"
    victim = stopped[0]
    # The run is killed after the stop was journaled, before the job's result was written.
    lines = journal.read_text().splitlines(keepends=True)
    cut = next(
        k
        for k, line in enumerate(lines)
        if json.loads(line).get("event") == "result"
        and json.loads(line).get("job_id") == victim.job.id
    )
    cut_journal = tmp_path / "cut.jsonl"
    cut_journal.write_text("".join(lines[:cut]))
    replayed = hyperband.RunResult.from_journal(cut_journal)
    record = next(r for r in replayed.history if r.job.id == victim.job.id)
    assert record.status == "stopped"
    assert record.extra["after_stop"] == "the run ended before the job did"
    assert record.extra["stop"] == victim.extra["stop"]
    assert record.extra["stopped_at"] == victim.extra["stopped_at"]
    assert record.value == curve(victim.job.config, victim.extra["stopped_at"])


def test_a_snapshot_keeps_the_explanation_of_its_stopped_jobs() -> None:
    hb = hyperband.Hyperband(SPACE, max_budget=27, early_stop="curve", seed=0)
    stopped: list[int] = []
    while not hb.done and len(stopped) < 3:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        start = job.previous_budget or 0
        for k in (1, 2, 3, 4):
            step = start + (job.budget - start) * k / 4
            if hb.report(job.id, step, curve(job.config, step)) is hyperband.STOP:
                stopped.append(job.id)
                break
        else:
            hb.tell(job.id, curve(job.config, job.budget))
    assert stopped
    state = json.loads(json.dumps(hb.snapshot()))
    restored = hyperband.Hyperband.restore(state)
    for job_id in stopped:
        before, after = hb.stopped_result(job_id), restored.stopped_result(job_id)
        assert before is not None
        assert after is not None
        assert before.extra["stop"]["rule"] == "curve"
        assert after.extra == before.extra


def test_the_rung_and_median_rules_explain_what_they_compared() -> None:
    from hyperband.core.stopping import Peer, StopView

    job = hyperband.Job(0, {}, 0, 9, 2, 0, 0)
    # Four rung peers at step 3 (losses 0.1, 0.2, 0.3, 0.6); the job is at 0.5 there.
    peers = tuple(
        Peer(i, "running", ((3, loss),))
        for i, loss in zip((1, 2, 3, 4), (0.3, 0.1, 0.6, 0.2), strict=True)
    )
    done = (((1, 0.5), (3, 0.3), (9, 0.2)), ((1, 0.4), (3, 0.2), (9, 0.1)))  # segment peers
    view = StopView(
        job, 3, 0.5, ((1, 0.7), (3, 0.5)), 2, 5, 3.0, rung_peers=lambda: peers,
        segment_peers=lambda: done,
    )  # fmt: skip
    rung = hyperband.RungRule()
    assert rung.should_stop(view)
    assert rung.explain(view) == {
        "rule": "rung", "step": 3, "loss": 0.5, "ahead": 3, "rung_peers": 4, "k": 2,
        "edge_loss": 0.2,
    }  # fmt: skip
    median = hyperband.MedianRule(min_peers=2)
    assert median.should_stop(view)
    # Running averages at 3: (0.5 + 0.3) / 2 = 0.4 and (0.4 + 0.2) / 2 = 0.3: the median 0.35.
    assert median.explain(view) == {
        "rule": "median", "step": 3, "best_loss": 0.5, "median_loss": pytest.approx(0.35),
        "peers": 2, "ahead": 3, "rung_peers": 4, "k": 2,
    }  # fmt: skip
