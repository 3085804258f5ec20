"""The peers' stopping logic driven in the simulator the benchmark runs ours in.

Every peer here is a *stopping* scheduler: a trial is one configuration that trains from
scratch towards ``max_budget``, reporting ``curve(config, step)`` every ``report_every`` budget
units; at each report the peer's own object decides whether it goes on. A trial that reaches
``max_budget`` completes with its value there (an incumbent candidate); a stopped one frees
its worker at once. New trials take the configurations of :func:`curves.config_stream` in
order, so all peers see the same configurations and only their stopping logic differs.

Each adapter wraps the peer's REAL object (imported lazily, so this module needs only numpy
and hyperband and runs in every peer's virtualenv):

- ``ray_asha``: Ray Tune's ``ASHAScheduler`` (``AsyncHyperBandScheduler``), driven through
  ``on_trial_add`` / ``on_trial_result`` / ``on_trial_complete`` with a stand-in trial object
  (Ray's scheduler reads only ``trial.trial_id``; the controller argument is unused). Ray is
  not started.
- ``optuna_hb`` / ``optuna_sh``: Optuna's ``HyperbandPruner`` / ``SuccessiveHalvingPruner``:
  ``study.ask()``, ``trial.report(value, step)`` and ``trial.should_prune()`` at every report,
  ``study.tell`` (value, or ``TrialState.PRUNED``); in-memory storage, a fixed
  ``study_name`` (the bracket of a trial is a hash of it) and a seeded ``RandomSampler``
  (no parameter is suggested: the configuration comes from the shared stream).
- ``nni_median``: NNI's ``MedianstopAssessor``: ``assess_trial(trial_id, history)`` with the
  trial's whole history at every report, ``trial_end(trial_id, success)`` when it ends.
- ``syne_hb``: Syne Tune's ``HyperbandScheduler`` (``type="stopping"``): ``suggest`` registers
  a trial (its searcher's configuration is replaced by the stream's: random search, so the
  decisions do not depend on it), ``on_trial_result`` decides, ``on_trial_complete`` at the end.
- ``syne16_asha`` / ``syne16_bohb``: Syne Tune 0.16's ``ASHA`` (the stopping variant, one
  bracket) and ``BOHB`` (that ASHA with its KDE searcher), driven as its ``Tuner`` drives them:
  ``suggest()``, ``on_trial_add`` (draws the bracket from the global ``np.random``: seeded),
  ``on_trial_result`` at every report and ``on_trial_remove`` when a trial ends (the Tuner
  removes a trial on a STOP, and 0.16 answers STOP at ``max_t`` too). ASHA trains the stream's
  configurations; BOHB trains its OWN (see :class:`Syne16ASHA`), the one exception to the shared
  stream.

A peer that proposes its configurations has a ``config(handle)`` method: the simulator trains
what it returns instead of the stream's configuration.
"""

from __future__ import annotations

import heapq
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # benchmarks/: the workloads

from workloads import curves  # noqa: E402

__all__ = ["PEERS", "Peer", "grid", "run_peer"]


class Peer(Protocol):
    """A stopping scheduler as the simulator drives it (one object per run)."""

    def start(self, k: int) -> Any:
        """Register trial number ``k``; returns a handle."""

    def report(self, handle: Any, step: int | float, value: float, history: list[float]) -> bool:
        """A report; True to stop the trial now."""

    def end(self, handle: Any, value: float, *, completed: bool) -> None:
        """The trial completed at max_budget (``completed``) or was stopped."""


def grid(w: curves.CurveWorkload) -> list[int | float]:
    """The steps a trial reports at: the multiples of ``report_every`` up to ``max_budget``
    and the rung budgets ``min_budget * eta**i`` (where our jobs end, so always reported)."""
    every = w.report_every
    steps: set[int | float] = set()
    k = 1
    while k * every < w.max_budget and not math.isclose(k * every, w.max_budget):
        t = k * every
        steps.add(int(t) if float(t).is_integer() else t)
        k += 1
    rung = w.min_budget
    while rung < w.max_budget:
        steps.add(rung)
        rung *= w.eta
    steps.add(w.max_budget)
    return sorted(steps)


