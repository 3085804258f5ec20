"""The text report of a study: what ``hyperband run`` prints at its end, ``hyperband report``'s
summary and ``--trials`` table, and ``hyperband schedule --workers``' simulation table.

Each function returns the lines (no trailing newlines); the command line prints them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperband.drivers.failures import failure_line
from hyperband.report.describe import rule_text, sampler_text, stop_text
from hyperband.report.trust import measure

if TYPE_CHECKING:  # pragma: no cover
    from hyperband.drivers.records import RunResult
    from hyperband.drivers.simulate import SimulationResult

__all__ = [
    "counted",
    "last_line",
    "result_lines",
    "simulation_lines",
    "summary_lines",
    "trial_lines",
]


def counted(n: float, noun: str) -> str:
    """``n`` and the noun, in the plural unless ``n`` is 1: ``counted(1, "job")`` is
    ``"1 job"``, ``counted(3, "budget unit")`` is ``"3 budget units"``."""
    text = str(n) if isinstance(n, int) else f"{n:g}"
    return f"{text} {noun}" + ("" if n == 1 else "s")


def last_line(text: str | None) -> str:
    """The last non-blank line of a failure's text (its exception, under the traceback), with
    the file and line of the user's code that raised it (see ``failure_line``)."""
    return failure_line(text)


def _promotions_line(stats: Any) -> str:
    return (
        f"promotions: {stats.n_promoted}, {stats.n_mispromoted} of them not in their rung's "
        "top in hindsight (asynchronous mode promotes early)"
    )


def _trust_line(result: RunResult) -> str | None:
    """The final trust weight of each budget: the sampler's, else, with adaptive brackets
    (which draw brackets from them), those measured from the results."""
    weights = getattr(result.stats, "trust", None)
    how = ""
    if not weights and result.params.get("brackets") == "adaptive":
        results = ((r.job.config_id, r.job.budget, r.status, r.value) for r in result.history)
        maximize = result.params.get("mode", "maximize") == "maximize"
        points = measure(results, result.schedule, maximize=maximize)
        weights = points[-1].weights if points else {}
        how = ', measured from the results as brackets="adaptive" does'
    if not weights:
        return None
    shown = ", ".join(f"{b:g}: {w:.2f}" for b, w in sorted(weights.items()))
    return f"trust in each budget (weight ∝ rank consistency³ with the top budget{how}): {shown}"


def _order_caveat(result: RunResult) -> str:
    """What else repeating a study on several workers takes: a sampler that learns, or
    adaptive brackets, draw from the results told so far, in the order they arrived."""
    # The jobs the run could keep in flight, not only the workers seen: with a fast objective
    # one thread can take every job this time and share them the next, so the order is luck
    # either way. A journal does not record that number, so its records decide.
    if (result.workers or 1) <= 1 and len({r.worker for r in result.history}) <= 1:
        return ""
    return (
        "; a sampler that learns also needs the results in the same order: one worker, or "
        "resume the journal"
    )


def _why_fewer(result: RunResult) -> str:
    """Why a finished study ran fewer jobs than its schedule's."""
    which = " and ".join(
        kind for kind, n in (("failed", result.n_failed), ("stopped", result.n_stopped)) if n
    )
    return f"{which or 'failed'} jobs are not promoted, so fewer ran"


def _best_lines(result: RunResult) -> list[str]:
    best = result.best
    if best is None:
        return ["best: none (no job succeeded)"]
    return [
        f"best: {best.value:.6g} at budget {best.budget:g} "
        f"(configuration {best.config_id}, job {best.job_id})",
        f"config: {json.dumps(best.config, sort_keys=True)}",
    ]


