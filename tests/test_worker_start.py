"""A process pool whose workers cannot start says why once, and no worker runs a study (issue 18).

A worker process (``spawn`` or ``forkserver``) imports the main module again before it runs a
job. These tests run real scripts in a subprocess, the way a user does: an unguarded script, a
script read from standard input, and an objective defined in an unguarded ``__main__``. Each
must stop at once with one error naming the ``if __name__ == "__main__":`` guard, and no worker
may start a study of its own. The script's sampler leaves a marker named by the process id each
time a study draws configurations, so a nested study shows as a second marker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUARD = 'if __name__ == "__main__":'

# The objective, importable by name in the workers (a module beside the script).
OBJECTIVE = """
def objective(config, budget):
    return config["x"] + budget / 100
"""

# The script's start: a sampler that marks each process whose study draws configurations.
PROLOGUE = """
import os
import sys

import hyperband

MARKS = {marks!r}
sys.path.insert(0, {here!r})


class Marking:
    def sample(self, rng, n):
        open(os.path.join(MARKS, str(os.getpid())), "w").close()
        return [{{"x": float(v)}} for v in rng.uniform(0, 1, n)]
"""

RUN = """
result = hyperband.run(objective, Marking(), max_budget=9, eta=3, seed=0,
                       executor="processes", workers=2, progress=False)
print("best", result.best.value)
"""

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX start methods")


def _run(
    tmp_path: Path, body: str, *, stdin: bool
) -> tuple[subprocess.CompletedProcess[str], float, list[str]]:
    marks = tmp_path / "marks"
    marks.mkdir()
    (tmp_path / "objmod.py").write_text(OBJECTIVE)
    code = PROLOGUE.format(marks=str(marks), here=str(tmp_path)) + textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    if stdin:
        command, feed = [sys.executable, "-"], code
    else:
        script = tmp_path / "study.py"
        script.write_text(code)
        command, feed = [sys.executable, str(script)], None
    began = time.monotonic()
    proc = subprocess.run(
        command, input=feed, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    return proc, time.monotonic() - began, sorted(p.name for p in marks.iterdir())


def _assert_one_clear_error(
    proc: subprocess.CompletedProcess[str], seconds: float, marks: list[str]
) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "best" not in proc.stdout
    lines = output.splitlines()
    assert len(lines) < 20, output
    assert output.count("Traceback") == 1, output
    assert "WorkerStartError" in lines[-1], output
    assert GUARD in lines[-1], output
    assert seconds < 30, output
    assert len(marks) <= 1, f"a worker ran a study of its own: {marks}\n{output}"


def test_an_unguarded_script_fails_once_and_clearly(tmp_path: Path) -> None:
    body = "from objmod import objective\n" + RUN
    proc, seconds, marks = _run(tmp_path, body, stdin=False)
    _assert_one_clear_error(proc, seconds, marks)
    # What the worker itself raised comes back in the one line.
    assert "__mp_main__" in proc.stderr.splitlines()[-1]


def test_an_objective_in_an_unguarded_main_fails_once_and_clearly(tmp_path: Path) -> None:
    proc, seconds, marks = _run(tmp_path, OBJECTIVE + RUN, stdin=False)
    _assert_one_clear_error(proc, seconds, marks)


def test_a_script_read_from_stdin_fails_once_and_clearly(tmp_path: Path) -> None:
    proc, seconds, marks = _run(tmp_path, OBJECTIVE + RUN, stdin=True)
    _assert_one_clear_error(proc, seconds, marks)
    last = proc.stderr.splitlines()[-1]
    assert "standard input" in last
    assert "FileNotFoundError" in last
    assert marks == []  # refused before the study started


def test_a_guarded_script_runs(tmp_path: Path) -> None:
    body = OBJECTIVE + f"\n{GUARD}\n" + textwrap.indent(RUN, "    ")
    proc, _, marks = _run(tmp_path, body, stdin=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "best" in proc.stdout
    assert proc.stderr == ""
    assert len(marks) == 1


def test_a_spawned_worker_reports_any_start_error_in_one_line(tmp_path: Path) -> None:
    """The same with ``spawn``, for an error that is not ours: the script's top level fails
    in a worker (as it does when it starts processes of its own: multiprocessing's "Safe
    importing of main module" error)."""
    body = f"""
import multiprocessing
from hyperband.drivers.executors import ProcessBackend

if multiprocessing.current_process().name != "MainProcess":
    raise LookupError("this script fails in a worker")
{GUARD}
    ProcessBackend(2, multiprocessing.get_context("spawn"))
"""
    proc, seconds, _ = _run(tmp_path, body, stdin=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert len(output.splitlines()) < 20, output
    assert output.count("Traceback") == 1, output
    assert seconds < 30, output
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("hyperband.core.errors.WorkerStartError:"), output
    assert "its error: LookupError: this script fails in a worker" in last
    assert GUARD in last


def test_the_pool_removes_its_start_directory() -> None:
    from hyperband.drivers.executors import ProcessBackend

    pool = ProcessBackend(1)
    start_dir = Path(pool._start_dir)
    assert start_dir.is_dir()
    assert pool.submit(pow, 2, 5).result(timeout=60) == 32
    pool.shutdown(cancel=False)
    assert not start_dir.exists()
