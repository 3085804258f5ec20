"""The plotly.js bundle the HTML report inlines (``hyperband/report/html/plotly-custom.min.js``).

tools/plotly builds it with only the trace types the report draws. These tests check that it
is the bundle its record describes, that it holds every trace type the figures use (read from
the minified code, and in a real Chromium: every chart of a full report drawn as asked), that
it is a fraction of the full plotly.js, and that a report needs no plotly package at all.
Rebuilding it needs npm and the network, so no test rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.report.html import figures as _figures
from hyperband.report.html import page as _page
from hyperband.report.html.data import read_journal

from .optional import require, run_without
from .test_html_report import browser as browser  # the fixture: a real Chromium
from .test_html_report import open_report

# The full plotly.min.js of plotly.js 4.1.1 (the plotly 7.1.0 wheel's) is 4,815,814 bytes.
FULL_BYTES = 4_815_814
SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}


def _file(name: str) -> bytes:
    return resources.files("hyperband.report.html").joinpath(name).read_bytes()


def record() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(_file(_page.PLOTLY_RECORD))
    return found


def objective(config: dict[str, Any], budget: float, context: Any) -> float:
    """Mostly x, a little act; a learning curve reported at every unit of budget."""
    value = 0.0
    for step in range(int(context.job.previous_budget or 0) + 1, int(budget) + 1):
        value = 2 * config["x"] + (0.1 if config["act"] == "tanh" else 0.0) - 1.0 / step
        context.report(step, value)
    return value


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A journal whose report has every chart: the KDE's trust weights, stopped jobs,
    learning curves, and enough results at the top budget for the importance chart."""
    path = tmp_path_factory.mktemp("study") / "study.jsonl"
    hyperband.run(
        objective,
        SPACE,
        max_budget=9,
        iterations=2,
        sampler="kde",
        early_stop="rung",
        executor="serial",
        seed=5,
        journal=path,
        progress=False,
    )
    return path


def used_types(path: Path) -> dict[str, list[str]]:
    """The trace types of each chart of the report of ``path``, every chart present."""
    charts = _figures.figures(read_journal(path))
    missing = [key for key, (fig, _) in charts.items() if fig is None]
    assert missing == [], f"the study must draw every chart; missing: {missing}"
    return {key: [t["type"] for t in fig["data"]] for key, (fig, _) in charts.items() if fig}


def test_plotly_js_is_the_recorded_bundle() -> None:
    script, version = _page.plotly_js()
    rec = record()
    raw = _file(_page.PLOTLY_BUNDLE)
    assert version == rec["plotly.js"] == "4.1.1"
    assert script == raw.decode("utf-8")
    assert len(raw) == rec["bytes"]
    assert hashlib.sha256(raw).hexdigest() == rec["sha256"]
    # plotly.js' licence header and its MIT licence are kept at the top.
    head = script[:3000]
    assert head.startswith(
        f"/**\n* plotly.js (hyperband custom: scatter, bar, parcoords - minified) v{version}\n"
    )
    assert "* Licensed under the MIT license" in head
    assert "Permission is hereby granted, free of charge" in head
    assert "tools/plotly/build.sh" in head


def test_every_trace_type_the_figures_use_is_in_the_bundle(study: Path) -> None:
    script, _ = _page.plotly_js()
    # Each trace module of plotly.js declares itself as {moduleType: "trace", name: ...}.
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', script))
    assert registered == set(record()["traces"])
    used = {t for types in used_types(study).values() for t in types}
    assert used <= registered, f"figures.py draws {used - registered}: add it in tools/plotly"
    # And nothing the report does not draw (each type costs the page its code).
    assert registered == used


def test_the_bundle_and_a_page_are_small(study: Path) -> None:
    size = len(_file(_page.PLOTLY_BUNDLE))
    assert size < 2_000_000  # measured 1,286,893 bytes
    assert size < FULL_BYTES / 3
    page = _page.render(read_journal(study)).encode()
    assert len(page) < 2_000_000  # was 4.9 MB with the full plotly.js


def test_the_full_plotly_js_was_three_times_larger() -> None:
    offline = require("plotly.offline")
    full = offline.get_plotlyjs()
    assert len(full.encode()) == FULL_BYTES  # the figure the other tests compare with
    assert offline.get_plotlyjs_version() == _page.plotly_js()[1]


def test_a_report_needs_no_plotly_package(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code = (
        "from hyperband.cli import main\n"
        f"print(main(['report', {str(study)!r}, '--html', {str(out)!r}]))\n"
    )
    # Every import of plotly fails in that interpreter, as if it were not installed.
    assert run_without("plotly", code).splitlines()[-1] == "0"
    assert "* plotly.js (hyperband custom" in out.read_text()


def test_every_chart_draws_with_the_bundle_in_a_real_browser(
    study: Path, tmp_path: Path, browser: Any
) -> None:
    out = hyperband.html_report(study, tmp_path / "report.html")
    page = open_report(browser, out)  # drawn, with no console error
    assert sorted(page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)")) == sorted(
        record()["traces"]
    )
    # plotly.js coerces an unregistered type to "scatter" (and draws nothing of it): each
    # trace must be drawn as the type it asked for, and each chart must have drawn marks.
    drawn = page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll('.chart'),
            div => [div.id.slice('chart-'.length), {
                types: (div._fullData || []).map(t => t.type),
                svg: div.querySelectorAll('svg.main-svg').length,
                canvas: div.querySelectorAll('canvas').length,
                marks: div.querySelectorAll('.trace, .parcoords .y-axis').length,
            }]))"""
    )
    asked = used_types(study)
    assert sorted(drawn) == sorted(asked)
    for key, types in asked.items():
        assert drawn[key]["types"] == types, key
        assert drawn[key]["svg"] > 0, key
        assert drawn[key]["marks"] > 0, key
    assert drawn["parcoords"]["canvas"] > 0  # parcoords draws its lines with WebGL
    # The timeline's buttons (layout.updatemenus) are drawn too.
    assert page.eval_on_selector_all("#chart-timeline .updatemenu-button", "b => b.length") == 3
    page.close()
