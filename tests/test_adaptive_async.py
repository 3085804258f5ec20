"""brackets="adaptive" in asynchronous mode: each new configuration's bracket drawn from the
trust weights (Hyper-Tune's ``∝ w(r_s) n_s``) once they are measured."""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband.core.adaptive import EXPLORE, BracketChooser
from hyperband.core.asha import bracket_order
from hyperband.core.errors import ConfigurationError

from .test_adaptive_brackets import SPACE, _value

ITERATIONS = 8


def _machine(brackets: str = "adaptive", **kw: Any) -> hyperband.Hyperband:
    options: dict[str, Any] = {
        "max_budget": 27,
        "eta": 3,
        "iterations": ITERATIONS,
        "seed": 4,
        "exec_mode": "asynchronous",
        "brackets": brackets,
    }
    return hyperband.Hyperband(SPACE, **{**options, **kw})


def _chooser(hb: hyperband.Hyperband) -> BracketChooser:
    chooser: BracketChooser = hb._brackets._chooser  # type: ignore[attr-defined]
    return chooser


def _drive(
    hb: hyperband.Hyperband, liar: bool, width: int = 1, limit: int = 100_000
) -> list[tuple[hyperband.Job, bool]]:
    """Keep up to ``width`` jobs out, telling the oldest first; each job with whether the
    chooser had trust weights when it was asked (before that, the balanced order holds)."""
    jobs: list[tuple[hyperband.Job, bool]] = []
    while len(jobs) < limit and not hb.done:
        measured = bool(_chooser(hb).trust())
        job = hb.ask()
        if isinstance(job, hyperband.Job):
            jobs.append((job, measured))
        if len(hb.pending) >= width or not isinstance(job, hyperband.Job):
            oldest = hb.pending[0]
            hb.tell(oldest.id, _value(oldest.config, oldest.budget, liar))
    return jobs


def _fresh(jobs: list[tuple[hyperband.Job, bool]]) -> list[tuple[hyperband.Job, bool]]:
    return [(j, m) for j, m in jobs if j.resume_from is None]


def _key(job: hyperband.Job) -> tuple[Any, ...]:
    return (job.id, job.config_id, job.config, job.budget, job.bracket, job.rung, job.iteration)


def test_the_balanced_order_holds_until_the_weights_are_measured_then_draws_begin() -> None:
    hb = _machine()
    jobs = _fresh(_drive(hb, liar=True))
    order = bracket_order(hb.schedule)
    cycled = [j.bracket for j, measured in jobs if not measured]
    assert cycled == [order[i % len(order)] for i in range(len(cycled))]
    drawn = [j.bracket for j, measured in jobs if measured]
    assert drawn, "the threshold was never reached"
    assert len(jobs) == ITERATIONS * len(order)  # iterations=N: N sum(n_s) new configurations
    # The cycle's jobs (config, budget, bracket) are a prefix of the adaptive study's.
    cycle = _fresh(_drive(_machine("cycle"), liar=True))
    n = len(cycled)
    assert [_key(j) for j, _ in cycle[:n]] == [_key(j) for j, _ in jobs[:n]]
    assert [j.bracket for j, _ in cycle[n:]] != drawn


def test_brackets_that_start_on_a_lying_budget_are_chosen_rarely() -> None:
    """Budgets below 27 rank configurations backwards: after the threshold the brackets that
    start on them get about the EXPLORE share only, and bracket 0 (it starts at 27) the rest.
    With honest budgets the draws keep the balanced order's split."""
    sizes = {b.s: b.rungs[0].n_configs for b in _machine().schedule.brackets}
    even = {s: n / sum(sizes.values()) for s, n in sizes.items()}  # the balanced order's split
    liars = _shares([j for j, m in _fresh(_drive(_machine(), liar=True)) if m])
    honest = _shares([j for j, m in _fresh(_drive(_machine(), liar=False)) if m])
    assert even[3] > 0.5  # the cycle starts most configurations in bracket 3, on budget 1
    assert liars[3] < 0.15
    assert liars[0] > 0.75
    assert abs(honest[3] - even[3]) < 0.1
    assert abs(honest[0] - even[0]) < 0.1


def _shares(jobs: list[hyperband.Job]) -> dict[int, float]:
    counts = collections.Counter(j.bracket for j in jobs)
    return {s: counts[s] / len(jobs) for s in range(4)}


def test_the_weights_are_hyper_tunes_share_of_new_configurations() -> None:
    hb = _machine()
    _drive(hb, liar=True, limit=400)
    chooser = _chooser(hb)
    trust = chooser.trust()
    sizes = {b.s: b.rungs[0].n_configs for b in hb.schedule.brackets}
    w = chooser.config_weights()
    assert sum(w.values()) == pytest.approx(1.0)
    trusted = sum(trust[s] * sizes[s] for s in sizes)
    for s, n in sizes.items():
        expected = (1 - EXPLORE) * trust[s] * n / trusted + EXPLORE * n / sum(sizes.values())
        assert w[s] == pytest.approx(expected)
    assert w[0] > 0.9  # the only honest budget is max_budget, where bracket 0 starts


