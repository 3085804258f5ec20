"""The HTML report's study view: its metadata, hyperparameter columns, hover, importance,
CSV export, the brackets chart of a long study and live updates in place.

The study under test is real: ``hyperband.run`` with the KDE sampler, the rung stopping rule
and six iterations, on an objective whose value depends strongly on ``x``, a little on
``act`` and not at all on ``lr``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband.report.html import data as _data
from hyperband.report.html import figures as _figures
from hyperband.report.html import importance as _importance
from hyperband.report.html import page as _page
from hyperband.report.html.data import read_journal

from .optional import require
from .test_html_report import browser as browser  # the fixture: a real Chromium
from .test_html_report import open_report

SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
}
ITERATIONS = 6
# One worker in serial mode: the results' order, and so the KDE's draws, are reproducible.
STUDY: dict[str, Any] = {
    "max_budget": 9,
    "iterations": ITERATIONS,
    "sampler": "kde",
    "brackets": "cycle",  # every bracket once an iteration: the funnel test counts them
    "early_stop": "rung",
    "exec_mode": "serial",
    "executor": "serial",
    "seed": 11,
    "study_name": "six iterations",
}


def objective(config: dict[str, Any], budget: float, context: Any) -> float:
    """Strongly x, a little act, never lr; reported every unit of budget."""
    bonus = {"relu": 0.0, "tanh": 0.08, "gelu": 0.04}[config["act"]]
    value = 0.0
    for step in range(int(context.job.previous_budget or 0) + 1, int(budget) + 1):
        value = 2 * config["x"] + bonus - 1.0 / step
        context.report(step, value)
    return value


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, hyperband.RunResult]:
    path = tmp_path_factory.mktemp("study") / "study.jsonl"
    result = hyperband.run(objective, SPACE, **STUDY, journal=path, progress=False)
    assert result.n_failed == 0
    assert result.n_stopped > 0
    return path, result


@pytest.fixture(scope="module")
def report(
    study: tuple[Path, hyperband.RunResult], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The study's report, written once for the browser tests."""
    return hyperband.html_report(study[0], tmp_path_factory.mktemp("report") / "report.html")


# ---------------------------------------------------------------------- metadata


def test_the_study_card_shows_the_header(study: tuple[Path, hyperband.RunResult]) -> None:
    path, _ = study
    facts = dict(_page.study_facts(read_journal(path)))
    assert facts["study"] == "six iterations"
    assert facts["objective"].endswith("objective")
    assert facts["direction"] == "maximize"
    assert facts["sampler"].startswith("kde (")
    assert "random_fraction=0.2" in facts["sampler"]
    assert facts["stopping rule"].startswith("rung")
    assert facts["exec mode"] == "serial"
    assert facts["brackets"] == "cycle"
    assert "max_budget=9" in facts["schedule"]
    assert "min_budget=1" in facts["schedule"]
    assert "eta=3" in facts["schedule"]
    assert f"iterations={ITERATIONS}" in facts["schedule"]
    assert facts["seed"] == "11"
    assert facts["search space"].splitlines() == [
        "x: uniform [0, 1]",
        "lr: loguniform [1e-05, 0.1]",
        'act: choice ["relu", "tanh", "gelu"]',
    ]


def test_the_page_shows_the_study_card(study: tuple[Path, hyperband.RunResult]) -> None:
    page = _page.render(read_journal(path := study[0]))
    assert '<section class="card" id="section-study">' in page
    assert "<dt>objective</dt>" in page
    assert "six iterations" in page
    assert "x: uniform [0, 1]<br>lr: loguniform" in page
    assert str(path) in page


# ---------------------------------------------------------------------- the jobs table


def test_hyperparameters_are_columns(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    table = _page.table(read_journal(path))
    params = [c for c in table["columns"] if c.get("param")]
    assert [(c["label"], c["type"]) for c in params] == [
        ("x", "num"),
        ("lr", "num"),
        ("act", "str"),
    ]
    labels = [c["label"] for c in table["columns"]]
    assert "configuration" not in labels  # no JSON blob any more
    k = labels.index("lr")
    by_id = {r.job.id: r.job.config for r in result.history}
    assert all(row[k] == by_id[row[0]]["lr"] for row in table["rows"])  # exact, not rounded


def column(page: Any, key: str) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        f"#jobs tbody tr:not([hidden]) td.col-{key}", "tds => tds.map(td => td.textContent)"
    )
    return texts


