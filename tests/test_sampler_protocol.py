"""The model-based sampler protocol: lazy draws, pending jobs, losses, snapshots."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperband
from hyperband import DONE, WAIT, Hyperband, Job

SPACE: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}


class Recorder:
    """A model-based sampler that logs every call and draws from the rng only."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def sample(
        self, rng: np.random.Generator, n: int, *, pending: Any = ()
    ) -> list[dict[str, Any]]:
        self.calls.append(("sample", (n, [dict(c) | {"@": b} for c, b in pending])))
        return [{"x": float(rng.random())} for _ in range(n)]

    def observe(self, config: dict[str, Any], budget: float, loss: float | None) -> None:
        self.calls.append(("observe", (dict(config), budget, loss)))


class Greedy:
    """Depends on its observations: the next draw is the best x so far plus rng noise."""

    def __init__(self) -> None:
        self.best: tuple[float, float] | None = None

    def sample(
        self, rng: np.random.Generator, n: int, *, pending: Any = ()
    ) -> list[dict[str, Any]]:
        centre = 0.5 if self.best is None else self.best[1]
        shift = 0.01 * len(pending)
        return [{"x": float(np.clip(centre + shift + rng.normal(0, 0.05), 0, 1))}]

    def observe(self, config: dict[str, Any], budget: float, loss: float | None) -> None:
        if loss is not None and (self.best is None or loss < self.best[0]):
            self.best = (loss, config["x"])


def test_a_model_based_sampler_is_drawn_lazily_one_configuration_per_first_ask() -> None:
    rec = Recorder()
    hb = Hyperband(rec, max_budget=9, eta=3, seed=0)
    assert rec.calls == []  # nothing drawn when the bracket starts
    first = hb.ask()
    assert isinstance(first, Job)
    assert rec.calls == [("sample", (1, []))]
    hb.tell(first.id, 0.5)
    second = hb.ask()
    assert isinstance(second, Job)
    # The second draw saw the first result, and nothing was pending.
    assert rec.calls[1] == ("observe", (first.config, 1, -0.5))
    assert rec.calls[2] == ("sample", (1, []))
    third = hb.ask()
    assert isinstance(third, Job)
    assert rec.calls[3] == ("sample", (1, [second.config | {"@": 1}]))


def test_promotions_are_not_drawn_again() -> None:
    rec = Recorder()
    hb = Hyperband(rec, max_budget=9, eta=3, seed=0, iterations=1)
    n_configs = set()
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, Job)
        n_configs.add(job.config_id)
        hb.tell(job.id, job.config["x"])
    draws = [c for c in rec.calls if c[0] == "sample"]
    assert len(draws) == len(n_configs) == sum(b.rungs[0].n_configs for b in hb.schedule.brackets)


@pytest.mark.parametrize(("mode", "sign"), [("maximize", -1.0), ("minimize", 1.0)])
def test_observe_gets_a_loss_lower_is_better_and_none_for_a_failure(mode: str, sign: float) -> None:
    rec = Recorder()
    hb = Hyperband(rec, max_budget=9, eta=3, seed=0, mode=mode)
    a, b = hb.ask(), hb.ask()
    assert isinstance(a, Job)
    assert isinstance(b, Job)
    hb.tell(a.id, {"default": 2.0, "other": 1})
    hb.fail(b.id, "boom")
    observed = [c[1] for c in rec.calls if c[0] == "observe"]
    assert observed == [(a.config, 1, sign * 2.0), (b.config, 1, None)]


def test_the_kth_configuration_of_a_bracket_uses_the_rng_of_seed_iteration_bracket_k() -> None:
    hb = Hyperband(Recorder(), max_budget=9, eta=3, seed=7)
    jobs = [hb.ask() for _ in range(5)]
    for k, job in enumerate(jobs):
        assert isinstance(job, Job)
        rng = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(0, 2, k)))
        assert job.config == {"x": float(rng.random())}


def test_the_random_sampler_still_draws_a_whole_bracket_per_seed_iteration_bracket() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=3)
    jobs = [hb.ask() for _ in range(9)]
    rng = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(0, 2)))
    expected = hyperband.RandomSampler(SPACE).sample(rng, 9)
    assert [j.config for j in jobs if isinstance(j, Job)] == expected


def test_a_sampler_with_observe_but_no_pending_keyword_is_refused_clearly() -> None:
    class Old:
        def sample(self, rng: Any, n: int) -> list[dict[str, Any]]:
            return [{}] * n

        def observe(self, config: Any, budget: Any, value: Any) -> None:
            pass

    with pytest.raises(hyperband.ArgumentTypeError, match="must accept a keyword argument pending"):
        Hyperband(Old(), max_budget=9)


