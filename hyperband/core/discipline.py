"""What the machine asks of a promotion discipline, and the configuration draws both share.

`hyperband.core.machine.Hyperband` keeps the jobs, results, reports and stops; a discipline
keeps the brackets: which job comes next, what a result promotes, when the study is done, and
the brackets' part of a snapshot. Two implement `Discipline`: synchronous successive halving
(`hyperband.core.brackets.Synchronous`, exec modes ``"parallelism"`` and ``"serial"``) and ASHA
(`hyperband.core.asha.Asynchronous`, exec mode ``"asynchronous"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from hyperband.core.errors import HyperbandError, describe
from hyperband.core.jobs import Job, Signal
from hyperband.core.sampling import Sampler

__all__ = ["BracketState", "Discipline", "Draws", "Key", "Number", "Point", "RungState"]

Number = int | float
# A rung ranks its successes by (loss, config_id), ascending = best first, so that ties go to
# the lower config_id in both modes. loss = value when minimizing, -value when maximizing.
Key = tuple[float, int]
Point = tuple[float, float]  # (step, loss) of a report


class RungState(Protocol):
    """What the machine reads and writes of a rung, in either discipline."""

    index: int
    budget: Number
    jobs: dict[int, int]  # config id -> id of its job on this rung
    ranked: list[Key]  # successes, best first
    stopped: set[int]  # config ids stopped early on this rung
    # config id -> its curve on this rung (kept only with a stopping rule).
    curves: dict[int, list[Point]]


class BracketState(Protocol):
    """What the machine reads of a bracket, in either discipline."""

    configs: dict[int, dict[str, Any]]  # config id -> configuration

    @property
    def rungs(self) -> Sequence[RungState]:
        """The bracket's rungs, by index."""


B = TypeVar("B", bound=BracketState)


class Discipline(Protocol[B]):
    """The brackets of a machine: the calls `Hyperband` makes, one per transition."""

    next_config_id: int  # the config id the next new configuration gets
    n_promoted: int

    def next_job(self, job_id: int) -> tuple[Job, B] | Signal:
        """The next job, with id ``job_id``, and its bracket; or ``WAIT`` or ``DONE``.

        A sampler error leaves the discipline as it was.
        """

    def succeeded(self, bracket: B, job: Job, key: Key) -> None:
        """Rank a pending job's success and make the promotions it allows."""

    def resolved(self, bracket: B, job: Job) -> None:
        """A pending job failed or was stopped: it ranks nowhere, but its rung may move on."""

    def shape(self, bracket: B, rung: int) -> tuple[int, int]:
        """The ``(size, promotions)`` of a rung, as a stopping rule sees them."""

    def bracket_of(self, job: Job) -> B:
        """The bracket of a pending job (on restore)."""

    @property
    def done(self) -> bool:
        """True when every bracket of every iteration is resolved."""

    def mispromoted(self) -> int:
        """How many promoted configurations are not in their rung's top now."""

    def dump(self, sign: float) -> dict[str, Any]:
        """The snapshot's ``"next_bracket"`` and ``"brackets"``, and any part of its own."""

    def load(self, state: Mapping[str, Any], sign: float) -> None:
        """Read back what `dump` wrote into the snapshot ``state``."""


class Draws:
    """Where the configurations come from, deterministically.

    A batch sampler's configurations of bracket ``s`` in ``iteration`` come from one RNG per
    (seed, iteration, s), so they do not depend on the order of results, on how many jobs run
    at once, or on the exec mode; a model-based sampler's ``k``-th one from one RNG per
    (seed, iteration, s, k), drawn when first asked.
    """

    __slots__ = ("_pending", "_sampler", "_seed", "lazy")

    def __init__(
        self, sampler: Sampler, seed: int, lazy: bool, pending: Mapping[int, tuple[Job, object]]
    ) -> None:
        self._sampler = sampler
        self._seed = seed
        self.lazy = lazy  # model-based: draw one configuration at a time, when first asked
        self._pending = pending  # the machine's pending jobs, which a model-based draw avoids

    def batch(self, iteration: int, s: int, n: int) -> list[dict[str, Any]]:
        """A batch sampler's ``n`` configurations of bracket ``s`` of ``iteration``."""
        rng = np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=(iteration, s)))
        configs = self._sampler.sample(rng, n)
        _check_configs(configs, n, "sampler.sample(rng, n)")
        return configs

    def draw(self, iteration: int, s: int, k: int) -> dict[str, Any]:
        """A model-based sampler's configuration ``k`` of a bracket, drawn now."""
        rng = np.random.default_rng(np.random.SeedSequence(self._seed, spawn_key=(iteration, s, k)))
        pending = tuple((job.config, job.budget) for job, _ in self._pending.values())
        configs = self._sampler.sample(rng, 1, pending=pending)  # type: ignore[call-arg]
        _check_configs(configs, 1, "sampler.sample(rng, 1, pending=...)")
        config: dict[str, Any] = configs[0]
        return config


def _check_configs(configs: object, n: int, call: str) -> None:
    if not isinstance(configs, list) or len(configs) != n:
        raise HyperbandError(f"{call} must return a list of {n} dicts, got {describe(configs)}")
    for config in configs:
        if not isinstance(config, dict):
            raise HyperbandError(f"{call} must return dicts, got an item {describe(config)}")
