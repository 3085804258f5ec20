"""The Hyperband state machine. Every state transition lives in this file.

The machine is sans-IO: it never sleeps, spawns, reads a clock, touches the network or
the global RNG. Drivers call ``Hyperband.ask`` for a job, run it however they like,
report intermediate values with ``Hyperband.report`` (which may stop the job early), and
report back with ``Hyperband.tell`` or ``Hyperband.fail``.

Two families of exec modes share the job, result and report bookkeeping:

- ``"parallelism"`` and ``"serial"`` run the brackets of the schedule as synchronous successive
  halving (``_Bracket``): a rung promotes its top ``n_{i+1}`` once that is certain;
- ``"asynchronous"`` runs one ASHA per bracket (``_ABracket``, Li et al., MLSys 2020):
  whenever a job is asked, the best configuration not yet promoted that ranks in the top
  ``floor(r / eta)`` of its rung's ``r`` results so far is promoted (deepest rung first);
  otherwise a new configuration starts, in a bracket chosen by a fixed, balanced order.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from collections import deque
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Union

import numpy as np

from hyperband.core.errors import (
    ArgumentTypeError,
    ConfigurationError,
    HyperbandError,
    InvalidResultError,
    JobResolvedError,
    SnapshotError,
    UnknownJobError,
    describe,
)
from hyperband.core.jobs import (
    CONTINUE,
    DONE,
    STOP,
    WAIT,
    Best,
    Decision,
    Job,
    Result,
    Signal,
    Stats,
)
from hyperband.core.sampling import (
    RandomSampler,
    Sampler,
    is_model_based,
    sampler_from_spec,
    sampler_spec,
)
from hyperband.core.schedule import DEFAULT_MAX_JOBS, Schedule, schedule
from hyperband.core.stopping import Peer, StoppingRule, StopView, make_rule, rule_spec

__all__ = ["EXEC_MODES", "MODES", "Hyperband"]

MODES = ("maximize", "minimize")
EXEC_MODES = ("parallelism", "serial", "asynchronous")
SNAPSHOT_FORMAT = "hyperband.snapshot"
SNAPSHOT_VERSION = 2
# Version 1 snapshots (before model-based samplers and early stopping) load unchanged: they lack
# only what a random sampler without a stopping rule does not need.
_READABLE_VERSIONS = (1, 2)

Number = int | float
# A rung ranks its successes by (loss, config_id), ascending = best first, so that ties go to
# the lower config_id in both modes. loss = value when minimizing, -value when maximizing.
Key = tuple[float, int]
Point = tuple[float, float]  # (step, loss) of a report


class _Rung:
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


class _Bracket:
    """Mutable bookkeeping of one started, unfinished synchronous bracket."""

    __slots__ = ("configs", "first_config", "iteration", "rungs", "s", "seq")

    def __init__(self, seq: int, iteration: int, s: int, sched: Schedule) -> None:
        self.seq = seq
        self.first_config = 0  # the config id of the bracket's configuration k = 0
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
        # config id -> configuration; a model-based sampler's are drawn when first asked.
        self.configs: dict[int, dict[str, Any]] = {}


class _ARung:
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


class _ABracket:
    """One asynchronous bracket ``s``: an ASHA over the rungs of the schedule's bracket ``s``."""

    __slots__ = ("configs", "iterations", "rungs", "s")

    def __init__(self, s: int, sched: Schedule) -> None:
        self.s = s
        self.rungs = [_ARung(r.index, r.budget) for r in sched.bracket(s).rungs]
        self.configs: dict[int, dict[str, Any]] = {}
        self.iterations: dict[int, int] = {}  # config id -> the iteration it started in


_AnyBracket = Union[_Bracket, _ABracket]  # noqa: UP007 - a runtime alias, kept 3.10-friendly


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


