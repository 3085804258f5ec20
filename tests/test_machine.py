from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperband
from hyperband import DONE, WAIT, Hyperband, Job
from hyperband.testing import machine_params

from .machine_model import Record

SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}


def objective(job: Job) -> float:
    """Deterministic in (config, budget), with ties at low budgets."""
    return round(job.config["x"] * 4) / 4 + 0.01 * math.log(job.budget + 1)


def drive(
    hb: Hyperband,
    rng: random.Random | None = None,
    *,
    workers: int = 1,
    fail_below: float = -1.0,
    record: Record | None = None,
) -> Record:
    """Run the machine to DONE with up to ``workers`` jobs out, finishing them in random order."""
    rec = record or Record(hb.schedule, hb.mode)
    out: list[Job] = list(hb.pending)
    while True:
        while len(out) < workers:
            job = hb.ask()
            if job is WAIT or job is DONE:
                break
            assert isinstance(job, Job)
            rec.asked(job)
            out.append(job)
        if not out:
            assert hb.ask() is DONE
            return rec
        job = out.pop(rng.randrange(len(out)) if rng else 0)
        if job.config["x"] < fail_below:
            hb.fail(job.id, "boom")
            rec.failed.add(job.id)
        else:
            value = objective(job)
            hb.tell(job.id, value)
            rec.values[job.id] = value


def fingerprint(rec: Record) -> set[tuple[Any, ...]]:
    return {
        (j.iteration, j.bracket, j.rung, j.config_id, json.dumps(j.config), j.budget)
        for j in rec.jobs.values()
    }


# --------------------------------------------------------------------------- basics


def test_sequential_run_follows_the_schedule() -> None:
    hb = Hyperband(SPACE, max_budget=81, eta=3, seed=1)
    rec = drive(hb)
    rec.check_complete(1)
    rec.check_best(hb.best)
    assert len(rec.jobs) == 206
    assert hb.done
    assert hb.ask() is DONE
    assert hb.best is not None
    assert hb.best.budget == 81


def test_first_jobs_are_the_widest_bracket() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0)
    job = hb.ask()
    assert isinstance(job, Job)
    assert (job.id, job.config_id, job.budget, job.bracket, job.rung, job.iteration) == (
        0,
        0,
        1,
        2,
        0,
        0,
    )
    assert job.resume_from is None
    assert job.previous_budget is None
    assert set(job.config) == {"x", "lr", "act"}


@pytest.mark.parametrize("exec_mode", ["serial", "parallelism"])
@pytest.mark.parametrize("workers", [1, 3, 50])
@pytest.mark.parametrize("sizing", ["li2018", "table"])
def test_complete_runs_obey_every_rule(exec_mode: str, workers: int, sizing: str) -> None:
    hb = Hyperband(
        SPACE,
        max_budget=27,
        eta=3,
        exec_mode=exec_mode,
        sizing=sizing,
        iterations=2,
        seed=3,
        mode="minimize",
    )
    rec = drive(hb, random.Random(0), workers=workers, fail_below=0.15)
    rec.check_complete(2)
    rec.check_best(hb.best)
    assert hb.n_failed == len(rec.failed) > 0
    assert hb.n_succeeded == len(rec.values)


def test_promotion_happens_as_soon_as_it_is_certain() -> None:
    # R=3, eta=3: bracket s=1 runs 3 configs at budget 1, and its best goes on to budget 3.
    hb = Hyperband(SPACE, max_budget=3, eta=3, seed=0, exec_mode="serial")
    jobs = [hb.ask() for _ in range(3)]
    assert all(isinstance(j, Job) and j.bracket == 1 for j in jobs)
    assert hb.ask() is WAIT
    hb.tell(jobs[0].id, 10.0)  # best so far, but 2 results are still out
    assert hb.ask() is WAIT
    hb.tell(jobs[1].id, 1.0)
    assert hb.ask() is WAIT  # the one result out could still beat 10.0
    hb.fail(jobs[2].id, "lost")
    promo = hb.ask()
    assert isinstance(promo, Job)
    assert (promo.config_id, promo.rung, promo.resume_from, promo.previous_budget) == (
        jobs[0].config_id,
        1,
        jobs[0].id,
        1,
    )


