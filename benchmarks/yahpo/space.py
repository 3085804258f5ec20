"""The lcbench search space, shared by the client (project env) and the server (yahpo venv).

Both sides import this module, so a configuration is cleaned by the same code wherever it
enters: the client cleans it before caching and sending (so a cache key is the configuration
the surrogate really sees), the server again before predicting (so any other client of the
protocol gets the same guarantees). Needs numpy only, and works with numpy 1.26 (the yahpo
venv) and 2.x (the project).

The seven hyperparameters and their bounds are those of ``lcbench/config_space.json`` in
yahpo_data 1.0.2 (the server checks them against the file at start-up). As an NNI search space
(:data:`NNI_SPACE`):

- ``learning_rate``: ``loguniform``; ``weight_decay``, ``momentum``, ``max_dropout``:
  ``uniform``.
- ``batch_size`` [16, 512] and ``max_units`` [64, 1024] are integers on a log scale in
  ConfigSpace: ``qloguniform`` with ``q = 1``. Chosen over ``loguniform`` + rounding because
  it tells the samplers the parameter is discrete (our KDE sampler and the peers' translators
  handle ``q``) while drawing from the same log-uniform law; its draws are floats (``145.0``),
  which :func:`clean_config` turns into ints.
- ``num_layers`` 1..5: ``randint [1, 6)`` (NNI's upper bound is excluded).

The encoded space (:func:`encode` / :func:`decode`) is the unit cube ``[0, 1]^7`` in
:data:`NAMES` order, log-scaled where the parameter is; a uniform point of the cube decodes to
a draw of :data:`NNI_SPACE`'s law, so random search and local search in ``reference.py`` work
in it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALL_TASKS",
    "MAX_EPOCH",
    "NAMES",
    "NNI_SPACE",
    "PARAMS",
    "Param",
    "clean_config",
    "config_key",
    "decode",
    "encode",
    "sample",
]

Config = dict[str, Any]

MAX_EPOCH = 52  # lcbench's fidelity: epochs 1..52

# yahpo_data 1.0.2's lcbench instances (OpenML task ids), in config_space.json's order.
ALL_TASKS: tuple[str, ...] = (
    "3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104", "167149",
    "167152", "167161", "167168", "167181", "167184", "167185", "167190", "167200", "167201",
    "168329", "168330", "168331", "168335", "168868", "168908", "168910", "189354", "189862",
    "189865", "189866", "189873", "189905", "189906", "189908", "189909",
)  # fmt: skip

# A value this far outside a bound (relative to the range, on the parameter's own scale) is
# floating-point error and is moved onto the bound; anything farther is a caller's bug.
CLAMP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Param:
    """One hyperparameter: its bounds (inclusive), scale and type."""

    name: str
    lower: float
    upper: float
    log: bool
    integer: bool

    def nni(self) -> dict[str, Any]:
        """The parameter's NNI spec (see the module docstring for the choice of types)."""
        if self.integer and self.log:
            return {"_type": "qloguniform", "_value": [int(self.lower), int(self.upper), 1]}
        if self.integer:
            return {"_type": "randint", "_value": [int(self.lower), int(self.upper) + 1]}
        kind = "loguniform" if self.log else "uniform"
        return {"_type": kind, "_value": [self.lower, self.upper]}


# The learning rate's bounds are the file's, float error included: a value in the file's range
# must pass its check, and 1e-4 would not reject 1.0000000000000009e-4.
PARAMS: tuple[Param, ...] = (
    Param("batch_size", 16, 512, log=True, integer=True),
    Param("learning_rate", 0.00010000000000000009, 0.10000000000000002, log=True, integer=False),
    Param("max_dropout", 0.0, 1.0, log=False, integer=False),
    Param("max_units", 64, 1024, log=True, integer=True),
    Param("momentum", 0.1, 0.99, log=False, integer=False),
    Param("num_layers", 1, 5, log=False, integer=True),
    Param("weight_decay", 1e-05, 0.1, log=False, integer=False),
)
NAMES: tuple[str, ...] = tuple(p.name for p in PARAMS)
NNI_SPACE: dict[str, Any] = {p.name: p.nni() for p in PARAMS}


def _number(name: str, value: Any) -> float:
    # bool is an int to Python, but True as a batch size is a caller's bug.
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"lcbench parameter {name!r} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"lcbench parameter {name!r} must be finite, got {value!r}")
    return x


