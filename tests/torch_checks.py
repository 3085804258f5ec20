"""What the tests of the PyTorch helpers (TorchEpochs, LightningCallback) check of a study."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import attrs
import pytest

import hyperband
from hyperband.core.jobs import Job
from hyperband.core.stopping import StopView

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class StopOddConfigs:
    """Known stops, whatever the values: at its first epoch, each odd configuration's first
    job of more than one epoch, and the promotion of bracket 1 (3 to 9 epochs). The jobs of
    one epoch it never stops, and bracket 2's promotions run to the end."""

    @staticmethod
    def picks(job: Job) -> bool:
        if job.resume_from is not None:
            return job.bracket == 1
        return job.config_id % 2 == 1 and job.budget > 1

    def should_stop(self, view: StopView) -> bool:
        return self.picks(view.job)


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (registered, so that its classes pickle)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def promoted(job: Job, budget: int) -> Job:
    """The job of ``job``'s configuration at the next rung, ``budget`` epochs."""
    return attrs.evolve(
        job, id=job.id + 100, budget=budget, previous_budget=job.budget, resume_from=job.id
    )


def check_study(result: hyperband.RunResult) -> None:
    """No job failed; every job that ran its rung reported each of its epochs, counted from
    the configuration's first rung, and trained to its budget; every promotion resumed its
    checkpoint; each stopped job ended cleanly right after the report that stopped it."""
    assert result.n_failed == 0, [r.error for r in result.history if r.error][:1]
    done = [r for r in result.history if r.status == "succeeded"]
    for rec in done:
        start = int(rec.job.previous_budget or 0)
        assert [s for s, _ in rec.reports] == list(range(start + 1, int(rec.job.budget) + 1))
        assert rec.extra["epochs"] == rec.job.budget
        assert rec.value == rec.reports[-1][1]
    promotions = [r for r in result.history if r.job.resume_from is not None]
    assert any(r.status == "succeeded" for r in promotions)
    # Each promotion loaded its configuration's checkpoint of the previous rung.
    for rec in promotions:
        extra = rec.extra["returned"] if rec.status == "stopped" else rec.extra
        previous = int(rec.job.previous_budget or 0)
        assert f"config-{rec.job.config_id}" in extra["resumed"]
        assert f"_{previous}_epochs" in extra["resumed"]
    stopped = [r for r in result.history if r.status == "stopped"]
    assert stopped == [r for r in result.history if StopOddConfigs.picks(r.job)]
    for rec in stopped:
        start = int(rec.job.previous_budget or 0)
        # Stopped at the rung's first epoch: that report and no other, then the training
        # ended and the objective returned (the runner keeps it under "returned").
        assert [s for s, _ in rec.reports] == [start + 1]
        assert rec.extra["stopped_at"] == start + 1
        assert "after_stop" not in rec.extra
        assert rec.extra["returned"]["epochs"] == start + 1
        assert rec.value == rec.reports[-1][1]
    assert any(r.job.resume_from is not None for r in stopped)
    assert result.best is not None
    assert result.best.budget == 9


def check_example(result: hyperband.RunResult, capsys: pytest.CaptureFixture[str]) -> None:
    """An example's study (22 jobs of 1 to 9 epochs, with the known stops of
    `StopOddConfigs`) passes `check_study`, and its final model scores on the test set."""
    check_study(result)
    out = capsys.readouterr().out
    assert "promotions resumed their checkpoint" in out
    accuracy = float(out.rsplit("test accuracy of the best configuration: ", 1)[1])
    assert accuracy > 0.8
