"""Asynchronous successive halving (ASHA, Li et al., MLSys 2020): exec mode ``"asynchronous"``.

One ASHA runs per bracket of the schedule. Whenever a job is asked, the best configuration not
yet promoted that ranks in the top ``floor(r / eta)`` of its rung's ``r`` results so far is
promoted (deepest rung first); otherwise a new configuration starts, in a bracket chosen by a
fixed, balanced order (`bracket_order`), or with ``brackets="adaptive"`` drawn from the trust
weights once they are measured (`hyperband.core.adaptive`). A promotion may turn out wrong
later (a mispromotion): ASHA never waits.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from hyperband.core.adaptive import BracketChooser
from hyperband.core.curves import dump_curves, load_curves
from hyperband.core.discipline import Draws, Key, Number, Point
from hyperband.core.jobs import DONE, WAIT, Job, Signal
from hyperband.core.schedule import Schedule

__all__ = ["AshaBracket", "AshaRung", "Asynchronous", "bracket_order"]


class AshaRung:
    """One rung of an asynchronous (ASHA) bracket: it grows for as long as the study runs."""

    __slots__ = (
        "budget",
        "curves",
        "index",
        "jobs",
        "promoted",
        "ranked",
        "stopped",
        "unpromoted",
    )

    def __init__(self, index: int, budget: Number) -> None:
        self.index = index
        self.budget = budget
        self.jobs: dict[int, int] = {}  # config id -> id of its job on this rung
        self.ranked: list[Key] = []  # successes, best first
        # The successes not promoted yet, best first: the next promotion is its head's, when
        # that ranks in the top floor(r / eta) (one bisect, not a scan of the top).
        self.unpromoted: list[Key] = []
        self.stopped: set[int] = set()
        self.promoted: set[int] = set()
        self.curves: dict[int, list[Point]] = {}

    def n_top(self, eta: Fraction) -> int:
        """``floor(r / eta)`` of its ``r`` results (successes and stops), exactly."""
        r = len(self.ranked) + len(self.stopped)
        top = r // eta.numerator if eta.denominator == 1 else math.floor(Fraction(r) / eta)
        return min(len(self.ranked), top)


class AshaBracket:
    """One asynchronous bracket ``s``: an ASHA over the rungs of the schedule's bracket ``s``."""

    __slots__ = ("configs", "iterations", "rungs", "s")

    def __init__(self, s: int, sched: Schedule) -> None:
        self.s = s
        self.rungs = [AshaRung(r.index, r.budget) for r in sched.bracket(s).rungs]
        self.configs: dict[int, dict[str, Any]] = {}
        self.iterations: dict[int, int] = {}  # config id -> the iteration it started in


def bracket_order(sched: Schedule) -> tuple[int, ...]:
    """The brackets of one asynchronous iteration's new configurations, in order.

    Bracket ``s`` appears ``n_0(s)`` times (its rung-0 size in the schedule), spread evenly by a
    smooth weighted round robin (the most "owed" bracket next; ties to the larger ``s``), so
    the brackets fill in proportion from the start instead of one after the other.

    Examples:
        >>> from hyperband import schedule
        >>> bracket_order(schedule(9, 3))
        (2, 1, 2, 0, 2, 1, 2, 0, 2, 1, 2, 1, 2, 0, 2, 1, 2)
    """
    weights = [(b.s, b.rungs[0].n_configs) for b in sched.brackets]
    total = sum(w for _, w in weights)
    current = dict.fromkeys((s for s, _ in weights), 0)
    order = []
    for _ in range(total):
        for s, w in weights:
            current[s] += w
        pick = max(weights, key=lambda sw: (current[sw[0]], sw[0]))[0]
        current[pick] -= total
        order.append(pick)
    return tuple(order)


