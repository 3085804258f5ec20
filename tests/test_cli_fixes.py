"""The command line's small promises: signals, --version, usage, flags that must go together,
singular counts, and resuming a journal with failures (--retry-failed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hyperband
from hyperband import RunResult

from .test_cli import SEED_SEMANTICS, isolated, run_main

__all__ = ["isolated"]  # the fixture, imported for the tests below

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}

SLOW = """
import time
from pathlib import Path

def slow(config, budget):
    Path("started").touch()
    time.sleep(0.05 * budget)
    return config["x"]

def fragile(config, budget):
    # Fails at budget 1 while the file "broken" exists: the first bracket's first rung.
    if budget < 2 and Path("broken").exists():
        raise RuntimeError("out of memory")
    return -((config["x"] - 0.3) ** 2) + 0.001 * budget
"""


def write_slow(folder: Path) -> None:
    (folder / "cli_slow.py").write_text(SLOW)
    (folder / "space.json").write_text(json.dumps(SPACE))


# ---------------------------------------------------------------------- signals


def test_sigterm_prints_the_summary_and_the_resume_hint(tmp_path: Path) -> None:
    write_slow(tmp_path)
    argv = [sys.executable, "-m", "hyperband", "run", "cli_slow.py:slow", "--space", "space.json"]
    argv += ["--max-budget", "27", "--workers", "2", "--journal", "j.jsonl", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert out.startswith("best: "), out
    assert "jobs: " in out
    assert "journal: j.jsonl" in out
    assert (
        "hyperband: terminated (SIGTERM); the journal 'j.jsonl' holds every finished job: "
        "run the same command to resume"
    ) in err
    assert "Traceback" not in err
    assert RunResult.from_journal(tmp_path / "j.jsonl").done is False


# ---------------------------------------------------------------------- version and usage


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_main(capsys, "--version")
    assert code == 0
    assert out == f"hyperband {hyperband.__version__}\n"


def test_a_bare_hyperband_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys)
    assert code == 2
    assert out == ""
    first, second = err.splitlines()
    assert first.startswith("usage: hyperband ")
    assert "COMMAND" in first
    assert second == (
        "hyperband: error: a COMMAND is required: schedule, run or report "
        "(hyperband COMMAND --help says more)"
    )


# ---------------------------------------------------------------------- flags that do nothing


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["report", "j.jsonl", "--top", "3"], "--top applies to --trials only"),
        (["schedule", "--max-budget", "81", "--seed", "1"], "--seed applies to --workers"),
        (["schedule", "--max-budget", "81", "--resume"], "--resume applies to --workers"),
        (["schedule", "--max-budget", "81", "--iterations", "2"], "--iterations applies to"),
        (["run", "m:f", "--space", "s.json", "--max-budget", "9", "--retry-failed"], "--journal"),
    ],
)
def test_flags_that_would_do_nothing_are_errors(
    argv: list[str], needle: str, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("hyperband: error: ")
    assert err.count("\n") == 1, err
    assert needle in err


def test_schedule_options_still_work_with_workers(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["schedule", "--max-budget", "9", "--workers", "2"]
    code, out, _ = run_main(capsys, *argv, "--seed", "1", "--resume", "--iterations", "2")
    assert code == 0
    assert "2 iterations, promotions resumed from checkpoints, seed 1" in out


# ---------------------------------------------------------------------- words


def test_one_bracket_and_one_job_in_the_singular(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "schedule", "--max-budget", "1")
    assert code == 0
    assert out.endswith("\n1 bracket, 1 job, 1 budget unit per iteration\n")


def test_report_of_a_directory_says_so(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (isolated / "d").mkdir()
    code, _out, err = run_main(capsys, "report", "d")
    assert code == 2
    assert err == "hyperband: error: JOURNAL: 'd' is a directory, not a journal file\n"


# ---------------------------------------------------------------------- resuming, --retry-failed


def test_resume_says_so_and_retry_failed_reruns_the_failed_jobs(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_slow(isolated)
    (isolated / "broken").touch()
    argv = ["run", "cli_slow.py:fragile", "--space", "space.json", "--max-budget", "9"]
    argv += ["--seed", "3", "--journal", "j.jsonl", "--executor", "serial", *SEED_SEMANTICS]
    code, out, err = run_main(capsys, *argv)
    assert code == 0, err
    assert "resuming" not in err
    assert "jobs: 18 of 22 scheduled finished: 9 succeeded, 9 failed, 0 retried" in out

    code, out, err = run_main(capsys, *argv)  # the cause is still there, no --retry-failed
    assert code == 0, err
    assert "hyperband: resuming the journal 'j.jsonl': 18 results: 9 succeeded, 9 failed, " in err
    assert (
        "hyperband: 9 failed jobs are not re-run; pass retry_failed=True (CLI: --retry-failed) "
        "to run them again"
    ) in err

    (isolated / "broken").unlink()
    code, out, err = run_main(capsys, *argv, "--retry-failed")
    assert code == 0, err
    assert "retry_failed: re-running 9 of the 9 failed jobs" in err
    assert "jobs: 22 of 22 scheduled finished: 22 succeeded, 0 failed, 9 retried" in out
    result = RunResult.from_journal(isolated / "j.jsonl")
    assert result.n_succeeded == 22
    assert sum(r.attempts == 2 for r in result.history) == 9