def run_peer(
    make: Callable[[curves.CurveWorkload, int], Peer],
    w: curves.CurveWorkload,
    workers: int,
    seed: int,
    budget_limit: float,
) -> dict[str, Any]:
    """Simulate ``workers`` workers running the peer until ``budget_limit`` budget units ran.

    Returns the run's record (see ``bench_stopping.record``): the incumbent's history as
    ``(time, budget spent, regret)``, the time the budget ran out, trials and stops.
    """
    peer = make(w, seed)
    config_of = curves.config_stream(w, seed)
    # A peer whose searcher chooses the configurations (BOHB) says which one it started.
    proposed: Callable[[Any], dict[str, Any]] | None = getattr(peer, "config", None)
    steps = grid(w)
    better = (lambda a, b: a > b) if w.mode == "maximize" else (lambda a, b: a < b)
    events: list[tuple[float, int]] = []
    trials: dict[int, tuple[Any, dict[str, Any], float, list[float]]] = {}
    spent = 0.0
    now = 0.0
    started = 0
    stopped = 0
    best: float | None = None
    history: list[tuple[float, float, float]] = []
    free = workers
    t_limit = None
    while True:
        while free and spent < budget_limit:
            handle = peer.start(started)
            config = proposed(handle) if proposed else config_of(started)
            trials[started] = (handle, config, now, [])
            heapq.heappush(events, (now + w.duration(config, steps[0], None), started))
            started += 1
            free -= 1
        if not events or spent >= budget_limit:
            break
        now = events[0][0]
        while events and events[0][0] == now:
            _, k = heapq.heappop(events)
            handle, config, start, values = trials[k]
            i = len(values)
            step = steps[i]
            spent += step - (steps[i - 1] if i else 0)
            value = float(w.curve(config, step))
            values.append(value)
            stop = peer.report(handle, step, value, values)
            last = i + 1 == len(steps)
            if not stop and not last:
                heapq.heappush(events, (start + w.duration(config, steps[i + 1], None), k))
                continue
            completed = last and not stop
            peer.end(handle, value, completed=completed)
            del trials[k]
            free += 1
            if completed and (best is None or better(value, best)):
                best = value
                history.append((now, spent, w.regret(config)))
            stopped += not completed
            if t_limit is None and spent >= budget_limit:
                t_limit = now
        if t_limit is None and spent >= budget_limit:
            t_limit = now
    return {
        "history": history,
        "time_at_limit": now if t_limit is None else t_limit,
        "jobs": started,
        "stopped": stopped,
        "mispromoted": None,
    }


# ---------------------------------------------------------------------- adapters


class RayASHA:
    """Ray Tune's ASHAScheduler(grace_period=min_budget, max_t=max_budget, eta, 1 bracket)."""

    class _Trial:
        __slots__ = ("trial_id",)

        def __init__(self, trial_id: str) -> None:
            self.trial_id = trial_id

    def __init__(self, w: curves.CurveWorkload, seed: int) -> None:
        from ray.tune.schedulers import ASHAScheduler

        del seed  # one bracket: Ray draws no random number that matters
        self.s = ASHAScheduler(
            time_attr="training_iteration",
            metric="value",
            mode="max" if w.mode == "maximize" else "min",
            max_t=w.max_budget,
            grace_period=w.min_budget,
            reduction_factor=w.eta,
            brackets=1,
        )

    def start(self, k: int) -> Any:
        trial = self._Trial(str(k))
        self.s.on_trial_add(None, trial)
        return trial

    def report(self, handle: Any, step: int | float, value: float, history: list[float]) -> bool:
        decision = self.s.on_trial_result(
            None, handle, {"training_iteration": step, "value": value}
        )
        # At max_t Ray answers STOP for every trial: that is the natural end, not a stop.
        return bool(decision == "STOP" and step < self.s._max_t)

    def end(self, handle: Any, value: float, *, completed: bool) -> None:
        if completed:
            self.s.on_trial_complete(
                None, handle, {"training_iteration": self.s._max_t, "value": value}
            )
        else:
            self.s.on_trial_remove(None, handle)


