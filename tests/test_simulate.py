from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperband
from hyperband import ConfigurationError, HyperbandError, simulate

from .machine_model import count_mispromotions
from .optional import require

# Small schedules keep each example fast; both exec modes, both sizings, resume on and off.
sim_params = st.fixed_dictionaries(
    {
        "max_budget": st.sampled_from([1, 3, 9, 27, 30, 81]),
        "eta": st.sampled_from([2, 2.5, 3, 4]),
        "min_budget": st.sampled_from([1, 0.5]),
        "workers": st.integers(1, 40),
        "exec_mode": st.sampled_from(["serial", "parallelism"]),
        "sizing": st.sampled_from(["li2018", "table"]),
        "iterations": st.integers(1, 2),
        "seed": st.integers(0, 2**32),
        "resume": st.booleans(),
    }
)

REL = 1e-9  # float sums in different orders differ by rounding only


@given(sim_params)
@settings(max_examples=60, deadline=None)
def test_makespan_is_at_least_the_lower_bound(params: dict[str, Any]) -> None:
    r = simulate(**params)
    assert r.makespan >= r.lower_bound * (1 - REL)
    assert r.lower_bound >= r.total_work / r.workers * (1 - REL)
    assert r.bound_ratio >= 1 - REL


@given(sim_params)
@settings(max_examples=60, deadline=None)
def test_utilisation_is_a_fraction_and_matches_its_definition(params: dict[str, Any]) -> None:
    r = simulate(**params)
    assert 0 < r.utilisation <= 1
    assert r.utilisation == pytest.approx(r.total_work / (r.workers * r.makespan), rel=REL)


@given(sim_params.map(lambda p: {**p, "workers": 1}))
@settings(max_examples=40, deadline=None)
def test_one_worker_makespan_is_the_total_work(params: dict[str, Any]) -> None:
    r = simulate(**params)
    assert r.makespan == pytest.approx(r.total_work, rel=REL)
    assert r.utilisation == pytest.approx(1.0, rel=REL)
    # One worker never runs two jobs at once.
    spans = sorted((j.start, j.end) for j in r.jobs)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end


@given(sim_params.map(lambda p: {**p, "exec_mode": "serial"}))
@settings(max_examples=60, deadline=None)
def test_serial_mode_never_overlaps_brackets(params: dict[str, Any]) -> None:
    r = simulate(**params)
    spans: dict[tuple[int, int], tuple[float, float]] = {}
    for j in r.jobs:
        key = (j.job.iteration, j.job.bracket)
        lo, hi = spans.get(key, (math.inf, -math.inf))
        spans[key] = (min(lo, j.start), max(hi, j.end))
    # In the order the brackets ran: each starts when (or after) the previous one ended.
    ordered = sorted(spans.values())
    for (_, prev_end), (start, _) in itertools.pairwise(ordered):
        assert start >= prev_end


@given(sim_params)
@settings(max_examples=60, deadline=None)
def test_no_worker_runs_two_jobs_at_once_and_jobs_wait_for_their_parent(
    params: dict[str, Any],
) -> None:
    r = simulate(**params)
    by_worker: dict[int, list[tuple[float, float]]] = {}
    for j in r.jobs:
        assert 0 <= j.worker < r.workers
        assert j.end >= j.start >= 0
        by_worker.setdefault(j.worker, []).append((j.start, j.end))
    for spans in by_worker.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end
    ends = {j.job.id: j.end for j in r.jobs}
    for j in r.jobs:
        if j.job.resume_from is not None:
            assert j.start >= ends[j.job.resume_from]
    assert r.makespan == max(j.end for j in r.jobs)


@given(sim_params)
@settings(max_examples=30, deadline=None)
def test_results_are_deterministic_per_seed(params: dict[str, Any]) -> None:
    a, b = simulate(**params), simulate(**params)
    assert a == b


def test_every_scheduled_job_runs_once() -> None:
    r = simulate(81, 3, workers=7, iterations=2)
    assert len(r.jobs) == 2 * hyperband.schedule(81, 3).total_jobs
    assert [j.job.id for j in r.jobs] == list(range(len(r.jobs)))


