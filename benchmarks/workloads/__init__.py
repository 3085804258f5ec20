"""Multi-fidelity test functions for the quality and checkpoint-resume benchmarks.

Each workload is a :class:`Workload`: a callable ``f(config, budget) -> value`` with its
search space (NNI's JSON format), its schedule (``max_budget``, ``min_budget``, ``eta``), its
direction, its noise-free value at ``max_budget`` (to compute regret) and its optimum.
Everything is deterministic given (config, budget) and the workload's ``seed``: the noise of an
evaluation comes from an RNG seeded with (seed, a hash of the config, budget), never from a
global RNG. numpy only (the digits replay table was made once by ``make_digits_table.py``).

- ``counting_ones``: Falkner et al. 2018 (BOHB), 8 binary + 8 continuous parameters; value =
  sum of the binary ones + for each continuous ``x_j`` the mean of ``budget`` Bernoulli(x_j)
  draws. Budgets 9..729 (eta 3), maximize, optimum 16 (in expectation).
- ``hartmann6_good`` / ``hartmann6_bad``: multi-fidelity Hartmann-6 with fidelity
  ``z = budget / max_budget`` (budgets 1..81). The well-correlated one is the form of
  Kandasamy et al. 2017: ``alpha'(z) = alpha - 0.1 (1 - z)``. The badly correlated one turns
  the two large bumps into pits and enlarges the two small ones at low fidelity:
  ``alpha'(z) = alpha + (1 - z) (1, 1, -4, -4)``, so near z=0 it is about (2.0, 2.2, -1.0, -0.8)
  instead of (1.0, 1.2, 3.0, 3.2): the basins that hold the best values (the global optimum is
  in bump 3's) look worse than the flat rest of the cube at low budget, and stay behind the small
  bumps up to z ~ 0.55. Minimize, optimum -3.32237 (at z = 1 both are Hartmann-6).
- ``learning_curves``: a learning-curve simulator whose curves cross (budgets 1..81 epochs):
  a larger learning rate learns faster but plateaus at a higher error; minimize error.
- ``digits``: a replay table of scikit-learn's MLP on the digits data (300 configurations x 81
  epochs of validation accuracy and epoch seconds); maximize. Its own sampler draws table rows
  (configurations carry their ``row``); any other configuration of its space is evaluated as the
  nearest table row (see :func:`nearest_row`), so every sampler and every peer can run on it.
- ``branin``: multi-fidelity Branin (Kandasamy et al. 2017), fidelity ``z = budget / 81``,
  budgets 1..81; minimize, optimum 0.397887 (three minimisers).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DIGITS_TABLE",
    "NAMES",
    "DigitsTable",
    "TableSampler",
    "Workload",
    "all_workloads",
    "branin",
    "branin_value",
    "counting_ones",
    "digits",
    "hartmann6",
    "hartmann6_value",
    "learning_curves",
    "load_digits_table",
    "nearest_row",
    "workload",
]

DIGITS_TABLE = Path(__file__).resolve().parent.parent / "data" / "digits_mlp.npz"

Config = dict[str, Any]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Workload:
    """A multi-fidelity objective and everything a benchmark needs to run and score it.

    Attributes:
        name: short identifier (used in result files).
        title: a human-readable title (used in tables and plots).
        space: the search space in NNI's JSON format.
        max_budget, min_budget, eta: the Hyperband schedule the workload is meant for.
        mode: ``"maximize"`` or ``"minimize"``.
        optimum: the best noise-free value at ``max_budget`` over the whole space.
        evaluate: ``f(config, budget) -> value`` (noisy where the workload is).
        true_value: the noise-free value of a configuration at ``max_budget``.
        sampler: a custom sampler (an object with ``sample(rng, n)``), or ``None`` to sample
            ``space`` at random.
        seconds: for a replay table, ``seconds(config, budget, previous_budget)``: the recorded
            wall time of training from ``previous_budget`` (``None`` = from scratch) to
            ``budget``; ``None`` when the workload has no such record.
        description: how the function is defined (for the docs).
    """

    name: str
    title: str
    space: dict[str, Any]
    max_budget: int
    min_budget: int
    eta: int
    mode: str
    optimum: float
    evaluate: Callable[[Config, float], float] = field(repr=False)
    true_value: Callable[[Config], float] = field(repr=False)
    sampler: Any = field(default=None, repr=False)
    seconds: Callable[[Config, float, float | None], float] | None = field(default=None, repr=False)
    description: str = ""

    def __call__(self, config: Config, budget: float) -> float:
        return self.evaluate(config, budget)

    @property
    def space_or_sampler(self) -> Any:
        """What to hand to ``hyperband.Hyperband``: the custom sampler, else the space."""
        return self.space if self.sampler is None else self.sampler

    def regret(self, config: Config) -> float:
        """How far the configuration's noise-free value at ``max_budget`` is from the optimum."""
        gap = self.optimum - self.true_value(config)
        return max(0.0, gap if self.mode == "maximize" else -gap)


