from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

import hyperband
from hyperband.cli import CliError, load_objective, main

from .optional import require

# The machine's semantics instead of run()'s defaults, where a test compares a threaded CLI run
# with a serial run(), or needs a sampler that does not learn to avoid failing configurations.
SEED_SEMANTICS = ["--sampler", "random", "--brackets", "cycle"]
RANDOM = {"sampler": "random", "brackets": "cycle"}

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}

OBJECTIVES = """
import math

def objective(config, budget):
    return -((config["x"] - 0.3) ** 2) + 0.001 * budget

def with_context(config, budget, context):
    context.report(1, config["x"])
    return config["x"]

def flaky(config, budget):
    if config["x"] > 0.8:
        raise ValueError(f"x too large: {config['x']:.3f}")
    return config["x"]

def interrupted(config, budget):
    raise KeyboardInterrupt

calls = 0

def interrupted_later(config, budget):
    global calls
    calls += 1
    if calls > 10:
        raise KeyboardInterrupt
    return config["x"]

def always_fails(config, budget):
    raise RuntimeError(f"out of memory at budget {budget}")

def renamed(config, budget):
    return -((config["x"] - 0.3) ** 2) + 0.001 * budget

def learning(config, budget, context):
    start = context.job.previous_budget or 0
    for k in (1, 2, 3, 4):
        step = start + (budget - start) * k / 4
        context.report(step, config["x"] - 0.5 / (1 + step))
    return config["x"] - 0.5 / (1 + budget)

not_callable = 3
"""


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A temporary CWD; sys.path restored and the test's own modules forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    # Only modules imported from this test's folder: forgetting a library's modules would
    # make its next import build a second copy of its classes.
    for name in set(sys.modules) - before:
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


def write_files(folder: Path, module: str) -> tuple[Path, Path]:
    code = folder / f"{module}.py"
    code.write_text(OBJECTIVES)
    space = folder / "space.json"
    space.write_text(json.dumps(SPACE))
    return code, space


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------- schedule


def test_schedule_prints_the_table_then_the_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "schedule", "--max-budget", "81", "--eta", "3")
    assert code == 0
    assert err == ""
    sched = hyperband.schedule(81, 3)
    assert out == f"{sched}\n\n5 brackets, 206 jobs, 1902 budget units per iteration\n"


def test_schedule_options_reach_the_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(
        capsys, "schedule", "--max-budget", "81", "--eta", "3", "--sizing", "table"
    )
    assert code == 0
    assert out.startswith(str(hyperband.schedule(81, 3, sizing="table")))
    assert f"{hyperband.schedule(81, 3, sizing='table').total_jobs} jobs" in out
    code, out, _ = run_main(capsys, "schedule", "--max-budget", "90", "--min-budget", "10")
    assert code == 0
    assert out.startswith(str(hyperband.schedule(90, 3, min_budget=10)))


def test_schedule_with_workers_prints_both_simulations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_main(
        capsys, "schedule", "--max-budget", "81", "--eta", "3", "--workers", "16"
    )
    assert code == 0
    assert out.startswith(str(hyperband.schedule(81, 3)))
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ")}
    for mode in ("serial", "parallelism"):
        r = hyperband.simulate(81, 3, workers=16, exec_mode=mode, seed=0)
        assert rows[mode][1:] == [
            f"{r.makespan:.1f}",
            f"{r.utilisation:.1%}",
            f"{r.lower_bound:.1f}",
            f"{r.bound_ratio:.2f}",
        ]
    assert "16 workers" in out
    assert "x sooner than serial" in out


def test_schedule_workers_options_reach_the_simulation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["schedule", "--max-budget", "27", "--workers", "4", "--iterations", "2"]
    code, out, _ = run_main(capsys, *argv, "--seed", "7", "--resume")
    assert code == 0
    r = hyperband.simulate(27, 3, workers=4, iterations=2, seed=7, resume=True)
    assert f"{r.makespan:.1f}" in out
    assert "resumed from checkpoints" in out
    assert "2 iterations" in out


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hyperband", "schedule", "--max-budget", "27", "--eta", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        f"{hyperband.schedule(27, 3)}\n\n4 brackets, 69 jobs, 423 budget units per iteration\n"
    )


# ---------------------------------------------------------------------- bad arguments


