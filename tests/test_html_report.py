"""The interactive HTML report: its data, its page, the CLI, live mode, and a real browser.

The study under test is real: ``hyperband.run`` on threads with a journal, an objective that
reports learning curves and fails for some configurations, a nested choice space and a
log-uniform parameter, minimised (so the report must respect the direction).
"""

from __future__ import annotations

import html.parser
import io
import json
import math
import os
import re
import shlex
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.cli import main
from hyperband.drivers.journal import Journal
from hyperband.report.html import data as _data
from hyperband.report.html import figures as _figures
from hyperband.report.html import page as _page
from hyperband.report.html.data import from_events, read_journal

from .browser import CHROMIUM_ARGS
from .optional import require

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "layers": {"_type": "choice", "_value": [1, 2, 3]},
    "optimizer": {
        "_type": "choice",
        "_value": [
            {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0, 0.99]}},
            {"_name": "adam"},
        ],
    },
}


def objective(config: dict[str, Any], budget: float, context: Any) -> float:
    quality: float = abs(math.log10(config["lr"]) + 2.5) + 0.1 * config["layers"]
    if config["optimizer"]["_name"] == "sgd":
        quality += 1 - config["optimizer"]["momentum"]
    if config["layers"] == 3 and config["lr"] > 0.01:
        raise RuntimeError(f"loss is nan at lr={config['lr']:.3g}")
    loss = quality
    for epoch in range(1, int(budget) + 1):
        loss = quality + 2.0 / epoch
        context.report(epoch, loss)
    time.sleep(0.004 * budget)  # long enough for the threads to share the jobs
    return loss


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, hyperband.RunResult]:
    path = tmp_path_factory.mktemp("study") / "study.jsonl"
    result = hyperband.run(
        objective,
        SPACE,
        max_budget=27,
        eta=3,
        mode="minimize",
        executor="threads",
        workers=3,
        seed=3,
        journal=path,
        progress=False,
    )
    # The study must exercise what the report shows; a change of seed must keep this true.
    assert result.n_failed > 0
    assert len({r.worker for r in result.history}) > 1
    return path, result


def events_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------------- data extraction


def test_rows_are_the_run_history(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    data = read_journal(path)
    assert data.complete is True
    assert data.torn == 0
    assert not data.maximize
    rows = data.finished
    assert [r.id for r in rows] == [r.job.id for r in result.history]
    for row, rec in zip(rows, result.history, strict=True):
        assert (row.status, row.value, row.error) == (rec.status, rec.value, rec.error)
        assert (row.budget, row.bracket, row.rung, row.config_id) == (
            rec.job.budget,
            rec.job.bracket,
            rec.job.rung,
            rec.job.config_id,
        )
        assert row.reports == rec.reports
        assert row.worker == rec.worker
        assert row.start == rec.start


def test_best_follows_the_machine_and_the_direction(
    study: tuple[Path, hyperband.RunResult],
) -> None:
    path, result = study
    data = read_journal(path)
    by_budget, by_time = _data.best_curves(data)
    assert result.best is not None
    assert by_budget.best[-1] == result.best.value
    assert by_time.best[-1] == result.best.value
    best = _page.best_job(data)
    assert best is not None
    assert best.id == result.best.job_id
    budgets = [r.job.budget for r in result.history]
    assert by_budget.x == pytest.approx([sum(budgets[: k + 1]) for k in range(len(budgets))])
    assert by_time.x == sorted(by_time.x)
    # Minimised: among results at the largest budget, the incumbent is the smallest value.
    top = max(r.job.budget for r in result.history if r.status == "succeeded")
    assert result.best.value == min(
        r.value for r in result.history if r.job.budget == top and r.value is not None
    )


def test_best_respects_the_mode() -> None:
    def events(mode: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"event": "study", "params": {"max_budget": 1, "mode": mode}}]
        for k, value in enumerate([0.5, 0.9, 0.1]):
            job = {"id": k, "config": {}, "config_id": k, "budget": 1, "bracket": 0, "rung": 0}
            out.append({"event": "ask", "job": {**job, "iteration": 0}, "time": 0.0})
            out.append({"event": "result", "job_id": k, "status": "succeeded", "value": value})
        return out

    up = _data.best_curves(from_events(events("maximize"), "t"))[0]
    down = _data.best_curves(from_events(events("minimize"), "t"))[0]
    assert up.best == [0.5, 0.9, 0.9]
    assert down.best == [0.5, 0.5, 0.1]