def test_the_jobs_do_not_depend_on_workers_or_exec_mode() -> None:
    # The machine is deterministic and durations are per (config, rung): the same jobs run
    # with the same durations; only when and where differs.
    def jobs(r: hyperband.SimulationResult) -> set[tuple[int, int, float]]:
        return {(j.job.config_id, j.job.rung, j.duration) for j in r.jobs}

    base = simulate(27, 3, workers=1, exec_mode="serial", seed=5)
    for workers in (3, 16):
        for mode in ("serial", "parallelism"):
            r = simulate(27, 3, workers=workers, exec_mode=mode, seed=5)
            assert {(c, i) for c, i, _ in jobs(r)} == {(c, i) for c, i, _ in jobs(base)}
            assert r.total_work == pytest.approx(base.total_work, rel=REL)
            assert r.best is not None
            assert base.best is not None
            # Job ids follow the order of asks, which differs; the winner does not.
            assert (r.best.config_id, r.best.value, r.best.budget) == (
                base.best.config_id,
                base.best.value,
                base.best.budget,
            )


def test_another_seed_gives_other_durations() -> None:
    assert (
        simulate(27, 3, workers=4, seed=0).total_work
        != simulate(27, 3, workers=4, seed=1).total_work
    )


def test_parallelism_is_faster_than_serial_at_16_workers() -> None:
    serial = simulate(81, 3, workers=16, exec_mode="serial", iterations=2)
    parallel = simulate(81, 3, workers=16, exec_mode="parallelism", iterations=2)
    assert parallel.total_work == pytest.approx(serial.total_work, rel=REL)
    # Serial mode idles most workers in each bracket's narrow top rungs.
    assert parallel.makespan < 0.5 * serial.makespan
    assert parallel.utilisation > 2 * serial.utilisation


def test_default_duration_is_budget_times_a_lognormal_factor() -> None:
    r = simulate(81, 3, workers=4, seed=3)
    factors = [j.duration / j.job.budget for j in r.jobs]
    logs = [math.log(f) for f in factors]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    # 206 draws of LogNormal(0, 0.3): the sample mean and sd of the logs are close.
    assert abs(mean) < 0.1
    assert 0.22 < sd < 0.38


def test_resume_costs_only_the_extra_budget() -> None:
    def unit(config: dict[str, Any], budget: float, previous: float | None) -> float:
        return budget - (previous or 0)

    scratch = simulate(81, 3, workers=4, duration=unit, resume=False)
    resumed = simulate(81, 3, workers=4, duration=unit, resume=True)
    sched = hyperband.schedule(81, 3)
    assert scratch.total_work == sched.total_budget == 1902
    # Every promotion skips its previous rung's budget.
    saved = sum(j.job.previous_budget or 0 for j in scratch.jobs)
    assert resumed.total_work == 1902 - saved
    # The s=4 bracket of R=81, eta=3: 27*1 + 9*3 + 3*9 + 1*27 = 108 of 405 units (27%) saved.
    s4 = [j for j in scratch.jobs if j.job.bracket == 4]
    assert sum(j.job.budget for j in s4) == 405
    assert sum(j.job.previous_budget or 0 for j in s4) == 108


def test_default_duration_with_resume_uses_the_same_factor() -> None:
    scratch = simulate(27, 3, workers=2, seed=9)
    resumed = simulate(27, 3, workers=2, seed=9, resume=True)
    by_key = {(j.job.config_id, j.job.rung): j for j in scratch.jobs}
    for j in resumed.jobs:
        s = by_key[(j.job.config_id, j.job.rung)]
        work = j.job.budget - (j.job.previous_budget or 0)
        assert j.duration / work == pytest.approx(s.duration / s.job.budget, rel=1e-12)


def test_user_objective_decides_the_best() -> None:
    def objective(config: dict[str, Any], budget: float) -> dict[str, Any]:
        return {"default": -((config["x"] - 0.3) ** 2), "budget": budget}

    r = simulate(27, 3, workers=8, objective=objective, seed=1)
    assert r.best is not None
    assert r.best.budget == 27
    finals = [j for j in r.jobs if j.job.budget == 27]
    assert r.best.value == max(j.value for j in finals)
    minimized = simulate(27, 3, workers=8, objective=objective, seed=1, mode="minimize")
    assert minimized.best is not None
    assert minimized.best.value == min(j.value for j in minimized.jobs if j.job.budget == 27)


def test_user_space_reaches_the_duration_function() -> None:
    seen: list[dict[str, Any]] = []

    def duration(config: dict[str, Any], budget: float, previous: float | None) -> float:
        seen.append(config)
        return budget * config["speed"]

    space = {"speed": {"_type": "choice", "_value": [1, 2]}}
    r = simulate(9, 3, workers=2, duration=duration, space=space)
    assert len(seen) == len(r.jobs)
    assert {c["speed"] for c in seen} == {1, 2}
    assert r.total_work == pytest.approx(sum(j.job.budget * j.job.config["speed"] for j in r.jobs))