def _clean(p: Param, value: Any) -> int | float:
    x = _number(p.name, value)
    if p.integer:
        # 0.5 of slack: a float draw that rounds onto a bound is that bound.
        x = float(round(x))
    if p.log and x > 0:
        lo, hi, v = math.log(p.lower), math.log(p.upper), math.log(x)
    else:
        lo, hi, v = p.lower, p.upper, x
    slack = CLAMP_TOLERANCE * (hi - lo)
    if (p.log and x <= 0) or not lo - slack <= v <= hi + slack:
        raise ValueError(
            f"lcbench parameter {p.name!r} = {value!r} is outside [{p.lower}, {p.upper}]"
        )
    x = min(max(x, p.lower), p.upper)
    return int(x) if p.integer else x


def clean_config(config: Mapping[str, Any]) -> Config:
    """The configuration the surrogate is asked about: the seven parameters, ints as ``int``.

    Integers are rounded (``qloguniform`` draws are floats), values outside a bound by float
    error (up to ``CLAMP_TOLERANCE`` of the range) are moved onto it: yahpo's check rejects
    them and the server would die. Values farther out are refused rather than clamped, because
    the surrogate would then score a different configuration than the caller meant. Other keys
    (a sampler's bookkeeping, an ``epoch`` or task id) are dropped: the epoch and the task are
    arguments of the query, not of the configuration.

    Raises:
        KeyError: a parameter is missing.
        TypeError: a value is not a real number (bool and str included).
        ValueError: a value is not finite or is outside its bounds.
    """
    missing = [n for n in NAMES if n not in config]
    if missing:
        raise KeyError(f"lcbench configuration lacks {', '.join(missing)}; got {dict(config)!r}")
    return {p.name: _clean(p, config[p.name]) for p in PARAMS}


def config_key(config: Mapping[str, Any]) -> tuple[int | float, ...]:
    """A hashable key of a cleaned configuration (values in :data:`NAMES` order)."""
    return tuple(config[n] for n in NAMES)


def encode(configs: Sequence[Mapping[str, Any]]) -> npt.NDArray[np.float64]:
    """Configurations as points of the unit cube, shape ``(n, 7)`` (see :func:`decode`)."""
    out = np.empty((len(configs), len(PARAMS)))
    for i, raw in enumerate(configs):
        config = clean_config(raw)
        for j, p in enumerate(PARAMS):
            x = float(config[p.name])
            if p.integer and not p.log:
                # The middle of the integer's cell, so that decode(encode(c)) == c.
                out[i, j] = (x - p.lower + 0.5) / (p.upper - p.lower + 1)
            elif p.log:
                out[i, j] = math.log(x / p.lower) / math.log(p.upper / p.lower)
            else:
                out[i, j] = (x - p.lower) / (p.upper - p.lower)
    return out


def decode(points: npt.ArrayLike) -> list[Config]:
    """Points of the unit cube (shape ``(n, 7)``, clipped into it) as clean configurations.

    Log-scaled parameters are log-uniform in the cube's coordinate (integers then rounded, the
    law of ``qloguniform`` with ``q = 1``); ``num_layers`` takes equal cells of the coordinate
    per value (the law of ``randint``), so a uniform point is a draw of :data:`NNI_SPACE`.
    """
    u = np.clip(np.asarray(points, dtype=float).reshape(-1, len(PARAMS)), 0.0, 1.0)
    columns: list[npt.NDArray[Any]] = []
    for j, p in enumerate(PARAMS):
        if p.integer and not p.log:
            width = p.upper - p.lower + 1
            col = np.minimum(p.lower + np.floor(u[:, j] * width), p.upper)
        elif p.log:
            col = p.lower * (p.upper / p.lower) ** u[:, j]
        else:
            col = p.lower + u[:, j] * (p.upper - p.lower)
        columns.append(col)
    return [
        clean_config({p.name: columns[j][i].item() for j, p in enumerate(PARAMS)})
        for i in range(u.shape[0])
    ]


def sample(rng: np.random.Generator, n: int) -> list[Config]:
    """``n`` random configurations of :data:`NNI_SPACE`'s law, drawn from ``rng``."""
    return decode(rng.random((n, len(PARAMS))))
