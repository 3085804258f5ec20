"""The report's charts as plotly figure specs: plain dicts (``data``, ``layout``) for plotly.js.

Nothing here imports plotly: the page hands these dicts to ``Plotly.newPlot`` in the browser,
and the tests validate them with ``plotly.graph_objects.Figure``.
"""

from __future__ import annotations

import math
from typing import Any

from hyperband.report.describe import Prediction
from hyperband.report.html.data import (
    PENDING,
    JobRow,
    StopMark,
    StudyData,
    best_curves,
    dimensions,
    flatten,
    funnel,
    learning_curves,
    merge_iterations,
    start_time,
    stop_marks,
    trust_series,
    worker_index,
)
from hyperband.report.html.importance import MIN_RESULTS, importance
from hyperband.report.trust import steps

__all__ = ["FIGURES", "STATUS_COLOURS", "figures", "status_colour"]

Figure = dict[str, Any]

# Tableau 10: distinct, colour-blind-friendlier than plotly's default, and readable on white.
PALETTE = [
    "#4c78a8",
    "#f58518",
    "#e45756",
    "#72b7b2",
    "#54a24b",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
]
STATUS_COLOURS = {
    "succeeded": "#4c78a8",
    "failed": "#e45756",
    "stopped": "#f58518",
    PENDING: "#bab0ac",
}
# Statuses this version does not know get these, in order of their names.
OTHER_COLOURS = ["#b279a2", "#9d755d", "#72b7b2", "#ff9da6", "#eeca3b"]
FUNNEL_COLOURS = {
    "promoted": "#54a24b",
    "final": "#4c78a8",
    "not promoted": "#9ecae9",
    "not started": "#e8e8e8",
}
FUNNEL_ORDER = ["promoted", "final", "not promoted", "stopped", "failed"]
# Viridis without its last, pale yellow sixth: every colour stays visible on white.
VIRIDIS = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39"]
# Value colours of the parallel coordinates: poor values pale, the best dark (drawn on top).
VALUE_SCALE = [[0.0, "#dbe4ef"], [0.5, "#6f9bd1"], [1.0, "#08306b"]]
DASHES = ["solid", "dash", "dot", "dashdot"]
# The funnel sums its iterations from this many on (or when it would draw more bars): a bar
# per iteration, bracket and rung stops being legible.
MERGE_ITERATIONS = 4
MAX_FUNNEL_BARS = 40
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}

# The charts, in page order: (key, title, what it shows).
FIGURES = [
    (
        "best",
        "Best value",
        "Every result (colour: its budget; ✕: a stopped job's last report) and the incumbent "
        "(the best value at the largest budget reached, as the machine defines best), "
        "against the budget spent and against time.",
    ),
    (
        "funnel",
        "Brackets and rungs",
        "Per bracket s, the configurations of each rung i (budget r): promoted to the next "
        "rung, not promoted, failed, stopped, still running or not started. From 4 "
        "iterations on, the iterations are summed (one bar per bracket and rung).",
    ),
    (
        "trust",
        "Trust per budget",
        "How far each budget is trusted after each result: its weight ∝ p³ (MFES-HB), p being "
        "the fraction of configuration pairs evaluated at both it and the top budget that the "
        "two rank in the same order (1: as the top budget, ½: at random), the sampler's own "
        "weights when it measures them (KDESampler), else measured from the results as "
        'brackets="adaptive" does.',
    ),
    (
        "timeline",
        "Workers",
        "One row per worker, one bar per job from its start to its end. The buttons change "
        "the colouring.",
    ),
    (
        "parcoords",
        "Configurations",
        "One line per finished job with a value, coloured by that value; at first only the "
        "largest budget's are highlighted (the budget axis' filter: click beside it to show "
        "every budget). Drag along an axis to filter; drag an axis title to reorder.",
    ),
    (
        "importance",
        "Hyperparameter importance",
        "How strongly each hyperparameter goes with the value at the largest budget with "
        f"{MIN_RESULTS} or more results: for a number |Spearman \u03c1| (the bar's label gives the "
        "sign: + when larger settings give larger values), for a category the correlation "
        "ratio η of the values' ranks. 0: no relation the ranks show. Rank measures miss "
        "interactions and effects that rise then fall: a first look, not fANOVA.",
    ),
    (
        "curves",
        "Learning curves",
        "The values each configuration reported (context.report(step, value)) across its "
        "rungs, grouped by the largest budget it reached; ✕: where the stopping rule stopped a "
        "job (hover for why). The curve rule's forecast that stopped a job is drawn at the "
        "job's budget: its median with the 80% interval, and ▬ the promotion cut it had to "
        "beat. Click a legend entry to hide a group.",
    ),
]


