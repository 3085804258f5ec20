"""Resuming a journal: the notice at the start, and ``retry_failed`` (re-running failed jobs)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import RunResult
from hyperband.drivers.journal import JournalError, read

from . import runner_helpers as h
from .runner_helpers import SPACE, STUDY, best_of, outcomes

# Jobs at a budget below this (an environment variable) fail: with STUDY, every job of the
# first bracket's first rung (27 jobs at budget 1), so that bracket ends without a promotion.
FLAG = "HYPERBAND_TEST_FAIL_BELOW"


def fragile(config: dict[str, Any], budget: float) -> float:
    below = os.environ.get(FLAG)
    if below is not None and budget < float(below):
        raise RuntimeError(f"out of memory at budget {budget}")
    return h.quality(config, budget)


def picky(config: dict[str, Any], budget: float) -> float:
    """Fails for some configurations (x below h.BAD) while the flag is set."""
    if os.environ.get(FLAG) is not None and config["x"] < h.BAD:
        raise RuntimeError(f"x too small: {config['x']:.3f}")
    return h.quality(config, budget)


def run(objective: Any = fragile, **kwargs: Any) -> RunResult:
    options: dict[str, Any] = {**STUDY, "progress": False, "executor": "serial", **kwargs}
    return hyperband.run(objective, SPACE, **options)


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("executor", ["serial", "threads"])
def test_retry_failed_reruns_the_failed_jobs_and_promotions_follow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    path = tmp_path / "study.jsonl"
    monkeypatch.setenv(FLAG, "2")
    first = run(journal=path, executor=executor, workers=3)
    assert first.n_failed == 27
    assert len(first.history) == 69 - 9 - 3 - 1  # bracket 0 never promoted

    monkeypatch.delenv(FLAG)
    count = len(events(path))
    again = run(journal=path, executor=executor, workers=3)  # no retry: nothing to run
    assert again.n_failed == 27
    assert len(events(path)) == count

    fixed = run(journal=path, executor=executor, workers=3, retry_failed=True)
    assert fixed.n_failed == 0
    assert fixed.n_succeeded == 69
    reference = run(executor="serial")
    assert best_of(fixed) == best_of(reference)
    assert outcomes(fixed) == outcomes(reference)
    retried = [r for r in fixed.history if r.attempts > 1]
    assert len(retried) == 27
    assert {r.job.budget for r in retried} == {1}
    assert all(r.attempts == 2 for r in retried)
    # The journal tells the same story, read back alone.
    replayed = RunResult.from_journal(path)
    assert replayed.n_failed == 0
    assert replayed.n_succeeded == 69
    assert outcomes(replayed) == outcomes(reference)
    assert sum(e["event"] == "retry" for e in events(path)) == 27
    # And a resume of the finished study runs nothing more.
    count = len(events(path))
    run(journal=path, executor=executor, retry_failed=True)
    assert len(events(path)) == count


def test_a_retried_job_that_fails_again_can_be_retried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "study.jsonl"
    monkeypatch.setenv(FLAG, "2")
    run(journal=path)
    again = run(journal=path, retry_failed=True)
    assert again.n_failed == 27
    assert {r.attempts for r in again.history if r.status == "failed"} == {2}
    assert RunResult.from_journal(path).n_failed == 27
    monkeypatch.delenv(FLAG)
    fixed = run(journal=path, retry_failed=True)
    assert fixed.n_failed == 0
    assert fixed.n_succeeded == 69
    assert {r.attempts for r in fixed.history if r.job.budget == 1} == {3}
    assert outcomes(RunResult.from_journal(path)) == outcomes(run())


def test_failures_whose_rung_went_on_are_not_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed job whose rung closed without it (and promoted others) cannot come back:
    replaying the journal with it pending would not give the machine's later decisions."""
    path = tmp_path / "study.jsonl"
    monkeypatch.setenv(FLAG, "1")
    first = run(picky, journal=path)
    assert first.n_failed > 0
    monkeypatch.delenv(FLAG)
    fixed = run(picky, journal=path, retry_failed=True, progress=True)
    err = capsys.readouterr().err
    retried = first.n_failed - fixed.n_failed
    assert 0 < retried < first.n_failed  # the last failures of their rungs came back
    assert (
        f"retry_failed: re-running {retried} of the {first.n_failed} failed jobs; "
        f"{fixed.n_failed} cannot be re-run: the study went on from their failure"
    ) in err
    assert len(fixed.history) == len(first.history)
    replayed = RunResult.from_journal(path)
    assert outcomes(replayed) == outcomes(fixed)


def test_resuming_says_so_with_the_counts_and_the_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "study.jsonl"
    monkeypatch.setenv(FLAG, "2")
    run(journal=path)
    capsys.readouterr()
    run(journal=path, progress=True)
    err = capsys.readouterr().err
    assert (
        f"resuming the journal {str(path)!r}: 56 results: 29 succeeded, 27 failed, 0 stopped\n"
        in err
    )
    assert "27 failed jobs are not re-run" in err
    assert "retry_failed=True" in err
    with pytest.raises(hyperband.ConfigurationError, match="no journal was given"):
        run(retry_failed=True)
    # A new journal is not a resume.
    run(journal=tmp_path / "new.jsonl", progress=True)
    assert "resuming" not in capsys.readouterr().err


def test_a_retry_event_without_a_failure_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(h.quadratic, journal=path)
    with path.open("a") as f:
        f.write(json.dumps({"event": "retry", "job_id": 0, "time": 0}) + "\n")
    with pytest.raises(JournalError, match="retry of job 0, which has no failed result"):
        RunResult.from_journal(path)
    assert read(path)[0][-1]["event"] == "retry"