def test_a_bad_draw_raises_and_the_next_ask_draws_the_same_configuration() -> None:
    class Flaky(Recorder):
        broken = True

        def sample(self, rng: Any, n: int, *, pending: Any = ()) -> list[dict[str, Any]]:
            if self.broken:
                return [{"x": 0.1}, {"x": 0.2}]  # two, not one
            return super().sample(rng, n, pending=pending)

    sampler = Flaky()
    hb = Hyperband(sampler, max_budget=9, seed=0)
    before = json.dumps(hb.snapshot())
    with pytest.raises(hyperband.HyperbandError, match="must return a list of 1 dicts"):
        hb.ask()
    assert json.dumps(hb.snapshot()) == before
    sampler.broken = False
    job = hb.ask()
    assert isinstance(job, Job)
    assert (job.id, job.config_id) == (0, 0)
    reference = Hyperband(Recorder(), max_budget=9, seed=0).ask()
    assert isinstance(reference, Job)
    assert job.config == reference.config


def _drive(hb: Hyperband, order: list[int], workers: int) -> list[tuple[int, Any, float]]:
    """Run to the end with ``workers`` in flight, resolving the pending job order.pop() picks."""
    out = []
    running: list[Job] = []
    while not hb.done:
        while len(running) < workers:
            job = hb.ask()
            if job is WAIT or job is DONE:
                break
            assert isinstance(job, Job)
            running.append(job)
            out.append((job.config_id, job.config, job.budget))
        pick = order[len(out) % len(order)] % len(running)
        job = running.pop(pick)
        x = job.config["x"]
        hb.tell(job.id, -((x - 0.3) ** 2) + 0.001 * job.budget)
    return out


@settings(max_examples=25, deadline=None)
@given(order=st.lists(st.integers(0, 50), min_size=1, max_size=20), workers=st.integers(1, 6))
def test_the_same_calls_give_the_same_configurations(order: list[int], workers: int) -> None:
    a = _drive(Hyperband(Greedy(), max_budget=9, seed=1, iterations=2), order, workers)
    b = _drive(Hyperband(Greedy(), max_budget=9, seed=1, iterations=2), order, workers)
    assert a == b


@settings(max_examples=25, deadline=None)
@given(
    order=st.lists(st.integers(0, 50), min_size=1, max_size=20),
    workers=st.integers(1, 6),
    cut=st.integers(0, 60),
)
def test_restore_rebuilds_a_model_based_sampler_from_its_observations(
    order: list[int], workers: int, cut: int
) -> None:
    """Stop after ``cut`` results, snapshot through JSON, restore into a fresh sampler: the
    rest of the run draws exactly what an uninterrupted run draws."""
    full = _drive(Hyperband(Greedy(), max_budget=9, seed=2, iterations=2), order, workers)
    hb = Hyperband(Greedy(), max_budget=9, seed=2, iterations=2)
    running: list[Job] = []
    told = 0
    seen: list[tuple[int, Any, float]] = []
    while not hb.done and told < cut:
        while len(running) < workers:
            job = hb.ask()
            if not isinstance(job, Job):
                break
            running.append(job)
            seen.append((job.config_id, job.config, job.budget))
        job = running.pop(order[len(seen) % len(order)] % len(running))
        hb.tell(job.id, -((job.config["x"] - 0.3) ** 2) + 0.001 * job.budget)
        told += 1
    again = Hyperband.restore(json.loads(json.dumps(hb.snapshot())), Greedy())
    assert [j.id for j in again.pending] == [j.id for j in running]
    assert json.loads(json.dumps(again.snapshot())) == json.loads(json.dumps(hb.snapshot()))
    # Continue both the same way: the restored one must draw the same configurations.
    for machine in (hb, again):
        rest = list(running)
        draws: list[tuple[int, Any, float]] = []
        while not machine.done:
            while len(rest) < workers:
                job = machine.ask()
                if not isinstance(job, Job):
                    break
                rest.append(job)
                draws.append((job.config_id, job.config, job.budget))
            job = rest.pop(order[(len(seen) + len(draws)) % len(order)] % len(rest))
            machine.tell(job.id, -((job.config["x"] - 0.3) ** 2) + 0.001 * job.budget)
        if machine is hb:
            reference = draws
        else:
            assert draws == reference
    assert len(full) >= len(seen)


def test_a_version_1_snapshot_still_restores() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    job = hb.ask()
    assert isinstance(job, Job)
    state = json.loads(json.dumps(hb.snapshot()))
    state["version"] = 1
    for key in ("sampler", "observations"):
        del state[key]
    for b in state["brackets"]:
        del b["first_config"]
    again = Hyperband.restore(state)
    assert again.pending == hb.pending
    assert again.ask() == hb.ask()
