"""The report page: one self-contained HTML file, and its live regeneration."""

from __future__ import annotations

import contextlib
import functools
import html
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hyperband.drivers.records import jsonable
from hyperband.report.describe import rule_text, sampler_text, short
from hyperband.report.html.data import (
    PENDING,
    JobRow,
    StudyData,
    flatten,
    from_result,
    read_journal,
    read_study,
    stop_note,
    worker_index,
)
from hyperband.report.html.figures import FIGURES, Figure, figures, status_colour
from hyperband.report.text import last_line

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult

__all__ = ["EXTRA", "html_report", "live", "plotly_js", "render", "write_atomic"]

# The extra that once installed plotly for the report; the page now inlines the plotly.js
# bundle that ships inside this package, so it is empty (kept so that old install lines work).
EXTRA = "report"
# Charts left out of the page while they have nothing to show (a note would only puzzle).
OPTIONAL = frozenset({"trust", "importance"})
ERROR_CHARS = 4000  # a failure's traceback is cut to its last characters (its useful end)
# plotly.js built with only the trace types figures.py draws (tools/plotly/ rebuilds it), and
# what the build recorded of it: plotly.js' version, the traces, its sha256 and size.
PLOTLY_BUNDLE = "plotly-custom.min.js"
PLOTLY_RECORD = "plotly-custom.json"


@functools.lru_cache(maxsize=1)
def plotly_js() -> tuple[str, str]:
    """The plotly.js bundle the page inlines, and its plotly.js version.

    The bundle ships inside hyperband (no plotly package needed): plotly.js' core with the
    ``scatter``, ``bar`` and ``parcoords`` trace types only, about a quarter of the full
    plotly.min.js. ``tools/plotly/build.sh`` rebuilds it from the pinned npm packages.

    Examples:
        >>> from hyperband.report.html import plotly_js
        >>> script, version = plotly_js()
        >>> version
        '4.1.1'
        >>> script.startswith("/**\\n* plotly.js")
        True
    """
    record = json.loads(_asset(PLOTLY_RECORD))
    return _asset(PLOTLY_BUNDLE), str(record["plotly.js"])


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _finite(obj: Any, digits: int = 0) -> Any:
    """``obj`` with NaN and infinities as ``None`` (JSON.parse rejects them), and floats
    rounded to ``digits`` significant digits if given (charts need no more; the file shrinks).
    """
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return float(f"{obj:.{digits}g}") if digits else obj
    if isinstance(obj, dict):
        return {k: _finite(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v, digits) for v in obj]
    return obj


