"""Early stopping: the rules that decide, at each intermediate report, whether a job goes on.

A stopping rule is a small, pure object: ``should_stop(view) -> bool``, where ``view`` is the
``StopView`` the machine builds for the report being judged. The machine owns every piece
of state (the reports, the rungs, the results); a rule only reads the view, so the same events
always give the same decisions, and snapshots and journals replay them exactly.

Words used throughout:

- a *curve* is a job's reports as ``(step, loss)`` pairs in the order they came, steps
  non-decreasing; ``loss`` is the value turned so that lower is better (``value`` when
  minimizing, ``-value`` when maximizing). A job that succeeded ends its curve with its final
  result at ``step = job.budget``.
- a job's *value at step t* is the loss of its last report at a step ``<= t``; it exists once
  the job has *reached* ``t``: it reported at a step ``>= t`` or it succeeded. Comparing jobs
  "at the same step" always means comparing their values at ``t``, which is defined the same
  way whatever steps each job happens to report at.
"""

from __future__ import annotations

import bisect
import importlib
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.jobs import Job

__all__ = [
    "STOPPING_RULES",
    "Curve",
    "MedianRule",
    "Peer",
    "RungRule",
    "StopView",
    "StoppingRule",
    "make_rule",
    "rule_spec",
    "value_at",
]

Number = int | float
Curve = tuple[tuple[float, float], ...]
Status = Literal["running", "succeeded", "stopped"]


def value_at(curve: Sequence[tuple[float, float]], step: float) -> float | None:
    """The loss of the curve's last point at a step ``<= step``; ``None`` if there is none.

    Examples:
        >>> value_at(((1, 0.9), (2, 0.7), (2, 0.6), (4, 0.5)), 3)
        0.6
        >>> value_at(((2, 0.7),), 1) is None
        True
    """
    # Steps are non-decreasing, so the last point at <= step is just left of the first > step.
    i = bisect.bisect_right(curve, step, key=lambda point: point[0])
    return None if i == 0 else curve[i - 1][1]


def _reached(peer: Peer, step: float) -> bool:
    return peer.status == "succeeded" or (bool(peer.curve) and peer.curve[-1][0] >= step)


@attrs.frozen(slots=True)
class Peer:
    """Another job of the same rung, as a rule sees it.

    Attributes:
        config_id: its configuration.
        status: ``"running"``, ``"succeeded"`` or ``"stopped"`` (a failed job's reports are
            forgotten when it fails: a failure says nothing reliable about how it compares).
        curve: its reports so far (see the module docstring), with its final result last when
            it succeeded.
    """

    config_id: int
    status: Status
    # The machine's own list, not a copy (a rule only reads it): building a view is then cheap
    # even for a rung of thousands of jobs.
    curve: Sequence[tuple[float, float]]

    def value_at(self, step: float) -> float | None:
        """Its value at ``step``, or ``None`` when it has not reached ``step``."""
        return value_at(self.curve, step) if _reached(self, step) else None


