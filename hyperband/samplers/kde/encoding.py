"""The search space as numeric dimensions: configurations to rows of codes and back.

Every parameter of the space, sub-parameters of nested ``choice`` options included, is one
*dimension*:

- ``uniform``/``quniform``, ``loguniform``/``qloguniform`` (in log space) and ``randint`` map
  onto ``[0, 1]`` (an integer ``i`` owns the cell ``[(i - lower) / span, (i - lower + 1) /
  span)``, stored at its centre); their kernel is a Gaussian truncated to ``[0, 1]``.
- ``normal``/``qnormal`` and ``lognormal``/``qlognormal`` (in log space) map to
  ``z = (x - mu) / sigma``, the prior's own scale, clipped to ``[-10, 10]``; their kernel is a
  plain Gaussian.
- ``choice`` is categorical (the Aitchison-Aitken kernel), or ordinal when its options are all
  numbers (the Wang-van Ryzin kernel over the options sorted by value). A choice with a single
  option, and a ``randint`` with a single value, are constants: not modelled.

A sub-parameter of a nested option is *active* when its option is chosen; otherwise its entry
is NaN. A ConfigSpace space is encoded by ``hyperband.core.configspace.CSSpace``; here it only
gets its dimensions' families.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hyperband.core.configspace import CATEGORICAL, CONSTANT, ORDINAL, CSSpace, is_configspace_like
from hyperband.core.sampling import _copy_json, _finisher, as_real
from hyperband.core.space import validate_space

FloatArray = npt.NDArray[np.float64]

# Dimension families.
_UNIT: Final = 0  # continuous on [0, 1]: truncated Gaussian kernel
_REAL: Final = 1  # continuous on the prior's z scale: Gaussian kernel
_CAT: Final = 2  # unordered options: Aitchison-Aitken kernel
_ORD: Final = 3  # numbers in order: Wang-van Ryzin kernel
_CONST: Final = 4  # one possible value: not modelled

# z of the normal families is clipped here: the validator guarantees that mu + 10 sigma (and its
# exp for the lognormal types) is a finite float, so a decoded value never overflows.
_Z_MAX: Final = 10.0


class _Encoder:
    """A search space compiled to dimensions: encodes configurations and decodes rows.

    Args:
        space: an NNI-format search space (validated and copied) or a ConfigSpace space.
    """

    __slots__ = ("cs", "dims", "params", "space")

    def __init__(self, space: Mapping[str, Any]) -> None:
        self.dims: list[Any] = []
        self.cs: CSSpace | None = None
        if is_configspace_like(space):
            self.cs = CSSpace(space)
            self.space = self.cs.json
            self.params: list[_Param] = []
            self.dims.extend(_cs_dim(hp) for hp in self.cs.hps)
        else:
            self.space = validate_space(space)
            self.params = _compile(self.space, self.dims, -1, -1)

    def encode(self, config: Mapping[str, Any]) -> FloatArray:
        """The row of codes of ``config``; NaN where a dimension is inactive or unknown."""
        if self.cs is not None:
            return self.cs.encode(config)
        row = np.full(len(self.dims), np.nan)
        _encode_block(self.params, config, row)
        return row

    def decode(self, row: FloatArray) -> dict[str, Any]:
        """The configuration of a row of an NNI-format space (ConfigSpace decodes its own)."""
        return _decode_block(self.params, row.tolist())


class _Dim:
    """One dimension: a parameter of the space or of a nested option."""

    __slots__ = (
        "family",
        "finish",
        "key_to_code",
        "kind",
        "levels",
        "option",
        "options",
        "parent",
        "prior_sd",
        "value",
    )

    def __init__(self, kind: str, value: list[Any], parent: int, option: int) -> None:
        self.kind = kind
        self.value = value
        self.parent = parent  # the choice dimension this one hangs under, -1 at the top
        self.option = option  # the code of the parent's option that activates it
        self.levels = 1
        self.options: list[Any] = []  # choice: the options in code order
        self.key_to_code: dict[Any, int] = {}
        self.finish: Any = None
        if kind == "choice":
            self.levels = len(value)
            numeric = all(_is_number(option) for option in value)
            if self.levels == 1:
                self.family = _CONST
                order = [0]
            elif numeric:
                self.family = _ORD
                order = sorted(range(self.levels), key=lambda i: (float(value[i]), i))
            else:
                self.family = _CAT
                order = list(range(self.levels))
            self.options = [value[i] for i in order]
            for code, option in enumerate(self.options):
                self.key_to_code.setdefault(_choice_key(option), code)
            self.prior_sd = (
                math.sqrt((self.levels**2 - 1) / 12.0)
                if self.family == _ORD
                else math.sqrt((1.0 - 1.0 / self.levels) / 2.0)
            )
        elif kind == "randint":
            self.levels = int(value[1]) - int(value[0])
            self.family = _CONST if self.levels == 1 else _UNIT
            self.prior_sd = math.sqrt(1.0 / 12.0)
        elif kind in ("normal", "qnormal", "lognormal", "qlognormal"):
            self.family = _REAL
            self.prior_sd = 1.0
            self.finish = _finisher(kind, value)
        else:
            self.family = _UNIT
            self.prior_sd = math.sqrt(1.0 / 12.0)
            self.finish = _finisher(kind, value)

    def encode(self, x: Any) -> float:
        """The code of value ``x``, NaN when the space cannot hold it."""
        kind = self.kind
        if kind == "choice":
            key = _choice_key(x)
            code = None if key is None else self.key_to_code.get(key)
            return math.nan if code is None else float(code)
        if kind == "randint":
            return self._encode_int(x)
        v = as_real(x)
        if v is None or math.isnan(v):
            return math.nan
        a, b = float(self.value[0]), float(self.value[1])
        if kind in ("uniform", "quniform"):
            u = (v - a) / (b - a)
        elif kind in ("loguniform", "qloguniform"):
            u = (math.log(v) - math.log(a)) / (math.log(b) - math.log(a)) if v > 0 else 0.0
        else:
            if kind in ("lognormal", "qlognormal"):
                if v <= 0:
                    return -_Z_MAX
                v = math.log(v)
            z = (v - a) / b
            return min(max(z, -_Z_MAX), _Z_MAX)
        return min(max(u, 0.0), 1.0)

    def _encode_int(self, x: Any) -> float:
        if isinstance(x, np.integer):
            x = int(x)
        if isinstance(x, bool):
            return math.nan
        if not isinstance(x, int):
            v = as_real(x)
            if v is None or not math.isfinite(v):
                return math.nan
            x = math.floor(v)
        if self.levels == 1:
            return 0.0
        # Exact integer arithmetic first: bounds may be as wide as int64.
        offset = x - int(self.value[0])
        return float(min(max((offset + 0.5) / self.levels, 0.0), 1.0))

    def decode(self, code: float) -> Any:
        """The value of code ``code`` (a plain Python object, as RandomSampler makes it)."""
        kind = self.kind
        a, b = self.value[0], self.value[1]
        if kind == "randint":
            lower, span = int(a), self.levels
            offset = 0 if span == 1 else min(max(int(code * span), 0), span - 1)
            return lower + offset
        if kind in ("uniform", "quniform"):
            x = a + code * (b - a)
        elif kind in ("loguniform", "qloguniform"):
            log_a = math.log(a)
            x = math.exp(log_a + code * (math.log(b) - log_a))
        elif kind in ("normal", "qnormal"):
            x = a + b * code
        else:
            x = math.exp(a + b * code)
        return self.finish(np.array([float(x)]))[0]


class _CSDim:
    """A dimension of a ConfigSpace space: what the layout needs of a ``_Dim``."""

    __slots__ = ("family", "levels", "option", "parent", "prior_sd")

    def __init__(self, family: int, levels: int, prior_sd: float) -> None:
        self.family = family
        self.levels = levels
        self.prior_sd = prior_sd
        # ConfigSpace's conditions are settled on decoding (CSSpace.decode), not by the layout.
        self.parent = -1
        self.option = -1


def _cs_dim(hp: Any) -> _CSDim:
    """The dimension of a ConfigSpace hyperparameter (see ``hyperband.core.configspace``)."""
    levels = hp.levels
    if hp.kind == CONSTANT or (hp.kind in (CATEGORICAL, ORDINAL) and levels == 1):
        return _CSDim(_CONST, 1, 0.0)
    if hp.kind == CATEGORICAL:
        return _CSDim(_CAT, levels, math.sqrt((1.0 - 1.0 / levels) / 2.0))
    if hp.kind == ORDINAL:
        return _CSDim(_ORD, levels, math.sqrt((levels**2 - 1) / 12.0))
    # Floats and integers: unit codes (integers as cells), as randint and uniform are.
    return _CSDim(_UNIT, levels, math.sqrt(1.0 / 12.0))


class _Param:
    """A named parameter: its dimension and, for a choice, its nested options' parameters."""

    __slots__ = ("dim", "index", "name", "nested")

    def __init__(
        self, name: str, index: int, dim: _Dim, nested: dict[int, tuple[str, list[_Param]]]
    ) -> None:
        self.name = name
        self.index = index
        self.dim = dim
        self.nested = nested  # option code -> (option name, sub-parameters)


