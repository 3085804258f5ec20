"""What the HTML report shows, extracted from a journal (or a RunResult) without plotly.

A journal is replayed into a machine (``RunResult`` as ``RunResult.from_journal`` builds it),
so the page shows what the text report and the replay show: a job stopped just before the
run was killed is stopped, not pending, and the budget spent is ``RunResult.spent``. A study
still running reports too (a torn last line is ignored; its pending jobs are the machine's).
Only a journal that cannot be replayed (a custom sampler, which the journal cannot rebuild,
or one edited or written by another version) is read from its raw ``ask`` and ``result``
events instead (``from_events``), so that it still reports.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from hyperband.core.errors import HyperbandError
from hyperband.core.schedule import Schedule, schedule
from hyperband.drivers.job_record import cost
from hyperband.report.accounting import number_workers
from hyperband.report.describe import Prediction, prediction, stop_text
from hyperband.report.plots import best_so_far
from hyperband.report.trust import SamplerTrace, TrustPoint, TrustSeries, measure, series

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult

__all__ = [
    "MISSING",
    "PENDING",
    "Curve",
    "CurveGroup",
    "Dimension",
    "FunnelCell",
    "Hint",
    "JobRow",
    "StopMark",
    "StudyData",
    "best_curves",
    "dimension",
    "dimensions",
    "flatten",
    "from_events",
    "from_result",
    "funnel",
    "header",
    "learning_curves",
    "merge_iterations",
    "read_journal",
    "read_study",
    "space_hints",
    "start_time",
    "stop_marks",
    "stop_note",
    "study_complete",
    "trust_series",
    "worker_index",
]

PENDING = "pending"  # asked, no result yet (running now, or running when the study stopped)


@attrs.frozen(slots=False)
class JobRow:
    """One job as the report shows it: the ask and, once it finished, its result."""

    id: int
    config_id: int
    config: dict[str, Any]
    budget: float
    bracket: int
    rung: int
    iteration: int
    resume_from: int | None = None
    asked: float = math.nan
    status: str = PENDING
    value: float | None = None
    error: str | None = None
    start: float = math.nan
    end: float = math.nan
    worker: str = ""
    reports: tuple[tuple[float, float], ...] = ()
    attempts: int = 1
    extra: dict[str, Any] = attrs.field(factory=dict)

    @property
    def finished(self) -> bool:
        """The job has a result (any status)."""
        return self.status != PENDING

    @property
    def cost(self) -> float:
        """Budget units the job used (`hyperband.JobRecord.cost`: a stopped job's up to its
        stop); 0 while pending."""
        return cost(self.status, self.budget, self.extra) if self.finished else 0.0

    @property
    def timed(self) -> bool:
        """Its start and end are known."""
        return math.isfinite(self.start) and math.isfinite(self.end)


@attrs.frozen(slots=False)
class StudyData:
    """A study as the report sees it.

    Attributes:
        source: where it was read from (the journal path, or ``"RunResult"``).
        params: the machine's parameters (``max_budget``, ``eta``, ``mode``, ...).
        space: the search space stored in the journal (``None``: a custom sampler).
        sampler: the sampler's class name.
        jobs: every job asked, in ask order (finished or pending).
        order: the ids of the finished jobs in the order their results were recorded.
        complete: the study is finished (``None``: unknown, e.g. a custom sampler).
        torn: bytes of a torn last line that were ignored (a write in progress).
        trust: the sampler's trust weights after each result, read while the journal was
            replayed (``None``: the sampler does not measure them, or nothing was replayed;
            see `hyperband.report.html.trust`).
        header: what the journal's study header says about the study besides ``params``
            and ``space``: ``study_name``, ``objective``, ``sampler_spec`` (its name and
            options), when recorded (see `header`).
    """

    source: str
    params: dict[str, Any]
    space: Any
    sampler: str
    jobs: tuple[JobRow, ...]
    order: tuple[int, ...]
    complete: bool | None = None
    torn: int = 0
    trust: tuple[TrustPoint, ...] | None = None
    header: dict[str, Any] = attrs.field(factory=dict)

    @property
    def maximize(self) -> bool:
        """Larger values are better (the study's mode)."""
        return bool(self.params.get("mode", "maximize") != "minimize")

    @functools.cached_property
    def finished(self) -> list[JobRow]:
        """The finished jobs, in the order their results were recorded (computed once)."""
        by_id = {j.id: j for j in self.jobs}
        return [by_id[i] for i in self.order]

    @property
    def scheduled(self) -> int | None:
        """Jobs the study's schedule plans (``None``: unknown or unlimited iterations)."""
        sched = self.schedule()
        iterations = self.params.get("iterations", 1)
        if sched is None or not isinstance(iterations, int):
            return None
        return int(sched.total_jobs) * iterations

    def schedule(self) -> Schedule | None:
        """The study's ``Schedule``, or ``None`` if its parameters are odd."""
        p = self.params
        try:
            return schedule(
                p["max_budget"],
                p.get("eta", 3),
                min_budget=p.get("min_budget", 1),
                sizing=p.get("sizing", "li2018"),
                integer_budgets=bool(p.get("integer_budgets", False)),
            )
        except (HyperbandError, KeyError, TypeError, ValueError):
            return None


def _float(x: Any, default: float = math.nan) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        return default
    return value


def _row(job: Mapping[str, Any], asked: float) -> JobRow:
    return JobRow(
        id=int(job["id"]),
        config_id=int(job.get("config_id", job["id"])),
        config=dict(job.get("config") or {}),
        budget=_float(job.get("budget"), 0.0),
        bracket=int(job.get("bracket", 0)),
        rung=int(job.get("rung", 0)),
        iteration=int(job.get("iteration", 0)),
        resume_from=job.get("resume_from"),
        asked=asked,
    )


def _finish(row: JobRow, event: Mapping[str, Any]) -> JobRow:
    value = event.get("value")
    number = None if value is None else _float(value)
    reports = []
    for pair in event.get("reports") or ():
        try:
            step, val = _float(pair[0]), _float(pair[1])
        except (TypeError, IndexError, KeyError):
            continue
        if math.isfinite(step) and math.isfinite(val):
            reports.append((step, val))
    return attrs.evolve(
        row,
        status=str(event.get("status") or "unknown"),
        value=number if number is not None and math.isfinite(number) else None,
        error=event.get("error"),
        start=_float(event.get("start")),
        end=_float(event.get("end")),
        worker=str(event.get("worker") or ""),
        reports=tuple(reports),
        attempts=int(event.get("attempts") or 1),
        extra=dict(event.get("extra") or {}),
    )


def from_events(events: Sequence[Mapping[str, Any]], source: str, torn: int = 0) -> StudyData:
    """Build the report's data from journal events (the first must be the study header).

    Unknown event kinds are skipped, so journals of newer versions still report.
    """
    study = events[0] if events else {}
    rows: dict[int, JobRow] = {}
    order: list[int] = []
    for event in events[1:]:
        kind = event.get("event")
        if kind == "ask" and isinstance(event.get("job"), dict):
            row = _row(event["job"], _float(event.get("time")))
            rows[row.id] = row
        elif kind == "result" and event.get("job_id") in rows:
            job_id = int(event["job_id"])
            if rows[job_id].finished:
                order.remove(job_id)  # a second result for a job: the last one counts
            rows[job_id] = _finish(rows[job_id], event)
            order.append(job_id)
    return StudyData(
        source=source,
        params=dict(study.get("params") or {}),
        space=_space(study),
        sampler=str(study.get("sampler") or ""),
        jobs=tuple(rows.values()),
        order=tuple(order),
        torn=torn,
        header=header(study),
    )


def header(study: Mapping[str, Any]) -> dict[str, Any]:
    """The study header's descriptive entries: its name, objective and sampler spec.

    Examples:
        >>> header({"event": "study", "objective": "m:f", "study_name": None, "time": 1.0})
        {'objective': 'm:f'}
    """
    keys = ("study_name", "objective", "sampler_spec")
    return {k: study[k] for k in keys if study.get(k) not in (None, "", {})}


def read_journal(path: str | os.PathLike[str]) -> StudyData:
    """Read a journal for the report, without its lock: a running study may be writing it.

    Raises:
        JournalError: the file is not a journal (see ``hyperband.drivers.journal.read``).
    """
    from hyperband.drivers.journal import JournalError

    data = read_study(path)
    if data is None:
        raise JournalError(
            f"journal {str(path)!r} must start with a study header, got an empty file; "
            "is it a hyperband journal?"
        )
    return data


def read_study(path: str | os.PathLike[str]) -> StudyData | None:
    """``read_journal``, or ``None`` for a journal without its study header yet (empty).

    Raises:
        JournalError: the file is not a journal (see ``hyperband.drivers.journal.read``).
        FileNotFoundError: there is no such file.
    """
    from hyperband.drivers.journal import load_events, read
    from hyperband.drivers.records import RunResult

    p = Path(path)
    events, good, size = read(p)  # it refuses a file whose first line is not a header
    if not events:
        return None
    trace = SamplerTrace()
    try:
        result = RunResult._of(*load_events(p, events, size, on_result=trace))
    except (HyperbandError, OSError):  # JournalError is one
        return _unreplayed(events, str(p), size - good)
    study = events[0]
    return from_result(
        result,
        str(p),
        space=_space(study),
        sampler=str(study.get("sampler") or ""),
        complete=result.done,
        torn=size - good,
        trust=None if trace.points is None else tuple(trace.points),
        header=header(study),
    )


def _space(study: Mapping[str, Any]) -> Any:
    # A named model-based sampler's space is in its spec (the header's "space" is only a
    # random sampler's).
    return study.get("space") or (study.get("sampler_spec") or {}).get("space")


def _unreplayed(events: Sequence[Mapping[str, Any]], source: str, torn: int) -> StudyData:
    """A journal that does not replay (a custom sampler), from its raw events."""
    data = from_events(events, source, torn)
    # Complete when every scheduled job has a result. A study whose failures left later rungs
    # short never looks complete this way.
    scheduled = data.scheduled
    if (
        scheduled is not None
        and len(data.order) >= scheduled
        and all(j.finished for j in data.jobs)
    ):
        return attrs.evolve(data, complete=True)
    return data


def study_complete(
    path: Path, events: list[dict[str, Any]] | None = None, size: int = 0
) -> bool | None:
    """Whether the journal's study is finished: replayed into a machine, is it ``done``?

    ``events`` and ``size``: what ``hyperband.drivers.journal.read(path)`` returned, when the caller
    has read it already (else the file is read here).

    ``None`` when that cannot be told: a custom sampler (the journal holds no space), or a
    journal this version cannot replay.
    """
    from hyperband.drivers.journal import load, load_events

    try:
        hb, _ = load(path) if events is None else load_events(path, events, size)
    except (HyperbandError, OSError):  # JournalError is one
        return None
    return hb.done


def from_result(
    result: RunResult,
    source: str = "RunResult",
    *,
    space: Any = None,
    sampler: str = "",
    complete: bool | None = None,
    torn: int = 0,
    trust: tuple[TrustPoint, ...] | None = None,
    header: dict[str, Any] | None = None,
) -> StudyData:
    """The report's data from a ``RunResult``: its records, in the order they finished, and
    its pending jobs (asked, no result).

    ``source``, ``space``, ``sampler``, ``complete`` and ``torn`` describe where it came from
    (a journal: see ``read_study``); ``trust``: the sampler's trust after each result, when
    the replay recorded it; ``header``: the journal header's name, objective and sampler
    spec (see `header`).
    """
    rows = [_finish(_row(r.job.to_dict(), math.nan), r.event()) for r in result.history]
    order = [row.id for row in rows]
    rows += [_row(job.to_dict(), math.nan) for job in result.pending]
    return StudyData(
        source=source,
        params=dict(result.params),
        space=space,
        sampler=sampler,
        jobs=tuple(sorted(rows, key=lambda j: j.id)),
        order=tuple(order),
        complete=complete,
        torn=torn,
        trust=trust,
        header=dict(header or {}),
    )


# ---------------------------------------------------------------------- best value


class Curve(NamedTuple):
    """The incumbent after each finished job: x (budget spent or seconds), best value."""

    x: list[float]
    best: list[float | None]


def best_curves(data: StudyData) -> tuple[Curve, Curve]:
    """The incumbent against budget spent, and against time since the study's first job.

    The incumbent follows the machine's rule (see ``hyperband.report.plots.best_so_far``):
    the best successful value at the largest budget reached, in the study's direction. Every
    finished job (failed and stopped ones too) adds its cost to the budget spent (`JobRow.cost`:
    a stopped job's up to its stop, as the text report and the progress display count).
    """
    by_budget = _incumbent(data.finished, data.maximize, lambda j, spent: spent)
    t0 = start_time(data)
    by_time = sorted((j for j in data.finished if math.isfinite(j.end)), key=lambda j: j.end)
    by_clock = _incumbent(by_time, data.maximize, lambda j, spent: j.end - t0)
    return by_budget, by_clock


def _incumbent(jobs: Iterable[JobRow], maximize: bool, x_of: Any) -> Curve:
    xs: list[float] = []
    succeeded: list[int] = []  # positions of the successful jobs in xs
    results: list[tuple[float, float, float, int]] = []
    spent = 0.0
    for job in jobs:
        spent += job.cost
        if job.status == "succeeded" and job.value is not None:
            succeeded.append(len(xs))
            results.append((job.budget, job.value, job.budget, job.config_id))
        xs.append(x_of(job, spent))
    best: list[float | None] = [None] * len(xs)
    points = best_so_far(results, maximize=maximize)
    for k, (at, point) in enumerate(zip(succeeded, points, strict=True)):
        end = succeeded[k + 1] if k + 1 < len(succeeded) else len(xs)
        best[at:end] = [point.value] * (end - at)
    return Curve(xs, best)


def start_time(data: StudyData) -> float:
    """The study's first known instant (an ask or a start), or 0 when none is known."""
    times = [t for j in data.jobs for t in (j.asked, j.start) if math.isfinite(t)]
    return min(times, default=0.0)


# ---------------------------------------------------------------------- trust


def trust_series(data: StudyData) -> TrustSeries | None:
    """The trust per budget after each result (``None``: nothing to measure it on).

    The sampler's weights when the replay recorded them (``StudyData.trust``), else those
    measured from the results (`hyperband.report.trust.measure`).
    """
    if data.trust is not None:
        source, points = "sampler", list(data.trust)
    else:
        sched = data.schedule()
        if sched is None:
            return None
        results = ((j.config_id, j.budget, j.status, j.value) for j in data.finished)
        source, points = "results", measure(results, sched, maximize=data.maximize)
    return series(source, points, (j.cost for j in data.finished)) if points else None


# ---------------------------------------------------------------------- funnel


@attrs.frozen
class FunnelCell:
    """One rung of one bracket: what happened to the configurations it holds.

    Attributes:
        iteration: the Hyperband iteration.
        bracket: the bracket ``s``.
        rung: the rung ``i``.
        budget: the rung's budget.
        scheduled: configurations the schedule plans for the rung (``None``: unknown).
        counts: configurations per outcome: ``"promoted"``, ``"final"`` (succeeded on the
            bracket's last rung), ``"not promoted"``, ``"pending"``, and one per other status
            (``"failed"``, ``"stopped"``, ...).
    """

    iteration: int
    bracket: int
    rung: int
    budget: float
    scheduled: int | None
    counts: dict[str, int]

    @property
    def not_started(self) -> int:
        """Scheduled configurations not handed out yet."""
        if self.scheduled is None:
            return 0
        return max(0, self.scheduled - sum(self.counts.values()))


def funnel(data: StudyData) -> list[FunnelCell]:
    """Per iteration, bracket (largest ``s`` first) and rung: counts of outcomes.

    A configuration is "promoted" when it has a job on the next rung of its bracket.
    """
    sched = data.schedule()
    planned: dict[tuple[int, int], tuple[int, float]] = {}
    if sched is not None:
        for bracket in sched.brackets:
            for i, rung in enumerate(bracket.rungs):
                planned[(bracket.s, i)] = (rung.n_configs, float(rung.budget))
    groups: dict[tuple[int, int], list[JobRow]] = {}
    for job in data.jobs:
        groups.setdefault((job.iteration, job.bracket), []).append(job)
    iterations = sorted({it for it, _ in groups})
    cells = []
    for it in iterations:
        brackets = sorted(
            {s for (i, s) in groups if i == it} | {s for (s, _) in planned}, reverse=True
        )
        for s in brackets:
            jobs = groups.get((it, s), [])
            top = max([i for (b, i) in planned if b == s] + [j.rung for j in jobs])
            on_rung: dict[int, set[int]] = {}
            for j in jobs:
                on_rung.setdefault(j.rung, set()).add(j.config_id)
            for i in range(top + 1):
                counts: dict[str, int] = {}
                for j in jobs:
                    if j.rung != i:
                        continue
                    if j.status == "succeeded":
                        if j.config_id in on_rung.get(i + 1, ()):
                            key = "promoted"
                        elif i == top:
                            key = "final"
                        else:
                            key = "not promoted"
                    else:
                        key = j.status
                    counts[key] = counts.get(key, 0) + 1
                n, budget = planned.get((s, i), (None, math.nan))
                if not math.isfinite(budget):
                    budget = next((j.budget for j in jobs if j.rung == i), math.nan)
                cells.append(FunnelCell(it, s, i, budget, n, counts))
    return cells


def merge_iterations(cells: Sequence[FunnelCell]) -> list[FunnelCell]:
    """The funnel summed over iterations: one cell per bracket and rung (iteration -1).

    Brackets keep their order (largest ``s`` first); a count is the sum of the iterations'.
    """
    merged: dict[tuple[int, int], FunnelCell] = {}
    for c in cells:
        key = (c.bracket, c.rung)
        if key not in merged:
            merged[key] = FunnelCell(-1, c.bracket, c.rung, c.budget, c.scheduled, dict(c.counts))
            continue
        m = merged[key]
        counts = dict(m.counts)
        for k, n in c.counts.items():
            counts[k] = counts.get(k, 0) + n
        scheduled = (
            None if m.scheduled is None or c.scheduled is None else m.scheduled + c.scheduled
        )
        budget = m.budget if math.isfinite(m.budget) else c.budget
        merged[key] = FunnelCell(-1, c.bracket, c.rung, budget, scheduled, counts)
    return sorted(merged.values(), key=lambda c: (-c.bracket, c.rung))


# ---------------------------------------------------------------------- timeline


def worker_index(data: StudyData) -> dict[str, int]:
    """Workers numbered in the order they first started a job."""
    return number_workers((j.worker, j.start) for j in data.jobs if j.timed)


# ---------------------------------------------------------------------- parallel coordinates


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A configuration as flat ``name: value`` pairs; nested choices become dotted names.

    A nested choice (a dict with ``"_name"``, NNI's format) is its ``_name`` under its own key,
    and its parameters under ``key.parameter``.

    Examples:
        >>> flatten({"lr": 0.1, "opt": {"_name": "sgd", "momentum": 0.9}})
        {'lr': 0.1, 'opt': 'sgd', 'opt.momentum': 0.9}
    """
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if "_name" in value:
                out[name] = value["_name"]
            out.update(flatten({k: v for k, v in value.items() if k != "_name"}, name + "."))
        else:
            out[name] = value
    return out


class Hint(NamedTuple):
    """What the search space says about a parameter: categories, or a log scale."""

    categories: list[Any] | None = None
    log: bool = False


def space_hints(space: Any, prefix: str = "") -> dict[str, Hint]:
    """Hints per flattened parameter name, from an NNI space or ConfigSpace's JSON.

    Anything else (a custom sampler, a format this version does not know) gives no hints:
    the axes are then inferred from the values.
    """
    hints: dict[str, Hint] = {}
    if not isinstance(space, Mapping):
        return hints
    if isinstance(space.get("hyperparameters"), list):  # ConfigSpace's JSON format
        for hp in space["hyperparameters"]:
            if not isinstance(hp, Mapping) or "name" not in hp:
                continue
            cats = hp.get("choices", hp.get("sequence"))
            hints[str(hp["name"])] = Hint(
                list(cats) if isinstance(cats, list) else None, bool(hp.get("log"))
            )
        return hints
    for key, spec in space.items():
        if not isinstance(spec, Mapping):
            continue
        name = f"{prefix}{key}"
        kind, values = spec.get("_type"), spec.get("_value")
        if kind == "choice" and isinstance(values, list):
            categories = []
            for option in values:
                if isinstance(option, Mapping) and "_name" in option:
                    categories.append(option["_name"])
                    rest = {k: v for k, v in option.items() if k != "_name"}
                    hints.update(space_hints(rest, name + "."))
                else:
                    categories.append(option)
            hints[name] = Hint(categories)
        elif isinstance(kind, str):
            hints[name] = Hint(
                None, kind in ("loguniform", "qloguniform", "lognormal", "qlognormal")
            )
    return hints


@attrs.frozen
class Dimension:
    """One axis of the parallel-coordinates view.

    Attributes:
        label: the parameter's (flattened) name.
        values: one position per line (a category's index, a number, or its log10).
        ticks: ``(position, text)`` pairs to label the axis.
        range: the axis range.
        kind: ``"category"``, ``"log"`` or ``"linear"``.
    """

    label: str
    values: list[float]
    ticks: list[tuple[float, str]]
    range: tuple[float, float]
    kind: str


MISSING = "—"  # the label of a parameter a configuration does not have (another choice)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _label(x: Any) -> str:
    return x if isinstance(x, str) else json.dumps(x, sort_keys=True)


def dimension(label: str, raw: Sequence[Any], hint: Hint | None = None) -> Dimension:
    """An axis for ``raw`` (``None`` where a line lacks the parameter).

    Numbers make a linear axis, or a log10 one when the space says so (plotly's parallel
    coordinates have no log axis: positions are log10 values, ticks show the real values);
    anything else, or a ``choice`` of the space, makes a categorical axis in the space's order.
    """
    present = [x for x in raw if x is not None]
    hint = hint or Hint()
    missing = len(present) < len(raw)
    if hint.categories is not None or not all(_is_number(x) for x in present):
        labels = [_label(c) for c in hint.categories or ()]
        for x in present:
            if _label(x) not in labels:
                labels.append(_label(x))
        if missing:
            labels.append(MISSING)
        pos = {text: float(k) for k, text in enumerate(labels)}
        values = [pos[MISSING if x is None else _label(x)] for x in raw]
        top = max(len(labels) - 1, 1)
        return Dimension(label, values, [(p, t) for t, p in pos.items()], (0.0, top), "category")
    log = hint.log and all(x > 0 for x in present)
    nums = [math.log10(x) if log else float(x) for x in present]
    lo, hi = (min(nums), max(nums)) if nums else (0.0, 1.0)
    if hi == lo:
        lo, hi = (
            lo - (0.5 if log else abs(lo) * 0.1 or 1.0),
            hi + (0.5 if log else abs(hi) * 0.1 or 1.0),
        )
    ticks = _log_ticks(lo, hi) if log else _linear_ticks(lo, hi)
    low = lo
    if missing:
        low = lo - 0.12 * (hi - lo)
        ticks.append((low, MISSING))
    values = [low if x is None else (math.log10(x) if log else float(x)) for x in raw]
    return Dimension(label, values, ticks, (low, hi), "log" if log else "linear")


def _linear_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    raw = (hi - lo) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        t = first + k * step
        ticks.append((t, f"{t:.4g}"))
        k += 1
    return ticks


def _log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    mantissas = (1,) if hi - lo > 3 else (1, 2, 5)
    ticks = []
    for decade in range(math.floor(lo), math.ceil(hi) + 1):
        for m in mantissas:
            t = decade + math.log10(m)
            if lo - 1e-9 <= t <= hi + 1e-9:
                ticks.append((t, f"{m * 10.0**decade:.3g}"))
    if len(ticks) < 2:  # a narrow range: label its ends
        ticks = [(lo, f"{10**lo:.3g}"), (hi, f"{10**hi:.3g}")]
    return ticks


def dimensions(data: StudyData) -> tuple[list[JobRow], list[Dimension]]:
    """The lines (finished jobs with a value) and axes of the parallel-coordinates view.

    Axes: the job's budget (a log axis when budgets grow geometrically), every flattened
    parameter (in the order first seen), the status when more than one has a value
    (``"stopped"`` jobs keep their last reported value), and the value.
    """
    sign = 1.0 if data.maximize else -1.0
    # Best last: plotly draws lines in order, so the best stay visible on top.
    lines = sorted(
        (j for j in data.finished if j.value is not None), key=lambda j: sign * (j.value or 0.0)
    )
    flat = [flatten(j.config) for j in lines]
    names: dict[str, None] = {}
    for f in flat:
        names.update(dict.fromkeys(f))
    hints = space_hints(data.space)
    budgets = [j.budget for j in lines]
    dims = [dimension("budget", budgets, Hint(None, log=len(set(budgets)) > 2))]
    if len(set(budgets)) <= 8:  # label the budgets themselves, not round numbers
        b = dims[0]
        ticks = [(p, f"{x:g}") for p, x in sorted(set(zip(b.values, budgets, strict=True)))]
        dims[0] = attrs.evolve(b, ticks=ticks)
    dims += [dimension(n, [f.get(n) for f in flat], hints.get(n)) for n in names]
    statuses = sorted({j.status for j in lines})
    if len(statuses) > 1:
        dims.append(dimension("status", [j.status for j in lines], Hint(statuses)))
    dims.append(dimension("value", [j.value for j in lines]))
    return lines, dims


# ---------------------------------------------------------------------- learning curves


class CurveGroup(NamedTuple):
    """Learning curves of the configurations whose largest budget reached is ``budget``.

    ``x``/``y`` hold every configuration's reports, a ``None`` between two jobs; ``ids``
    names each point's ``[configuration, job, rung]``.
    """

    budget: float
    configs: int
    x: list[float | None]
    y: list[float | None]
    ids: list[list[int] | None]


def learning_curves(data: StudyData) -> list[CurveGroup]:
    """Intermediate reports per configuration, across its rungs, grouped by how far it got.

    One group per largest budget reached (smallest first), so a group is one plot trace: a
    study of thousands of jobs stays a handful of traces.
    """
    by_config: dict[int, list[JobRow]] = {}
    for job in data.jobs:
        if job.reports:
            by_config.setdefault(job.config_id, []).append(job)
    reached: dict[int, float] = {}
    for job in data.jobs:
        reached[job.config_id] = max(reached.get(job.config_id, 0.0), job.budget)
    groups: dict[float, CurveGroup] = {}
    for cid, jobs in sorted(by_config.items()):
        top = reached[cid]
        group = groups.setdefault(top, CurveGroup(top, 0, [], [], []))
        for job in sorted(jobs, key=lambda j: j.rung):
            for step, value in job.reports:
                group.x.append(step)
                group.y.append(value)
                group.ids.append([cid, job.id, job.rung])
            group.x.append(None)
            group.y.append(None)
            group.ids.append(None)
        groups[top] = group._replace(configs=group.configs + 1)
    return [groups[b] for b in sorted(groups)]


# ---------------------------------------------------------------------- why jobs stopped


def stop_note(data: StudyData, job: JobRow) -> str | None:
    """Why the stopping rule stopped ``job`` (`hyperband.report.describe.stop_text`: the
    forecast and the promotion cut for the curve rule, the rule and step for the others);
    ``None`` for a job that was not stopped."""
    if job.status != "stopped":
        return None
    text = stop_text(job.extra, maximize=data.maximize, early_stop=data.params.get("early_stop"))
    return text or "stopped by the stopping rule"


class StopMark(NamedTuple):
    """A stopped job on the learning-curve chart: where it stopped, and why.

    ``step``/``value``: its stopping report (``None`` when the journal does not say);
    ``forecast``: the prediction that stopped it, in the study's values, when the rule made
    one (`hyperband.CurveRule`).
    """

    job: JobRow
    step: float | None
    value: float | None
    note: str
    forecast: Prediction | None


def stop_marks(data: StudyData) -> list[StopMark]:
    """Every stopped job, in job id order, with its stopping report and explanation."""
    marks = []
    for job in data.jobs:
        note = stop_note(data, job)
        if note is None:
            continue
        step = _float(job.extra.get("stopped_at"))
        forecast = prediction(job.extra, maximize=data.maximize)
        marks.append(
            StopMark(job, step if math.isfinite(step) else None, job.value, note, forecast)
        )
    return marks
