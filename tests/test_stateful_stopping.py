"""Random interleavings of ask/tell/fail/report (with stops), late calls after a stop, bad
reports, snapshots and the asynchronous mode, checked by invariants and by an event replay."""

from __future__ import annotations

import json
import math
from collections import defaultdict
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
from hyperband import CONTINUE, DONE, STOP, WAIT, Hyperband, Job, MedianRule, RungRule
from hyperband.testing import machine_params

from .machine_model import Record

SPACE: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}


class AnyPeerAhead:
    """Stops often, and depends on the rung's curves (a snapshot that lost them would show)."""

    def should_stop(self, view: hyperband.StopView) -> bool:
        ahead = [p for p in view.rung_peers() if (p.value_at(view.step) or math.inf) < view.loss]
        return bool(ahead)


class WorseThanASegmentPeer:
    """Depends on the succeeded curves of the job's budget segment."""

    def should_stop(self, view: hyperband.StopView) -> bool:
        finals = [curve[-1][1] for curve in view.segment_peers()]
        return bool(finals) and view.loss > min(finals)


class ViewsAgree:
    """Stops like AnyPeerAhead, and checks the machine's fast queries against the slow ones."""

    def should_stop(self, view: hyperband.StopView) -> bool:
        t = view.step
        slow = sorted(
            (loss, p.config_id) for p in view.rung_peers() if (loss := p.value_at(t)) is not None
        )
        assert sorted(view.values_at(t)) == slow
        averages = []
        for curve in view.segment_peers():
            losses = [loss for s, loss in curve if s <= t]
            if losses:
                averages.append(sum(losses) / len(losses))
        assert sorted(view.averages_at(t)) == pytest.approx(sorted(averages))
        return AnyPeerAhead().should_stop(view)


RULES = st.sampled_from(
    [
        None,
        "median",
        "rung",
        MedianRule(min_peers=1),
        RungRule(min_progress=0.5),
        RungRule(min_peers=2),
        AnyPeerAhead(),
        WorseThanASegmentPeer(),
        ViewsAgree(),
    ]
)
VALUES = st.one_of(st.sampled_from([0.0, 1.0, 2.0, -1.0]), st.integers(-3, 3))


