"""Hypothesis strategies that generate valid NNI-format search spaces.

Public through ``hyperband.testing``, for embedders that property-test their own samplers or
drivers. Only hypothesis and the standard library are used, so importing this costs nothing
beyond hypothesis itself.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

__all__ = ["search_spaces"]

# Small magnitudes keep every generated space far from the validator's overflow limits, so a
# property that fails points at the code under test rather than at float range.
_BOUND = 1000


def search_spaces(max_params: int = 4, max_depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Valid search spaces covering all ten NNI types and nested choices.

    Bounds are ints or floats (``randint`` bounds sometimes integral floats such as ``2.0``),
    ``choice`` options are arbitrary small JSON values, and nested choice options (dicts with a
    unique ``_name`` and sub-parameters) appear down to ``max_depth`` levels.

    Args:
        max_params: most parameters at each level, ``>= 1`` (nested options have at most 2).
        max_depth: how deep nested choices may go; ``0`` means no nested options.

    Returns:
        A strategy for dicts that ``validate_space`` accepts.

    Raises:
        ValueError: ``max_params < 1`` or ``max_depth < 0``.

    Examples:
        >>> from hypothesis import given
        >>> @given(search_spaces(max_params=2, max_depth=1))
        ... def test_sampler_accepts(space):
        ...     assert space
        >>> test_sampler_accepts()
    """
    if isinstance(max_params, bool) or not isinstance(max_params, int) or max_params < 1:
        raise ValueError(f"search_spaces: max_params must be an int >= 1, got {max_params!r}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise ValueError(f"search_spaces: max_depth must be an int >= 0, got {max_depth!r}")
    return _parameters(max_params, max_depth, min_size=1)


def _names() -> st.SearchStrategy[str]:
    # '_name' is reserved inside nested options; never generating it keeps one rule for all levels.
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=6).filter(
        lambda name: name != "_name"
    )


def _parameters(max_params: int, depth: int, *, min_size: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(_names(), _spec(depth), min_size=min_size, max_size=max_params)


def _spec(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    kinds: list[st.SearchStrategy[tuple[str, list[Any]]]] = [
        _choice(depth).map(lambda options: ("choice", options)),
        _randint().map(lambda value: ("randint", value)),
        _interval().map(lambda value: ("uniform", value)),
        st.tuples(_interval(), _q()).map(lambda v: ("quniform", [*v[0], v[1]])),
        _log_interval().map(lambda value: ("loguniform", value)),
        st.tuples(_log_interval(), _q()).map(lambda v: ("qloguniform", [*v[0], v[1]])),
        _normal(_BOUND, _BOUND).map(lambda value: ("normal", value)),
        st.tuples(_normal(_BOUND, _BOUND), _q()).map(lambda v: ("qnormal", [*v[0], v[1]])),
        # exp(10 + 3 * 8.5) is ~3e15: large, yet far from overflowing.
        _normal(10, 3).map(lambda value: ("lognormal", value)),
        st.tuples(_normal(10, 3), _q()).map(lambda v: ("qlognormal", [*v[0], v[1]])),
    ]
    return st.one_of(kinds).map(lambda kv: {"_type": kv[0], "_value": kv[1]})


def _number(low: float, high: float) -> st.SearchStrategy[int | float]:
    floats = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    integers = st.integers(min_value=math.ceil(low), max_value=math.floor(high))
    return st.one_of(integers, floats)


def _interval() -> st.SearchStrategy[list[int | float]]:
    # low + width with width >= 1e-3 and |low| <= 1000 is always strictly above low.
    return st.tuples(_number(-_BOUND, _BOUND), _number(1e-3, _BOUND)).map(
        lambda pair: [pair[0], pair[0] + pair[1]]
    )


def _log_interval() -> st.SearchStrategy[list[float]]:
    low = st.floats(min_value=1e-6, max_value=_BOUND)
    factor = st.floats(min_value=1.001, max_value=1e6)
    return st.tuples(low, factor).map(lambda pair: [pair[0], pair[0] * pair[1]])


def _q() -> st.SearchStrategy[int | float]:
    # Round decimal steps are what users write; arbitrary floats exercise the general path.
    return st.one_of(
        st.sampled_from([1, 2, 5, 0.1, 0.25, 0.5, 0.01, 2.5, 100]),
        st.floats(min_value=1e-3, max_value=_BOUND),
    )


def _normal(mu_bound: float, sigma_max: float) -> st.SearchStrategy[list[int | float]]:
    sigma = st.floats(min_value=1e-3, max_value=sigma_max)
    return st.tuples(_number(-mu_bound, mu_bound), sigma).map(list)


def _randint() -> st.SearchStrategy[list[int | float]]:
    narrow = st.tuples(st.integers(-_BOUND, _BOUND), st.integers(1, _BOUND))
    # Spans beyond 2**32 take the sampler's exact (rng.integers) path.
    wide = st.tuples(st.integers(-(2**62), 2**62), st.integers(2**32, 2**62))
    as_float = st.booleans()
    return st.tuples(st.one_of(narrow, wide), as_float).map(_randint_bounds)


def _randint_bounds(drawn: tuple[tuple[int, int], bool]) -> list[int | float]:
    (lower, span), as_float = drawn
    upper = lower + span
    if as_float and abs(lower) <= _BOUND and abs(upper) <= _BOUND:
        return [float(lower), float(upper)]
    return [lower, upper]


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
        st.text(max_size=5),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            # Without '_name' a dict option is a plain value, returned as is.
            st.dictionaries(
                st.text(max_size=4).filter(lambda k: k != "_name"), children, max_size=3
            ),
        ),
        max_leaves=5,
    )


def _choice(depth: int) -> st.SearchStrategy[list[Any]]:
    plain = st.lists(_json_values(), min_size=0 if depth > 0 else 1, max_size=4)
    if depth == 0:
        return plain
    nested = st.lists(_names(), min_size=0, max_size=3, unique=True).flatmap(
        lambda names: st.tuples(*(_nested_option(name, depth - 1) for name in names))
    )
    return (
        st.tuples(plain, nested)
        .map(lambda pair: [*pair[0], *pair[1]])
        .filter(bool)
        .flatmap(lambda options: st.permutations(options))
    )


def _nested_option(name: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    return _parameters(2, depth, min_size=0).map(lambda subs: {"_name": name, **subs})
