"""Early stopping: report(), the stopped status, the rules as written in their docs."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband import CONTINUE, STOP, Hyperband, Job, MedianRule, Peer, RungRule, StopView
from hyperband.core.stopping import make_rule, rule_spec

SPACE: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}


def _job(config_id: int = 0, budget: float = 9, previous: float | None = None) -> Job:
    return Job(0, {"x": 0.5}, config_id, budget, 2, 0 if previous is None else 1, 0, previous)


def _view(
    loss: float,
    step: float,
    *,
    curve: tuple[tuple[float, float], ...] | None = None,
    peers: tuple[Peer, ...] = (),
    segment: tuple[tuple[tuple[float, float], ...], ...] = (),
    k: int = 3,
    job: Job | None = None,
) -> StopView:
    return StopView(
        job or _job(),
        step,
        loss,
        curve if curve is not None else ((step, loss),),
        k,
        9,
        3.0,
        rung_peers=lambda: peers,
        segment_peers=lambda: segment,
    )


# --------------------------------------------------------------------------- value_at


def test_value_at_is_the_last_point_at_or_before_the_step() -> None:
    curve = ((1.0, 5.0), (3.0, 4.0), (3.0, 3.5), (6.0, 1.0))
    assert hyperband.value_at(curve, 0.5) is None
    assert hyperband.value_at(curve, 1.0) == 5.0
    assert hyperband.value_at(curve, 2.9) == 5.0
    assert hyperband.value_at(curve, 3.0) == 3.5  # the later report at a step counts
    assert hyperband.value_at(curve, 100) == 1.0


def test_a_peer_has_a_value_only_where_it_has_reached() -> None:
    running = Peer(1, "running", ((1.0, 2.0), (2.0, 1.0)))
    assert running.value_at(2.0) == 1.0
    assert running.value_at(3.0) is None  # not there yet: its value at 3 is unknown
    done = Peer(2, "succeeded", ((1.0, 2.0), (9.0, 0.5)))
    assert done.value_at(3.0) == 2.0
    stopped = Peer(3, "stopped", ((1.0, 2.0), (4.0, 3.0)))
    assert stopped.value_at(4.0) == 3.0
    assert stopped.value_at(5.0) is None


# --------------------------------------------------------------------------- MedianRule


# Three rung peers well ahead at any step, so that the median rule's top-k guard (k=3) does
# not protect the job in the tests of the median itself.
AHEAD = tuple(Peer(i, "running", ((0.5, -9.0), (9.0, -9.0))) for i in (7, 8, 9))


def test_median_rule_compares_the_best_so_far_with_the_median_running_average() -> None:
    segment = (
        ((1.0, 1.0), (2.0, 1.0), (9.0, 1.0)),  # running average at 2: 1.0
        ((1.0, 5.0), (2.0, 1.0), (9.0, 0.0)),  # 3.0
        ((2.0, 5.0), (9.0, 0.0)),  # 5.0
        ((3.0, 0.0), (9.0, 0.0)),  # no report at or before 2: not counted
    )
    rule = MedianRule(min_peers=3)
    # The job's best so far is what counts, not its latest value.
    curve = ((1.0, 3.0), (2.0, 3.5))
    assert not rule.should_stop(
        _view(3.5, 2.0, curve=curve, segment=segment, peers=AHEAD)
    )  # best 3.0
    curve = ((1.0, 3.2), (2.0, 3.5))
    assert rule.should_stop(_view(3.5, 2.0, curve=curve, segment=segment, peers=AHEAD))  # 3.2 > 3.0
    # Too few peers at the step: go on (and be judged again later).
    assert not MedianRule(min_peers=4).should_stop(_view(9.0, 2.0, segment=segment, peers=AHEAD))
    # An even number of peers: the mean of the two middle values.
    # At step 1 the running averages are 1.0 and 5.0: the median is 3.0, and equal is not worse.
    assert MedianRule(min_peers=2).should_stop(_view(3.01, 1.0, segment=segment[:2], peers=AHEAD))
    assert not MedianRule(min_peers=2).should_stop(
        _view(3.0, 1.0, segment=segment[:2], peers=AHEAD)
    )


def test_median_rule_never_stops_a_job_its_rung_would_still_promote() -> None:
    """The guard: worse than the segment's median, but among its rung's top k at the step."""
    segment = tuple(((1.0, 0.0), (9.0, 0.0)) for _ in range(3))
    two_ahead = AHEAD[:2]
    assert not MedianRule().should_stop(_view(5.0, 1.0, segment=segment, peers=two_ahead, k=3))
    assert MedianRule().should_stop(_view(5.0, 1.0, segment=segment, peers=two_ahead, k=2))
    # A last rung (k = 0) keeps its best job.
    assert not MedianRule().should_stop(_view(5.0, 1.0, segment=segment, peers=(), k=0))


def test_min_progress_holds_judgement_until_that_fraction_of_the_segment() -> None:
    segment = tuple(((1.0, 0.0), (9.0, 0.0)) for _ in range(3))
    job = _job(budget=9, previous=3)  # segment (3, 9]
    early = _view(9.0, 4.0, segment=segment, job=job, peers=AHEAD)  # 1/6 of the way
    late = _view(9.0, 6.0, segment=segment, job=job, peers=AHEAD)  # half way
    rule = MedianRule(min_progress=0.5)
    assert not rule.should_stop(early)
    assert rule.should_stop(late)
    # Progress counts from the segment's start, not from step 0: step 5 is 1/3 of (3, 9]
    # (though 5/9 of the budget), too early for either rule.
    third = _view(9.0, 5.0, segment=segment, job=job, peers=AHEAD)
    for rule in (MedianRule(min_progress=0.5), RungRule(min_peers=1, min_progress=0.5)):
        assert not rule.should_stop(third), rule
        assert type(rule)(min_peers=1).should_stop(third), rule  # it would stop, judged


# --------------------------------------------------------------------------- RungRule


def test_rung_rule_stops_when_k_peers_are_ahead_at_the_same_step() -> None:
    peers = (
        Peer(1, "running", ((2.0, 0.1),)),
        Peer(2, "succeeded", ((1.0, 0.2), (9.0, 0.0))),
        Peer(3, "stopped", ((2.0, 0.3),)),
        Peer(4, "running", ((1.0, 0.0),)),  # has not reached 2: ignored
    )
    rule = RungRule()
    assert rule.should_stop(_view(0.5, 2.0, peers=peers, k=3))
    assert not rule.should_stop(_view(0.25, 2.0, peers=peers, k=3))  # only 2 ahead
    assert not rule.should_stop(_view(0.5, 2.0, peers=peers, k=4))  # only 3 peers there


def test_rung_rule_breaks_ties_by_config_id_like_promotions() -> None:
    peers = (Peer(1, "running", ((2.0, 0.5),)),)
    assert RungRule().should_stop(_view(0.5, 2.0, peers=peers, k=1, job=_job(config_id=5)))
    assert not RungRule().should_stop(_view(0.5, 2.0, peers=peers, k=1, job=_job(config_id=0)))


def test_rung_rule_on_a_last_rung_keeps_only_jobs_that_can_still_be_best() -> None:
    peers = (Peer(1, "running", ((2.0, 0.1),)),)
    assert RungRule().should_stop(_view(0.5, 2.0, peers=peers, k=0))
    assert not RungRule().should_stop(_view(0.05, 2.0, peers=peers, k=0))


def test_rung_rule_min_peers() -> None:
    peers = (Peer(1, "running", ((2.0, 0.1),)),)
    assert not RungRule(min_peers=2).should_stop(_view(0.5, 2.0, peers=peers, k=1))


def test_rules_validate_their_arguments() -> None:
    with pytest.raises(hyperband.ConfigurationError, match="min_peers must be >= 1, got 0"):
        MedianRule(min_peers=0)
    with pytest.raises(hyperband.ArgumentTypeError, match="min_peers must be an int"):
        RungRule(min_peers=1.5)  # type: ignore[arg-type]
    with pytest.raises(hyperband.ConfigurationError, match=r"min_progress must be in \[0, 1\)"):
        RungRule(min_progress=1.0)
    with pytest.raises(hyperband.ConfigurationError, match="early_stop must be None, one of"):
        Hyperband(SPACE, max_budget=9, early_stop="mean")
    with pytest.raises(hyperband.ArgumentTypeError, match="should_stop"):
        Hyperband(SPACE, max_budget=9, early_stop=3)


def test_rule_specs_round_trip() -> None:
    rule = RungRule(min_peers=2, min_progress=0.25)
    spec = rule_spec(rule)
    assert spec == {"name": "rung", "options": {"min_peers": 2, "min_progress": 0.25}}
    again = make_rule(json.loads(json.dumps(spec)))
    assert isinstance(again, RungRule)
    assert again.options == rule.options
    hb = Hyperband(SPACE, max_budget=9, early_stop="median")
    assert hb.params["early_stop"] == {"name": "median", "options": MedianRule().options}


# --------------------------------------------------------------------------- the machine


def _first(hb: Hyperband) -> Job:
    job = hb.ask()
    assert isinstance(job, Job)
    return job


def test_without_a_rule_reports_are_recorded_and_always_continue() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    job = _first(hb)
    assert hb.report(job.id, 0.5, 1.0) is CONTINUE
    assert hb.report(job.id, 1, -1e9) is CONTINUE
    assert hb.stats.n_reports == 2
    hb.tell(job.id, 1.0)
    assert hb.snapshot()["reports"] == []  # forgotten once the job is resolved


@pytest.mark.parametrize(
    ("step", "value", "error", "message"),
    [
        (0, 1.0, hyperband.ConfigurationError, r"must be in \(0, 1\]"),
        (1.5, 1.0, hyperband.ConfigurationError, r"must be in \(0, 1\]"),
        (math.nan, 1.0, hyperband.ConfigurationError, "must be finite"),
        ("1", 1.0, hyperband.ArgumentTypeError, "must be a real number"),
        (True, 1.0, hyperband.ArgumentTypeError, "must be a real number"),
        (1, math.nan, hyperband.InvalidResultError, "finite"),
        (1, None, hyperband.InvalidResultError, "finite real number"),
        (1, {"loss": 1}, hyperband.InvalidResultError, "'default' key"),
    ],
)
def test_bad_reports_raise_and_change_nothing(
    step: Any, value: Any, error: type[Exception], message: str
) -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0, early_stop="rung")
    job = _first(hb)
    before = hb.snapshot()
    with pytest.raises(error, match=message):
        hb.report(job.id, step, value)
    assert hb.snapshot() == before


def test_a_report_must_not_go_back_and_must_name_a_pending_job() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    job = _first(hb)
    hb.report(job.id, 0.75, 1.0)
    hb.report(job.id, 0.75, 2.0)  # the same step again is fine
    with pytest.raises(hyperband.ConfigurationError, match=r"must not go backwards.*0\.75"):
        hb.report(job.id, 0.5, 1.0)
    with pytest.raises(hyperband.UnknownJobError):
        hb.report(99, 1, 1.0)
    hb.tell(job.id, 1.0)
    with pytest.raises(hyperband.JobResolvedError):
        hb.report(job.id, 1, 1.0)


def test_a_promotion_reports_within_its_segment() -> None:
    hb = Hyperband(SPACE, max_budget=3, eta=3, seed=0, exec_mode="serial")
    jobs = [_first(hb) for _ in range(3)]
    for j in jobs:
        hb.tell(j.id, j.config["x"])
    promoted = _first(hb)
    assert promoted.previous_budget == 1
    with pytest.raises(hyperband.ConfigurationError, match=r"must be in \(1, 3\]"):
        hb.report(promoted.id, 1, 0.0)
    assert hb.report(promoted.id, 2, 0.0) is CONTINUE


class StopAll:
    def should_stop(self, view: StopView) -> bool:
        return True


def test_a_stopped_job_is_resolved_never_promoted_and_frees_its_rung() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="serial", early_stop=StopAll())
    first = [_first(hb) for _ in range(9)]  # bracket s=2: 9 at 1, 3 at 3, 1 at 9
    assert hb.report(first[0].id, 0.5, 100.0) is STOP
    assert first[0] not in hb.pending
    assert hb.stats.n_stopped == 1
    for j in first[1:]:
        hb.tell(j.id, j.config["x"])
    promoted = [_first(hb) for _ in range(3)]
    assert first[0].config_id not in {p.config_id for p in promoted}
    ranked = sorted(first[1:], key=lambda j: -j.config["x"])
    assert [p.config_id for p in promoted] == [j.config_id for j in ranked[:3]]


def test_late_calls_for_a_stopped_job_return_its_stopped_result() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0, early_stop=StopAll(), mode="minimize")
    job = _first(hb)
    assert hb.report(job.id, 0.5, {"default": 0.25, "acc": 1}) is STOP
    before = hb.snapshot()
    late = hb.tell(job.id, 0.01)
    assert (late.status, late.value, late.step, late.job) == ("stopped", 0.25, 0.5, job)
    assert hb.fail(job.id, "killed") == late
    assert hb.report(job.id, 1, 0.0) is STOP
    assert hb.snapshot() == before
    assert hb.best is None  # never from a stopped job
    with pytest.raises(hyperband.InvalidResultError):
        hb.tell(job.id, math.nan)  # still validated


def test_the_sampler_observes_a_stopped_job_at_the_step_it_reached() -> None:
    seen: list[tuple[Any, Any, Any]] = []

    class Observer:
        def sample(self, rng: Any, n: int, *, pending: Any = ()) -> list[dict[str, Any]]:
            return [{"x": float(rng.random())} for _ in range(n)]

        def observe(self, config: Any, budget: Any, loss: Any) -> None:
            seen.append((config, budget, loss))

    hb = Hyperband(Observer(), max_budget=9, seed=0, early_stop=StopAll())
    job = _first(hb)
    hb.report(job.id, 0.5, 2.0)
    assert seen == [(job.config, 0.5, -2.0)]


def test_the_rung_rule_in_a_machine_stops_jobs_that_cannot_make_the_top_k() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="serial", early_stop="rung")
    jobs = [_first(hb) for _ in range(9)]  # rung 0 promotes 3; every budget is 1
    # Three jobs reach step 0.5 with good values; the others then report worse there.
    for j, v in zip(jobs[:3], (0.9, 0.8, 0.7), strict=True):
        assert hb.report(j.id, 0.5, v) is CONTINUE
    assert hb.report(jobs[3].id, 0.5, 0.75) is CONTINUE  # beats one of them: could be top 3
    assert hb.report(jobs[4].id, 0.5, 0.6) is STOP  # 4 ahead at the same step
    assert hb.report(jobs[5].id, 0.75, 0.5) is CONTINUE  # nobody else has reached 0.75 yet
    # Peers count at a step once they have reached it: jobs 0-2 now report at step 0.75.
    for j, v in zip(jobs[:3], (0.9, 0.8, 0.7), strict=True):
        assert hb.report(j.id, 0.75, v) is CONTINUE
    assert hb.report(jobs[6].id, 0.75, 0.6) is STOP  # 0.9, 0.8, 0.7 ahead at step 0.75
    assert hb.report(jobs[7].id, 0.75, 0.75) is CONTINUE  # only 0.9 and 0.8 ahead
    # Job 5, the first to reach step 0.75, is judged again at its next report.
    assert hb.report(jobs[5].id, 0.75, 0.5) is STOP
    # A report at the budget itself is never judged: stopping then saves nothing.
    assert hb.report(jobs[8].id, 1, 0.0) is CONTINUE


def test_asynchronous_mode_promotes_as_soon_as_the_top_third_exists() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="asynchronous", mode="minimize")
    assert hb.schedule.bracket(2).rungs[0].n_configs == 9
    first = _first(hb)
    assert first.bracket == 2  # the order starts with the most aggressive bracket
    # The order interleaves the brackets (2, 1, 2, 0, ...): ask until bracket 2 has three
    # jobs on its first rung; the others stay pending, so only bracket 2 can promote.
    rung0 = [first]
    while len(rung0) < 3:
        job = _first(hb)
        assert job.rung == 0
        if job.bracket == 2:
            rung0.append(job)
    # Two results: floor(2 / 3) == 0, nothing to promote yet.
    values = {rung0[0].id: 0.5, rung0[1].id: 0.1, rung0[2].id: 0.9}
    for j in rung0[:2]:
        hb.tell(j.id, values[j.id])
    assert _first(hb).rung == 0
    # The third result makes a top third of one: the best (the middle one told), at once.
    hb.tell(rung0[2].id, values[rung0[2].id])
    nxt = _first(hb)
    best = rung0[1]
    assert (nxt.bracket, nxt.rung, nxt.budget) == (2, 1, 3)
    assert (nxt.config_id, nxt.resume_from, nxt.previous_budget) == (best.config_id, best.id, 1)
    # Only one of three: the next job starts a configuration again.
    assert _first(hb).rung == 0


def test_asynchronous_mode_balances_brackets_and_ends() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="asynchronous", iterations=2)
    counts: dict[tuple[int, int], int] = {}
    while not hb.done:
        job = _first(hb)
        counts[job.bracket, job.rung] = counts.get((job.bracket, job.rung), 0) + 1
        hb.tell(job.id, job.config["x"])
    sched = hb.schedule
    for b in sched.brackets:
        assert counts[b.s, 0] == 2 * b.rungs[0].n_configs
    # A sequential run promotes exactly floor(r / eta) per rung, like successive halving.
    assert counts[2, 1] == 6
    assert counts[2, 2] == 2
    assert hb.ask() is hyperband.DONE


def test_asynchronous_mode_with_a_random_sampler_starts_the_same_configurations() -> None:
    def configs(exec_mode: str) -> list[Any]:
        hb = Hyperband(SPACE, max_budget=9, eta=3, seed=4, exec_mode=exec_mode)
        out = []
        while not hb.done:
            job = _first(hb)
            if job.rung == 0:
                out.append(job.config["x"])
            hb.tell(job.id, job.config["x"])
        return sorted(out)

    assert configs("asynchronous") == configs("parallelism")


def test_asynchronous_mode_counts_mispromotions() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="asynchronous", mode="minimize")
    values = iter([0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1, -0.2, -0.3] + [9.0] * 100)
    promoted_first = None
    while not hb.done:
        job = _first(hb)
        if job.bracket == 2 and job.rung == 1 and promoted_first is None:
            promoted_first = job.config_id
        hb.tell(job.id, next(values) if job.bracket == 2 and job.rung == 0 else 1.0)
    # Values improve over time, so the early promotions from bracket 2's rung 0 are not in
    # its final top third.
    assert hb.stats.n_mispromoted >= 1
    assert promoted_first is not None


def test_unlimited_asynchronous_mode_is_never_done() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0, exec_mode="asynchronous", iterations=None)
    for _ in range(200):
        job = _first(hb)
        hb.tell(job.id, 0.0)
    assert not hb.done


@pytest.mark.parametrize("exec_mode", ["parallelism", "asynchronous"])
def test_snapshot_with_reports_and_stops_continues_identically(exec_mode: str) -> None:
    def drive(hb: Hyperband, rng: np.random.Generator, n: int, running: list[Any]) -> list[Any]:
        log: list[Any] = []
        for _ in range(n):
            while len(running) < 4:
                job = hb.ask()
                if not isinstance(job, Job):
                    break
                running.append([job, job.previous_budget or 0])
                log.append(("ask", job.id, job.config_id, job.budget))
            if not running:
                break
            i = int(rng.integers(len(running)))
            job, step = running[i]
            step = min(job.budget, step + 1)
            value = job.config["x"] * step
            if step == job.budget:
                log.append(("tell", job.id, hb.tell(job.id, value).status))
                running.pop(i)
            else:
                decision = hb.report(job.id, step, value)
                log.append(("report", job.id, step, decision))
                running[i][1] = step
                if decision is STOP:
                    running.pop(i)
        return log

    hb = Hyperband(SPACE, max_budget=27, seed=1, exec_mode=exec_mode, early_stop="rung")
    running: list[Any] = []
    drive(hb, np.random.default_rng(0), 40, running)
    state = json.loads(json.dumps(hb.snapshot()))
    twin_running = [list(r) for r in running]
    rest = drive(hb, np.random.default_rng(1), 400, running)
    again = Hyperband.restore(state)
    assert rest == drive(again, np.random.default_rng(1), 400, twin_running)
    assert again.stats == hb.stats
    assert hb.stats.n_stopped > 0


class _Spy:
    """Records every view it judges; never stops."""

    def __init__(self) -> None:
        self.views: list[hyperband.StopView] = []

    def should_stop(self, view: hyperband.StopView) -> bool:
        self.views.append(view)
        return False


def test_asynchronous_views_count_the_jobs_started_and_see_the_last_rung() -> None:
    # StopView's docs: in "asynchronous" mode rung_size is the jobs started on the rung so far,
    # k is floor(rung_size / eta) (at least 1), and 0 on a bracket's last rung.
    spy = _Spy()
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="asynchronous", early_stop=spy)
    jobs = [_first(hb) for _ in range(14)]
    assert all(j.rung == 0 for j in jobs)
    b2 = [j for j in jobs if j.bracket == 2]
    assert len(b2) == 7
    hb.report(b2[0].id, 0.5, 1.0)
    view = spy.views[-1]
    assert (view.rung_size, view.k) == (7, 2)
    # A result changes neither: the rung still has seven jobs started.
    hb.tell(b2[1].id, 0.3)
    hb.tell(b2[2].id, 0.4)
    hb.report(b2[0].id, 0.75, 1.0)
    view = spy.views[-1]
    assert (view.rung_size, view.k) == (7, 2)
    # Bracket 0 has one rung (budget 9): its jobs are on the last rung, nothing goes on.
    b0 = [j for j in jobs if j.bracket == 0]
    assert b0
    assert hb.schedule.bracket(0).rungs[-1].budget == b0[0].budget == 9
    hb.report(b0[0].id, 4.5, 1.0)
    view = spy.views[-1]
    assert (view.rung_size, view.k) == (len(b0), 0)


def test_asynchronous_mode_promotes_to_the_largest_budget_first() -> None:
    # When several rungs can promote at one ask (results arrived together: a runner's batch
    # of finished futures, NNI, a resume), the promotion to the largest budget comes first.
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="asynchronous", iterations=1)
    jobs = [_first(hb) for _ in range(17)]
    assert all(j.rung == 0 for j in jobs)
    assert hb.ask() is hyperband.WAIT  # every new configuration of the iteration started
    for j in jobs:
        hb.tell(j.id, j.config["x"])
    order = []
    while isinstance(job := hb.ask(), Job):
        order.append((job.bracket, job.rung, job.budget))
    # Bracket 1 (budgets 3, 9) promotes to 9 before bracket 2 (budgets 1, 3, 9) promotes to 3.
    assert order == [(1, 1, 9), (2, 1, 3), (2, 1, 3), (2, 1, 3)]


def test_a_promoted_jobs_finished_curve_is_a_peer_of_its_own_segment_only() -> None:
    # segment_peers: the succeeded curves over the same (previous_budget or 0, budget].
    spy = _Spy()
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, early_stop=spy)
    first = [_first(hb) for _ in range(9)]
    assert {(j.bracket, j.rung, j.budget) for j in first} == {(2, 0, 1)}
    for i, j in enumerate(first):
        hb.report(j.id, 0.5, float(i))
        hb.tell(j.id, float(i))
    promoted = [_first(hb) for _ in range(3)]
    assert {(j.rung, j.previous_budget, j.budget) for j in promoted} == {(1, 1, 3)}
    a, b, c = promoted
    hb.report(a.id, 2.0, 0.0)
    assert spy.views[-1].segment_peers() == ()  # nothing on (1, 3] has finished
    hb.tell(a.id, 0.0)
    hb.report(b.id, 2.0, 1.0)
    # a's curve is the one peer of b's segment (1, 3], its points past the segment's start.
    peers = spy.views[-1].segment_peers()
    assert [[s for s, _ in curve] for curve in peers] == [[2.0, 3.0]]
    hb.tell(b.id, 1.0)
    hb.tell(c.id, 2.0)
    # Bracket 1 starts at budget 3 from scratch: segment (0, 3], which a and b never trained.
    while (job := _first(hb)).bracket == 2:
        hb.tell(job.id, 5.0)
    assert (job.bracket, job.rung, job.previous_budget) == (1, 0, None)
    hb.report(job.id, 1.5, 0.0)
    assert spy.views[-1].segment_peers() == ()
