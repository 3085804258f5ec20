"""What ``hyperband run`` says about failures and its own defaults: where the objective failed,
an objective that fails every time (the default --max-failures policy), why fewer jobs ran than
scheduled, the --sampler choices and the seed it drew."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hyperband
from hyperband.cli.run import FAIL_FAST, load_objective
from hyperband.core.sampling import SAMPLERS
from hyperband.drivers.failures import failure_line

from .test_cli import SEED_SEMANTICS, isolated, run_main

__all__ = ["isolated"]  # the fixture, imported for the tests below

SPACE = {"lr": {"_type": "uniform", "_value": [0, 1]}}

OBJECTIVES = """
def helper(config):
    return config["learning_rate"]  # the space calls it lr


def misspelt(config, budget):
    return helper(config) * budget


def sometimes(config, budget):
    if config["lr"] > 0.5:
        raise ValueError("lr too large")
    return config["lr"]


def curve(config, budget, context):
    start = int(context.job.previous_budget or 0)
    loss = 1.0
    for epoch in range(start + 1, int(budget) + 1):
        loss = (config["lr"] - 0.3) ** 2 + 1.0 / epoch
        context.report(epoch, loss)
    return loss
"""


def write(folder: Path) -> None:
    (folder / "cli_fail.py").write_text(OBJECTIVES)
    (folder / "space.json").write_text(json.dumps(SPACE))


def run_argv(target: str, *more: str) -> list[str]:
    return ["run", f"cli_fail.py:{target}", "--space", "space.json", *more, "--no-progress"]


def serially(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``hyperband run`` with ``argv`` on the serial executor: jobs end in the order asked."""
    return run_main(capsys, *run_argv(*argv, "--executor", "serial"))


# ---------------------------------------------------------------------- where it failed


def test_a_failure_names_the_file_and_line_of_the_users_code(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(isolated)
    code, out, _ = serially(capsys, "misspelt", "--max-budget", "9", "--max-failures", "none")
    assert code == 3
    failed = [line for line in out.splitlines() if line.startswith("failed: job")]
    assert failed
    # The deepest frame of the user's code (the helper), not hyperband's or the objective's.
    where = "KeyError: 'learning_rate' (at cli_fail.py:3, in helper)"
    assert all(line.endswith(where) for line in failed), failed


def test_failure_line_skips_library_frames_and_keeps_the_last_exception() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/home/me/obj.py", line 7, in objective\n'
        "    return int(config['n'])\n"
        "ValueError: first\n"
        "\n"
        "During handling of the above exception, another exception occurred:\n"
        "\n"
        "Traceback (most recent call last):\n"
        f'  File "{Path(hyperband.__file__).parent / "drivers" / "context.py"}", line 140, in '
        "execute\n"
        '  File "/home/me/train.py", line 12, in fit\n'
        "    model.fit(x)\n"
        f'  File "{Path(json.__file__)}", line 346, in loads\n'
        "RuntimeError: second\n"
    )
    assert failure_line(text) == "RuntimeError: second (at /home/me/train.py:12, in fit)"
    assert failure_line("worker died") == "worker died"
    assert failure_line("") == "(no reason given)"