def significant(text: str) -> int:
    mantissa = f"{float(text):e}".split("e")[0].rstrip("0").replace(".", "").lstrip("-")
    return len(mantissa)


def test_parameter_columns_in_a_real_browser(
    study: tuple[Path, hyperband.RunResult], report: Path, browser: Any
) -> None:
    result = study[1]
    page = open_report(browser, report)
    headers = page.eval_on_selector_all("#jobs thead th", "ths => ths.map(t => t.textContent)")
    assert headers[-4:] == ["x", "lr", "act", "failure"]
    key = page.get_attribute("#jobs thead th >> nth=-3", "class").removeprefix("col-")
    shown = column(page, key)
    assert all(significant(v) <= 4 for v in shown), shown[:5]
    assert any(significant(v) == 4 for v in shown)
    page.click(f"#jobs thead th.col-{key} button")  # numeric sort, not lexicographic
    exact = {r.job.id: r.job.config["lr"] for r in result.history}
    ids = [int(v) for v in column(page, "job")]
    assert [exact[i] for i in ids] == sorted(exact.values())
    # The filter matches what is shown, whole numbers exactly.
    page.fill("#jobs-filter", "stopped 9")
    ids = {int(v) for v in column(page, "job")}
    records = {r.job.id: r for r in result.history}
    wanted = {i for i, r in records.items() if r.status == "stopped" and r.job.budget == 9}
    assert wanted
    assert wanted <= ids
    assert all(records[i].status == "stopped" for i in ids)
    assert all("9" in column_texts for column_texts in row_texts(page)), "a row without 9"
    page.close()


def row_texts(page: Any) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        "#jobs tbody tr:not([hidden])",
        "trs => trs.map(tr => Array.from(tr.children).map(td => td.textContent))",
    )
    return rows


# ---------------------------------------------------------------------- hover


def test_hovering_a_result_shows_its_configuration(
    study: tuple[Path, hyperband.RunResult], report: Path, browser: Any
) -> None:
    result = study[1]
    page = open_report(browser, report)
    point = page.locator("#chart-best .scatterlayer .trace:first-child .point").first
    page.locator("#chart-best").scroll_into_view_if_needed()
    box = point.bounding_box()
    assert box is not None
    # Plotly's drag layer, on top, takes the pointer: move the mouse there.
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 3, y)
    page.mouse.move(x, y, steps=3)
    page.wait_for_selector("#chart-best .hoverlayer .hovertext", timeout=5_000)
    label = page.text_content("#chart-best .hoverlayer .hovertext") or ""
    found = re.search(r"job (\d+)", label)
    assert found is not None, label
    job = int(found[1])
    config = next(r.job.config for r in result.history if r.job.id == job)
    assert f"x = {config['x']:.4g}" in label
    assert f"lr = {config['lr']:.4g}" in label
    assert f"act = {config['act']}" in label
    page.close()


# ---------------------------------------------------------------------- parallel coordinates


def test_parallel_coordinates_start_at_the_largest_budget(
    study: tuple[Path, hyperband.RunResult], report: Path, browser: Any
) -> None:
    path, _ = study
    data = read_journal(path)
    fig, _ = _figures.parcoords_figure(data)
    assert fig is not None
    budget = fig["data"][0]["dimensions"][0]
    assert budget["label"] == "budget"
    lo, hi = budget["constraintrange"]
    positions = sorted(set(budget["values"]))
    assert len(positions) == 3
    assert [p for p in positions if lo <= p <= hi] == [positions[-1]]  # only the top budget
    # Its colours span the top budget's values (rung 0's many values would set them).
    top = [j.value for j in data.finished if j.budget == 9 and j.value is not None]
    line = fig["data"][0]["line"]
    assert (line["cmin"], line["cmax"]) == (min(top), max(top))
    page = open_report(browser, report)
    drawn = page.evaluate(
        "document.getElementById('chart-parcoords')._fullData[0].dimensions[0].constraintrange"
    )
    # plotly snaps the range to the axis' ticks: it still holds the top budget alone.
    # (The page's figures carry 7 significant digits.)
    kept = [p for p in positions if drawn[0] - 1e-6 <= p <= drawn[1] + 1e-6]
    assert kept == [positions[-1]]
    page.close()