def test_certain_early_with_many_outstanding() -> None:
    # s=2 of R=9: 9 configs at 1 -> top 3 at 3. After 7 results, the best of them is certain
    # once only 2 are out (rank 0 + 2 outstanding < 3).
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0)
    jobs = [hb.ask() for _ in range(9)]
    assert all(isinstance(j, Job) and j.rung == 0 and j.bracket == 2 for j in jobs)
    for n, j in enumerate(jobs[:6]):
        hb.tell(j.id, float(n))
    # 3 outstanding: nothing is certain yet (rank 0 + 3 >= 3); a new bracket starts instead.
    nxt = hb.ask()
    assert isinstance(nxt, Job)
    assert nxt.bracket == 1
    hb.tell(jobs[6].id, -1.0)  # 2 outstanding: rank 0 (value 5) is certain
    promo = hb.ask()
    assert isinstance(promo, Job)
    assert (promo.bracket, promo.rung, promo.config_id) == (2, 1, jobs[5].config_id)


def test_failed_jobs_are_never_promoted_and_rungs_shrink() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="serial")
    jobs = [hb.ask() for _ in range(9)]
    assert all(isinstance(j, Job) for j in jobs)
    for j in jobs[:7]:
        hb.fail(j.id, "oom")
    hb.tell(jobs[7].id, 0.5)
    hb.tell(jobs[8].id, 0.7)
    # Rung 1 gets min(3, 2 successes) = 2 jobs, in the order they became certain.
    promos = [hb.ask(), hb.ask()]
    assert [p.config_id for p in promos if isinstance(p, Job)] == [
        jobs[7].config_id,
        jobs[8].config_id,
    ]
    assert hb.ask() is WAIT


def test_a_rung_whose_jobs_all_fail_ends_its_bracket() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="serial")
    jobs = [hb.ask() for _ in range(9)]
    for j in jobs:
        hb.fail(j.id, "diverged")
    nxt = hb.ask()
    assert isinstance(nxt, Job)
    assert (nxt.bracket, nxt.rung) == (1, 0)
    assert hb.best is None


def test_all_failures_still_reach_done() -> None:
    hb = Hyperband(SPACE, max_budget=27, eta=3, seed=0)
    rec = drive(hb, random.Random(1), workers=4, fail_below=2.0)
    assert hb.done
    assert hb.best is None
    assert (
        len(rec.failed) == len(rec.jobs) == sum(b.rungs[0].n_configs for b in hb.schedule.brackets)
    )


def test_best_prefers_the_largest_budget_then_lower_config_id() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="serial")
    jobs = [hb.ask() for _ in range(9)]
    hb.tell(jobs[0].id, 5.0)
    assert hb.best is not None
    assert (hb.best.value, hb.best.budget) == (5.0, 1)
    hb.tell(jobs[1].id, 5.0)  # a tie: the lower config_id stays
    assert hb.best.config_id == jobs[0].config_id
    for j in jobs[2:]:
        hb.tell(j.id, 1.0)
    promo = hb.ask()
    assert isinstance(promo, Job)
    hb.tell(promo.id, -100.0)  # worse value, larger budget: it is the best now
    assert (hb.best.value, hb.best.budget, hb.best.job_id) == (-100.0, 3, promo.id)


def test_minimize_ranks_low_values_first() -> None:
    hb = Hyperband(SPACE, max_budget=3, eta=3, seed=0, mode="minimize", exec_mode="serial")
    jobs = [hb.ask() for _ in range(hb.schedule.brackets[0].rungs[0].n_configs)]
    for n, j in enumerate(jobs):
        hb.tell(j.id, float(n))
    promo = hb.ask()
    assert isinstance(promo, Job)
    assert promo.config_id == jobs[0].config_id


