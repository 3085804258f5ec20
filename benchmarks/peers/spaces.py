r"""Translators from an NNI search space (the workloads') to each peer's own space.

- :func:`to_configspace` / :func:`from_configspace`: ConfigSpace 1.x, used by HpBandSter's BOHB,
  DEHB and SMAC3 (all three take a ``ConfigurationSpace``);
- :func:`suggest_optuna`: Optuna's ``trial.suggest_*`` calls;
- :func:`to_synetune` / :func:`from_synetune`: a Syne Tune 0.16 configuration space (a dict
  of its domains), used by its ``ASHA`` and ``BOHB``.

The mapping, for the NNI types the workloads use (and the other flat ones):

| NNI | ConfigSpace | Optuna |
|---|---|---|
| ``uniform [a, b]`` | ``UniformFloat(a, b)`` | ``suggest_float(a, b)`` |
| ``loguniform [a, b]`` | ``UniformFloat(a, b, log=True)`` | ``suggest_float(a, b, log=True)`` |
| ``quniform [a, b, q]`` | ``UniformFloat(a, b)``, rounded to q | ``suggest_float(a, b)``, rounded |
| ``qloguniform [a, b, q]`` | ``UniformFloat(a, b, log=True)``, rounded | the same, rounded |
| ``randint [a, b)`` | ``UniformInteger(a, b - 1)`` | ``suggest_int(a, b - 1)`` |
| ``choice`` of numbers | ``Ordinal`` (options in increasing order)* | ``suggest_categorical`` |
| ``choice`` of anything else | ``Categorical`` | ``suggest_categorical`` |

Syne Tune: ``uniform``, ``loguniform``, ``quniform``, ``qloguniform``, ``randint(a, b - 1)``,
``ordinal`` (a choice of numbers) and ``choice``; with ``q = 1`` and whole bounds (lcbench's
batch size and units) the integer domains a Syne Tune user would write: ``randint`` and
``lograndint``.

\* HpBandSter's BOHB refuses ``Ordinal`` ("encode it as an integer parameter"), so for it a
choice of numbers is ``UniformInteger(0, k - 1)``, the rank of the option
(``ordinal_as="integer"``).

Ordinal and categorical options are labelled with strings in ConfigSpace (HpBandSter's Pyro4
transport cannot serialise the numpy scalars ConfigSpace would otherwise hand back; see
shared PEERS.md) and mapped back to the NNI option. Optuna has no ordinal type: an Optuna user
would write ``suggest_categorical``. Nested choices and the normal distributions are refused
(no workload has them). This module imports ConfigSpace and Optuna lazily: it is imported by
runners in venvs that have only one of them.
"""

from __future__ import annotations

import math
from typing import Any

Config = dict[str, Any]

FLOAT_TYPES = ("uniform", "loguniform", "quniform", "qloguniform")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check(name: str, spec: dict[str, Any]) -> None:
    kind = spec["_type"]
    if kind == "choice":
        if any(isinstance(v, dict) for v in spec["_value"]):
            raise ValueError(f"parameter {name!r}: nested choices are not translated")
    elif kind not in (*FLOAT_TYPES, "randint"):
        raise ValueError(f"parameter {name!r}: NNI type {kind!r} is not translated")


def _options(spec: dict[str, Any]) -> tuple[bool, list[Any], list[str]]:
    """(ordinal?, options in the peer's order, their string labels)."""
    options = list(spec["_value"])
    ordinal = all(_is_number(v) for v in options)
    if ordinal:
        options = sorted(options)
    labels = [str(v) for v in options]
    if len(set(labels)) < len(labels):  # e.g. 1 and "1": label by position instead
        labels = [f"#{i}" for i in range(len(options))]
    return ordinal, options, labels


def _quantize(spec: dict[str, Any], x: float) -> float:
    lo, hi, q = (float(v) for v in spec["_value"][:3])
    return min(hi, max(lo, round(x / q) * q))


def to_configspace(space: dict[str, Any], seed: int, ordinal_as: str = "ordinal") -> Any:
    """A ``ConfigSpace.ConfigurationSpace`` for ``space``, seeded with ``seed``; a choice of
    numbers as an ``Ordinal`` (``ordinal_as="ordinal"``) or the rank of its option
    (``"integer"``)."""
    import ConfigSpace as CS  # noqa: N817  (its documented alias)

    cs = CS.ConfigurationSpace(seed=seed)
    hps = []
    for name, spec in space.items():
        _check(name, spec)
        kind, args = spec["_type"], spec["_value"]
        if kind in FLOAT_TYPES:
            log = kind.endswith("loguniform")
            hps.append(CS.UniformFloatHyperparameter(name, float(args[0]), float(args[1]), log=log))
        elif kind == "randint":
            hps.append(CS.UniformIntegerHyperparameter(name, int(args[0]), int(args[1]) - 1))
        else:
            ordinal, _, labels = _options(spec)
            if ordinal and ordinal_as == "integer":
                hps.append(CS.UniformIntegerHyperparameter(name, 0, len(labels) - 1))
            elif ordinal:
                hps.append(CS.OrdinalHyperparameter(name, labels))
            else:
                hps.append(CS.CategoricalHyperparameter(name, labels))
    cs.add(hps)
    return cs


