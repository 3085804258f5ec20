"""Every display of the budget spent agrees: a stopped job costs up to its stop.

The progress line of ``run``, ``RunResult.spent``, the text report and the HTML page (its
headline and its "budget spent" axis) all count a job from scratch as the schedule does: its
budget, or, for a job the stopping rule stopped, the step of its last report. And the HTML
page shows the jobs as the journal's replay has them, also when a stop was the last thing the
journal recorded of a job before the run was killed.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.cli import main
from hyperband.report.html import data as _data
from hyperband.report.html import page as _page

from .runner_helpers import SPACE, quality


def reporting(config: dict[str, Any], budget: float, context: Any) -> float:
    """Reports every epoch from where the previous rung ended (so a stop ends it early)."""
    start = int(context.job.previous_budget or 0)
    for epoch in range(start + 1, int(budget) + 1):
        context.report(epoch, quality(config, epoch))
    return quality(config, budget)


def events_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def expected_spent(events: list[dict[str, Any]]) -> float:
    """From the raw journal, not from any code under test: a finished job costs its budget,
    a stopped one the step of its last report (both counted from scratch)."""
    budget = {e["job"]["id"]: e["job"]["budget"] for e in events if e["event"] == "ask"}
    last: dict[int, float] = {}
    for e in events:
        if e["event"] == "report":
            last[e["job_id"]] = max(last.get(e["job_id"], -math.inf), float(e["step"]))
    total = 0.0
    for e in events:
        if e["event"] == "result":
            job = e["job_id"]
            total += last[job] if e["status"] == "stopped" else float(budget[job])
    return total


@pytest.fixture(scope="module")
def stopped_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A finished study with stopped jobs, and the stderr of its progress display."""
    path = tmp_path_factory.mktemp("stopped") / "s.jsonl"
    capture = pytest.MonkeyPatch()
    err = io.StringIO()
    capture.setattr(sys, "stderr", err)  # not a terminal: plain progress lines
    try:
        result = hyperband.run(
            reporting,
            SPACE,
            max_budget=27,
            eta=3,
            seed=5,
            early_stop="rung",
            exec_mode="serial",
            executor="serial",
            journal=path,
            progress=True,
        )
    finally:
        capture.undo()
    assert result.n_stopped > 0  # the study tests what it claims to
    assert result.done
    return path, err.getvalue()


def test_every_display_of_the_budget_spent_agrees(
    stopped_study: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, progress = stopped_study
    expected = expected_spent(events_of(path))
    result = hyperband.RunResult.from_journal(path)
    scheduled = float(result.schedule.total_budget)
    assert expected < scheduled  # the stops saved budget
    # The progress display's last line.
    last = progress.strip().splitlines()[-1]
    match = re.search(r"\(([\d.e+]+) of ([\d.e+]+) budget units\)", last)
    assert match is not None, last
    assert float(match.group(1)) == pytest.approx(expected)
    assert float(match.group(2)) == scheduled
    # The text report.
    assert main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"budget: {expected:g} units spent of {scheduled:g} scheduled" in out
    # The HTML page: its headline and the end of its "budget spent" axis.
    data = _data.read_journal(path)
    stats = {label: value for value, label in _page._stats(data, _page.best_job(data))}
    assert float(stats["budget units spent"]) == pytest.approx(expected)
    by_budget, _ = _data.best_curves(data)
    assert by_budget.x[-1] == pytest.approx(expected)
    assert result.spent == pytest.approx(expected)


def test_a_job_stopped_before_a_kill_is_stopped_on_the_page(
    stopped_study: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = stopped_study
    lines = path.read_text().splitlines(keepends=True)
    events = [json.loads(line) for line in lines]
    # The journal as a kill leaves it right after a stop: the stopped job has no result.
    at = next(k for k, e in enumerate(events) if e["event"] == "report" and e["decision"] == "STOP")
    stopped_job = events[at]["job_id"]
    cut = tmp_path / "killed.jsonl"
    cut.write_text("".join(lines[: at + 1]))
    replayed = hyperband.RunResult.from_journal(cut)
    assert not replayed.done
    want = {r.job.id: r.status for r in replayed.history}
    assert want[stopped_job] == "stopped"
    data = _data.read_journal(cut)
    assert {j.id: j.status for j in data.jobs}[stopped_job] == "stopped"
    want.update({job.id: _data.PENDING for job in replayed.pending})
    assert {j.id: j.status for j in data.jobs} == want
    assert [j.id for j in data.finished] == [r.job.id for r in replayed.history]
    assert data.complete is False
    assert math.fsum(j.cost for j in data.finished) == pytest.approx(replayed.spent)
    # And the page renders it.
    assert "budget units spent" in _page.render(data)
