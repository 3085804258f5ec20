"""Journals and snapshots written by release 0.1 (tests/fixtures/release_0_1) still load.

The fixtures were written once, by the commit before the package moved into layers
(77b8613), with tests/fixture_objectives.py: one study of each kind (random sampler, KDE
sampler, early stopping, asynchronous mode with stopping). expected.json holds what that
release computed: each study's best result and history, and what a machine restored from each
snapshot handed out next. Nothing here may be regenerated: a failure means old files no longer
replay, which is the contract.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import hyperband

from .fixture_objectives import curve, quadratic

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "release_0_1"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())
SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
KINDS = {
    "random": (quadratic, {}),
    "kde": (quadratic, {"sampler": "kde", "iterations": 2}),
    "early_stop": (curve, {"early_stop": "rung"}),
    "asynchronous": (curve, {"exec_mode": "asynchronous", "early_stop": "median"}),
}


def _best(result: hyperband.RunResult) -> dict[str, Any]:
    return json.loads(result.to_json())["best"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_old_journal_replays_to_the_same_result(kind: str) -> None:
    result = hyperband.RunResult.from_journal(FIXTURES / f"{kind}.jsonl")
    doc = json.loads(result.to_json())
    assert doc["best"] == EXPECTED[kind]["best"]
    assert len(doc["history"]) == EXPECTED[kind]["n_history"]
    statuses = sorted({h.get("status") for h in doc["history"]} - {None})
    assert statuses == EXPECTED[kind]["statuses"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_old_journal_cut_in_half_resumes_to_the_same_result(kind: str, tmp_path: Path) -> None:
    """Replay the first half into a fresh machine and run the rest: the machine is
    deterministic, so the study ends where release 0.1 ended it."""
    lines = (FIXTURES / f"{kind}.jsonl").read_text().splitlines(keepends=True)
    journal = tmp_path / "study.jsonl"
    journal.write_text("".join(lines[: len(lines) // 2]))
    result = _resume(kind, journal, KINDS[kind][0])
    assert _best(result) == EXPECTED[kind]["best"]


def _resume(kind: str, journal: Path, objective: Any) -> hyperband.RunResult:
    """Run the study of ``kind`` on ``journal`` with release 0.1's parameters."""
    options = KINDS[kind][1]
    return hyperband.run(
        objective,
        SPACE,
        max_budget=9,
        eta=3,
        seed=7,
        executor="serial",
        journal=journal,
        progress=False,
        **options,
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_finished_old_journal_resumes_without_running_a_job(kind: str, tmp_path: Path) -> None:
    journal = tmp_path / "study.jsonl"
    shutil.copy(FIXTURES / f"{kind}.jsonl", journal)
    before = journal.read_text()
    calls: list[float] = []
    objective = KINDS[kind][0]

    def counted(config: dict[str, Any], budget: float, context: Any = None) -> float:
        calls.append(budget)
        raise AssertionError("a finished study ran a job")

    counted.__module__, counted.__qualname__ = objective.__module__, objective.__qualname__
    result = _resume(kind, journal, counted)
    assert calls == []
    assert _best(result) == EXPECTED[kind]["best"]
    assert journal.read_text().startswith(before)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_old_snapshot_restores_and_continues_as_release_0_1_did(kind: str) -> None:
    state = json.loads((FIXTURES / f"{kind}.snapshot.json").read_text())
    hb = hyperband.Hyperband.restore(state)
    handed = []
    while True:
        job = hb.ask()
        if not isinstance(job, hyperband.Job):
            break
        handed.append([job.id, job.config_id, job.budget, job.config])
        hb.tell(job.id, quadratic(job.config, job.budget))
    assert handed == EXPECTED[kind]["snapshot_continuation"]
    best = hb.best
    assert best is not None
    assert [best.config_id, best.value, best.budget] == EXPECTED[kind]["snapshot_best"]