def test_serial_mode_is_strict() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, exec_mode="serial")
    jobs = [hb.ask() for _ in range(9)]
    assert hb.ask() is WAIT
    for j in jobs[:-1]:
        hb.tell(j.id, 1.0)
    # 3 promotions are certain, but a bracket never overlaps the next one.
    promos = [hb.ask() for _ in range(2)]
    assert all(isinstance(p, Job) and p.bracket == 2 for p in promos)
    hb.tell(jobs[-1].id, 0.0)
    rest = []
    while (j := hb.ask()) is not WAIT:
        assert isinstance(j, Job)
        assert j.bracket == 2
        rest.append(j)
    assert len(rest) == 1


def test_parallelism_mode_starts_brackets_for_free_workers() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0)
    jobs = [hb.ask() for _ in range(9 + 5 + 3)]
    assert [j.bracket for j in jobs if isinstance(j, Job)] == [2] * 9 + [1] * 5 + [0] * 3
    assert hb.ask() is WAIT  # every bracket has started


def test_promotions_of_older_brackets_come_first() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0)
    jobs = [hb.ask() for _ in range(9 + 5)]
    for j in jobs[9:]:
        hb.tell(j.id, 1.0)  # bracket 1 can promote
    for j in jobs[:9]:
        hb.tell(j.id, 1.0)  # bracket 2 can promote
    order = [hb.ask() for _ in range(4)]
    assert [(j.bracket, j.rung) for j in order if isinstance(j, Job)] == [(2, 1)] * 3 + [(1, 1)]


def test_iterations_none_runs_forever() -> None:
    hb = Hyperband(SPACE, max_budget=3, eta=3, seed=0, iterations=None)
    seen = set()
    for _ in range(200):
        job = hb.ask()
        assert isinstance(job, Job)
        seen.add(job.iteration)
        hb.tell(job.id, 0.0)
    assert not hb.done
    assert max(seen) >= 10


def test_iterations_repeat_the_schedule_with_new_configurations() -> None:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0, iterations=3)
    rec = drive(hb)
    rec.check_complete(3)
    per_iter = [
        {json.dumps(j.config) for j in rec.jobs.values() if j.iteration == t} for t in range(3)
    ]
    assert not per_iter[0] & per_iter[1]


def test_seed_none_draws_entropy_and_records_it() -> None:
    a = Hyperband(SPACE, max_budget=9, seed=None)
    b = Hyperband(SPACE, max_budget=9, seed=None)
    assert a.seed != b.seed
    assert a.snapshot()["params"]["seed"] == a.seed
    c = Hyperband(SPACE, max_budget=9, seed=a.seed)
    ja, jc = a.ask(), c.ask()
    assert isinstance(ja, Job)
    assert isinstance(jc, Job)
    assert ja.config == jc.config


def test_different_seeds_differ_same_seed_repeats() -> None:
    def first_configs(seed: int) -> list[dict[str, Any]]:
        hb = Hyperband(SPACE, max_budget=9, seed=seed)
        return [j.config for j in (hb.ask() for _ in range(5)) if isinstance(j, Job)]

    assert first_configs(1) == first_configs(1)
    assert first_configs(1) != first_configs(2)


def test_dict_results_keep_extra_keys() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    job = hb.ask()
    assert isinstance(job, Job)
    res = hb.tell(job.id, {"default": 0.9, "loss": 0.1})
    assert (res.status, res.value, res.extra) == ("succeeded", 0.9, {"loss": 0.1})
    job2 = hb.ask()
    assert isinstance(job2, Job)
    res2 = hb.fail(job2.id, "CUDA OOM")
    assert (res2.status, res2.value, res2.error) == ("failed", None, "CUDA OOM")


def test_numpy_values_and_ids_are_accepted() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    job = hb.ask()
    assert isinstance(job, Job)
    res = hb.tell(np.int64(job.id), np.float32(0.5))  # type: ignore[arg-type]
    assert res.value == 0.5
    assert type(res.value) is float


def test_pending_is_oldest_first() -> None:
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    jobs = [hb.ask() for _ in range(4)]
    hb.tell(jobs[1].id, 0.0)
    assert [j.id for j in hb.pending] == [jobs[0].id, jobs[2].id, jobs[3].id]


