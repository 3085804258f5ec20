"""Learning-curve workloads for the early-stopping benchmark (``bench_stopping.py``).

Each is a :class:`CurveWorkload`: ``curve(config, step) -> value``, the value after training
to ``step`` budget units (noisy where the workload is), whose value at ``max_budget`` is the
job's final result, plus ``true_value(config)``, the noise-free final value the regret is
measured from. Everything is deterministic given the workload's seed, the configuration and the
step (the noise is drawn from a generator keyed by a hash of them, as in ``workloads``);
numpy only, so the peers' own virtualenvs can import it too.

- ``crossing``: the crossing learning curves of ``workloads.learning_curves`` (a large
  learning rate learns fast but plateaus high): where stopping on early values can hurt.
- ``digits``: the digits-MLP replay table of ``workloads.digits``, epoch by epoch (accuracy
  after each epoch, and each epoch's recorded seconds as its duration).
- ``hartmann6``: Hartmann-6 (minimize) reached along an exponential learning curve whose time
  constant depends on ``x0``: ``v(x, t) = H(x) + (0.5 - H(x)) exp(-t / tau(x))``,
  ``tau = 2 + 10 x0``, plus N(0, 0.02) noise per step.
- ``counting_ones``: counting ones (maximize) as a running mean: the value after ``t`` budget
  units is ``sum c_i + sum_j (mean of the first t Bernoulli(x_j) draws)`` of ONE stream of
  draws per configuration, so it converges to its expectation as the budget grows.
- ``parallel``: a family whose noise-free curves never cross: ``e(x) + 0.4 exp(-t / 10)`` with
  the same time constant for every configuration, plus N(0, 0.005) noise: an ideal case for
  stopping.

A configuration trains at a speed of its own: a step of ``d`` budget units takes ``d`` times a
LogNormal(0, 0.3) factor drawn from the configuration's hash (digits: the table's recorded
seconds), so the same configuration takes the same time in every scheduler.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import workloads as wl

__all__ = [
    "CURVE_WORKLOADS",
    "CurveWorkload",
    "config_stream",
    "counting_ones",
    "crossing",
    "curve_workload",
    "digits",
    "hartmann6",
    "parallel",
]

Config = dict[str, Any]
SPEED_SIGMA = 0.3


def _generator(seed: int, config: Config, tag: str) -> np.random.Generator:
    """A generator unique to (seed, config, tag), stable across processes (see ``wl._rng``)."""
    text = f"{seed}|{json.dumps(config, sort_keys=True)}|{tag}"
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return np.random.Generator(np.random.Philox(key=int.from_bytes(digest, "little")))


def _key(config: Config) -> Hashable:
    return tuple(sorted(config.items()))


def _per_config(make: Callable[[Config], Any], size: int = 4096) -> Callable[[Config], Any]:
    """``make(config)``, computed once per configuration (an LRU cache keyed by its items):
    a curve is called at every step of every job, and hashing a configuration into a generator
    costs far more than the curve itself."""

    @functools.lru_cache(maxsize=size)
    def cached(key: Hashable) -> Any:
        return make(dict(key))  # type: ignore[call-overload]

    return lambda config: cached(_key(config))


def _noise(seed: int, config: Config, sd: float, steps: int) -> Any:
    """Gaussian noise for the steps 0..steps of one configuration: one stream per (seed,
    config), indexed by the step, so the noise at a step is fixed by (seed, config, step)."""
    return _generator(seed, config, "noise").normal(0.0, sd, steps + 1)


def _at(noise: Any, t: float) -> float:
    i = round(t)
    if i != t:
        raise ValueError(f"step must be a whole number of budget units, got {t!r}")
    return float(noise[i])


@dataclass(frozen=True)
class CurveWorkload:
    """A learning-curve objective and everything the stopping benchmark needs to score it.

    Attributes:
        name, title: identifier and human-readable title.
        space: the search space (NNI's JSON format).
        max_budget, min_budget, eta: the schedule the workload is meant for.
        mode: ``"maximize"`` or ``"minimize"``.
        optimum: the best noise-free final value over the space.
        curve: ``curve(config, step) -> value`` for ``0 < step <= max_budget``.
        true_value: the noise-free value at ``max_budget``.
        report_every: the reporting interval, in budget units.
        sampler: a custom sampler, or ``None`` to sample ``space`` at random.
        seconds: ``seconds(config, step, previous)``, the time to train from ``previous``
            (``None``: from scratch) to ``step``; ``None``: budget units times the speed factor.
        seed: the noise seed.
        description: the definition, for the docs.
        integer_budgets: the schedule's budgets are whole numbers (``hyperband.schedule``'s
            ``integer_budgets``): the curve knows whole steps only.
    """

    name: str
    title: str
    space: dict[str, Any]
    max_budget: int
    min_budget: int
    eta: int
    mode: str
    optimum: float
    curve: Callable[[Config, float], float] = field(repr=False)
    true_value: Callable[[Config], float] = field(repr=False)
    report_every: float = 1
    sampler: Any = field(default=None, repr=False)
    seconds: Callable[[Config, float, float | None], float] | None = field(default=None, repr=False)
    seed: int = 0
    description: str = ""
    integer_budgets: bool = False

    @property
    def space_or_sampler(self) -> Any:
        """What to hand to ``hyperband.Hyperband``: the custom sampler, else the space."""
        return self.space if self.sampler is None else self.sampler

    def regret(self, config: Config) -> float:
        """How far the configuration's noise-free final value is from the optimum (>= 0)."""
        gap = self.optimum - self.true_value(config)
        return max(0.0, gap if self.mode == "maximize" else -gap)

    def speed(self, config: Config) -> float:
        """Time per budget unit of this configuration: LogNormal(0, 0.3) from its hash."""
        return _speed(self.seed, _key(config))

    def duration(self, config: Config, step: float, previous: float | None) -> float:
        """Time to train from ``previous`` (``None``: scratch) to ``step`` (simulate's
        ``duration(config, budget, previous_budget)`` convention)."""
        if self.seconds is not None:
            return self.seconds(config, step, previous)
        return (step - (previous or 0)) * self.speed(config)