class Asynchronous:
    """The ASHA of every bracket of the schedule, and the order new configurations start in.

    Args:
        sched: the schedule of one iteration.
        draws: where the configurations come from.
        iterations: how many times to start the schedule's rung-0 configurations, ``None`` for
            ever.
        pending: the machine's pending jobs (the study is done when none is left).
        chooser: with ``brackets="adaptive"``, draws each new configuration's bracket once
            the trust weights are measured (before that, and with ``"cycle"``, the balanced
            order).
    """

    __slots__ = (
        "_batches",
        "_chooser",
        "_draws",
        "_eta",
        "_order",
        "_pending",
        "_record",
        "_sched",
        "_sources",
        "_total",
        "brackets",
        "n_promoted",
        "next_config_id",
        "next_new",
    )

    def __init__(
        self,
        sched: Schedule,
        draws: Draws,
        iterations: int | None,
        pending: Mapping[int, object],
        chooser: BracketChooser,
    ) -> None:
        self._sched = sched
        self._draws = draws
        self._pending = pending
        self._chooser = chooser
        # Only adaptive brackets learn from results: the cycle pays no call per success.
        self._record = chooser.record if chooser.adaptive else None
        self._eta = Fraction(sched.eta)
        self._order = bracket_order(sched)
        self._total = None if iterations is None else iterations * len(self._order)
        self.brackets = {b.s: AshaBracket(b.s, sched) for b in sched.brackets}
        sources = [(ab, rung) for ab in self.brackets.values() for rung in ab.rungs[:-1]]
        # Deepest first: the rung feeding the largest budget, then the more aggressive bracket
        # (larger s) on a tie.
        sources.sort(key=lambda pair: (-pair[0].rungs[pair[1].index + 1].budget, -pair[0].s))
        self._sources = sources  # the rungs promotions come from, in order
        self.next_new = 0  # new configurations started so far
        # A batch sampler's configurations of (iteration, s) not all started yet.
        self._batches: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.next_config_id = 0
        self.n_promoted = 0

    # ------------------------------------------------------------------ asking

    def next_job(self, job_id: int) -> tuple[Job, AshaBracket] | Signal:
        """A promotion if any configuration ranks in its rung's top now, else a new one."""
        found = self._candidate()
        if found is not None:
            return self._promote(*found, job_id)
        if self._total is not None and self.next_new >= self._total:
            return WAIT if self._pending else DONE
        return self._start(job_id)

    def _candidate(self) -> tuple[AshaBracket, AshaRung, int] | None:
        """The promotion ASHA makes now: the best not-yet-promoted configuration in the top
        ``floor(r / eta)`` of a rung, deepest rung first."""
        for ab, rung in self._sources:
            head = rung.unpromoted
            if not head:
                continue
            top = rung.n_top(self._eta)
            if top > len(rung.promoted) and bisect.bisect_left(rung.ranked, head[0]) < top:
                return ab, rung, head[0][1]
        return None

    def _promote(
        self, ab: AshaBracket, rung: AshaRung, cid: int, jid: int
    ) -> tuple[Job, AshaBracket]:
        nxt = ab.rungs[rung.index + 1]
        rung.promoted.add(cid)
        del rung.unpromoted[0]
        self.n_promoted += 1
        nxt.jobs[cid] = jid
        job = Job(
            jid,
            ab.configs[cid],
            cid,
            nxt.budget,
            ab.s,
            nxt.index,
            ab.iterations[cid],
            rung.budget,
            rung.jobs[cid],
        )
        return job, ab

    def _start(self, jid: int) -> tuple[Job, AshaBracket]:
        s = self._chooser.pick(self.next_new)
        if s is None:
            s = self._order[self.next_new % len(self._order)]
        ab = self.brackets[s]
        # The c-th configuration of bracket s is the k-th of its iteration: in the balanced
        # order, as in a drawn one (every configuration started stays in ab.configs).
        iteration, k = divmod(len(ab.configs), self._sched.bracket(s).rungs[0].n_configs)
        # Drawn before anything changes, so a sampler error leaves the machine as it was.
        if self._draws.lazy:
            config = self._draws.draw(iteration, s, k)
        else:
            batch = self._batches.get((iteration, s))
            if batch is None:
                n = self._sched.bracket(s).rungs[0].n_configs
                batch = self._batches[iteration, s] = self._draws.batch(iteration, s, n)
            config = batch[k]
            if k + 1 == len(batch):
                del self._batches[iteration, s]
        cid = self.next_config_id
        self.next_config_id = cid + 1
        self.next_new += 1
        ab.configs[cid] = config
        ab.iterations[cid] = iteration
        rung0 = ab.rungs[0]
        rung0.jobs[cid] = jid
        return Job(jid, config, cid, rung0.budget, s, 0, iteration), ab

    # ------------------------------------------------------------------ results

    def succeeded(self, ab: AshaBracket, job: Job, key: Key) -> None:
        """Rank the success; it is a candidate for promotion unless on the last rung."""
        rung = ab.rungs[job.rung]
        bisect.insort(rung.ranked, key)
        if self._record is not None:
            self._record(job.config_id, job.budget, key[0])
        if job.rung + 1 < len(ab.rungs):
            bisect.insort(rung.unpromoted, key)

    def resolved(self, ab: AshaBracket, job: Job) -> None:
        """Nothing waits on a failure or a stop (a stop counts in its rung's results)."""

    # ------------------------------------------------------------------ state

    def shape(self, ab: AshaBracket, rung: int) -> tuple[int, int]:
        """The rung's jobs so far, and the top ``floor(size / eta)`` (at least one) it would
        promote now (none from the last rung)."""
        size = len(ab.rungs[rung].jobs)
        k = 0 if rung + 1 == len(ab.rungs) else max(1, math.floor(Fraction(size) / self._eta))
        return size, k

    def bracket_of(self, job: Job) -> AshaBracket:
        """The bracket of a job."""
        return self.brackets[job.bracket]

    @property
    def done(self) -> bool:
        """Every new configuration started, none pending, no promotion left."""
        return (
            self._total is not None
            and self.next_new >= self._total
            and not self._pending
            and self._candidate() is None
        )

    def mispromoted(self) -> int:
        """How many promoted configurations are not in their rung's top ``floor(r / eta)``."""
        count = 0
        for _, rung in self._sources:
            if rung.promoted:
                top = {cid for _, cid in rung.ranked[: rung.n_top(self._eta)]}
                count += len(rung.promoted - top)
        return count

    def dump(self, sign: float) -> dict[str, Any]:
        """No synchronous bracket; the ASHA state under ``"async"``."""
        return {
            "next_bracket": 0,
            "brackets": [],
            "async": {
                "next_new": self.next_new,
                "batches": [[it, s, configs] for (it, s), configs in self._batches.items()],
                "brackets": [
                    {
                        "s": ab.s,
                        "configs": [[cid, c, ab.iterations[cid]] for cid, c in ab.configs.items()],
                        "rungs": [
                            {
                                "jobs": [[cid, jid] for cid, jid in r.jobs.items()],
                                "ranked": [[cid, key * sign] for key, cid in r.ranked],
                                "promoted": sorted(r.promoted),
                                "stopped": sorted(r.stopped),
                                "curves": dump_curves(r.curves),
                            }
                            for r in ab.rungs
                        ],
                    }
                    for ab in self.brackets.values()
                ],
            },
        }

    def load(self, state: Mapping[str, Any], sign: float) -> None:
        """Read the ASHA state back from a snapshot's ``"async"``."""
        # The synchronous brackets' part of the format is there, empty.
        int(state["next_bracket"])
        iter(state["brackets"])
        st = state["async"]
        self.next_new = int(st["next_new"])
        self._batches = {(int(it), int(s)): configs for it, s, configs in st["batches"]}
        for abs_ in st["brackets"]:
            ab = self.brackets[int(abs_["s"])]
            for cid, config, iteration in abs_["configs"]:
                ab.configs[int(cid)] = config
                ab.iterations[int(cid)] = int(iteration)
            for r, rs in zip(ab.rungs, abs_["rungs"], strict=True):
                r.jobs = {int(cid): int(jid) for cid, jid in rs["jobs"]}
                r.ranked = sorted((sign * float(v), int(cid)) for cid, v in rs["ranked"])
                r.promoted = {int(c) for c in rs["promoted"]}
                if r.index + 1 < len(ab.rungs):
                    r.unpromoted = [key for key in r.ranked if key[1] not in r.promoted]
                r.stopped = {int(c) for c in rs["stopped"]}
                r.curves = load_curves(rs["curves"])
                # The trust weights are measured on every success, which the rungs keep.
                for loss, cid in r.ranked:
                    self._chooser.record(cid, r.budget, loss)