def test_timeline_rows_are_flat_dicts() -> None:
    r = simulate(9, 3, workers=2)
    rows = r.timeline()
    assert len(rows) == len(r.jobs)
    assert set(rows[0]) >= {"job_id", "bracket", "rung", "budget", "worker", "start", "end"}
    assert rows[0]["start"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"workers": 0}, "workers must be >= 1, got 0"),
        ({"workers": 2.5}, "workers must be an int"),
        ({"workers": True}, "workers must be an int"),
        ({"workers": 2, "iterations": None}, "iterations must be an int >= 1"),
        ({"workers": 2, "resume": "yes"}, "resume must be a bool"),
        ({"workers": 2, "duration": 3}, "duration must be a function"),
        ({"workers": 2, "objective": "f"}, "objective must be a function"),
        ({"workers": 2, "seed": 1.5}, "seed must be an int"),
        ({"workers": 2, "eta": 1}, "eta must be > 1"),
        ({"workers": 2, "exec_mode": "fast"}, "exec_mode must be one of"),
    ],
)
def test_bad_arguments_raise_a_clear_error(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(HyperbandError, match=needle.replace("(", r"\(")):
        simulate(27, **kwargs)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "1", None, True])
def test_a_bad_duration_raises_naming_the_value(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"duration\(config, 1, None\) must return"):
        simulate(9, 3, workers=2, duration=lambda c, b, p: bad)


def test_zero_durations_are_allowed() -> None:
    r = simulate(9, 3, workers=3, duration=lambda c, b, p: 0.0)
    assert r.makespan == 0.0
    assert r.utilisation == 1.0
    assert r.best is not None


def test_plot_timeline_draws_one_bar_per_job(tmp_path: Any) -> None:
    require("matplotlib")
    import matplotlib.pyplot as plt

    r = simulate(27, 3, workers=4, iterations=2)
    ax = r.plot_timeline()
    try:
        assert len(ax.patches) == len(r.jobs)
        assert sorted(ax.get_yticks()) == [0, 1, 2, 3]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == [f"bracket s={s}" for s in (3, 2, 1, 0)]
        ax.figure.savefig(tmp_path / "timeline.png")
        assert (tmp_path / "timeline.png").stat().st_size > 5_000
    finally:
        plt.close(ax.figure)


# ---------------------------------------------------------------------- learning curves, stops

SPACE1: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}


def lin_curve(config: dict[str, Any], step: float) -> float:
    # Curves that never cross: a configuration's rank is the same at every step.
    return float(config["x"]) * (1.0 + step)


def crossing_curve(config: dict[str, Any], step: float) -> float:
    # A large x learns fast and plateaus low; a small x learns slowly and plateaus high.
    x = float(config["x"])
    return (1.0 - x) * (1.0 - math.exp(-step * (0.05 + 2 * x))) + 0.3 * x


def epochs(config: dict[str, Any], budget: float, previous: float | None) -> float:
    return (budget - (previous or 0)) * (1.0 + float(config["x"]))


curve_params = st.fixed_dictionaries(
    {
        "max_budget": st.sampled_from([3, 9, 27]),
        "eta": st.sampled_from([2, 3]),
        "workers": st.integers(1, 12),
        "exec_mode": st.sampled_from(["serial", "parallelism", "asynchronous"]),
        "seed": st.integers(0, 2**16),
        "resume": st.booleans(),
        "report_every": st.sampled_from([0.5, 1, 2, 3]),
    }
)
RULES = st.sampled_from(
    ["median", "rung", hyperband.MedianRule(min_peers=1), hyperband.RungRule(min_progress=0.5)]
)


@given(curve_params, st.sampled_from([lin_curve, crossing_curve]))
@settings(max_examples=40, deadline=None)
def test_a_curve_without_a_rule_changes_nothing_but_the_reports(
    params: dict[str, Any], curve: Any
) -> None:
    every = params.pop("report_every")
    plain = simulate(space=SPACE1, duration=epochs, objective=curve, **params)
    curved = simulate(space=SPACE1, duration=epochs, curve=curve, report_every=every, **params)
    assert [(j.job, j.worker, j.start, j.end, j.value) for j in curved.jobs] == [
        (j.job, j.worker, j.start, j.end, j.value) for j in plain.jobs
    ]
    assert curved.best == plain.best
    assert curved.stopped == ()
    assert curved.stats is not None
    assert curved.stats.n_reports >= len(curved.jobs)  # at least one report per job
    assert curved.budget_spent == pytest.approx(plain.budget_spent, rel=REL)


