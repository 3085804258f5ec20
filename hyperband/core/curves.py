"""The learning curves a machine keeps: reports of running jobs, and what stopping rules see.

A running job's curve is the ``(step, loss)`` of its reports. With a stopping rule, a rung
also keeps the curves of its jobs (the running ones are the very lists their reports extend),
and finished curves are kept per budget segment ``(previous budget or 0, budget)`` for rules
that compare across brackets. `CurveBook.view` builds the `StopView` a rule judges.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

from hyperband.core.discipline import BracketState, Number, Point, RungState
from hyperband.core.jobs import Job
from hyperband.core.stopping import Peer, StopView

__all__ = ["CurveBook", "dump_curves", "load_curves"]

Segment = tuple[Number, Number]
# A finished curve with the running sums of its losses (a running average costs one bisect).
Summed = tuple[tuple[Point, ...], tuple[float, ...]]


class CurveBook:
    """The curves of one machine.

    Args:
        keep: keep the curves a stopping rule compares against (with a rule); without one,
            only the reports of running jobs are kept, for `Hyperband.reports`.
    """

    __slots__ = ("keep", "running", "segments")

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.running: dict[int, list[Point]] = {}  # job id -> its reports so far
        self.segments: dict[Segment, list[Summed]] = {}

    def add(self, job: Job, rung: RungState, point: Point) -> list[Point]:
        """Append a report of a running job; its curve so far."""
        curve = self.running.get(job.id)
        if curve is None:
            curve = self.running[job.id] = []
            if self.keep:
                rung.curves[job.config_id] = curve
        curve.append(point)
        return curve

    def close(self, job: Job, rung: RungState, final: Point | None) -> None:
        """A job was resolved with a result at ``final`` or failed: keep its curve for the
        rules, or forget it."""
        curve = self.running.pop(job.id, None)
        if not self.keep:
            return
        if final is None:
            # A failure says nothing reliable about how the job compares: forget its curve.
            rung.curves.pop(job.config_id, None)
            return
        if curve is None:
            curve = rung.curves[job.config_id] = []
        if curve and curve[-1][0] == final[0]:
            curve[-1] = final  # the final result is the value at the budget
        else:
            curve.append(final)
        segment = (job.previous_budget or 0, job.budget)
        self.segments.setdefault(segment, []).append(_with_sums(tuple(curve)))

    def view(
        self,
        job: Job,
        rung: RungState,
        shape: tuple[int, int],
        eta: float,
        point: Point,
        pending: Mapping[int, object],
    ) -> StopView:
        """What a stopping rule sees of ``job``, which just reported ``point``, on its rung of
        ``shape`` = (size, promotions)."""
        segment = (job.previous_budget or 0, job.budget)
        return StopView(
            job,
            point[0],
            point[1],
            tuple(self.running[job.id]),
            shape[1],
            shape[0],
            eta,
            rung_peers=lambda: _rung_peers(rung, job.config_id, pending),
            segment_peers=lambda: tuple(c for c, _ in self.segments.get(segment, ())),
            values_at=lambda t: _values_at(rung, job.config_id, t),
            averages_at=lambda t: _averages_at(self.segments.get(segment, ()), t),
        )

    def dump_running(self) -> list[Any]:
        """The reports of running jobs, as a snapshot holds them."""
        return [[jid, [list(p) for p in c]] for jid, c in self.running.items()]

    def dump_segments(self) -> list[Any]:
        """The finished curves per segment, as a snapshot holds them."""
        return [
            [list(seg), [[list(p) for p in c] for c, _ in pairs]]
            for seg, pairs in self.segments.items()
        ]

    def load(
        self, state: Mapping[str, Any], pending: Mapping[int, tuple[Job, BracketState]]
    ) -> None:
        """Read back the reports of the ``pending`` jobs and the finished curves."""
        for jid, points in state.get("reports", ()):
            curve = [(float(step), float(loss)) for step, loss in points]
            job, bracket = pending[int(jid)]
            self.running[job.id] = curve
            if self.keep:
                # The rung's view of a running job is the very list its reports extend.
                bracket.rungs[job.rung].curves[job.config_id] = curve
        for seg, curves in state.get("segments", ()):
            self.segments[seg[0], seg[1]] = [
                _with_sums(tuple((float(p), float(q)) for p, q in c)) for c in curves
            ]


def _rung_peers(rung: RungState, me: int, pending: Mapping[int, object]) -> tuple[Peer, ...]:
    out = []
    stopped = rung.stopped
    for cid, points in rung.curves.items():
        if cid == me:
            continue
        jid = rung.jobs[cid]
        if jid in pending:
            status = "running"
        elif cid in stopped:
            status = "stopped"
        else:
            status = "succeeded"  # a failed job's curve is dropped when it fails
        out.append(Peer(cid, status, points))  # type: ignore[arg-type]
    return tuple(out)


def _values_at(rung: RungState, me: int, t: float) -> list[tuple[float, int]]:
    # A tight loop over the machine's own curves: the rules' hot path.
    out = []
    probe = (t, math.inf)  # sorts after every point at step t
    for cid, points in rung.curves.items():
        # A peer has reached t when its last point is at or past it (a succeeded one ends at
        # its budget, which is >= t).
        if cid == me or not points or points[-1][0] < t:
            continue
        i = bisect.bisect_right(points, probe)
        if i:
            out.append((points[i - 1][1], cid))
    return out


def _averages_at(curves: Iterable[Summed], t: float) -> list[float]:
    out = []
    probe = (t, math.inf)
    for points, sums in curves:
        i = bisect.bisect_right(points, probe)
        if i:
            out.append(sums[i - 1] / i)
    return out


def _with_sums(curve: tuple[Point, ...]) -> Summed:
    return curve, tuple(itertools.accumulate(loss for _, loss in curve))


def dump_curves(curves: Mapping[int, list[Point]]) -> list[Any]:
    """A rung's curves, as a snapshot holds them."""
    return [[cid, [list(p) for p in c]] for cid, c in curves.items()]


def load_curves(data: Any) -> dict[int, list[Point]]:
    """A rung's curves, read back from a snapshot."""
    return {int(cid): [(float(p), float(q)) for p, q in c] for cid, c in data}
