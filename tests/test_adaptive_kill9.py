"""Crash safety of adaptive brackets for real: kill -9 the study's process after its bracket
draws began, resume it from the journal, and get the uninterrupted study.

The child (``python -m tests.journal_child JOURNAL serial 1 adaptive EXEC_MODE``) runs
``runner_helpers.ADAPTIVE_STUDY`` with one worker, so the order of results, on which the draws
depend, is the reference's. The gate (``runner_helpers.gated``) holds it at a job chosen after
the first draw; the test waits until every job before it has its result, then SIGKILLs it
mid-job.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.core.asha import bracket_order
from hyperband.core.trust import MIN_TOP

from .runner_helpers import ADAPTIVE_STUDY, SPACE, gated, open_gate, quadratic
from .test_kill9 import gate_of, last_asked, n_results, start


def _key(job: hyperband.Job) -> tuple[Any, ...]:
    return (job.id, job.config_id, job.config, job.budget, job.bracket, job.rung, job.iteration)


def _drawn(jobs: list[hyperband.Job], exec_mode: str) -> list[tuple[int, bool]]:
    """Each bracket choice, in order, as (the job id that started it, whether it differs
    from the cycle's choice there): bracket runs, or asynchronous new configurations."""
    sched = hyperband.schedule(ADAPTIVE_STUDY["max_budget"], ADAPTIVE_STUDY["eta"])
    if exec_mode == "asynchronous":
        order = bracket_order(sched)
        fresh = [j for j in jobs if j.rung == 0]
        return [(j.id, j.bracket != order[i % len(order)]) for i, j in enumerate(fresh)]
    firsts: dict[tuple[int, int], int] = {}
    for j in jobs:
        firsts.setdefault((j.iteration, j.bracket), j.id)
    runs = sorted((jid, s) for (_, s), jid in firsts.items())
    n = len(sched.brackets)
    return [(jid, s != sched.s_max - i % n) for i, (jid, s) in enumerate(runs)]


def _wait_until_held(child: subprocess.Popen[str], journal: Path, held: int) -> None:
    """Until every job before ``held`` has its result and ``held`` was asked: the child is
    then inside job ``held``, at the gate."""
    deadline = time.monotonic() + 60
    while n_results(journal) < held or last_asked(journal) < held:
        assert child.poll() is None, "the child exited before the kill"
        assert time.monotonic() < deadline, "the study made no progress"
        time.sleep(0.005)  # a test watching a file from outside: polling is all it has


@pytest.mark.parametrize("exec_mode", ["parallelism", "asynchronous"])
def test_kill_9_an_adaptive_study_after_its_draws_began_then_resume(
    tmp_path: Path, exec_mode: str
) -> None:
    study = {**ADAPTIVE_STUDY, "exec_mode": exec_mode}
    reference = hyperband.run(quadratic, SPACE, **study, executor="serial", progress=False)
    jobs = sorted((r.job for r in reference.history), key=lambda j: j.id)
    choices = _drawn(jobs, exec_mode)
    first = next(jid for jid, differs in choices if differs)
    kill_at = (first + len(jobs)) // 2  # the job the child is killed in
    assert any(differs for jid, differs in choices if jid > kill_at), "no draw after the kill"

    journal = tmp_path / "study.jsonl"
    open_gate(gate_of(journal), kill_at)
    child = start(journal, "serial", "adaptive", exec_mode)
    try:
        _wait_until_held(child, journal, kill_at)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:  # pragma: no cover - only when an assertion failed
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    asked = {e["job"]["id"]: e["job"] for e in events if e["event"] == "ask"}
    told = [e["job_id"] for e in events if e["event"] == "result"]
    assert max(asked) == kill_at  # killed mid-job
    assert kill_at not in told
    assert sum(asked[jid]["budget"] == study["max_budget"] for jid in told) >= MIN_TOP

    resumed = hyperband.run(
        gated, SPACE, **study, executor="serial", journal=journal, progress=False
    )
    assert [_key(r.job) for r in sorted(resumed.history, key=lambda r: r.job.id)] == [
        _key(j) for j in jobs
    ]
    assert resumed.best == reference.best
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    asked_ids = [e["job"]["id"] for e in events if e["event"] == "ask"]
    assert len(asked_ids) == len(set(asked_ids)) == len(jobs)  # the killed job was not re-asked
    assert sorted(e["job_id"] for e in events if e["event"] == "result") == asked_ids