@given(curve_params, RULES, st.sampled_from([lin_curve, crossing_curve]))
@settings(max_examples=60, deadline=None)
def test_a_stopped_job_frees_its_worker_at_the_stop(
    params: dict[str, Any], rule: Any, curve: Any
) -> None:
    r = simulate(space=SPACE1, duration=epochs, curve=curve, early_stop=rule, **params)
    resume = params["resume"]
    by_worker: dict[int, list[hyperband.SimulatedJob]] = {}
    for j in r.jobs:
        by_worker.setdefault(j.worker, []).append(j)
        prev = j.job.previous_budget if resume else None
        assert j.step is not None
        # The job ran exactly as long as its training to the step where it ended.
        assert j.end == pytest.approx(j.start + epochs(j.job.config, j.step, prev), rel=REL)
        origin = j.job.previous_budget or 0
        assert origin < j.step <= j.job.budget
        if j.status == "stopped":
            assert j.value == pytest.approx(curve(j.job.config, j.step))
        else:
            assert j.step == j.job.budget
            assert j.value == pytest.approx(curve(j.job.config, j.job.budget))
    # A worker never runs two jobs at once, and is busy only while a job trains.
    for jobs in by_worker.values():
        jobs.sort(key=lambda j: (j.start, j.job.id))
        for a, b in itertools.pairwise(jobs):
            assert b.start >= a.end
    assert r.stats is not None
    assert r.stats.n_stopped == len(r.stopped)
    assert r.budget_spent == pytest.approx(math.fsum(j.spent or 0 for j in r.jobs), rel=REL)


def test_stopping_saves_time_and_a_stopped_worker_is_not_busy_to_the_full_budget() -> None:
    # W=1: the makespan is the sum of what ran, so a stopped job that kept its worker to its
    # full budget would make both runs equally long.
    kwargs: dict[str, Any] = {"space": SPACE1, "duration": epochs, "curve": lin_curve}
    plain = simulate(27, 3, workers=1, **kwargs)
    stopped = simulate(27, 3, workers=1, early_stop="rung", **kwargs)
    early = [j for j in stopped.stopped if j.step is not None and j.step < j.job.budget]
    assert len(early) == len(stopped.stopped) > 10  # the report at the budget is never judged
    for j in early:
        assert j.end < j.start + epochs(j.job.config, j.job.budget, None)
    assert stopped.makespan == pytest.approx(stopped.total_work, rel=REL)
    assert stopped.makespan < plain.makespan
    assert stopped.budget_spent < plain.budget_spent
    # Curves that never cross: stopping loses nothing, the same configuration wins.
    assert stopped.best is not None
    assert plain.best is not None
    assert stopped.best.config_id == plain.best.config_id


def test_the_report_at_a_step_comes_when_training_reached_it() -> None:
    seen: list[tuple[float, float]] = []

    class Spy:
        def should_stop(self, view: hyperband.StopView) -> bool:
            seen.append((view.job.id, view.step))
            return False

    r = simulate(
        9,
        3,
        workers=2,
        space=SPACE1,
        duration=epochs,
        curve=lin_curve,
        early_stop=Spy(),
        report_every=2,
        resume=True,
    )
    steps: dict[int, list[float]] = {}
    for jid, step in seen:
        steps.setdefault(int(jid), []).append(step)
    for j in r.jobs:
        # The machine does not judge the report at the budget itself (stopping saves nothing).
        assert steps.get(j.job.id, []) == simulate_steps(j.job, 2)[:-1]
    assert r.stats is not None
    assert r.stats.n_reports == sum(len(simulate_steps(j.job, 2)) for j in r.jobs)


def simulate_steps(job: hyperband.Job, every: float) -> list[float]:
    from hyperband.drivers.simulate import report_steps

    return [float(s) for s in report_steps(job, every)]


