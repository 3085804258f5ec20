"""The journal: its format, resume from any prefix, torn lines, refusals."""

from __future__ import annotations

import functools
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import HyperbandError, RunResult
from hyperband.drivers.journal import Journal, JournalError, JournalMismatchError, read

from . import runner_helpers as h
from .runner_helpers import SPACE, STUDY, best_of, outcomes


def run(objective: Any = h.quadratic, **kwargs: Any) -> RunResult:
    options: dict[str, Any] = {**STUDY, "progress": False, "executor": "serial", **kwargs}
    return hyperband.run(objective, SPACE, **options)


@pytest.fixture(scope="module")
def reference() -> RunResult:
    return run()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def same_study(a: RunResult, b: RunResult) -> None:
    assert best_of(a) == best_of(b)
    assert outcomes(a) == outcomes(b)
    assert len(a.history) == len(b.history)


class Counting:
    """Counts its calls (serial runs only)."""

    def __init__(self, objective: Any = h.quadratic) -> None:
        self.calls = 0
        self.objective = objective
        functools.update_wrapper(self, objective)  # the journal knows it as the objective

    def __call__(self, config: dict[str, Any], budget: float) -> Any:
        self.calls += 1
        return self.objective(config, budget)


def test_the_journal_holds_the_study_every_ask_and_every_result(
    tmp_path: Path, reference: RunResult
) -> None:
    path = tmp_path / "study.jsonl"
    result = run(journal=path, executor="threads", workers=3)
    same_study(result, reference)
    events = lines(path)
    head = events[0]
    assert head["event"] == "study"
    assert head["format"] == "hyperband.journal"
    assert head["version"] == 1
    assert head["params"] == {**result.params}
    assert head["space"] == SPACE
    asks = [e for e in events if e["event"] == "ask"]
    results = [e for e in events if e["event"] == "result"]
    assert len(asks) == len(results) == 69
    assert len(events) == 1 + 69 + 69
    assert sorted(e["job_id"] for e in results) == sorted(e["job"]["id"] for e in asks)
    # A job's result comes after its ask, and the journal records what the history holds.
    position = {e["job"]["id"]: i for i, e in enumerate(events) if e["event"] == "ask"}
    for i, e in enumerate(events):
        if e["event"] == "result":
            assert position[e["job_id"]] < i
    by_id = {r.job.id: r for r in result.history}
    for e in results:
        assert e["value"] == by_id[e["job_id"]].value
        assert e["worker"] == by_id[e["job_id"]].worker


def test_from_journal_rebuilds_the_result(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    result = run(h.dict_result, journal=path)
    loaded = RunResult.from_journal(path)
    assert loaded.best == result.best
    assert loaded.params == result.params
    assert loaded.to_dicts() == json.loads(json.dumps(result.to_dicts()))


def test_a_finished_journal_resumes_to_the_same_result_without_running_anything(
    tmp_path: Path,
) -> None:
    path = tmp_path / "study.jsonl"
    first = run(journal=path)
    objective = Counting()
    again = run(objective, journal=path)
    assert objective.calls == 0
    same_study(again, first)
    assert again.history == first.history
    assert len(lines(path)) == 1 + 2 * 69  # nothing appended


@pytest.mark.parametrize("seed", range(6))
def test_resume_from_any_prefix_of_the_journal(
    tmp_path: Path, reference: RunResult, seed: int
) -> None:
    """A kill can stop the writer anywhere, even mid-line: every prefix must resume exactly."""
    full = tmp_path / "full.jsonl"
    run(journal=full, executor="threads", workers=4)
    data = full.read_bytes()
    rng = random.Random(seed)
    cut = rng.randrange(1, len(data))
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[:cut])
    objective = Counting()
    resumed = run(objective, journal=path, executor="serial")
    same_study(resumed, reference)
    # Each job has exactly one result in the journal, and every line is valid JSON.
    events = lines(path)
    results = [e["job_id"] for e in events if e["event"] == "result"]
    assert len(results) == len(set(results)) == 69
    done_before = data[:cut].count(b'"event":"result"')
    assert objective.calls <= 69 - done_before + 4  # only unfinished jobs ran (<= 4 in flight)
    assert objective.calls >= 69 - done_before