def result_lines(result: RunResult, *, journal: Path | None = None) -> list[str]:
    """What ``hyperband run`` prints once its study ends (or stops): the best, the counts.

    Args:
        result: the study (``result.workers`` decides the caveat on repeating it).
        journal: the journal it was written to, for the command that summarises it.
    """
    params = result.params
    iterations = params.get("iterations") or 1
    scheduled = result.schedule.total_jobs * iterations
    lines = _best_lines(result)
    retried = sum(r.attempts > 1 for r in result.history)
    fewer = result.done and len(result.history) < scheduled
    lines.append(
        f"jobs: {len(result.history)} of {scheduled} scheduled finished: "
        f"{result.n_succeeded} succeeded, {result.n_failed} failed, "
        + (f"{result.n_stopped} stopped early, " if result.n_stopped else "")
        + f"{retried} retried"
        + (f" ({_why_fewer(result)})" if fewer else "")
    )
    lines.append(f"budget: {counted(result.spent, 'unit')}")
    if result.params.get("exec_mode") == "asynchronous" and result.stats is not None:
        lines.append(_promotions_line(result.stats))
    trust = _trust_line(result)
    if trust is not None:
        lines.append(trust)
    for r in [r for r in result.history if r.status == "failed"][:5]:
        lines.append(f"failed: job {r.job.id} at budget {r.job.budget:g}: {last_line(r.error)}")
    if result.n_failed > 5:
        lines.append(f"failed: ... and {result.n_failed - 5} more")
    seed = params.get("seed")
    if seed is not None:
        caveat = _order_caveat(result)
        lines.append(f"seed: {seed} (pass --seed {seed} to repeat this study{caveat})")
    if journal is not None:
        lines.append(f"journal: {journal} (summary: hyperband report {journal})")
    return lines


def simulation_lines(
    runs: Mapping[str, SimulationResult], *, workers: int, iterations: int, resume: bool, seed: int
) -> list[str]:
    """``hyperband schedule --workers``: the simulated makespan of each exec mode.

    Args:
        runs: the simulation of each exec mode, ``"serial"`` and ``"parallelism"``.
        workers: the number of workers simulated.
        iterations: the number of iterations simulated.
        resume: whether promotions resumed from checkpoints.
        seed: the simulation's seed.
    """
    how = "resumed from checkpoints" if resume else "from scratch"
    lines = [
        f"\nSimulated on {counted(workers, 'worker')}, {counted(iterations, 'iteration')}, "
        f"promotions {how}, seed {seed}\n(time unit: one budget unit; a job takes its work x "
        "LogNormal(0, 0.3)):"
    ]
    rows = [("exec mode", "makespan", "utilisation", "lower bound", "makespan/bound")]
    for mode, r in runs.items():
        rows.append(
            (
                mode,
                f"{r.makespan:.1f}",
                f"{r.utilisation:.1%}",
                f"{r.lower_bound:.1f}",
                f"{r.bound_ratio:.2f}",
            )
        )
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  " + "  ".join(cells))
    serial, parallel = runs["serial"].makespan, runs["parallelism"].makespan
    if parallel > 0:
        lines.append(
            f"parallelism finishes {serial / parallel:.2f}x sooner than serial "
            f"(total work {runs['parallelism'].total_work:.1f})"
        )
    return lines


