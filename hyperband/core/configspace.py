"""ConfigSpace search spaces: ``ConfigSpace.ConfigurationSpace`` objects and their JSON.

SMAC3, HpBandSter, DEHB and NNI's BOHB describe search spaces with AutoML.org's ConfigSpace
(the ``configspace`` extra, 1.2). ``CSSpace`` compiles one for the samplers:

- A space is accepted as a ``ConfigurationSpace`` object or as ConfigSpace's own JSON (the dict
  ``ConfigurationSpace.to_serialized_dict()`` makes, what ``ConfigurationSpace.to_json`` writes).
  Samplers keep and expose the JSON form (``sampler.space``), so snapshots, journals and sampler
  specs store it and rebuild the space with ``ConfigurationSpace.from_serialized_dict``.
- ConfigSpace is imported only when such a space is given: ``is_configspace`` looks at the
  object's module, ``is_configspace_json`` at the dict's shape (a ``"hyperparameters"``
  list, which no NNI space has: NNI parameters are dicts).
- Conditions and forbidden clauses are evaluated by ConfigSpace's own vectorised functions on
  its own vector representation, so every configuration handed out passes ConfigSpace's
  ``check_configuration``. Values are turned into plain Python (floats rounded as
  ``Configuration`` rounds them, then kept within bounds), and a configuration holds the
  active hyperparameters only, in the space's order.
- Random draws follow the hyperparameters' own distributions (weights, normal and beta priors)
  through ConfigSpace's ``sample_vector``, with a ``RandomState`` seeded from the caller's
  generator: the same generator state gives the same configurations. Forbidden draws are
  drawn again; a space where nearly everything is forbidden raises instead of looping.
- Model-based samplers see a hyperparameter through *unit codes*: a float's position in
  ``[0, 1]`` between its bounds (on the log scale when ``log``), an integer's cell (the
  ``size`` values split ``[0, 1]`` into equal cells, on the log scale when ``log``), the index
  of a categorical's choice or of an ordinal's value.
"""

from __future__ import annotations

import copy
import json
import math
import numbers
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hyperband.core.errors import ArgumentTypeError, SearchSpaceError, describe

__all__ = ["CSSpace", "is_configspace", "is_configspace_json", "is_configspace_like"]

FloatArray = npt.NDArray[np.float64]

# Configuration rounds float values to this many decimals (ConfigSpace's ROUND_PLACES).
_ROUND_PLACES: Final = 13
# Random draws give up after this many forbidden configurations per configuration wanted.
_MAX_REJECTS: Final = 1000

FLOAT: Final = "float"
INT: Final = "int"
CATEGORICAL: Final = "categorical"
ORDINAL: Final = "ordinal"
CONSTANT: Final = "constant"

_INSTALL = "pip install 'hyperband[configspace]'"


def is_configspace(space: object) -> bool:
    """True for a ``ConfigSpace.ConfigurationSpace`` (without importing ConfigSpace)."""
    return type(space).__module__.startswith("ConfigSpace") and type(space).__name__ == (
        "ConfigurationSpace"
    )


def is_configspace_json(space: object) -> bool:
    """True for ConfigSpace's JSON form of a space: a dict with a ``"hyperparameters"`` list."""
    return isinstance(space, Mapping) and isinstance(space.get("hyperparameters"), list)


def is_configspace_like(space: object) -> bool:
    """A ConfigSpace space in either form."""
    return is_configspace(space) or is_configspace_json(space)


def _import() -> Any:
    try:
        import ConfigSpace
    except ImportError:
        raise SearchSpaceError(
            "search space: a ConfigSpace space needs the ConfigSpace package: " + _INSTALL, ""
        ) from None
    return ConfigSpace


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON-serialisable: {describe(obj)}")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _key(value: Any) -> Any:
    """A lookup key that tells apart what JSON tells apart (1, 1.0 and True differ)."""
    value = _plain(value)
    try:
        return (
            (type(value).__name__, value)
            if isinstance(value, (int, float, str, bool))
            else (
                "json",
                json.dumps(value, sort_keys=True),
            )
        )
    except (TypeError, ValueError):
        return ("repr", repr(value))