def _script_json(obj: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>``, no ``<!--``."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=jsonable)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---------------------------------------------------------------------- the jobs table

COLUMNS = [
    ("job", "job", "num"),
    ("config_id", "config", "num"),
    ("status", "status", "str"),
    ("iteration", "iteration", "num"),
    ("bracket", "s", "num"),
    ("rung", "rung", "num"),
    ("budget", "budget", "num"),
    ("value", "value", "num"),
    ("duration", "seconds", "num"),
    ("worker", "worker", "str"),
    ("attempts", "attempts", "num"),
]
PARAM_DIGITS = 4  # significant digits a hyperparameter shows (the CSV and sorting keep all)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def param_columns(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A column per flattened hyperparameter (in the order first seen): numeric when every
    value present is a number (sorted as numbers, shown rounded), else text."""
    names: dict[str, None] = {}
    for config in configs:
        names.update(dict.fromkeys(config))
    columns = []
    for k, name in enumerate(names):
        present = [c[name] for c in configs if c.get(name) is not None]
        numeric = all(_is_number(x) for x in present)
        columns.append(
            {
                "key": f"hp{k}",
                "label": name,
                "type": "num" if numeric else "str",
                "digits": PARAM_DIGITS if numeric else None,
                "param": True,
            }
        )
    return columns


def _param_cell(value: Any) -> Any:
    if value is None or isinstance(value, str) or _is_number(value):
        return value
    return json.dumps(value, sort_keys=True, default=jsonable)


def csv_name(source: str) -> str:
    """The CSV download's file name: the journal's stem, then ``-jobs.csv``.

    Examples:
        >>> csv_name("runs/study.jsonl")
        'study-jobs.csv'
    """
    stem = Path(source).stem if source and source != "RunResult" else "hyperband"
    return f"{stem or 'hyperband'}-jobs.csv"


def table(data: StudyData) -> dict[str, Any]:
    """The jobs table: columns, one row per job (finished first, then pending), and colours.

    A column per hyperparameter follows the job's own (``param_columns``), then the failure.
    When jobs were stopped, "why stopped" (`stop_note`: the curve rule's forecast, or the
    rule and step) comes before the hyperparameters. Each row has two hidden cells after the
    columns: the failure's last line (the summary of its collapsed traceback) and the
    worker's full label.
    """
    workers = worker_index(data)
    rows = []
    pending = [j for j in data.jobs if not j.finished]
    jobs = [*data.finished, *pending]
    configs = [flatten(j.config) for j in jobs]
    params = param_columns(configs)
    stops = any(j.status == "stopped" for j in jobs)
    for j, config in zip(jobs, configs, strict=True):
        error = j.error
        if error is not None and len(error) > ERROR_CHARS:
            error = "…" + error[-ERROR_CHARS:]
        rows.append(
            [
                j.id,
                j.config_id,
                j.status,
                j.iteration,
                j.bracket,
                j.rung,
                j.budget,
                j.value,
                (j.end - j.start) if j.timed else None,
                f"w{workers[j.worker]}" if j.worker in workers else (j.worker or None),
                j.attempts if j.finished else None,
                *([stop_note(data, j)] if stops else []),
                *(_param_cell(config.get(c["label"])) for c in params),
                error,
                None if error is None else last_line(error),
                j.worker,
            ]
        )
    statuses = sorted({j.status for j in data.jobs})
    digits = {"value": 6, "duration": 3, "budget": 6}
    columns = [
        {"key": key, "label": label, "type": kind, "digits": digits.get(key)}
        for key, label, kind in COLUMNS
    ]
    if stops:
        columns.append({"key": "stop", "label": "why stopped", "type": "str", "digits": None})
    columns += [*params, {"key": "error", "label": "failure", "type": "str", "digits": None}]
    return {
        "columns": columns,
        "rows": rows,
        "statuses": statuses,
        "colours": {s: status_colour(s, statuses) for s in statuses},
        "statusIndex": 2,
        "csvName": csv_name(data.source),
        "reason": len(columns),
        "workerLabel": len(columns) + 1,
    }


# ---------------------------------------------------------------------- the page


def best_job(data: StudyData) -> JobRow | None:
    """The machine's best: the best success at the largest budget reached (lower config id on
    ties)."""
    ok = [j for j in data.finished if j.status == "succeeded" and j.value is not None]
    if not ok:
        return None
    top = max(j.budget for j in ok)
    sign = -1.0 if data.maximize else 1.0
    return min(
        (j for j in ok if j.budget == top), key=lambda j: (sign * (j.value or 0.0), j.config_id)
    )


def _space_lines(space: Any) -> list[str]:
    """One line per parameter of an NNI space (``name: type [values]``), else the JSON."""
    if not isinstance(space, Mapping) or not space:
        return [] if space is None else [short(space)]
    if isinstance(space.get("hyperparameters"), list):  # ConfigSpace's JSON format
        return [
            f"{hp.get('name')}: " + short({k: v for k, v in hp.items() if k != "name"})
            for hp in space["hyperparameters"]
            if isinstance(hp, Mapping)
        ]
    lines = []
    for name, spec in space.items():
        if isinstance(spec, Mapping) and "_type" in spec:
            lines.append(f"{name}: {spec['_type']} {short(spec.get('_value'))}")
        else:
            lines.append(f"{name}: {short(spec)}")
    return lines


def study_facts(data: StudyData) -> list[tuple[str, str]]:
    """What the study is, as ``(label, text)`` pairs: name, objective, sampler, stopping
    rule, modes, schedule, seed and search space (one line per parameter), from the
    journal's header; entries the journal does not record are left out.
    """
    p, h = data.params, data.header
    raw = h.get("sampler_spec")
    spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    facts = [("study", str(h["study_name"]))] if "study_name" in h else []
    if "objective" in h:
        facts.append(("objective", str(h["objective"])))
    facts.append(("direction", str(p.get("mode", "maximize"))))
    facts.append(("sampler", sampler_text(spec, data.sampler)))
    facts.append(("stopping rule", rule_text(p.get("early_stop"))))
    facts.append(("exec mode", str(p.get("exec_mode", "parallelism"))))
    facts.append(("brackets", str(p.get("brackets", "cycle"))))
    keys = ("max_budget", "min_budget", "eta", "sizing", "iterations", "integer_budgets")
    facts.append(("schedule", ", ".join(f"{k}={short(p[k])}" for k in keys if k in p)))
    if "max_jobs" in p:
        facts.append(("max jobs", str(p["max_jobs"])))
    if "seed" in p:
        facts.append(("seed", str(p["seed"])))
    space = _space_lines(data.space)
    if space:
        facts.append(("search space", "\n".join(space)))
    return facts


def _study_card(data: StudyData) -> str:
    rows = "".join(
        f"<dt>{html.escape(label)}</dt><dd>{html.escape(text).replace(chr(10), '<br>')}</dd>"
        for label, text in study_facts(data)
    )
    return (
        '<section class="card" id="section-study"><h2>Study</h2>'
        f'<dl class="facts">{rows}</dl></section>'
    )


def _stats(data: StudyData, best: JobRow | None) -> list[tuple[str, str]]:
    finished = data.finished
    scheduled = data.scheduled
    counts: dict[str, int] = {}
    for j in data.jobs:
        counts[j.status] = counts.get(j.status, 0) + 1
    stats = []
    if best is not None:
        stats.append(
            (
                f"{best.value:.6g}",
                f"best at budget {best.budget:g} (configuration {best.config_id}, job {best.id})",
            )
        )
    of = "" if scheduled is None else f" of {scheduled}"
    stats.append((f"{len(finished)}{of}", "jobs finished" + (" of scheduled" if of else "")))
    stats.extend(
        (str(counts[s]), PENDING + " (asked, no result)" if s == PENDING else s)
        for s in sorted(counts, key=lambda s: (s != "succeeded", s == PENDING, s))
    )
    spent = math.fsum(j.cost for j in finished)  # a stopped job up to its stop
    stats.append((f"{spent:g}", "budget units spent"))
    timed = [j for j in finished if j.timed]
    if timed:
        wall = max(j.end for j in timed) - min(j.start for j in timed)
        busy = math.fsum(j.end - j.start for j in timed)
        workers = len({j.worker for j in timed})
        stats.append((f"{wall:.3g} s", "wall time, first start to last end"))
        use = f", {busy / (workers * wall):.0%} busy" if wall > 0 else ""
        stats.append((str(workers), f"worker{'s' if workers != 1 else ''}{use}"))
    return stats


def _state(data: StudyData, refresh: float | None, stopped: bool) -> tuple[str, str]:
    if data.complete:
        return "complete", "study complete"
    if refresh is not None:
        return "live", f"live: updated every {refresh:g} s"
    if stopped:
        return "", "live updates stopped; study not complete"
    unknown = data.complete is None and data.source != "RunResult"
    return "", "completeness unknown" if unknown else "study not complete"


def _headline(data: StudyData) -> tuple[str, str]:
    """The page's key numbers and the best configuration, as HTML."""
    best = best_job(data)
    stats = "".join(
        f'<div class="stat"><b>{html.escape(value)}</b><span>{html.escape(label)}</span></div>'
        for value, label in _stats(data, best)
    )
    best_config = (
        ""
        if best is None
        else "best configuration: <code>"
        + html.escape(json.dumps(best.config, sort_keys=True, default=jsonable))
        + "</code>"
    )
    return stats, best_config