@pytest.mark.parametrize(
    ("start", "budget", "every", "expected"),
    [
        (0, 9, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
        (3, 9, 2, [4, 6, 8, 9]),
        (0, 1, 3, [1]),
        (1, 3, 0.5, [1.5, 2, 2.5, 3]),
        (0, 0.3, 0.1, [0.1, 0.2, 0.3]),
    ],
)
def test_report_steps(start: float, budget: float, every: float, expected: list[float]) -> None:
    job = hyperband.Job(0, {}, 0, budget, 1, 1 if start else 0, 0, start or None, 0)
    assert simulate_steps(job, every) == pytest.approx(expected)


@pytest.mark.parametrize("exec_mode", ["parallelism", "asynchronous"])
def test_iterations_none_runs_until_the_budget_limit(exec_mode: str) -> None:
    r = simulate(
        27,
        3,
        workers=4,
        iterations=None,
        budget_limit=1000,
        exec_mode=exec_mode,
        space=SPACE1,
        curve=lin_curve,
        early_stop="median",
        resume=True,
    )
    # Jobs are handed out while less than the limit was spent; those running then finish.
    assert 1000 <= r.budget_spent <= 1000 + 4 * 27
    assert r.budget_spent == pytest.approx(math.fsum(j.spent or 0 for j in r.jobs), rel=REL)
    times = [t for t, _, _ in r.best_history]
    assert times == sorted(times)
    spent = [s for _, s, _ in r.best_history]
    assert spent == sorted(spent)
    assert r.best_history[-1][2] == r.best
    assert r.exec_mode == exec_mode


def test_asynchronous_mode_reports_mispromotions() -> None:
    r = simulate(
        27, 3, workers=8, exec_mode="asynchronous", iterations=2, space=SPACE1, curve=crossing_curve
    )
    assert r.stats is not None
    assert r.stats.n_promoted > 0
    # Crossing curves and 8 workers: ASHA promotes some configurations early that later
    # results push out of their rung's top. The count is exactly those, found from the jobs.
    ended = [(j.job, j.status, j.value) for j in r.jobs]
    expected = count_mispromotions(ended, 3, "maximize")
    assert r.stats.n_mispromoted == expected
    assert 0 < expected <= r.stats.n_promoted


def test_timeline_rows_carry_status_step_and_spent() -> None:
    r = simulate(9, 3, workers=2, space=SPACE1, curve=lin_curve, early_stop="rung")
    rows = r.timeline()
    assert {row["status"] for row in rows} == {"succeeded", "stopped"}
    assert all(row["step"] <= row["budget"] and row["spent"] > 0 for row in rows)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"curve": 1}, "curve must be a function"),
        ({"curve": lin_curve, "objective": lin_curve}, "objective must be None when a curve"),
        ({"early_stop": "rung"}, "early_stop needs a curve"),
        ({"curve": lin_curve, "report_every": 0}, "report_every must be a finite number > 0"),
        ({"curve": lin_curve, "report_every": math.nan}, "report_every must be"),
        ({"budget_limit": -1}, "budget_limit must be a finite number > 0"),
        ({"budget_limit": "9"}, "budget_limit must be"),
        ({"curve": lin_curve, "early_stop": "mean"}, "early_stop must be None, one of"),
    ],
)
def test_bad_curve_arguments_raise_a_clear_error(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(HyperbandError, match=needle):
        simulate(9, 3, workers=2, space=SPACE1, **kwargs)


@pytest.mark.parametrize(
    "rule",
    [
        "rung",
        "median",
    ],
)
def test_every_bracket_still_ends_in_a_max_budget_result(rule: str) -> None:
    r = simulate(27, 3, workers=4, space=SPACE1, curve=lin_curve, early_stop=rule, iterations=3)
    brackets = {(j.job.iteration, j.job.bracket) for j in r.jobs}
    finished = {
        (j.job.iteration, j.job.bracket)
        for j in r.jobs
        if j.job.budget == 27 and j.status == "succeeded"
    }
    assert brackets == finished


def test_best_so_far_follows_the_direction() -> None:
    from hyperband.report.plots import best_so_far

    results = [(1.0, 0.5, 1, 0), (1.0, 0.2, 1, 1), (1.0, 0.9, 1, 2), (3.0, 0.4, 3, 0)]
    assert [p.value for p in best_so_far(results, maximize=True)] == [0.5, 0.5, 0.9, 0.4]
    assert [p.value for p in best_so_far(results, maximize=False)] == [0.5, 0.2, 0.2, 0.4]
    assert [p.spent for p in best_so_far(results)] == [1.0, 2.0, 3.0, 6.0]


def test_a_named_sampler_in_simulate() -> None:
    """simulate(sampler=...) as run(sampler=...): the KDE is built over the space; a sampler
    object needs no space; both give the study a model-based sampler."""
    space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    by_name = simulate(27, workers=1, space=space, sampler="kde", iterations=2, seed=3)
    by_object = simulate(27, workers=1, sampler=hyperband.KDESampler(space), iterations=2, seed=3)
    assert [j.job.config for j in by_name.jobs] == [j.job.config for j in by_object.jobs]
    random = simulate(27, workers=1, space=space, iterations=2, seed=3)
    assert [j.job.config for j in by_name.jobs] != [j.job.config for j in random.jobs]
    with pytest.raises(hyperband.ConfigurationError, match="sampler must be one of"):
        simulate(27, workers=1, space=space, sampler="nope")