def status_colour(status: str, known: list[str] | None = None) -> str:
    """The colour of a status; unknown statuses get stable colours by name."""
    if status in STATUS_COLOURS:
        return STATUS_COLOURS[status]
    others = sorted({s for s in known or [status] if s not in STATUS_COLOURS})
    k = others.index(status) if status in others else 0
    return OTHER_COLOURS[k % len(OTHER_COLOURS)]


def config_text(config: dict[str, Any]) -> str:
    """A configuration for a hover label: ``name = value`` lines, numbers to 4 digits.

    Examples:
        >>> config_text({"lr": 0.000123456, "opt": {"_name": "sgd", "momentum": 0.9}})
        'lr = 0.0001235<br>opt = sgd<br>opt.momentum = 0.9'
    """
    lines = []
    for name, value in flatten(config).items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"{name} = {shown}")
    return "<br>".join(lines)


def _budget_colours(budgets: list[float]) -> dict[float, str]:
    ordered = sorted(set(budgets))
    if len(ordered) == 1:
        return {ordered[0]: VIRIDIS[2]}
    last = len(VIRIDIS) - 1
    return {b: VIRIDIS[round(k * last / (len(ordered) - 1))] for k, b in enumerate(ordered)}


def _better(data: StudyData) -> str:
    return "higher is better" if data.maximize else "lower is better"


def _layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": FONT,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hoverlabel": {"align": "left"},
        "legend": {"orientation": "h", "y": -0.22},
        # A live update (Plotly.react) keeps what the reader did: zoom, hidden traces, filters.
        "uirevision": "report",
    }
    layout.update(extra)
    return layout


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "gridcolor": "#eeeeee",
        "zerolinecolor": "#dddddd",
        "linecolor": "#999999",
        **extra,
    }


def figures(data: StudyData) -> dict[str, tuple[Figure | None, str]]:
    """Every chart: ``key -> (figure or None, note)``; the note says why a chart is empty."""
    return {
        "best": best_figure(data),
        "funnel": funnel_figure(data),
        "trust": trust_figure(data),
        "timeline": timeline_figure(data),
        "parcoords": parcoords_figure(data),
        "importance": importance_figure(data),
        "curves": curves_figure(data),
    }


# ---------------------------------------------------------------------- best value


def best_figure(data: StudyData) -> tuple[Figure | None, str]:
    """Results and the incumbent against budget spent (left) and time (right)."""
    finished = data.finished
    if not any(j.value is not None for j in finished):
        return None, "No job has a value yet."
    by_budget, by_time = best_curves(data)
    t0 = start_time(data)
    colours = _budget_colours([j.budget for j in finished if j.value is not None])
    timed = any(math.isfinite(j.end) for j in finished)
    traces: list[dict[str, Any]] = []
    for budget, colour in colours.items():
        pos = [k for k, j in enumerate(finished) if j.value is not None and j.budget == budget]
        jobs = [finished[k] for k in pos]
        common = {
            "type": "scatter",
            "mode": "markers",
            "name": f"budget {budget:g}",
            "legendgroup": f"budget {budget:g}",
            "y": [j.value for j in jobs],
            "marker": {
                "color": colour,
                "size": 7,
                "opacity": 0.75,
                "symbol": ["circle" if j.status == "succeeded" else "x" for j in jobs],
            },
            "customdata": [[j.id, j.config_id, j.status] for j in jobs],
            "text": [config_text(j.config) for j in jobs],
            "hovertemplate": "job %{customdata[0]} (configuration %{customdata[1]}, "
            "%{customdata[2]})<br>value %{y:.6g}<br>%{text}<extra>budget " + f"{budget:g}</extra>",
        }
        traces.append({**common, "x": [by_budget.x[k] for k in pos]})
        if timed:
            traces.append(
                {
                    **common,
                    "x": [j.end - t0 if math.isfinite(j.end) else None for j in jobs],
                    "xaxis": "x2",
                    "showlegend": False,
                }
            )
    line = {"color": "#222222", "width": 2, "shape": "hv"}
    name = "best at the largest budget reached"
    traces.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "legendgroup": "best",
            "x": by_budget.x,
            "y": by_budget.best,
            "line": line,
            "hovertemplate": "best %{y:.6g} after %{x:g} budget units<extra></extra>",
        }
    )
    layout = _layout(
        height=380,
        xaxis=_axis("budget spent (units)", domain=[0.0, 0.47] if timed else [0.0, 1.0]),
        yaxis=_axis(f"value ({_better(data)})"),
    )
    if timed:
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "legendgroup": "best",
                "showlegend": False,
                "x": by_time.x,
                "y": by_time.best,
                "xaxis": "x2",
                "line": line,
                "hovertemplate": "best %{y:.6g} at %{x:.3g} s<extra></extra>",
            }
        )
        layout["xaxis2"] = _axis(
            "seconds since the first job started", domain=[0.53, 1.0], anchor="y"
        )
    return {"data": traces, "layout": layout}, ""