def _rng(seed: int, config: Config, budget: float) -> np.random.Generator:
    """An RNG unique to (seed, config, budget), stable across processes and runs.

    Python's ``hash`` is salted per process for strings, so a digest of the config's JSON is
    used instead (``repr(float)`` round-trips exactly, so 0.1 and 0.1000000001 differ). The
    128-bit digest keys a Philox generator directly: a counter-based generator needs no
    SeedSequence mixing, which halves the cost of an evaluation.
    """
    text = f"{seed}|{json.dumps(config, sort_keys=True)}|{float(budget)!r}"
    digest = hashlib.blake2b(text.encode(), digest_size=16).digest()
    return np.random.Generator(np.random.Philox(key=int.from_bytes(digest, "little")))


# ---------------------------------------------------------------------- counting ones

N_ONES = 8  # binary parameters; as many continuous ones


def counting_ones(seed: int = 0) -> Workload:
    """Counting ones (Falkner et al. 2018): 8 binary + 8 continuous parameters, maximize.

    ``f(config, b) = sum_i c_i + sum_j Binomial(b, x_j) / b``: the mean of ``b`` Bernoulli(x_j)
    draws has the same law as a Binomial over ``b``, drawn in one call. The noise shrinks as the
    budget grows, so the low budgets rank the configurations noisily but without bias.
    """
    space: dict[str, Any] = {f"c{i}": {"_type": "choice", "_value": [0, 1]} for i in range(N_ONES)}
    space.update({f"x{j}": {"_type": "uniform", "_value": [0, 1]} for j in range(N_ONES)})
    cat = [f"c{i}" for i in range(N_ONES)]
    cont = [f"x{j}" for j in range(N_ONES)]

    def evaluate(config: Config, budget: float) -> float:
        draws = max(1, round(budget))
        rng = _rng(seed, config, budget)
        p = np.array([config[k] for k in cont], dtype=float)
        means = rng.binomial(draws, p) / draws
        return float(sum(config[k] for k in cat) + means.sum())

    def true_value(config: Config) -> float:
        return float(sum(config[k] for k in cat) + sum(config[k] for k in cont))

    return Workload(
        name="counting_ones",
        title="Counting ones (8+8 dims)",
        space=space,
        max_budget=729,
        min_budget=9,
        eta=3,
        mode="maximize",
        optimum=float(2 * N_ONES),
        evaluate=evaluate,
        true_value=true_value,
        description=(
            "sum of 8 binary parameters + for each of 8 continuous x_j in [0, 1] the mean of "
            "`budget` Bernoulli(x_j) draws; budgets 9..729, maximize, optimum 16"
        ),
    )


# ---------------------------------------------------------------------- Hartmann-6

# Hartmann-6 constants (Dixon and Szegoe 1978; as in Kandasamy et al. 2017).
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
H6_OPTIMUM = -3.32237
H6_ARGMIN = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)
# alpha'(z) = alpha + (1 - z) * shift
_H6_SHIFT = {
    "good": np.full(4, -0.1),  # Kandasamy et al. 2017: alpha - 0.1 (1 - z)
    # Large bumps become pits, small bumps grow, near z=0: rankings reverse at low budget.
    "bad": np.array([1.0, 1.0, -4.0, -4.0]),
}


