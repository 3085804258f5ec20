"""brackets="adaptive": Hyper-Tune's bracket choice from trust weights measured on results."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.core.adaptive import BracketChooser
from hyperband.core.errors import ConfigurationError

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def _value(config: dict[str, Any], budget: float, liar: bool) -> float:
    """Maximize. With ``liar``, budgets below 27 rank configurations backwards."""
    x = config["x"]
    return (1 - x if liar and budget < 27 else x) + budget / 1000


def _drive(hb: hyperband.Hyperband, liar: bool, limit: int = 100_000) -> list[hyperband.Job]:
    jobs = []
    while len(jobs) < limit:
        job = hb.ask()
        if not isinstance(job, hyperband.Job):
            break
        jobs.append(job)
        hb.tell(job.id, _value(job.config, job.budget, liar))
    return jobs


def _runs(jobs: list[hyperband.Job]) -> collections.Counter[int]:
    return collections.Counter(j.bracket for j in jobs if j.rung == 0 and j.config_id >= 0)


def _machine(brackets: str, **kw: Any) -> hyperband.Hyperband:
    options: dict[str, Any] = {"max_budget": 27, "eta": 3, "iterations": 12, "seed": 4}
    return hyperband.Hyperband(SPACE, brackets=brackets, **{**options, **kw})


def _bracket_runs(jobs: list[hyperband.Job]) -> dict[tuple[int, int], list[hyperband.Job]]:
    runs: dict[tuple[int, int], list[hyperband.Job]] = collections.defaultdict(list)
    for j in jobs:
        runs[(j.iteration, j.bracket)].append(j)
    return runs


@pytest.mark.parametrize("liar", [False, True])
def test_every_run_keeps_its_bracket_schedule(liar: bool) -> None:
    hb = _machine("adaptive")
    jobs = _drive(hb, liar)
    assert hb.done
    runs = _bracket_runs(jobs)
    assert len(runs) == 12 * len(hb.schedule.brackets)  # iterations x brackets runs
    for (_, s), run in runs.items():
        rungs = hb.schedule.bracket(s).rungs
        counts = collections.Counter(j.rung for j in run)
        assert [counts[r.index] for r in rungs] == [r.n_configs for r in rungs]
        assert all(j.budget == rungs[j.rung].budget for j in run)
    assert len({j.config_id for j in jobs if j.rung == 0}) == sum(1 for j in jobs if j.rung == 0)


def test_brackets_whose_budgets_lie_run_less_often() -> None:
    """With cheap budgets that rank backwards, the brackets that start on them lose runs to
    the bracket that starts at max_budget; with honest budgets the shares stay near even."""
    s_max = 3
    liars = _bracket_runs_per_s(_drive(_machine("adaptive"), True))
    honest = _bracket_runs_per_s(_drive(_machine("adaptive"), False))
    cycle = _bracket_runs_per_s(_drive(_machine("cycle"), True))
    assert cycle == dict.fromkeys(range(s_max + 1), 12)
    assert liars[0] > 2 * liars[s_max]  # s=0 runs at 27 only; s_max starts at 1
    assert liars[0] > honest[0]


def _bracket_runs_per_s(jobs: list[hyperband.Job]) -> dict[int, int]:
    return dict(collections.Counter(s for (_, s) in _bracket_runs(jobs)))


def test_the_weights_measure_rank_consistency_against_max_budget() -> None:
    hb = _machine("adaptive")
    chooser: BracketChooser = hb._brackets._chooser  # type: ignore[attr-defined]
    _drive(hb, True, limit=200)
    p = chooser.consistency()
    assert p[27.0] == 1.0
    assert p[9.0] is not None
    assert p[9.0] < 0.1
    w = chooser.weights()
    assert sum(w.values()) == pytest.approx(1.0)
    assert w[0] > 0.9


def test_adaptive_brackets_are_deterministic_and_restore_from_a_snapshot() -> None:
    a, b = _drive(_machine("adaptive"), True), _drive(_machine("adaptive"), True)
    assert [(j.id, j.iteration, j.bracket, j.config) for j in a] == [
        (j.id, j.iteration, j.bracket, j.config) for j in b
    ]
    hb = _machine("adaptive")
    head = _drive(hb, True, limit=150)
    restored = hyperband.Hyperband.restore(json.loads(json.dumps(hb.snapshot())))
    assert restored.params["brackets"] == "adaptive"
    tail = _drive(restored, True)
    assert [(j.id, j.bracket, j.config) for j in head + tail] == [
        (j.id, j.bracket, j.config) for j in a
    ]


def test_serial_mode_runs_one_adaptive_bracket_at_a_time() -> None:
    hb = _machine("adaptive", exec_mode="serial", iterations=4)
    seen: set[tuple[int, int]] = set()
    open_run: tuple[int, int] | None = None
    while True:
        job = hb.ask()
        if job is hyperband.DONE:
            break
        assert isinstance(job, hyperband.Job)
        run = (job.iteration, job.bracket)
        if run != open_run:
            assert run not in seen
            seen.add(run)
            open_run = run
        hb.tell(job.id, _value(job.config, job.budget, True))
    assert len(seen) == 4 * len(hb.schedule.brackets)


def test_cycle_stays_the_default_and_out_of_params() -> None:
    hb = hyperband.Hyperband(SPACE, max_budget=27)
    assert "brackets" not in hb.params  # journals and snapshots of cycled studies unchanged
    assert _machine("adaptive").params["brackets"] == "adaptive"


def test_bad_bracket_options_get_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match=r"brackets must be one of .*'cycle'.*'x'"):
        hyperband.Hyperband(SPACE, max_budget=27, brackets="x")
    # asynchronous mode draws each new configuration's bracket (tests/test_adaptive_async.py)
    hb = hyperband.Hyperband(SPACE, max_budget=27, brackets="adaptive", exec_mode="asynchronous")
    assert hb.params["brackets"] == "adaptive"


def test_a_malformed_adaptive_snapshot_is_refused() -> None:
    hb = _machine("adaptive")
    _drive(hb, True, limit=20)
    state = json.loads(json.dumps(hb.snapshot()))
    del state["adaptive"]
    with pytest.raises(hyperband.SnapshotError, match="adaptive"):
        hyperband.Hyperband.restore(state)


def _objective(config: dict[str, Any], budget: float) -> float:
    return _value(config, budget, True)


@pytest.mark.parametrize("cut", [0.2, 0.45, 0.7, 0.95])
def test_a_journal_cut_anywhere_resumes_to_the_same_adaptive_study(
    tmp_path: Path, cut: float
) -> None:
    """What a kill -9 leaves (a journal cut after any event, the last line torn) resumes to
    the uninterrupted study: the bracket draws depend only on the seed and the calls."""
    options: dict[str, Any] = {
        "max_budget": 27,
        "iterations": 6,
        "seed": 11,
        "brackets": "adaptive",
        "executor": "serial",
        "progress": False,
    }
    whole = tmp_path / "whole.jsonl"
    reference = hyperband.run(_objective, SPACE, journal=whole, **options)
    assert reference.params["brackets"] == "adaptive"
    lines = whole.read_text().splitlines(keepends=True)
    k = int(len(lines) * cut)
    journal = tmp_path / "cut.jsonl"
    journal.write_text("".join(lines[:k]) + lines[k][: len(lines[k]) // 2])
    resumed = hyperband.run(_objective, SPACE, journal=journal, **options)
    key = lambda r: (r.job.id, r.job.iteration, r.job.bracket, r.job.config, r.value)  # noqa: E731
    assert sorted(map(key, resumed.history)) == sorted(map(key, reference.history))
    replayed = hyperband.RunResult.from_journal(journal)
    assert sorted(map(key, replayed.history)) == sorted(map(key, reference.history))
    # the draws did adapt: the cheap brackets lost runs to s=0 (6 runs each in the cycle)
    runs = collections.Counter(s for (_, s) in _bracket_runs([r.job for r in reference.history]))
    assert runs[0] > 6


def test_a_cycled_journal_refuses_to_resume_as_adaptive(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    options: dict[str, Any] = {"max_budget": 9, "seed": 1, "executor": "serial", "progress": False}
    hyperband.run(_objective, SPACE, journal=journal, brackets="cycle", **options)
    with pytest.raises(hyperband.JournalMismatchError, match="brackets"):
        hyperband.run(_objective, SPACE, journal=journal, brackets="adaptive", **options)


def test_simulate_takes_adaptive_brackets() -> None:
    result = hyperband.simulate(
        27, 3, workers=4, iterations=6, seed=2, objective=_objective, brackets="adaptive"
    )
    runs = collections.Counter(s for (_, s) in _bracket_runs([j.job for j in result.jobs]))
    assert sum(runs.values()) == 6 * 4
    assert runs[0] > 6  # the cycle would run each bracket 6 times


@pytest.mark.parametrize("exec_mode", ["parallelism", "asynchronous"])
def test_the_command_line_runs_adaptive_brackets(tmp_path: Path, exec_mode: str) -> None:
    from hyperband.cli import main

    space = tmp_path / "space.json"
    space.write_text(json.dumps({"x": SPACE["x"], "y": SPACE["x"]}))
    journal = tmp_path / "j.jsonl"
    argv = ["run", "tests.fixture_objectives:quadratic", "--space", str(space)]
    argv += ["--max-budget", "9", "--iterations", "4", "--seed", "1", "--executor", "serial"]
    argv += ["--journal", str(journal), "--no-progress", "--brackets", "adaptive"]
    argv += ["--exec-mode", exec_mode]
    assert main(argv) == 0
    params = hyperband.RunResult.from_journal(journal).params
    assert (params["brackets"], params["exec_mode"]) == ("adaptive", exec_mode)
    assert main(["run", "tests.fixture_objectives:quadratic", "--brackets", "sometimes"]) == 2


@pytest.mark.parametrize("exec_mode", ["parallelism", "asynchronous"])
def test_the_nni_advisor_takes_brackets(exec_mode: str) -> None:
    from .optional import require

    require("nni")
    from nni.runtime.tuner_command_channel import CommandType

    from hyperband.integrations.nni import HyperbandAdvisor

    advisor = HyperbandAdvisor(
        R=9, brackets="adaptive", exec_mode=exec_mode, command_channel_url="ws://_unittest_"
    )
    advisor.send = lambda command, data: None  # type: ignore[method-assign]
    advisor.process_command(CommandType.Initialize, SPACE)
    assert advisor.machine is not None
    assert advisor.machine.params["brackets"] == "adaptive"
    assert advisor.machine.exec_mode == exec_mode
    with pytest.raises(ConfigurationError, match="brackets"):
        HyperbandAdvisor(R=9, brackets="often", command_channel_url="ws://_unittest_")
