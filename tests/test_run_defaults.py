"""run()'s and the CLI's defaults (drivers/defaults.py): the benchmarks' choice for a new study,
the journal's own choice for a resumed one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import JournalMismatchError
from hyperband.drivers.defaults import DEFAULT_BRACKETS, DEFAULT_SAMPLER, DEFAULT_SAMPLER_OPTIONS

from .test_cli import isolated, run_main, write_files

__all__ = ["isolated"]  # a fixture, used by name

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
STUDY: dict[str, Any] = {"max_budget": 27, "eta": 3, "seed": 5, "iterations": 2}


def objective(config: dict[str, Any], budget: float) -> float:
    # Cheap budgets rank the configurations as the top one does, so trust has something to see.
    return -((config["x"] - 0.3) ** 2) - (config["y"] - 0.6) ** 2 + budget / 1000


def header(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text().splitlines()[0])  # type: ignore[no-any-return]


def history(result: hyperband.RunResult) -> list[tuple[Any, ...]]:
    return [
        (r.job.config_id, r.job.config, r.job.budget, r.job.bracket, r.value)
        for r in result.history
    ]


def serial(journal: Path, **kwargs: Any) -> hyperband.RunResult:
    return hyperband.run(
        objective, SPACE, **STUDY, executor="serial", journal=journal, progress=False, **kwargs
    )


def test_a_study_that_names_nothing_gets_the_benchmarks_choice(tmp_path: Path) -> None:
    journal = tmp_path / "study.jsonl"
    result = serial(journal)
    study = header(journal)
    assert study["sampler_spec"]["name"] == DEFAULT_SAMPLER
    assert study["sampler_spec"]["options"].items() >= DEFAULT_SAMPLER_OPTIONS.items()
    assert study["params"].get("brackets", "cycle") == DEFAULT_BRACKETS
    assert result.params.get("brackets", "cycle") == DEFAULT_BRACKETS
    # Not the machine's semantics: other configurations than random Hyperband's.
    machine = hyperband.run(
        objective,
        SPACE,
        **STUDY,
        executor="serial",
        progress=False,
        sampler="random",
        brackets="cycle",
    )
    assert history(result) != history(machine)


def test_a_default_study_cut_in_half_resumes_to_the_same_result(tmp_path: Path) -> None:
    whole = serial(tmp_path / "whole.jsonl")
    lines = (tmp_path / "whole.jsonl").read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[: len(lines) // 2]))
    resumed = serial(cut)
    assert history(resumed) == history(whole)
    assert resumed.best == whole.best


@pytest.mark.parametrize(
    ("written", "resumed_with"),
    [
        ({"sampler": "random", "brackets": "cycle"}, {}),  # a journal from before the defaults
        ({"sampler": "kde", "brackets": "adaptive"}, {"brackets": "adaptive"}),
        ({"sampler": "random", "brackets": "adaptive"}, {"sampler": "random"}),
    ],
)
def test_a_journal_resumes_with_its_own_choices_when_none_are_named(
    tmp_path: Path, written: dict[str, Any], resumed_with: dict[str, Any]
) -> None:
    whole = serial(tmp_path / "whole.jsonl", **written)
    lines = (tmp_path / "whole.jsonl").read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[: len(lines) // 3]))
    resumed = serial(cut, **resumed_with)
    assert history(resumed) == history(whole)
    assert header(cut) == header(tmp_path / "whole.jsonl") | {"time": header(cut)["time"]}


@pytest.mark.parametrize(
    ("named", "differs"),
    [({"sampler": "random"}, "sampler"), ({"brackets": "adaptive"}, "brackets")],
)
def test_naming_another_choice_than_the_journal_is_refused(
    tmp_path: Path, named: dict[str, Any], differs: str
) -> None:
    journal = tmp_path / "study.jsonl"
    serial(journal)
    before = journal.read_bytes()
    with pytest.raises(JournalMismatchError, match=differs):
        serial(journal, **named)
    assert journal.read_bytes() == before


def test_the_cli_defaults_and_its_resume_follow_run(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code_file, space = write_files(isolated, "cli_defaults")
    argv = ["run", f"{code_file}:objective", "--space", str(space), "--max-budget", "9"]
    argv += ["--seed", "2", "--executor", "serial", "--no-progress"]
    code, out, err = run_main(capsys, *argv, "--journal", "d.jsonl")
    assert code == 0, err
    study = header(isolated / "d.jsonl")
    assert study["sampler_spec"]["name"] == DEFAULT_SAMPLER
    assert study["params"].get("brackets", "cycle") == DEFAULT_BRACKETS
    code, out, err = run_main(capsys, *argv, "--journal", "r.jsonl", "--sampler", "random")
    assert code == 0, err
    assert header(isolated / "r.jsonl")["sampler_spec"]["name"] == "random"
    # Resuming without naming them keeps the journal's choices: nothing left to run.
    before = (isolated / "r.jsonl").read_text()
    code, again, err = run_main(capsys, *argv, "--journal", "r.jsonl")
    assert code == 0, err
    assert again.splitlines()[0] == out.splitlines()[0]
    assert '"event":"ask"' not in (isolated / "r.jsonl").read_text().removeprefix(before)


def test_asynchronous_mode_takes_the_defaults_too(tmp_path: Path) -> None:
    result = serial(tmp_path / "async.jsonl", exec_mode="asynchronous")
    assert result.n_failed == 0
    assert result.best is not None
    assert header(tmp_path / "async.jsonl")["sampler_spec"]["name"] == DEFAULT_SAMPLER


def test_the_seed_line_says_what_else_repeating_takes_on_several_workers(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code_file, space = write_files(isolated, "cli_seed_line")
    argv = ["run", f"{code_file}:objective", "--space", str(space), "--max-budget", "9"]
    argv += ["--seed", "2", "--no-progress"]
    for executor, caveat in (("serial", False), ("threads", True)):
        code, out, err = run_main(capsys, *argv, "--executor", executor, "--workers", "2")
        assert code == 0, err
        (line,) = [line for line in out.splitlines() if line.startswith("seed: ")]
        assert ("same order" in line) is caveat, line