class OptunaPruner:
    """Optuna's HyperbandPruner or SuccessiveHalvingPruner on an in-memory study."""

    def __init__(self, w: curves.CurveWorkload, seed: int, kind: str) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        if kind == "hb":
            pruner: Any = optuna.pruners.HyperbandPruner(
                min_resource=w.min_budget, max_resource=w.max_budget, reduction_factor=w.eta
            )
        else:
            pruner = optuna.pruners.SuccessiveHalvingPruner(
                min_resource=w.min_budget, reduction_factor=w.eta, min_early_stopping_rate=0
            )
        self.study = optuna.create_study(
            study_name=f"stopping-{w.name}-{seed}",
            direction="maximize" if w.mode == "maximize" else "minimize",
            sampler=optuna.samplers.RandomSampler(seed=seed),
            pruner=pruner,
        )

    def start(self, k: int) -> Any:
        return self.study.ask()

    def report(self, handle: Any, step: int | float, value: float, history: list[float]) -> bool:
        handle.report(value, int(step))
        return bool(handle.should_prune())

    def end(self, handle: Any, value: float, *, completed: bool) -> None:
        if completed:
            self.study.tell(handle, value)
        else:
            self.study.tell(handle, state=self.optuna.trial.TrialState.PRUNED)


class NNIMedian:
    """NNI's MedianstopAssessor (start_step=0, its default)."""

    def __init__(self, w: curves.CurveWorkload, seed: int) -> None:
        from nni.algorithms.hpo.medianstop_assessor import MedianstopAssessor

        del seed
        self.a = MedianstopAssessor(optimize_mode=w.mode)

    def start(self, k: int) -> Any:
        return str(k)

    def report(self, handle: Any, step: int | float, value: float, history: list[float]) -> bool:
        from nni.assessor import AssessResult

        return bool(self.a.assess_trial(handle, list(history)) == AssessResult.Bad)

    def end(self, handle: Any, value: float, *, completed: bool) -> None:
        self.a.trial_end(handle, completed)


class SyneHyperband:
    """Syne Tune's HyperbandScheduler(type="stopping", 1 bracket, random search)."""

    def __init__(self, w: curves.CurveWorkload, seed: int) -> None:
        import logging

        from syne_tune.config_space import uniform
        from syne_tune.optimizer.schedulers import HyperbandScheduler

        logging.getLogger("syne_tune").setLevel(logging.ERROR)
        self.max_t = w.max_budget
        self.s = HyperbandScheduler(
            {"x": uniform(0.0, 1.0), "epochs": w.max_budget},
            searcher="random",
            metric="value",
            mode="max" if w.mode == "maximize" else "min",
            resource_attr="epoch",
            max_resource_attr="epochs",
            grace_period=w.min_budget,
            reduction_factor=w.eta,
            type="stopping",
            brackets=1,
            random_seed=seed,
        )

    def start(self, k: int) -> Any:
        from syne_tune.backend.trial_status import Trial

        suggestion = self.s.suggest(k)
        return Trial(trial_id=k, config=suggestion.config, creation_time=None)

    def report(self, handle: Any, step: int | float, value: float, history: list[float]) -> bool:
        decision = self.s.on_trial_result(handle, {"epoch": int(step), "value": value})
        return bool(decision == "STOP" and step < self.max_t)

    def end(self, handle: Any, value: float, *, completed: bool) -> None:
        if completed:
            self.s.on_trial_complete(handle, {"epoch": self.max_t, "value": value})