def test_a_torn_last_line_is_cut_off(tmp_path: Path, reference: RunResult) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path)
    text = path.read_text().splitlines(keepends=True)
    torn = "".join(text[:40]) + text[40][: len(text[40]) // 2]
    path.write_text(torn)
    resumed = run(journal=path)
    same_study(resumed, reference)
    assert all(isinstance(e, dict) for e in lines(path))  # the torn half-line is gone


def test_a_garbled_complete_last_line_is_cut_off_too(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=3)
    with path.open("a") as f:
        f.write('{"event": "res\n')
    _, good, size = read(path)
    assert good < size
    run(journal=path, max_budget=3)
    assert '"event": "res' not in path.read_text()


def test_a_corrupt_line_before_the_last_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=3)
    text = path.read_text().splitlines(keepends=True)
    text[2] = "garbage\n"
    path.write_text("".join(text))
    with pytest.raises(JournalError, match=r"line 3 must be a JSON object .* corrupt"):
        run(journal=path, max_budget=3)


@pytest.mark.parametrize(
    ("change", "name", "theirs", "ours"),
    [
        ({"eta": 2}, "eta", "3 (int)", "2 (int)"),
        ({"max_budget": 9}, "max_budget", "27 (int)", "9 (int)"),
        ({"seed": 8}, "seed", "7 (int)", "8 (int)"),
        ({"mode": "minimize"}, "mode", "'maximize' (str)", "'minimize' (str)"),
        ({"iterations": 2}, "iterations", "1 (int)", "2 (int)"),
    ],
)
def test_a_journal_of_another_study_is_refused(
    tmp_path: Path, change: dict[str, Any], name: str, theirs: str, ours: str
) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=27, iterations=1)
    before = path.read_bytes()
    with pytest.raises(JournalMismatchError) as info:
        run(journal=path, **change)
    err = info.value
    assert isinstance(err, HyperbandError)
    assert isinstance(err, ValueError)
    assert err.name == name
    message = str(err)
    assert f"{name}={theirs}" in message
    assert f"{name}={ours}" in message
    assert str(path) in message
    assert path.read_bytes() == before  # untouched


def test_a_journal_of_another_space_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=3)
    other = {"x": {"_type": "uniform", "_value": [0, 2]}, "act": SPACE["act"]}
    with pytest.raises(JournalMismatchError, match=r"with space=.* but this run has space="):
        hyperband.run(h.quadratic, other, max_budget=3, seed=7, journal=path, progress=False)


