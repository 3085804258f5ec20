"""Why each stopped job was stopped, in the reports: the HTML report's jobs table and
learning-curve chart (the curve rule's forecast with its 80% interval and the promotion cut),
in a real browser, and the text report's header (sampler, stopping rule) and trials.

The studies are real: ``hyperband.run`` with a journal, the curve, rung and median rules on
an objective that reports four times per job (``tests/runner_helpers.reporting``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.cli import main
from hyperband.report.describe import Prediction, prediction, stop_text
from hyperband.report.html import data as _data
from hyperband.report.html import figures as _figures
from hyperband.report.html import page as _page
from hyperband.report.html.data import read_journal

from .optional import require
from .runner_helpers import CURVE_STUDY, SPACE, reporting
from .test_html_report import browser as browser  # the fixture: a real Chromium
from .test_html_report import open_report

RULES = ("curve", "rung", "median")


def run_study(folder: Path, rule: str) -> tuple[Path, hyperband.RunResult]:
    study = dict(CURVE_STUDY)
    if rule != "curve":
        study["early_stop"] = rule
    journal = folder / f"{rule}.jsonl"
    result = hyperband.run(
        reporting, SPACE, **study, executor="serial", journal=journal, progress=False
    )
    assert result.n_stopped > 0, f"the {rule} rule stopped no job: the test lost its point"
    return journal, result


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Any]]:
    folder = tmp_path_factory.mktemp("stops")
    return {rule: run_study(folder, rule) for rule in RULES}


def stopped(result: hyperband.RunResult) -> list[hyperband.JobRecord]:
    return [r for r in result.history if r.status == "stopped"]


# ---------------------------------------------------------------------- words and numbers


CURVE_WHY = {
    "rule": "curve",
    "budget": 27,
    "median_loss": 0.41,
    "interval_loss": [0.35, 0.48],
    "edge_loss": 0.30,
    "probability": 0.03,
}


def test_a_forecast_in_losses_becomes_values_in_the_study_s_direction() -> None:
    extra = {"stopped_at": 9, "stop": CURVE_WHY}
    assert prediction(extra, maximize=False) == Prediction(27, 0.41, 0.35, 0.48, 0.30, 0.03)
    assert prediction(extra, maximize=True) == Prediction(27, -0.41, -0.48, -0.35, -0.30, 0.03)


@pytest.mark.parametrize(
    "why",
    [
        None,
        "a string",
        {**CURVE_WHY, "interval_loss": [0.35]},
        {**CURVE_WHY, "median_loss": "0.41"},
        {**CURVE_WHY, "probability": math.nan},
        {**CURVE_WHY, "budget": True},
        {k: v for k, v in CURVE_WHY.items() if k != "edge_loss"},
    ],
)
def test_a_malformed_explanation_gives_no_forecast_and_still_a_line(why: Any) -> None:
    extra = {"stopped_at": 2.5, "stop": why}
    assert prediction(extra, maximize=True) is None
    text = stop_text(extra, maximize=True, early_stop={"name": "curve"})
    assert text is not None
    assert text.startswith("stopped at step 2.5 by the curve rule")


def test_the_line_names_the_threshold_only_when_the_study_records_it() -> None:
    extra = {"stopped_at": 9, "stop": CURVE_WHY}
    spec = {"name": "curve", "options": {"threshold": 0.2}}
    with_threshold = stop_text(extra, maximize=False, early_stop=spec)
    assert with_threshold == (
        "stopped at step 9 by the curve rule: predicted 0.41 (80%: 0.35 to 0.48) at budget 27; "
        "P(beating the promotion cut 0.3) = 0.03 < threshold 0.2"
    )
    custom = stop_text(extra, maximize=False, early_stop=None)  # a rule object, unnamed
    assert custom is not None
    assert custom.endswith("= 0.03")
    assert stop_text({"stopped_at": 3}, maximize=True) == "stopped at step 3 by the stopping rule"
    assert stop_text({}, maximize=True) is None  # not a stopped job


# ---------------------------------------------------------------------- the data layer


def test_curve_stops_carry_their_forecast_into_the_report(
    studies: dict[str, tuple[Path, Any]],
) -> None:
    journal, result = studies["curve"]
    data = read_journal(journal)
    marks = {m.job.id: m for m in _data.stop_marks(data)}
    records = stopped(result)
    assert set(marks) == {r.job.id for r in records}
    for r in records:
        why, mark = r.extra["stop"], marks[r.job.id]
        assert mark.step == r.extra["stopped_at"]
        assert mark.value == r.value
        f = mark.forecast
        assert f is not None
        # Maximized: the values are the losses negated, the interval turned around.
        assert f.median == -why["median_loss"]
        assert (f.low, f.high) == (-why["interval_loss"][1], -why["interval_loss"][0])
        assert f.edge == -why["edge_loss"]
        assert f.budget == r.job.budget
        assert f.probability == why["probability"] < 0.2
        assert mark.note.startswith(f"stopped at step {r.extra['stopped_at']:g} by the curve rule:")
        assert mark.note.endswith("< threshold 0.2")


@pytest.mark.parametrize("rule", ["rung", "median"])
def test_rules_without_a_forecast_say_which_rule_where_and_against_what(
    studies: dict[str, tuple[Path, Any]], rule: str
) -> None:
    journal, result = studies[rule]
    data = read_journal(journal)
    marks = {m.job.id: m for m in _data.stop_marks(data)}
    for r in stopped(result):
        mark, why = marks[r.job.id], r.extra["stop"]
        assert mark.forecast is None
        assert why["rule"] == rule
        assert why["ahead"] >= why["k"]  # both rules stop only a job k peers are ahead of
        head = f"stopped at step {r.extra['stopped_at']:g} by the {rule} rule: "
        rung = f"{why['ahead']} of {why['rung_peers']} rung peers ahead at this step "
        assert mark.note.startswith(head)
        assert f"{rung}(the rung promotes {why['k']})" in mark.note
        if rule == "median":  # maximized: the values are the losses negated
            assert why["best_loss"] > why["median_loss"]
            assert f"best so far {-why['best_loss']:.3g}, worse than the median " in mark.note
        else:
            assert why["edge_loss"] < why["loss"]
            assert mark.note.endswith(f"{-why['edge_loss']:.3g}, this job {-why['loss']:.3g}")


def test_the_median_and_rung_lines_in_either_direction() -> None:
    rung = {"rule": "rung", "step": 4, "loss": 0.5, "ahead": 3, "rung_peers": 5, "k": 2}
    rung["edge_loss"] = 0.25
    assert stop_text({"stopped_at": 4, "stop": rung}, maximize=False) == (
        "stopped at step 4 by the rung rule: 3 of 5 rung peers ahead at this step (the rung "
        "promotes 2); the 2nd best there 0.25, this job 0.5"
    )
    median = {"rule": "median", "step": 4, "best_loss": -0.5, "median_loss": -0.6, "peers": 3}
    median.update(ahead=1, rung_peers=4, k=1)
    assert stop_text({"stopped_at": 4, "stop": median}, maximize=True) == (
        "stopped at step 4 by the median rule: best so far 0.5, worse than the median 0.6 of 3 "
        "completed peers' running averages; 1 of 4 rung peers ahead at this step (the rung "
        "promotes 1)"
    )
    odd = {"rule": "median", "k": "two"}  # another shape: its entries as they are
    assert stop_text({"stopped_at": 4, "stop": odd}, maximize=True) == (
        "stopped at step 4 by the median rule: k=two"
    )


def test_the_jobs_table_has_a_why_stopped_column_only_with_stops(
    studies: dict[str, tuple[Path, Any]], tmp_path: Path
) -> None:
    data = read_journal(studies["curve"][0])
    table = _page.table(data)
    keys = [c["key"] for c in table["columns"]]
    k = keys.index("stop")
    assert keys[k - 1] == "attempts"  # before the hyperparameters
    assert table["columns"][k]["label"] == "why stopped"
    for row in table["rows"]:
        job = next(j for j in data.jobs if j.id == row[0])
        assert row[k] == _data.stop_note(data, job)
        assert (row[k] is None) == (job.status != "stopped")
    plain = tmp_path / "plain.jsonl"
    hyperband.run(
        reporting, SPACE, max_budget=9, seed=0, executor="serial", journal=plain, progress=False
    )
    assert "stop" not in [c["key"] for c in _page.table(read_journal(plain))["columns"]]


def test_the_curves_chart_draws_each_forecast_with_its_interval_and_cut(
    studies: dict[str, tuple[Path, Any]],
) -> None:
    go = require("plotly.graph_objects")  # plotly's schema, for this check only
    journal, result = studies["curve"]
    data = read_journal(journal)
    fig, _ = _figures.curves_figure(data)
    assert fig is not None
    go.Figure(fig)  # valid plotly
    traces = {t["name"]: t for t in fig["data"]}
    records = stopped(result)
    cross = traces[f"stopped ({len(records)})"]
    assert cross["x"] == [r.extra["stopped_at"] for r in records]
    assert cross["y"] == [r.value for r in records]
    forecast = traces["forecast that stopped it (median, 80%)"]
    cut = traces["promotion cut"]
    for k, r in enumerate(records):
        why = r.extra["stop"]
        median = -why["median_loss"]
        assert forecast["x"][k] == r.job.budget
        assert forecast["y"][k] == median
        assert forecast["error_y"]["array"][k] == pytest.approx(-why["interval_loss"][0] - median)
        assert forecast["error_y"]["arrayminus"][k] == pytest.approx(
            median + why["interval_loss"][1]
        )
        assert cut["y"][k] == -why["edge_loss"]
        assert "P(beating the promotion cut" in forecast["text"][k]


def test_rules_without_a_forecast_draw_only_where_they_stopped(
    studies: dict[str, tuple[Path, Any]],
) -> None:
    fig, _ = _figures.curves_figure(read_journal(studies["rung"][0]))
    assert fig is not None
    names = [t["name"] for t in fig["data"]]
    assert any(n.startswith("stopped (") for n in names)
    assert "promotion cut" not in names


def test_a_replay_without_the_stopped_job_s_result_still_explains_it(
    studies: dict[str, tuple[Path, Any]], tmp_path: Path
) -> None:
    journal, result = studies["curve"]
    victim = stopped(result)[0]
    lines = journal.read_text().splitlines(keepends=True)
    at = next(
        k
        for k, line in enumerate(lines)
        if (e := json.loads(line)).get("event") == "result" and e["job_id"] == victim.job.id
    )
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:at]))
    data = read_journal(cut)
    job = next(j for j in data.jobs if j.id == victim.job.id)
    assert job.status == "stopped"
    note = _data.stop_note(data, job)
    assert note is not None
    assert note == _data.stop_note(read_journal(journal), job)
    assert "P(beating the promotion cut" in note


# ---------------------------------------------------------------------- the text report


def test_the_text_report_names_the_sampler_and_the_stopping_rule(
    studies: dict[str, tuple[Path, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    journal, result = studies["curve"]
    assert main(["report", str(journal), "--trials"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("sampler: kde (top_fraction=0.15, ") for line in out)
    rule = next(line for line in out if line.startswith("stopping rule: "))
    assert rule.startswith("stopping rule: curve (threshold=0.2, min_reports=3, min_peers=1, ")
    for r in stopped(result):
        row = next(line for line in out if line.split()[:1] == [str(r.job.id)])
        assert f"stopped at step {r.extra['stopped_at']:g} by the curve rule: predicted" in row
    journal, _ = studies["rung"]
    assert main(["report", str(journal), "--trials"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "stopping rule: rung (min_peers=1, min_progress=0)" in out
    assert any("by the rung rule" in line for line in out)


def test_the_text_report_of_a_study_without_stopping_says_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "study.jsonl"
    hyperband.run(lambda c, b: c["x"], SPACE, max_budget=3, seed=0, journal=journal, progress=False)
    assert main(["report", str(journal)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "stopping rule: none" in out
    assert any(line.startswith("sampler: ") for line in out)


# ---------------------------------------------------------------------- a real browser


def test_stops_explained_in_a_real_browser(
    studies: dict[str, tuple[Path, Any]], tmp_path: Path, browser: Any
) -> None:
    journal, result = studies["curve"]
    data = read_journal(journal)
    records = stopped(result)
    out = hyperband.html_report(journal, tmp_path / "report.html")
    page = open_report(browser, out)
    # The chart: an error bar per forecast (plotly draws them as .errorbar paths).
    bars = page.eval_on_selector_all("#chart-curves .errorbar", "els => els.length")
    assert bars == len(records)
    # Hovering a forecast shows why its job stopped.
    trace = page.locator("#chart-curves .scatterlayer .trace").nth(-2)  # the forecasts
    trace.locator(".point").first.hover(force=True)
    page.wait_for_selector("#chart-curves .hoverlayer .hovertext", timeout=5_000)
    hover = page.text_content("#chart-curves .hoverlayer") or ""
    assert "P(beating the promotion cut" in hover
    assert f"job {records[0].job.id}" in hover
    # The table: a "why stopped" cell per stopped job, and the badge's tooltip says the same.
    page.select_option("#jobs-status", "stopped")
    ids = page.eval_on_selector_all(
        "#jobs tbody tr:not([hidden]) td.col-job", "tds => tds.map(td => td.textContent)"
    )
    notes = page.eval_on_selector_all(
        "#jobs tbody tr:not([hidden]) td.col-stop", "tds => tds.map(td => td.textContent)"
    )
    titles = page.eval_on_selector_all(
        "#jobs tbody tr:not([hidden]) .badge", "els => els.map(e => e.title)"
    )
    jobs = {j.id: j for j in data.jobs}
    wanted = [_data.stop_note(data, jobs[int(i)]) for i in ids]
    assert len(ids) == len(records)
    assert notes == wanted
    assert titles == wanted
    # The filter finds stops by the words of their explanation.
    page.select_option("#jobs-status", "")
    page.fill("#jobs-filter", "promotion cut")
    assert page.text_content("#jobs-count") == f"{len(records)} of {len(result.history)} jobs"
    page.close()