class ObservingSampler:
    def __init__(self) -> None:
        self.seen: list[tuple[Any, Any, float | None]] = []

    def sample(
        self, rng: np.random.Generator, n: int, *, pending: Any = ()
    ) -> list[dict[str, Any]]:
        return [{"u": float(u)} for u in rng.random(n)]

    def observe(self, config: dict[str, Any], budget: float, loss: float | None) -> None:
        self.seen.append((config, budget, loss))


def test_custom_sampler_is_used_and_observes() -> None:
    sampler = ObservingSampler()
    hb = Hyperband(sampler, max_budget=9, seed=0)
    job = hb.ask()
    assert isinstance(job, Job)
    assert set(job.config) == {"u"}
    hb.tell(job.id, 0.25)
    assert sampler.seen == [(job.config, 1, -0.25)]  # maximize: loss = -value
    with pytest.raises(hyperband.SnapshotError, match="space_or_sampler is required"):
        Hyperband.restore(hb.snapshot())
    fresh = ObservingSampler()
    again = Hyperband.restore(hb.snapshot(), fresh)
    assert again.snapshot() == hb.snapshot()
    assert fresh.seen == sampler.seen


class BadSampler:
    def sample(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        return [{"a": 1}] * (n - 1)


def test_a_sampler_returning_too_few_configurations_is_an_error() -> None:
    hb = Hyperband(BadSampler(), max_budget=9, seed=0)
    with pytest.raises(hyperband.HyperbandError, match=r"must return a list of 9 dicts"):
        hb.ask()


# --------------------------------------------------------------------------- determinism


@settings(max_examples=40, deadline=None)
@given(params=machine_params(), order_seed=st.integers(0, 2**16), workers=st.integers(1, 40))
def test_completion_order_never_changes_jobs_promotions_or_best(
    params: dict[str, Any], order_seed: int, workers: int
) -> None:
    base = Hyperband(SPACE, **params)
    ref = drive(base, fail_below=0.1)
    other = Hyperband(SPACE, **params)
    rec = drive(other, random.Random(order_seed), workers=workers, fail_below=0.1)
    assert fingerprint(rec) == fingerprint(ref)
    assert other.best == base.best or (
        other.best is not None
        and base.best is not None
        and (other.best.config_id, other.best.value, other.best.budget)
        == (base.best.config_id, base.best.value, base.best.budget)
    )
    rec.check_complete(params["iterations"])
    rec.check_best(other.best)


# --------------------------------------------------------------------------- snapshots


@settings(max_examples=30, deadline=None)
@given(params=machine_params(), cut=st.integers(0, 300), order_seed=st.integers(0, 100))
def test_snapshot_json_restore_continues_identically(
    params: dict[str, Any], cut: int, order_seed: int
) -> None:
    hb = Hyperband(SPACE, **params)
    rng = random.Random(order_seed)
    out: list[Job] = []
    for _ in range(cut):
        if out and (rng.random() < 0.5 or len(out) > 5):
            job = out.pop(rng.randrange(len(out)))
            hb.tell(job.id, objective(job))
        else:
            job = hb.ask()
            if isinstance(job, Job):
                out.append(job)
    state = json.loads(json.dumps(hb.snapshot()))
    twin = Hyperband.restore(state)
    assert twin.snapshot() == hb.snapshot()
    assert twin.pending == hb.pending
    rng_a, rng_b = random.Random(7), random.Random(7)
    rec_a = drive(hb, rng_a, workers=3)
    rec_b = drive(twin, rng_b, workers=3)
    assert [j.to_dict() for j in rec_a.jobs.values()] == [j.to_dict() for j in rec_b.jobs.values()]
    assert hb.best == twin.best
    assert hb.snapshot() == twin.snapshot()


def test_restore_rejects_garbage() -> None:
    with pytest.raises(hyperband.SnapshotError, match=r"made by Hyperband\.snapshot"):
        Hyperband.restore({"foo": 1})
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    state = hb.snapshot()
    with pytest.raises(hyperband.SnapshotError, match="version"):
        Hyperband.restore({**state, "version": 99})
    with pytest.raises(hyperband.SnapshotError, match="malformed"):
        Hyperband.restore({**state, "brackets": [{"seq": 0}]})