def test_the_report_shows_where_too(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(isolated)
    argv = run_argv("sometimes", "--max-budget", "9", "--seed", "0", "--journal", "s.jsonl")
    code, _, err = run_main(capsys, *argv)
    assert code == 0, err
    code, out, _ = run_main(capsys, "report", "s.jsonl", "--trials")
    assert code == 0
    assert "ValueError: lr too large (at cli_fail.py:12, in sometimes)" in out


# ---------------------------------------------------------------------- fail fast


def test_an_objective_that_always_fails_stops_after_its_first_jobs(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(isolated)
    code, out, err = serially(capsys, "misspelt", "--max-budget", "27", "--seed", "0")
    assert code == 3
    assert f"jobs: {FAIL_FAST} of 69 scheduled finished: 0 succeeded, {FAIL_FAST} failed" in out
    assert err.startswith(
        f"hyperband: error: fail_fast: the first {FAIL_FAST} jobs of this run all failed, so "
        "it stopped (an objective that fails every time?); the last one: job 9 at budget 1: "
        "KeyError: 'learning_rate' (at cli_fail.py:3, in helper)"
    )
    assert err.count("\n") == 1


def test_max_failures_none_runs_every_job_and_n_bounds_them_all(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(isolated)
    argv = run_argv("misspelt", "--max-budget", "27", "--seed", "0", "--executor", "serial")
    code, out, _ = run_main(capsys, *argv, "--max-failures", "none")
    assert code == 3
    # Failed jobs are not promoted: every bracket's first rung ran, and no more.
    first_rungs = sum(b.rungs[0].n_configs for b in hyperband.schedule(27, 3).brackets)
    assert f"jobs: {first_rungs} of 69 scheduled finished: 0 succeeded" in out
    code, out, err = run_main(capsys, *argv, "--max-failures", "12")
    assert code == 3
    assert "jobs: 12 of 69" in out
    assert err.startswith("hyperband: error: max_failures: 12 jobs failed in this run")


def test_a_study_with_some_successes_is_not_stopped_by_the_default(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(isolated)
    argv = run_argv("sometimes", "--max-budget", "27", "--seed", "0", "--executor", "serial")
    argv += SEED_SEMANTICS  # random draws: a model would learn to avoid the failures
    code, out, err = run_main(capsys, *argv)
    assert code == 0, err
    counts = next(line for line in out.splitlines() if line.startswith("jobs: "))
    assert int(counts.split(", ")[1].split()[0]) > FAIL_FAST  # more failures than that, mixed


@pytest.mark.parametrize("text", ["0", "-1", "x", "1.5"])
def test_max_failures_must_be_a_positive_int_or_none(
    isolated: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    write(isolated)
    argv = run_argv("sometimes", "--max-budget", "9", "--max-failures", text)
    code, _, err = run_main(capsys, *argv)
    assert code == 2
    assert err.startswith("hyperband: error: argument --max-failures: must be "), err


def test_the_python_api_keeps_running_by_default_and_fail_fast_is_checked() -> None:
    def fails(config: dict[str, float], budget: float) -> float:
        raise ValueError("no")

    result = hyperband.run(fails, SPACE, max_budget=9, seed=0, executor="serial", progress=False)
    assert result.n_failed == sum(b.rungs[0].n_configs for b in result.schedule.brackets)
    with pytest.raises(hyperband.TooManyFailuresError, match="fail_fast: the first 3 jobs"):
        hyperband.run(fails, SPACE, max_budget=9, executor="serial", progress=False, fail_fast=3)
    with pytest.raises(hyperband.ConfigurationError, match=r"fail_fast must be >= 1"):
        hyperband.run(fails, SPACE, max_budget=9, progress=False, fail_fast=0)


# ---------------------------------------------------------------------- why fewer ran


def test_asynchronous_mode_says_why_fewer_jobs_ran(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The newcomer's study: ASHA with the rung rule ran 67 of 69 jobs and did not say why."""
    write(isolated)
    argv = run_argv("curve", "--max-budget", "27", "--minimize", "--seed", "0", *SEED_SEMANTICS)
    argv += ["--exec-mode", "asynchronous", "--early-stop", "rung", "--executor", "serial"]
    code, out, err = run_main(capsys, *argv)
    assert code == 0, err
    counts = next(line for line in out.splitlines() if line.startswith("jobs: "))
    n_jobs = int(counts.split()[1])
    assert n_jobs < 69, counts
    assert counts.endswith(" retried (stopped jobs are not promoted, so fewer ran)"), counts


def test_a_full_study_says_no_more(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(isolated)
    argv = run_argv("misspelt", "--max-budget", "9", "--seed", "0", "--max-failures", "none")
    _, out, _ = run_main(capsys, *argv, "--executor", "serial")
    counts = next(line for line in out.splitlines() if line.startswith("jobs: "))
    assert counts.endswith(" retried (failed jobs are not promoted, so fewer ran)"), counts
    _, out, _ = run_main(capsys, *run_argv("curve", "--max-budget", "9", "--seed", "0"))
    counts = next(line for line in out.splitlines() if line.startswith("jobs: "))
    assert counts == "jobs: 22 of 22 scheduled finished: 22 succeeded, 0 failed, 0 retried"


# ---------------------------------------------------------------------- defaults shown


def test_sampler_help_lists_every_sampler(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "run", "--help")
    assert code == 0
    text = " ".join(out.split())
    sampler = text[text.rindex("--sampler {") :].split("--sampler-options")[0]  # not usage
    for name in SAMPLERS:
        assert f"{name} (" in sampler or f"{name}," in sampler, (name, sampler)
    assert "optuna" in sampler


def test_the_seed_drawn_is_short_and_repeats_the_study(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(isolated)
    argv = run_argv("curve", "--max-budget", "9", "--journal", "s.jsonl", "--workers", "1")
    code, out, _ = run_main(capsys, *argv)
    assert code == 0
    seed_line = next(line for line in out.splitlines() if line.startswith("seed: "))
    seed = int(seed_line.split()[1])
    assert len(str(seed)) <= 9, seed_line
    assert seed_line == f"seed: {seed} (pass --seed {seed} to repeat this study)"
    again = hyperband.run(
        load_objective("cli_fail.py:curve"),
        SPACE,
        max_budget=9,
        seed=seed,
        progress=False,
        executor="serial",
    )
    assert out.splitlines()[0].startswith(f"best: {again.best.value:.6g}")  # type: ignore[union-attr]
    # Resuming the journal keeps its seed (a fresh one would not match it).
    code, out, err = run_main(capsys, *argv)
    assert code == 0, err
    assert seed_line in out.splitlines()