def hartmann6_value(x: npt.ArrayLike, z: float = 1.0, correlation: str = "good") -> float:
    """Multi-fidelity Hartmann-6 at ``x`` in [0, 1]^6 and fidelity ``z`` in [0, 1].

    ``f(x, z) = -sum_i alpha'_i(z) exp(-sum_j A_ij (x_j - P_ij)^2)`` with
    ``alpha'(z) = alpha + (1 - z) shift``; ``z = 1`` is the usual Hartmann-6.
    """
    xv = np.asarray(x, dtype=float)
    alpha = _H6_ALPHA + (1.0 - z) * _H6_SHIFT[correlation]
    inner = np.sum(_H6_A * (xv - _H6_P) ** 2, axis=1)
    return float(-(alpha @ np.exp(-inner)))


def hartmann6(correlation: str = "good", seed: int = 0) -> Workload:
    """Hartmann-6 with a well (``"good"``) or badly (``"bad"``) correlated low fidelity.

    Noise-free (so ``seed`` is unused, kept for a uniform signature); minimize; budgets 1..81
    epochs with fidelity ``z = budget / 81``.
    """
    if correlation not in _H6_SHIFT:
        raise ValueError(f"correlation must be 'good' or 'bad', got {correlation!r}")
    del seed
    names = [f"x{j}" for j in range(6)]
    space = {k: {"_type": "uniform", "_value": [0, 1]} for k in names}
    max_budget = 81

    def evaluate(config: Config, budget: float) -> float:
        return hartmann6_value([config[k] for k in names], budget / max_budget, correlation)

    def true_value(config: Config) -> float:
        return hartmann6_value([config[k] for k in names], 1.0, correlation)

    shift = ", ".join(f"{v:g}" for v in _H6_SHIFT[correlation])
    return Workload(
        name=f"hartmann6_{correlation}",
        title=f"Hartmann-6, {'well' if correlation == 'good' else 'badly'} correlated",
        space=space,
        max_budget=max_budget,
        min_budget=1,
        eta=3,
        mode="minimize",
        optimum=H6_OPTIMUM,
        evaluate=evaluate,
        true_value=true_value,
        description=(
            "-sum_i alpha'_i exp(-sum_j A_ij (x_j - P_ij)^2), alpha'(z) = alpha + (1 - z) "
            f"({shift}), z = budget/81; budgets 1..81, minimize, optimum -3.32237"
        ),
    )


# ---------------------------------------------------------------------- learning curves

_LC_GAP = 0.4  # error at t=0 minus the asymptotic error
_LC_NOISE = 0.005
_LC_FAMILIES = ("exp", "pow3")


def _lc_params(config: Config) -> tuple[str, float, float, float]:
    """(family, asymptotic error, time scale in epochs, pow3 exponent) of a configuration.

    ``u`` in [0, 1] is the learning rate on a log scale. A larger one learns faster (the time
    scale falls from 20 epochs to 0.2) but plateaus higher (``0.15 u^2``): that trade-off is
    what makes curves cross. ``reg`` shifts the whole curve (best at 0.3), so it ranks the
    configurations alike at every budget. The pow3 family ends 0.02 lower than the exponential
    one but approaches its plateau only polynomially (slowly when ``decay`` is small).
    """
    u = math.log10(config["lr"] / 1e-4) / 4.0
    family = config["family"]
    e_inf = 0.03 + 0.15 * u * u + 0.6 * (config["reg"] - 0.3) ** 2
    if family == "pow3":
        e_inf -= 0.02
    tau = 20.0 * 10.0 ** (-2.0 * u)
    return family, e_inf, tau, float(config["decay"])


def _lc_error(family: str, e_inf: Any, tau: Any, decay: Any, t: float) -> Any:
    """Noise-free error after ``t`` epochs (broadcasts over numpy arrays)."""
    progress = np.exp(-t / tau) if family == "exp" else (1.0 + t / tau) ** (-decay)
    return e_inf + _LC_GAP * progress


