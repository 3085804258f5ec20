"""hyperband.run(): executors, results, faults, timeouts, retries, progress."""

from __future__ import annotations

import concurrent.futures
import io
import json
import multiprocessing
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import ConfigurationError, HyperbandError, JobRecord, RunResult
from hyperband.drivers.runner import Context

from . import runner_helpers as h
from .optional import require
from .runner_helpers import SPACE, STUDY, outcomes


def run(objective: Any, **kwargs: Any) -> RunResult:
    options: dict[str, Any] = {**STUDY, "progress": False, **kwargs}
    return hyperband.run(objective, SPACE, **options)


@pytest.fixture(scope="module")
def reference() -> RunResult:
    return run(h.quadratic, executor="serial")


def test_serial_runs_every_scheduled_job_once(reference: RunResult) -> None:
    assert len(reference.history) == reference.schedule.total_jobs == 69
    assert reference.n_failed == 0
    assert len(outcomes(reference)) == 69
    assert reference.best is not None
    assert reference.best.budget == 27
    best_at_max = max(r.value for r in reference.history if r.job.budget == 27)  # type: ignore[type-var]
    assert reference.best.value == best_at_max
    assert reference.params["seed"] == 7
    # The objective ran in this very thread.
    assert all(r.worker.endswith("/MainThread") for r in reference.history)
    assert all(r.start <= r.end for r in reference.history)


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_pools_give_the_serial_result(executor: str, reference: RunResult) -> None:
    result = run(h.sleepy, executor=executor, workers=3)
    assert result.best == _rebased(reference.best, result)
    assert outcomes(result) == outcomes(reference)
    workers = {r.worker for r in result.history}
    assert 1 < len(workers) <= 3


def _rebased(best: hyperband.Best | None, result: RunResult) -> hyperband.Best | None:
    """``best`` with the job id ``result`` gave that job (ids depend on the order of asks)."""
    assert best is not None
    (job_id,) = [
        r.job.id
        for r in result.history
        if (r.job.config_id, r.job.budget) == (best.config_id, best.budget)
    ]
    return hyperband.Best(best.config, best.value, best.budget, job_id, best.config_id)


def test_user_thread_pool_is_used_and_left_open(reference: RunResult) -> None:
    objective = h.Concurrency()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        result = run(objective, executor=pool)
        # workers defaults to the pool's size, and the pool is still usable.
        assert 1 <= objective.peak <= 2
        assert pool.submit(sum, [1, 2]).result() == 3
    assert outcomes(result) == outcomes(reference)
    assert objective.calls == 69


def test_user_process_pool_gives_the_serial_result(reference: RunResult) -> None:
    ctx = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        result = run(h.quadratic, executor=pool)
        assert pool.submit(sum, [1, 2]).result() == 3  # left open
    assert outcomes(result) == outcomes(reference)
    assert len({r.worker for r in result.history}) <= 2


def test_workers_caps_the_jobs_in_flight() -> None:
    objective = h.Concurrency()
    run(objective, executor="threads", workers=4)
    assert 2 <= objective.peak <= 4


