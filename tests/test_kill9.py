"""Crash safety for real: kill -9 a study's process at random moments, then resume it.

Each round starts ``python -m tests.journal_child`` on the same journal, waits until the study
has made progress, waits a random moment more, and SIGKILLs it. A final round runs to the end.
The journal must then hold each job's result exactly once, and the study must equal an
uninterrupted run with the same seed.

A gate file (``runner_helpers.gated``) lets each round's child run only a dozen jobs past the
ones already handed out, so that however slowly this process is scheduled on a loaded
machine, the child cannot finish the study before the kill (the Ctrl-C test once saw a child
finish first and exit 0).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hyperband
from hyperband import RunResult

from .runner_helpers import (
    CURVE_STUDY,
    GATE,
    MODEL_STUDY,
    SPACE,
    STUDY,
    best_of,
    open_gate,
    outcomes,
    quadratic,
    reporting,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reference() -> RunResult:
    return hyperband.run(quadratic, SPACE, **STUDY, executor="serial", progress=False)


def start(journal: Path, executor: str, *extra: str) -> subprocess.Popen[str]:
    workers = "1" if extra else "3"
    # faulthandler: a child that hangs is sent SIGABRT, and prints where each thread was.
    python = [sys.executable, "-X", "faulthandler", "-m", "tests.journal_child"]
    return subprocess.Popen(
        [*python, str(journal), executor, workers, *extra],
        cwd=ROOT,
        env={**os.environ, GATE: str(gate_of(journal))},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def gate_of(journal: Path) -> Path:
    return journal.with_name("gate")


def complete_lines(journal: Path) -> list[bytes]:
    """The journal's whole lines: a child writing right now may have written half of its last
    one (CI once parsed '{"event":"report"' alone)."""
    try:
        data = journal.read_bytes()
    except FileNotFoundError:
        return []
    return data[: data.rfind(b"\n") + 1].splitlines()


def last_asked(journal: Path) -> int:
    lines = complete_lines(journal)
    ids = [json.loads(line)["job"]["id"] for line in lines if b'"event":"ask"' in line]
    return max(ids, default=-1)


def n_results(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b'"event":"result"')
    except FileNotFoundError:
        return 0


def wait_for_progress(child: subprocess.Popen[str], journal: Path, more: int) -> bool:
    """Wait until ``more`` results were added (True), or the child exited (False)."""
    target = n_results(journal) + more
    deadline = time.monotonic() + 30
    while n_results(journal) < target:
        if child.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the study made no progress"
        time.sleep(0.005)  # a test watching a file from outside: polling is all it has
    return True


def check(journal: Path, reference: RunResult) -> None:
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    asked = [e["job"]["id"] for e in events if e["event"] == "ask"]
    told = [e["job_id"] for e in events if e["event"] == "result"]
    assert len(asked) == len(set(asked)) == 69  # each job asked once (re-runs are not re-asked)
    assert sorted(told) == sorted(asked)  # and has exactly one result
    resumed = RunResult.from_journal(journal)
    assert best_of(resumed) == best_of(reference)
    assert outcomes(resumed) == outcomes(reference)
    assert len(resumed.history) == len(reference.history) == 69


@pytest.mark.parametrize(("executor", "kills"), [("threads", 5), ("processes", 3)])
def test_kill_9_at_random_moments_then_resume(
    tmp_path: Path, reference: RunResult, executor: str, kills: int
) -> None:
    journal = tmp_path / "study.jsonl"
    rng = random.Random(f"{executor}-{kills}")
    killed = 0
    for _ in range(kills):
        open_gate(gate_of(journal), last_asked(journal) + 12)
        child = start(journal, executor)
        try:
            if not wait_for_progress(child, journal, rng.randint(1, 6)):
                break  # it finished before we could kill it
            time.sleep(rng.uniform(0, 0.05))
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            killed += child.returncode == -signal.SIGKILL
        finally:
            if child.poll() is None:  # pragma: no cover - only when an assertion failed
                child.kill()
            child.communicate()
    assert killed == kills  # the gate kept every round's child from finishing
    assert n_results(journal) < 69
    open_gate(gate_of(journal), 10**9)
    child = start(journal, executor)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["records"] == 69
    assert summary["best"]["value"] == reference.best.value  # type: ignore[union-attr]
    check(journal, reference)


def test_ctrl_c_cancels_the_running_jobs_and_the_study_resumes(
    tmp_path: Path, reference: RunResult
) -> None:
    journal = tmp_path / "study.jsonl"
    open_gate(gate_of(journal), 8)  # jobs 0-7 may finish; the study waits at job 8
    child = start(journal, "processes")
    try:
        assert wait_for_progress(child, journal, 5)
        child.send_signal(signal.SIGINT)
        try:
            out, err = child.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when it hangs
            child.send_signal(signal.SIGABRT)
            pytest.fail("the run did not end on Ctrl-C:\n" + child.communicate(timeout=30)[1])
    finally:
        if child.poll() is None:  # pragma: no cover - only when an assertion failed
            child.kill()
            child.communicate()  # reaped here, not warned of in whichever test comes next
    assert child.returncode == 130, err
    assert "interrupted" in out
    assert "run interrupted" in err  # the driver's log line
    events = [json.loads(line) for line in journal.read_text().splitlines()]  # all complete
    results = [e for e in events if e["event"] == "result"]
    assert 5 <= len(results) <= 8
    assert all(e["status"] == "succeeded" for e in results)  # no job failed of the Ctrl-C
    workers = {int(e["worker"].split("/")[1]) for e in results}
    assert not any(_alive(pid) for pid in workers), "worker processes outlived the run"

    open_gate(gate_of(journal), 10**9)
    child = start(journal, "processes")
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    check(journal, reference)


def _alive(pid: int, wait: float = 5.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize(("executor", "study"), [("threads", "model"), ("processes", "curve")])
def test_kill_9_a_study_with_a_model_sampler_and_early_stopping_then_resume(
    tmp_path: Path, executor: str, study: str
) -> None:
    """KDE draws and stop decisions depend on the order of calls, which the journal keeps: a
    study killed at random moments (mid-job, mid-report) and resumed equals an uninterrupted
    one. One worker in serial mode makes that order reproducible. With the curve rule, on
    processes: its decisions replay exactly too."""
    kwargs = MODEL_STUDY if study == "model" else CURVE_STUDY
    reference = hyperband.run(reporting, SPACE, **kwargs, executor="serial", progress=False)
    assert reference.n_stopped > 0
    total = len(reference.history)
    journal = tmp_path / "study.jsonl"
    killed = mid_job = 0
    while killed < 6:
        open_gate(gate_of(journal), last_asked(journal) + 8)
        child = start(journal, executor, study)
        try:
            # The gate holds the next job after its first report: kill it there, mid-job, so
            # that its re-run must catch up with the reports of its killed attempt.
            if not wait_for_progress(child, journal, 1):
                break
            mid_job += wait_for_a_report_mid_job(child, journal)
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            killed += child.returncode == -signal.SIGKILL
        finally:
            if child.poll() is None:  # pragma: no cover - only when an assertion failed
                child.kill()
            child.communicate()
    assert killed == 6
    assert mid_job >= 2
    open_gate(gate_of(journal), 10**9)
    child = start(journal, executor, study)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    asked = [e["job"]["id"] for e in events if e["event"] == "ask"]
    told = [e["job_id"] for e in events if e["event"] == "result"]
    assert len(asked) == len(set(asked)) == total
    assert sorted(told) == sorted(asked)
    resumed = RunResult.from_journal(journal)
    assert [(r.job.config, r.job.budget) for r in sorted(resumed.history, key=_job_id)] == [
        (r.job.config, r.job.budget) for r in sorted(reference.history, key=_job_id)
    ]
    assert outcomes(resumed) == outcomes(reference)
    assert best_of(resumed) == best_of(reference)


def wait_for_a_report_mid_job(child: subprocess.Popen[str], journal: Path) -> bool:
    """Wait (up to 2 s) until the journal ends with a job's report before its budget."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and child.poll() is None:
        lines = complete_lines(journal)
        if lines and b'"event":"report"' in lines[-1]:
            last = json.loads(lines[-1])
            asked = [json.loads(line) for line in lines if b'"event":"ask"' in line]
            job = next(e["job"] for e in asked if e["job"]["id"] == last["job_id"])
            if last["decision"] == "CONTINUE" and last["step"] < job["budget"]:
                return True
        time.sleep(0.002)
    return False


def _job_id(record: hyperband.JobRecord) -> int:
    return record.job.id
