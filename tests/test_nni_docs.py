"""docs/nni.md: its configurations pass NNI 3.0's own checks and its numbers are the schedule's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("nni", reason="the nni extra is not installed (pip install 'hyperband[nni]')")

import yaml  # a dependency of nni
from nni.experiment import Experiment, ExperimentConfig

import hyperband

from .doc_blocks import blocks as doc_blocks

DOC = Path(__file__).resolve().parent.parent / "docs" / "nni.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
ADVISOR = "hyperband.integrations.nni.HyperbandAdvisor"


def blocks(info: str) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(DOC.read_text()) if m.group(1).strip() == info]


def test_the_yaml_config_passes_nnis_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (config_text,) = blocks("yaml")
    (tmp_path / "config.yml").write_text(config_text)
    (tmp_path / "trial.py").write_text("")
    monkeypatch.chdir(tmp_path)
    config = ExperimentConfig.load(str(tmp_path / "config.yml")).canonical_copy()
    tuner = config.json()["tuner"]
    assert tuner["className"] == ADVISOR
    args = tuner["classArgs"]
    # The advisor accepts them, and maxTrialNumber is one iteration of that schedule.
    from hyperband.integrations.nni import HyperbandAdvisor

    HyperbandAdvisor(command_channel_url="ws://_unittest_", **args)
    assert config.max_trial_number == hyperband.schedule(args["R"], args["eta"]).total_jobs


def test_without_code_directory_nni_3_rejects_a_yaml_config(tmp_path: Path) -> None:
    """Why the docs insist on codeDirectory."""
    (config_text,) = blocks("yaml")
    data = yaml.safe_load(config_text)
    del data["tuner"]["codeDirectory"]
    (tmp_path / "config.yml").write_text(yaml.safe_dump(data))
    with pytest.raises(AssertionError):
        ExperimentConfig.load(str(tmp_path / "config.yml")).canonical_copy()


def test_the_python_config_passes_nnis_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one block marked notest because it starts an experiment (tests/doc_blocks.py).
    (code,) = [b.code for b in doc_blocks([DOC]) if b.notest and "Experiment(" in b.code]
    ran: list[Any] = []

    def run(self: Experiment, port: int = 8080, **kwargs: Any) -> None:
        ran.append(self.config.canonical_copy())  # what Experiment.run checks first

    monkeypatch.setattr(Experiment, "run", run)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{DOC}:python", "exec"), {"__name__": "__docs__"})
    (config,) = ran
    assert config.json()["tuner"]["className"] == ADVISOR
    assert config.max_trial_number == 206


def test_the_budget_table_is_the_schedules() -> None:
    (table,) = blocks("text")
    sched = hyperband.schedule(81, 3)
    assert str(sched).strip() in table
    assert f"{len(sched.brackets)} brackets, {sched.total_jobs} jobs" in table


def test_the_migration_is_three_added_lines() -> None:
    (diff,) = blocks("diff")
    added = [line for line in diff.splitlines() if line.startswith("+")]
    removed = [line for line in diff.splitlines() if line.startswith("-")]
    assert len(added) == 3
    assert removed == ["-   name: Hyperband"]
    assert any(ADVISOR in line for line in added)
