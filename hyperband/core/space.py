"""Search spaces in Microsoft NNI's JSON format: up-front validation.

A search space maps each parameter name to ``{"_type": T, "_value": [...]}`` with ``T`` one of
``PARAMETER_TYPES``. A ``choice`` option that is a dict with a ``"_name"`` key is a *nested*
option: its other keys are sub-parameters, each itself a ``{"_type", "_value"}`` spec, and a
sampled value is ``{"_name": name, sub: value, ...}``.

NNI only logs a malformed space and carries on; here ``validate_space`` rejects it with a
``SearchSpaceError`` naming the place, the rule and the value received.

Path notation (``SearchSpaceError.path`` and the messages): parameter names joined by ``/``, with
a choice option addressed as ``_value[i]``. ``"optimizer/_value[1]/lr"`` is sub-parameter ``lr``
of the second option of the top-level parameter ``optimizer``; ``"optimizer/_value[1]"`` is that
option itself. Errors about the space as a whole have the path ``""``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, Final, NoReturn

import numpy as np

from hyperband.core.errors import SearchSpaceError, describe

__all__ = ["PARAMETER_TYPES", "validate_space"]

PARAMETER_TYPES: Final[tuple[str, ...]] = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)

# The field names of each numeric type's _value, in order; their count is the required length.
_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "randint": ("lower", "upper"),
    "uniform": ("low", "high"),
    "quniform": ("low", "high", "q"),
    "loguniform": ("low", "high"),
    "qloguniform": ("low", "high", "q"),
    "normal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "lognormal": ("mu", "sigma"),
    "qlognormal": ("mu", "sigma", "q"),
}

# A standard normal draw beyond 10 sigma has probability ~1e-23: bounding mu + 10*sigma is how
# the validator guarantees that normal-family draws are finite floats without clipping them.
_SIGMAS: Final = 10.0
# log(sys.float_info.max): exp() of anything larger overflows to inf.
_MAX_LOG: Final = 709.78
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63


def validate_space(space: object) -> dict[str, Any]:
    """Check a search space completely and return a normalised deep copy of it.

    The copy holds only plain Python values: tuples become lists, numpy scalars become ``int``/
    ``float``/``bool``, ``randint`` bounds become ints (``2.0`` is accepted as ``2``) and
    ``-0.0`` becomes ``0.0``. Mutating the copy never touches ``space``.

    Rules beyond the obvious shapes: numbers must be real, finite and not bool; ``low < high``
    (``randint``'s upper bound is excluded, and both bounds must fit in int64); ``0 < low`` for
    the log types; ``sigma > 0`` and ``q > 0``; a spec has exactly the keys ``_type`` and
    ``_value``; ``choice`` options are non-empty and JSON values (finite numbers, str, bool,
    None, lists, dicts with str keys); nested options need a non-empty str ``_name``, unique
    within their choice, and every other key of theirs is a sub-parameter spec. Finally a
    distribution's draws must stay finite floats: ``high - low`` and ``|bound| / q`` must not
    overflow, nor ``|mu| + 10*sigma`` (``exp(mu + 10*sigma)`` for the lognormal types).

    Args:
        space: the search space, normally a dict parsed from NNI's ``search_space.json``.

    Returns:
        The validated, normalised copy.

    Raises:
        SearchSpaceError: on the first problem found (also a ``ValueError``); its ``path``
            attribute says where, in the notation of this module's docstring.

    Examples:
        >>> validate_space({"lr": {"_type": "loguniform", "_value": (1e-4, 1e-1)}})
        {'lr': {'_type': 'loguniform', '_value': [0.0001, 0.1]}}
        >>> try:
        ...     validate_space({"lr": {"_type": "loguniform", "_value": [0, 1]}})
        ... except SearchSpaceError as error:
        ...     print(error.path, "|", error)
        lr | search space: parameter 'lr': loguniform needs 0 < low < high, got _value=[0, 1]
    """
    if not isinstance(space, Mapping):
        raise SearchSpaceError(
            "search space: must be a dict mapping parameter names to "
            f"{{'_type': ..., '_value': [...]}} specs, got {describe(space)}",
            "",
        )
    if not space:
        raise SearchSpaceError("search space: needs at least one parameter, got {}", "")
    validated: dict[str, Any] = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name:
            raise SearchSpaceError(
                f"search space: parameter names must be non-empty strings, got {describe(name)}",
                "",
            )
        validated[name] = _validate_spec(spec, name)
    return validated


def _fail(path: str, text: str, *, parameter: bool = True) -> NoReturn:
    where = f"parameter {path!r}" if parameter else repr(path)
    raise SearchSpaceError(f"search space: {where}: {text}", path)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _validate_spec(spec: object, path: str) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        _fail(
            path,
            "a parameter must be a dict like {'_type': 'uniform', '_value': [0, 1]}, "
            f"got {describe(spec)}",
        )
    for key in ("_type", "_value"):
        if key not in spec:
            _fail(path, f"the spec is missing {key!r}, got {_show(dict(spec))}")
    extra = [key for key in spec if key not in ("_type", "_value")]
    if extra:
        _fail(
            path,
            f"a spec has only the keys '_type' and '_value', got unknown key(s) {_show(extra)}",
        )
    kind = spec["_type"]
    if not isinstance(kind, str) or kind not in PARAMETER_TYPES:
        _fail(path, f"_type must be one of {', '.join(PARAMETER_TYPES)}; got {describe(kind)}")
    raw = spec["_value"]
    if not isinstance(raw, (list, tuple)):
        _fail(path, f"{kind} needs _value to be a list, got {describe(raw)}")
    if kind == "choice":
        return {"_type": kind, "_value": _validate_choice(list(raw), path)}
    return {"_type": kind, "_value": _validate_numbers(kind, list(raw), path)}


def _real(x: object) -> int | float | None:
    """``x`` as a plain finite int or float, or None when it is not a real, finite non-bool."""
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        return x + 0.0 if math.isfinite(x) else None
    if not isinstance(x, numbers.Real):
        return None
    try:
        as_float = float(x)  # Fraction and other registered reals
    except OverflowError:
        return None
    return as_float + 0.0 if math.isfinite(as_float) else None


def _validate_numbers(kind: str, raw: list[Any], path: str) -> list[int | float]:
    fields = _FIELDS[kind]
    got = f"got _value={_show(raw)}"
    if len(raw) != len(fields):
        _fail(path, f"{kind} needs _value=[{', '.join(fields)}], {got}")
    reals = [_real(x) for x in raw]
    if any(x is None for x in reals):
        _fail(path, f"{kind} needs finite real numbers in _value (bools are not numbers), {got}")
    values: list[int | float] = [x for x in reals if x is not None]
    if kind == "randint":
        return _validate_randint(values, path, got)
    try:
        floats = [float(x) for x in values]
    except OverflowError:
        _fail(path, f"{kind} needs numbers that fit in a float, {got}")

    if kind in ("uniform", "quniform", "loguniform", "qloguniform"):
        low, high = floats[0], floats[1]
        if kind.endswith("loguniform"):
            if not 0 < low < high:
                _fail(path, f"{kind} needs 0 < low < high, {got}")
        elif not low < high:
            _fail(path, f"{kind} needs low < high, {got}")
        if not math.isfinite(high - low):
            _fail(path, f"{kind} needs high - low to be a finite float, {got}")
        extent = max(abs(low), abs(high))
    else:
        mu, sigma = floats[0], floats[1]
        if not sigma > 0:
            _fail(path, f"{kind} needs sigma > 0, {got}")
        if kind.endswith("lognormal"):
            if mu + _SIGMAS * sigma > _MAX_LOG:
                _fail(
                    path,
                    f"{kind} needs mu + 10*sigma <= {_MAX_LOG} so that exp() of a draw stays "
                    f"a finite float, {got}",
                )
            extent = math.exp(mu + _SIGMAS * sigma)
        else:
            extent = abs(mu) + _SIGMAS * sigma
            if not math.isfinite(extent):
                _fail(path, f"{kind} needs |mu| + 10*sigma to be a finite float, {got}")
    if len(fields) == 3:
        q = floats[2]
        if not q > 0:
            _fail(path, f"{kind} needs q > 0, {got}")
        if not math.isfinite(extent / q):
            _fail(path, f"{kind} needs q large enough that value / q stays a finite float, {got}")
    return values


def _validate_randint(values: list[int | float], path: str, got: str) -> list[int | float]:
    bounds: list[int | float] = []
    for x in values:
        if isinstance(x, float):
            if not x.is_integer():
                _fail(path, f"randint needs integer bounds, {got}")
            x = int(x)
        bounds.append(x)
    lower, upper = bounds
    if not lower < upper:
        _fail(path, f"randint needs lower < upper (upper is excluded), {got}")
    if lower < _INT64_MIN or upper > _INT64_MAX:
        _fail(path, f"randint needs -2**63 <= lower < upper <= 2**63, {got}")
    return bounds


def _validate_choice(options: list[Any], path: str) -> list[Any]:
    if not options:
        _fail(path, "choice needs a non-empty list of options, got _value=[]")
    validated: list[Any] = []
    names: set[str] = set()
    for i, option in enumerate(options):
        option_path = f"{path}/_value[{i}]"
        if isinstance(option, Mapping) and "_name" in option:
            validated.append(_validate_nested_option(option, option_path, names))
        else:
            validated.append(_json_value(option, option_path))
    return validated


def _validate_nested_option(
    option: Mapping[Any, Any], path: str, names: set[str]
) -> dict[str, Any]:
    name = option["_name"]
    if not isinstance(name, str) or not name:
        _fail(
            path,
            f"a nested choice option needs '_name' to be a non-empty str, got {describe(name)}",
            parameter=False,
        )
    if name in names:
        _fail(
            path,
            f"each nested option of a choice needs its own '_name', got {name!r} twice",
            parameter=False,
        )
    names.add(name)
    # The '_name' key is the option's name, never a sub-parameter, so it always comes first.
    validated: dict[str, Any] = {"_name": name}
    for key, spec in option.items():
        if key == "_name":
            continue
        if not isinstance(key, str) or not key:
            _fail(
                path,
                f"sub-parameter names must be non-empty strings, got {describe(key)}",
                parameter=False,
            )
        validated[key] = _validate_spec(spec, f"{path}/{key}")
    return validated


def _json_value(value: object, path: str) -> Any:
    """A plain-Python deep copy of a choice option, which must be a JSON value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, (bool, str)):
            return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            _fail(
                path,
                f"choice options must be finite numbers, got {describe(value)}",
                parameter=False,
            )
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_json_value(item, f"{path}[{j}]") for j, item in enumerate(value)]
    if isinstance(value, Mapping):
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                _fail(
                    path,
                    f"dict options need str keys (JSON objects), got key {describe(key)}",
                    parameter=False,
                )
            copy[key] = _json_value(item, f"{path}/{key}")
        return copy
    _fail(
        path,
        "choice options must be JSON values (None, bool, int, float, str, list, dict with str "
        f"keys), got {describe(value)}",
        parameter=False,
    )
