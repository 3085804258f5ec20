"""Hypothesis strategies for random ConfigSpace spaces: types, conditions and forbidden clauses.

Imported only by tests that need ConfigSpace (they importorskip it first).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import ConfigSpace as CS  # noqa: N817
import numpy as np
from hypothesis import reject
from hypothesis import strategies as st

from hyperband import RandomSampler
from hyperband.core.errors import SearchSpaceError

NAMES = [f"p{i}" for i in range(7)]
PLAIN_TYPES = (int, float, str, bool, type(None))


@st.composite
def hyperparameters(draw: st.DrawFn, name: str) -> Any:
    kind = draw(
        st.sampled_from(
            ["float", "logfloat", "int", "logint", "normal", "beta", "cat", "wcat", "ord", "const"]
        )
    )
    if kind in ("float", "normal", "beta"):
        low = draw(st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 3)))
        width = draw(st.floats(0.01, 100).map(lambda x: round(x, 3)))
        high = low + width
        if kind == "float":
            return CS.Float(name, (low, high))
        if kind == "normal":
            mu = draw(st.floats(low, high))
            return CS.Float(name, (low, high), distribution=CS.Normal(mu, width / 4))
        return CS.Float(name, (low, high), distribution=CS.Beta(2.0, 3.0))
    if kind == "logfloat":
        low = draw(st.sampled_from([1e-4, 1e-3, 0.01, 0.5, 1.0, 3.0]))
        return CS.Float(name, (low, low * draw(st.sampled_from([2.0, 10.0, 1e3]))), log=True)
    if kind == "int":
        low = draw(st.integers(-50, 50))
        return CS.Integer(name, (low, low + draw(st.integers(1, 60))))
    if kind == "logint":
        low = draw(st.integers(1, 20))
        return CS.Integer(name, (low, low + draw(st.integers(1, 2000))), log=True)
    if kind in ("cat", "wcat"):
        choices = draw(
            st.lists(
                st.one_of(st.sampled_from(["a", "b", "c", "relu", "tanh"]), st.integers(-3, 9)),
                min_size=1,
                max_size=5,
                unique_by=lambda x: (type(x).__name__, x),
            )
        )
        weights = None
        if kind == "wcat" and len(choices) > 1:
            weights = draw(
                st.lists(st.integers(1, 5), min_size=len(choices), max_size=len(choices))
            )
        return CS.Categorical(name, choices, weights=weights)
    if kind == "ord":
        seq = draw(st.lists(st.integers(-5, 40), min_size=1, max_size=5, unique=True))
        return CS.OrdinalHyperparameter(name, seq)
    return CS.Constant(name, draw(st.sampled_from(["on", 7, 0.5])))


def _values(hp: Any) -> list[Any] | None:
    """A few legal values of ``hp`` to condition or forbid on (None: not enumerable)."""
    if isinstance(hp, CS.CategoricalHyperparameter):
        return list(hp.choices)
    if isinstance(hp, CS.OrdinalHyperparameter):
        return list(hp.sequence)
    if isinstance(hp, CS.hyperparameters.IntegerHyperparameter):
        return sorted({hp.lower, hp.upper, (hp.lower + hp.upper) // 2})
    return None


@st.composite
def conditions_on(draw: st.DrawFn, cs: Any, child: Any, parents: list[Any]) -> Any:
    def literal(parent: Any) -> Any:
        values = _values(parent)
        if values is None:  # a float parent: compare with a point inside its range
            x = float(draw(st.floats(parent.lower, parent.upper)))
            x = min(max(round(x, 6), parent.lower), parent.upper)
            op = draw(st.sampled_from([CS.LessThanCondition, CS.GreaterThanCondition]))
            try:
                return op(child, parent, x)
            except ValueError:
                return CS.InCondition(child, parent, [parent.default_value])
        kind = draw(st.sampled_from(["eq", "in", "ne", "order"]))
        if kind == "eq" or len(values) == 1:
            return CS.EqualsCondition(child, parent, draw(st.sampled_from(values)))
        if kind == "in":
            subset = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
            return CS.InCondition(child, parent, subset)
        if kind == "ne" and parent.name not in cs.conditional_hyperparameters:
            # Not on a conditional parent: ConfigSpace's vectors call an inactive parent "not
            # equal" while its values do not, and it then cannot read its own JSON back.
            return CS.NotEqualsCondition(child, parent, draw(st.sampled_from(values)))
        if parent.ORDERABLE and not isinstance(parent, CS.CategoricalHyperparameter):
            op = draw(st.sampled_from([CS.LessThanCondition, CS.GreaterThanCondition]))
            return op(child, parent, draw(st.sampled_from(values)))
        return CS.EqualsCondition(child, parent, draw(st.sampled_from(values)))

    if len(parents) >= 2 and draw(st.booleans()):
        two = draw(st.lists(st.sampled_from(parents), min_size=2, max_size=2, unique_by=id))
        conj = draw(st.sampled_from([CS.AndConjunction, CS.OrConjunction]))
        return conj(literal(two[0]), literal(two[1]))
    return literal(draw(st.sampled_from(parents)))


@st.composite
def forbidden_clause(draw: st.DrawFn, cs: Any) -> Any:
    enumerable = [hp for hp in cs.values() if _values(hp) and len(_values(hp) or []) > 1]
    if not enumerable:
        return None
    hp = draw(st.sampled_from(enumerable))
    values = _values(hp) or []
    kind = draw(st.sampled_from(["eq", "in", "and"]))
    if kind == "eq":
        return CS.ForbiddenEqualsClause(hp, draw(st.sampled_from(values)))
    if kind == "in":
        return CS.ForbiddenInClause(
            hp, draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
        )
    other = draw(st.sampled_from(enumerable))
    if other is hp:
        return CS.ForbiddenEqualsClause(hp, draw(st.sampled_from(values)))
    return CS.ForbiddenAndConjunction(
        CS.ForbiddenEqualsClause(hp, draw(st.sampled_from(values))),
        CS.ForbiddenEqualsClause(other, draw(st.sampled_from(_values(other) or []))),
    )


@st.composite
def configspaces(draw: st.DrawFn, max_size: int = 6) -> Any:
    """A ConfigurationSpace of 1..max_size hyperparameters of every type, with conditions
    (equals, in, not-equals, ordered, and/or conjunctions) and forbidden clauses."""
    n = draw(st.integers(1, max_size))
    hps = [draw(hyperparameters(NAMES[i])) for i in range(n)]
    cs = CS.ConfigurationSpace()
    cs.add(hps)
    for i in range(1, n):
        if draw(st.integers(0, 2)) == 0:
            continue
        parents = [hp for hp in hps[:i] if not isinstance(hp, CS.Constant)]
        if not parents:
            continue
        condition = draw(conditions_on(cs, hps[i], parents))
        # ConfigSpace refuses some conditions (e.g. one its default configuration breaks).
        with contextlib.suppress(Exception):
            cs.add(condition)
    try:
        default = dict(cs.get_default_configuration())
    except Exception:
        # ConfigSpace accepted a condition under which its own default configuration sets an
        # inactive value (InactiveHyperparameterSetError): a space it cannot use itself.
        reject()
    for _ in range(draw(st.integers(0, 2))):
        clause = draw(forbidden_clause(cs))
        if clause is None:
            break
        # ConfigSpace adds a clause that forbids the default configuration, but then cannot
        # read the space back from its own JSON: such spaces are refused (tested apart).
        if clause.is_forbidden_value(default):
            continue
        with contextlib.suppress(Exception):
            cs.add(clause)
    # Keep only spaces ConfigSpace itself can read back from its own JSON.
    try:
        CS.ConfigurationSpace.from_serialized_dict(cs.to_serialized_dict())
    except Exception:
        reject()
    # Forbidden clauses can rule out all but a sliver of the space, which hyperband refuses on
    # purpose when it samples (SearchSpaceError, tested apart): keep only spaces it can draw
    # from, so that properties about draws test draws (a test once failed on such a space).
    try:
        RandomSampler(cs).sample(np.random.default_rng(0), 32)
    except SearchSpaceError:
        reject()
    return cs


def check_valid(cs: Any, config: dict[str, Any]) -> None:
    """ConfigSpace accepts ``config``: its values are legal, exactly the active hyperparameters
    are set (Configuration checks both), and no forbidden clause holds; plain Python values in
    the space's order."""
    CS.Configuration(cs, values=config)
    assert list(config) == [name for name in cs if name in config]
    for value in config.values():
        assert type(value) in PLAIN_TYPES, (value, type(value))
        if isinstance(value, float):
            assert math.isfinite(value)
    assert not any(isinstance(v, np.generic) for v in config.values())
