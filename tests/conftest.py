"""With HYPERBAND_REQUIRE_OPTIONAL=1 (set by CI), a skip for a missing package is a failure.

A newcomer's ``pytest`` skips the tests of optional parts whose packages are not installed, with
the install line in the reason (tests/optional.py). CI installs every extra and Chromium, then
runs the suite again with this variable set, so that a skip there means an integration silently
did not run: it fails the run instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator

import pytest

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
