"""Rules for the whole suite.

- Tests write only to temporary directories: the session fails if any committed file (``git
  ls-files``) changed while it ran, naming the files. (A test once re-ran the NNI benchmark
  and overwrote its committed results.)
- Hypothesis runs without its 200 ms deadline: on a loaded machine a slow example is not a
  bug, and a deadline failure is then a flaky test. Runtime is bounded by ``max_examples``
  and pytest-timeout instead.
- Tests of a module whose module-scoped fixture is costly (a Ray or dask cluster, a browser, a
  docs build) run on one xdist worker, so the fixture is built once, not once per worker.
  xdist's own ``--dist loadgroup`` would do it, but 3.8.0 marks the group by rewriting
  ``item._nodeid``, which pytest 9 no longer reads: the groups never formed.
- With ``HYPERBAND_REQUIRE_OPTIONAL=1`` (set by CI), a skip for a missing package is a failure.
  A newcomer's ``pytest`` skips the tests of optional parts whose packages are not installed,
  with the install line in the reason (tests/optional.py). CI installs every extra and
  Chromium, then runs the suite again with this variable set, so that a skip there, which
  would mean an integration silently did not run, fails the run instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import settings
from xdist.scheduler import LoadScopeScheduling

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


def pytest_configure(config: pytest.Config) -> None:
    # Keras writes ~/.keras/keras.json when first imported: here, and in the subprocesses
    # (docs blocks, examples) that inherit the variable, it writes to a temporary directory.
    if "KERAS_HOME" not in os.environ:
        home = tempfile.mkdtemp(prefix="keras-home-")
        os.environ["KERAS_HOME"] = home
        config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


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


REQUIRE_OPTIONAL = os.environ.get("HYPERBAND_REQUIRE_OPTIONAL", "") not in ("", "0")
# The words of pytest.importorskip's own reasons, of tests/optional.py's, and of any reason
# that names an extra or an install command; a skip for any other reason (a platform, a
# deliberate opt-out) is left alone.
MISSING_PACKAGE = re.compile(
    r"could not import|no module named|not installed|pip install|apt-get install|\bextra\b",
    re.IGNORECASE,
)


def _missing_package_reason(report: pytest.CollectReport | pytest.TestReport) -> str | None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason if MISSING_PACKAGE.search(reason) else None


def _fail_missing_package_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    if REQUIRE_OPTIONAL and (reason := _missing_package_reason(report)) is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"skipped for a missing package, which HYPERBAND_REQUIRE_OPTIONAL=1 forbids: {reason}"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _fail_missing_package_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _fail_missing_package_skip(report)
    return report


# Modules whose module-scoped fixtures cost seconds each time they are built.
ONE_WORKER_MODULES = frozenset(
    {
        "tests/test_ray.py",
        "tests/test_dask.py",
        "tests/test_docs_site.py",
        "tests/test_html_report.py",
        "tests/test_html_stops.py",
        "tests/test_html_study.py",
        "tests/test_html_trust.py",
        "tests/test_lightning.py",
    }
)


class _ModuleGroups(LoadScopeScheduling):
    """``--dist load``, except that each module of ``ONE_WORKER_MODULES`` is one unit of work."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if module in ONE_WORKER_MODULES else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "load":
        return None  # an explicit --dist other than load is left to xdist
    return _ModuleGroups(config, log)
