"""The suite's own timeout stops a hung Hypothesis test.

With pytest-timeout's ``signal`` method the alarm fires once: Hypothesis takes the ``Failed``
it raises for an ordinary failure, goes on shrinking, and the next hanging example loops with
no alarm left (a planted bug once hung the suite for 25 minutes). pyproject.toml sets
``timeout_method = "thread"``, which dumps the stacks and ends the process instead. This runs
pytest, with the project's configuration, on a Hypothesis test that hangs, and expects it to end
soon after its timeout, reporting it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 3  # seconds, the hung test's
BOUND = 45  # seconds the whole run may take (the signal method ran on past 60 s)

HANGS = """
import time

from hypothesis import given, settings, strategies as st


@settings(deadline=None, database=None)
@given(st.integers(0, 100))
def test_hangs_for_most_examples(n):
    while n > 5:
        time.sleep(0.01)
"""


@pytest.mark.parametrize("workers", ["0", "1"])
def test_a_hung_hypothesis_test_fails_at_its_timeout(tmp_path: Path, workers: str) -> None:
    (tmp_path / "test_hang.py").write_text(HANGS)
    command = [
        sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
        "--rootdir", str(tmp_path), "-p", "no:cacheprovider", "-n", workers,
        "--timeout", str(TIMEOUT), "test_hang.py",
    ]  # fmt: skip
    started = time.monotonic()
    # A session of its own, so that a hung run's xdist workers are killed with it.
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    ) as run:  # fmt: skip
        try:
            output, _ = run.communicate(timeout=2 * BOUND)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
            pytest.fail(
                f"pytest still ran after {2 * BOUND} s on a test with a {TIMEOUT} s timeout"
            )
    elapsed = time.monotonic() - started
    assert run.returncode != 0, output
    # Alone, pytest prints the stacks under "Timeout"; under xdist the worker's stderr is not
    # shown, and the main process reports the worker crashed in that test.
    said = "Timeout" if workers == "0" else "crashed while running 'test_hang.py::test_hangs"
    assert said in output, output
    assert elapsed < BOUND, f"took {elapsed:.0f} s with a {TIMEOUT} s timeout:\n{output[-3000:]}"
