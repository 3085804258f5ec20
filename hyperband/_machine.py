"""The Hyperband state machine. Every state transition lives in this file.

The machine is sans-IO: it never sleeps, spawns, reads a clock, touches the network or
the global RNG. Drivers call ``Hyperband.ask`` for a job, run it however they like,
and report back with ``Hyperband.tell`` or ``Hyperband.fail``.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._errors import (
    ArgumentTypeError,
    ConfigurationError,
    HyperbandError,
    InvalidResultError,
    JobResolvedError,
    SnapshotError,
    UnknownJobError,
    describe,
)
from ._jobs import DONE, WAIT, Best, Job, Result, Signal
from ._samplers import RandomSampler, Sampler
from ._schedule import Schedule, schedule

__all__ = ["EXEC_MODES", "MODES", "Hyperband"]

MODES = ("maximize", "minimize")
EXEC_MODES = ("parallelism", "serial")
SNAPSHOT_FORMAT = "hyperband.snapshot"
SNAPSHOT_VERSION = 1

Number = int | float
# A rung ranks its successes by (signed value, config_id), ascending = best first, so that
# ties go to the lower config_id in both modes.
Key = tuple[float, int]


class _Rung:
    """Mutable bookkeeping of one rung of a running bracket."""

    __slots__ = (
        "budget",
        "index",
        "jobs",
        "k",
        "m",
        "promoted",
        "queue",
        "ranked",
        "resolved",
        "size",
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
        self.resolved = 0  # told + failed
        self.promoted: set[int] = set()
        self.m = 0  # ranked[:m] is certain to be in the top k, and promoted


class _Bracket:
    """Mutable bookkeeping of one started, unfinished bracket."""

    __slots__ = ("configs", "iteration", "rungs", "s", "seq")

    def __init__(self, seq: int, iteration: int, s: int, sched: Schedule) -> None:
        self.seq = seq
        self.iteration = iteration
        self.s = s
        rungs = sched.bracket(s).rungs
        self.rungs = [
            _Rung(
                r.index,
                r.n_configs,
                r.budget,
                rungs[r.index + 1].n_configs if r.index + 1 < len(rungs) else 0,
            )
            for r in rungs
        ]
        self.configs: dict[int, dict[str, Any]] = {}


class Hyperband:
    """Hyperband as a deterministic ask/tell state machine.

    Args:
        space_or_sampler: a search space in NNI's JSON format (a dict), or a sampler: any
            object with ``sample(rng, n) -> list[dict]`` (and optionally
            ``observe(config, budget, value)``, called on every success).
        max_budget: the budget of the last rung of every bracket (NNI's ``R``).
        eta: the halving rate (> 1): each rung keeps the best ``1/eta``.
        min_budget: the smallest budget a rung may get.
        mode: ``"maximize"`` or ``"minimize"`` the objective.
        exec_mode: ``"parallelism"`` (a new bracket starts whenever no started bracket has a
            job to hand out) or ``"serial"`` (a bracket starts only after every job of the
            previous one is resolved).
        sizing: ``"li2018"`` or ``"table"`` (see [`hyperband.schedule`][hyperband.schedule]).
        iterations: how many times to run every bracket of the schedule; ``None`` runs forever.
        seed: an int >= 0; ``None`` draws fresh entropy (recorded in
            [`snapshot`][hyperband.Hyperband.snapshot]).
        integer_budgets: round non-integral budgets to ints (see
            [`hyperband.schedule`][hyperband.schedule]).

    Examples:
        >>> hb = Hyperband({"lr": {"_type": "loguniform", "_value": [1e-4, 1]}},
        ...                max_budget=9, eta=3, seed=0)
        >>> while not hb.done:
        ...     job = hb.ask()
        ...     _ = hb.tell(job.id, -abs(job.config["lr"] - 0.01) * job.budget)
        >>> hb.best.budget
        9
    """

    def __init__(
        self,
        space_or_sampler: Mapping[str, Any] | Sampler,
        max_budget: float = 81,
        eta: float = 3,
        min_budget: float = 1,
        *,
        mode: str = "maximize",
        exec_mode: str = "parallelism",
        sizing: str = "li2018",
        iterations: int | None = 1,
        seed: int | None = 0,
        integer_budgets: bool = False,
    ) -> None:
        self._schedule = schedule(
            max_budget, eta, min_budget=min_budget, sizing=sizing, integer_budgets=integer_budgets
        )
        if mode not in MODES:
            raise ConfigurationError(
                f"mode must be one of {', '.join(map(repr, MODES))}, got {describe(mode)}"
            )
        if exec_mode not in EXEC_MODES:
            raise ConfigurationError(
                f"exec_mode must be one of {', '.join(map(repr, EXEC_MODES))}, "
                f"got {describe(exec_mode)}"
            )
        iterations = _check_iterations(iterations)
        seed = _check_seed(seed)
        if isinstance(space_or_sampler, Mapping):
            sampler: Sampler = RandomSampler(space_or_sampler)
        elif callable(getattr(space_or_sampler, "sample", None)):
            sampler = space_or_sampler
        else:
            raise ArgumentTypeError(
                "space_or_sampler must be a search space (a dict in NNI's format) or a sampler "
                f"(an object with sample(rng, n)), got {describe(space_or_sampler)}"
            )

        self._sampler = sampler
        observe = getattr(sampler, "observe", None)
        self._observe = observe if callable(observe) else None
        self._params: dict[str, Any] = {
            "max_budget": max_budget,
            "eta": eta,
            "min_budget": min_budget,
            "mode": mode,
            "exec_mode": exec_mode,
            "sizing": sizing,
            "iterations": iterations,
            "seed": seed,
            "integer_budgets": integer_budgets,
        }
        self._sign = -1.0 if mode == "maximize" else 1.0
        self._serial = exec_mode == "serial"
        self._n_brackets = len(self._schedule.brackets)
        self._limit = None if iterations is None else iterations * self._n_brackets
        self._seed = seed

        self._next_job_id = 0
        self._next_config_id = 0
        self._next_seq = 0  # sequence number of the next bracket to start
        self._active: list[_Bracket] = []  # started, unfinished brackets, oldest first
        self._pending: dict[int, tuple[Job, _Bracket]] = {}
        self._best: Best | None = None
        self._best_budget: Number = -math.inf
        self._best_key: Key = (math.inf, -1)
        self._n_succeeded = 0
        self._n_failed = 0

    # ------------------------------------------------------------------ public API

    def ask(self) -> Job | Signal:
        """Hand out the next job, or a signal when there is none right now.

        Promotions of the oldest started bracket come first (the deepest rung first);
        then, in ``"parallelism"`` mode, a new bracket starts when no started bracket has a
        job to hand out.

        Returns:
            A [`Job`][hyperband.Job]; ``WAIT`` when every runnable job is out (tell or fail one
            first); ``DONE`` when every bracket of every iteration is resolved.
        """
        for b in self._active:
            job = self._take(b)
            if job is not None:
                return job
        if self._serial and self._active:
            return WAIT
        if self._limit is not None and self._next_seq >= self._limit:
            return WAIT if self._active else DONE
        b = self._start_bracket()
        job = self._take(b)
        if job is None:  # pragma: no cover - rung 0 always has at least one configuration
            raise AssertionError("a new bracket has no job to hand out")
        return job

    def tell(self, job_id: int, value: Any) -> Result:
        """Report a job's result.

        Args:
            job_id: the id of a pending job.
            value: a finite number, or a dict with a finite number under ``"default"`` (NNI's
                metric format; the other keys are kept in the returned ``Result.extra``).

        Returns:
            The [`Result`][hyperband.Result] recorded.

        Raises:
            UnknownJobError: the id was never handed out (a ``KeyError``).
            JobResolvedError: the job was already told or failed (a ``KeyError``).
            ArgumentTypeError: the id is not an int.
            InvalidResultError: the value is not a finite number or such a dict.
        """
        entry = self._pending.get(job_id) if type(job_id) is int else None
        if entry is None:
            entry = self._lookup(job_id)
        job, b = entry
        if type(value) is float and value - value == 0.0:  # finite float: the common case
            v = value
            extra: dict[str, Any] = {}
        else:
            v, extra = self._parse_value(job.id, value)
        # Validation is over: from here on nothing raises, so a bad call changes nothing.
        del self._pending[job.id]
        rung = b.rungs[job.rung]
        key = (self._sign * v, job.config_id)
        ranked = rung.ranked
        pos = bisect.bisect_left(ranked, key)
        ranked.insert(pos, key)
        rung.resolved += 1
        self._n_succeeded += 1
        budget = job.budget
        if budget > self._best_budget or (budget == self._best_budget and key < self._best_key):
            self._best_budget = budget
            self._best_key = key
            self._best = Best(job.config, v, budget, job.id, job.config_id)
        self._promote(b, rung, pos)
        if self._observe is not None:
            self._observe(job.config, budget, v)
        return Result(job, "succeeded", v, extra)

    def fail(self, job_id: int, reason: str = "") -> Result:
        """Report that a job failed. A failed job is never promoted and never stalls its rung.

        Args:
            job_id: the id of a pending job.
            reason: why it failed (kept in the returned ``Result.error``).

        Returns:
            The [`Result`][hyperband.Result] recorded.

        Raises:
            UnknownJobError: the id was never handed out.
            JobResolvedError: the job was already told or failed.
            ArgumentTypeError: the id is not an int, or the reason is not a str.
        """
        job, b = self._lookup(job_id)
        if not isinstance(reason, str):
            raise ArgumentTypeError(f"reason must be a str, got {describe(reason)}")
        del self._pending[job.id]
        rung = b.rungs[job.rung]
        rung.resolved += 1
        self._n_failed += 1
        self._promote(b, rung, None)
        return Result(job, "failed", None, {}, reason)

    @property
    def best(self) -> Best | None:
        """The best successful result at the largest budget any successful job reached.

        Ties go to the lower ``config_id``. ``None`` before the first success.
        """
        return self._best

    @property
    def done(self) -> bool:
        """True when every bracket of every iteration is resolved (never, if unlimited)."""
        return not self._active and self._limit is not None and self._next_seq >= self._limit

    @property
    def pending(self) -> tuple[Job, ...]:
        """The jobs handed out and not yet told or failed, oldest first."""
        return tuple(job for job, _ in self._pending.values())

    @property
    def schedule(self) -> Schedule:
        """The bracket schedule of one iteration."""
        return self._schedule

    @property
    def sampler(self) -> Sampler:
        """The sampler drawing the configurations."""
        return self._sampler

    @property
    def seed(self) -> int:
        """The seed (the drawn entropy when built with ``seed=None``)."""
        return self._seed

    @property
    def mode(self) -> str:
        """``"maximize"`` or ``"minimize"``."""
        return str(self._params["mode"])

    @property
    def exec_mode(self) -> str:
        """``"parallelism"`` or ``"serial"``."""
        return str(self._params["exec_mode"])

    @property
    def n_succeeded(self) -> int:
        """How many jobs were told."""
        return self._n_succeeded

    @property
    def n_failed(self) -> int:
        """How many jobs failed."""
        return self._n_failed

    @property
    def n_asked(self) -> int:
        """How many jobs were handed out."""
        return self._next_job_id

    @property
    def params(self) -> dict[str, Any]:
        """The constructor arguments (with the seed actually used)."""
        return dict(self._params)

    def __repr__(self) -> str:
        p = self._params
        return (
            f"Hyperband(max_budget={p['max_budget']!r}, eta={p['eta']!r}, "
            f"min_budget={p['min_budget']!r}, mode={p['mode']!r}, exec_mode={p['exec_mode']!r}, "
            f"sizing={p['sizing']!r}, iterations={p['iterations']!r}, seed={p['seed']!r}; "
            f"{self._next_job_id} asked, {len(self._pending)} pending)"
        )

    # ------------------------------------------------------------------ transitions

    def _start_bracket(self) -> _Bracket:
        seq = self._next_seq
        iteration, offset = divmod(seq, self._n_brackets)
        s = self._schedule.s_max - offset
        b = _Bracket(seq, iteration, s, self._schedule)
        rung0 = b.rungs[0]
        n = rung0.target
        # One RNG per (seed, iteration, bracket): the configurations do not depend on the
        # order of results or on how many jobs run at once.
        rng = np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=(iteration, s)))
        configs = self._sampler.sample(rng, n)
        if not isinstance(configs, list) or len(configs) != n:
            raise HyperbandError(
                f"sampler.sample(rng, {n}) must return a list of {n} dicts, got {describe(configs)}"
            )
        cid = self._next_config_id
        for config in configs:
            if not isinstance(config, dict):
                raise HyperbandError(
                    f"sampler.sample(rng, n) must return dicts, got an item {describe(config)}"
                )
            b.configs[cid] = config
            rung0.queue.append(cid)
            cid += 1
        rung0.size = n
        self._next_config_id = cid
        self._next_seq = seq + 1
        self._active.append(b)
        return b

    def _take(self, b: _Bracket) -> Job | None:
        # Deeper rungs first: promotions are on the critical path of their bracket.
        for rung in reversed(b.rungs):
            if rung.queue:
                cid = rung.queue.popleft()
                jid = self._next_job_id
                self._next_job_id = jid + 1
                rung.jobs[cid] = jid
                if rung.index:
                    prev = b.rungs[rung.index - 1]
                    job = Job(
                        jid,
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
                    job = Job(jid, b.configs[cid], cid, rung.budget, b.s, 0, b.iteration)
                self._pending[jid] = (job, b)
                return job
        return None

    def _promote(self, b: _Bracket, rung: _Rung, pos: int | None) -> None:
        """Promote what became certain after a result on ``rung`` (inserted at ``pos``)."""
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
                    rung.m = m
            if size is None or rung.resolved != size:
                return
            if rung.index + 1 == len(b.rungs):
                self._active.remove(b)
                return
            # The rung closed, so the next rung's size is known now: that may make more of the
            # next rung's own results certain, so the same reasoning goes on one rung up.
            rung = b.rungs[rung.index + 1]
            rung.size = b.rungs[rung.index - 1].m
            pos = None

    # ------------------------------------------------------------------ validation

    def _seq_of(self, job: Job) -> int:
        return job.iteration * self._n_brackets + (self._schedule.s_max - job.bracket)

    def _lookup(self, job_id: object) -> tuple[Job, _Bracket]:
        if type(job_id) is not int:
            if isinstance(job_id, bool) or not isinstance(job_id, numbers.Integral):
                raise ArgumentTypeError(f"job_id must be an int, got {describe(job_id)}")
            job_id = int(job_id)
        assert isinstance(job_id, int)
        entry = self._pending.get(job_id)
        if entry is None:
            if 0 <= job_id < self._next_job_id:
                raise JobResolvedError(
                    f"job_id must be a pending job; job {job_id} was already told or failed"
                )
            raise UnknownJobError(
                f"job_id must be the id of a job handed out by ask() (0..{self._next_job_id - 1}"
                f"), got {describe(job_id)}"
            )
        return entry

    @staticmethod
    def _parse_value(job_id: int, value: object) -> tuple[float, dict[str, Any]]:
        extra: dict[str, Any] = {}
        raw = value
        if type(value) is dict:
            if "default" not in value:
                raise InvalidResultError(
                    f"value for job {job_id} must be a number or a dict with a 'default' key, "
                    f"got a dict with keys {sorted(map(str, value))}"
                )
            raw = value["default"]
            extra = {k: v for k, v in value.items() if k != "default"}
        where = "value['default']" if raw is not value else "value"
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            raise InvalidResultError(
                f"{where} for job {job_id} must be a finite real number, got {describe(raw)}"
            )
        v = float(raw)
        if not math.isfinite(v):
            raise InvalidResultError(
                f"{where} for job {job_id} must be finite (not NaN or inf), got {describe(raw)}"
            )
        return v, extra

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict[str, Any]:
        """The machine's whole state as a JSON-serialisable dict.

        ``Hyperband.restore(snapshot)`` rebuilds a machine that continues exactly as this
        one would. The search space is included when the machine was built from one.

        Examples:
            >>> import json
            >>> hb = Hyperband({"x": {"_type": "uniform", "_value": [0, 1]}}, max_budget=9)
            >>> job = hb.ask()
            >>> hb2 = Hyperband.restore(json.loads(json.dumps(hb.snapshot())))
            >>> hb2.pending == hb.pending
            True
        """
        sign = self._sign
        return {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "params": dict(self._params),
            "space": _space_of(self._sampler),
            "next_job_id": self._next_job_id,
            "next_config_id": self._next_config_id,
            "next_bracket": self._next_seq,
            "n_succeeded": self._n_succeeded,
            "n_failed": self._n_failed,
            "best": None if self._best is None else self._best.to_dict(),
            "brackets": [
                {
                    "seq": b.seq,
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
                        }
                        for r in b.rungs
                    ],
                }
                for b in self._active
            ],
            "pending": [j.to_dict() for j, _ in self._pending.values()],
        }

    @classmethod
    def restore(
        cls, state: Mapping[str, Any], space_or_sampler: Mapping[str, Any] | Sampler | None = None
    ) -> Hyperband:
        """Rebuild a machine from [`snapshot`][hyperband.Hyperband.snapshot].

        Args:
            state: a snapshot (possibly round-tripped through JSON).
            space_or_sampler: the search space or sampler; needed only when the machine was
                built from a custom sampler (a search space is stored in the snapshot).

        Raises:
            SnapshotError: the snapshot is malformed or from an unknown format version.
        """
        if not isinstance(state, Mapping) or state.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(
                f"state must be a dict made by Hyperband.snapshot() (format {SNAPSHOT_FORMAT!r})"
                f", got {describe(state)}"
            )
        if state.get("version") != SNAPSHOT_VERSION:
            raise SnapshotError(
                f"state['version'] must be {SNAPSHOT_VERSION}, got {describe(state.get('version'))}"
            )
        if space_or_sampler is None:
            space_or_sampler = state.get("space")
            if space_or_sampler is None:
                raise SnapshotError(
                    "space_or_sampler is required: the snapshot was made by a machine with a "
                    "custom sampler, which a snapshot cannot hold"
                )
        try:
            hb = cls(space_or_sampler, **state["params"])
            hb._load(state)
        except HyperbandError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SnapshotError(f"state is malformed: {type(exc).__name__}: {exc}") from exc
        return hb

    def _load(self, state: Mapping[str, Any]) -> None:
        sign = self._sign
        self._next_job_id = int(state["next_job_id"])
        self._next_config_id = int(state["next_config_id"])
        self._next_seq = int(state["next_bracket"])
        self._n_succeeded = int(state["n_succeeded"])
        self._n_failed = int(state["n_failed"])
        best = state["best"]
        if best is not None:
            self._best = Best(**best)
            self._best_budget = best["budget"]
            self._best_key = (sign * float(best["value"]), int(best["config_id"]))
        for bs in state["brackets"]:
            seq = int(bs["seq"])
            iteration, offset = divmod(seq, self._n_brackets)
            b = _Bracket(seq, iteration, self._schedule.s_max - offset, self._schedule)
            b.configs = {int(cid): c for cid, c in bs["configs"]}
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
            self._active.append(b)
        by_seq = {b.seq: b for b in self._active}
        for js in state["pending"]:
            job = Job(**js)
            seq = self._seq_of(job)
            # Jobs share their bracket's config dict, as freshly asked ones do.
            b = by_seq[seq]
            job = Job(**{**js, "config": b.configs[job.config_id]})
            self._pending[job.id] = (job, b)


def _check_iterations(iterations: object) -> int | None:
    if iterations is None:
        return None
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral):
        raise ArgumentTypeError(
            f"iterations must be an int >= 1 or None, got {describe(iterations)}"
        )
    if iterations < 1:
        raise ConfigurationError(
            f"iterations must be >= 1 (or None for no limit), got {describe(iterations)}"
        )
    return int(iterations)


def _check_seed(seed: object) -> int:
    if seed is None:
        # Fresh entropy, recorded in the params and the snapshot so the run can be repeated.
        entropy = np.random.SeedSequence().entropy
        assert isinstance(entropy, int)
        return entropy
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ArgumentTypeError(f"seed must be an int >= 0 or None, got {describe(seed)}")
    if seed < 0:
        raise ConfigurationError(f"seed must be >= 0, got {describe(seed)}")
    return int(seed)


def _space_of(sampler: object) -> Any:
    return sampler.space if isinstance(sampler, RandomSampler) else None