class StopRecord(Record):
    """The model of DESIGN.md section 4, plus stops and the asynchronous mode."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stopped: dict[int, tuple[float, float]] = {}  # job id -> (step, value)
        self.reported: dict[int, float] = {}  # job id -> last step

    def resolved(self, job_id: int) -> bool:
        return super().resolved(job_id) or job_id in self.stopped

    def check_promotion(self, job: Job) -> None:
        """An asynchronous promotion (asked before ``job`` is recorded) takes the best
        configuration of its lower rung not promoted yet: the least (signed value, config id)
        of that rung's successes."""
        lower = [
            j
            for j in self.jobs.values()
            if (j.bracket, j.rung) == (job.bracket, job.rung - 1) and j.id in self.values
        ]
        promoted = {
            j.config_id
            for j in self.jobs.values()
            if (j.bracket, j.rung) == (job.bracket, job.rung)
        }
        candidates = sorted(
            (self.signed(self.values[j.id]), j.config_id)
            for j in lower
            if j.config_id not in promoted
        )
        assert candidates, "promoted from a rung with nothing left to promote"
        assert job.config_id == candidates[0][1], (
            f"promoted config {job.config_id}, the best unpromoted is {candidates[0][1]}"
        )

    def check_async(self, iterations: int, eta: float, adaptive: bool = False) -> None:
        """A finished asynchronous run: every rung promoted exactly floor(r / eta) of its
        r results (successes and stops), only successes, each resumed from its lower job.
        ``adaptive``: the brackets of new configurations drawn, so only their number and
        their numbering (the c-th of bracket s in iteration c // n_s) are fixed."""
        assert all(self.resolved(j) for j in self.jobs), "DONE with unresolved jobs"
        rungs: dict[int, dict[int, list[Job]]] = defaultdict(lambda: defaultdict(list))
        for job in self.jobs.values():
            rungs[job.bracket][job.rung].append(job)
        fresh = sum(len(rungs[b.s][0]) for b in self.sched.brackets)
        assert fresh == iterations * sum(b.rungs[0].n_configs for b in self.sched.brackets)
        for b in self.sched.brackets:
            plan = b.rungs
            started = sorted(rungs[b.s][0], key=lambda j: j.config_id)
            n = plan[0].n_configs
            assert [j.iteration for j in started] == [c // n for c in range(len(started))]
            if not adaptive:
                assert len(started) == iterations * n, f"bracket {b.s} rung 0"
            for i, plan_rung in enumerate(plan):
                jobs = rungs[b.s].get(i, [])
                assert all(j.budget == plan_rung.budget for j in jobs)
                if i + 1 == len(plan):
                    continue
                upper = rungs[b.s].get(i + 1, [])
                ok = [j for j in jobs if j.id in self.values]
                r = len(ok) + sum(j.id in self.stopped for j in jobs)
                expected = min(len(ok), math.floor(r / eta + 1e-9))
                assert len(upper) == expected, f"bracket {b.s} rung {i + 1}"
                by_config = {j.config_id: j for j in jobs}
                for j in upper:
                    prev = by_config[j.config_id]
                    assert prev.id in self.values, "a failed or stopped job was promoted"
                    assert (j.resume_from, j.previous_budget) == (prev.id, prev.budget)


class StoppingRun(RuleBasedStateMachine):
    hb: Hyperband
    # The teardown tells the pending jobs once this many are out (None: only at WAIT).
    width: int | None = None

    @initialize(
        params=machine_params(exec_modes=("parallelism", "serial", "asynchronous")),
        early_stop=RULES,
        brackets=st.sampled_from(["cycle", "adaptive"]),
    )
    def start(self, params: dict[str, Any], early_stop: Any, brackets: str = "cycle") -> None:
        params = {**params, "brackets": brackets}
        self.params = params
        self.hb = Hyperband(SPACE, **params, early_stop=early_stop)
        self.rule = early_stop
        self.rec = StopRecord(self.hb.schedule, self.hb.mode)
        # Every call and its outcome, replayed into a fresh machine at the end.
        self.events: list[tuple[str, tuple[Any, ...], Any]] = []

    def _outcome(self, kind: str, args: tuple[Any, ...], out: Any) -> None:
        if isinstance(out, Job):
            out = out.to_dict()
        elif isinstance(out, hyperband.Result):
            out = (out.status, out.value, out.step, out.job.id)
        self.events.append((kind, args, out))

    # ------------------------------------------------------------------ rules

    @rule()
    def ask(self) -> None:
        pending_before = bool(self.hb.pending)
        job = self.hb.ask()
        self._outcome("ask", (), job)
        if job is WAIT:
            assert pending_before, "WAIT with nothing pending"
            return
        if job is DONE:
            assert not pending_before
            assert self.hb.done
            return
        assert isinstance(job, Job)
        if self.params["exec_mode"] == "asynchronous" and job.resume_from is not None:
            self.rec.check_promotion(job)
        self.rec.asked(job)
        assert job.budget == self.hb.schedule.bracket(job.bracket).rungs[job.rung].budget
        if job.resume_from is not None:
            assert job.resume_from in self.rec.values, "promoted a job that did not succeed"

    @precondition(lambda self: bool(self.hb.pending))
    @rule(data=st.data(), value=VALUES)
    def tell(self, data: st.DataObject, value: Any) -> None:
        job = data.draw(st.sampled_from(self.hb.pending))
        res = self.hb.tell(job.id, value)
        self._outcome("tell", (job.id, value), res)
        assert res.status == "succeeded"
        self.rec.values[job.id] = float(value)

    @precondition(lambda self: bool(self.hb.pending))
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.hb.pending))
        res = self.hb.fail(job.id, "boom")
        self._outcome("fail", (job.id,), res)
        assert res.status == "failed"
        self.rec.failed.add(job.id)

    @precondition(lambda self: bool(self.hb.pending))
    @rule(data=st.data(), value=VALUES, where=st.sampled_from([0.25, 0.5, 0.75, 1.0]))
    def report(self, data: st.DataObject, value: Any, where: float) -> None:
        job = data.draw(st.sampled_from(self.hb.pending))
        start = job.previous_budget or 0
        # A few shared steps, so that jobs meet at the same steps often.
        # At most the budget: start + (budget - start) * 1.0 may round past it (1.344 + 2.016).
        step = min(
            job.budget, max(start + (job.budget - start) * where, self.rec.reported.get(job.id, 0))
        )
        decision = self.hb.report(job.id, step, value)
        self._outcome("report", (job.id, step, value), decision)
        self.rec.reported[job.id] = step
        if self.rule is None:
            assert decision is CONTINUE
        if decision is STOP:
            self.rec.stopped[job.id] = (step, float(value))
            assert job not in self.hb.pending
        else:
            assert decision is CONTINUE

    @precondition(lambda self: bool(self.rec.stopped))
    @rule(data=st.data(), kind=st.sampled_from(["tell", "fail", "report"]))
    def late_call_after_a_stop_changes_nothing(self, data: st.DataObject, kind: str) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.rec.stopped)))
        before = self.hb.snapshot()
        if kind == "tell":
            res: Any = self.hb.tell(job_id, 5.0)
        elif kind == "fail":
            res = self.hb.fail(job_id, "late")
        else:
            res = self.hb.report(job_id, self.rec.jobs[job_id].budget, 5.0)
        self._outcome(f"late-{kind}", (job_id,), res)
        if kind == "report":
            assert res is STOP
        else:
            step, value = self.rec.stopped[job_id]
            assert (res.status, res.value) == ("stopped", value)
            assert res.step == pytest.approx(step)
        assert self.hb.snapshot() == before

    @precondition(lambda self: bool(self.hb.pending))
    @rule(data=st.data())
    def bad_report_changes_nothing(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.hb.pending))
        start = job.previous_budget or 0
        last = self.rec.reported.get(job.id)
        bad = [
            (job.id, start, 0.0),  # the segment is open at its start
            (job.id, job.budget * 1.5 + 1, 0.0),  # past the budget
            (job.id, job.budget, math.nan),
            (job.id, job.budget, {"loss": 1.0}),
            (job.id, "1", 0.0),
            (job.id, math.inf, 0.0),
            (self.hb.n_asked + 3, job.budget, 0.0),
        ]
        if last is not None and last > start + 1e-9:
            bad.append((job.id, (start + last) / 2 if (start + last) / 2 < last else start, 0.0))
        args = data.draw(st.sampled_from(bad))
        before = self.hb.snapshot()
        with pytest.raises(hyperband.HyperbandError):
            self.hb.report(*args)
        assert self.hb.snapshot() == before

    @rule()
    def snapshot_round_trip(self) -> None:
        state = self.hb.snapshot()
        custom = self.rule is not None and not isinstance(self.rule, str | MedianRule | RungRule)
        twin = Hyperband.restore(
            json.loads(json.dumps(state)), early_stop=self.rule if custom else None
        )
        assert json.loads(json.dumps(twin.snapshot())) == json.loads(json.dumps(state))
        self.hb = twin

    # ------------------------------------------------------------------ invariants

    @invariant()
    def pending_matches_the_record(self) -> None:
        if not hasattr(self, "hb"):
            return
        unresolved = [j for j in self.rec.jobs if not self.rec.resolved(j)]
        assert [j.id for j in self.hb.pending] == unresolved

    @invariant()
    def best_is_never_a_stopped_job(self) -> None:
        if hasattr(self, "hb"):
            self.rec.check_best(self.hb.best)
            best = self.hb.best
            assert best is None or best.job_id not in self.rec.stopped

    @invariant()
    def counters_add_up(self) -> None:
        if not hasattr(self, "hb"):
            return
        stats = self.hb.stats
        assert stats.n_stopped == len(self.rec.stopped)
        assert stats.n_asked == len(self.rec.jobs)
        if self.params["exec_mode"] != "asynchronous":
            assert stats.n_mispromoted == 0

    def teardown(self) -> None:
        if not hasattr(self, "hb"):
            return
        n = 0
        while not self.hb.done:
            job = self.hb.ask()
            self._outcome("ask", (), job)
            if isinstance(job, Job):
                if self.params["exec_mode"] == "asynchronous" and job.resume_from is not None:
                    self.rec.check_promotion(job)
                self.rec.asked(job)
                if self.width is None or len(self.hb.pending) < self.width:
                    continue
            for j in self.hb.pending:
                value = float((j.config_id * 7919 + n) % 5)
                n += 1
                res = self.hb.tell(j.id, value)
                self._outcome("tell", (j.id, value), res)
                self.rec.values[j.id] = value
        adaptive = self.params["brackets"] == "adaptive"
        if self.params["exec_mode"] == "asynchronous":
            self.rec.check_async(self.params["iterations"], float(self.params["eta"]), adaptive)
        else:
            self.rec.check_complete(self.params["iterations"], adaptive)
        self.rec.check_best(self.hb.best)
        self._replay()

    def _replay(self) -> None:
        """The same events give the same decisions: a fresh machine, fed the same calls."""
        fresh = Hyperband(SPACE, **self.params, early_stop=self.rule)
        for kind, args, out in self.events:
            if kind == "ask":
                got: Any = fresh.ask()
                got = got.to_dict() if isinstance(got, Job) else got
            elif kind in ("tell", "late-tell"):
                got = fresh.tell(args[0], 5.0 if kind == "late-tell" else args[1])
            elif kind in ("fail", "late-fail"):
                got = fresh.fail(args[0], "boom")
            elif kind == "report":
                got = fresh.report(*args)
            else:
                got = fresh.report(args[0], self.rec.jobs[args[0]].budget, 5.0)
            if isinstance(got, hyperband.Result):
                got = (got.status, got.value, got.step, got.job.id)
            assert got == out, (kind, args)