# ---------------------------------------------------------------------- funnel


def funnel_figure(data: StudyData) -> tuple[Figure | None, str]:
    """Stacked bars per bracket and rung: outcomes of the configurations there."""
    cells = funnel(data)
    if not cells:
        return None, "No bracket has started yet."
    iterations = len({c.iteration for c in cells})
    merged = iterations >= MERGE_ITERATIONS or len(cells) > MAX_FUNNEL_BARS
    if merged:
        cells = merge_iterations(cells)
    brackets = [
        f"it {c.iteration}, s={c.bracket}" if iterations > 1 and not merged else f"s={c.bracket}"
        for c in cells
    ]
    # Short labels when bars are many: the rung's index is its place in its bracket.
    rungs = [f"r={c.budget:g}" if len(cells) > 20 else f"i={c.rung} r={c.budget:g}" for c in cells]
    keys = {k for c in cells for k in c.counts}
    known = [k for k in FUNNEL_ORDER if k in keys]
    others = sorted(keys - set(FUNNEL_ORDER) - {PENDING})
    order = [*known, *others]
    if PENDING in keys:
        order.append(PENDING)
    if any(c.not_started for c in cells):
        order.append("not started")
    statuses = sorted(keys - set(FUNNEL_COLOURS))
    traces: list[dict[str, Any]] = []
    for key in order:
        counts = [c.not_started if key == "not started" else c.counts.get(key, 0) for c in cells]
        colour = FUNNEL_COLOURS.get(key) or status_colour(key, statuses)
        traces.append(
            {
                "type": "bar",
                "name": key,
                "x": [brackets, rungs],
                # None, not 0: no empty bar to hover over.
                "y": [n or None for n in counts],
                "marker": {"color": colour, "line": {"color": "white", "width": 0.5}},
                "hovertemplate": "%{x}: %{y} " + key + "<extra></extra>",
            }
        )
    totals = [sum(c.counts.values()) + c.not_started for c in cells]
    labels = []
    for c, total in zip(cells, totals, strict=True):
        promoted = c.counts.get("promoted", 0)
        labels.append(f"{total}→{promoted}" if promoted else str(total))
    traces.append(
        {
            "type": "scatter",
            "mode": "text",
            "x": [brackets, rungs],
            "y": totals,
            "text": labels,
            "textposition": "top center",
            "textfont": {"size": 10, "color": "#444444"},
            "hoverinfo": "skip",
            "showlegend": False,
        }
    )
    layout = _layout(
        height=380,
        barmode="stack",
        bargap=0.15,
        xaxis=_axis("", tickangle=0),
        yaxis=_axis("configurations", rangemode="tozero"),
    )
    layout["legend"] = {"orientation": "h", "y": -0.3}
    if merged:
        layout["title"] = {
            "text": f"all {iterations} iterations summed",
            "font": {"size": 12},
            "x": 0.0,
            "xanchor": "left",
        }
    return {"data": traces, "layout": layout}, ""


# ---------------------------------------------------------------------- trust


