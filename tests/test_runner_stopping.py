"""run() with early stopping and model-based samplers, on every executor, with journals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import RunResult

from .machine_model import count_mispromotions
from .runner_helpers import (
    MODEL_STUDY,
    SPACE,
    STUDY,
    curve,
    quadratic,
    reporting,
    reporting_cleanly,
    reporting_too_far,
)

EXECUTORS = ["serial", "threads", "processes"]


def events(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text().splitlines()]


def check_stops(result: RunResult) -> None:
    stopped = [r for r in result.history if r.status == "stopped"]
    assert stopped, "the rung rule stopped no job"
    for r in stopped:
        step = r.extra["stopped_at"]
        start = r.job.previous_budget or 0
        assert start < step < r.job.budget
        assert r.value == pytest.approx(curve(r.job.config, step))  # the stopping report's
        assert r.reports[-1] == (step, r.value)
    promoted_from = {r.job.resume_from for r in result.history if r.job.resume_from is not None}
    assert not promoted_from & {r.job.id for r in stopped}, "a stopped job was promoted"
    assert result.best is not None
    assert result.best.job_id not in {r.job.id for r in stopped}


@pytest.mark.parametrize("executor", EXECUTORS)
def test_early_stopping_on_every_executor(tmp_path: Path, executor: str) -> None:
    journal = tmp_path / "study.jsonl"
    result = hyperband.run(
        reporting,
        SPACE,
        **STUDY,
        early_stop="rung",
        executor=executor,
        workers=2,
        journal=journal,
        progress=False,
    )
    check_stops(result)
    assert result.done
    log = events(journal)
    reports = [e for e in log if e["event"] == "report"]
    assert {e["decision"] for e in reports} == {"CONTINUE", "STOP"}
    assert sum(e["decision"] == "STOP" for e in reports) == result.n_stopped
    assert result.n_stopped + result.n_succeeded == len(result.history)
    # The journal replays every decision into a fresh machine.
    again = RunResult.from_journal(journal)
    assert again.best == result.best
    assert [(r.job.id, r.status, r.value) for r in again.history] == [
        (r.job.id, r.status, r.value) for r in result.history
    ]


def test_one_worker_gives_the_same_study_on_every_executor() -> None:
    def run(executor: str) -> list[tuple[Any, ...]]:
        result = hyperband.run(
            reporting, SPACE, **MODEL_STUDY, executor=executor, workers=1, progress=False
        )
        return [(r.job.id, r.job.config, r.status, r.value) for r in result.history]

    serial = run("serial")
    assert run("threads") == serial
    assert run("processes") == serial


def test_an_objective_that_catches_the_stop_cleans_up_and_stays_stopped(tmp_path: Path) -> None:
    result = hyperband.run(
        reporting_cleanly,
        SPACE,
        **STUDY,
        early_stop="rung",
        executor="processes",
        workers=2,
        journal=tmp_path / "study.jsonl",
        keep_checkpoints="all",
        progress=False,
    )
    stopped = [r for r in result.history if r.status == "stopped"]
    assert stopped
    for r in stopped:
        marker = tmp_path / "study.checkpoints" / f"config-{r.job.config_id}"
        assert (marker / f"stopped-{r.job.id}").read_text() == str(r.extra["stopped_at"])
        assert r.extra["returned"] == r.value  # what it returned is kept, as extra


def test_a_report_outside_the_segment_fails_the_job_with_the_machine_s_error() -> None:
    result = hyperband.run(
        reporting_too_far, SPACE, **STUDY, early_stop="median", executor="threads", progress=False
    )
    assert result.n_failed == len(result.history) > 0
    error = result.history[0].error or ""
    assert "ConfigurationError" in error
    assert "must be in (0, 1]" in error


def test_without_early_stopping_reports_stay_free_form() -> None:
    def objective(config: dict[str, Any], budget: float, context: Any) -> float:
        context.report(1000, 1.0)  # not in budget units: fine without a rule
        return 1.0

    result = hyperband.run(objective, SPACE, max_budget=3, seed=0, progress=False)
    assert all(r.reports == ((1000, 1.0),) for r in result.history)


def test_sampler_by_name_or_object() -> None:
    by_name = hyperband.run(
        quadratic, SPACE, **{**STUDY, "sampler": "kde"}, executor="serial", progress=False
    )
    by_object = hyperband.run(
        quadratic,
        None,
        **{**STUDY, "sampler": hyperband.KDESampler(SPACE)},
        executor="serial",
        progress=False,
    )
    assert [r.job.config for r in by_name.history] == [r.job.config for r in by_object.history]
    random = hyperband.run(quadratic, SPACE, **STUDY, executor="serial", progress=False)
    assert [r.job.config for r in by_name.history] != [r.job.config for r in random.history]
    assert by_name.params["max_budget"] == 27


def test_sampler_options_reach_the_sampler(tmp_path: Path) -> None:
    journal = tmp_path / "study.jsonl"
    hyperband.run(
        quadratic,
        SPACE,
        max_budget=9,
        seed=0,
        sampler="kde",
        sampler_options={"random_fraction": 0.5},
        journal=journal,
        progress=False,
    )
    spec = events(journal)[0]["sampler_spec"]
    assert spec["name"] == "kde"
    assert spec["options"]["random_fraction"] == 0.5
    with pytest.raises(hyperband.JournalMismatchError, match="sampler"):
        hyperband.run(quadratic, SPACE, max_budget=9, seed=0, sampler="kde", journal=journal)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sampler": "tpe"}, hyperband.ConfigurationError, "sampler must be one of"),
        ({"sampler": 3}, hyperband.ArgumentTypeError, "sampler must be 'random', 'kde'"),
        ({"sampler_options": {"a": 1}}, hyperband.ConfigurationError, "needs a named sampler"),
        (
            {"sampler": "kde", "sampler_options": {"top_fraction": 2}},
            hyperband.ConfigurationError,
            "top_fraction",
        ),
        ({"early_stop": "mean"}, hyperband.ConfigurationError, "early_stop must be None"),
    ],
)
def test_bad_sampler_and_rule_arguments(
    tmp_path: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    journal = tmp_path / "study.jsonl"
    with pytest.raises(error, match=message):
        hyperband.run(quadratic, SPACE, max_budget=9, journal=journal, **kwargs)
    assert not journal.exists()  # refused before touching anything


def test_a_sampler_object_and_a_space_is_one_too_many() -> None:
    with pytest.raises(hyperband.ConfigurationError, match="give the sampler once"):
        hyperband.run(quadratic, SPACE, max_budget=9, sampler=hyperband.KDESampler(SPACE))


@pytest.mark.parametrize(("executor", "workers"), [("serial", 1), ("threads", 3)])
def test_asynchronous_mode_runs_and_reports_its_mispromotions(executor: str, workers: int) -> None:
    result = hyperband.run(
        reporting,
        SPACE,
        **STUDY,
        exec_mode="asynchronous",
        early_stop="rung",
        executor=executor,
        workers=workers,
        progress=False,
    )
    assert result.done
    assert result.params["exec_mode"] == "asynchronous"
    assert result.n_stopped > 0
    rung0 = [r for r in result.history if r.job.rung == 0]
    assert len(rung0) == 27 + 12 + 6 + 4  # every bracket's new configurations, once
    assert result.stats is not None
    assert result.stats.n_promoted == sum(r.job.rung > 0 for r in result.history)
    assert result.stats.n_stopped == result.n_stopped
    # The mispromotions reported are those of the history: promoted configurations not in
    # their rung's final top floor(r / eta).
    ended = [(r.job, r.status, r.value) for r in result.history]
    expected = count_mispromotions(ended, STUDY["eta"], result.params["mode"])
    assert result.stats.n_mispromoted == expected
    if executor == "serial":  # one worker: a reproducible study, with 3 mispromotions
        assert expected == 3
    assert json.loads(result.to_json())["stats"]["n_mispromoted"] == expected


def test_a_stop_whose_result_was_never_written_is_recorded_on_resume(tmp_path: Path) -> None:
    """Killed between a stop and the stopped job's result: the journal shows the stop, the
    resumed run records the job as stopped (and writes its result), and runs nothing twice."""
    journal = tmp_path / "study.jsonl"
    full = hyperband.run(
        reporting, SPACE, **MODEL_STUDY, executor="serial", journal=journal, progress=False
    )
    lines = journal.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if '"decision":"STOP"' in line)
    stopped_id = json.loads(lines[cut])["job_id"]
    journal.write_text("".join(lines[: cut + 1]))
    partial = RunResult.from_journal(journal)
    assert not partial.done
    last = partial.history[-1]
    assert (last.job.id, last.status) == (stopped_id, "stopped")
    assert last.extra["after_stop"] == "the run ended before the job did"
    resumed = hyperband.run(
        reporting, SPACE, **MODEL_STUDY, executor="serial", journal=journal, progress=False
    )
    results = [e["job_id"] for e in events(journal) if e["event"] == "result"]
    assert sorted(results) == sorted(r.job.id for r in full.history)
    assert resumed.best == full.best


def test_a_journal_whose_report_decisions_the_machine_does_not_make_is_refused(
    tmp_path: Path,
) -> None:
    """Replay compares every report's decision: one CONTINUE turned into STOP (a hand edit, or a
    rule of the same class with other thresholds) is an error, not a silent resume."""
    journal = tmp_path / "study.jsonl"
    hyperband.run(
        reporting, SPACE, **MODEL_STUDY, executor="serial", journal=journal, progress=False
    )
    RunResult.from_journal(journal)  # the journal as written replays
    lines = journal.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if '"decision":"CONTINUE"' in line)
    job_id = json.loads(lines[at])["job_id"]
    lines[at] = lines[at].replace('"decision":"CONTINUE"', '"decision":"STOP"')
    journal.write_text("".join(lines))
    with pytest.raises(hyperband.JournalError, match=rf"decides CONTINUE on job {job_id}'s report"):
        RunResult.from_journal(journal)