def _from_peer(space: dict[str, Any], values: Any, option: Any) -> Config:
    """The NNI configuration of a peer's values: numbers as plain Python numbers (quantized
    where the space says so), a choice's value through ``option(spec, value)``."""
    out: Config = {}
    for name, spec in space.items():
        kind, x = spec["_type"], values[name]
        if kind in ("uniform", "loguniform"):
            out[name] = float(x)
        elif kind in ("quniform", "qloguniform"):
            out[name] = _quantize(spec, float(x))
        elif kind == "randint":
            out[name] = int(x)
        else:
            out[name] = option(spec, x)
    return out


def _labelled(spec: dict[str, Any], x: Any) -> Any:
    _, options, labels = _options(spec)
    if isinstance(x, str):
        return options[labels.index(x)]
    return options[int(x)]  # the option's rank (ordinal_as="integer")


def from_configspace(space: dict[str, Any], values: Any) -> Config:
    """The NNI configuration (plain Python values) of a ConfigSpace configuration or dict."""
    return _from_peer(space, dict(values), _labelled)


def suggest_optuna(trial: Any, space: dict[str, Any]) -> Config:
    """Draw ``space`` through an Optuna trial's ``suggest_*`` calls; the NNI configuration."""
    out: Config = {}
    for name, spec in space.items():
        _check(name, spec)
        kind, args = spec["_type"], spec["_value"]
        if kind in FLOAT_TYPES:
            x = trial.suggest_float(
                name, float(args[0]), float(args[1]), log=kind.endswith("loguniform")
            )
            out[name] = _quantize(spec, x) if kind.startswith("q") else float(x)
        elif kind == "randint":
            out[name] = int(trial.suggest_int(name, int(args[0]), int(args[1]) - 1))
        else:
            out[name] = trial.suggest_categorical(name, list(args))
    return out


def to_synetune(space: dict[str, Any]) -> dict[str, Any]:
    """A Syne Tune configuration space (``syne_tune.config_space`` domains) for ``space``."""
    from syne_tune import config_space as st

    out: dict[str, Any] = {}
    for name, spec in space.items():
        _check(name, spec)
        kind, args = spec["_type"], spec["_value"]
        if kind in ("uniform", "loguniform"):
            make = st.loguniform if kind == "loguniform" else st.uniform
            out[name] = make(float(args[0]), float(args[1]))
        elif kind in ("quniform", "qloguniform"):
            lo, hi, q = args[:3]
            log = kind == "qloguniform"
            if q == 1 and float(lo).is_integer() and float(hi).is_integer():
                out[name] = (st.lograndint if log else st.randint)(int(lo), int(hi))
            else:
                out[name] = (st.qloguniform if log else st.quniform)(float(lo), float(hi), q)
        elif kind == "randint":
            out[name] = st.randint(int(args[0]), int(args[1]) - 1)
        else:
            ordinal, options, _ = _options(spec)
            out[name] = st.ordinal(options) if ordinal else st.choice(list(args))
    return out


def from_synetune(space: dict[str, Any], values: dict[str, Any]) -> Config:
    """The NNI configuration (plain Python values) of a Syne Tune configuration (which may
    carry other keys: the runner's fidelity); a choice's value is the option itself."""
    return _from_peer(space, values, lambda spec, x: x.item() if hasattr(x, "item") else x)


def in_space(space: dict[str, Any], config: Config) -> bool:
    """Whether ``config`` is a valid configuration of the flat ``space`` (for self-checks)."""
    if set(config) != set(space):
        return False
    for name, spec in space.items():
        kind, args, x = spec["_type"], spec["_value"], config[name]
        if kind in FLOAT_TYPES:
            if not (isinstance(x, float) and args[0] <= x <= args[1] and math.isfinite(x)):
                return False
        elif kind == "randint":
            if not (isinstance(x, int) and args[0] <= x < args[1]):
                return False
        elif x not in args or type(x) is not type(args[list(args).index(x)]):
            return False
    return True