def _sections(charts: Mapping[str, tuple[Figure | None, str]], every: bool = False) -> str:
    """A card per chart, in ``FIGURES``' order: its heading, what it shows, its place.

    ``every``: optional charts too while they have nothing to show (a live page fills them
    in place once they do).
    """
    sections = []
    for key, heading, what in FIGURES:
        fig, note = charts[key]
        if fig is None and key in OPTIONAL and not every:
            continue
        inner = f'<div class="note">{html.escape(note)}</div>' if note else ""
        # The chart's height before plotly draws it: the page does not jump as charts appear,
        # so a reload (live mode) can restore the scroll position.
        height = "" if fig is None else f' style="height: {fig["layout"]["height"]}px"'
        sections.append(
            f'<section class="card" id="section-{key}"><h2>{html.escape(heading)}</h2>'
            f'<p class="what">{html.escape(what)}</p>'
            f'<div class="chart" id="chart-{key}"{height}>{inner}</div></section>'
        )
    return "".join(sections)


def payload(
    data: StudyData, *, refresh: float | None = None, stopped: bool = False
) -> tuple[dict[str, Any], dict[str, tuple[Figure | None, str]]]:
    """What the page's script shows, as JSON-ready data, and the charts it was made of.

    The page embeds it; in live mode the feed file passes the next one to the open page
    (``window.hyperbandLive``), which updates in place. ``final``: no update will follow.
    """
    charts = figures(data)
    stats, best_config = _headline(data)
    state = _state(data, refresh, stopped)
    return {
        "figures": _finite({key: fig for key, (fig, _) in charts.items()}, digits=7),
        "table": _finite(table(data)),
        "stats": stats,
        "best": best_config,
        "state": list(state),
        "final": refresh is None,
    }, charts