def trust_figure(data: StudyData) -> tuple[Figure | None, str]:
    """The trust weight of each budget against budget spent, a line per budget.

    ``None`` (the page leaves the chart out) until two budgets were measured against each
    other.
    """
    series = trust_series(data)
    if series is None or not series.shown:
        return None, "Fewer than two budgets measured against the top budget."
    keep = steps(series)
    colours = _budget_colours(series.measured)
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"{b:g}",
            "x": [series.spent[k] for k in keep],
            "y": [series.weights[b][k] for k in keep],
            "customdata": [[series.results[k], series.p[b][k]] for k in keep],
            "connectgaps": False,
            # Dashes tell apart budgets of equal weight, whose lines lie on each other.
            "line": {"color": colours[b], "width": 2, "shape": "hv", "dash": DASHES[k % 4]},
            "hovertemplate": "weight %{y:.3f}, p %{customdata[1]:.3f}<br>after %{x:g} budget "
            "units (%{customdata[0]} results)<extra>budget " + f"{b:g}</extra>",
        }
        for k, b in enumerate(series.measured)
    ]
    by = "the sampler's" if series.source == "sampler" else "measured from the results"
    layout = _layout(
        height=340,
        xaxis=_axis("budget spent (units)"),
        yaxis=_axis(f"trust weight ({by})", range=[-0.02, 1.02]),
    )
    layout["legend"] = {"orientation": "v", "x": 1.01, "y": 1, "title": {"text": "budget"}}
    return {"data": traces, "layout": layout}, ""


# ---------------------------------------------------------------------- timeline


def _bars(
    jobs: list[JobRow], workers: dict[str, int], t0: float, name: str, colour: str
) -> dict[str, Any]:
    return {
        "type": "bar",
        "orientation": "h",
        "name": name,
        "y": [f"w{workers[j.worker]}" for j in jobs],
        "x": [max(j.end - j.start, 0.0) for j in jobs],
        "base": [j.start - t0 for j in jobs],
        "marker": {"color": colour, "line": {"color": "white", "width": 0.3}},
        # Numbers in customdata and the words once in the template: a third of the bytes of
        # a text per bar.
        "customdata": [
            [j.id, j.config_id, j.bracket, j.rung, j.budget, j.status, j.end - j.start]
            for j in jobs
        ],
        "hovertemplate": "job %{customdata[0]} (configuration %{customdata[1]}), bracket "
        "s=%{customdata[2]}, rung %{customdata[3]}, budget %{customdata[4]}<br>"
        "%{customdata[5]}, %{customdata[6]:.3g} s<extra></extra>",
    }


# A colouring of the timeline: its button's label, and (trace name, jobs, colour) per trace.
_Grouping = tuple[str, list[tuple[str, list[JobRow], str]]]


def _timeline_groupings(jobs: list[JobRow]) -> list[_Grouping]:
    """The timeline's colourings, by bracket, rung and status, the first shown at first."""
    brackets = sorted({j.bracket for j in jobs}, reverse=True)
    rungs = sorted({j.rung for j in jobs})
    statuses = sorted({j.status for j in jobs})
    return [
        (
            "bracket",
            [
                (f"bracket s={s}", [j for j in jobs if j.bracket == s], PALETTE[k % len(PALETTE)])
                for k, s in enumerate(brackets)
            ],
        ),
        (
            "rung",
            [
                (f"rung i={i}", [j for j in jobs if j.rung == i], VIRIDIS[min(k, len(VIRIDIS) - 1)])
                for k, i in enumerate(rungs)
            ],
        ),
        (
            "status",
            [(s, [j for j in jobs if j.status == s], status_colour(s, statuses)) for s in statuses],
        ),
    ]


def _timeline_traces(
    groupings: list[_Grouping], workers: dict[str, int], t0: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every grouping's bars (the first grouping's visible) and a button to show each."""
    traces = []
    owner = []
    for g, (_, groups) in enumerate(groupings):
        for name, mine, colour in groups:
            trace = _bars(mine, workers, t0, name, colour)
            trace["visible"] = g == 0
            traces.append(trace)
            owner.append(g)
    buttons = [
        {
            "label": f"colour by {label}",
            "method": "restyle",
            "args": [{"visible": [o == g for o in owner]}],
        }
        for g, (label, _) in enumerate(groupings)
    ]
    return traces, buttons


def timeline_figure(data: StudyData) -> tuple[Figure | None, str]:
    """Jobs as bars on their worker's row; buttons colour them by bracket, rung or status."""
    jobs = [j for j in data.finished if j.timed]
    if not jobs:
        return None, "No finished job with a start and end time yet."
    workers = worker_index(data)
    t0 = min(j.start for j in jobs)
    traces, buttons = _timeline_traces(_timeline_groupings(jobs), workers, t0)
    rows = len(workers)
    layout = _layout(
        height=min(140 + 26 * rows, 900),
        barmode="overlay",
        bargap=0.25,
        xaxis=_axis("seconds since the first job started", rangemode="tozero"),
        yaxis=_axis(
            "worker",
            type="category",
            categoryorder="array",
            categoryarray=[f"w{k}" for k in range(rows)],
            autorange="reversed",
        ),
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "buttons": buttons,
                "x": 0.0,
                "y": 1.02,
                "xanchor": "left",
                "yanchor": "bottom",
                "pad": {"t": 0, "b": 0},
                "showactive": True,
            }
        ],
    )
    layout["margin"] = {"l": 60, "r": 20, "t": 50, "b": 50}
    layout["legend"] = {"orientation": "v", "x": 1.01, "y": 1}
    return {"data": traces, "layout": layout}, ""


