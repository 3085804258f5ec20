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

    @initialize(params=machine_params())
    def start(self, params: dict[str, Any]) -> None:
        self.params = params
        self.hb = Hyperband(SPACE, **params)
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
        # Finish the run, then check every promotion against the full record.
        n = 0
        while not self.hb.done:
            job = self.hb.ask()
            if isinstance(job, Job):
                self.rec.asked(job)
                continue
            for j in self.hb.pending:
                value = float((j.config_id * 7919 + n) % 5)
                n += 1
                self.hb.tell(j.id, value)
                self.rec.values[j.id] = value
        self.rec.check_complete(self.params["iterations"])
        self.rec.check_best(self.hb.best)


MachineRun.TestCase.settings = settings(max_examples=300, stateful_step_count=60, deadline=None)
TestMachineRun = MachineRun.TestCase