def test_seed_none_resumes_with_the_journal_seed(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    first = run(journal=path, seed=None)
    again = run(journal=path, seed=None)
    assert again.params["seed"] == first.params["seed"]
    assert again.best == first.best


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    path.write_text('{"event": "something", "x": 1}\n')
    with pytest.raises(JournalError, match=r"must start with a study header"):
        run(journal=path)


def test_a_journal_in_use_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    journal, _ = Journal.open(path)
    try:
        with pytest.raises(JournalError, match=r"in use by another run"):
            run(journal=path)
    finally:
        journal.close()


def test_interrupt_then_resume(tmp_path: Path, reference: RunResult) -> None:
    path = tmp_path / "study.jsonl"
    calls = 0

    @functools.wraps(h.quadratic)  # the same objective, with a Ctrl-C planted in it
    def interrupted(config: dict[str, Any], budget: float) -> float:
        nonlocal calls
        calls += 1
        if calls == 30:
            raise KeyboardInterrupt
        return h.quality(config, budget)

    with pytest.raises(KeyboardInterrupt):
        run(interrupted, journal=path)
    events = lines(path)  # complete: every line parses
    assert sum(e["event"] == "result" for e in events) == 29
    assert sum(e["event"] == "ask" for e in events) == 30
    objective = Counting()
    resumed = run(objective, journal=path)
    assert objective.calls == 69 - 29
    same_study(resumed, reference)


def test_checkpoints_live_beside_the_journal_and_survive_resume(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    result = run(h.checkpointing, journal=path, max_budget=9, keep_checkpoints="all")
    assert result.n_failed == 0
    checkpoints = tmp_path / "study.checkpoints"
    dirs = sorted(p.name for p in checkpoints.iterdir())
    assert dirs == sorted({f"config-{r.job.config_id}" for r in result.history})
    state = json.loads((checkpoints / f"config-{result.best.config_id}" / "state.json").read_text())  # type: ignore[union-attr]
    assert state == {"epochs": 9}


def test_a_custom_sampler_study_resumes_and_is_checked_by_class(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    options: dict[str, Any] = {**STUDY, "sampler": None, "progress": False, "journal": path}
    first = hyperband.run(h.quadratic, h.GridSampler(), **options)
    assert lines(path)[0]["space"] is None
    assert lines(path)[0]["sampler"] == "tests.runner_helpers.GridSampler"
    again = hyperband.run(h.quadratic, h.GridSampler(), **options)
    assert again.best == first.best
    with pytest.raises(JournalMismatchError, match=r"sampler='tests.runner_helpers.GridSampler'"):
        hyperband.run(h.quadratic, h.OtherSampler(), **options)
    with pytest.raises(JournalError, match=r"custom sampler .*pass it as space="):
        RunResult.from_journal(path)
    assert RunResult.from_journal(path, h.GridSampler()).best == first.best


def test_a_journal_path_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match=r"journal must be a path to a file .*Is a directory"):
        run(journal=tmp_path)


# ---------------------------------------------------------------------- not a journal: untouched


NOT_JOURNALS = {
    "space-json": json.dumps(SPACE).encode(),  # json.dump writes no final newline
    "space-json-newline": (json.dumps(SPACE, indent=2) + "\n").encode(),
    "one-line-notes": b"remember to tune the learning rate",
    "one-line-notes-newline": b"remember to tune the learning rate\n",
    "notes": b"line one\nline two\nline three\n",
    "other-event": b'{"event": "something", "x": 1}\n',
    "other-format": b'{"event":"study","format":"other.journal","version":1}\n',
    "header-start-then-newline": b'{"event":"study","format":"hyperband.journal",\n',
    "empty-first-line": b"\n",
    "binary": bytes(range(256)),
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("content", NOT_JOURNALS.values(), ids=NOT_JOURNALS.keys())
def test_a_file_that_is_not_a_journal_is_refused_and_left_byte_identical(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "space.json"
    path.write_bytes(content)
    before = digest(path)
    with pytest.raises(JournalError, match=r"must start with a study header .*left untouched"):
        run(journal=path)
    assert digest(path) == before
    with pytest.raises(JournalError, match=r"must start with a study header"):
        Journal.open(path)
    assert digest(path) == before
    # Read-only readers say what is wrong too (not "the journal is empty").
    with pytest.raises(JournalError, match=r"must start with a study header"):
        RunResult.from_journal(path)
    assert not (tmp_path / "space.checkpoints").exists()


def test_a_journal_of_another_study_with_a_torn_last_line_is_left_byte_identical(
    tmp_path: Path,
) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=9)
    with path.open("ab") as f:
        f.write(b'{"event":"result","job_')  # a write cut short
    before = digest(path)
    with pytest.raises(JournalMismatchError, match=r"max_budget=9"):
        run(journal=path, max_budget=27)
    assert digest(path) == before
    # The same study resumes, and only then is the torn line cut off.
    run(journal=path, max_budget=9)
    assert path.read_bytes().endswith(b"\n")
    assert all(isinstance(e, dict) for e in lines(path))


def test_a_journal_that_does_not_replay_is_left_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=9)
    events = lines(path)
    events.insert(3, {"event": "bogus"})
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + '{"event":"res')
    before = digest(path)
    with pytest.raises(JournalError, match=r"line 4: unknown event 'bogus'"):
        run(journal=path, max_budget=9)
    assert digest(path) == before


@pytest.mark.parametrize("cut", [1, 10, 30, 47, 60, -1])
def test_a_torn_header_of_a_new_journal_starts_the_study(
    tmp_path: Path, reference: RunResult, cut: int
) -> None:
    """A kill during the header's write leaves a prefix of it, and no event after it."""
    full = tmp_path / "full.jsonl"
    run(journal=full)
    header_line = full.read_bytes().split(b"\n")[0]
    path = tmp_path / "study.jsonl"
    path.write_bytes(header_line[:cut])  # -1: all but the newline
    with pytest.raises(JournalError, match=r"only the beginning of a study header"):
        RunResult.from_journal(path)
    resumed = run(journal=path)
    same_study(resumed, reference)
    assert lines(path)[0]["event"] == "study"
    assert len(lines(path)) == 1 + 2 * 69


# ---------------------------------------------------------------------- which objective wrote it


def other_objective(config: dict[str, Any], budget: float) -> float:
    return -h.quality(config, budget)


def test_the_header_records_the_objective_and_the_study_name(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, study_name="lr sweep")
    head = lines(path)[0]
    assert head["objective"] == "tests.runner_helpers:quadratic"
    assert head["study_name"] == "lr sweep"
    assert run(journal=path, study_name="lr sweep").n_succeeded == 69


def test_resuming_with_another_objective_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(h.Interrupting(h.quadratic, after=20), journal=path)
    before = digest(path)
    with pytest.raises(JournalMismatchError) as info:
        run(other_objective, journal=path)
    err = info.value
    assert err.name == "objective"
    assert err.journal_value == "tests.runner_helpers:quadratic"
    assert err.given_value == "tests.test_journal:other_objective"
    assert "allow_objective_change=True (CLI: --allow-objective-change)" in str(err)
    assert digest(path) == before


def test_allow_objective_change_resumes_a_renamed_objective(
    tmp_path: Path, reference: RunResult, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "study.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(h.Interrupting(h.quadratic, after=20), journal=path)

    def renamed(config: dict[str, Any], budget: float) -> float:
        return h.quality(config, budget)

    resumed = run(renamed, journal=path, allow_objective_change=True)
    same_study(resumed, reference)
    assert any("resuming it with" in m and "renamed" in m for m in caplog.messages)


def test_a_journal_of_another_study_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=3, study_name="a")
    for name in ("b", None):
        with pytest.raises(JournalMismatchError, match=r"study_name='a' .*study_name="):
            run(journal=path, max_budget=3, study_name=name)
    with pytest.raises(TypeError, match=r"study_name must be a str or None, got 3"):
        run(journal=path, max_budget=3, study_name=3)
    with pytest.raises(TypeError, match=r"allow_objective_change must be a bool"):
        run(journal=path, max_budget=3, allow_objective_change="yes")


def test_an_old_journal_without_objective_or_name_resumes_with_a_warning(
    tmp_path: Path, reference: RunResult, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "study.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(h.Interrupting(h.quadratic, after=20), journal=path)
    events = lines(path)
    del events[0]["objective"], events[0]["study_name"]  # as hyperband 0.1.0 wrote it
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    resumed = run(other_objective, journal=path, study_name="x")
    assert len(resumed.history) == 69
    messages = " ".join(caplog.messages)
    assert "does not record which objective wrote it" in messages
    assert "records no study name" in messages


# ---------------------------------------------------------------------- what the journal keeps


def test_failed_jobs_are_journaled_and_a_resume_does_not_run_them_again(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    result = run(h.raising, journal=path)
    assert result.n_failed > 0
    failed = [e for e in lines(path) if e["event"] == "result" and e["status"] == "failed"]
    assert sorted(e["job_id"] for e in failed) == sorted(
        r.job.id for r in result.history if r.status == "failed"
    )
    assert all("ValueError: x=" in e["error"] and e["value"] is None for e in failed)
    loaded = RunResult.from_journal(path)
    assert loaded.n_failed == result.n_failed
    assert loaded.history == result.history
    objective = Counting(h.raising)
    again = run(objective, journal=path)
    assert objective.calls == 0
    assert again.n_failed == result.n_failed


@pytest.mark.parametrize(
    ("field", "value"),
    [("config", {"x": 0.5, "act": "relu"}), ("budget", 3), ("rung", 1), ("id", 99)],
)
def test_an_edited_ask_is_refused_on_replay(tmp_path: Path, field: str, value: Any) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=9)
    events = lines(path)
    ask = next(i for i, e in enumerate(events) if e["event"] == "ask" and e["job"]["id"] == 4)
    events[ask]["job"][field] = value
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    before = digest(path)
    pattern = rf"line {ask + 1}: the machine hands out .* the journal does not belong"
    with pytest.raises(JournalError, match=pattern):
        RunResult.from_journal(path)
    with pytest.raises(JournalError, match=pattern):
        run(journal=path, max_budget=9)
    assert digest(path) == before


def test_an_unknown_event_is_refused_on_replay(tmp_path: Path) -> None:
    path = tmp_path / "study.jsonl"
    run(journal=path, max_budget=3)
    with path.open("a") as f:
        f.write('{"event": "note", "text": "from a newer hyperband?"}\n')
    with pytest.raises(JournalError, match=r"line \d+: unknown event 'note'"):
        RunResult.from_journal(path)