RUN_ARGS = ["run", "cli_target:objective", "--space", "space.json", "--max-budget", "9"]
BAD_ARGUMENTS = [
    # A bare `hyperband` prints its usage too: tests/test_cli_fixes.py.
    (["bogus"], "invalid choice: 'bogus'"),
    (["schedule"], "the following arguments are required: --max-budget"),
    (["schedule", "--max-budget", "x"], "argument --max-budget: must be a number, got 'x'"),
    (["schedule", "--max-budget", "nan"], "must be a finite number"),
    (["schedule", "--max-budget", "81", "--eta", "1"], "eta must be > 1, got 1 (int)"),
    (["schedule", "--max-budget", "1", "--min-budget", "3"], "max_budget must be >= min_budget"),
    (["schedule", "--max-budget", "81", "--sizing", "paper"], "argument --sizing: invalid choice"),
    (["schedule", "--max-budget", "81", "--workers", "0"], "--workers: must be >= 1, got 0"),
    (["schedule", "--max-budget", "81", "--workers", "two"], "must be an integer, got 'two'"),
    (["schedule", "--max-budget", "81", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["run", "mod:f", "--max-budget", "9"], "the following arguments are required: --space"),
    (["run", "nocolon", "--space", "space.json", "--max-budget", "9"], "TARGET must be module"),
    (
        ["run", "no_such_module_xyz:f", "--space", "space.json", "--max-budget", "9"],
        "cannot import module 'no_such_module_xyz'",
    ),
    (["run", "cli_target:nope", "--space", "space.json", "--max-budget", "9"], "no attribute"),
    (
        ["run", "cli_target:not_callable", "--space", "space.json", "--max-budget", "9"],
        "must name a callable, got int",
    ),
    (["run", "missing.py:f", "--space", "space.json", "--max-budget", "9"], "does not exist"),
    (["run", "cli_target:objective", "--space", "nope.json", "--max-budget", "9"], "cannot read"),
    (["run", "cli_target:objective", "--space", "bad.json", "--max-budget", "9"], "not valid JSON"),
    (
        ["run", "cli_target:objective", "--space", "badspace.json", "--max-budget", "9"],
        "uniform",
    ),
    (
        ["run", "cli_target:objective", "--space", "space.json", "--max-budget", "9", "--eta", "0"],
        "eta must be > 1",
    ),
    (
        [*RUN_ARGS, "--timeout", "-1"],
        "--timeout: must be > 0 seconds",
    ),
    (
        [*RUN_ARGS, "--executor", "gpu"],
        "argument --executor: invalid choice: 'gpu'",
    ),
    (["report", "missing.jsonl"], "JOURNAL: file 'missing.jsonl' does not exist"),
    (["report", "space.json"], "must start with a study header"),
    (["schedule", "--max-budget", "1e308"], "about 646 brackets and more than 10^307 jobs"),
    (["schedule", "--max-budget", "1e9"], "about 19 brackets and at least 3.33e+08 jobs"),
    (["schedule", "--max-budget", "81", "--eta", "1.0001"], "about 43947 brackets"),
    (["schedule", "--max-budget", "81", "--max-jobs", "205"], "5 brackets and 206 jobs"),
    ([*RUN_ARGS[:-1], "1e9"], "more than max_jobs=1000000"),
    ([*RUN_ARGS[:-1], "81", "--eta", "1.0001"], "--max-jobs N"),
    ([*RUN_ARGS, "--max-failures", "0"], "--max-failures: must be >= 1, got 0"),
    (["report", "space.json", "--top", "0"], "--top: must be >= 1, got 0"),
    (["report", "space.json", "--sort", "speed"], "argument --sort: invalid choice"),
]


@pytest.mark.parametrize(
    ("argv", "needle"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS]
)
def test_bad_arguments_give_one_line_and_exit_code_2(
    argv: list[str], needle: str, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_target")
    (isolated / "bad.json").write_text("{not json")
    (isolated / "badspace.json").write_text(json.dumps({"x": {"_type": "uniform", "_value": [1]}}))
    code, out, err = run_main(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("hyperband: error: ")
    assert "Traceback" not in err
    assert needle in err


def test_bad_arguments_in_a_real_process_give_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hyperband", "schedule", "--max-budget", "81", "--eta", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == "hyperband: error: eta must be > 1, got 0.5 (float)\n"


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "schedule", "--help")
    assert code == 0
    assert "--workers" in out


# ---------------------------------------------------------------------- run and report


def test_run_prints_the_best_and_the_counts(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code_file, space = write_files(isolated, "cli_run_a")
    code, out, err = run_main(
        capsys,
        "run",
        f"{code_file}:objective",
        "--space",
        str(space),
        "--max-budget",
        "9",
        "--workers",
        "3",
        "--seed",
        "4",
        "--no-progress",
        *SEED_SEMANTICS,
    )
    assert code == 0, err
    module = load_objective(f"{code_file}:objective")
    expected = hyperband.run(module, SPACE, max_budget=9, seed=4, progress=False, **RANDOM)
    assert expected.best is not None
    lines = out.splitlines()
    # Job ids follow the order of asks, which threads change; the winner does not.
    assert lines[0].startswith(
        f"best: {expected.best.value:.6g} at budget 9 (configuration {expected.best.config_id}, "
    )
    assert json.loads(lines[1].removeprefix("config: ")) == expected.best.config
    assert "jobs: 22 of 22 scheduled finished: 22 succeeded, 0 failed, 0 retried" in lines
    assert "budget: 78 units" in lines
    # Three workers: the line adds what a sampler that learns would also need.
    assert any(line.startswith("seed: 4 (pass --seed 4 to repeat this study; ") for line in lines)


def test_the_order_caveat_follows_the_jobs_in_flight_not_the_workers_seen() -> None:
    from hyperband.report.text import result_lines

    # One worker ran every job, as one fast thread of three may: repeating with three is
    # still luck, so the caveat must not hang on which threads happened to be used.
    result = hyperband.run(
        lambda c, b: c["x"], SPACE, max_budget=9, seed=4, workers=1, progress=False, **RANDOM
    )
    assert result.workers == 1
    assert len({r.worker for r in result.history}) == 1
    three = attrs.evolve(result, workers=3)
    (alone,) = [line for line in result_lines(result) if line.startswith("seed: ")]
    (shared,) = [line for line in result_lines(three) if line.startswith("seed: ")]
    assert alone == "seed: 4 (pass --seed 4 to repeat this study)"
    assert shared.startswith("seed: 4 (pass --seed 4 to repeat this study; a sampler that learns")
    # Read from a journal, the number is unknown: the records decide.
    unknown = attrs.evolve(result, workers=None)
    assert [line for line in result_lines(unknown) if line.startswith("seed: ")] == [alone]


def test_run_module_from_the_current_directory_and_minimize(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_b")
    argv = ["run", "cli_run_b:objective", "--space", "space.json", "--max-budget", "9"]
    argv += SEED_SEMANTICS
    code, out, err = run_main(capsys, *argv, "--minimize", "--seed", "1", "--no-progress")
    assert code == 0, err
    objective = load_objective("cli_run_b:objective")
    expected = hyperband.run(
        objective, SPACE, max_budget=9, seed=1, mode="minimize", progress=False, **RANDOM
    )
    assert expected.best is not None
    assert out.splitlines()[0].startswith(f"best: {expected.best.value:.6g} at budget 9")
    maximized = hyperband.run(objective, SPACE, max_budget=9, seed=1, progress=False, **RANDOM)
    assert maximized.best is not None
    assert maximized.best.value > expected.best.value


def test_run_reports_failures_and_still_exits_0(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_c")
    argv = ["run", "cli_run_c:flaky", "--space", "space.json", "--max-budget", "9"]
    argv += SEED_SEMANTICS
    code, out, err = run_main(capsys, *argv, "--seed", "0", "--no-progress", "--retries", "1")
    assert code == 0, err
    failed = [line for line in out.splitlines() if line.startswith("failed: job")]
    assert failed
    assert all("ValueError: x too large" in line for line in failed)
    counts = next(line for line in out.splitlines() if line.startswith("jobs: "))
    n_failed = int(counts.split(", ")[1].split()[0])
    assert n_failed == len(failed) or (n_failed > 5 and len(failed) == 5)
    assert f"{n_failed} retried" in counts  # every failure was retried once


def test_ctrl_c_exits_130_with_a_hint(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(isolated, "cli_run_d")
    argv = ["run", "cli_run_d:interrupted", "--space", "space.json", "--max-budget", "9"]
    code, out, err = run_main(
        capsys, *argv, "--executor", "serial", "--journal", "s.jsonl", "--no-progress"
    )
    assert code == 130
    assert out.startswith("best: none (no job succeeded)\n")
    assert err.endswith(
        "hyperband: interrupted; the journal 's.jsonl' holds every finished job: run the same "
        "command to resume\n"
    )
    # The run's own warning says the same (not the Python API's journal='s.jsonl'), and neither
    # calls an interrupted journal "complete".
    assert err.count("the journal 's.jsonl' holds every finished job") == 2, err
    assert "complete" not in err
    assert "Traceback" not in err


def test_ctrl_c_without_a_journal_says_nothing_can_be_resumed(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_k")
    argv = ["run", "cli_run_k:interrupted_later", "--space", "space.json", "--max-budget", "9"]
    code, out, err = run_main(capsys, *argv, "--executor", "serial", "--no-progress")
    assert code == 130
    # The best of the 10 jobs that ran, before the 11th was interrupted.
    assert out.startswith("best: ")
    assert "jobs: 10 of 22 scheduled finished: 10 succeeded, 0 failed" in out
    assert "nothing can be resumed (no --journal)" in err
    assert "pass --journal FILE" in err
    assert "run the same command to resume" not in err
    assert "Traceback" not in err


def test_run_with_a_journal_then_report_and_plot(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_e")
    argv = ["run", "cli_run_e:with_context", "--space", "space.json", "--max-budget", "9"]
    code, out, err = run_main(
        capsys, *argv, "--journal", "study.jsonl", "--seed", "2", "--no-progress"
    )
    assert code == 0, err
    assert "journal: study.jsonl (summary: hyperband report study.jsonl)" in out
    # Running again resumes the finished study: nothing left to run, same best.
    code, again, err = run_main(
        capsys, *argv, "--journal", "study.jsonl", "--seed", "2", "--no-progress"
    )
    assert code == 0, err
    assert again.splitlines()[:3] == out.splitlines()[:3]

    # The objective takes a context: only the best configuration's checkpoint is left.
    assert [p.name for p in (isolated / "study.checkpoints").iterdir()] == [
        f"config-{hyperband.RunResult.from_journal('study.jsonl').best.config_id}"  # type: ignore[union-attr]
    ]
    code, report, err = run_main(capsys, "report", "study.jsonl")
    assert code == 0, err
    result = hyperband.RunResult.from_journal("study.jsonl")
    assert result.best is not None
    lines = report.splitlines()
    assert lines[0] == "journal: study.jsonl"
    assert lines[1].startswith("study: max_budget=9 eta=3 min_budget=1 mode=maximize")
    assert "seed=2" in lines[1]
    assert "jobs: 22 of 22 scheduled (complete): 22 succeeded, 0 failed" in lines
    assert "budget: 78 units spent of 78 scheduled" in lines
    assert any(line.startswith("time: ") and "busy, at most" in line for line in lines)
    table = lines[lines.index("brackets:") + 1 :]
    assert table[0].split() == [
        "iteration", "s", "jobs", "failed", "stopped", "budget", "best", "at", "max"
    ]  # fmt: skip
    assert [row.split()[:6] for row in table[1:4]] == [
        ["0", "2", "13", "0", "0", "27"],
        ["0", "1", "6", "0", "0", "24"],
        ["0", "0", "3", "0", "0", "27"],
    ]
    assert f"best: {result.best.value:.6g} at budget 9" in report

    require("matplotlib")
    code, report, err = run_main(capsys, "report", "study.jsonl", "--plot", "study.png")
    assert code == 0, err
    assert report.splitlines()[-1] == "plot: study.png"
    png = (isolated / "study.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) > 10_000


def test_a_bad_plot_path_or_format_is_one_error_line(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require("matplotlib")
    write_files(isolated, "cli_run_h")
    argv = ["run", "cli_run_h:objective", "--space", "space.json", "--max-budget", "3"]
    assert run_main(capsys, *argv, "--journal", "s.jsonl", "--no-progress")[0] == 0
    code, out, err = run_main(capsys, "report", "s.jsonl", "--plot", "no/such/dir/x.png")
    assert (code, out) == (2, "")
    assert err == "hyperband: error: --plot: folder 'no/such/dir' does not exist\n"
    code, _, err = run_main(capsys, "report", "s.jsonl", "--plot", "x.nosuchformat")
    assert code == 2
    assert err.startswith("hyperband: error: --plot: cannot write 'x.nosuchformat': ")
    assert err.count("\n") == 1


def test_resuming_a_journal_with_other_parameters_is_one_error_line(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_i")
    argv = ["run", "cli_run_i:objective", "--space", "space.json", "--journal", "s.jsonl"]
    assert run_main(capsys, *argv, "--max-budget", "9", "--seed", "0", "--no-progress")[0] == 0
    code, out, err = run_main(capsys, *argv, "--max-budget", "27", "--seed", "0", "--no-progress")
    assert (code, out) == (2, "")
    assert err.startswith("hyperband: error: journal ")
    assert "max_budget=9" in err
    assert err.count("\n") == 1


def test_a_journal_that_cannot_be_opened_is_one_error_line(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_j")
    (isolated / "taken").mkdir()
    argv = ["run", "cli_run_j:objective", "--space", "space.json", "--max-budget", "3"]
    code, out, err = run_main(capsys, *argv, "--journal", "taken", "--no-progress")
    assert (code, out) == (2, "")
    assert err.startswith("hyperband: error: journal must be a path to a file ")
    assert "'taken'" in err
    assert "Is a directory" in err
    assert err.count("\n") == 1


def test_report_of_an_unfinished_study(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(isolated, "cli_run_f")
    argv = ["run", "cli_run_f:interrupted", "--space", "space.json", "--max-budget", "9"]
    run_main(capsys, *argv, "--executor", "serial", "--journal", "s.jsonl", "--no-progress")
    code, report, err = run_main(capsys, "report", "s.jsonl")
    assert code == 0, err
    assert "jobs: 0 of 22 scheduled (unfinished: up to 22 more to run): 0 succeeded" in report
    assert "best: none (no job succeeded)" in report


def test_processes_executor_with_a_file_target_in_a_real_process(tmp_path: Path) -> None:
    # Workers are started fresh (forkserver/spawn): they must import the file by name.
    code_file, space = write_files(tmp_path, "cli_run_g")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "hyperband", "run", f"{code_file}:with_context"),
            *("--space", str(space), "--max-budget", "9", "--executor", "processes"),
            *("--workers", "2", "--seed", "0", "--no-progress"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "jobs: 22 of 22 scheduled finished: 22 succeeded, 0 failed, 0 retried" in proc.stdout


def test_a_study_where_no_job_succeeded_exits_3(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_l")
    argv = ["run", "cli_run_l:always_fails", "--space", "space.json", "--max-budget", "9"]
    # --max-failures none: by default the run would stop after its first 10 failed jobs.
    argv += ["--max-failures", "none"]
    code, out, err = run_main(capsys, *argv, "--journal", "s.jsonl", "--no-progress")
    assert code == 3
    assert "best: none (no job succeeded)" in out
    # Failed jobs are never promoted: only the 17 jobs of the brackets' first rungs ran.
    assert "jobs: 17 of 22 scheduled finished: 0 succeeded, 17 failed, 0 retried" in out
    assert "budget: 51 units" in out.splitlines()  # 9x1 + 5x3 + 3x9: failed jobs ran too
    assert err == "hyperband: error: no job succeeded (17 failed): see the reasons above\n"
    # The report says the study is over (rerunning runs nothing), and why the jobs failed.
    code, report, _ = run_main(capsys, "report", "s.jsonl")
    assert code == 0
    lines = report.splitlines()
    assert (
        "jobs: 17 of 22 scheduled (complete; failed jobs are not promoted, so fewer ran): "
        "0 succeeded, 17 failed"
    ) in lines
    # Reasons that differ only in numbers are one reason.
    assert "failures: 17 jobs failed, for 1 reason:" in lines
    (reason,) = [line for line in lines if line.startswith("     17 x ")]
    assert reason.startswith("     17 x RuntimeError: out of memory at budget 1 (at cli_run_l.py:")
    assert reason.endswith(", in always_fails) (and 16 alike)")
    assert "budget: 51 units spent of 78 scheduled" in lines  # failed jobs count too


def test_max_failures_stops_the_run_and_the_journal_resumes_it(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_m")
    argv = ["run", "cli_run_m:flaky", "--space", "space.json", "--max-budget", "27"]
    argv += ["--journal", "s.jsonl", "--seed", "3", "--no-progress", "--executor", "serial"]
    code, out, err = run_main(capsys, *argv, "--max-failures", "2")
    assert code == 3
    assert "jobs: " in out  # the summary so far
    assert err.startswith("hyperband: error: max_failures: 2 jobs failed in this run ")
    assert "ValueError: x too large" in err
    assert err.endswith("; the journal 's.jsonl' resumes the study\n")
    assert err.count("\n") == 1
    done = sum('"event":"result"' in line for line in Path("s.jsonl").read_text().splitlines())
    code, out, err = run_main(capsys, *argv)
    assert code == 0, err
    total = int(out.split("jobs: ")[1].split()[0])
    assert total > done


def test_a_degenerate_schedule_is_warned_about(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(capsys, "schedule", "--max-budget", "1.5")
    assert code == 0
    assert "1 bracket, 1 job" in out
    assert err == (
        "hyperband: warning: max_budget / min_budget = 1.5 is less than eta = 3: the schedule "
        "is one bracket of 1 job at budget 1.5, without successive halving; lower min_budget or "
        "eta to get brackets that stop bad configurations early\n"
    )
    write_files(isolated, "cli_run_n")
    argv = ["run", "cli_run_n:objective", "--space", "space.json", "--max-budget", "1.5"]
    code, out, err = run_main(capsys, *argv, "--no-progress")
    assert code == 0
    assert "jobs: 1 of 1 scheduled" in out
    assert err.startswith("hyperband: warning: max_budget / min_budget = 1.5 is less than eta")
    assert err.count("\n") == 1
    code, _, err = run_main(capsys, "schedule", "--max-budget", "3")
    assert (code, err) == (0, "")


def test_max_jobs_lets_a_big_schedule_through_on_purpose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["schedule", "--max-budget", "531441"]
    assert run_main(capsys, *argv)[0] == 2
    code, out, _ = run_main(capsys, *argv, "--max-jobs", "2000000")
    assert code == 0
    assert out.endswith("13 brackets, 1250962 jobs, 8.62664e+07 budget units per iteration\n")


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: `| head` done reading
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hyperband", "schedule", "--max-budget", "81"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.stderr == b""
    assert proc.returncode == 141


def test_report_trials_lists_sorts_and_cuts_the_jobs(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_o")
    argv = ["run", "cli_run_o:flaky", "--space", "space.json", "--max-budget", "9"]
    argv += SEED_SEMANTICS
    run_main(capsys, *argv, "--journal", "s.jsonl", "--seed", "0", "--no-progress")
    result = hyperband.RunResult.from_journal("s.jsonl")
    assert result.n_failed > 0

    def trials(*options: str) -> list[list[str]]:
        code, out, err = run_main(capsys, "report", "s.jsonl", "--trials", *options)
        assert code == 0, err
        table = out.splitlines()[out.splitlines().index("trials:") + 1 :]
        assert table[0].split() == [
            *("job", "config", "iteration", "s", "rung", "budget", "status", "value"),
            *("seconds", "parameters", "reason"),
        ]
        return [row.split(maxsplit=9) for row in table[1:]]

    rows = trials()
    assert len(rows) == len(result.history)
    budgets = [float(r[5]) for r in rows]
    assert budgets[0] == 9
    ok = [r for r in rows if r[6] == "succeeded"]
    assert [float(r[7]) for r in ok if float(r[5]) == 9] == pytest.approx(
        sorted(
            (r.value for r in result.history if r.value is not None and r.job.budget == 9),
            reverse=True,
        ),
        rel=1e-5,
    )
    failed = [r for r in rows if r[6] == "failed"]
    assert len(failed) == result.n_failed
    # The reason comes after the parameters, on failed rows only.
    assert all(r[9].split("} ", 1)[1].lstrip().startswith("ValueError: x too") for r in failed)
    assert all(r[9].endswith("}") for r in ok)
    by_id = {r.job.id: r for r in result.history}
    for r in rows:
        assert json.loads(r[9].rsplit("}", 1)[0] + "}") == by_id[int(r[0])].job.config

    top = trials("--sort", "value", "--top", "3")
    best = sorted((r.value for r in result.history if r.value is not None), reverse=True)[:3]
    assert [float(r[7]) for r in top] == pytest.approx(best, rel=1e-5)
    assert [int(r[0]) for r in trials("--sort", "job")] == sorted(by_id)
    durations = [float(r[8]) for r in trials("--sort", "duration")]
    assert durations == sorted(durations, reverse=True)


def test_report_after_a_resume_counts_workers_and_time_of_both_runs(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run has new worker names and starts an hour later: neither may skew the time
    line (it said "on 4 workers" for a 2-worker study, and a utilisation of the idle hour)."""
    write_files(isolated, "cli_run_p")
    argv = ["run", "cli_run_p:objective", "--space", "space.json", "--max-budget", "9"]
    run_main(capsys, *argv, "--journal", "s.jsonl", "--executor", "serial", "--no-progress")
    events = [json.loads(line) for line in Path("s.jsonl").read_text().splitlines()]
    results = [e for e in events if e["event"] == "result"]
    first = min(e["start"] for e in results)
    # As if two runs of 2 workers, each job taking 1 s: 11 jobs, then 11 jobs an hour later.
    for k, e in enumerate(results):
        second = k >= 11
        e["start"] = first + 3600 * second + (k % 11) // 2
        e["end"] = e["start"] + 1
        e["worker"] = f"host/{200 + second}/worker-{k % 2}"
    Path("s.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    code, report, _ = run_main(capsys, "report", "s.jsonl")
    assert code == 0
    (line,) = [line for line in report.splitlines() if line.startswith("time: ")]
    assert line == (
        "time: 12 s wall (first start to last end: 3.61e+03 s, less 3.59e+03 s between runs "
        "with no job running), 22 s busy, at most 2 jobs at once, utilisation 92%"
    )


def test_the_time_line_counts_short_idle_gaps_but_not_the_time_between_runs() -> None:
    from hyperband.report.text import _time_line

    # One worker, idle a second between its jobs: that idle time is the run's own.
    assert _time_line([(0.0, 1.0), (2.0, 3.0)]) == (
        "time: 3 s wall (first start to last end), 2 s busy, at most 1 job at once, utilisation 67%"
    )
    assert "less 100 s between runs" in _time_line([(0.0, 1.0), (101.0, 102.0)])


def test_resuming_with_another_objective_is_refused_unless_allowed(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_q")
    base = ["--space", "space.json", "--max-budget", "9", "--journal", "s.jsonl"]
    base += ["--no-progress", "--study-name", "first"]
    code, _, err = run_main(capsys, "run", "cli_run_q:objective", *base)
    assert code == 0, err
    code, out, err = run_main(capsys, "run", "cli_run_q:renamed", *base)
    assert (code, out) == (2, "")
    assert "objective='cli_run_q:objective' (str), but this run has objective=" in err
    assert "--allow-objective-change" in err
    allow = ["--allow-objective-change", "--keep-checkpoints", "all"]
    code, _, err = run_main(capsys, "run", "cli_run_q:renamed", *base, *allow)
    assert code == 0, err
    assert "hyperband: warning: journal s.jsonl was written by objective cli_run_q:objective" in err
    code, _, err = run_main(capsys, "run", "cli_run_q:objective", *base[:-1], "second")
    assert code == 2
    assert "study_name='first' (str), but this run has study_name='second'" in err
    code, report, err = run_main(capsys, "report", "s.jsonl")
    assert code == 0, err
    assert "objective: cli_run_q:objective (study 'first')" in report.splitlines()


@pytest.mark.parametrize("mode", ["maximize", "minimize"])
def test_report_best_at_max_and_the_plot_follow_the_mode(
    mode: str, isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, f"cli_run_r_{mode}")
    argv = ["run", f"cli_run_r_{mode}:flaky", "--space", "space.json", "--max-budget", "27"]
    argv += ["--journal", "s.jsonl", "--seed", "5", "--no-progress"]
    run_main(capsys, *argv, *(["--minimize"] if mode == "minimize" else []))
    result = hyperband.RunResult.from_journal("s.jsonl")
    assert result.n_failed > 0
    pick = max if mode == "maximize" else min
    code, report, _ = run_main(capsys, "report", "s.jsonl")
    assert code == 0
    lines = report.splitlines()
    table = lines[lines.index("brackets:") + 2 : lines.index("brackets:") + 6]
    for row in table:
        s = int(row.split()[1])
        recs = [r for r in result.history if r.job.bracket == s]
        top = max(r.job.budget for r in recs)
        best = pick(r.value for r in recs if r.value is not None and r.job.budget == top)
        assert row.split()[-3:] == [f"{best:.6g}", "@", f"{top:g}"], row

    # The plot's best-so-far line, against an independent reckoning of the machine's rule:
    # the best value among the results at the largest budget reached so far.
    require("matplotlib")
    from hyperband.report.plots import result_figure

    fig = result_figure(result)
    try:
        (line,) = [ln for ln in fig.axes[1].lines if "best" in ln.get_label()]
        xs, ys = list(line.get_xdata()), list(line.get_ydata())
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    spent, incumbent, expected_x, expected_y = 0.0, None, [], []
    for r in sorted(result.history, key=lambda r: r.end):
        spent += float(r.job.budget)
        if r.value is None:
            continue
        if (
            incumbent is None
            or r.job.budget > incumbent[0]
            or (r.job.budget == incumbent[0] and pick(r.value, incumbent[1]) != incumbent[1])
        ):
            incumbent = (r.job.budget, r.value)
        expected_x.append(spent)
        expected_y.append(incumbent[1])
    assert ys == expected_y
    assert xs == pytest.approx(expected_x)  # failed jobs' budget counts as spent
    assert ys[-1] == result.best.value  # type: ignore[union-attr]


# ---------------------------------------------------------------------- load_objective


def test_load_objective_resolves_dotted_attributes() -> None:
    assert load_objective("os.path:join")("a", "b") == os.path.join("a", "b")
    assert load_objective("json:JSONDecoder.decode") is json.JSONDecoder.decode


def test_load_objective_refuses_a_module_name_already_taken(isolated: Path) -> None:
    shadow = isolated / "json.py"
    shadow.write_text("def f(c, b):\n    return 1\n")
    with pytest.raises(CliError, match=r"already imported from .*rename the file"):
        load_objective(f"{shadow}:f")


def test_load_objective_reports_an_import_error_in_one_line(isolated: Path) -> None:
    broken = isolated / "broken_mod_xyz.py"
    broken.write_text("import no_such_dependency_xyz\n")
    with pytest.raises(CliError) as info:
        load_objective(f"{broken}:f")
    message = str(info.value)
    assert "cannot import module 'broken_mod_xyz'" in message
    assert "ModuleNotFoundError" in message
    assert "\n" not in message


# ---------------------------------------------------------------------- the docs


def console_examples(page: str) -> list[tuple[str, str]]:
    """``(command, output)`` of every ``$ hyperband ...`` line in the page's console blocks."""
    text = (Path(__file__).resolve().parent.parent / "docs" / page).read_text()
    examples = []
    for block in re.findall(r"^```console\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


@pytest.mark.parametrize(
    ("command", "output"),
    [
        (c, o)
        for c, o in console_examples("cli.md")
        # The others print timings, which vary; they are checked above.
        if c.startswith("hyperband schedule") or o.startswith("hyperband: error:")
    ],
)
def test_docs_cli_examples_print_what_they_say(
    command: str, output: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = shlex.split(command)
    assert argv[0] == "hyperband"
    code, out, err = run_main(capsys, *argv[1:])
    assert err + out == output  # as a terminal shows them: warnings come before the output
    assert code == (2 if "hyperband: error:" in err else 0)


@pytest.mark.parametrize("exec_mode", ["parallelism", "asynchronous"])
def test_run_with_the_kde_sampler_and_early_stopping_then_report(
    isolated: Path, capsys: pytest.CaptureFixture[str], exec_mode: str
) -> None:
    write_files(isolated, f"cli_model_{exec_mode}")
    argv = ["run", f"cli_model_{exec_mode}:learning", "--space", "space.json"]
    argv += ["--max-budget", "27", "--seed", "3", "--no-progress", "--journal", "study.jsonl"]
    argv += ["--sampler", "kde", "--sampler-options", '{"random_fraction": 0.5}']
    argv += ["--early-stop", "rung", "--exec-mode", exec_mode, "--executor", "serial"]
    code, out, err = run_main(capsys, *argv)
    assert code == 0, err
    result = hyperband.RunResult.from_journal("study.jsonl")
    assert result.n_stopped > 0
    assert f"{result.n_stopped} stopped early" in out
    study = json.loads(Path("study.jsonl").read_text().splitlines()[0])
    assert study["sampler_spec"]["name"] == "kde"
    assert study["sampler_spec"]["options"]["random_fraction"] == 0.5
    assert study["params"]["early_stop"]["name"] == "rung"
    assert study["params"]["exec_mode"] == exec_mode
    code, report, err = run_main(capsys, "report", "study.jsonl", "--trials")
    assert code == 0, err
    assert f"{result.n_stopped} stopped early" in report
    assert "stopped at step" in report
    assert result.stats is not None
    promotions = f"promotions: {result.stats.n_promoted}, {result.stats.n_mispromoted} of them"
    assert (promotions in out) == (promotions in report) == (exec_mode == "asynchronous")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sampler", "tpe"], "argument --sampler: invalid choice: 'tpe'"),
        (["--early-stop", "mean"], "argument --early-stop: invalid choice: 'mean'"),
        (["--sampler-options", "[1]"], "--sampler-options: must be a JSON object"),
        (
            ["--sampler", "kde", "--sampler-options", '{"top": 1}'],
            "sampler 'kde' takes the options",
        ),
    ],
)
def test_bad_sampler_and_early_stop_flags(
    isolated: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    write_files(isolated, "cli_bad_model")
    argv = ["run", "cli_bad_model:objective", "--space", "space.json", "--max-budget", "9"]
    code, _, err = run_main(capsys, *argv, *extra)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1  # one line, no traceback
