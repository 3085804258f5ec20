"""Every promotion finds its checkpoint, in every exec mode, stopping rule and keep policy.

A promoted job (``job.resume_from`` set) resumes from the checkpoint its configuration's
previous rung wrote, so the cleanup must never remove a directory a promotion still needs, and
yet remove what its policy says it removes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.drivers.checkpoints import KEEP_CHECKPOINTS
from hyperband.drivers.runner import Context

from .runner_helpers import SPACE, quality


class Resuming:
    """Writes ``ckpt-<budget>`` each job after reporting every epoch; a promotion checks that
    ``ckpt-<previous budget>`` is still there. A missing one is recorded, not raised, so the
    study runs to the end and the test sees every violation at once."""

    def __init__(self) -> None:
        self.missing: list[tuple[int, int, float]] = []  # (job id, config id, budget)
        self.lock = threading.Lock()

    def __call__(self, config: dict[str, Any], budget: float, context: Context) -> float:
        job = context.job
        start = 0
        if job.resume_from is not None:
            assert job.previous_budget is not None
            start = int(job.previous_budget)
            if not (context.checkpoint_dir / f"ckpt-{start}").exists():
                with self.lock:
                    self.missing.append((job.id, job.config_id, start))
        for epoch in range(start + 1, int(budget) + 1):
            # A little time per epoch lets jobs overlap, so promotions race other results.
            time.sleep(0.0005)
            context.report(epoch, quality(config, epoch))
        (context.checkpoint_dir / f"ckpt-{int(budget)}").write_text("trained")
        return quality(config, budget)


def configs_left(root: Path) -> set[int]:
    return {int(p.name.removeprefix("config-")) for p in root.iterdir() if p.is_dir()}


@pytest.mark.parametrize("keep", KEEP_CHECKPOINTS)
@pytest.mark.parametrize("early_stop", [None, "median", "rung"])
@pytest.mark.parametrize("exec_mode", ["parallelism", "serial", "asynchronous"])
def test_every_promotion_finds_its_checkpoint(
    tmp_path: Path, exec_mode: str, early_stop: str | None, keep: str
) -> None:
    objective = Resuming()
    journal = tmp_path / "s.jsonl"
    result = hyperband.run(
        objective,
        SPACE,
        max_budget=27,
        eta=3,
        seed=3,
        exec_mode=exec_mode,
        early_stop=early_stop,
        keep_checkpoints=keep,
        executor="threads",
        workers=3,
        journal=journal,
        progress=False,
    )
    assert objective.missing == []  # (job id, config id, previous budget)
    assert result.n_failed == 0, [r.error for r in result.history if r.error][:1]
    assert result.done
    if early_stop is not None:
        assert result.n_stopped > 0  # the combination tests what it claims to
    if exec_mode != "asynchronous":
        assert any(r.job.resume_from is not None for r in result.history)
    root = tmp_path / "s.checkpoints"
    if keep == "all":
        assert configs_left(root) == {r.job.config_id for r in result.history}
    else:
        # "best": once the study is over, nothing can be promoted: only the best is left.
        assert result.best is not None
        assert configs_left(root) == {result.best.config_id}