_JOBS = f"""<section class="card" id="section-jobs"><h2>Jobs</h2>
<p class="what">One column per hyperparameter (numbers rounded to {PARAM_DIGITS} significant
digits; sorting and the CSV use the exact values). Click a column title to sort (again to
reverse); type to filter: every word must begin a word of the row as shown (a number must
be one), so <code>stopped 27</code> finds the stopped jobs of budget 27. A failure's reason
opens to its traceback. CSV downloads the rows shown, in their order, with exact values.</p>
<div class="controls">
<input id="jobs-filter" type="search" placeholder="filter jobs, e.g. failed 27"
 aria-label="filter jobs">
<select id="jobs-status" aria-label="status"><option value="">any status</option></select>
<output id="jobs-count"></output>
<button id="jobs-csv" type="button"
 title="download the rows shown, in their order, with exact values">CSV</button></div>
<div class="table-wrap"><table id="jobs"><thead><tr></tr></thead><tbody></tbody></table></div>
</section>"""


def render(
    data: StudyData,
    *,
    refresh: float | None = None,
    title: str | None = None,
    stopped: bool = False,
    feed: str | None = None,
) -> str:
    """The report page of ``data``.

    Args:
        data: the study.
        refresh: live mode: update every this many seconds; ``None``: never.
        title: the page title (default: the journal's path).
        stopped: live mode was stopped before the study completed (said in the header).
        feed: with ``refresh``: the file (a URL relative to the page) that ``live`` rewrites
            with the next data; the page loads it every ``refresh`` seconds and updates in
            place, keeping its filter, sorting and scroll. ``None``: the page reloads itself.
    """
    plotly, plotly_version = plotly_js()
    from hyperband import __version__

    title = title or f"hyperband report: {data.source}"
    content, charts = payload(data, refresh=refresh, stopped=stopped)
    if refresh is not None and feed is not None:
        content["live"] = {"feed": feed, "interval": refresh}
    state_class, state_text = content["state"]
    p = data.params
    keys = ("max_budget", "eta", "min_budget", "mode", "exec_mode", "sizing", "iterations", "seed")
    params = " ".join(f"{k}={p[k]}" for k in keys if k in p)
    sections = _sections(charts, every=refresh is not None)
    reload = refresh is not None and feed is None
    meta = f'<meta http-equiv="refresh" content="{refresh:g}">' if reload else ""
    written = time.strftime("%Y-%m-%d %H:%M:%S")
    torn = f"; ignored a partly written last line ({data.torn} bytes)" if data.torn else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="hyperband {__version__}">
{meta}
<title>{html.escape(title)}</title>
<style>
{_asset("report.css")}
</style>
<script>
{plotly}
</script>
</head>
<body>
<header>
<h1>{html.escape(title)}<span class="state {state_class}">{html.escape(state_text)}</span></h1>
<div class="muted">{html.escape(params)}</div>
</header>
<main>
<div class="stats">{content["stats"]}</div>
<p class="best-config">{content["best"]}</p>
{_study_card(data)}
{sections}
{_JOBS}
</main>
<footer>Written {written} by hyperband {__version__} from {html.escape(data.source)}{torn};
charts by plotly.js {plotly_version} (its scatter, bar and parcoords traces), inlined:
this file needs no network.</footer>
<script id="report-data" type="application/json">{_script_json(content)}</script>
<script>
{_asset("report.js")}
</script>
</body>
</html>
"""


def waiting_page(journal: Path, refresh: float) -> str:
    """The live page before the journal exists (or holds its header)."""
    name = html.escape(str(journal))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{refresh:g}">
<title>hyperband report: waiting for {name}</title>
<style>{_asset("report.css")}</style></head>
<body><header><h1>hyperband report: {name}<span class="state live">live</span></h1></header>
<main><section class="card"><div class="note">Waiting for the study to write {name};
this page reloads every {refresh:g} s.</div></section></main></body></html>
"""


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    A browser reloading the page never sees half a file.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        # mkstemp makes the file private (0600); a report is meant to be read.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def html_report(
    source: str | os.PathLike[str] | RunResult,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
) -> Path:
    """Write an interactive HTML report of a study: one self-contained file, no network needed.

    It shows the best value against budget spent and time, the bracket/rung funnel with
    promotions, the trust weight of each budget as results arrived (once two budgets are
    measured), the worker timeline, parallel coordinates of the configurations, learning
    curves from ``context.report``, and a sortable, filterable table of the jobs. Needs no
    optional package: the plotly.js it inlines ships with hyperband (``plotly_js``).

    Args:
        source: a journal written by ``run(journal=...)`` (finished or still running: it is
            read without its lock), or a [`RunResult`][hyperband.RunResult].
        path: the HTML file to write (replaced atomically).
        title: the page title (default: from the journal's path).

    Returns:
        The path written.

    Raises:
        JournalError: ``source`` is not a journal.

    Examples:
        >>> import hyperband, pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> space = {"x": {"_type": "uniform", "_value": [0, 1]}}
        >>> _ = hyperband.run(lambda c, b: c["x"] * b, space, max_budget=9, seed=0,
        ...                   journal=folder / "study.jsonl", progress=False)
        >>> hyperband.html_report(folder / "study.jsonl", folder / "report.html")
        PosixPath('.../report.html')
    """
    from hyperband.drivers.records import RunResult

    data = from_result(source) if isinstance(source, RunResult) else read_journal(source)
    out = Path(path)
    write_atomic(out, render(data, title=title))
    return out