@functools.lru_cache(maxsize=4096)
def _speed(seed: int, key: Hashable) -> float:
    return float(_generator(seed, dict(key), "speed").lognormal(0.0, SPEED_SIGMA))  # type: ignore[call-overload]


def config_stream(w: CurveWorkload, seed: int) -> Callable[[int], Config]:
    """The ``k``-th configuration a peer starts, for run ``seed``: drawn by the same sampler
    as our machine's (the workload's sampler, or hyperband's random sampler of its space) from
    a generator keyed by ``(seed, k)``, so every peer sees the same configurations in order."""
    import hyperband

    sampler = w.sampler if w.sampler is not None else hyperband.RandomSampler(w.space)

    def config(k: int) -> Config:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xC0F, k)))
        return dict(sampler.sample(rng, 1)[0])

    return config


# ---------------------------------------------------------------------- crossing curves


def crossing(seed: int = 0) -> CurveWorkload:
    """The curves of ``workloads.learning_curves`` epoch by epoch: they cross; minimize.

    The noise (sd 0.005) comes from one stream per configuration indexed by the epoch.
    """
    base = wl.learning_curves(seed)
    max_budget = base.max_budget
    profile = _per_config(lambda c: (wl._lc_params(c), _noise(seed, c, wl._LC_NOISE, max_budget)))

    def curve(config: Config, t: float) -> float:
        params, noise = profile(config)
        return float(wl._lc_error(*params, t)) + _at(noise, t)

    return _from_workload(
        base, "crossing", curve, seed, base.description + "; reports every 3 epochs"
    )


