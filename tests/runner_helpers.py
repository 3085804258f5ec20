"""Objectives for the runner tests, at module level so worker processes can import them."""

from __future__ import annotations

import functools
import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import hyperband
from hyperband import RunResult
from hyperband.drivers.runner import Context

SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}
# 69 jobs in 4 brackets (27@1 9@3 3@9 1@27 | 12@3 4@9 1@27 | 6@9 2@27 | 4@27).
# The machine's semantics (random configurations, brackets in NNI's cycle), not run()'s
# defaults: these studies compare executors, and only with a random sampler do configurations
# not depend on the order in which results arrive (tests/test_run_defaults.py covers defaults).
STUDY: dict[str, Any] = {
    "max_budget": 27,
    "eta": 3,
    "seed": 7,
    "sampler": "random",
    "brackets": "cycle",
}
# The same with a model-based sampler and early stopping; one worker in serial mode makes the
# order of results, and so the whole study, reproducible.
MODEL_STUDY: dict[str, Any] = {
    **STUDY,
    "sampler": "kde",
    "early_stop": "rung",
    "exec_mode": "serial",
}
# Adaptive brackets, long enough that the bracket draws begin; one worker ("serial") makes
# the order of results, on which the draws depend, reproducible.
ADAPTIVE_STUDY: dict[str, Any] = {**STUDY, "iterations": 5, "brackets": "adaptive"}

# The same with the curve rule, which judges from the third report (four per job here).
CURVE_STUDY: dict[str, Any] = {
    **MODEL_STUDY,
    "early_stop": {"name": "curve", "options": {"min_reports": 3}},
}

BAD = 0.3  # configurations with x below this fail in the failing objectives
RARE = 0.12  # ... and below this in the crashing ones (each crash costs a process start)


def quality(config: dict[str, Any], budget: float) -> float:
    """Deterministic in (config, budget)."""
    bonus = 0.05 if config["act"] == "tanh" else 0.0
    return -((config["x"] - 0.6) ** 2) + bonus + 0.01 * math.log(budget)


def quadratic(config: dict[str, Any], budget: float) -> float:
    return quality(config, budget)


def sleepy(config: dict[str, Any], budget: float) -> float:
    time.sleep(0.002 + 0.0005 * budget)
    return quality(config, budget)


def slow(config: dict[str, Any], budget: float) -> float:
    """About 1.5 s of sleep for the whole study: slow enough to be killed at random moments."""
    time.sleep(0.008 + 0.002 * budget)
    return quality(config, budget)


GATE = "HYPERBAND_TEST_GATE"


def gated(config: dict[str, Any], budget: float, context: Context) -> float:
    """slow(), but a job whose id is not below the number in the file $HYPERBAND_TEST_GATE
    waits until it is (up to 120 s): a test outside the process then decides how far the
    study may go, whatever the machine's load. Without the variable, just slow()."""
    gate = os.environ.get(GATE)
    deadline = time.monotonic() + 120
    while gate and time.monotonic() < deadline:
        try:
            limit = int(Path(gate).read_text() or 0)
        except (OSError, ValueError):
            limit = 0
        if context.job.id < limit:
            break
        time.sleep(0.005)
    return slow(config, budget)


def open_gate(path: Path, limit: int) -> None:
    """Let the jobs with an id below ``limit`` run (see gated)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(limit))
    tmp.replace(path)  # atomic: a reader sees the old number or the new one


def raising(config: dict[str, Any], budget: float) -> float:
    if config["x"] < BAD:
        raise ValueError(f"x={config['x']} is too small")
    return quality(config, budget)


def raising_rarely(config: dict[str, Any], budget: float) -> float:
    if config["x"] < RARE:
        raise ValueError(f"x={config['x']} is too small")
    return quality(config, budget)


def dying(config: dict[str, Any], budget: float) -> float:
    if config["x"] < RARE:
        os._exit(3)  # a crash: no exception, no cleanup
    time.sleep(0.002)
    return quality(config, budget)


HANG = 60.0  # seconds a hanging job sleeps: far longer than any whole study here


def hanging(config: dict[str, Any], budget: float) -> float:
    if config["x"] < 0.1:
        time.sleep(HANG)
    return quality(config, budget)


def dict_result(config: dict[str, Any], budget: float) -> dict[str, Any]:
    return {"default": quality(config, budget), "loss": 1.0 - config["x"], "budget": budget}


def invalid(config: dict[str, Any], budget: float) -> float:
    return math.nan if config["x"] < BAD else quality(config, budget)


def flaky(config: dict[str, Any], budget: float, context: Context) -> float:
    """Fails the first attempt of every job (a marker file remembers the attempt)."""
    marker = context.checkpoint_dir / f"tried-{context.job.id}"
    if not marker.exists():
        marker.touch()
        raise RuntimeError(f"transient failure of job {context.job.id}")
    return quality(config, budget)


def checkpointing(config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
    """Trains 'epochs' incrementally, resuming from the configuration's checkpoint."""
    path = context.checkpoint_dir / "state.json"
    trained = json.loads(path.read_text())["epochs"] if path.exists() else 0
    job = context.job
    if job.resume_from is not None and trained != job.previous_budget:
        raise AssertionError(f"checkpoint has {trained} epochs, expected {job.previous_budget}")
    for epoch in range(trained + 1, int(budget) + 1):
        context.report(epoch, quality(config, epoch))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"epochs": int(budget)}))
    tmp.replace(path)  # atomic: a killed job never leaves half a checkpoint
    return {"default": quality(config, budget), "resumed_at": trained}


