from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hyperband
from hyperband._cli import CliError, load_objective, main

from .optional import require

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
    ([], "the following arguments are required: COMMAND"),
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
    (["report", "space.json"], "journal"),
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
    )
    assert code == 0, err
    module = load_objective(f"{code_file}:objective")
    expected = hyperband.run(module, SPACE, max_budget=9, seed=4, progress=False)
    assert expected.best is not None
    lines = out.splitlines()
    # Job ids follow the order of asks, which threads change; the winner does not.
    assert lines[0].startswith(
        f"best: {expected.best.value:.6g} at budget 9 (configuration {expected.best.config_id}, "
    )
    assert json.loads(lines[1].removeprefix("config: ")) == expected.best.config
    assert "jobs: 22 of 22 scheduled finished: 22 succeeded, 0 failed, 0 retried" in lines
    assert "budget: 78 units" in lines
    assert "seed: 4 (pass --seed 4 to repeat this study)" in lines


def test_run_module_from_the_current_directory_and_minimize(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_b")
    argv = ["run", "cli_run_b:objective", "--space", "space.json", "--max-budget", "9"]
    code, out, err = run_main(capsys, *argv, "--minimize", "--seed", "1", "--no-progress")
    assert code == 0, err
    objective = load_objective("cli_run_b:objective")
    expected = hyperband.run(
        objective, SPACE, max_budget=9, seed=1, mode="minimize", progress=False
    )
    assert expected.best is not None
    assert out.splitlines()[0].startswith(f"best: {expected.best.value:.6g} at budget 9")
    maximized = hyperband.run(objective, SPACE, max_budget=9, seed=1, progress=False)
    assert maximized.best is not None
    assert maximized.best.value > expected.best.value


def test_run_reports_failures_and_still_exits_0(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(isolated, "cli_run_c")
    argv = ["run", "cli_run_c:flaky", "--space", "space.json", "--max-budget", "9"]
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
    assert out == ""
    assert "interrupted; the journal 's.jsonl' is complete" in err
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
    assert any(line.startswith("time: ") and "busy on" in line for line in lines)
    table = lines[lines.index("brackets:") + 1 :]
    assert table[0].split() == ["iteration", "s", "jobs", "failed", "budget", "best", "at", "max"]
    assert [row.split()[:5] for row in table[1:4]] == [
        ["0", "2", "13", "0", "27"],
        ["0", "1", "6", "0", "24"],
        ["0", "0", "3", "0", "27"],
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
    assert "jobs: 0 of 22 scheduled (22 unfinished): 0 succeeded, 0 failed" in report
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
    assert out + err == output
    assert code == (2 if err else 0)
