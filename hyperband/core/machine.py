"""The Hyperband state machine. Every state transition of a job lives in this file.

The machine is sans-IO: it never sleeps, spawns, reads a clock, touches the network or
the global RNG. Drivers call ``Hyperband.ask`` for a job, run it however they like,
report intermediate values with ``Hyperband.report`` (which may stop the job early), and
report back with ``Hyperband.tell`` or ``Hyperband.fail``.

The machine keeps the jobs, results, reports and stops; its discipline keeps the brackets
(`hyperband.core.discipline.Discipline`): which job comes next and what a result promotes.

- ``"parallelism"`` and ``"serial"`` run the brackets of the schedule as synchronous successive
  halving (`hyperband.core.brackets`): a rung promotes its top ``n_{i+1}`` once that is certain;
- ``"asynchronous"`` runs one ASHA per bracket (`hyperband.core.asha`, Li et al., MLSys 2020).

The transitions of a job, each one method here:

- ``ask`` -> pending: the discipline hands out a promotion (a synchronous one queued when it
  became certain, an ASHA one chosen now) or a new configuration.
- ``tell``: pending -> succeeded. Ranked on its rung (the discipline queues the promotions
  that became certain), the best updated, its curve kept for the rules, the sampler told.
- ``fail``: pending -> failed. Its rung may move on as if it had one job fewer; its curve is
  dropped.
- ``report``: a point on a pending job's curve; the stopping rule may then ``_stop`` it:
  pending -> stopped, and its rung moves on as after a failure.
- A late ``tell``, ``fail`` or ``report`` of a stopped job (``_late``) answers with its
  stopped result and changes nothing.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from hyperband.core.adaptive import BRACKET_MODES, BracketChooser
from hyperband.core.asha import Asynchronous, bracket_order
from hyperband.core.brackets import Synchronous
from hyperband.core.curves import CurveBook
from hyperband.core.discipline import BracketState, Discipline, Draws, Key, Number
from hyperband.core.errors import (
    ArgumentTypeError,
    HyperbandError,
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
from hyperband.core.options import (
    EXEC_MODES,
    MODES,
    check_choice,
    check_iterations,
    check_sampler,
    check_seed,
    check_step,
    parse_value,
)
from hyperband.core.sampling import Sampler, is_model_based, sampler_spec
from hyperband.core.schedule import DEFAULT_MAX_JOBS, Schedule, schedule
from hyperband.core.snapshot import (
    SNAPSHOT_FORMAT,
    SNAPSHOT_VERSION,
    check_state,
    sampler_of,
    space_of,
)
from hyperband.core.stopping import StoppingRule, make_rule, rule_spec

# bracket_order is named here too, where the docs point for the asynchronous bracket order.
__all__ = ["EXEC_MODES", "MODES", "Hyperband", "bracket_order"]

Entry = tuple[Job, BracketState]  # a pending job and its bracket


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
            (`hyperband.MedianRule`), ``"rung"`` (`hyperband.RungRule`), ``"curve"``
            (`hyperband.CurveRule`), or any object with
            ``should_stop(view) -> bool`` (`hyperband.StoppingRule`).
        max_jobs: refuse a schedule of more jobs per iteration than this (see
            `hyperband.schedule`); ``None`` for no bound.
        brackets: ``"cycle"`` (NNI's order, ``s_max`` down to 0, again and again) or
            ``"adaptive"`` (Hyper-Tune: each new bracket run is drawn with probability
            proportional to the trust weight of its first budget, measured on the results
            once ``max_budget`` has 4 of them and a cheaper budget 5 configurations evaluated
            at both; see `hyperband.core.adaptive`). A job's ``iteration`` counts the runs of
            its bracket before its own. In ``"asynchronous"`` mode each new configuration's
            bracket is drawn instead, with probability ``∝ w(r_s) n_s``.

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
        brackets: str = "cycle",
    ) -> None:
        self._schedule = schedule(
            max_budget,
            eta,
            min_budget=min_budget,
            sizing=sizing,
            integer_budgets=integer_budgets,
            max_jobs=max_jobs,
        )
        check_choice("mode", mode, MODES)
        check_choice("exec_mode", exec_mode, EXEC_MODES)
        check_choice("brackets", brackets, BRACKET_MODES)
        iterations = check_iterations(iterations)
        seed = self._seed = check_seed(seed)
        rule = self._rule = make_rule(early_stop)
        sampler = self._sampler = check_sampler(space_or_sampler)
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
        if brackets != "cycle":
            self._params["brackets"] = brackets
        lazy = is_model_based(sampler)
        self._observe = sampler.observe if lazy else None  # type: ignore[attr-defined]
        # Every observe() call, in order: a snapshot rebuilds a model-based sampler from it.
        self._observed: list[tuple[dict[str, Any], Number, float | None]] = []
        self._sign = -1.0 if mode == "maximize" else 1.0
        self._eta = float(Fraction(self._schedule.eta))  # what a stopping rule sees

        self._next_job_id = 0
        self._pending: dict[int, Entry] = {}
        draws = Draws(sampler, seed, lazy, self._pending)
        chooser = BracketChooser(self._schedule, seed, adaptive=brackets == "adaptive")
        self._brackets = _discipline(exec_mode, draws, iterations, self._pending, chooser)
        self._best: Best | None = None
        self._best_budget: Number = -math.inf
        self._best_key: Key = (math.inf, -1)
        self._n_succeeded = 0
        self._n_failed = 0
        self._n_stopped = 0
        self._n_reports = 0
        self._curves = CurveBook(keep=rule is not None)
        # Stopped jobs: job id -> their result, returned again by a late tell/fail/report.
        self._stopped: dict[int, Result] = {}

    # ------------------------------------------------------------------ transitions

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
        jid = self._next_job_id
        entry = self._brackets.next_job(jid)
        if entry is WAIT or entry is DONE:
            return entry
        self._next_job_id = jid + 1
        self._pending[jid] = entry
        return entry[0]

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
                parse_value(job_id, value)
                return late
            entry = self._lookup(job_id)
        job, b = entry
        if type(value) is float and value - value == 0.0:  # finite float: the common case
            v = value
            extra: dict[str, Any] = {}
        else:
            v, extra = parse_value(job.id, value)
        # Validation is over: from here on nothing raises, so a bad call changes nothing.
        del self._pending[job.id]
        key = (self._sign * v, job.config_id)
        self._brackets.succeeded(b, job, key)
        self._n_succeeded += 1
        budget = job.budget
        if budget > self._best_budget or (budget == self._best_budget and key < self._best_key):
            self._best_budget = budget
            self._best_key = key
            self._best = Best(job.config, v, budget, job.id, job.config_id)
        curves = self._curves
        if curves.keep or curves.running:
            curves.close(job, b.rungs[job.rung], (float(budget), key[0]))
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
        self._n_failed += 1
        if self._curves.keep or self._curves.running:
            self._curves.close(job, b.rungs[job.rung], None)
        self._brackets.resolved(b, job)
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
                later report at a step is the one that counts). A step past the budget by at
                most 1e-9 of it (a float rounding, ``STEP_TOLERANCE``) is the budget.
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
        if self._stopped and self._late(job_id) is not None:
            return STOP
        entry = self._pending.get(job_id) if type(job_id) is int else None
        job, b = self._lookup(job_id) if entry is None else entry
        curve = self._curves.running.get(job.id)
        t = check_step(job, step, curve[-1][0] if curve else None)
        if type(value) is float and value - value == 0.0:  # finite float: the common case
            v = value
        else:
            v, _ = parse_value(job.id, value)
        # Validation is over.
        point = (t, self._sign * v)
        self._n_reports += 1
        rung = b.rungs[job.rung]
        self._curves.add(job, rung, point)
        # A report at the budget itself is not judged: stopping then saves nothing, and the
        # job's result is on its way.
        if self._rule is None or t >= job.budget:
            return CONTINUE
        view = self._curves.view(
            job, rung, self._brackets.shape(b, job.rung), self._eta, point, self._pending
        )
        if not self._rule.should_stop(view):
            return CONTINUE
        # A rule that can say why (CurveRule: the forecast) has it kept with the result.
        explain = getattr(self._rule, "explain", None)
        self._stop(job, b, t, v, explain(view) if callable(explain) else None)
        return STOP

    def _stop(self, job: Job, b: BracketState, step: float, value: float, why: Any = None) -> None:
        """The rule stopped a pending job at ``step``: resolved, never promoted."""
        del self._pending[job.id]
        self._curves.running.pop(job.id, None)
        b.rungs[job.rung].stopped.add(job.config_id)
        self._n_stopped += 1
        result = Result(job, "stopped", value, {} if not why else {"stop": why}, None, _plain(step))
        self._stopped[job.id] = result
        self._brackets.resolved(b, job)
        if self._observe is not None:
            loss = self._sign * value
            self._observed.append((job.config, _plain(step), loss))
            self._observe(job.config, _plain(step), loss)

    def stopped_result(self, job_id: int) -> Result | None:
        """The result of a job the stopping rule stopped, else ``None``. Its ``extra["stop"]``
        says why, when the rule explains its stops (`hyperband.CurveRule` does)."""
        return self._late(job_id)

    def _late(self, job_id: object) -> Result | None:
        """The result of a job already stopped, for a tell/fail/report that raced the stop."""
        if not self._stopped or type(job_id) is not int:
            return None
        return self._stopped.get(job_id)

    def _lookup(self, job_id: object) -> Entry:
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

    # ------------------------------------------------------------------ queries

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
        points = self._curves.running.get(job.id, ())
        return tuple((_plain(step), sign * loss) for step, loss in points)

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
        return self._brackets.done

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
            self._brackets.n_promoted,
            self._brackets.mispromoted(),
            _trust_of(self._sampler),
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
        brackets = self._brackets.dump(self._sign)
        return {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "params": dict(self._params),
            "space": space_of(self._sampler),
            "sampler": sampler_spec(self._sampler),
            "observations": [[c, budget, loss] for c, budget, loss in self._observed],
            "next_job_id": self._next_job_id,
            "next_config_id": self._brackets.next_config_id,
            "next_bracket": brackets.pop("next_bracket"),
            "n_succeeded": self._n_succeeded,
            "n_failed": self._n_failed,
            "n_stopped": self._n_stopped,
            "n_reports": self._n_reports,
            "n_promoted": self._brackets.n_promoted,
            "best": None if self._best is None else self._best.to_dict(),
            "brackets": brackets.pop("brackets"),
            "pending": [j.to_dict() for j, _ in self._pending.values()],
            "reports": self._curves.dump_running(),
            "stopped": [
                {"job": r.job.to_dict(), "value": r.value, "step": r.step, **r.extra}
                for r in self._stopped.values()
            ],
            "segments": self._curves.dump_segments(),
            **brackets,  # a discipline's own part
        }

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
        check_state(state)
        if space_or_sampler is None:
            space_or_sampler = sampler_of(state)
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
        self._brackets.next_config_id = int(state["next_config_id"])
        self._n_succeeded = int(state["n_succeeded"])
        self._n_failed = int(state["n_failed"])
        self._n_stopped = int(state.get("n_stopped", 0))
        self._n_reports = int(state.get("n_reports", 0))
        self._brackets.n_promoted = int(state.get("n_promoted", 0))
        self._replay(state.get("observations") or [])
        best = state["best"]
        if best is not None:
            self._best = Best(**best)
            self._best_budget = best["budget"]
            self._best_key = (sign * float(best["value"]), int(best["config_id"]))
        self._brackets.load(state, sign)
        for js in state["pending"]:
            job = Job(**js)
            b = self._brackets.bracket_of(job)
            # Jobs share their bracket's config dict, as freshly asked ones do.
            job = Job(**{**js, "config": b.configs[job.config_id]})
            self._pending[job.id] = (job, b)
        self._curves.load(state, self._pending)
        for entry in state.get("stopped", ()):
            job = Job(**entry["job"])
            why = {"stop": entry["stop"]} if "stop" in entry else {}  # the rule's explanation
            self._stopped[job.id] = Result(
                job, "stopped", float(entry["value"]), why, None, entry["step"]
            )

    def _replay(self, observations: list[Any]) -> None:
        """Feed a snapshot's observations to a fresh model-based sampler, in order."""
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


def _discipline(
    exec_mode: str,
    draws: Draws,
    iterations: int | None,
    pending: Mapping[int, Entry],
    chooser: BracketChooser,
) -> Discipline[Any]:
    """The brackets of ``exec_mode``."""
    sched = chooser.schedule
    if exec_mode == "asynchronous":
        return Asynchronous(sched, draws, iterations, pending, chooser)
    limit = None if iterations is None else iterations * len(sched.brackets)
    return Synchronous(sched, draws, limit, exec_mode == "serial", chooser)


def _plain(x: float) -> Number:
    return int(x) if float(x).is_integer() else float(x)


def _trust_of(sampler: object) -> dict[int | float, float] | None:
    """The sampler's trust weights, when it measures them (an optional part of the protocol)."""
    weights = getattr(sampler, "trust_weights", None)
    return None if weights is None else dict(weights)
