"""Synchronous successive halving: the exec modes ``"parallelism"`` and ``"serial"``.

The brackets of the schedule run in order, each a successive halving: rung ``i + 1`` receives
the top ``n_{i+1}`` of rung ``i``'s successes, each as soon as it is certain to be in that top
set (the results still outstanding cannot push it out). ``"parallelism"`` starts the next
bracket whenever no started bracket has a job to hand out; ``"serial"`` only once every job of
the previous bracket is resolved.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping
from typing import Any

from hyperband.core.adaptive import BracketChooser
from hyperband.core.curves import dump_curves, load_curves
from hyperband.core.discipline import Draws, Key, Number, Point
from hyperband.core.errors import SnapshotError
from hyperband.core.jobs import DONE, WAIT, Job, Signal
from hyperband.core.schedule import Schedule

__all__ = ["HalvingBracket", "HalvingRung", "Synchronous"]


class HalvingRung:
    """Mutable bookkeeping of one rung of a running synchronous bracket."""

    __slots__ = (
        "budget",
        "curves",
        "index",
        "jobs",
        "k",
        "m",
        "promoted",
        "queue",
        "ranked",
        "resolved",
        "size",
        "stopped",
        "target",
    )

    def __init__(self, index: int, target: int, budget: Number, k: int) -> None:
        self.index = index
        self.target = target  # scheduled n_i
        self.budget = budget
        self.k = k  # scheduled n_{i+1}: how many this rung promotes at most (0 on the last rung)
        # The rung's real size, known once the previous rung closed: min(n_i, its successes).
        self.size: int | None = None
        self.queue: deque[int] = deque()  # config ids ready to be asked, in order
        self.jobs: dict[int, int] = {}  # config id -> id of its job on this rung
        self.ranked: list[Key] = []  # successes, best first
        self.resolved = 0  # told + failed + stopped
        self.promoted: set[int] = set()
        self.m = 0  # ranked[:m] is certain to be in the top k, and promoted
        self.stopped: set[int] = set()  # config ids stopped early on this rung
        # config id -> its curve on this rung (kept only with a stopping rule).
        self.curves: dict[int, list[Point]] = {}


class HalvingBracket:
    """Mutable bookkeeping of one started, unfinished synchronous bracket."""

    __slots__ = ("configs", "first_config", "iteration", "rungs", "s", "seq")

    def __init__(self, seq: int, iteration: int, s: int, sched: Schedule) -> None:
        self.seq = seq
        self.first_config = 0  # the config id of the bracket's configuration k = 0
        self.iteration = iteration
        self.s = s
        rungs = sched.bracket(s).rungs
        self.rungs = [
            HalvingRung(
                r.index,
                r.n_configs,
                r.budget,
                rungs[r.index + 1].n_configs if r.index + 1 < len(rungs) else 0,
            )
            for r in rungs
        ]
        # config id -> configuration; a model-based sampler's are drawn when first asked.
        self.configs: dict[int, dict[str, Any]] = {}


class Synchronous:
    """The started, unfinished brackets of a synchronous machine, oldest first.

    Args:
        sched: the schedule of one iteration.
        draws: where the configurations come from.
        limit: how many brackets to run in all (iterations times brackets), ``None`` for ever.
        serial: start a bracket only once the previous one is resolved.
        chooser: which bracket each new run is (the cycle, or drawn from trust weights).
    """

    __slots__ = (
        "_chooser",
        "_draws",
        "_lazy",
        "_limit",
        "_n_brackets",
        "_record",
        "_sched",
        "_serial",
        "active",
        "n_promoted",
        "next_config_id",
        "next_seq",
    )

    def __init__(
        self,
        sched: Schedule,
        draws: Draws,
        limit: int | None,
        serial: bool,
        chooser: BracketChooser,
    ) -> None:
        self._chooser = chooser
        self._sched = sched
        self._draws = draws
        self._lazy = draws.lazy
        # Only adaptive brackets learn from results: the cycle pays no call per success.
        self._record = chooser.record if chooser.adaptive else None
        self._limit = limit
        self._serial = serial
        self._n_brackets = len(sched.brackets)
        self.active: list[HalvingBracket] = []  # started, unfinished brackets, oldest first
        self.next_seq = 0  # sequence number of the next bracket to start
        self.next_config_id = 0
        self.n_promoted = 0

    # ------------------------------------------------------------------ asking

    def next_job(self, job_id: int) -> tuple[Job, HalvingBracket] | Signal:
        """Promotions of the oldest started bracket first, deepest rung first; then a new
        bracket, unless ``serial`` and one is running."""
        # The whole of an ask's usual path is this one frame: it runs once per job.
        fresh = False
        for b in self.active:
            # Deeper rungs first: promotions are on the critical path of their bracket.
            for rung in reversed(b.rungs):
                if rung.queue:
                    break
            else:
                continue
            break
        else:
            if self._serial and self.active:
                return WAIT
            if self._limit is not None and self.next_seq >= self._limit:
                return WAIT if self.active else DONE
            b = self._start()
            rung = b.rungs[0]  # never empty: rung 0 has at least one configuration
            fresh = True
        queue = rung.queue
        cid = queue[0]
        # Only rung 0 holds configurations not drawn yet (promoted ones were asked). Drawn
        # before anything changes, so that a sampler error leaves the machine as it was.
        if self._lazy and cid not in b.configs:
            try:
                b.configs[cid] = self._draws.draw(b.iteration, b.s, cid - b.first_config)
            except BaseException:
                if fresh:
                    self._unstart(b)
                raise
        queue.popleft()
        rung.jobs[cid] = job_id
        if rung.index:
            prev = b.rungs[rung.index - 1]
            job = Job(
                job_id,
                b.configs[cid],
                cid,
                rung.budget,
                b.s,
                rung.index,
                b.iteration,
                prev.budget,
                prev.jobs[cid],
            )
        else:
            job = Job(job_id, b.configs[cid], cid, rung.budget, b.s, 0, b.iteration)
        return job, b

    def _unstart(self, b: HalvingBracket) -> None:
        """Take back the start of ``b``, the newest bracket (its first draw failed)."""
        self.active.pop()
        self._chooser.undo(b.s)
        self.next_seq = b.seq
        self.next_config_id = b.first_config

    def _start(self) -> HalvingBracket:
        seq = self.next_seq
        s, iteration = self._chooser.next(seq)
        b = HalvingBracket(seq, iteration, s, self._sched)
        rung0 = b.rungs[0]
        n = rung0.target
        cid = b.first_config = self.next_config_id
        if self._lazy:
            rung0.queue.extend(range(cid, cid + n))
            cid += n
        else:
            for config in self._draws.batch(iteration, s, n):
                b.configs[cid] = config
                rung0.queue.append(cid)
                cid += 1
        rung0.size = n
        self.next_config_id = cid
        self.next_seq = seq + 1
        self.active.append(b)
        return b

    # ------------------------------------------------------------------ results

    def succeeded(self, b: HalvingBracket, job: Job, key: Key | None) -> None:
        """Rank the success (``key``; ``None`` for a failure or a stop) and promote what
        became certain."""
        rung = b.rungs[job.rung]
        rung.resolved += 1
        pos = None
        if key is not None:
            ranked = rung.ranked
            pos = bisect.bisect_left(ranked, key)
            ranked.insert(pos, key)
            if self._record is not None:
                self._record(job.config_id, job.budget, key[0])
        # Promoted here rather than in a helper: one frame fewer on every result.
        while True:
            size = rung.size
            if rung.k:
                # A configuration ranked r is certain to be in the top k when even the rung's
                # unresolved jobs, all finishing ahead of it, leave it inside. While the size
                # is unknown, the scheduled size bounds the unresolved jobs from above.
                ranked = rung.ranked
                m = rung.k - (rung.target if size is None else size) + rung.resolved
                if len(ranked) < m:
                    m = len(ranked)
                if m > rung.m:
                    queue = b.rungs[rung.index + 1].queue
                    promoted = rung.promoted
                    # The new result may have landed inside the promoted prefix, pushing an
                    # already promoted configuration to position rung.m.
                    fresh = [] if pos is None or pos >= rung.m else [ranked[pos][1]]
                    fresh.extend(ranked[j][1] for j in range(rung.m, m))
                    for cid in fresh:
                        if cid not in promoted:
                            promoted.add(cid)
                            queue.append(cid)
                            self.n_promoted += 1
                    rung.m = m
            if size is None or rung.resolved != size:
                return
            if rung.index + 1 == len(b.rungs):
                self.active.remove(b)
                return
            # The rung closed, so the next rung's size is known now: that may make more of the
            # next rung's own results certain, so the same reasoning goes on one rung up.
            rung = b.rungs[rung.index + 1]
            rung.size = b.rungs[rung.index - 1].m
            pos = None

    def resolved(self, b: HalvingBracket, job: Job) -> None:
        """A failure or a stop: one fewer outstanding result, which may make promotions
        certain."""
        self.succeeded(b, job, None)

    # ------------------------------------------------------------------ state

    def shape(self, b: HalvingBracket, rung: int) -> tuple[int, int]:
        """The rung's size (the scheduled one until known) and its scheduled promotions."""
        r = b.rungs[rung]
        return (r.target if r.size is None else r.size), r.k

    def bracket_of(self, job: Job) -> HalvingBracket:
        """The running bracket of a job."""
        # (iteration, s) names one run in both bracket modes (see hyperband.core.adaptive).
        return {(b.iteration, b.s): b for b in self.active}[(job.iteration, job.bracket)]

    @property
    def done(self) -> bool:
        """Every bracket of every iteration resolved (never, if unlimited)."""
        return not self.active and self._limit is not None and self.next_seq >= self._limit

    def mispromoted(self) -> int:
        """None: a synchronous promotion waits until it is certain."""
        return 0

    def dump(self, sign: float) -> dict[str, Any]:
        """The running brackets, as a snapshot holds them."""
        out = {
            "next_bracket": self.next_seq,
            "brackets": [
                {
                    "seq": b.seq,
                    # a drawn run's bracket is not a function of seq (cycle snapshots unchanged)
                    **({"s": b.s, "iteration": b.iteration} if self._chooser.adaptive else {}),
                    "first_config": b.first_config,
                    "configs": [[cid, c] for cid, c in b.configs.items()],
                    "rungs": [
                        {
                            "size": r.size,
                            "resolved": r.resolved,
                            "queue": list(r.queue),
                            "jobs": [[cid, jid] for cid, jid in r.jobs.items()],
                            "ranked": [[cid, key * sign] for key, cid in r.ranked],
                            "promoted": sorted(r.promoted),
                            "m": r.m,
                            "stopped": sorted(r.stopped),
                            "curves": dump_curves(r.curves),
                        }
                        for r in b.rungs
                    ],
                }
                for b in self.active
            ],
        }
        if self._chooser.adaptive:
            out["adaptive"] = self._chooser.dump()
        return out

    def load(self, state: Mapping[str, Any], sign: float) -> None:
        """Read the running brackets back from a snapshot."""
        self.next_seq = int(state["next_bracket"])
        if self._chooser.adaptive:
            if not isinstance(state.get("adaptive"), Mapping):
                raise SnapshotError("state: an adaptive machine's snapshot needs 'adaptive'")
            self._chooser.load(state["adaptive"])
        for bs in state["brackets"]:
            seq = int(bs["seq"])
            iteration, offset = divmod(seq, self._n_brackets)
            s = self._sched.s_max - offset
            if self._chooser.adaptive:
                s, iteration = int(bs["s"]), int(bs["iteration"])
            b = HalvingBracket(seq, iteration, s, self._sched)
            b.configs = {int(cid): c for cid, c in bs["configs"]}
            # Version 1 had no lazy draws: every configuration was drawn at the bracket's start.
            b.first_config = int(bs.get("first_config", min(b.configs, default=0)))
            if len(bs["rungs"]) != len(b.rungs):
                raise SnapshotError(f"state: bracket {seq} must have {len(b.rungs)} rungs")
            for r, rs in zip(b.rungs, bs["rungs"], strict=True):
                r.size = rs["size"]
                r.resolved = int(rs["resolved"])
                r.queue = deque(int(c) for c in rs["queue"])
                r.jobs = {int(cid): int(jid) for cid, jid in rs["jobs"]}
                r.ranked = sorted((sign * float(v), int(cid)) for cid, v in rs["ranked"])
                r.promoted = {int(c) for c in rs["promoted"]}
                r.m = int(rs["m"])
                r.stopped = {int(c) for c in rs.get("stopped", ())}
                r.curves = load_curves(rs.get("curves", ()))
            self.active.append(b)