class _HP:
    """One hyperparameter, compiled."""

    __slots__ = (
        "codes",
        "const_vector",
        "hp",
        "index",
        "kind",
        "levels",
        "log",
        "lower",
        "name",
        "options",
        "upper",
    )

    def __init__(self, hp: Any, index: int, cs_module: Any) -> None:
        hps = cs_module.hyperparameters
        self.hp = hp
        self.name: str = hp.name
        self.index = index
        self.log = bool(getattr(hp, "log", False))
        self.lower = 0.0
        self.upper = 0.0
        self.levels = 1
        self.options: tuple[Any, ...] = ()
        self.const_vector = 0.0
        if isinstance(hp, hps.FloatHyperparameter):
            self.kind = FLOAT
            self.lower, self.upper = float(hp.lower), float(hp.upper)
        elif isinstance(hp, hps.IntegerHyperparameter):
            self.kind = INT
            self.lower, self.upper = float(hp.lower), float(hp.upper)
            self.levels = int(hp.upper) - int(hp.lower) + 1
            if self.levels == 1:
                self.kind = CONSTANT
                self.options = (int(hp.lower),)
                self.const_vector = float(hp.to_vector(int(hp.lower)))
        elif isinstance(hp, hps.CategoricalHyperparameter):
            self.kind = CATEGORICAL
            self.options = tuple(_plain(c) for c in hp.choices)
        elif isinstance(hp, hps.OrdinalHyperparameter):
            self.kind = ORDINAL
            self.options = tuple(_plain(c) for c in hp.sequence)
        elif isinstance(hp, hps.Constant):
            self.kind = CONSTANT
            self.options = (_plain(hp.value),)
            self.const_vector = float(hp.to_vector(hp.value))
        else:
            raise SearchSpaceError(
                f"search space: hyperparameter {hp.name!r}: type {type(hp).__name__} is not "
                "supported (floats, integers, categoricals, ordinals and constants are)",
                hp.name,
            )
        if self.kind in (CATEGORICAL, ORDINAL):
            self.levels = len(self.options)
        self.codes = {_key(option): code for code, option in enumerate(self.options)}

    # The unit-code transform of a numeric hyperparameter: t(x) is x or log x.
    def _edges(self) -> tuple[float, float]:
        lo, hi = self.lower, self.upper
        if self.kind == INT:
            lo, hi = lo - 0.5, hi + 0.5
        if self.log:
            return math.log(lo), math.log(hi)
        return lo, hi

    def values_of_units(self, u: FloatArray) -> list[Any]:
        """The values whose unit codes are ``u`` (any floats; NaN entries give anything)."""
        if self.kind in (CATEGORICAL, ORDINAL):
            idx = np.clip(np.nan_to_num(u), 0, self.levels - 1).astype(np.int64)
            return [self.options[i] for i in idx.tolist()]
        if self.kind == CONSTANT:
            return [self.options[0]] * u.size
        a, b = self._edges()
        x = a + np.clip(np.nan_to_num(u, nan=0.5), 0.0, 1.0) * (b - a)
        if self.log:
            x = np.exp(x)
        if self.kind == INT:
            return np.clip(np.rint(x), self.lower, self.upper).astype(np.int64).tolist()  # type: ignore[no-any-return]
        return self.plain_floats(x)

    def plain_floats(self, x: FloatArray) -> list[Any]:
        # Rounded as Configuration rounds values, then kept within bounds (rounding may cross
        # one, and exp(log(lower)) need not be lower).
        x = np.clip(np.round(x, _ROUND_PLACES), self.lower, self.upper) + 0.0
        return x.tolist()  # type: ignore[no-any-return]

    def unit_of(self, value: Any) -> float:
        """The unit code of ``value``; NaN when the hyperparameter cannot hold it."""
        if self.kind in (CATEGORICAL, ORDINAL, CONSTANT):
            code = self.codes.get(_key(value))
            return math.nan if code is None else float(code)
        value = _plain(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return math.nan
        x = float(value)
        if not math.isfinite(x) or (self.kind == INT and not x.is_integer()):
            return math.nan
        x = min(max(x, self.lower), self.upper)
        a, b = self._edges()
        t = math.log(x) if self.log else x
        return min(max((t - a) / (b - a), 0.0), 1.0)

    def values_of_vectors(self, v: FloatArray) -> list[Any]:
        """The values of ConfigSpace vectors ``v`` (no NaN)."""
        if self.kind in (CATEGORICAL, ORDINAL):
            return [self.options[i] for i in v.astype(np.int64).tolist()]
        if self.kind == CONSTANT:
            return [self.options[0]] * v.size
        x = self.hp.to_value(v)
        if self.kind == INT:
            return np.clip(x, self.lower, self.upper).astype(np.int64).tolist()  # type: ignore[no-any-return]
        return self.plain_floats(np.asarray(x, dtype=np.float64))

    def vectors_of_values(self, values: list[Any]) -> FloatArray:
        """ConfigSpace's vectors of ``values`` (each one this hyperparameter can hold)."""
        if self.kind in (CATEGORICAL, ORDINAL):
            return np.array([self.codes[_key(x)] for x in values], dtype=np.float64)
        if self.kind == CONSTANT:
            return np.full(len(values), self.const_vector)
        return np.asarray(self.hp.to_vector(np.array(values)), dtype=np.float64)


class CSSpace:
    """A ConfigSpace space compiled for drawing, checking and encoding configurations.

    Args:
        space: a ``ConfigurationSpace``, or its JSON form (``to_serialized_dict()``).

    Raises:
        SearchSpaceError: ConfigSpace is not installed, the JSON does not describe a space,
            the space has no hyperparameter or one of a type not supported.
    """

    __slots__ = ("conditional", "cs", "forbiddens", "hps", "json", "names")
    conditional: list[tuple[npt.NDArray[np.intp], tuple[Any, ...]]]

    def __init__(self, space: object) -> None:
        cs_module = _import()
        if is_configspace(space):
            try:
                data = space.to_serialized_dict()  # type: ignore[attr-defined]
            except Exception as exc:
                raise SearchSpaceError(
                    "search space: this ConfigurationSpace cannot be written as ConfigSpace's "
                    f"JSON (to_serialized_dict), which snapshots and journals need: "
                    f"{type(exc).__name__}: {exc}",
                    "",
                ) from exc
        elif is_configspace_json(space):
            data = space
        else:
            raise ArgumentTypeError(
                "space must be a ConfigSpace.ConfigurationSpace or its JSON (a dict with a "
                f"'hyperparameters' list), got {describe(space)}"
            )
        try:
            # from_serialized_dict consumes its argument: it gets a copy (this JSON round trip,
            # which also makes numpy values plain).
            plain = json.loads(json.dumps(data, default=_jsonable))
            cs = cs_module.ConfigurationSpace.from_serialized_dict(plain)
        except Exception as exc:
            raise SearchSpaceError(
                "search space: not a valid ConfigSpace space (ConfigSpace's JSON as "
                f"ConfigurationSpace.to_serialized_dict() writes it): {type(exc).__name__}: {exc}",
                "",
            ) from exc
        if len(cs) == 0:
            raise SearchSpaceError("search space: needs at least one hyperparameter, got none", "")
        self.cs = cs
        self.json: dict[str, Any] = json.loads(
            json.dumps(cs.to_serialized_dict(), default=_jsonable)
        )
        self.names: list[str] = list(cs.keys())
        assert [cs.index_of[name] for name in self.names] == list(range(len(self.names)))
        self.hps = [_HP(cs[name], i, cs_module) for i, name in enumerate(self.names)]
        # Activity is settled as ConfigSpace's own sampler and validator settle it: one pass
        # over its "minimum conditions", shallowest parents first, each deactivating a group of
        # children. (It groups children whose conditions it deems equivalent, e.g. an AND and
        # an OR of the same literals: following its grouping, not each child's own condition,
        # is what keeps every draw valid for check_configuration.)
        nodes = getattr(getattr(cs, "_dag", None), "minimum_conditions", None)
        if nodes is not None:
            groups = [(list(node.children_indices), (node.condition,)) for node in nodes]
        else:  # pragma: no cover - another ConfigSpace: each child's own conditions
            groups = [
                ([i], tuple(cs.parent_conditions_of[name]))
                for i, name in enumerate(self.names)
                if cs.parent_conditions_of[name]
            ]
        self.conditional = [
            (np.asarray(children, dtype=np.intp), conditions) for children, conditions in groups
        ]
        self.forbiddens = tuple(cs.forbidden_clauses)

    @property
    def space(self) -> dict[str, Any]:
        """The JSON form (a fresh copy)."""
        return copy.deepcopy(self.json)

    def __len__(self) -> int:
        return len(self.hps)

    # ------------------------------------------------------------------ checks

    def settle(self, vectors: FloatArray) -> npt.NDArray[np.bool_]:
        """Make inactive entries of ``vectors`` (hyperparameters x configurations) NaN.

        Returns:
            Which configurations are allowed (no forbidden clause holds).
        """
        # ConfigSpace orders its condition groups by their shallowest parent, so a group can
        # come before the group that deactivates one of its deeper parents (whose NaN then
        # fails the group's condition): passes repeat until nothing changes (each pass only
        # turns values off, so they end).
        changed = True
        while changed:
            changed = False
            for children, conditions in self.conditional:
                satisfied = np.ones(vectors.shape[1], dtype=np.bool_)
                for condition in conditions:
                    satisfied &= condition.satisfied_by_vector_array(vectors)
                block = np.ix_(children, ~satisfied)
                if not np.isnan(vectors[block]).all():
                    vectors[block] = np.nan
                    changed = True
        allowed = np.ones(vectors.shape[1], dtype=np.bool_)
        for clause in self.forbiddens:
            allowed &= ~clause.is_forbidden_vector_array(vectors)
        return allowed

    def vectors_of(self, values: list[list[Any]]) -> FloatArray:
        """ConfigSpace's vectors (hyperparameters x configurations) of complete value columns."""
        return np.array(
            [hp.vectors_of_values(column) for hp, column in zip(self.hps, values, strict=True)]
        )

    def configs(
        self, values: list[list[Any]], vectors: FloatArray, columns: list[int]
    ) -> list[dict[str, Any]]:
        """The configurations of ``columns``: their active hyperparameters' values."""
        active = ~np.isnan(vectors)
        out: list[dict[str, Any]] = []
        for j in columns:
            out.append(
                {
                    hp.name: copy.deepcopy(values[hp.index][j])
                    for hp in self.hps
                    if active[hp.index, j]
                }
            )
        return out

    # ------------------------------------------------------------------ random draws

    def draw(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        """``n`` configurations drawn from the hyperparameters' distributions, none forbidden.

        Raises:
            SearchSpaceError: more than ``1000 n`` forbidden draws.
        """
        out: list[dict[str, Any]] = []
        rejected = 0
        while len(out) < n:
            need = n - len(out)
            # ConfigSpace's samplers take a RandomState: one per batch, seeded from rng.
            state = np.random.RandomState(int(rng.integers(0, 2**32)))
            raw = np.array([hp.hp.sample_vector(need, seed=state) for hp in self.hps])
            raw = raw.reshape(len(self.hps), need)
            values = [hp.values_of_vectors(row) for hp, row in zip(self.hps, raw, strict=True)]
            vectors = self.vectors_of(values)
            allowed = self.settle(vectors)
            out.extend(self.configs(values, vectors, np.flatnonzero(allowed).tolist()))
            rejected += need - int(allowed.sum())
            if rejected > _MAX_REJECTS * max(n, 1) and len(out) < n:
                raise SearchSpaceError(
                    f"search space: its forbidden clauses exclude almost every configuration: "
                    f"{rejected} random draws were forbidden while drawing {n}; loosen the "
                    "forbidden clauses",
                    "",
                )
        return out

    # ------------------------------------------------------------------ unit codes

    def encode(self, config: Mapping[str, Any]) -> FloatArray:
        """The unit codes of ``config`` (NaN where absent or not a value of its hyperparameter)."""
        row = np.full(len(self.hps), np.nan)
        for hp in self.hps:
            if hp.name in config:
                row[hp.index] = hp.unit_of(config[hp.name])
        return row

    def settle_units(self, codes: FloatArray) -> tuple[list[list[Any]], FloatArray]:
        """Values and ConfigSpace's vectors of unit-code rows (configurations x hyperparameters).

        Returns:
            ``(values, vectors)``: the value columns and their vectors, every hyperparameter
            set (``settle`` then makes the inactive ones NaN).
        """
        values = [hp.values_of_units(codes[:, hp.index]) for hp in self.hps]
        vectors = self.vectors_of(values)
        return values, vectors

    def decode(self, codes: FloatArray) -> tuple[list[dict[str, Any]], npt.NDArray[np.bool_]]:
        """The configurations of unit-code rows, and which of them are allowed.

        Inactive entries of ``codes`` become NaN.
        """
        values, vectors = self.settle_units(codes)
        allowed = self.settle(vectors)
        codes[np.isnan(vectors.T)] = np.nan
        return self.configs(values, vectors, list(range(codes.shape[0]))), allowed


def space_from_file(data: object, where: str) -> Any:
    """The search space a parsed JSON file holds: ConfigSpace's JSON or NNI's format.

    Args:
        data: the file's parsed JSON.
        where: how to name the file in messages (e.g. ``"--space 'space.json'"``).

    Returns:
        ``data``, once checked: a ConfigSpace JSON dict, or a valid NNI space.

    Raises:
        SearchSpaceError: neither format, or ConfigSpace's JSON without ConfigSpace installed.
    """
    from hyperband.core.space import validate_space

    if is_configspace_json(data):
        try:
            CSSpace(data)
        except SearchSpaceError as exc:
            raise SearchSpaceError(f"{where}: ConfigSpace's JSON format, but {exc}", "") from exc
        return data
    if not isinstance(data, Mapping):
        raise SearchSpaceError(
            f"{where}: a search space file holds a JSON object: NNI's format "
            "({name: {'_type': ..., '_value': [...]}}) or ConfigSpace's JSON (with a "
            f"'hyperparameters' list), got {describe(data)}",
            "",
        )
    try:
        validate_space(data)
    except SearchSpaceError as exc:
        raise SearchSpaceError(
            f"{where}: not ConfigSpace's JSON (it has no 'hyperparameters' list), and as NNI's "
            f"format: {exc}",
            exc.path,
        ) from exc
    return data