def test_the_result_records_the_jobs_it_could_keep_in_flight(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``RunResult.workers`` is run()'s ``workers`` as the executor resolved it (the summary's
    seed line reads it), not the workers that happened to take jobs."""
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    assert run(h.quadratic, executor="serial").workers == 1
    assert run(h.quadratic, executor="threads", workers=2).workers == 2
    assert run(h.quadratic, executor="threads").workers == 3
    with concurrent.futures.ThreadPoolExecutor(max_workers=5) as pool:
        assert run(h.quadratic, executor=pool).workers == 5
    # A stopped run's result too; a journal does not record the number.
    journal = tmp_path / "s.jsonl"
    with pytest.raises(hyperband.TooManyFailuresError) as info:
        run(h.raising, executor="threads", workers=2, journal=journal, max_failures=2)
    assert info.value.result.workers == 2
    assert RunResult.from_journal(journal).workers is None


def test_a_raising_objective_fails_only_its_jobs() -> None:
    result = run(h.raising, executor="threads", workers=3)
    failed = [r for r in result.history if r.status == "failed"]
    assert failed
    assert all(r.job.config["x"] < h.BAD for r in failed)
    assert all(r.job.config["x"] >= h.BAD for r in result.history if r.status == "succeeded")
    for r in failed:
        assert r.value is None
        assert r.error is not None
        assert "Traceback" in r.error
        assert "ValueError: x=" in r.error
        assert "in raising" in r.error
    assert result.best is not None
    assert result.best.config["x"] >= h.BAD
    # A failed configuration is never promoted.
    failed_configs = {r.job.config_id for r in failed}
    assert all(r.job.config_id not in failed_configs for r in result.history if r.job.rung > 0)


def test_a_dying_worker_fails_only_its_job() -> None:
    # No time bound: on a loaded machine each replacement process takes seconds to start
    # (a bound of 20 s failed there once), and tests/test_process_pool.py covers a death
    # reported late by the forkserver, which then showed as "exit code unknown".
    expected = run(h.raising_rarely, executor="serial")
    result = run(h.dying, executor="processes", workers=2)
    got = outcomes(result)
    assert {k: s for k, (s, _) in got.items()} == {k: s for k, (s, _) in outcomes(expected).items()}
    assert result.best == _rebased(expected.best, result)
    failed = [r for r in result.history if r.status == "failed"]
    assert len(failed) == expected.n_failed >= 3
    for r in failed:
        assert r.error is not None
        assert "died (exit code 3)" in r.error
        assert r.worker.endswith("/MainThread")


def test_a_broken_user_process_pool_is_replaced() -> None:
    expected = run(h.raising_rarely, executor="serial")
    ctx = multiprocessing.get_context("forkserver")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        result = run(h.dying, executor=pool)
    # Bystanders of the broken pool re-ran on the replacement; only the crashers failed.
    assert {k: s for k, (s, _) in outcomes(result).items()} == {
        k: s for k, (s, _) in outcomes(expected).items()
    }
    assert result.best == _rebased(expected.best, result)


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_timeout_fails_the_stuck_jobs_and_the_run_goes_on(executor: str) -> None:
    start = time.perf_counter()
    # 2 s: far beyond a quick job even on a loaded machine (0.5 s once timed out a quick job
    # whose fresh worker process took that long to start), far below a hanging one.
    result = run(h.hanging, executor=executor, workers=4, timeout=2)
    elapsed = time.perf_counter() - start
    failed = [r for r in result.history if r.status == "failed"]
    assert failed
    assert all(r.job.config["x"] < 0.1 for r in failed)
    assert all("timed out after 2 s" in (r.error or "") for r in failed)
    assert len(result.history) > 50
    # A stuck job sleeps 60 s, so a run that waited for one took longer than that; the run
    # itself takes seconds even on a loaded machine (the old bound, 15 s, was a timing bet).
    assert elapsed < h.HANG


def test_retries_rerun_a_failed_job() -> None:
    result = run(h.flaky, executor="threads", workers=3, retries=1)
    assert result.n_failed == 0
    assert len(result.history) == 69
    assert all(r.attempts == 2 for r in result.history)

    no_retry = run(h.flaky, executor="threads", workers=3)
    assert no_retry.n_succeeded == 0
    assert all(r.attempts == 1 for r in no_retry.history)
    assert all("transient failure" in (r.error or "") for r in no_retry.history)


def test_retries_with_processes() -> None:
    result = run(h.flaky, executor="processes", workers=2, retries=2)
    assert result.n_failed == 0
    assert {r.attempts for r in result.history} == {2}


def test_context_checkpoints_survive_promotion_and_reports_are_kept(
    reference: RunResult,
) -> None:
    result = run(h.checkpointing, executor="processes", workers=2)
    assert result.n_failed == 0, [r.error for r in result.history if r.error][:1]
    for r in result.history:
        job = r.job
        # A promotion trained only the epochs its configuration had not trained yet.
        assert r.extra["resumed_at"] == (job.previous_budget or 0)
        assert [step for step, _ in r.reports] == list(
            range(int(job.previous_budget or 0) + 1, int(job.budget) + 1)
        )
    assert {k: v for k, (_, v) in outcomes(result).items()} == {
        k: v for k, (_, v) in outcomes(reference).items()
    }


def test_context_is_passed_only_to_a_third_parameter() -> None:
    seen: list[Any] = []

    def objective(config: dict[str, Any], budget: float, context: Context) -> float:
        seen.append(context)
        assert context.checkpoint_dir.is_dir()
        with pytest.raises(HyperbandError, match=r"value must be a real number, got 'a'"):
            context.report(1, "a")  # type: ignore[arg-type]
        return 0.0

    run(objective, executor="serial", max_budget=3)
    assert seen
    assert all(isinstance(c, Context) for c in seen)
    # Without a journal the checkpoints live in a temporary directory, removed at the end.
    assert not any(c.checkpoint_dir.exists() for c in seen)
    dirs = {c.job.config_id: c.checkpoint_dir for c in seen}
    assert all(c.checkpoint_dir == dirs[c.job.config_id] for c in seen)


def test_dict_results_keep_their_extra_keys_and_invalid_values_fail() -> None:
    result = run(h.dict_result, executor="serial")
    r = result.history[0]
    assert r.extra == {"loss": pytest.approx(1 - r.job.config["x"]), "budget": r.job.budget}
    assert r.value == pytest.approx(h.quality(r.job.config, r.job.budget))

    bad = run(h.invalid, executor="serial")
    failed = [r for r in bad.history if r.status == "failed"]
    assert failed
    assert all("must be finite" in (r.error or "") for r in failed)
    assert all(r.job.config["x"] < h.BAD for r in failed)


def test_the_user_config_copy_is_private() -> None:
    def mutating(config: dict[str, Any], budget: float) -> float:
        x = float(config["x"])
        config["x"] = "spoiled"
        return x

    result = run(mutating, executor="threads", workers=2)
    assert all(isinstance(r.job.config["x"], float) for r in result.history)


def test_history_exports(reference: RunResult) -> None:
    rows = reference.to_dicts()
    assert len(rows) == 69
    assert set(rows[0]) >= {"job_id", "config", "budget", "status", "value", "worker", "start"}
    doc = json.loads(reference.to_json())
    assert doc["best"]["value"] == reference.best.value  # type: ignore[union-attr]
    assert doc["params"]["max_budget"] == 27
    assert len(doc["history"]) == 69
    assert isinstance(reference.history[0], JobRecord)


def test_to_pandas() -> None:
    pd = require("pandas")
    result = run(h.dict_result, executor="serial", max_budget=3)
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == len(result.history)
    assert {"config.x", "config.act", "value", "status"} <= set(frame.columns)


def test_keyboard_interrupt_stops_the_run(tmp_path: Path) -> None:
    calls = 0

    def interrupted(config: dict[str, Any], budget: float) -> float:
        nonlocal calls
        calls += 1
        if calls == 10:
            raise KeyboardInterrupt
        return h.quality(config, budget)

    with pytest.raises(KeyboardInterrupt):
        run(interrupted, executor="serial")
    assert calls == 10


def test_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    require("tqdm")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run(h.raising, executor="serial", progress=True)
    text = terminal.getvalue()
    assert "69/69" in text
    assert "best 0.0" in text
    assert re.search(r"[1-9][0-9]* failed", text)


def test_progress_lines_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    run(h.quadratic, executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "hyperband: 69/69 jobs done" in err
    assert "0 failed" in err
    run(h.quadratic, executor="serial", progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"executor": "gpu"}, ConfigurationError, r"executor must be one of .*got 'gpu'"),
        ({"executor": 3}, TypeError, r"executor must be .* submit\(\), got 3 \(int\)"),
        ({"workers": 0}, ConfigurationError, r"workers must be >= 1 .*got 0"),
        ({"workers": 2.5}, TypeError, r"workers must be an int .*got 2.5"),
        ({"timeout": -1}, ConfigurationError, r"timeout must be .* > 0 .*got -1"),
        ({"timeout": "1"}, TypeError, r"timeout must be a number .*got '1'"),
        ({"retries": -1}, ConfigurationError, r"retries must be >= 0, got -1"),
        ({"progress": "yes"}, TypeError, r"progress must be a bool, got 'yes'"),
        ({"eta": 1}, ConfigurationError, r"eta"),
        (
            {"executor": "serial", "timeout": 1},
            ConfigurationError,
            r"timeout needs a pool: executor='serial'",
        ),
    ],
)
def test_bad_arguments_are_named(
    kwargs: dict[str, Any], error: type[Exception], message: str, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    with pytest.raises(error, match=message) as info:
        run(h.quadratic, journal=journal, **kwargs)
    assert isinstance(info.value, HyperbandError)
    assert not journal.exists()  # validation happens before anything is created


def test_an_unpicklable_objective_is_refused_for_processes() -> None:
    with pytest.raises(TypeError, match=r"objective must pickle for executor='processes'"):
        run(lambda config, budget: 0.0, executor="processes", workers=1)


def test_an_executor_whose_submit_returns_no_future_is_refused() -> None:
    class Odd:
        def submit(self, fn: Any, *args: Any) -> int:
            return 3

    with pytest.raises(TypeError, match=r"executor.submit must return a concurrent.futures.Future"):
        run(h.quadratic, executor=Odd())


def test_a_non_callable_objective_is_refused() -> None:
    with pytest.raises(TypeError, match=r"objective must be a callable .*got 3 \(int\)"):
        run(3)


# ---------------------------------------------------------------------- stopping early


@pytest.mark.parametrize("executor", ["serial", "threads"])
def test_max_failures_stops_the_run_with_the_result_so_far(executor: str) -> None:
    with pytest.raises(hyperband.TooManyFailuresError) as info:
        run(h.raising, executor=executor, workers=3, max_failures=3)
    err = info.value
    assert isinstance(err, HyperbandError)
    assert (err.failures, err.max_failures) == (3, 3)
    assert "max_failures: 3 jobs failed in this run (max_failures=3)" in str(err)
    assert "ValueError: x=" in str(err)
    result = err.result
    assert isinstance(result, RunResult)
    assert result.done is False
    assert result.n_failed == 3
    assert len(result.history) < 69
    # Without the bound the same study runs to the end, failures and all.
    full = run(h.raising, executor=executor, workers=3)
    assert full.done is True
    assert full.n_failed > 3


def test_max_failures_counts_this_run_only(tmp_path: Path) -> None:
    journal = tmp_path / "s.jsonl"
    with pytest.raises(hyperband.TooManyFailuresError):
        run(h.raising, executor="serial", journal=journal, max_failures=2)
    with pytest.raises(hyperband.TooManyFailuresError) as info:
        run(h.raising, executor="serial", journal=journal, max_failures=2)
    assert info.value.result.n_failed == 4  # 2 from the journal, 2 of this run
    result = run(h.raising, executor="serial", journal=journal)
    assert result.done
    assert len(result.history) == len(run(h.raising, executor="serial").history)


@pytest.mark.parametrize(
    ("value", "error"), [(0, ConfigurationError), (-2, ConfigurationError), (1.5, TypeError)]
)
def test_max_failures_must_be_a_positive_int(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"max_failures must be"):
        run(h.quadratic, executor="serial", max_failures=value)


def test_ctrl_c_carries_the_result_so_far() -> None:
    with pytest.raises(KeyboardInterrupt) as info:
        run(h.Interrupting(h.quadratic, after=12), executor="serial")
    result = info.value.result  # type: ignore[attr-defined]
    assert isinstance(result, RunResult)
    assert (len(result.history), result.done) == (11, False)
    assert result.best is not None


def test_a_degenerate_schedule_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    result = run(h.quadratic, executor="serial", max_budget=2)
    assert len(result.history) == 1
    assert any("one bracket of 1 job at budget 2" in m for m in caplog.messages)


def test_the_progress_bar_counts_budget_so_its_time_left_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tqdm's time left is (total - n) / rate: with n in jobs, a study whose last jobs are its
    longest looked nearly done; in budget units, n tracks the work done."""
    bars: list[Any] = []

    class FakeTqdm:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs
            self.total = kwargs["total"]
            self.n = kwargs["initial"]
            self.steps: list[float] = []
            self.postfix = ""
            bars.append(self)

        def update(self, step: float) -> None:
            self.steps.append(step)
            self.n += step

        def set_postfix_str(self, text: str, refresh: bool = True) -> None:
            self.postfix = text

        def refresh(self) -> None:
            pass

        def close(self) -> None:
            pass

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = type(sys)("tqdm.auto")
    fake.tqdm = FakeTqdm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    monkeypatch.setattr(sys, "stderr", Terminal())
    result = run(h.flaky, executor="serial", progress=True)  # every job fails
    (bar,) = bars
    assert bar.kwargs["total"] == 423  # budget units of the schedule
    assert bar.kwargs["initial"] == 0
    assert bar.steps == [float(r.job.budget) for r in result.history]
    # Failed jobs are not promoted: the study ended at 225 units, and the bar at 100%.
    assert bar.total == bar.n == sum(bar.steps) == 225
    assert bar.postfix == "49/69 jobs, best none, 49 failed"