def _from_workload(
    base: wl.Workload,
    name: str,
    curve: Callable[[Config, float], float],
    seed: int,
    description: str,
) -> CurveWorkload:
    """The curve form of a workload of ``workloads``: its space, schedule, direction,
    optimum, true values, sampler and recorded seconds, with ``curve`` for its values."""
    return CurveWorkload(
        name=name,
        title=base.title,
        space=base.space,
        max_budget=base.max_budget,
        min_budget=base.min_budget,
        eta=base.eta,
        mode=base.mode,
        optimum=base.optimum,
        curve=curve,
        true_value=base.true_value,
        report_every=3,
        sampler=base.sampler,
        seconds=base.seconds,
        seed=seed,
        description=description,
    )


# ---------------------------------------------------------------------- digits


def digits(seed: int = 0) -> CurveWorkload:
    """The digits replay table epoch by epoch, with its recorded seconds; maximize."""
    base = wl.digits(seed)
    assert base.seconds is not None
    return _from_workload(
        base,
        "digits",
        base.evaluate,
        seed,
        "validation accuracy after each epoch, replayed from the table of `workloads.digits` "
        "(300 configurations x 81 epochs); durations are the recorded seconds of each epoch; "
        "reports every 3 epochs; maximize",
    )


# ---------------------------------------------------------------------- Hartmann-6 curves

_H6_START = 0.5  # the value of every configuration at t = 0
_H6_NOISE = 0.02


def _h6_tau(config: Config) -> float:
    return 2.0 + 10.0 * float(config["x0"])


def hartmann6(seed: int = 0) -> CurveWorkload:
    """Hartmann-6 along a learning curve: ``H(x) + (0.5 - H(x)) exp(-t / (2 + 10 x0))``."""
    names = [f"x{j}" for j in range(6)]
    space = {k: {"_type": "uniform", "_value": [0, 1]} for k in names}
    max_budget = 81

    def noise_free(config: Config, t: float) -> float:
        h = wl.hartmann6_value([config[k] for k in names])
        return h + (_H6_START - h) * math.exp(-t / _h6_tau(config))

    profile = _per_config(
        lambda c: (
            wl.hartmann6_value([c[k] for k in names]),
            _h6_tau(c),
            _noise(seed, c, _H6_NOISE, max_budget),
        )
    )

    def curve(config: Config, t: float) -> float:
        h, tau, noise = profile(config)
        return h + (_H6_START - h) * math.exp(-t / tau) + _at(noise, t)

    def true_value(config: Config) -> float:
        return noise_free(config, max_budget)

    x_star = dict(zip(names, wl.H6_ARGMIN, strict=True))
    return CurveWorkload(
        name="hartmann6",
        title="Hartmann-6 learning curves",
        space=space,
        max_budget=max_budget,
        min_budget=1,
        eta=3,
        mode="minimize",
        # At the global minimiser tau = 4, so the curve is within 1e-8 of H there by t = 81.
        optimum=true_value(x_star),
        curve=curve,
        true_value=true_value,
        report_every=3,
        seed=seed,
        description=(
            "v(x, t) = H(x) + (0.5 - H(x)) exp(-t / tau), tau = 2 + 10 x0 epochs, H = "
            "Hartmann-6 (optimum -3.32237), + N(0, 0.02) per step; budgets 1..81, reports "
            "every 3 epochs; minimize"
        ),
    )


# ---------------------------------------------------------------------- counting ones