class Syne16ASHA:
    """Syne Tune 0.16's ``ASHA`` (and, subclassed, ``BOHB``): one bracket,
    ``grace_period=min_budget``, ``reduction_factor=eta``, ``max_t=max_budget``, Syne Tune's
    defaults otherwise; the workload's space translated by ``peers/spaces.py``.

    Configurations: ASHA's searcher is random search and its decisions read only the
    metrics, so its trials train the shared stream's configurations, like every other peer
    (its searcher's own draw is made, as the Tuner would, and not used). BOHB's KDE
    searcher choosing the configurations, from the results so far, is the point of BOHB:
    fed the stream it would be ASHA. Every workload here evaluates any configuration of its
    space (lcbench's surrogate predicts any point; digits answers with its nearest row), so
    BOHB trains what it proposes (:meth:`Syne16BOHB.config`): its first configurations are its own
    random draws, not the stream's, and its results measure its searcher and its stopping
    together.

    Seeds: ``random_seed=seed`` (the searchers' generators) and the global ``np.random``
    (``on_trial_add`` draws the bracket with it; one bracket, but the draw is made).
    """

    kind = "ASHA"

    def __init__(self, w: curves.CurveWorkload, seed: int) -> None:
        import logging

        import numpy as np
        from syne_tune.optimizer import baselines

        logging.getLogger("syne_tune").setLevel(logging.ERROR)
        np.random.seed(seed)
        self.w, self.max_t = w, w.max_budget
        self.s = getattr(baselines, self.kind)(
            _peer_spaces().to_synetune(w.space),
            metric="value",
            time_attr="epoch",
            max_t=w.max_budget,
            do_minimize=w.mode == "minimize",
            random_seed=seed,
            grace_period=w.min_budget,
            reduction_factor=w.eta,
        )

    def start(self, k: int) -> Any:
        from syne_tune.backend.trial_status import Trial

        suggestion = self.s.suggest()
        trial = Trial(trial_id=k, config=suggestion.config, creation_time=None)
        self.s.on_trial_add(trial)
        return trial

    def report(self, handle: Any, step: int | float, value: float, history: list[float]) -> bool:
        decision = self.s.on_trial_result(handle, {"epoch": step, "value": value})
        # 0.16 answers STOP at max_t: the natural end, not a stop.
        return bool(decision == "STOP" and step < self.max_t)

    def end(self, handle: Any, value: float, *, completed: bool) -> None:
        # What the Tuner does after a STOP, which 0.16 answers at max_t as well: a trial that
        # completes is removed, not completed (on_trial_complete would feed the searcher the
        # last result twice).
        self.s.on_trial_remove(handle)


class Syne16BOHB(Syne16ASHA):
    """Syne Tune 0.16's ``BOHB``: :class:`Syne16ASHA` with Syne Tune's KDE searcher, whose
    configurations the trials train."""

    kind = "BOHB"

    def config(self, handle: Any) -> dict[str, Any]:
        """BOHB's configuration of a trial, as the workload's (NNI) configuration."""
        return dict(_peer_spaces().from_synetune(self.w.space, handle.config))


def _peer_spaces() -> Any:
    """``benchmarks/peers/spaces.py`` (the NNI-to-Syne Tune translator), loaded by its path:
    this module is itself imported as ``peers`` in the peer runners."""
    import importlib.util

    name = "_stopping_peer_spaces"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE.parent / "peers" / "spaces.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


PEERS: dict[str, Callable[[curves.CurveWorkload, int], Peer]] = {
    "ray_asha": RayASHA,
    "optuna_hb": lambda w, seed: OptunaPruner(w, seed, "hb"),
    "optuna_sh": lambda w, seed: OptunaPruner(w, seed, "sh"),
    "nni_median": NNIMedian,
    "syne_hb": SyneHyperband,
    "syne16_asha": Syne16ASHA,
    "syne16_bohb": Syne16BOHB,
}
