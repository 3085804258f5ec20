"""Random interleavings of ask/tell/fail/snapshot/bad calls, checked by invariants."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import hyperband
from hyperband import DONE, WAIT, Hyperband, Job
from hyperband.testing import machine_params

from .machine_model import Record

SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "opt": {
        "_type": "choice",
        "_value": [
            {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0, 0.99]}},
            {"_name": "adam"},
        ],
    },
}

# Few distinct values, so ties (broken by config_id) happen often.
VALUES = st.one_of(
    st.sampled_from([0.0, 1.0, 2.0, -1.0]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.integers(-5, 5),
    st.builds(lambda v: {"default": v, "loss": -v}, st.sampled_from([0.5, 1.5])),
)
BAD_VALUES = st.sampled_from(
    [
        math.nan,
        math.inf,
        -math.inf,
        None,
        True,
        "0.5",
        [0.5],
        {"loss": 1.0},
        {"default": "x"},
        {"default": math.nan},
    ]
)


class MachineRun(RuleBasedStateMachine):
    hb: Hyperband
    rec: Record

    @initialize(params=machine_params(), brackets=st.sampled_from(["cycle", "adaptive"]))
    def start(self, params: dict[str, Any], brackets: str) -> None:
        self.params = {**params, "brackets": brackets}
        self.hb = Hyperband(SPACE, **self.params)
        self.rec = Record(self.hb.schedule, self.hb.mode)
        self.started: list[tuple[int, int]] = []  # brackets in the order their first job came
        self.total_brackets = params["iterations"] * len(self.hb.schedule.brackets)

    # ------------------------------------------------------------------ rules

    @rule()
    def ask(self) -> None:
        pending_before = {j.id for j in self.hb.pending}
        job = self.hb.ask()
        if job is WAIT:
            assert pending_before, "WAIT with nothing pending"
            if self.params["exec_mode"] == "parallelism":
                assert len(self.started) == self.total_brackets, (
                    "parallelism mode said WAIT while a bracket could start"
                )
            return
        if job is DONE:
            assert not pending_before
            assert len(self.started) == self.total_brackets
            assert self.hb.done
            return
        assert isinstance(job, Job)
        self.rec.asked(job)
        key = (job.iteration, job.bracket)
        if key not in self.started:
            if self.params["exec_mode"] == "serial":
                assert not pending_before, "serial mode started a bracket with jobs still out"
            self.started.append(key)
        elif self.params["exec_mode"] == "serial":
            assert key == self.started[-1], "serial mode went back to an older bracket"
        plan = self.hb.schedule.bracket(job.bracket).rungs[job.rung]
        assert job.budget == plan.budget

    @precondition(lambda self: bool(self.hb.pending))
    @rule(data=st.data(), value=VALUES)
    def tell(self, data: st.DataObject, value: Any) -> None:
        job = data.draw(st.sampled_from(self.hb.pending))
        res = self.hb.tell(job.id, value)
        assert res.status == "succeeded"
        assert res.job == job
        number = value["default"] if isinstance(value, dict) else value
        assert res.value == float(number)
        self.rec.values[job.id] = float(number)

    @precondition(lambda self: bool(self.hb.pending))
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.hb.pending))
        res = self.hb.fail(job.id, "boom")
        assert res.status == "failed"
        self.rec.failed.add(job.id)

    @rule()
    def snapshot_round_trip(self) -> None:
        state = self.hb.snapshot()
        twin = Hyperband.restore(json.loads(json.dumps(state)))
        assert twin.snapshot() == state
        self.hb = twin

    @rule(data=st.data(), value=BAD_VALUES)
    def bad_tell_changes_nothing(self, data: st.DataObject, value: Any) -> None:
        before = self.hb.snapshot()
        if self.hb.pending and data.draw(st.booleans()):
            job_id: Any = data.draw(st.sampled_from(self.hb.pending)).id
        else:
            job_id = data.draw(
                st.one_of(
                    st.integers(self.hb.n_asked, self.hb.n_asked + 5),
                    st.integers(-3, -1),
                    st.sampled_from(sorted(self.rec.values) or [-1]),
                    st.sampled_from(["0", 1.0, None]),
                )
            )
            value = 1.0
        with pytest.raises((ValueError, TypeError, KeyError)) as info:
            self.hb.tell(job_id, value)
        assert isinstance(info.value, hyperband.HyperbandError)
        assert self.hb.snapshot() == before

    # ------------------------------------------------------------------ invariants

    @invariant()
    def pending_matches_the_record(self) -> None:
        if not hasattr(self, "hb"):
            return
        unresolved = [j for j in self.rec.jobs if not self.rec.resolved(j)]
        assert [j.id for j in self.hb.pending] == unresolved

    @invariant()
    def serial_has_one_unfinished_bracket(self) -> None:
        if not hasattr(self, "hb") or self.params["exec_mode"] != "serial":
            return
        assert len({(j.iteration, j.bracket) for j in self.hb.pending}) <= 1
        assert len(self.hb.snapshot()["brackets"]) <= 1

    @invariant()
    def best_is_as_defined(self) -> None:
        if hasattr(self, "hb"):
            self.rec.check_best(self.hb.best)

    def teardown(self) -> None:
        if not hasattr(self, "hb"):
            return
        # Finish the run, then check every promotion against the full record. A broken
        # machine could loop for ever here (a snapshot that forgot its promotions promotes
        # again, overfills a rung, which then never closes: WAIT with nothing pending). Each
        # pass asks a job or tells one, and the schedule bounds both.
        n = 0
        limit = self.params["iterations"] * self.hb.schedule.total_jobs
        for _ in range(2 * limit + 1):
            if self.hb.done:
                break
            job = self.hb.ask()
            if isinstance(job, Job):
                self.rec.asked(job)
                continue
            assert self.hb.pending, f"the machine said {job} with nothing pending, not done"
            for j in self.hb.pending:
                value = float((j.config_id * 7919 + n) % 5)
                n += 1
                self.hb.tell(j.id, value)
                self.rec.values[j.id] = value
        else:
            raise AssertionError(f"the machine is not done after its schedule's {limit} jobs")
        self.rec.check_complete(self.params["iterations"], self.params["brackets"] == "adaptive")
        self.rec.check_best(self.hb.best)


MachineRun.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
# About 9 s of CPU (300 examples took 19 s, 73 s of wall time at a load average of 8, and
# under more load reached the suite's timeout). A machine that loops for ever fails the bounded
# teardown within seconds; shrinking that failure to a small example can then take minutes,
# which this timeout (pytest-timeout) bounds. The test below finds that bug at once.
TestMachineRun = pytest.mark.timeout(180)(MachineRun.TestCase)


def test_a_restored_machine_remembers_which_configurations_it_promoted() -> None:
    """The case the random runs took minutes to find: after a restore, a result lands inside
    the prefix of a rung already promoted, pushing a promoted configuration down a place. A
    snapshot that forgot its promotions promoted that configuration a second time."""
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="serial")
    first = [hb.ask() for _ in range(9)]  # bracket s=2, rung 0: 9 jobs, the top 3 go on
    assert all(isinstance(j, Job) and j.rung == 0 and j.bracket == 2 for j in first)
    jobs = [j for j in first if isinstance(j, Job)]
    for value, job in enumerate(jobs[:7]):
        hb.tell(job.id, float(value))  # 7 of 9 told: the best is certain to be in the top 3
    hb = Hyperband.restore(json.loads(json.dumps(hb.snapshot())))
    hb.tell(jobs[7].id, 100.0)  # a new best, ahead of the promoted one
    hb.tell(jobs[8].id, -1.0)
    promoted = []
    for _ in range(10):
        job = hb.ask()
        if not isinstance(job, Job) or job.rung != 1:
            break
        promoted.append(job.config_id)
    assert sorted(promoted) == sorted([jobs[7].config_id, jobs[6].config_id, jobs[5].config_id])