@functools.cache
def _lc_optimum(max_budget: float) -> float:
    """The lowest noise-free error at ``max_budget``: reg = 0.3 and decay = 2 are optimal for
    every learning rate (the error is monotone in each), so a fine 1-D grid over the learning
    rate, refined once around its best point, finds it to ~1e-9."""
    best = math.inf
    for family in _LC_FAMILIES:
        lo, hi = 0.0, 1.0
        for _ in range(3):
            u = np.linspace(lo, hi, 20001)
            e_inf = 0.03 + 0.15 * u * u - (0.02 if family == "pow3" else 0.0)
            err = _lc_error(family, e_inf, 20.0 * 10.0 ** (-2.0 * u), 2.0, max_budget)
            k = int(np.argmin(err))
            best = min(best, float(err[k]))
            step = (hi - lo) / 20000
            lo, hi = max(0.0, u[k] - 2 * step), min(1.0, u[k] + 2 * step)
    return best


def learning_curves(seed: int = 0) -> Workload:
    """Simulated validation-error curves (exponential and pow3 families) that cross; minimize.

    ``error(t) = e_inf + 0.4 g(t)`` with ``g = exp(-t / tau)`` or
    ``(1 + t / tau)^-decay``, plus Gaussian noise of sd 0.005 (deterministic per config and
    budget). See :func:`_lc_params` for how a configuration maps to ``e_inf`` and ``tau``.
    """
    space: dict[str, Any] = {
        "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
        "reg": {"_type": "uniform", "_value": [0, 1]},
        "family": {"_type": "choice", "_value": list(_LC_FAMILIES)},
        "decay": {"_type": "uniform", "_value": [0.5, 2.0]},
    }
    max_budget = 81

    def evaluate(config: Config, budget: float) -> float:
        noise = _rng(seed, config, budget).normal(0.0, _LC_NOISE)
        return float(_lc_error(*_lc_params(config), budget)) + float(noise)

    def true_value(config: Config) -> float:
        return float(_lc_error(*_lc_params(config), max_budget))

    return Workload(
        name="learning_curves",
        title="Learning curves that cross",
        space=space,
        max_budget=max_budget,
        min_budget=1,
        eta=3,
        mode="minimize",
        optimum=_lc_optimum(max_budget),
        evaluate=evaluate,
        true_value=true_value,
        description=(
            "error(t) = e_inf + 0.4 g(t), g = exp(-t/tau) or (1 + t/tau)^-decay, "
            "u = log10(lr/1e-4)/4, tau = 20 * 10^(-2u), e_inf = 0.03 + 0.15 u^2 + "
            "0.6 (reg - 0.3)^2 (- 0.02 for pow3), + N(0, 0.005); budgets 1..81, minimize"
        ),
    )


# ---------------------------------------------------------------------- digits replay table


@dataclass(frozen=True)
class DigitsTable:
    """The digits-MLP replay table (see ``make_digits_table.py``)."""

    configs: list[Config]
    accuracy: FloatArray  # rows x epochs: validation accuracy after epoch e + 1
    epoch_seconds: FloatArray  # rows x epochs: wall time of epoch e + 1
    meta: dict[str, Any]

    @property
    def n_configs(self) -> int:
        return int(self.accuracy.shape[0])

    @property
    def n_epochs(self) -> int:
        return int(self.accuracy.shape[1])


@functools.cache
def load_digits_table(path: Path = DIGITS_TABLE) -> DigitsTable:
    """Load (once per process) the replay table written by ``make_digits_table.py``."""
    with np.load(path) as data:
        n = len(data["learning_rate_init"])
        configs = [
            {
                "row": row,
                "learning_rate_init": float(data["learning_rate_init"][row]),
                "alpha": float(data["alpha"][row]),
                "hidden_layer_size": int(data["hidden_layer_size"][row]),
                "batch_size": int(data["batch_size"][row]),
            }
            for row in range(n)
        ]
        accuracy = data["correct"].astype(float) / float(data["n_val"])
        seconds = data["epoch_us"].astype(float) / 1e6
        meta = json.loads(str(data["meta"]))
    return DigitsTable(configs, accuracy, seconds, meta)