# ---------------------------------------------------------------------- parallel coordinates


def parcoords_figure(data: StudyData) -> tuple[Figure | None, str]:
    """Parallel coordinates of the finished jobs, coloured by value (best: darkest)."""
    lines, dims = dimensions(data)
    if not lines:
        return None, "No job has a value yet."
    specs = []
    for d in dims:
        spec: dict[str, Any] = {
            "label": d.label,
            "values": d.values,
            "range": list(d.range),
            "tickvals": [t for t, _ in d.ticks],
            "ticktext": [text for _, text in d.ticks],
        }
        specs.append(spec)
    budgets = specs[0]["values"]  # dimensions() puts the budget first
    if len(set(budgets)) > 1:
        # Start at the largest budget: values of smaller budgets are not comparable with it
        # (and rung 0's many would set the colours). A click on the axis clears it.
        top = max(budgets)
        pad = 0.02 * (specs[0]["range"][1] - specs[0]["range"][0])
        specs[0]["constraintrange"] = [top - pad, top + pad]
    values = [j.value for j in lines]
    # The colours span the largest budget's values, those highlighted at first (other
    # budgets' values, not comparable, take the scale's ends).
    shown = [v for v, b in zip(values, budgets, strict=True) if b == max(budgets)]
    trace = {
        "type": "parcoords",
        "dimensions": specs,
        "line": {
            "color": values,
            "colorscale": VALUE_SCALE,
            # Dark is best in either direction.
            "reversescale": not data.maximize,
            "showscale": True,
            "cmin": min(v for v in shown if v is not None),
            "cmax": max(v for v in shown if v is not None),
            "colorbar": {
                "title": {"text": f"value at the largest budget<br>({_better(data)})"},
                "thickness": 14,
            },
        },
        "labelangle": -20 if len(dims) > 7 else 0,
        "labelside": "top",
        "labelfont": {"size": 12},
        "tickfont": {"size": 10},
    }
    layout = _layout(height=460)
    layout["margin"] = {"l": 70, "r": 40, "t": 80, "b": 30}
    return {"data": [trace], "layout": layout}, ""


# ---------------------------------------------------------------------- importance


def importance_figure(data: StudyData) -> tuple[Figure | None, str]:
    """A horizontal bar per hyperparameter: its rank relation with the value, largest on top.

    ``None`` (the page leaves the chart out) until a budget has ``MIN_RESULTS`` results.
    """
    found = importance(data)
    if not found:
        return None, f"No budget has {MIN_RESULTS} successful results yet."
    shown = list(reversed(found))  # plotly draws the first bar at the bottom
    labels = [f"η = {m.score:.2f}" if m.rho is None else f"\u03c1 = {m.rho:+.2f}" for m in shown]
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": [m.name for m in shown],
        "x": [m.score for m in shown],
        "text": labels,
        "textposition": "outside",
        "cliponaxis": False,
        "customdata": [[m.n] for m in shown],
        "marker": {"color": [PALETTE[0] if m.rho is None else PALETTE[1] for m in shown]},
        "hovertemplate": "%{y}: %{text}<br>%{customdata[0]} results<extra></extra>",
    }
    layout = _layout(
        height=min(120 + 28 * len(shown), 700),
        xaxis=_axis(f"rank relation with the value at budget {found[0].budget:g}", range=[0, 1.15]),
        yaxis=_axis("", automargin=True),
        showlegend=False,
    )
    layout["margin"] = {"l": 20, "r": 20, "t": 20, "b": 50}
    return {"data": [trace], "layout": layout}, ""


# ---------------------------------------------------------------------- learning curves


