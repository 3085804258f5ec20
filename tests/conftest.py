"""Rules for the whole suite.

- Tests write only to temporary directories: the session fails if any committed file (``git
  ls-files``) changed while it ran, naming the files. (A test once re-ran the NNI benchmark
  and overwrote its committed results.)
- Hypothesis runs without its 200 ms deadline: on a loaded machine a slow example is not a
  bug, and a deadline failure is then a flaky test. Runtime is bounded by ``max_examples``
  and pytest-timeout instead.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
_COMMITTED = pytest.StashKey[dict[str, str]]()

settings.register_profile("hyperband", deadline=None)
settings.load_profile("hyperband")


def committed_files() -> dict[str, str] | None:
    """sha256 of every file git tracks; None outside a git checkout (an sdist)."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    hashes = {}
    for name in listing.decode().split("\0"):
        if name:
            try:
                hashes[name] = hashlib.sha256((ROOT / name).read_bytes()).hexdigest()
            except OSError:
                hashes[name] = "unreadable"
    return hashes


def pytest_sessionstart(session: pytest.Session) -> None:
    hashes = committed_files()
    if hashes is not None:
        session.config.stash[_COMMITTED] = hashes


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_COMMITTED, None)
    after = committed_files()
    if before is None or after is None:
        return
    changed = sorted(name for name, digest in before.items() if after.get(name) != digest)
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                "tests changed committed files (tests may write only to temporary "
                f"directories): {', '.join(changed)}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