@attrs.frozen(slots=True)
class StopView:
    """What a rule sees when it judges one report. Built by the machine; read-only.

    Attributes:
        job: the job that reported.
        step: the step of this report, in budget units, in ``(previous_budget or 0, budget]``.
        loss: this report's loss (lower is better).
        curve: the job's curve, this report included.
        k: how many of the rung's jobs go on to the next rung: ``n_{i+1}`` of the schedule in
            the synchronous modes; ``floor(jobs started on the rung / eta)`` (at least 1) in
            ``"asynchronous"`` mode; 0 on a bracket's last rung.
        rung_size: how many jobs the rung has (its known size, else its scheduled size; in
            ``"asynchronous"`` mode, the jobs started on it so far).
        eta: the halving rate.
    """

    job: Job
    step: float
    loss: float
    curve: Curve
    k: int
    rung_size: int
    eta: float
    _rung_peers: Callable[[], tuple[Peer, ...]] = attrs.field(repr=False, alias="rung_peers")
    _segment_peers: Callable[[], tuple[Curve, ...]] = attrs.field(repr=False, alias="segment_peers")
    _values_at: Callable[[float], list[tuple[float, int]]] | None = attrs.field(
        default=None, repr=False, alias="values_at"
    )
    _averages_at: Callable[[float], list[float]] | None = attrs.field(
        default=None, repr=False, alias="averages_at"
    )

    def rung_peers(self) -> tuple[Peer, ...]:
        """The other jobs of this job's rung that reported or succeeded (not failed ones)."""
        return self._rung_peers()

    def segment_peers(self) -> tuple[Curve, ...]:
        """The curves of every *succeeded* job, anywhere in the study, that trained over the same
        budget segment ``(previous_budget or 0, budget]`` as this job (this job excluded)."""
        return self._segment_peers()

    def values_at(self, step: float) -> list[tuple[float, int]]:
        """``(loss, config_id)`` of each rung peer that has reached ``step``: its value there.

        The same as ``[(p.value_at(step), p.config_id) for p in rung_peers()]`` without the
        peers that have not reached ``step``, computed without building them (fast).
        """
        if self._values_at is not None:
            return self._values_at(step)
        out = []
        for peer in self.rung_peers():
            loss = peer.value_at(step)
            if loss is not None:
                out.append((loss, peer.config_id))
        return out

    def averages_at(self, step: float) -> list[float]:
        """The running average at ``step`` (the mean of its losses at steps ``<= step``) of each
        [`segment_peers`][hyperband.StopView.segment_peers] curve with a report at or before
        ``step``."""
        if self._averages_at is not None:
            return self._averages_at(step)
        out = []
        for curve in self.segment_peers():
            losses = [loss for s, loss in curve if s <= step]
            if losses:
                out.append(math.fsum(losses) / len(losses))
        return out


@runtime_checkable
class StoppingRule(Protocol):
    """Decides at each report whether a job stops (``True``) or goes on.

    The contract that keeps studies replayable: the decision depends only on the view. A rule
    that can be named in a journal or a snapshot also has ``name`` (a key of
    ``STOPPING_RULES``) and ``options`` (its constructor's keyword arguments, JSON). A rule may
    also have ``explain(view) -> dict`` (JSON), called with the view it has just stopped a job
    on: the machine keeps the dict with the stopped result (``extra["stop"]``), and ``run()``
    journals it.
    """

    def should_stop(self, view: StopView) -> bool:
        """True to stop the job now."""
        ...