def _compile(params: Mapping[str, Any], dims: list[_Dim], parent: int, option: int) -> list[_Param]:
    """The parameters of a block as a tree; ``dims`` gets every dimension, parents first."""
    out: list[_Param] = []
    for name, spec in params.items():
        index = len(dims)
        dim = _Dim(spec["_type"], spec["_value"], parent, option)
        dims.append(dim)
        nested: dict[int, tuple[str, list[_Param]]] = {}
        for code, opt in enumerate(dim.options):
            if isinstance(opt, dict) and "_name" in opt:
                subs = {key: sub for key, sub in opt.items() if key != "_name"}
                nested[code] = (opt["_name"], _compile(subs, dims, index, code))
        out.append(_Param(name, index, dim, nested))
    return out


def _encode_block(params: list[_Param], values: Mapping[str, Any], row: FloatArray) -> None:
    for p in params:
        if p.name not in values:
            continue  # left NaN, with everything under it
        x = values[p.name]
        code = p.dim.encode(x)
        row[p.index] = code
        if p.nested and not math.isnan(code) and isinstance(x, Mapping):
            sub = p.nested.get(int(code))
            if sub is not None:
                _encode_block(sub[1], x, row)


def _decode_block(params: list[_Param], row: list[float]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for p in params:
        code = row[p.index]
        dim = p.dim
        if dim.kind != "choice":
            config[p.name] = dim.decode(code)
            continue
        c = int(code)
        sub = p.nested.get(c)
        if sub is None:
            config[p.name] = _copy_json(dim.options[c])
        else:
            # '_name' first, then the sub-parameters in the space's order, as RandomSampler.
            config[p.name] = {"_name": sub[0], **_decode_block(sub[1], row)}
    return config


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choice_key(value: object) -> Any:
    """A hashable key telling apart what JSON tells apart (1, 1.0 and True are three keys)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value).__name__, value)
    if isinstance(value, Mapping) and "_name" in value:
        name = value["_name"]
        return ("_name", name) if isinstance(name, str) else None
    try:
        return ("json", json.dumps(value, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError):
        return None