def summary_lines(result: RunResult, study: Mapping[str, Any] | None = None) -> list[str]:
    """The text summary of a study (``hyperband report``), one string per line.

    Args:
        result: the study (see ``RunResult.from_journal``).
        study: the journal's header, for the objective, the study's name and the sampler.
    """
    p = result.params
    keys = ("max_budget", "eta", "min_budget", "mode", "exec_mode", "sizing", "iterations", "seed")
    lines = ["study: " + " ".join(f"{k}={p[k]}" for k in keys if k in p)]
    if study is not None and (study.get("objective") or study.get("study_name")):
        name = study.get("study_name")
        lines.append(
            f"objective: {study.get('objective') or 'not recorded'}"
            + ("" if name is None else f" (study {name!r})")
        )
    if study is not None:
        sampler = sampler_text(study.get("sampler_spec"), str(study.get("sampler") or ""))
        lines.append(f"sampler: {sampler}")
    lines.append(f"stopping rule: {rule_text(p.get('early_stop'))}")
    iterations = p.get("iterations") or 1
    scheduled = result.schedule.total_jobs * iterations
    history = result.history
    if not result.done:
        state = f"unfinished: up to {max(0, scheduled - len(history))} more to run"
    elif len(history) < scheduled:
        state = f"complete; {_why_fewer(result)}"
    else:
        state = "complete"
    lines.append(
        f"jobs: {len(history)} of {scheduled} scheduled ({state}): "
        f"{result.n_succeeded} succeeded, {result.n_failed} failed"
        + (f", {result.n_stopped} stopped early" if result.n_stopped else "")
    )
    lines.append(
        f"budget: {result.spent:g} units spent of "
        f"{float(result.schedule.total_budget) * iterations:g} scheduled"
    )
    if p.get("exec_mode") == "asynchronous" and result.stats is not None:
        lines.append(_promotions_line(result.stats))
    trust = _trust_line(result)
    if trust is not None:
        lines.append(trust)
    timed = [r for r in history if math.isfinite(r.start) and math.isfinite(r.end)]
    if timed:
        lines.append(_time_line([(r.start, r.end) for r in timed]))
    lines.append("brackets:")
    rows = [("iteration", "s", "jobs", "failed", "stopped", "budget", "best at max")]
    groups: dict[tuple[int, int], list[Any]] = {}
    for r in history:
        groups.setdefault((r.job.iteration, r.job.bracket), []).append(r)
    maximize = p.get("mode", "maximize") == "maximize"
    for (it, s), recs in sorted(groups.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        top = max(r.job.budget for r in recs)
        values = [
            r.value
            for r in recs
            if r.status == "succeeded" and r.value is not None and r.job.budget == top
        ]
        best = (max if maximize else min)(values) if values else None
        rows.append(
            (
                str(it),
                str(s),
                str(len(recs)),
                str(sum(r.status == "failed" for r in recs)),
                str(sum(r.status == "stopped" for r in recs)),
                f"{math.fsum(r.cost for r in recs):g}",
                "-" if best is None else f"{best:.6g} @ {top:g}",
            )
        )
    lines.extend(_table(rows))
    lines.extend(_failure_lines(result))
    lines.extend(_best_lines(result))
    return lines


def _table(rows: Sequence[Sequence[str]], *, left: int = 0) -> list[str]:
    """Rows as aligned text: numbers right-aligned; the last ``left`` columns left-aligned."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    first_left = len(widths) - left
    out = []
    for row in rows:
        cells = [
            c.ljust(w) if k >= first_left else c.rjust(w)
            for k, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.append(("  " + "  ".join(cells)).rstrip())
    return out


# A stretch with no job running longer than this is the time between a stopped run and its
# resume, not the runner's own overhead (which is milliseconds between jobs).
_BETWEEN_RUNS = 10.0


def _time_line(spans: Sequence[tuple[float, float]]) -> str:
    """Wall time, busy time, peak concurrency and utilisation of jobs ``(start, end)``.

    A resumed study has a gap between its runs, and new worker names in each: gaps of more
    than ``_BETWEEN_RUNS`` seconds with no job running are left out of the wall time, and the
    workers are counted as the most jobs running at once.
    """
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    busy = math.fsum(end - start for start, end in spans)
    between = 0.0
    reach = math.inf
    for start, end in sorted(spans):
        if start - reach > _BETWEEN_RUNS:
            between += start - reach
        reach = end if reach == math.inf else max(reach, end)
    # Ends before starts at the same instant: a worker handing over is not two jobs at once.
    edges = sorted([(end, -1) for _, end in spans] + [(start, 1) for start, _ in spans])
    peak = running = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    active = wall - between
    when = f"{wall:.3g} s wall (first start to last end)"
    if between > 0:
        when = (
            f"{active:.3g} s wall (first start to last end: {wall:.3g} s, less {between:.3g} s "
            "between runs with no job running)"
        )
    use = f", utilisation {busy / (peak * active):.0%}" if active > 0 and peak > 0 else ""
    return (
        f"time: {when}, {busy:.3g} s busy, at most {peak} job{'s' if peak != 1 else ''} at once"
        f"{use}"
    )


def _failure_lines(result: RunResult, limit: int = 5) -> list[str]:
    """Why jobs failed: their last error lines, alike ones (differing in numbers) grouped."""
    groups: dict[str, list[str]] = {}
    for r in result.history:
        if r.status == "failed":
            reason = last_line(r.error)
            groups.setdefault(re.sub(r"\d+(\.\d+)?", "N", reason), []).append(reason)
    if not groups:
        return []
    ranked = sorted(groups.values(), key=len, reverse=True)
    lines = [
        f"failures: {counted(result.n_failed, 'job')} failed, for {counted(len(ranked), 'reason')}:"
    ]
    for reasons in ranked[:limit]:
        alike = f" (and {len(reasons) - 1} alike)" if len(reasons) > 1 else ""
        lines.append(f"  {len(reasons):>5} x {reasons[0]}{alike}")
    if len(ranked) > limit:
        lines.append(f"  ... and {len(ranked) - limit} other reasons (see --trials)")
    return lines


def trial_lines(result: RunResult, *, sort: str = "budget", top: int | None = None) -> list[str]:
    """The jobs of a study as a table (``hyperband report --trials``), one string per line.

    Args:
        result: the study.
        sort: ``"budget"`` (largest budget first, then best value), ``"value"`` (best
            first), ``"job"`` (job id) or ``"duration"`` (longest first); failed jobs come
            after the successes in the first two.
        top: keep only the first ``top`` rows.
    """
    sign = -1.0 if result.params.get("mode", "maximize") == "maximize" else 1.0

    def rank(r: Any) -> tuple[float, ...]:
        # Stopped jobs' values are partial (measured before their budget): after successes.
        failed = 0 if r.status == "succeeded" else 1 if r.status == "stopped" else 2
        value = math.inf if r.value is None else sign * r.value
        if sort == "budget":
            return (-float(r.job.budget), failed, value, r.job.id)
        if sort == "value":
            return (failed, value, -float(r.job.budget), r.job.id)
        if sort == "duration":
            duration = r.duration if math.isfinite(r.duration) else -math.inf
            return (-duration, r.job.id)
        return (r.job.id,)

    records = sorted(result.history, key=rank)[:top]
    if not records:
        return ["  (no job finished)"]
    head = ("job", "config", "iteration", "s", "rung", "budget", "status", "value", "seconds")
    rows: list[tuple[str, ...]] = [(*head, "parameters", "reason")]
    for r in records:
        rows.append(
            (
                str(r.job.id),
                str(r.job.config_id),
                str(r.job.iteration),
                str(r.job.bracket),
                str(r.job.rung),
                f"{r.job.budget:g}",
                r.status,
                "-" if r.value is None else f"{r.value:.6g}",
                f"{r.duration:.3g}" if math.isfinite(r.duration) else "-",
                json.dumps(r.job.config, sort_keys=True),
                ""
                if r.status == "succeeded"
                else _stopped_line(r, maximize=sign < 0, early_stop=result.params.get("early_stop"))
                if r.status == "stopped"
                else last_line(r.error),
            )
        )
    return _table(rows, left=2)


def _stopped_line(record: Any, *, maximize: bool, early_stop: Any) -> str:
    """Why a stopped job stopped (`stop_text`), or its step alone for an old record."""
    why = stop_text(record.extra, maximize=maximize, early_stop=early_stop)
    return why or f"stopped at step {record.extra.get('stopped_at', '?')}"