class Interrupting:
    """``objective`` with a Ctrl-C planted at its ``after``-th call (serial runs).

    ``functools.update_wrapper`` makes it the objective for the journal (and for
    ``inspect.signature``, so a context is passed when ``objective`` takes one).
    """

    def __init__(self, objective: Any, after: int) -> None:
        self.calls = 0
        self.after = after
        self.objective = objective
        functools.update_wrapper(self, objective)

    def __call__(self, config: dict[str, Any], budget: float, *context: Context) -> Any:
        self.calls += 1
        if self.calls == self.after:
            raise KeyboardInterrupt
        return self.objective(config, budget, *context)


class GridSampler:
    """A custom sampler: evenly spaced x, deterministic in the rng's first draw."""

    def sample(self, rng: Any, n: int) -> list[dict[str, Any]]:
        offset = float(rng.random())
        return [{"x": (offset + i / n) % 1.0, "act": "relu"} for i in range(n)]


class OtherSampler(GridSampler):
    pass


class Concurrency:
    """A thread-safe objective that records the most jobs it saw running at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls = 0

    def __call__(self, config: dict[str, Any], budget: float) -> float:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.002)
        with self.lock:
            self.running -= 1
        return quality(config, budget)


def outcomes(result: RunResult) -> dict[tuple[int, int, int, int], tuple[str, float | None]]:
    """Each job's result by its executor-independent identity (job ids depend on timing)."""
    out = {}
    for r in result.history:
        j = r.job
        key = (j.iteration, j.bracket, j.rung, j.config_id)
        assert key not in out, f"job {key} has two records"
        out[key] = (r.status, r.value)
    return out


def best_of(result: RunResult) -> tuple[Any, ...] | None:
    """The best result without its job id (which depends on the order of asks)."""
    b = result.best
    return None if b is None else (b.config_id, b.config, b.value, b.budget)


# ---------------------------------------------------------------------------- early stopping


def curve(config: dict[str, Any], step: float) -> float:
    """A learning curve: it rises towards quality() as the step grows (deterministic)."""
    return quality(config, 27) - 0.3 / (1.0 + step)


def steps(context: Context) -> list[float]:
    """Four report steps across the job's budget segment, the last at its budget."""
    start = float(context.job.previous_budget or 0)
    return [start + (context.job.budget - start) * k / 4 for k in (1, 2, 3, 4)]


def reporting(config: dict[str, Any], budget: float, context: Context) -> float:
    """Reports four times across its segment, then returns the curve at the budget."""
    for step in steps(context):
        context.report(step, curve(config, step))
    return curve(config, budget)


def reporting_cleanly(config: dict[str, Any], budget: float, context: Context) -> float:
    """Catches EarlyStopped, leaves a file saying so, and returns what it has."""
    try:
        return reporting(config, budget, context)
    except hyperband.EarlyStopped as stop:
        (context.checkpoint_dir / f"stopped-{context.job.id}").write_text(str(stop.step))
        return stop.value


def reporting_too_far(config: dict[str, Any], budget: float, context: Context) -> float:
    context.report(budget + 1, 0.0)  # outside the job's segment
    return 0.0


def gated_reporting(config: dict[str, Any], budget: float, context: Context) -> float:
    """reporting(), held at the gate before its last report: a job the gate holds is
    mid-job, with every earlier report judged by the machine (see gated)."""
    for step in steps(context):
        if step == budget:
            gated(config, 0.5, context)
        context.report(step, curve(config, step))
    return curve(config, budget)