def _read_live(journal: Path) -> StudyData | None:
    """The journal's study, or ``None`` while there is none yet (no file, no header)."""
    try:
        return read_study(journal)
    except FileNotFoundError:
        return None


def feed_name(target: Path) -> str:
    """The live feed's file name beside the page ``target``: its name, then ``.live.js``."""
    return f"{target.name}.live.js"


def write_feed(path: Path, content: Mapping[str, Any]) -> None:
    """The live feed: a script that hands ``content`` to the open page."""
    write_atomic(path, f"window.hyperbandLive({_script_json(content)});\n")


def live(
    journal: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    interval: float = 5.0,
    out: IO[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Keep the report up to date every ``interval`` seconds until the study is complete.

    The page is written once (with the study so far); then only a small feed file beside it
    (``feed_name``: ``PAGE.live.js``) is rewritten, which the open page loads every
    ``interval`` seconds to update its charts, numbers and table in place: no reload of the
    whole page (plotly alone is megabytes), and the table keeps its filter and sorting.
    Before the journal has its header, a small waiting page reloads itself. At the end the
    page is written once more, final (no live updates), and the feed tells open pages so.
    The journal is read without its lock, so the running study is never disturbed; a torn
    last line (a write in progress) is ignored. Ctrl-C stops it: the page and feed say so.

    Returns:
        0 when the study completed, 130 when interrupted.
    """
    journal, target = Path(journal), Path(path)
    feed = target.with_name(feed_name(target))
    out = out if out is not None else sys.stdout
    print(f"live: updating {target} every {interval:g} s; Ctrl-C to stop", file=out, flush=True)
    data: StudyData | None = None
    written = False  # the live page is on disk; from then on only the feed changes
    try:
        while True:
            data = _read_live(journal)
            if data is None:
                write_atomic(target, waiting_page(journal, interval))
            elif data.complete:
                _finish_live(data, target, feed if written else None, stopped=False)
                print(f"live: the study is complete; {target} is final", file=out)
                return 0
            elif not written:
                write_feed(feed, payload(data, refresh=interval)[0])
                write_atomic(target, render(data, refresh=interval, feed=feed.name))
                written = True
            else:
                write_feed(feed, payload(data, refresh=interval)[0])
            sleep(interval)
    except KeyboardInterrupt:
        with contextlib.suppress(KeyboardInterrupt):
            if data is not None:
                _finish_live(data, target, feed if written else None, stopped=True)
        print(f"live: stopped; {target} no longer updates", file=out)
        return 130


def _finish_live(data: StudyData, target: Path, feed: Path | None, *, stopped: bool) -> None:
    """The final page, and a last feed (if a live page was written) that tells an open page
    to stop polling."""
    if feed is not None:
        write_feed(feed, payload(data, stopped=stopped)[0])
    write_atomic(target, render(data, stopped=stopped))