StoppingRun.TestCase.settings = settings(max_examples=100, stateful_step_count=60, deadline=None)
TestStoppingRun = StoppingRun.TestCase


class ViewsRun(StoppingRun):
    """The same random runs, every report judged by ViewsAgree (fast queries == slow ones)."""

    @initialize(params=machine_params(exec_modes=("parallelism", "asynchronous")))
    def start(self, params: dict[str, Any]) -> None:  # type: ignore[override]
        super().start(params, ViewsAgree())


ViewsRun.TestCase.settings = settings(max_examples=60, stateful_step_count=60, deadline=None)
TestViewsRun = ViewsRun.TestCase


class AdaptiveRun(StoppingRun):
    """The same random runs, asynchronous with adaptive brackets, long enough that the
    draws begin (after max_budget has results, before the last new configuration): the
    teardown tells as it asks, as a study with a few workers would."""

    width = 3

    @initialize(
        params=machine_params(exec_modes=("asynchronous",)),
        early_stop=RULES,
        max_budget=st.sampled_from([8, 9, 27]),
        iterations=st.integers(4, 7),
    )
    def start(  # type: ignore[override]
        self, params: dict[str, Any], early_stop: Any, max_budget: int, iterations: int
    ) -> None:
        params = {**params, "max_budget": max_budget, "iterations": iterations}
        super().start(params, early_stop, "adaptive")


AdaptiveRun.TestCase.settings = settings(max_examples=60, stateful_step_count=80, deadline=None)
TestAdaptiveRun = AdaptiveRun.TestCase