class Hyperband:
    """Hyperband as a deterministic ask/tell state machine.

    Args:
        space_or_sampler: a search space in NNI's JSON format (a dict), or a sampler: any
            object with ``sample(rng, n) -> list[dict]``. A sampler that also has
            ``observe(config, budget, loss)`` is model-based (`hyperband.ModelSampler`,
            e.g. `hyperband.KDESampler`): its configurations are drawn one at a time,
            when first asked, and it observes every result.
        max_budget: the budget of the last rung of every bracket (NNI's ``R``).
        eta: the halving rate (> 1): each rung keeps the best ``1/eta``.
        min_budget: the smallest budget a rung may get.
        mode: ``"maximize"`` or ``"minimize"`` the objective.
        exec_mode: ``"parallelism"`` (a new bracket starts whenever no started bracket has a
            job to hand out), ``"serial"`` (a bracket starts only after every job of the
            previous one is resolved), or ``"asynchronous"`` (ASHA: promote as soon as a
            configuration ranks in the top ``1/eta`` of its rung's results so far; never wait).
        sizing: ``"li2018"`` or ``"table"`` (see `hyperband.schedule`).
        iterations: how many times to run every bracket of the schedule; ``None`` runs forever.
            In ``"asynchronous"`` mode: how many times to start the schedule's rung-0
            configurations (``sum of n_0(s)`` per iteration).
        seed: an int >= 0; ``None`` draws fresh entropy (recorded in `snapshot`).
        integer_budgets: round non-integral budgets to ints (see `hyperband.schedule`).
        early_stop: ``None`` (no early stopping: `report` only records), ``"median"``
            (`hyperband.MedianRule`), ``"rung"`` (`hyperband.RungRule`), or any object with
            ``should_stop(view) -> bool`` (`hyperband.StoppingRule`).
        max_jobs: refuse a schedule of more jobs per iteration than this (see
            `hyperband.schedule`); ``None`` for no bound.

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
        early_stop: Any = None,
        max_jobs: int | None = DEFAULT_MAX_JOBS,
    ) -> None:
        self._schedule = schedule(
            max_budget,
            eta,
            min_budget=min_budget,
            sizing=sizing,
            integer_budgets=integer_budgets,
            max_jobs=max_jobs,
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
        rule = make_rule(early_stop)
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
        self._lazy = is_model_based(sampler)
        self._observe = sampler.observe if self._lazy else None  # type: ignore[attr-defined]
        # Every observe() call, in order: a snapshot rebuilds a model-based sampler from it.
        self._observed: list[tuple[dict[str, Any], Number, float | None]] = []
        self._rule: StoppingRule | None = rule
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
            "early_stop": rule_spec(rule),
        }
        if max_jobs != DEFAULT_MAX_JOBS:
            # Kept out of the params unless changed, so journals and snapshots of the usual
            # studies stay as they were.
            self._params["max_jobs"] = max_jobs
        self._sign = -1.0 if mode == "maximize" else 1.0
        self._serial = exec_mode == "serial"
        self._async = exec_mode == "asynchronous"
        self._eta = Fraction(self._schedule.eta)
        self._n_brackets = len(self._schedule.brackets)
        self._limit = None if iterations is None else iterations * self._n_brackets
        self._seed = seed

        self._next_job_id = 0
        self._next_config_id = 0
        self._next_seq = 0  # sequence number of the next bracket to start
        self._active: list[_Bracket] = []  # started, unfinished brackets, oldest first
        self._pending: dict[int, tuple[Job, _AnyBracket]] = {}
        self._best: Best | None = None
        self._best_budget: Number = -math.inf
        self._best_key: Key = (math.inf, -1)
        self._n_succeeded = 0
        self._n_failed = 0
        self._n_stopped = 0
        self._n_reports = 0
        self._n_promoted = 0
        # Reports of pending jobs: job id -> its curve of (step, loss).
        self._curves: dict[int, list[Point]] = {}
        # Stopped jobs: job id -> their result, returned again by a late tell/fail/report.
        self._stopped: dict[int, Result] = {}
        # With a stopping rule: the curves of succeeded jobs per budget segment
        # (previous budget or 0, budget), for rules that compare across brackets, each with
        # the running sums of its losses (so a running average at a step costs one bisect).
        self._segments: dict[
            tuple[Number, Number], list[tuple[tuple[Point, ...], tuple[float, ...]]]
        ] = {}

        # Asynchronous mode: one ASHA per bracket, new configurations in a fixed order.
        self._order: tuple[int, ...] = ()
        self._order_k: tuple[int, ...] = ()
        self._abrackets: dict[int, _ABracket] = {}
        self._arungs: list[tuple[_ABracket, _ARung]] = []  # promotion sources, deepest first
        self._next_new = 0  # new configurations started so far
        self._batches: dict[tuple[int, int], list[dict[str, Any]]] = {}  # (iteration, s)
        if self._async:
            self._order = bracket_order(self._schedule)
            seen: dict[int, int] = {}
            ks = []
            for s in self._order:
                ks.append(seen.get(s, 0))
                seen[s] = ks[-1] + 1
            self._order_k = tuple(ks)
            self._abrackets = {b.s: _ABracket(b.s, self._schedule) for b in self._schedule.brackets}
            sources = [(ab, rung) for ab in self._abrackets.values() for rung in ab.rungs[:-1]]
            # Deepest first: the rung feeding the largest budget, then the more aggressive
            # bracket (larger s) on a tie.
            sources.sort(key=lambda pair: (-pair[0].rungs[pair[1].index + 1].budget, -pair[0].s))
            self._arungs = sources

    # ------------------------------------------------------------------ public API

    def ask(self) -> Job | Signal:
        """Hand out the next job, or a signal when there is none right now.

        Synchronous modes: promotions of the oldest started bracket come first (the deepest
        rung first); then, in ``"parallelism"`` mode, a new bracket starts when no started
        bracket has a job to hand out. ``"asynchronous"`` mode: a promotion if any
        configuration ranks in the top ``floor(r / eta)`` of its rung's ``r`` results so far
        (deepest rung first, the best such configuration), else a new configuration.

        Returns:
            A `Job`; ``WAIT`` when every runnable job is out (tell or fail one first);
            ``DONE`` when every bracket of every iteration is resolved.
        """
        if self._async:
            return self._ask_async()
        for b in self._active:
            job = self._take(b)
            if job is not None:
                return job
        if self._serial and self._active:
            return WAIT
        if self._limit is not None and self._next_seq >= self._limit:
            return WAIT if self._active else DONE
        b = self._start_bracket()
        try:
            job = self._take(b)
        except BaseException:
            # A model-based sampler failed on the bracket's first draw: take the start back,
            # so that a bad call changes nothing.
            self._active.pop()
            self._next_seq = b.seq
            self._next_config_id = b.first_config
            raise
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
            The `Result` recorded. For a job the stopping rule already stopped (its result
            raced the stop), the stopped result, unchanged: the value is validated, not used.

        Raises:
            UnknownJobError: the id was never handed out (a ``KeyError``).
            JobResolvedError: the job was already told or failed (a ``KeyError``).
            ArgumentTypeError: the id is not an int.
            InvalidResultError: the value is not a finite number or such a dict.
        """
        entry = self._pending.get(job_id) if type(job_id) is int else None
        if entry is None:
            late = self._late(job_id)
            if late is not None:
                self._parse_value(job_id, value)
                return late
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
        if isinstance(rung, _ARung) and job.rung + 1 < len(b.rungs):
            bisect.insort(rung.unpromoted, key)
        self._n_succeeded += 1
        budget = job.budget
        if budget > self._best_budget or (budget == self._best_budget and key < self._best_key):
            self._best_budget = budget
            self._best_key = key
            self._best = Best(job.config, v, budget, job.id, job.config_id)
        if self._rule is not None or self._curves:
            self._close_curve(job, rung, (float(budget), key[0]))
        if isinstance(b, _Bracket):
            assert isinstance(rung, _Rung)
            rung.resolved += 1
            self._promote(b, rung, pos)
        if self._observe is not None:
            self._observed.append((job.config, budget, key[0]))
            self._observe(job.config, budget, key[0])
        return Result(job, "succeeded", v, extra, None, budget)

    def fail(self, job_id: int, reason: str = "") -> Result:
        """Report that a job failed. A failed job is never promoted and never stalls its rung.

        Args:
            job_id: the id of a pending job.
            reason: why it failed (kept in the returned ``Result.error``).

        Returns:
            The `Result` recorded; for a job already stopped early, its stopped result.

        Raises:
            UnknownJobError: the id was never handed out.
            JobResolvedError: the job was already told or failed.
            ArgumentTypeError: the id is not an int, or the reason is not a str.
        """
        if not isinstance(reason, str):
            raise ArgumentTypeError(f"reason must be a str, got {describe(reason)}")
        late = self._late(job_id)
        if late is not None:
            return late
        job, b = self._lookup(job_id)
        del self._pending[job.id]
        rung = b.rungs[job.rung]
        self._n_failed += 1
        if self._rule is not None or self._curves:
            self._close_curve(job, rung, None)
        if isinstance(b, _Bracket):
            assert isinstance(rung, _Rung)
            rung.resolved += 1
            self._promote(b, rung, None)
        if self._observe is not None:
            self._observed.append((job.config, job.budget, None))
            self._observe(job.config, job.budget, None)
        return Result(job, "failed", None, {}, reason)

    def report(self, job_id: int, step: object, value: Any) -> Decision:
        """Report an intermediate value of a running job; the stopping rule may stop it.

        Args:
            job_id: the id of a pending job.
            step: where in its training, in budget units: in ``(previous_budget or 0, budget]``
                and not below the job's previous report's step (equal replaces nothing: the
                later report at a step is the one that counts).
            value: as for `tell`: a finite number or a dict with one under ``"default"``.

        Returns:
            ``CONTINUE``, or ``STOP``: the job is resolved now with status ``"stopped"`` and
            this value (see `Result`); it will not be promoted, and its rung goes on as if it
            had failed. Without a stopping rule (``early_stop=None``) always ``CONTINUE``, and
            so is a report at the job's budget (stopping then saves nothing). A report for a
            job already stopped answers ``STOP`` again, changing nothing.

        Raises:
            UnknownJobError: the id was never handed out.
            JobResolvedError: the job was already told or failed.
            ArgumentTypeError: the id or the step is not a number of the right kind.
            ConfigurationError: the step is outside the job's segment or goes backwards.
            InvalidResultError: the value is not a finite number or such a dict.
        """
        if self._late(job_id) is not None:
            return STOP
        job, b = self._lookup(job_id)
        if isinstance(step, bool) or not isinstance(step, numbers.Real):
            raise ArgumentTypeError(
                f"step for job {job.id} must be a real number, got {describe(step)}"
            )
        t = float(step)
        if not math.isfinite(t):
            raise ConfigurationError(f"step for job {job.id} must be finite, got {describe(step)}")
        start = job.previous_budget or 0
        curve = self._curves.get(job.id)
        last = curve[-1][0] if curve else None
        if not start < t <= job.budget:
            raise ConfigurationError(
                f"step for job {job.id} must be in ({start}, {job.budget}] (its budget segment, "
                f"in budget units), got {describe(step)}"
            )
        if last is not None and t < last:
            raise ConfigurationError(
                f"step for job {job.id} must not go backwards: its last report was at step "
                f"{last:g}, got {describe(step)}"
            )
        v, _ = self._parse_value(job.id, value)
        # Validation is over.
        loss = self._sign * v
        self._n_reports += 1
        if curve is None:
            curve = self._curves[job.id] = []
            if self._rule is not None:
                b.rungs[job.rung].curves[job.config_id] = curve
        curve.append((t, loss))
        # A report at the budget itself is not judged: stopping then saves nothing, and the
        # job's result is on its way.
        if (
            self._rule is None
            or t >= job.budget
            or not self._rule.should_stop(self._view(job, b, t, loss, curve))
        ):
            return CONTINUE
        self._stop(job, b, t, v)
        return STOP

    def reports(self, job_id: int) -> tuple[tuple[Number, float], ...]:
        """A pending job's intermediate reports so far, as ``(step, value)`` pairs in order.

        A driver that runs a job again (a retry, or a study resumed from its journal) uses the
        last step to let the new attempt catch up without reporting backwards.

        Raises:
            UnknownJobError: the id was never handed out.
            JobResolvedError: the job is not pending.
        """
        job, _ = self._lookup(job_id)
        sign = self._sign
        return tuple((_plain(step), sign * loss) for step, loss in self._curves.get(job.id, ()))

    @property
    def best(self) -> Best | None:
        """The best successful result at the largest budget any successful job reached.

        Ties go to the lower ``config_id``. ``None`` before the first success. A stopped job
        is never the best.
        """
        return self._best

    @property
    def done(self) -> bool:
        """True when every bracket of every iteration is resolved (never, if unlimited)."""
        if self._async:
            return (
                self._limit is not None
                and self._next_new >= self._async_total()
                and not self._pending
                and self._async_candidate() is None
            )
        return not self._active and self._limit is not None and self._next_seq >= self._limit

    @property
    def pending(self) -> tuple[Job, ...]:
        """The jobs handed out and not yet told, failed or stopped, oldest first."""
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
    def early_stop(self) -> StoppingRule | None:
        """The stopping rule, ``None`` without early stopping."""
        return self._rule

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
        """``"parallelism"``, ``"serial"`` or ``"asynchronous"``."""
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
    def n_stopped(self) -> int:
        """How many jobs the stopping rule stopped."""
        return self._n_stopped

    @property
    def n_asked(self) -> int:
        """How many jobs were handed out."""
        return self._next_job_id

    @property
    def stats(self) -> Stats:
        """The machine's counters, mispromotions included (see `Stats`)."""
        return Stats(
            self._next_job_id,
            self._n_succeeded,
            self._n_failed,
            self._n_stopped,
            self._n_reports,
            self._n_promoted,
            self._mispromoted(),
        )

    @property
    def params(self) -> dict[str, Any]:
        """The constructor arguments (with the seed actually used)."""
        return dict(self._params)

    def __repr__(self) -> str:
        p = self._params
        return (
            f"Hyperband(max_budget={p['max_budget']!r}, eta={p['eta']!r}, "
            f"min_budget={p['min_budget']!r}, mode={p['mode']!r}, exec_mode={p['exec_mode']!r}, "
            f"sizing={p['sizing']!r}, iterations={p['iterations']!r}, seed={p['seed']!r}"
            + ("" if self._rule is None else f", early_stop={self._rule!r}")
            + f"; {self._next_job_id} asked, {len(self._pending)} pending)"
        )

    # ------------------------------------------------------------------ synchronous brackets

    def _start_bracket(self) -> _Bracket:
        seq = self._next_seq
        iteration, offset = divmod(seq, self._n_brackets)
        s = self._schedule.s_max - offset
        b = _Bracket(seq, iteration, s, self._schedule)
        rung0 = b.rungs[0]
        n = rung0.target
        cid = b.first_config = self._next_config_id
        if self._lazy:
            rung0.queue.extend(range(cid, cid + n))
            cid += n
        else:
            for config in self._batch(iteration, s, n):
                b.configs[cid] = config
                rung0.queue.append(cid)
                cid += 1
        rung0.size = n
        self._next_config_id = cid
        self._next_seq = seq + 1
        self._active.append(b)
        return b

    def _batch(self, iteration: int, s: int, n: int) -> list[dict[str, Any]]:
        """A batch sampler's ``n`` configurations of bracket ``s`` of ``iteration``."""
        # One RNG per (seed, iteration, bracket): the configurations do not depend on the
        # order of results, on how many jobs run at once, or on the exec mode.
        rng = np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=(iteration, s)))
        configs = self._sampler.sample(rng, n)
        _check_configs(configs, n, "sampler.sample(rng, n)")
        return configs

    def _draw(self, iteration: int, s: int, k: int) -> dict[str, Any]:
        """A model-based sampler's configuration ``k`` of a bracket, drawn now."""
        rng = np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=(iteration, s, k)))
        pending = tuple((job.config, job.budget) for job, _ in self._pending.values())
        configs = self._sampler.sample(rng, 1, pending=pending)  # type: ignore[call-arg]
        _check_configs(configs, 1, "sampler.sample(rng, 1, pending=...)")
        config: dict[str, Any] = configs[0]
        return config

    def _take(self, b: _Bracket) -> Job | None:
        # Deeper rungs first: promotions are on the critical path of their bracket.
        for rung in reversed(b.rungs):
            if rung.queue:
                if rung.index == 0 and rung.queue[0] not in b.configs:
                    # Drawn before anything changes, so a sampler error leaves the machine as
                    # it was.
                    cid = rung.queue[0]
                    b.configs[cid] = self._draw(b.iteration, b.s, cid - b.first_config)
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
                            self._n_promoted += 1
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

    # ------------------------------------------------------------------ asynchronous brackets

    def _async_total(self) -> int:
        assert self._limit is not None
        return (self._limit // self._n_brackets) * len(self._order)

    def _async_candidate(self) -> tuple[_ABracket, _ARung, int] | None:
        """The promotion ASHA makes now: the best not-yet-promoted configuration in the top
        ``floor(r / eta)`` of a rung, deepest rung first."""
        for ab, rung in self._arungs:
            head = rung.unpromoted
            if not head:
                continue
            top = rung.n_top(self._eta)
            if top > len(rung.promoted) and bisect.bisect_left(rung.ranked, head[0]) < top:
                return ab, rung, head[0][1]
        return None

    def _ask_async(self) -> Job | Signal:
        found = self._async_candidate()
        if found is not None:
            ab, rung, cid = found
            nxt = ab.rungs[rung.index + 1]
            jid = self._next_job_id
            self._next_job_id = jid + 1
            rung.promoted.add(cid)
            del rung.unpromoted[0]
            self._n_promoted += 1
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
            self._pending[jid] = (job, ab)
            return job
        if self._limit is not None and self._next_new >= self._async_total():
            return WAIT if self._pending else DONE
        iteration, pos = divmod(self._next_new, len(self._order))
        s, k = self._order[pos], self._order_k[pos]
        # Drawn before anything changes, so a sampler error leaves the machine as it was.
        if self._lazy:
            config = self._draw(iteration, s, k)
        else:
            batch = self._batches.get((iteration, s))
            if batch is None:
                n = self._schedule.bracket(s).rungs[0].n_configs
                batch = self._batches[iteration, s] = self._batch(iteration, s, n)
            config = batch[k]
            if k + 1 == len(batch):
                del self._batches[iteration, s]
        ab = self._abrackets[s]
        cid = self._next_config_id
        self._next_config_id = cid + 1
        self._next_new += 1
        ab.configs[cid] = config
        ab.iterations[cid] = iteration
        jid = self._next_job_id
        self._next_job_id = jid + 1
        rung0 = ab.rungs[0]
        rung0.jobs[cid] = jid
        job = Job(jid, config, cid, rung0.budget, s, 0, iteration)
        self._pending[jid] = (job, ab)
        return job

    def _mispromoted(self) -> int:
        if not self._async:
            return 0  # a synchronous promotion waits until it is certain
        count = 0
        for _, rung in self._arungs:
            if rung.promoted:
                top = {cid for _, cid in rung.ranked[: rung.n_top(self._eta)]}
                count += len(rung.promoted - top)
        return count

    # ------------------------------------------------------------------ reports and stops

    def _late(self, job_id: object) -> Result | None:
        """The result of a job already stopped, for a tell/fail/report that raced the stop."""
        if not self._stopped or type(job_id) is not int:
            return None
        return self._stopped.get(job_id)

    def _view(
        self, job: Job, b: _AnyBracket, step: float, loss: float, curve: list[Point]
    ) -> StopView:
        rung = b.rungs[job.rung]
        last = job.rung + 1 == len(b.rungs)
        if isinstance(b, _Bracket):
            assert isinstance(rung, _Rung)
            size = rung.target if rung.size is None else rung.size
            k = rung.k
        else:
            size = len(rung.jobs)
            k = 0 if last else max(1, math.floor(Fraction(size) / self._eta))
        pending = self._pending

        def rung_peers() -> tuple[Peer, ...]:
            out = []
            stopped = rung.stopped
            for cid, points in rung.curves.items():
                if cid == job.config_id:
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

        def values_at(t: float) -> list[tuple[float, int]]:
            # A tight loop over the machine's own curves: the rules' hot path.
            out = []
            me = job.config_id
            probe = (t, math.inf)  # sorts after every point at step t
            for cid, points in rung.curves.items():
                # A peer has reached t when its last point is at or past it (a succeeded one
                # ends at its budget, which is >= t).
                if cid == me or not points or points[-1][0] < t:
                    continue
                i = bisect.bisect_right(points, probe)
                if i:
                    out.append((points[i - 1][1], cid))
            return out

        segment = (job.previous_budget or 0, job.budget)

        def segment_peers() -> tuple[tuple[Point, ...], ...]:
            return tuple(c for c, _ in self._segments.get(segment, ()))

        def averages_at(t: float) -> list[float]:
            out = []
            probe = (t, math.inf)
            for points, sums in self._segments.get(segment, ()):
                i = bisect.bisect_right(points, probe)
                if i:
                    out.append(sums[i - 1] / i)
            return out

        return StopView(
            job,
            step,
            loss,
            tuple(curve),
            k,
            size,
            float(self._eta),
            rung_peers=rung_peers,
            segment_peers=segment_peers,
            values_at=values_at,
            averages_at=averages_at,
        )

    def _close_curve(self, job: Job, rung: _Rung | _ARung, final: Point | None) -> None:
        """A job was resolved: keep its curve for the rules, or forget it."""
        curve = self._curves.pop(job.id, None)
        if self._rule is None:
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
        self._segments.setdefault(segment, []).append(_with_sums(tuple(curve)))

    def _stop(self, job: Job, b: _AnyBracket, step: float, value: float) -> None:
        del self._pending[job.id]
        self._curves.pop(job.id, None)
        rung = b.rungs[job.rung]
        rung.stopped.add(job.config_id)
        self._n_stopped += 1
        result = Result(job, "stopped", value, {}, None, _plain(step))
        self._stopped[job.id] = result
        if isinstance(b, _Bracket):
            assert isinstance(rung, _Rung)
            rung.resolved += 1
            self._promote(b, rung, None)
        if self._observe is not None:
            loss = self._sign * value
            self._observed.append((job.config, _plain(step), loss))
            self._observe(job.config, _plain(step), loss)

    # ------------------------------------------------------------------ validation

    def _seq_of(self, job: Job) -> int:
        return job.iteration * self._n_brackets + (self._schedule.s_max - job.bracket)

    def _lookup(self, job_id: object) -> tuple[Job, _AnyBracket]:
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
        one would. The search space is included when the machine was built from one; a
        model-based sampler is described by its observations, replayed on restore.

        Examples:
            >>> import json
            >>> hb = Hyperband({"x": {"_type": "uniform", "_value": [0, 1]}}, max_budget=9)
            >>> job = hb.ask()
            >>> hb2 = Hyperband.restore(json.loads(json.dumps(hb.snapshot())))
            >>> hb2.pending == hb.pending
            True
        """
        sign = self._sign
        state: dict[str, Any] = {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "params": dict(self._params),
            "space": _space_of(self._sampler),
            "sampler": sampler_spec(self._sampler),
            "observations": [[c, budget, loss] for c, budget, loss in self._observed],
            "next_job_id": self._next_job_id,
            "next_config_id": self._next_config_id,
            "next_bracket": self._next_seq,
            "n_succeeded": self._n_succeeded,
            "n_failed": self._n_failed,
            "n_stopped": self._n_stopped,
            "n_reports": self._n_reports,
            "n_promoted": self._n_promoted,
            "best": None if self._best is None else self._best.to_dict(),
            "brackets": [
                {
                    "seq": b.seq,
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
                            "curves": _dump_curves(r.curves),
                        }
                        for r in b.rungs
                    ],
                }
                for b in self._active
            ],
            "pending": [j.to_dict() for j, _ in self._pending.values()],
            "reports": [[jid, [list(p) for p in c]] for jid, c in self._curves.items()],
            "stopped": [
                {"job": r.job.to_dict(), "value": r.value, "step": r.step}
                for r in self._stopped.values()
            ],
            "segments": [
                [list(seg), [[list(p) for p in c] for c, _ in pairs]]
                for seg, pairs in self._segments.items()
            ],
        }
        if self._async:
            state["async"] = {
                "next_new": self._next_new,
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
                                "curves": _dump_curves(r.curves),
                            }
                            for r in ab.rungs
                        ],
                    }
                    for ab in self._abrackets.values()
                ],
            }
        return state

    @classmethod
    def restore(
        cls,
        state: Mapping[str, Any],
        space_or_sampler: Mapping[str, Any] | Sampler | None = None,
        *,
        early_stop: Any = None,
    ) -> Hyperband:
        """Rebuild a machine from `snapshot`.

        Args:
            state: a snapshot (possibly round-tripped through JSON).
            space_or_sampler: the search space or sampler; needed only when the machine was
                built from a custom sampler (a search space, and the samplers hyperband names,
                are stored in the snapshot). Pass a *fresh* model-based sampler: the snapshot's
                observations are replayed into it.
            early_stop: the stopping rule; needed only for a custom rule (the named ones are
                stored in the snapshot).

        Raises:
            SnapshotError: the snapshot is malformed or from an unknown format version.
        """
        if not isinstance(state, Mapping) or state.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(
                f"state must be a dict made by Hyperband.snapshot() (format {SNAPSHOT_FORMAT!r})"
                f", got {describe(state)}"
            )
        if state.get("version") not in _READABLE_VERSIONS:
            raise SnapshotError(
                f"state['version'] must be one of {_READABLE_VERSIONS}, got "
                f"{describe(state.get('version'))}"
            )
        if space_or_sampler is None:
            spec = state.get("sampler")
            if isinstance(spec, Mapping):
                try:
                    space_or_sampler = sampler_from_spec(spec)
                except HyperbandError:
                    raise
                except (KeyError, TypeError, ValueError) as exc:
                    raise SnapshotError(
                        f"state['sampler'] is malformed: {type(exc).__name__}: {exc}"
                    ) from exc
            else:
                space_or_sampler = state.get("space")
            if space_or_sampler is None:
                raise SnapshotError(
                    "space_or_sampler is required: the snapshot was made by a machine with a "
                    "custom sampler, which a snapshot cannot hold (pass a fresh one: its "
                    "observations are replayed into it)"
                )
        try:
            params = dict(state["params"])
            if early_stop is not None:
                params["early_stop"] = early_stop
            hb = cls(space_or_sampler, **params)
            hb._load(state)
        except HyperbandError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AssertionError) as exc:
            raise SnapshotError(f"state is malformed: {type(exc).__name__}: {exc}") from exc
        return hb

    def _load(self, state: Mapping[str, Any]) -> None:
        sign = self._sign
        self._next_job_id = int(state["next_job_id"])
        self._next_config_id = int(state["next_config_id"])
        self._next_seq = int(state["next_bracket"])
        self._n_succeeded = int(state["n_succeeded"])
        self._n_failed = int(state["n_failed"])
        self._n_stopped = int(state.get("n_stopped", 0))
        self._n_reports = int(state.get("n_reports", 0))
        self._n_promoted = int(state.get("n_promoted", 0))
        observations = state.get("observations") or []
        if observations and self._observe is None:
            raise SnapshotError(
                f"state holds {len(observations)} observations of a model-based sampler, but "
                f"the sampler given has no observe(): got {describe(self._sampler)}"
            )
        for config, budget, loss in observations:
            entry = (config, budget, None if loss is None else float(loss))
            self._observed.append(entry)
            assert self._observe is not None
            self._observe(*entry)
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
                r.curves = _load_curves(rs.get("curves", ()))
            self._active.append(b)
        by_seq = {b.seq: b for b in self._active}
        if self._async:
            self._load_async(state["async"], sign)
        for js in state["pending"]:
            job = Job(**js)
            if self._async:
                ab = self._abrackets[job.bracket]
                job = Job(**{**js, "config": ab.configs[job.config_id]})
                self._pending[job.id] = (job, ab)
                continue
            # Jobs share their bracket's config dict, as freshly asked ones do.
            sb = by_seq[self._seq_of(job)]
            job = Job(**{**js, "config": sb.configs[job.config_id]})
            self._pending[job.id] = (job, sb)
        for jid, points in state.get("reports", ()):
            curve = [(float(step), float(loss)) for step, loss in points]
            pjob, pb = self._pending[int(jid)]
            self._curves[pjob.id] = curve
            if self._rule is not None:
                # The rung's view of a running job is the very list its reports extend.
                pb.rungs[pjob.rung].curves[pjob.config_id] = curve
        for entry in state.get("stopped", ()):
            job = Job(**entry["job"])
            self._stopped[job.id] = Result(
                job, "stopped", float(entry["value"]), {}, None, entry["step"]
            )
        for seg, curves in state.get("segments", ()):
            self._segments[seg[0], seg[1]] = [
                _with_sums(tuple((float(p), float(q)) for p, q in c)) for c in curves
            ]

    def _load_async(self, st: Mapping[str, Any], sign: float) -> None:
        self._next_new = int(st["next_new"])
        self._batches = {(int(it), int(s)): configs for it, s, configs in st["batches"]}
        for abs_ in st["brackets"]:
            ab = self._abrackets[int(abs_["s"])]
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
                r.curves = _load_curves(rs["curves"])


def _with_sums(curve: tuple[Point, ...]) -> tuple[tuple[Point, ...], tuple[float, ...]]:
    return curve, tuple(itertools.accumulate(loss for _, loss in curve))


def _dump_curves(curves: Mapping[int, list[Point]]) -> list[Any]:
    return [[cid, [list(p) for p in c]] for cid, c in curves.items()]


def _load_curves(data: Any) -> dict[int, list[Point]]:
    return {int(cid): [(float(p), float(q)) for p, q in c] for cid, c in data}


def _plain(x: float) -> Number:
    return int(x) if float(x).is_integer() else float(x)


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


def _check_configs(configs: object, n: int, call: str) -> None:
    if not isinstance(configs, list) or len(configs) != n:
        raise HyperbandError(f"{call} must return a list of {n} dicts, got {describe(configs)}")
    for config in configs:
        if not isinstance(config, dict):
            raise HyperbandError(f"{call} must return dicts, got an item {describe(config)}")


def _space_of(sampler: object) -> Any:
    return sampler.space if isinstance(sampler, RandomSampler) else None