class TableSampler:
    """Draws rows of a replay table uniformly, with replacement (``sample(rng, n)``)."""

    def __init__(self, configs: list[Config]) -> None:
        self._configs = configs

    def sample(self, rng: np.random.Generator, n: int) -> list[Config]:
        rows = rng.integers(0, len(self._configs), n)
        # Fresh dicts: configurations must not alias each other or the table.
        return [dict(self._configs[r]) for r in rows.tolist()]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _coordinates(space: dict[str, Any], config: Config) -> list[float]:
    """A configuration as a point of the unit cube (see :func:`nearest_row`)."""
    out: list[float] = []
    for name, spec in space.items():
        kind, args, x = spec["_type"], spec["_value"], config[name]
        if kind in ("uniform", "quniform"):
            lo, hi = float(args[0]), float(args[1])
            out.append((float(x) - lo) / (hi - lo))
        elif kind in ("loguniform", "qloguniform"):
            lo, hi = math.log(args[0]), math.log(args[1])
            out.append((math.log(float(x)) - lo) / (hi - lo))
        elif kind == "randint":
            lo, hi = int(args[0]), int(args[1]) - 1
            out.append(0.0 if hi == lo else (int(x) - lo) / (hi - lo))
        elif kind == "choice" and all(_is_number(v) for v in args):
            # Ordered numbers: the option's rank, evenly spaced on [0, 1].
            rank = sorted(float(v) for v in args).index(float(x))
            out.append(rank / max(1, len(args) - 1))
        elif kind == "choice" and not any(isinstance(v, dict) for v in args):
            # Unordered options: one-hot, scaled so that two different options are 1 apart.
            out.extend(math.sqrt(0.5) * float(x == v) for v in args)
        else:
            raise ValueError(f"nearest_row does not map parameter {name!r} of type {kind!r}")
    return out


def nearest_row(space: dict[str, Any], rows: list[Config]) -> Callable[[Config], int]:
    """A function mapping any configuration of ``space`` to the index of its nearest row.

    Distances are Euclidean in the unit cube: uniform and integer parameters scaled linearly
    to [0, 1] over their range, log-uniform ones on a log scale, a ``choice`` of numbers by the
    option's rank (evenly spaced), any other ``choice`` one-hot. Ties go to the lower row.
    Nested choices and normal distributions are not supported (no replay table has them).
    """
    table = np.array([_coordinates(space, r) for r in rows])

    def find(config: Config) -> int:
        point = np.array(_coordinates(space, config))
        return int(np.argmin(np.sum((table - point) ** 2, axis=1)))

    return find


def digits(seed: int = 0, path: Path = DIGITS_TABLE) -> Workload:
    """Replay of the digits MLP: value = validation accuracy after ``budget`` epochs; maximize.

    Budgets must be whole epochs in 1..81. ``seed`` is unused (a table has no noise of its own).
    A configuration with a ``row`` key (what the workload's own :class:`TableSampler` draws) is
    that row; any other configuration of the space is evaluated as its nearest row
    (:func:`nearest_row`: log scale for the learning rate and ``alpha``, the options' rank for
    the hidden size and the batch size), which lets any sampler and the peers run on the table.
    """
    del seed
    table = load_digits_table(path)
    max_budget = table.n_epochs
    space = dict(table.meta["space"])
    cumulative = np.concatenate(
        [np.zeros((table.n_configs, 1)), np.cumsum(table.epoch_seconds, axis=1)], axis=1
    )
    nearest = nearest_row(space, table.configs)

    def row_of(config: Config) -> int:
        return int(config["row"]) if "row" in config else nearest(config)

    def epoch(budget: float) -> int:
        e = round(budget)
        if e != budget or not 1 <= e <= max_budget:
            raise ValueError(f"budget must be a whole number of epochs in 1..{max_budget}")
        return int(e)

    def evaluate(config: Config, budget: float) -> float:
        return float(table.accuracy[row_of(config), epoch(budget) - 1])

    def true_value(config: Config) -> float:
        return float(table.accuracy[row_of(config), max_budget - 1])

    def seconds(config: Config, budget: float, previous_budget: float | None) -> float:
        start = 0 if previous_budget is None else epoch(previous_budget)
        row = cumulative[row_of(config)]
        return float(row[epoch(budget)] - row[start])

    return Workload(
        name="digits",
        title="Digits MLP (replay table)",
        space=space,
        max_budget=max_budget,
        min_budget=1,
        eta=3,
        mode="maximize",
        optimum=float(table.accuracy[:, -1].max()),
        evaluate=evaluate,
        true_value=true_value,
        sampler=TableSampler(table.configs),
        seconds=seconds,
        description=(
            f"validation accuracy of scikit-learn's MLPClassifier on digits after `budget` "
            f"epochs, replayed from a table of {table.n_configs} configurations x "
            f"{max_budget} epochs (other configurations of the space: the nearest row); "
            f"budgets 1..{max_budget}, maximize"
        ),
    )


