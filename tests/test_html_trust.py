"""The HTML report's "Trust per budget" chart: the series of trust weights after each result,
recorded while the journal is replayed (the sampler's own weights), or measured from the
results (any sampler), and the chart in a real browser.

The studies are real (``hyperband.run`` with a journal) on a workload whose cheapest budget
ranks the configurations backwards: budgets 3 and 9 agree, budget 1 says the opposite.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.report.html import page as _page
from hyperband.report.html.data import from_events, read_journal, trust_series
from hyperband.report.html.figures import trust_figure
from hyperband.report.text import summary_lines
from hyperband.report.trust import TrustSeries

from .optional import require
from .test_html_report import browser as browser  # the fixture: a real Chromium
from .test_html_report import events_of, open_report, parse

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}


def backwards(config: dict[str, Any], budget: float) -> float:
    """Minimised; budget 1 ranks backwards (with a little noise), 3 and 9 as the truth."""
    q: float = (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2
    if budget < 3:
        return -q + 0.01 * math.sin(997 * config["y"])
    return q + 0.1 / budget


def study(
    folder: Path, sampler: Any, iterations: int = 6, brackets: str = "cycle"
) -> tuple[Path, hyperband.RunResult]:
    path = folder / "study.jsonl"
    result = hyperband.run(
        backwards,
        sampler,
        max_budget=9,
        eta=3,
        iterations=iterations,
        mode="minimize",
        executor="serial",
        seed=0,
        journal=path,
        progress=False,
        brackets=brackets,
    )
    return path, result


@pytest.fixture(scope="module")
def kde(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, hyperband.RunResult]:
    return study(tmp_path_factory.mktemp("kde"), hyperband.KDESampler(SPACE, trust="rank"))


@pytest.fixture(scope="module")
def random(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, hyperband.RunResult]:
    return study(tmp_path_factory.mktemp("random"), hyperband.RandomSampler(SPACE))


def check(series: TrustSeries, n_results: int) -> None:
    """Weights in [0, 1] summing to 1 at every measured point; budget 1 ends near 0."""
    assert series.results == list(range(1, n_results + 1))
    assert series.spent == sorted(series.spent)
    measured = 0
    for k in range(n_results):
        weights = [ws[k] for ws in series.weights.values() if ws[k] is not None]
        assert all(0.0 <= w <= 1.0 for w in weights)
        ps = [p[k] for p in series.p.values() if p[k] is not None]
        assert all(0.0 <= p <= 1.0 for p in ps)
        if weights:
            measured += 1
            assert math.fsum(weights) == pytest.approx(1.0)
    assert measured > n_results // 4  # measured for a good part of the study
    assert series.measured == [1.0, 3.0, 9.0]
    final = series.final()
    assert final.weights[1.0] < 0.02, final
    assert final.p[1.0] is not None
    assert final.p[1.0] < 0.1, final
    assert min(final.weights[3.0], final.weights[9.0]) > 0.3, final


def test_the_series_is_the_samplers_own(kde: tuple[Path, hyperband.RunResult]) -> None:
    path, result = kde
    data = read_journal(path)
    assert data.trust is not None
    assert len(data.trust) == len(result.history)
    series = trust_series(data)
    assert series is not None
    assert series.source == "sampler"
    check(series, len(result.history))
    # The last point is what the study ended with, as its stats say.
    assert result.stats is not None
    assert result.stats.trust is not None
    assert series.final().weights == pytest.approx(
        {float(b): w for b, w in result.stats.trust.items()}
    )
    assert series.spent[-1] == pytest.approx(result.spent)


def test_without_a_sampler_that_measures_the_results_measure(
    random: tuple[Path, hyperband.RunResult],
) -> None:
    path, result = random
    data = read_journal(path)
    assert data.trust is None  # the random sampler has no trust_weights
    series = trust_series(data)
    assert series is not None
    assert series.source == "results"
    check(series, len(result.history))
    # A journal that is not replayed (as a custom sampler's) measures the same.
    raw = trust_series(from_events(events_of(path), "raw"))
    assert raw == series


def test_the_chart_shows_only_with_two_budgets_measured(
    kde: tuple[Path, hyperband.RunResult], tmp_path: Path
) -> None:
    go = require("plotly.graph_objects")  # plotly's schema, for this check only

    fig, _ = trust_figure(read_journal(kde[0]))
    assert fig is not None
    go.Figure(fig)  # raises on any property plotly.js does not know
    assert [t["name"] for t in fig["data"]] == ["1", "3", "9"]
    page = _page.render(read_journal(kde[0]))
    assert 'id="chart-trust"' in page
    assert "Trust per budget" in page
    assert parse(page).refs == []  # still nothing to fetch
    # One iteration: budget 1 never meets 5 configurations at budget 9.
    path, _ = study(tmp_path, hyperband.RandomSampler(SPACE), iterations=1)
    data = read_journal(path)
    series = trust_series(data)
    assert series is not None
    assert not series.shown
    assert trust_figure(data)[0] is None
    assert 'id="section-trust"' not in _page.render(data)


def test_the_chart_in_a_real_browser(
    kde: tuple[Path, hyperband.RunResult], tmp_path: Path, browser: Any
) -> None:
    path, _ = kde
    out = hyperband.html_report(path, tmp_path / "report.html")
    page = open_report(browser, out)
    # A drawn line per budget, with its legend entry, on an axis of weights in [0, 1].
    # (A line broken where its budget was unmeasured is several paths in one trace.)
    drawn = page.eval_on_selector_all(
        "#chart-trust .scatterlayer .trace",
        "traces => traces.map(t => Array.from(t.querySelectorAll('.js-line'))"
        ".map(e => (e.getAttribute('d') || '').split(/[LHV]/).length - 1)"
        ".reduce((a, b) => a + b, 0))",
    )
    assert len(drawn) == 3
    assert all(segments > 0 for segments in drawn), drawn
    legend = page.eval_on_selector_all(
        "#chart-trust .legendtext", "els => els.map(e => e.textContent)"
    )
    assert legend == ["1", "3", "9"]
    assert "trust weight" in page.text_content("#chart-trust .g-ytitle")
    assert page.inner_text("#section-trust h2") == "Trust per budget"
    page.close()


def trust_lines(path: Path) -> list[str]:
    lines = summary_lines(hyperband.RunResult.from_journal(path))
    return [line for line in lines if line.startswith("trust in each budget")]


def test_the_text_report_shows_the_final_weights(
    kde: tuple[Path, hyperband.RunResult],
    random: tuple[Path, hyperband.RunResult],
    tmp_path: Path,
) -> None:
    # The sampler's weights, as its stats say.
    assert trust_lines(kde[0]) == [
        "trust in each budget (weight ∝ rank consistency³ with the top budget): "
        "1: 0.00, 3: 0.50, 9: 0.50"
    ]
    # A random sampler measures nothing, and cycled brackets use nothing...
    assert trust_lines(random[0]) == []
    # ...but adaptive brackets draw from the weights measured from the results: shown.
    path, _ = study(tmp_path, hyperband.RandomSampler(SPACE), brackets="adaptive")
    (line,) = trust_lines(path)
    assert 'measured from the results as brackets="adaptive" does' in line
    final = trust_series(read_journal(path))
    assert final is not None
    assert line.endswith(
        ", ".join(f"{b:g}: {w:.2f}" for b, w in sorted(final.final().weights.items()))
    )
    assert final.final().weights[1.0] < 0.05  # budget 1 ranks backwards