def _check_int(owner: str, name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{owner}: {name} must be an int >= {low}, got {describe(value)}")
    if value < low:
        raise ConfigurationError(f"{owner}: {name} must be >= {low}, got {describe(value)}")
    return int(value)


def _check_fraction(owner: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(
            f"{owner}: {name} must be a number in [0, 1), got {describe(value)}"
        )
    x = float(value)
    if not 0 <= x < 1:
        raise ConfigurationError(f"{owner}: {name} must be in [0, 1), got {describe(value)}")
    return x


def _count_ahead(view: StopView) -> tuple[int, int]:
    """How many rung peers are ahead of the job at its step, and how many have reached it."""
    values = view.values_at(view.step)
    mine = (view.loss, view.job.config_id)
    return sum(value < mine for value in values), len(values)


def _ahead(view: StopView) -> int:
    return _count_ahead(view)[0]


def _progress(view: StopView) -> float:
    """How far into its budget segment the job is, from 0 to 1."""
    start = view.job.previous_budget or 0
    return (view.step - start) / (view.job.budget - start)


class _Thresholds:
    """What the built-in rules share: ``min_peers`` and ``min_progress``, checked and shown."""

    name = ""

    def __init__(self, min_peers: int, min_progress: float) -> None:
        owner = type(self).__name__
        self.min_peers = _check_int(owner, "min_peers", min_peers, 1)
        self.min_progress = _check_fraction(owner, "min_progress", min_progress)

    @property
    def options(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return {"min_peers": self.min_peers, "min_progress": self.min_progress}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_peers={self.min_peers}, min_progress={self.min_progress})"
        )


class MedianRule(_Thresholds):
    """The median stopping rule (Golovin et al. 2017; NNI's Medianstop assessor).

    A job is stopped at step ``t`` when its best loss so far (over its reports at steps
    ``<= t``) is strictly worse than the median, over the completed jobs of its budget segment
    ([`StopView.segment_peers`][hyperband.StopView.segment_peers]: succeeded jobs that trained
    over the same ``(previous_budget, budget]``, in any bracket or iteration), of their running
    averages at ``t`` (the mean of each one's reports at steps ``<= t``; a completed job without
    a report at or before ``t`` does not count). With fewer than ``min_peers`` such jobs the job
    goes on, and is judged again at its next report.

    One guard makes it safe inside Hyperband: a job that still ranks among the ``k`` its rung
    promotes (at least 1), at the same step, as [`RungRule`][hyperband.RungRule] counts, goes
    on. The completed jobs of a segment above rung 0 are survivors of earlier promotions, so
    without the guard the median of the survivors could stop every job of a rung, and a
    bracket would end without a result at its largest budget.

    Args:
        min_peers: how many completed jobs the median needs (NNI's rule needs 1).
        min_progress: judge a job only from this fraction of its segment on (0: from its first
            report), so that the first, noisiest steps are not judged.

    Examples:
        >>> rule = MedianRule(min_peers=3)
        >>> rule.options
        {'min_peers': 3, 'min_progress': 0.0}
    """

    name = "median"

    def __init__(self, *, min_peers: int = 3, min_progress: float = 0.0) -> None:
        super().__init__(min_peers, min_progress)

    def should_stop(self, view: StopView) -> bool:
        """True when the job's best so far is worse than the peers' median running average."""
        if _progress(view) < self.min_progress:
            return False
        judged = self._median(view)
        if judged is None:
            return False
        median, _ = judged
        best = min(loss for step, loss in view.curve if step <= view.step)
        return best > median and _ahead(view) >= max(view.k, 1)

    def _median(self, view: StopView) -> tuple[float, int] | None:
        """The median of the segment peers' running averages at the job's step and their
        number; ``None`` with fewer than ``min_peers``."""
        averages = view.averages_at(view.step)
        if len(averages) < self.min_peers:
            return None
        averages.sort()
        mid = len(averages) // 2
        median = averages[mid] if len(averages) % 2 else (averages[mid - 1] + averages[mid]) / 2
        return median, len(averages)

    def explain(self, view: StopView) -> dict[str, Any]:
        """Why the job is stopped (kept as ``Result.extra["stop"]``, see `StoppingRule`): its
        best loss so far, the median it is worse than and of how many completed peers, and how
        many rung peers are ahead of it of the ``k`` promoted; losses as in `StopView`."""
        judged = self._median(view)
        if judged is None:
            return {}
        ahead, seen = _count_ahead(view)
        return {
            "rule": self.name,
            "step": view.step,
            "best_loss": min(loss for step, loss in view.curve if step <= view.step),
            "median_loss": judged[0],
            "peers": judged[1],
            "ahead": ahead,
            "rung_peers": seen,
            "k": max(view.k, 1),
        }


class RungRule(_Thresholds):
    """Stops a job that can no longer rank among the ``k`` its rung promotes, at the same step.

    Hyperband knows what a median rule does not: rung ``i`` keeps only its best ``k = n_{i+1}``
    jobs. At a report at step ``t``, the job's value at ``t`` is ranked against its rung's other
    jobs that have reached ``t`` (running, succeeded or stopped:
    [`Peer.value_at`][hyperband.Peer.value_at]), with ties broken by the lower config id, as
    promotions are. If at least ``k`` of them are ahead,
    the job could only be promoted by overtaking them later, and it is stopped. On a bracket's
    last rung, which promotes nobody, ``k`` is 1: only a job that can still be the rung's best
    goes on. Jobs that have not reached ``t`` are not counted, which can only keep a job going;
    a job with fewer than ``max(k, min_peers)`` peers at ``t`` goes on and is judged again at
    its next report, so there is no first-arrival loophole: the first job to reach a step is
    judged later against those that reach it after.

    Args:
        min_peers: the fewest peers at the step before any job is judged (besides ``k``).
        min_progress: judge a job only from this fraction of its segment on.

    Examples:
        >>> RungRule().options
        {'min_peers': 1, 'min_progress': 0.0}
    """

    name = "rung"

    def __init__(self, *, min_peers: int = 1, min_progress: float = 0.0) -> None:
        super().__init__(min_peers, min_progress)

    def should_stop(self, view: StopView) -> bool:
        """True when at least ``k`` peers are ahead of the job at its step."""
        if _progress(view) < self.min_progress:
            return False
        k = view.k if view.k > 0 else 1
        ahead, seen = _count_ahead(view)
        return seen >= max(k, self.min_peers) and ahead >= k

    def explain(self, view: StopView) -> dict[str, Any]:
        """Why the job is stopped (kept as ``Result.extra["stop"]``, see `StoppingRule`): its
        loss at its step, how many of the rung peers there are ahead of it, ``k``, and the
        ``k``-th best peer loss there (the edge it needed to beat); losses as in `StopView`."""
        k = view.k if view.k > 0 else 1
        values = sorted(view.values_at(view.step))
        ahead = sum(value < (view.loss, view.job.config_id) for value in values)
        return {
            "rule": self.name,
            "step": view.step,
            "loss": view.loss,
            "ahead": ahead,
            "rung_peers": len(values),
            "k": k,
            "edge_loss": values[k - 1][0] if len(values) >= k else None,
        }


# Rules a study can name (early_stop="median", the CLI, NNI classArgs, journals).
STOPPING_RULES: dict[str, str] = {
    "median": "hyperband.core.stopping:MedianRule",
    "rung": "hyperband.core.stopping:RungRule",
    "curve": "hyperband.core.curve_rule:CurveRule",
}


def _rule_class(name: str) -> type[Any]:
    module, _, cls = STOPPING_RULES[name].partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def make_rule(early_stop: object) -> StoppingRule | None:
    """The rule ``early_stop`` names: ``None``, a name, a rule, or a ``rule_spec`` dict.

    Raises:
        ConfigurationError: an unknown name, or the spec of a custom rule (pass the rule).
        ArgumentTypeError: anything else.
    """
    if early_stop is None:
        return None
    known = ", ".join(map(repr, STOPPING_RULES))
    if isinstance(early_stop, str):
        if early_stop not in STOPPING_RULES:
            raise ConfigurationError(
                f"early_stop must be None, one of {known} or a rule object, got "
                f"{describe(early_stop)}"
            )
        return _rule_class(early_stop)()  # type: ignore[no-any-return]
    if isinstance(early_stop, Mapping):
        name = early_stop.get("name")
        if name not in STOPPING_RULES:
            raise ConfigurationError(
                f"early_stop is the description of a custom rule ({early_stop.get('class')}); "
                "pass the rule object itself (restore(..., early_stop=rule))"
            )
        return _rule_class(str(name))(**(early_stop.get("options") or {}))  # type: ignore[no-any-return]
    if callable(getattr(early_stop, "should_stop", None)):
        return early_stop  # type: ignore[return-value]
    raise ArgumentTypeError(
        f"early_stop must be None, one of {known} or an object with should_stop(view), got "
        f"{describe(early_stop)}"
    )


def rule_spec(rule: object) -> dict[str, Any] | None:
    """A JSON description of ``rule``: ``{"name", "options"}``, or ``{"class"}`` if custom."""
    if rule is None:
        return None
    for name in STOPPING_RULES:
        module, _, cls = STOPPING_RULES[name].partition(":")
        if type(rule).__module__ == module and type(rule).__name__ == cls:
            return {"name": name, "options": dict(rule.options)}  # type: ignore[attr-defined]
    cls_ = type(rule)
    return {"name": None, "class": f"{cls_.__module__}.{cls_.__qualname__}"}