def test_the_kept_weights_equal_fresh_ones_after_every_result() -> None:
    """The chooser keeps its weights until a result can change them: one at max_budget, or
    of a configuration already there. Fresh measurements after every ask and tell agree."""
    hb = _machine(iterations=3)
    chooser = _chooser(hb)
    changes = 0
    last: dict[int, float] = {}
    while not hb.done:
        job = hb.ask()
        if isinstance(job, hyperband.Job):
            x = job.config["x"]  # cheap budgets rank configurations roughly as 27 does
            noise = 0.0 if job.budget == 27 else math.sin(1e4 * x) * 9 / job.budget
            hb.tell(job.id, x + noise)
        kept = chooser.trust()
        fresh = chooser._measure()  # type: ignore[attr-defined]
        assert kept == fresh
        changes += kept != last
        last = kept
    assert changes > 5


@pytest.mark.parametrize("width", [1, 5])
def test_it_is_deterministic_for_a_seed_and_a_call_order(width: int) -> None:
    a = [_key(j) for j, _ in _drive(_machine(), liar=True, width=width)]
    b = [_key(j) for j, _ in _drive(_machine(), liar=True, width=width)]
    assert a == b
    other = [_key(j)[4] for j, _ in _drive(_machine(seed=5), liar=True, width=width)]
    assert [k[4] for k in a] != other