# ---------------------------------------------------------------------- Branin

BRANIN_ARGMIN = ((-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475))


def branin_value(x1: float, x2: float, z: float = 1.0) -> float:
    """Multi-fidelity Branin (Kandasamy et al. 2017) at fidelity ``z`` in [0, 1].

    ``f = (x2 - b(z) x1^2 + c(z) x1 - 6)^2 + 10 (1 - t(z)) cos(x1) + 10`` with
    ``b(z) = 5.1 / (4 pi^2) - 0.01 (1 - z)``, ``c(z) = 5 / pi - 0.1 (1 - z)``,
    ``t(z) = 1 / (8 pi) + 0.05 (1 - z)``; ``z = 1`` is the usual Branin.
    """
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1 - z)
    c = 5 / math.pi - 0.1 * (1 - z)
    t = 1 / (8 * math.pi) + 0.05 * (1 - z)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


# 0.397887...: exact at (pi, 2.275), so that a minimiser has zero regret.
BRANIN_OPTIMUM = branin_value(math.pi, 2.275)


def branin(seed: int = 0) -> Workload:
    """Multi-fidelity Branin, ``x1`` in [-5, 10], ``x2`` in [0, 15], ``z = budget / 81``.

    Noise-free like the Hartmann-6 workloads (the other function of Kandasamy et al. 2017):
    its low fidelities are biased, not noisy, so ``seed`` is unused (kept for a uniform
    signature). Minimize; budgets 1..81 epochs; optimum 0.397887.
    """
    del seed
    max_budget = 81
    space = {
        "x1": {"_type": "uniform", "_value": [-5, 10]},
        "x2": {"_type": "uniform", "_value": [0, 15]},
    }

    def evaluate(config: Config, budget: float) -> float:
        return branin_value(float(config["x1"]), float(config["x2"]), budget / max_budget)

    def true_value(config: Config) -> float:
        return branin_value(float(config["x1"]), float(config["x2"]))

    return Workload(
        name="branin",
        title="Branin (multi-fidelity)",
        space=space,
        max_budget=max_budget,
        min_budget=1,
        eta=3,
        mode="minimize",
        optimum=BRANIN_OPTIMUM,
        evaluate=evaluate,
        true_value=true_value,
        description=(
            "(x2 - b x1^2 + c x1 - 6)^2 + 10 (1 - t) cos(x1) + 10, b = 5.1/(4 pi^2) - "
            "0.01 (1 - z), c = 5/pi - 0.1 (1 - z), t = 1/(8 pi) + 0.05 (1 - z), z = budget/81, "
            "x1 in [-5, 10], x2 in [0, 15]; budgets 1..81, minimize, optimum 0.397887"
        ),
    )


NAMES = (
    "counting_ones",
    "hartmann6_good",
    "hartmann6_bad",
    "learning_curves",
    "digits",
    "branin",
)


def all_workloads(seed: int = 0, *, include_digits: bool = True) -> list[Workload]:
    """Every workload, in the order the benchmarks report them."""
    out = [
        counting_ones(seed),
        hartmann6("good", seed),
        hartmann6("bad", seed),
        learning_curves(seed),
    ]
    if include_digits:
        out.append(digits(seed))
    out.append(branin(seed))
    return out


def workload(name: str, seed: int = 0) -> Workload:
    """One workload by its ``name``."""
    makers: dict[str, Callable[[], Workload]] = {
        "counting_ones": lambda: counting_ones(seed),
        "hartmann6_good": lambda: hartmann6("good", seed),
        "hartmann6_bad": lambda: hartmann6("bad", seed),
        "learning_curves": lambda: learning_curves(seed),
        "digits": lambda: digits(seed),
        "branin": lambda: branin(seed),
    }
    if name not in makers:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(makers)}")
    return makers[name]()