def test_funnel_counts_promotions_and_failures(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    cells = _data.funnel(read_journal(path))
    sched = result.schedule
    planned = {(b.s, i): r.n_configs for b in sched.brackets for i, r in enumerate(b.rungs)}
    assert {(c.bracket, c.rung) for c in cells} == set(planned)
    hist = result.history
    for c in cells:
        here = [r for r in hist if (r.job.bracket, r.job.rung) == (c.bracket, c.rung)]
        above = {
            r.job.config_id for r in hist if (r.job.bracket, r.job.rung) == (c.bracket, c.rung + 1)
        }
        assert sum(c.counts.values()) == len(here)
        assert c.scheduled == planned[(c.bracket, c.rung)]
        assert c.counts.get("failed", 0) == sum(r.status == "failed" for r in here)
        assert c.counts.get("promoted", 0) == len(above)
        assert c.not_started == 0  # a complete study
    assert sum(c.counts.get("failed", 0) for c in cells) == result.n_failed


def test_flatten_makes_nested_choices_dotted_axes(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    lines, dims = _data.dimensions(read_journal(path))
    by = {d.label: d for d in dims}
    assert list(by) == ["budget", "lr", "layers", "optimizer", "optimizer.momentum", "value"]
    assert len(lines) == result.n_succeeded
    assert all(len(d.values) == len(lines) for d in dims)
    # A choice is categorical in the space's order; absent parameters get their own tick.
    assert [t for _, t in by["layers"].ticks] == ["1", "2", "3"]
    assert [t for _, t in by["optimizer"].ticks][:2] == ["sgd", "adam"]
    assert by["optimizer.momentum"].kind == "linear"
    assert _data.MISSING in [t for _, t in by["optimizer.momentum"].ticks]
    # log-uniform: positions are log10 values, ticks show real ones.
    assert by["lr"].kind == "log"
    assert by["lr"].values == pytest.approx([math.log10(j.config["lr"]) for j in lines])
    assert by["budget"].kind == "log"
    assert [t for _, t in by["budget"].ticks] == ["1", "3", "9", "27"]
    # Minimised: the best job is drawn last (on top).
    assert lines[-1].value == min(j.value for j in lines if j.value is not None)


def test_flatten_and_hints_of_other_formats() -> None:
    assert _data.flatten({"a": {"_name": "x", "b": {"c": 1}}}) == {"a": "x", "a.b.c": 1}
    cs = {
        "hyperparameters": [
            {"name": "lr", "type": "uniform_float", "log": True},
            {"name": "act", "type": "categorical", "choices": ["relu", "tanh"]},
        ]
    }
    hints = _data.space_hints(cs)
    assert hints["lr"].log
    assert hints["act"].categories == ["relu", "tanh"]
    dim = _data.dimension("flag", [True, None, False])
    assert dim.kind == "category"
    assert [t for _, t in dim.ticks] == ["true", "false", _data.MISSING]


def test_learning_curves_hold_every_report(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    groups = _data.learning_curves(read_journal(path))
    points = [(x, y) for g in groups for x, y in zip(g.x, g.y, strict=True) if x is not None]
    reports = [pair for r in result.history for pair in r.reports]
    assert sorted(points) == sorted(reports)
    reached: dict[int, float] = {}
    for r in result.history:
        reached[r.job.config_id] = max(reached.get(r.job.config_id, 0), r.job.budget)
    assert [g.budget for g in groups] == sorted(set(reached.values()))
    assert sum(g.configs for g in groups) == len(
        {r.job.config_id for r in result.history if r.reports}
    )
    # Each group holds exactly the configurations whose largest budget reached is its budget.
    for g in groups:
        in_group = {ids[0] for ids in g.ids if ids is not None}
        assert {reached[cid] for cid in in_group} == {g.budget}
        assert len(in_group) == g.configs


def test_any_status_is_handled(study: tuple[Path, hyperband.RunResult]) -> None:
    path, _ = study
    events = events_of(path)
    results = [e for e in events if e["event"] == "result" and e["status"] == "succeeded"]
    results[0]["status"] = "stopped"
    results[1]["status"] = "preempted"
    data = from_events(events, "edited")
    statuses = {j.status for j in data.jobs}
    assert {"stopped", "preempted", "succeeded", "failed"} <= statuses
    counts: dict[str, int] = {}
    for cell in _data.funnel(data):
        for key, n in cell.counts.items():
            counts[key] = counts.get(key, 0) + n
    assert counts["stopped"] == 1
    assert counts["preempted"] == 1
    colours = {s: _figures.status_colour(s, sorted(statuses)) for s in statuses}
    assert colours["stopped"] == _figures.STATUS_COLOURS["stopped"]
    assert len(set(colours.values())) == len(colours)
    # The stopped job keeps its value: it is a line in the parallel coordinates, with a status axis.
    lines, dims = _data.dimensions(data)
    assert any(j.status == "stopped" for j in lines)
    assert "status" in [d.label for d in dims]
    figs = _figures.figures(data)
    assert all(fig is not None for key, (fig, _) in figs.items() if key not in _page.OPTIONAL)
    assert "stopped" in _page.table(data)["statuses"]


def test_a_running_study_reads_with_pending_jobs_and_a_torn_line(
    study: tuple[Path, hyperband.RunResult], tmp_path: Path
) -> None:
    path, _ = study
    lines = path.read_bytes().splitlines(keepends=True)
    cut = tmp_path / "running.jsonl"
    cut.write_bytes(b"".join(lines[:30]) + lines[30][:17])  # a write in progress
    data = read_journal(cut)
    assert data.torn == 17
    assert data.complete is False
    pending = [j for j in data.jobs if j.status == _data.PENDING]
    assert pending
    keys = {k for c in _data.funnel(data) for k in c.counts}
    assert _data.PENDING in keys
    assert any(c.not_started for c in _data.funnel(data))
    assert len(_page.table(data)["rows"]) == len(data.jobs)


def test_reading_needs_no_lock(study: tuple[Path, hyperband.RunResult], tmp_path: Path) -> None:
    path, result = study
    copy = tmp_path / "held.jsonl"
    shutil.copy(path, copy)
    journal, _ = Journal.open(copy)  # as a running study does: it holds the lock
    try:
        before = copy.read_bytes()
        data = read_journal(copy)
        assert len(data.finished) == len(result.history)
        assert copy.read_bytes() == before
    finally:
        journal.close()


def test_completeness_is_unknown_without_a_space(
    study: tuple[Path, hyperband.RunResult], tmp_path: Path
) -> None:
    path, _ = study
    events = events_of(path)
    events[0]["space"] = None  # as a custom sampler writes it
    events[0]["sampler_spec"] = None
    custom = tmp_path / "custom.jsonl"
    custom.write_text("".join(json.dumps(e) + "\n" for e in events))
    assert _data.study_complete(custom) is None
    assert read_journal(custom).finished  # it still reports


def test_from_result_matches_the_journal(study: tuple[Path, hyperband.RunResult]) -> None:
    path, result = study
    a, b = read_journal(path), _data.from_result(result)
    assert [(j.id, j.status, j.value) for j in a.finished] == [
        (j.id, j.status, j.value) for j in b.finished
    ]
    assert _data.funnel(a) == _data.funnel(b)


# ---------------------------------------------------------------------- the page


class Resources(html.parser.HTMLParser):
    """Every external reference a page could load: script/link/img/iframe sources, CSS urls."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.inline_scripts = 0
        self.meta_refresh: str | None = None
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("src", "href", "srcset", "data", "poster"):
            if a.get(name):
                self.refs.append(f"{tag} {name}={a[name]}")
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.meta_refresh = a.get("content")
        self._style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._style:
            self.refs += [f"css {u}" for u in re.findall(r"url\(([^)]*)\)|@import", data) if u]
            self.refs += ["css @import"] * data.count("@import")


def table_rows(page: str) -> list[list[Any]]:
    """The jobs table's rows, from the JSON the page embeds."""
    found = re.search(r'id="report-data" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None
    rows: list[list[Any]] = json.loads(found[1])["table"]["rows"]
    return rows


def parse(page: str) -> Resources:
    parser = Resources()
    parser.feed(page)
    return parser


def test_the_page_is_self_contained(
    study: tuple[Path, hyperband.RunResult], tmp_path: Path
) -> None:
    path, result = study
    out = hyperband.html_report(path, tmp_path / "report.html")
    page = out.read_text()
    found = parse(page)
    assert found.refs == []  # nothing to fetch: scripts, styles and fonts are all inline
    assert found.inline_scripts == 3  # plotly.js, the data, the page's script
    assert found.meta_refresh is None
    assert "study complete" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*[\"']?https?:", page)
    assert len(table_rows(page)) == len(result.history)


def test_hostile_text_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    evil = "</script><script>alert(1)</script><!--"
    events: list[dict[str, Any]] = [{"event": "study", "params": {"max_budget": 1}}]
    job = {"id": 0, "config": {"name": evil}, "config_id": 0, "budget": 1, "bracket": 0}
    events.append({"event": "ask", "job": {**job, "rung": 0, "iteration": 0}})
    events.append({"event": "result", "job_id": 0, "status": "failed", "error": evil})
    page = _page.render(from_events(events, evil))
    assert page.count("<script") == 3
    assert "alert(1)</script>" not in page


def test_figures_are_valid_plotly(study: tuple[Path, hyperband.RunResult]) -> None:
    go = require("plotly.graph_objects")  # plotly's schema, for this check only

    path, _ = study
    for key, (fig, note) in _figures.figures(read_journal(path)).items():
        if key in _page.OPTIONAL and fig is None:
            continue  # left out of the page (test_html_trust.py shows the trust chart)
        assert fig is not None, (key, note)
        go.Figure(fig)  # raises on any property plotly.js does not know


def synthetic_events(jobs: int, seed: int = 0) -> list[dict[str, Any]]:
    """A large study's journal events, made in memory with the machine (no objective)."""
    import random

    space = {**SPACE, "width": {"_type": "randint", "_value": [16, 512]}}
    hb = hyperband.Hyperband(space, max_budget=81, eta=3, iterations=None, seed=seed)
    events: list[dict[str, Any]] = [{"event": "study", "params": hb.params, "space": space}]
    rng = random.Random(seed)
    clock = 0.0
    for _ in range(jobs):
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        events.append({"event": "ask", "job": job.to_dict(), "time": clock})
        value = rng.random()
        reports = [[step, value + 1 / step] for step in range(1, int(job.budget) + 1)]
        result: dict[str, Any] = {"event": "result", "job_id": job.id, "start": clock}
        clock += job.budget * 0.01
        if rng.random() < 0.03:
            hb.fail(job.id, "Traceback (most recent call last):\n  ...\nRuntimeError: boom\n")
            result.update(status="failed", value=None, error="Traceback ...\nRuntimeError: boom")
        else:
            hb.tell(job.id, value)
            result.update(status="succeeded", value=value, reports=reports)
        result.update(end=clock, worker=f"host/1/worker-{job.id % 8}", attempts=1)
        events.append(result)
    return events


def test_a_1000_job_report_stays_small() -> None:
    page = _page.render(from_events(synthetic_events(1000), "synthetic"))
    library = len(_page.plotly_js()[0].encode())
    own = len(page.encode()) - library
    # The study's own share: data, table and figures (measured: 0.83 MB with every
    # job reporting a point per budget unit).
    assert own < 1_200_000, own


# ---------------------------------------------------------------------- command line


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_the_report(
    study: tuple[Path, hyperband.RunResult],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _ = study
    out = tmp_path / "r.html"
    code, stdout, err = run_main(capsys, "report", str(path), "--html", str(out))
    assert (code, err) == (0, "")
    assert re.search(r"^html: .*r\.html \(\d+\.\d MB\)$", stdout, re.M)
    assert stdout.startswith(f"journal: {path}")  # the text summary is still printed
    assert parse(out.read_text()).refs == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--live"], "--live needs --html PATH"),
        (["--interval", "2"], "--interval applies to --live only"),
        (["--html", "no/such/dir/r.html"], "--html: folder 'no/such/dir' does not exist"),
        (["--html", "r.html", "--live", "--interval", "0"], "must be > 0 seconds"),
    ],
)
def test_cli_refuses_bad_html_options(
    study: tuple[Path, hyperband.RunResult],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, "report", str(study[0]), *args)
    assert code == 2
    assert message in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- live mode


def feeder(source: Path, target: Path, steps: int) -> Callable[[float], None]:
    """A ``sleep`` that writes the next part of ``source`` into ``target`` on every call.

    Cuts fall anywhere, mid-line included: what a reader sees while a study appends.
    """
    data = source.read_bytes()
    cuts = [len(data) * k // steps for k in range(1, steps + 1)]

    def sleep(seconds: float) -> None:
        assert seconds == 0.5
        target.write_bytes(data[: cuts.pop(0)])

    return sleep


def test_live_follows_a_growing_journal_until_complete(
    study: tuple[Path, hyperband.RunResult], tmp_path: Path
) -> None:
    path, result = study
    journal, out = tmp_path / "growing.jsonl", tmp_path / "live.html"
    feed = feeder(path, journal, 6)
    pages: list[str] = []
    feeds: list[str] = []

    def sleep(seconds: float) -> None:
        pages.append(out.read_text())
        feed_file = tmp_path / "live.html.live.js"
        feeds.append(feed_file.read_text() if feed_file.exists() else "")
        feed(seconds)

    code = _page.live(journal, out, interval=0.5, sleep=sleep, out=io.StringIO())
    assert code == 0
    assert "Waiting for the study" in pages[0]  # the journal did not exist yet
    assert parse(pages[0]).meta_refresh == "0.5"
    assert feeds[0] == ""
    # Once the study has started, the page is written once and never reloads itself: the
    # feed beside it carries the next data.
    started = [k for k, p in enumerate(pages) if "Waiting for the study" not in p]
    assert started
    assert all(pages[k] == pages[started[0]] for k in started)
    assert all(parse(pages[k]).meta_refresh is None for k in started)
    assert '"live":{"feed":"live.html.live.js","interval":0.5}' in pages[started[0]]
    assert all(feeds[k].startswith("window.hyperbandLive({") for k in started)
    assert len({feeds[k] for k in started}) == len(started)  # new data each time
    final = out.read_text()
    assert parse(final).meta_refresh is None
    assert '"live":' not in final
    assert "study complete" in final
    assert len(pages) == 6  # the last cut completes the study: no more sleeping
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["growing.jsonl", "live.html", "live.html.live.js"]
    assert '"final":true' in (tmp_path / "live.html.live.js").read_text()
    assert len(table_rows(final)) == len(result.history)


def test_live_stops_cleanly_on_ctrl_c(
    study: tuple[Path, hyperband.RunResult], tmp_path: Path
) -> None:
    path, _ = study
    journal, out = tmp_path / "growing.jsonl", tmp_path / "live.html"
    feed = feeder(path, journal, 4)
    calls = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 3:
            raise KeyboardInterrupt
        feed(seconds)

    code = _page.live(journal, out, interval=0.5, sleep=sleep, out=io.StringIO())
    assert code == 130
    page = out.read_text()
    assert parse(page).meta_refresh is None  # nobody updates it any more: no reloading
    assert "live updates stopped" in page
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["growing.jsonl", "live.html", "live.html.live.js"]
    assert '"final":true' in (tmp_path / "live.html.live.js").read_text()


def test_live_cli_follows_a_real_running_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal, out = tmp_path / "study.jsonl", tmp_path / "live.html"
    finished: list[hyperband.RunResult] = []

    def study() -> None:
        time.sleep(0.2)  # the report starts first and waits for the journal
        finished.append(
            hyperband.run(
                objective,
                SPACE,
                max_budget=9,
                mode="minimize",
                workers=2,
                seed=5,
                journal=journal,
                progress=False,
            )
        )

    writer = threading.Thread(target=study)
    writer.start()
    codes: list[int] = []
    reader = threading.Thread(
        target=lambda: codes.append(
            main(["report", str(journal), "--html", str(out), "--live", "--interval", "0.05"])
        )
    )
    reader.start()
    writer.join(60)
    reader.join(60)
    assert not reader.is_alive(), "live mode did not notice that the study completed"
    assert codes == [0]
    stdout = capsys.readouterr().out
    assert "live: the study is complete" in stdout
    page = out.read_text()
    assert parse(page).meta_refresh is None
    assert len(table_rows(page)) == len(finished[0].history)
    # The writer was not disturbed: its journal replays to the same result.
    assert hyperband.RunResult.from_journal(journal).best == finished[0].best


# ---------------------------------------------------------------------- a real browser

CHROMIUM = os.environ.get("HYPERBAND_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="the browser test needs Playwright: pip install 'hyperband[browser]'",
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_report(browser: Any, out: Path, **viewport: int) -> Any:
    """A new tab on the report ``out``, drawn, with no console error."""
    page = browser.new_page(viewport={"width": 1280, "height": 900, **viewport})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(out.resolve().as_uri())
    page.wait_for_selector("body[data-ready]", timeout=30_000)
    assert page.evaluate("document.body.dataset.ready") == "1"
    assert problems == []
    return page


NONE = "\u2013"  # what the table shows for a missing value (an en dash)


def column(page: Any, key: str) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        f"#jobs tbody tr:not([hidden]) td.col-{key}", "tds => tds.map(td => td.textContent)"
    )
    return texts


def test_the_report_in_a_real_browser(
    study: tuple[Path, hyperband.RunResult], tmp_path: Path, browser: Any
) -> None:
    path, result = study
    data = read_journal(path)
    out = hyperband.html_report(path, tmp_path / "report.html")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.resolve().as_uri())
    page.wait_for_selector("body[data-ready]", timeout=30_000)
    assert page.evaluate("document.body.dataset.ready") == "1"
    assert problems == []
    assert requests == [out.resolve().as_uri()]  # nothing fetched from anywhere

    def count(selector: str) -> int:
        return int(page.eval_on_selector_all(selector, "els => els.length"))

    valued = sum(r.value is not None for r in result.history)
    # Best value: every result twice (budget spent, time), and two incumbent lines.
    assert count("#chart-best .scatterlayer .point") == 2 * valued
    assert count("#chart-best .scatterlayer .js-line") >= 2
    # Funnel: one visible bar segment per non-zero count (plotly keeps empty ones, flat).
    segments = sum(1 for c in _data.funnel(data) for n in c.counts.values() if n)
    drawn = page.eval_on_selector_all(
        "#chart-funnel .barlayer .point path", "els => els.filter(e => e.getBBox().height > 0.5)"
    )
    assert len(drawn) == segments
    # Timeline: a bar per job, whatever the colouring.
    assert count("#chart-timeline .barlayer .point") == len(result.history)
    page.click("#chart-timeline .updatemenu-button >> nth=2")  # colour by status
    page.wait_for_timeout(300)
    assert count("#chart-timeline .barlayer .point") == len(result.history)
    legend = page.eval_on_selector_all(
        "#chart-timeline .legendtext", "els => els.map(e => e.textContent)"
    )
    assert sorted(legend) == ["failed", "succeeded"]
    # Parallel coordinates: its WebGL canvases and one axis per dimension.
    _, dims = _data.dimensions(data)
    assert count("#chart-parcoords canvas") >= 1
    assert count("#chart-parcoords .parcoords .y-axis") == len(dims)
    # Learning curves: one trace per group, a marker per report, lines between them.
    groups = _data.learning_curves(data)
    assert count("#chart-curves .scatterlayer .trace") == len(groups)
    assert count("#chart-curves .scatterlayer .point") == sum(
        len(r.reports) for r in result.history
    )
    assert count("#chart-curves .scatterlayer .js-line") > 0

    # The table: every job, sortable by a click, filterable by typing.
    assert count("#jobs tbody tr") == len(result.history)
    page.click("#jobs thead th.col-value button")
    values = [float(v) for v in column(page, "value") if v != NONE]
    assert values == sorted(values)
    assert len(values) == valued
    assert column(page, "value")[-1] == NONE  # failures (no value) last
    page.click("#jobs thead th.col-value button")
    values = [float(v) for v in column(page, "value") if v != NONE]
    assert values == sorted(values, reverse=True)
    assert page.get_attribute("#jobs thead th.col-value", "aria-sort") == "descending"
    page.click("#jobs thead th.col-job button")
    assert [int(v) for v in column(page, "job")] == sorted(r.job.id for r in result.history)

    page.fill("#jobs-filter", "RuntimeError")
    assert len(column(page, "job")) == result.n_failed
    assert set(column(page, "status")) == {"failed"}
    assert page.text_content("#jobs-count") == f"{result.n_failed} of {len(result.history)} jobs"
    page.click("#jobs tbody tr:not([hidden]) td.col-error summary >> nth=0")
    assert "Traceback" in page.inner_text("#jobs tbody tr:not([hidden]) td.col-error pre >> nth=0")
    page.fill("#jobs-filter", "no such text anywhere")
    assert column(page, "job") == []
    page.fill("#jobs-filter", "")
    page.select_option("#jobs-status", "succeeded")
    assert len(column(page, "job")) == result.n_succeeded
    page.close()


# ---------------------------------------------------------------------- the docs' example

DOC = Path(__file__).resolve().parent.parent / "docs" / "report.md"


def test_the_docs_example_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = DOC.read_text()
    blocks = re.findall(r"^```python(?: notest)?\n(.*?)^```", text, re.M | re.S)
    assert len(blocks) == 2  # the study, then html_report
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    exec(compile(blocks[0], f"{DOC}:study", "exec"), namespace)
    result = namespace["result"]
    assert result.n_failed > 0  # the example shows failures
    exec(compile(blocks[1], f"{DOC}:html_report", "exec"), namespace)
    assert parse((tmp_path / "report.html").read_text()).refs == []
    command = re.search(r"^\$ (hyperband report study\.jsonl --html report\.html)$", text, re.M)
    assert command is not None
    capsys.readouterr()
    assert main(shlex.split(command[1])[1:]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("html: report.html (")


def test_a_study_with_the_kde_sampler_and_early_stopping(tmp_path: Path) -> None:
    """A real journal with report events and stopped jobs: the report counts the stops in the
    funnel, shows them in the table and takes the space from the sampler's spec."""
    from .runner_helpers import MODEL_STUDY, SPACE, reporting

    journal = tmp_path / "study.jsonl"
    result = hyperband.run(
        reporting, SPACE, **MODEL_STUDY, executor="serial", journal=journal, progress=False
    )
    assert result.n_stopped > 0
    data = read_journal(journal)
    assert data.space == SPACE
    statuses = [job.status for job in data.jobs]
    assert statuses.count("stopped") == result.n_stopped
    cells = _data.funnel(data)
    assert sum(c.counts.get("stopped", 0) for c in cells) == result.n_stopped
    out = tmp_path / "report.html"
    hyperband.html_report(journal, out)
    assert out.read_text().count('"stopped"') > 0