# ---------------------------------------------------------------------- brackets and rungs


def test_the_funnel_of_six_iterations_sums_them(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    data = read_journal(path)
    cells = _data.funnel(data)
    assert len({c.iteration for c in cells}) == ITERATIONS
    fig, _ = _figures.funnel_figure(data)
    assert fig is not None
    brackets, rungs = fig["data"][0]["x"]
    assert list(zip(brackets, rungs, strict=True)) == [
        ("s=2", "i=0 r=1"),
        ("s=2", "i=1 r=3"),
        ("s=2", "i=2 r=9"),
        ("s=1", "i=0 r=3"),
        ("s=1", "i=1 r=9"),
        ("s=0", "i=0 r=9"),
    ]
    bars = [t for t in fig["data"] if t["type"] == "bar"]
    assert sum(n or 0 for t in bars for n in t["y"]) == len(result.history)
    stopped = next(t for t in bars if t["name"] == "stopped")
    assert sum(n or 0 for n in stopped["y"]) == result.n_stopped
    assert "6 iterations" in fig["layout"]["title"]["text"]


def overlaps(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    return [
        (a, b)
        for a in range(len(boxes))
        for b in range(a + 1, len(boxes))
        if boxes[a]["x"] < boxes[b]["x"] + boxes[b]["width"]
        and boxes[b]["x"] < boxes[a]["x"] + boxes[a]["width"]
        and boxes[a]["y"] < boxes[b]["y"] + boxes[b]["height"]
        and boxes[b]["y"] < boxes[a]["y"] + boxes[a]["height"]
    ]


def test_the_funnel_labels_do_not_overlap_in_a_real_browser(report: Path, browser: Any) -> None:
    page = open_report(browser, report, width=1000)
    boxes = page.eval_on_selector_all(
        "#chart-funnel .xaxislayer-above text",
        "els => els.map(e => { const b = e.getBoundingClientRect();"
        " return {x: b.x, y: b.y, width: b.width, height: b.height}; })",
    )
    assert overlaps(boxes) == []
    assert len(boxes) == 6 + 3  # a label per rung, and one per bracket under them
    page.close()


# ---------------------------------------------------------------------- importance


def test_rank_measures_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, 40).astype(float)  # ties
    y = x + rng.normal(0, 2, 40)
    assert _importance.spearman(x.tolist(), y.tolist()) == pytest.approx(
        stats.spearmanr(x, y).statistic
    )
    groups = rng.choice(["a", "b", "c"], 40)
    r = _importance.ranks(y.tolist())
    # η² of ranks is the Kruskal-Wallis H scaled by (n - 1) (no tie correction).
    h = stats.kruskal(*(r[groups == g] for g in "abc")).statistic
    n = len(r)
    ties = 1 - float(np.sum((c := np.unique(r, return_counts=True)[1]) ** 3 - c)) / (n**3 - n)
    eta = _importance.correlation_ratio(groups.tolist(), y.tolist())
    assert eta**2 == pytest.approx(h * ties / (n - 1))


def test_importance_ranks_the_hyperparameters(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    found = {m.name: m for m in _importance.importance(read_journal(path))}
    assert set(found) == {"x", "lr", "act"}
    top = max(r.job.budget for r in result.history)
    at_top = [r for r in result.history if r.job.budget == top and r.status == "succeeded"]
    assert {m.budget for m in found.values()} == {top}
    assert {m.n for m in found.values()} == {len(at_top)}
    assert (found["x"].kind, found["act"].kind) == ("spearman", "eta")
    assert found["x"].rho is not None
    assert found["x"].rho > 0.9  # the value is 2 x + a little
    assert found["x"].score > found["act"].score
    # (lr does not matter, but the KDE sampler's picks at the top budget can tie it to x.)
    assert found["x"].score > found["lr"].score


def test_importance_of_independent_draws() -> None:
    """Random configurations: x matters most, act some, lr not at all."""
    rng = np.random.default_rng(1)
    events: list[dict[str, Any]] = [{"event": "study", "params": {"max_budget": 1}}]
    space = {**SPACE, "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]}}
    events[0]["space"] = space
    for k in range(80):
        config = {
            "x": float(rng.uniform()),
            "lr": float(10 ** rng.uniform(-5, -1)),
            "act": str(rng.choice(["relu", "tanh", "gelu"])),
        }
        value = 2 * config["x"] + {"relu": 0.0, "tanh": 0.6, "gelu": 0.3}[config["act"]]
        job = {"id": k, "config": config, "config_id": k, "budget": 1, "bracket": 0}
        events.append({"event": "ask", "job": {**job, "rung": 0, "iteration": 0}})
        events.append({"event": "result", "job_id": k, "status": "succeeded", "value": value})
    found = _importance.importance(_data.from_events(events, "random"))
    assert [m.name for m in found] == ["x", "act", "lr"]
    assert found[0].score > 0.8
    assert 0.2 < found[1].score < 0.8
    assert found[2].score < 0.25


def test_importance_chart(
    study: tuple[Path, hyperband.RunResult], report: Path, browser: Any
) -> None:
    path, _ = study
    fig, _ = _figures.importance_figure(read_journal(path))
    assert fig is not None
    assert fig["data"][0]["y"][-1] == "x"  # the most important on top
    go = require("plotly.graph_objects")  # plotly's schema, for this check only
    go.Figure(fig)  # raises on any property plotly.js does not know
    page = open_report(browser, report)
    bars = page.eval_on_selector_all("#chart-importance .barlayer .point", "els => els.length")
    assert bars == 3
    ticks = page.eval_on_selector_all(
        "#chart-importance .yaxislayer-above text", "els => els.map(e => e.textContent)"
    )
    assert ticks[-1] == "x"
    assert page.inner_text("#section-importance h2") == "Hyperparameter importance"
    page.close()


def test_importance_needs_enough_results() -> None:
    events: list[dict[str, Any]] = [{"event": "study", "params": {"max_budget": 1}}]
    for k in range(_importance.MIN_RESULTS - 1):
        job = {"id": k, "config": {"x": k / 10}, "config_id": k, "budget": 1, "bracket": 0}
        events.append({"event": "ask", "job": {**job, "rung": 0, "iteration": 0}})
        events.append({"event": "result", "job_id": k, "status": "succeeded", "value": k})
    data = _data.from_events(events, "few")
    assert _importance.importance(data) == []
    assert _figures.importance_figure(data)[0] is None


# ---------------------------------------------------------------------- CSV export


def test_the_csv_button_downloads_the_rows_shown(
    study: tuple[Path, hyperband.RunResult], report: Path, browser: Any
) -> None:
    result = study[1]
    page = open_report(browser, report)
    page.select_option("#jobs-status", "stopped")
    key = page.get_attribute("#jobs thead th >> nth=-3", "class").removeprefix("col-")
    page.click(f"#jobs thead th.col-{key} button")  # by lr
    page.click(f"#jobs thead th.col-{key} button")  # descending
    with page.expect_download() as info:
        page.click("#jobs-csv")
    download = info.value
    assert download.suggested_filename == "study-jobs.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(text)))
    header, rows = table[0], table[1:]
    assert header[:3] == ["job", "config", "status"]
    assert header[-4:] == ["x", "lr", "act", "failure"]
    stopped = sorted(
        (r for r in result.history if r.status == "stopped"),
        key=lambda r: -r.job.config["lr"],
    )
    assert [int(row[0]) for row in rows] == [r.job.id for r in stopped]
    for row, record in zip(rows, stopped, strict=True):
        assert row[2] == "stopped"
        assert float(row[header.index("lr")]) == record.job.config["lr"]  # exact
        assert float(row[header.index("x")]) == record.job.config["x"]
        assert row[header.index("act")] == record.job.config["act"]
        assert float(row[header.index("value")]) == record.value
        assert float(row[header.index("budget")]) == record.job.budget
    page.close()


def test_csv_quotes_what_needs_it(tmp_path: Path, browser: Any) -> None:
    events: list[dict[str, Any]] = [{"event": "study", "params": {"max_budget": 1}}]
    name = 'a "quoted", two-line\nname'
    job = {"id": 0, "config": {"name": name}, "config_id": 0, "budget": 1, "bracket": 0}
    events.append({"event": "ask", "job": {**job, "rung": 0, "iteration": 0}})
    events.append({"event": "result", "job_id": 0, "status": "failed", "error": "E: x, y"})
    out = tmp_path / "odd.html"
    out.write_text(_page.render(_data.from_events(events, "odd.jsonl")))
    page = open_report(browser, out)
    with page.expect_download() as info:
        page.click("#jobs-csv")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    header, row = list(csv.reader(io.StringIO(text)))
    assert row[header.index("name")] == name
    assert row[header.index("failure")] == "E: x, y"
    page.close()


# ---------------------------------------------------------------------- live updates in place


def test_live_updates_in_place_in_a_real_browser(
    study: tuple[Path, hyperband.RunResult], tmp_path: Path, browser: Any
) -> None:
    """A live page opened while the study runs is updated from its feed: the same page (no
    reload), with more jobs each time, its filter and sorting kept, until it is final."""
    path, result = study
    journal, out = tmp_path / "growing.jsonl", tmp_path / "live.html"
    feed = feeder(path, journal, 4)
    seen: list[tuple[int, int]] = []  # (jobs shown, jobs in all) after each update
    opened: list[Any] = []

    def counts(page: Any) -> tuple[int, int]:
        shown, total = page.text_content("#jobs-count").split(" jobs")[0].split(" of ")
        return int(shown), int(total)

    def sleep(seconds: float) -> None:
        if out.exists() and "Waiting for the study" not in out.read_text():
            if not opened:
                page = open_report(browser, out)
                page.evaluate("window.marker = 'first load'")
                page.fill("#jobs-filter", "stopped")
                page.click("#jobs thead th.col-job button")
                page.click("#jobs thead th.col-job button")  # descending
                opened.append(page)
                seen.append(counts(page))
            else:
                wait_for_update(opened[0], len(seen))
                seen.append(counts(opened[0]))
        feed(0.5)

    code = _page.live(journal, out, interval=0.5, sleep=sleep, out=io.StringIO())
    assert code == 0
    page = opened[0]
    page.wait_for_selector("body[data-final]", timeout=15_000)  # the final data
    seen.append(counts(page))
    assert page.evaluate("window.marker") == "first load"  # never reloaded
    assert page.input_value("#jobs-filter") == "stopped"
    assert page.get_attribute("#jobs thead th.col-job", "aria-sort") == "descending"
    ids = [int(v) for v in column(page, "job")]
    stopped = [r.job.id for r in result.history if r.status == "stopped"]
    assert ids == sorted(stopped, reverse=True)
    assert set(column(page, "status")) == {"stopped"}
    totals = [total for _, total in seen]
    assert totals == sorted(totals)
    assert totals[0] < totals[-1] == len(result.history)
    assert page.text_content("h1 .state") == "study complete"
    # The charts follow: one bar of the importance chart per hyperparameter by now.
    assert page.eval_on_selector_all("#chart-importance .barlayer .point", "e => e.length") == 3
    # Final: the page has stopped loading its feed.
    updates = page.evaluate("document.body.dataset.updates")
    page.wait_for_timeout(1500)
    assert page.evaluate("document.body.dataset.updates") == updates
    assert page.evaluate("document.querySelectorAll('script[src]').length") == 0
    page.close()


def wait_for_update(page: Any, count: int) -> None:
    page.wait_for_function(f"Number(document.body.dataset.updates || 0) >= {count}", timeout=15_000)


def feeder(source: Path, target: Path, steps: int) -> Any:
    data = source.read_bytes()
    cuts = [len(data) * k // steps for k in range(1, steps + 1)]

    def sleep(seconds: float) -> None:
        target.write_bytes(data[: cuts.pop(0)])

    return sleep