def counting_ones(seed: int = 0) -> CurveWorkload:
    """Counting ones as running means of one stream of Bernoulli draws per configuration."""
    n = wl.N_ONES
    space: dict[str, Any] = {f"c{i}": {"_type": "choice", "_value": [0, 1]} for i in range(n)}
    space.update({f"x{j}": {"_type": "uniform", "_value": [0, 1]} for j in range(n)})
    cat = [f"c{i}" for i in range(n)]
    cont = [f"x{j}" for j in range(n)]

    max_budget = 729

    def successes(config: Config) -> tuple[int, Any]:
        # One stream of draws per configuration: a longer run extends a shorter one's draws.
        p = np.array([config[k] for k in cont])
        u = _generator(seed, config, "draws").random((max_budget, n))
        counts = np.concatenate([[0], np.cumsum((u < p).sum(axis=1))]).astype(np.int32)
        return sum(config[k] for k in cat), counts

    profile = _per_config(successes, size=2048)

    def curve(config: Config, t: float) -> float:
        draws = max(1, round(t))
        ones, counts = profile(config)
        return float(ones + counts[draws] / draws)

    def true_value(config: Config) -> float:
        return float(sum(config[k] for k in cat) + sum(config[k] for k in cont))

    return CurveWorkload(
        name="counting_ones",
        title="Counting ones (8+8 dims), running means",
        space=space,
        max_budget=max_budget,
        min_budget=9,
        eta=3,
        mode="maximize",
        optimum=float(2 * n),
        curve=curve,
        true_value=true_value,
        report_every=27,
        seed=seed,
        description=(
            "sum of 8 binary c_i + for each of 8 continuous x_j the mean of the first t draws of "
            "one Bernoulli(x_j) stream per configuration; budgets 9..729, reports every 27 "
            "units; maximize, optimum 16 (the expectation)"
        ),
    )


# ---------------------------------------------------------------------- curves that never cross

_PAR_GAP = 0.4
_PAR_TAU = 10.0
_PAR_NOISE = 0.005
_PAR_CENTRE = {"a": 0.3, "b": 0.6, "c": 0.5}


def _par_final(config: Config) -> float:
    return 0.05 + 0.2 * sum((config[k] - c) ** 2 for k, c in _PAR_CENTRE.items())


def parallel(seed: int = 0) -> CurveWorkload:
    """Curves that never cross: ``e(x) + 0.4 exp(-t / 10)``, one time constant for all."""
    space = {k: {"_type": "uniform", "_value": [0, 1]} for k in (*_PAR_CENTRE, "d")}
    max_budget = 81

    def noise_free(config: Config, t: float) -> float:
        return _par_final(config) + _PAR_GAP * math.exp(-t / _PAR_TAU)

    profile = _per_config(lambda c: (_par_final(c), _noise(seed, c, _PAR_NOISE, max_budget)))

    def curve(config: Config, t: float) -> float:
        final, noise = profile(config)
        return final + _PAR_GAP * math.exp(-t / _PAR_TAU) + _at(noise, t)

    return CurveWorkload(
        name="parallel",
        title="Curves that never cross",
        space=space,
        max_budget=max_budget,
        min_budget=1,
        eta=3,
        mode="minimize",
        optimum=noise_free(dict(_PAR_CENTRE), max_budget),
        curve=curve,
        true_value=lambda config: noise_free(config, max_budget),
        report_every=3,
        seed=seed,
        description=(
            "e(x) + 0.4 exp(-t/10), e(x) = 0.05 + 0.2 ((a - 0.3)^2 + (b - 0.6)^2 + "
            "(c - 0.5)^2) (d is inert), + N(0, 0.005) per step; budgets 1..81, reports every "
            "3 epochs; minimize"
        ),
    )


CURVE_WORKLOADS: dict[str, Callable[[int], CurveWorkload]] = {
    "crossing": crossing,
    "digits": digits,
    "hartmann6": hartmann6,
    "counting_ones": counting_ones,
    "parallel": parallel,
}


def curve_workload(name: str, seed: int = 0) -> CurveWorkload:
    """One curve workload by its ``name``."""
    if name not in CURVE_WORKLOADS:
        raise ValueError(f"unknown curve workload {name!r}; known: {', '.join(CURVE_WORKLOADS)}")
    return CURVE_WORKLOADS[name](seed)
