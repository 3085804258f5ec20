"""The values the machine hands out: jobs, results, the best result and the two signals."""

from __future__ import annotations

import enum
from typing import Any, Final, Literal

import attrs

__all__ = [
    "CONTINUE",
    "DONE",
    "STOP",
    "WAIT",
    "Best",
    "Decision",
    "EarlyStopped",
    "Job",
    "Result",
    "Signal",
    "Stats",
]

Number = int | float


class Signal(enum.Enum):
    """What [`Hyperband.ask`][hyperband.Hyperband.ask] returns when it has no job to hand out.

    ``WAIT``: every job that can run now is out; tell or fail a pending job first.
    ``DONE``: every bracket of every iteration is resolved; there will be no more jobs.
    """

    WAIT = "WAIT"
    DONE = "DONE"

    def __repr__(self) -> str:
        return f"hyperband.{self.name}"


# Final, so that `entry is WAIT or entry is DONE` narrows a job-or-signal to the job.
WAIT: Final = Signal.WAIT
DONE: Final = Signal.DONE


class Decision(enum.Enum):
    """What [`Hyperband.report`][hyperband.Hyperband.report] answers about a running job.

    ``CONTINUE``: train on. ``STOP``: the early-stopping rule ended the job; it is resolved with
    status ``"stopped"`` and its last reported value, and later calls for it are harmless.
    """

    CONTINUE = "CONTINUE"
    STOP = "STOP"

    def __repr__(self) -> str:
        return f"hyperband.{self.name}"


CONTINUE = Decision.CONTINUE
STOP = Decision.STOP


class EarlyStopped(Exception):  # noqa: N818 - named for what happened, like StopIteration
    """Raised inside an objective by ``context.report(step, value)`` when the job is stopped.

    The stopping rule judged the job's report and ended it: the study records it as
    ``"stopped"`` with this value. Catch it to clean up (close files, save a checkpoint);
    whatever the objective does afterwards, the job stays stopped.

    Attributes:
        job_id: the job.
        step: the step of the report that stopped it.
        value: the value reported there.
    """

    def __init__(self, job_id: int, step: float, value: float) -> None:
        super().__init__(f"job {job_id} was stopped early at step {step:g} (value {value:g})")
        self.job_id = job_id
        self.step = step
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.job_id, self.step, self.value))


# Not slotted: attrs fills a frozen dict class through __dict__, which makes creating
# one about twice as fast, and the machine creates one per job.
@attrs.frozen(slots=False)
class Job:
    """One run of a configuration at one budget.

    Attributes:
        id: unique, increasing job id; pass it to ``tell``/``fail``.
        config: the configuration (a dict of plain JSON values). Do not mutate it.
        config_id: the configuration's id, shared by all its jobs (one per rung reached).
        budget: the budget to train for (an int when integral).
        bracket: the bracket index ``s``.
        rung: the rung index ``i`` within the bracket.
        iteration: the Hyperband iteration (0-based).
        previous_budget: for a promotion, the budget the configuration already trained for
            (its previous rung's budget); ``None`` on rung 0.
        resume_from: for a promotion, the id of the configuration's job on the previous rung,
            whose checkpoint can be resumed instead of training from scratch; ``None`` on rung 0.

    Examples:
        >>> job = Job(id=0, config={"lr": 0.1}, config_id=0, budget=1, bracket=4, rung=0,
        ...           iteration=0)
        >>> job.is_promotion
        False
    """

    id: int
    config: dict[str, Any]
    config_id: int
    budget: Number
    bracket: int
    rung: int
    iteration: int
    previous_budget: Number | None = None
    resume_from: int | None = None

    @property
    def is_promotion(self) -> bool:
        """True when the job continues a configuration from a lower rung."""
        return self.resume_from is not None

    def to_dict(self) -> dict[str, Any]:
        """The job as a JSON-serialisable dict (``Job(**d)`` rebuilds it)."""
        return {
            "id": self.id,
            "config": self.config,
            "config_id": self.config_id,
            "budget": self.budget,
            "bracket": self.bracket,
            "rung": self.rung,
            "iteration": self.iteration,
            "previous_budget": self.previous_budget,
            "resume_from": self.resume_from,
        }


@attrs.frozen(slots=False)
class Result:
    """What ``tell``/``fail`` (or a stop) recorded for a job.

    Attributes:
        job: the job.
        status: ``"succeeded"``, ``"failed"`` or ``"stopped"`` (ended early by the stopping
            rule; a ``tell`` or ``fail`` that arrives after the stop returns this same result).
        value: the objective value (the ``"default"`` of a dict); for a stopped job its last
            reported value; ``None`` for a failure.
        extra: the other keys of a dict result (empty for a plain number or a failure).
        error: the failure reason, ``None`` for a success.
        step: where ``value`` was measured: the job's budget for a success, the last report's
            step for a stopped job, ``None`` for a failure.
    """

    job: Job
    status: Literal["succeeded", "failed", "stopped"]
    value: float | None
    extra: dict[str, Any] = attrs.field(factory=dict)
    error: str | None = None
    step: Number | None = None


@attrs.frozen(slots=True)
class Best:
    """The best successful result at the largest budget any successful job reached.

    Attributes:
        config: the configuration.
        value: its objective value.
        budget: the budget it was evaluated at.
        job_id: the job that produced it.
        config_id: the configuration's id.
    """

    config: dict[str, Any]
    value: float
    budget: Number
    job_id: int
    config_id: int

    def to_dict(self) -> dict[str, Any]:
        """The best result as a JSON-serialisable dict (``Best(**d)`` rebuilds it)."""
        return {
            "config": self.config,
            "value": self.value,
            "budget": self.budget,
            "job_id": self.job_id,
            "config_id": self.config_id,
        }


@attrs.frozen(slots=True)
class Stats:
    """Counters of a machine ([`Hyperband.stats`][hyperband.Hyperband.stats]).

    Attributes:
        n_asked: jobs handed out.
        n_succeeded: jobs told.
        n_failed: jobs failed.
        n_stopped: jobs stopped early by the stopping rule.
        n_reports: intermediate reports received.
        n_promoted: promotions handed out or queued (configurations sent to a higher rung).
        n_mispromoted: promoted configurations that are not, in hindsight, among the top of
            their rung's results so far (``floor(r / eta)`` of its ``r`` successes and stops).
            Always 0 in the synchronous modes, where a promotion waits until it is certain;
            in ``"asynchronous"`` mode, the price of promoting early.
        trust: how far the sampler trusts each budget now (``{budget: weight}``, the weights
            summing to 1), for a sampler that measures it (``KDESampler.trust_weights``);
            ``None`` for one that does not.
    """

    n_asked: int
    n_succeeded: int
    n_failed: int
    n_stopped: int
    n_reports: int
    n_promoted: int
    n_mispromoted: int
    trust: dict[int | float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The counters as a dict (``trust`` with its budgets as keys)."""
        return attrs.asdict(self)