@pytest.mark.parametrize("liar", [False, True])
@pytest.mark.parametrize("width", [1, 7])
def test_every_bracket_keeps_its_schedule(liar: bool, width: int) -> None:
    """Budgets, ASHA's promotions (exactly floor(r / eta) of each rung's r results, each
    resumed from its own lower job), and the numbering of the configurations: the c-th of
    bracket s is configuration c % n_s of its iteration c // n_s, the one the synchronous
    modes draw there."""
    hb = _machine()
    jobs = [j for j, _ in _drive(hb, liar, width)]
    assert hb.done
    sched, eta = hb.schedule, 3
    rungs: dict[tuple[int, int], list[hyperband.Job]] = collections.defaultdict(list)
    for j in jobs:
        rungs[(j.bracket, j.rung)].append(j)
        assert j.budget == sched.bracket(j.bracket).rungs[j.rung].budget
    for b in sched.brackets:
        for i in range(len(b.rungs) - 1):
            lower, upper = rungs[(b.s, i)], rungs[(b.s, i + 1)]
            assert len(upper) == math.floor(len(lower) / eta)
            by_config = {j.config_id: j for j in lower}
            assert all(j.resume_from == by_config[j.config_id].id for j in upper)
    synchronous = _synchronous_configs(max(j.iteration for j in jobs) + 1)
    for s in range(4):
        fresh = sorted((j for j in rungs[(s, 0)]), key=lambda j: j.config_id)
        n = sched.bracket(s).rungs[0].n_configs
        assert [(j.iteration, j.config) for j in fresh] == [
            (c // n, synchronous[(c // n, s)][c % n]) for c in range(len(fresh))
        ]


def _synchronous_configs(iterations: int) -> dict[tuple[int, int], list[dict[str, Any]]]:
    hb = hyperband.Hyperband(SPACE, max_budget=27, eta=3, iterations=iterations, seed=4)
    out: dict[tuple[int, int], list[dict[str, Any]]] = collections.defaultdict(list)
    for job in (j for j, _ in _drive(hb, liar=False)):
        if job.rung == 0:
            out[(job.iteration, job.bracket)].append(job.config)
    return out


@pytest.mark.parametrize("cut", [20, 120, 300, 600])
def test_a_snapshot_mid_run_gives_the_same_subsequent_jobs(cut: int) -> None:
    whole = [_key(j) for j, _ in _drive(_machine(), liar=True, width=4)]
    hb = _machine()
    head = [_key(j) for j, _ in _drive(hb, liar=True, width=4, limit=cut)]
    state = json.loads(json.dumps(hb.snapshot()))
    restored = hyperband.Hyperband.restore(state)
    assert restored.snapshot() == state
    assert _chooser(restored).trust() == _chooser(hb).trust()
    tail = [_key(j) for j, _ in _drive(restored, liar=True, width=4)]
    assert head + tail == whole


def test_a_model_sampler_that_fails_on_a_drawn_bracket_changes_nothing() -> None:
    """The bracket is drawn before the configuration: a sampler error on that draw leaves the
    machine as it was, and the next ask draws the same bracket."""
    sampler = Flaky(hyperband.KDESampler(SPACE, min_points=3))
    hb = _flaky_machine(sampler)
    _drive(hb, liar=True, limit=300)
    assert _chooser(hb).trust()
    while True:  # up to the next new configuration
        before = hb.snapshot()
        sampler.fail = True
        try:
            job = hb.ask()
        except RuntimeError:
            break
        sampler.fail = False
        assert isinstance(job, hyperband.Job)
        hb.tell(job.id, _value(job.config, job.budget, True))
    assert hb.snapshot() == before
    sampler.fail = False
    again = hb.ask()
    twin = hyperband.Hyperband.restore(before, Flaky(hyperband.KDESampler(SPACE, min_points=3)))
    assert again == twin.ask()


class Flaky:
    """A model-based sampler that raises on ``sample`` while ``fail`` is set."""

    def __init__(self, inner: hyperband.KDESampler) -> None:
        self.inner = inner
        self.fail = False

    def sample(self, rng: np.random.Generator, n: int, **kw: Any) -> list[dict[str, Any]]:
        if self.fail:
            raise RuntimeError("the sampler broke")
        return self.inner.sample(rng, n, **kw)

    def observe(self, config: dict[str, Any], budget: float, loss: float | None) -> None:
        self.inner.observe(config, budget, loss)


def _flaky_machine(sampler: Flaky) -> hyperband.Hyperband:
    return hyperband.Hyperband(
        sampler,  # type: ignore[arg-type]
        max_budget=27,
        iterations=ITERATIONS,
        seed=4,
        exec_mode="asynchronous",
        brackets="adaptive",
    )


@pytest.mark.parametrize("brackets", ["Adaptive", None, 1, ["adaptive"]])
def test_bad_bracket_options_get_clear_errors_in_every_exec_mode(brackets: Any) -> None:
    for exec_mode in ("parallelism", "serial", "asynchronous"):
        with pytest.raises(ConfigurationError, match=r"brackets must be one of 'cycle', 'adapt"):
            _machine(brackets=brackets, exec_mode=exec_mode)


def test_a_bad_option_in_run_leaves_no_journal(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    options: dict[str, Any] = {"max_budget": 9, "executor": "serial", "progress": False}
    with pytest.raises(ConfigurationError, match="brackets"):
        hyperband.run(_objective, SPACE, brackets="sometimes", journal=journal, **options)
    assert not journal.exists()


def test_an_asynchronous_journal_refuses_to_resume_with_other_brackets(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    options: dict[str, Any] = {
        "max_budget": 9,
        "seed": 1,
        "exec_mode": "asynchronous",
        "executor": "serial",
        "progress": False,
    }
    hyperband.run(_objective, SPACE, journal=journal, brackets="adaptive", **options)
    before = journal.read_bytes()
    with pytest.raises(hyperband.JournalMismatchError, match="brackets"):
        hyperband.run(_objective, SPACE, journal=journal, brackets="cycle", **options)
    assert journal.read_bytes() == before


def _objective(config: dict[str, Any], budget: float) -> float:
    return _value(config, budget, True)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
def test_a_journal_cut_anywhere_resumes_to_the_same_asynchronous_study(
    tmp_path: Path, cut: float
) -> None:
    options: dict[str, Any] = {
        "max_budget": 27,
        "iterations": 4,
        "seed": 11,
        "exec_mode": "asynchronous",
        "brackets": "adaptive",
        "executor": "serial",
        "progress": False,
    }
    whole = tmp_path / "whole.jsonl"
    reference = hyperband.run(_objective, SPACE, journal=whole, **options)
    lines = whole.read_text().splitlines(keepends=True)
    k = int(len(lines) * cut)
    journal = tmp_path / "cut.jsonl"
    journal.write_text("".join(lines[:k]) + lines[k][: len(lines[k]) // 2])
    resumed = hyperband.run(_objective, SPACE, journal=journal, **options)

    def key(r: hyperband.JobRecord) -> tuple[Any, ...]:
        return (*_key(r.job), r.value)

    assert [key(r) for r in resumed.history] == [key(r) for r in reference.history]
    fresh = [r.job.bracket for r in reference.history if r.job.resume_from is None]
    assert fresh.count(0) > 4 * 4  # the balanced order starts 4 per iteration in bracket 0


def test_simulate_takes_asynchronous_adaptive_brackets() -> None:
    def run(brackets: str) -> collections.Counter[int]:
        result = hyperband.simulate(
            27,
            3,
            workers=4,
            iterations=6,
            seed=2,
            objective=_objective,
            exec_mode="asynchronous",
            brackets=brackets,
        )
        return collections.Counter(j.job.bracket for j in result.jobs if j.job.rung == 0)

    cycle, adaptive = run("cycle"), run("adaptive")
    assert sum(adaptive.values()) == sum(cycle.values()) == 6 * 49
    assert adaptive[0] > 2 * cycle[0]
