"""Checkpoint cleanup: a configuration's directory goes once it can no longer be promoted."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperband
from hyperband import Hyperband, Job, RunResult
from hyperband.drivers.checkpoints import CheckpointPruner, promotable
from hyperband.drivers.runner import Context
from hyperband.testing import machine_params

from . import runner_helpers as h
from .runner_helpers import SPACE, STUDY


def run(objective: Any = h.checkpointing, **kwargs: Any) -> RunResult:
    options: dict[str, Any] = {**STUDY, "progress": False, **kwargs}
    return hyperband.run(objective, SPACE, **options)


def dirs(root: Path) -> set[int]:
    return {int(p.name.removeprefix("config-")) for p in root.iterdir() if p.is_dir()}


@settings(max_examples=120, deadline=None)
@given(
    params=machine_params(exec_modes=("parallelism", "serial", "asynchronous")),
    early_stop=st.sampled_from([None, "median", "rung"]),
    order=st.integers(0, 2**16),
    fail_rate=st.sampled_from([0, 0.3]),
)
def test_a_configuration_that_runs_again_was_always_promotable(
    params: dict[str, Any], early_stop: str | None, order: int, fail_rate: float
) -> None:
    """Drive a machine in a random order, with reports that a stopping rule may stop:
    whenever a configuration that already ran gets another job, every snapshot taken since its
    previous job must have called it promotable (else its checkpoint could be gone). When the
    study is over, nothing is promotable."""
    hb = Hyperband(SPACE, **params, early_stop=early_stop)
    rng = random.Random(order)
    seen: dict[int, int] = {}  # config id -> step of its last job
    history: list[set[int]] = []
    last: dict[int, float] = {}  # job id -> the step of its last report
    while not hb.done:
        job = hb.ask()
        if isinstance(job, Job):
            if job.config_id in seen:
                for alive in history[seen[job.config_id] :]:
                    assert job.config_id in alive, (job, seen[job.config_id])
            seen[job.config_id] = len(history)
            if rng.random() < 0.5:
                continue  # keep several jobs pending
        pending = hb.pending
        if pending:
            victim = rng.choice(pending)
            low = last.get(victim.id, victim.previous_budget or 0)
            if early_stop is not None and victim.budget > low and rng.random() < 0.5:
                half = low + (victim.budget - low) / 2
                step = last[victim.id] = rng.choice([half, victim.budget])
                hb.report(victim.id, step, rng.random())  # may stop it
            elif rng.random() < fail_rate:
                hb.fail(victim.id, "boom")
            else:
                hb.tell(victim.id, rng.choice([0.0, 1.0, rng.random()]))
        history.append(promotable(hb.snapshot()))
    assert promotable(hb.snapshot()) == set()


@pytest.mark.parametrize(
    ("executor", "exec_mode"), [("threads", "parallelism"), ("processes", "serial")]
)
def test_no_promotion_loses_its_checkpoint_and_only_the_best_is_left(
    tmp_path: Path, executor: str, exec_mode: str
) -> None:
    # h.checkpointing fails a promotion whose checkpoint is not where its last rung left it.
    journal = tmp_path / "s.jsonl"
    result = run(journal=journal, executor=executor, workers=4, exec_mode=exec_mode)
    assert result.n_failed == 0, [r.error for r in result.history if r.error][:1]
    assert result.best is not None
    assert dirs(tmp_path / "s.checkpoints") == {result.best.config_id}
    state = json.loads(
        (tmp_path / "s.checkpoints" / f"config-{result.best.config_id}" / "state.json").read_text()
    )
    assert state == {"epochs": 27}


class Watching:
    """h.checkpointing that also counts the checkpoint directories present at each call."""

    def __init__(self) -> None:
        self.counts: list[int] = []
        self.__wrapped__ = h.checkpointing  # the journal knows it as h.checkpointing

    def __call__(self, config: dict[str, Any], budget: float, context: Context) -> Any:
        self.counts.append(len(list(context.checkpoint_dir.parent.iterdir())))
        return h.checkpointing(config, budget, context)


def test_directories_go_during_the_run_not_only_at_the_end(tmp_path: Path) -> None:
    watching = Watching()
    result = run(watching, journal=tmp_path / "s.jsonl", executor="serial", exec_mode="serial")
    n_configs = len({r.job.config_id for r in result.history})
    assert n_configs == 27 + 12 + 6 + 4
    # Serial mode: a bracket's dead configurations go before the next bracket starts, so at
    # most the widest bracket's 27 directories (plus the best, plus the one being made) exist.
    assert max(watching.counts) <= 27 + 2
    assert watching.counts[-1] <= 4 + 1


def test_keep_all_keeps_every_directory(tmp_path: Path) -> None:
    result = run(journal=tmp_path / "s.jsonl", executor="serial", keep_checkpoints="all")
    assert dirs(tmp_path / "s.checkpoints") == {r.job.config_id for r in result.history}


def test_a_resumed_study_finds_every_checkpoint_it_needs(tmp_path: Path) -> None:
    journal = tmp_path / "s.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(h.Interrupting(h.checkpointing, after=40), journal=journal, executor="serial")
    # Some dead directories went already; the promotions still to come kept theirs.
    assert len(dirs(tmp_path / "s.checkpoints")) < 39
    result = run(journal=journal, executor="threads", workers=3)
    assert result.n_failed == 0, [r.error for r in result.history if r.error][:1]
    assert result.best is not None
    assert dirs(tmp_path / "s.checkpoints") == {result.best.config_id}


def test_only_configuration_directories_are_touched(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("config-3", "config-x", "notes", "config-4"):
        (root / name).mkdir(parents=True)
    (root / "config-5").write_text("a file, not a directory")
    hb = Hyperband(SPACE, max_budget=9, seed=0)
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, Job)
        hb.tell(job.id, 1.0 if job.config_id == 4 else 0.0)
    assert hb.best is not None
    assert hb.best.config_id == 4
    assert CheckpointPruner(root).prune(hb) == [3]
    assert sorted(p.name for p in root.iterdir()) == ["config-4", "config-5", "config-x", "notes"]
    assert CheckpointPruner(root, "all").prune(hb) == []


def test_keep_checkpoints_must_be_known() -> None:
    with pytest.raises(hyperband.ConfigurationError, match=r"keep_checkpoints must be one of"):
        run(keep_checkpoints="none")