def curves_figure(data: StudyData) -> tuple[Figure | None, str]:
    """Reported values per configuration, one trace per largest budget reached."""
    groups = learning_curves(data)
    if not groups:
        return None, (
            "No intermediate reports: call context.report(step, value) in the objective to "
            "see learning curves here."
        )
    colours = _budget_colours([g.budget for g in groups])
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": f"reached budget {g.budget:g} ({g.configs} configuration"
            + ("s" if g.configs != 1 else "")
            + ")",
            "x": g.x,
            "y": g.y,
            "customdata": g.ids,
            "connectgaps": False,
            "line": {"color": colours[g.budget], "width": 1.2},
            "marker": {"color": colours[g.budget], "size": 3},
            "opacity": 0.8,
            "hovertemplate": "configuration %{customdata[0]}, job %{customdata[1]} (rung "
            "%{customdata[2]})<br>step %{x:g}: %{y:.6g}<extra></extra>",
        }
        for g in groups
    ]
    traces += _stop_traces(data)
    layout = _layout(
        height=400,
        xaxis=_axis("step"),
        yaxis=_axis(f"reported value ({_better(data)})"),
    )
    return {"data": traces, "layout": layout}, ""


STOP_COLOUR = STATUS_COLOURS["stopped"]
_STOP_HOVER = "configuration %{customdata[0]}, job %{customdata[1]} (rung %{customdata[2]})<br>"


def _stop_traces(data: StudyData) -> list[dict[str, Any]]:
    """Where jobs were stopped (✕), and the curve rule's forecasts that stopped them: the
    median with its 80% interval at the job's budget, a dotted line from the stopping report,
    and the promotion cut (▬). One legend group: a click hides them all."""
    marks = [m for m in stop_marks(data) if m.step is not None and m.value is not None]
    if not marks:
        return []
    stopped = {
        "type": "scatter",
        "legendgroup": "stops",
        "mode": "markers",
        "name": f"stopped ({len(marks)})",
        "x": [m.step for m in marks],
        "y": [m.value for m in marks],
        "customdata": [[m.job.config_id, m.job.id, m.job.rung] for m in marks],
        "text": [m.note.replace("; ", "<br>") for m in marks],
        "marker": {"symbol": "x-thin-open", "size": 9, "color": STOP_COLOUR, "line": {"width": 2}},
        "hovertemplate": _STOP_HOVER + "%{text}<extra></extra>",
    }
    return [stopped, *_forecast_traces([(m, m.forecast) for m in marks if m.forecast])]


def _forecast_traces(cast: list[tuple[StopMark, Prediction]]) -> list[dict[str, Any]]:
    """The forecasts of `_stop_traces`: a dotted line from each stopping report to its
    forecast, the forecast's median with its 80% interval, and the promotion cut."""
    if not cast:
        return []
    ids = [[m.job.config_id, m.job.id, m.job.rung] for m, _ in cast]
    common = {"type": "scatter", "legendgroup": "stops", "customdata": ids}
    line = {
        "type": "scatter",
        "legendgroup": "stops",
        "mode": "lines",
        "name": "forecast",
        "showlegend": False,
        "hoverinfo": "skip",
        "x": [x for m, f in cast for x in (m.step, f.budget, None)],
        "y": [y for m, f in cast for y in (m.value, f.median, None)],
        "line": {"color": STOP_COLOUR, "width": 1, "dash": "dot"},
        "connectgaps": False,
    }
    forecast = {
        **common,
        "mode": "markers",
        "name": "forecast that stopped it (median, 80%)",
        "x": [f.budget for _, f in cast],
        "y": [f.median for _, f in cast],
        "error_y": {
            "type": "data",
            "symmetric": False,
            "array": [f.high - f.median for _, f in cast],
            "arrayminus": [f.median - f.low for _, f in cast],
            "color": STOP_COLOUR,
            "thickness": 1.5,
            "width": 4,
        },
        "text": [m.note.replace("; ", "<br>") for m, _ in cast],
        "marker": {"symbol": "diamond-open", "size": 8, "color": STOP_COLOUR},
        "hovertemplate": _STOP_HOVER + "%{text}<extra>forecast</extra>",
    }
    cut = {
        **common,
        "mode": "markers",
        "name": "promotion cut",
        "x": [f.budget for _, f in cast],
        "y": [f.edge for _, f in cast],
        "marker": {"symbol": "line-ew-open", "size": 14, "color": "#555555", "line": {"width": 2}},
        "hovertemplate": _STOP_HOVER + "promotion cut %{y:.4g}<extra></extra>",
    }
    return [line, forecast, cut]
