"""Search-space validation and the random sampler."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperband._strategies_space import search_spaces
from hyperband.core.errors import (
    ArgumentTypeError,
    ConfigurationError,
    HyperbandError,
    SearchSpaceError,
)
from hyperband.core.sampling import RandomSampler, Sampler
from hyperband.core.space import PARAMETER_TYPES, validate_space

PLAIN_TYPES = (int, float, str, bool, type(None), list, dict)


def _spec(kind: object, value: Any) -> dict[str, Any]:
    return {"_type": kind, "_value": value}


def _is_multiple(value: float, q: float) -> bool:
    k = round(value / q)
    return abs(value - k * q) <= 1e-9 * max(abs(value), q)


def _check_plain(value: Any) -> None:
    assert type(value) in PLAIN_TYPES, f"{value!r} is a {type(value).__name__}"
    if isinstance(value, list):
        for item in value:
            _check_plain(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str
            _check_plain(item)


def _check_value(value: Any, spec: dict[str, Any]) -> None:
    kind, bounds = spec["_type"], spec["_value"]
    if kind == "choice":
        if isinstance(value, dict) and "_name" in value:
            # A dict option with '_name' is always nested, so the sample must come from one.
            (option,) = [
                o for o in bounds if isinstance(o, dict) and o.get("_name") == value["_name"]
            ]
            subs = {key: sub for key, sub in option.items() if key != "_name"}
            assert list(value) == ["_name", *subs]
            for key, sub in subs.items():
                _check_value(value[key], sub)
            return
        # json.dumps tells True from 1 and 1 from 1.0, which == does not.
        assert any(json.dumps(value) == json.dumps(option) for option in bounds)
        return
    if kind == "randint":
        assert type(value) is int
        assert bounds[0] <= value < bounds[1]
        return
    assert type(value) is float
    assert math.isfinite(value)
    assert math.copysign(1.0, value) == 1.0 or value != 0.0, "signed zero"
    if kind in ("uniform", "loguniform"):
        assert bounds[0] <= value <= bounds[1]
    elif kind in ("quniform", "qloguniform"):
        low, high, q = bounds
        assert low <= value <= high
        assert value in (low, high) or _is_multiple(value, q)
    elif kind == "qnormal":
        assert _is_multiple(value, bounds[2])
    elif kind == "lognormal":
        assert value >= 0.0
    elif kind == "qlognormal":
        assert value >= 0.0
        assert _is_multiple(value, bounds[2])


def _check_in_space(config: dict[str, Any], space: dict[str, Any]) -> None:
    """Assert that ``config`` is a value the NNI semantics of ``space`` allow."""
    assert list(config) == list(space)
    for name, spec in space.items():
        _check_value(config[name], spec)


NESTED = {
    "optimizer": _spec(
        "choice",
        [
            "plain",
            {"_name": "sgd", "lr": _spec("loguniform", [1e-4, 1e-1])},
            {
                "_name": "adam",
                "beta": _spec("uniform", [0.8, 0.999]),
                "schedule": _spec(
                    "choice",
                    [{"_name": "cosine"}, {"_name": "step", "every": _spec("randint", [1, 10])}],
                ),
            },
        ],
    ),
}


# --- validation: malformed spaces -------------------------------------------------------------

MALFORMED: list[tuple[object, str, list[str]]] = [
    ([1, 2], "", ["must be a dict", "[1, 2]"]),
    (None, "", ["must be a dict", "None"]),
    ({}, "", ["needs at least one parameter"]),
    ({3: _spec("uniform", [0, 1])}, "", ["non-empty strings", "3 (int)"]),
    ({"": _spec("uniform", [0, 1])}, "", ["non-empty strings", "''"]),
    ({"lr": 0.1}, "lr", ["must be a dict", "0.1 (float)"]),
    ({"lr": [0, 1]}, "lr", ["must be a dict", "[0, 1]"]),
    ({"lr": {"_value": [0, 1]}}, "lr", ["missing '_type'", "[0, 1]"]),
    ({"lr": {"_type": "uniform"}}, "lr", ["missing '_value'", "'uniform'"]),
    ({"lr": _spec("gaussian", [0, 1])}, "lr", ["'gaussian'", ", ".join(PARAMETER_TYPES)]),
    ({"lr": _spec(3, [0, 1])}, "lr", ["_type must be one of", "3 (int)"]),
    ({"lr": {"_type": "uniform", "_value": [0, 1], "_default": 0.5}}, "lr", ["'_default'"]),
    ({"lr": _spec("uniform", "0,1")}, "lr", ["_value to be a list", "'0,1'"]),
    ({"lr": _spec("uniform", None)}, "lr", ["_value to be a list", "None"]),
    ({"lr": _spec("uniform", {"low": 0})}, "lr", ["_value to be a list", "{'low': 0}"]),
    ({"lr": _spec("uniform", [0])}, "lr", ["uniform needs _value=[low, high]", "[0]"]),
    ({"lr": _spec("quniform", [0, 1])}, "lr", ["quniform needs _value=[low, high, q]", "[0, 1]"]),
    ({"lr": _spec("normal", [0, 1, 2])}, "lr", ["normal needs _value=[mu, sigma]", "[0, 1, 2]"]),
    ({"lr": _spec("randint", [1])}, "lr", ["randint needs _value=[lower, upper]", "[1]"]),
    ({"lr": _spec("uniform", ["a", 1])}, "lr", ["finite real numbers", "['a', 1]"]),
    ({"lr": _spec("uniform", [0, math.nan])}, "lr", ["finite real numbers", "[0, nan]"]),
    ({"lr": _spec("uniform", [0, math.inf])}, "lr", ["finite real numbers", "[0, inf]"]),
    ({"lr": _spec("uniform", [False, True])}, "lr", ["bools are not numbers", "[False, True]"]),
    ({"lr": _spec("normal", [None, 1])}, "lr", ["finite real numbers", "[None, 1]"]),
    ({"lr": _spec("randint", [0, np.bool_(True)])}, "lr", ["bools are not numbers"]),
    ({"lr": _spec("uniform", [1, 1])}, "lr", ["uniform needs low < high", "[1, 1]"]),
    ({"lr": _spec("uniform", [2, 1])}, "lr", ["uniform needs low < high", "[2, 1]"]),
    ({"lr": _spec("quniform", [1, 0, 0.1])}, "lr", ["low < high", "[1, 0, 0.1]"]),
    ({"n": _spec("randint", [0.5, 3])}, "n", ["randint needs integer bounds", "[0.5, 3]"]),
    ({"n": _spec("randint", [3, 3])}, "n", ["lower < upper (upper is excluded)", "[3, 3]"]),
    ({"n": _spec("randint", [5, 2])}, "n", ["lower < upper", "[5, 2]"]),
    ({"n": _spec("randint", [0, 2**64])}, "n", ["2**63", str(2**64)]),
    ({"lr": _spec("loguniform", [0, 1])}, "lr", ["loguniform needs 0 < low < high", "[0, 1]"]),
    ({"lr": _spec("loguniform", [-1, 1])}, "lr", ["0 < low < high", "[-1, 1]"]),
    ({"lr": _spec("loguniform", [1, 1])}, "lr", ["0 < low < high", "[1, 1]"]),
    ({"lr": _spec("qloguniform", [0, 1, 0.1])}, "lr", ["0 < low < high", "[0, 1, 0.1]"]),
    ({"x": _spec("quniform", [0, 1, 0])}, "x", ["quniform needs q > 0", "[0, 1, 0]"]),
    ({"x": _spec("quniform", [0, 1, -0.1])}, "x", ["q > 0", "[0, 1, -0.1]"]),
    ({"x": _spec("qloguniform", [1, 2, 0])}, "x", ["q > 0", "[1, 2, 0]"]),
    ({"x": _spec("qnormal", [0, 1, 0])}, "x", ["q > 0", "[0, 1, 0]"]),
    ({"x": _spec("qlognormal", [0, 1, -1])}, "x", ["q > 0", "[0, 1, -1]"]),
    ({"x": _spec("normal", [0, 0])}, "x", ["normal needs sigma > 0", "[0, 0]"]),
    ({"x": _spec("normal", [0, -1])}, "x", ["sigma > 0", "[0, -1]"]),
    ({"x": _spec("lognormal", [0, 0.0])}, "x", ["lognormal needs sigma > 0", "[0, 0.0]"]),
    ({"x": _spec("qnormal", [0, -1, 1])}, "x", ["sigma > 0", "[0, -1, 1]"]),
    ({"x": _spec("uniform", [-1e308, 1e308])}, "x", ["finite float", "[-1e+308, 1e+308]"]),
    ({"x": _spec("normal", [0, 1e308])}, "x", ["finite float", "[0, 1e+308]"]),
    ({"x": _spec("lognormal", [700, 1])}, "x", ["mu + 10*sigma", "[700, 1]"]),
    ({"x": _spec("quniform", [0, 1e300, 1e-10])}, "x", ["value / q", "[0, 1e+300, 1e-10]"]),
    ({"x": _spec("uniform", [0, 10**400])}, "x", ["fit in a float"]),
    ({"opt": _spec("choice", [])}, "opt", ["choice needs a non-empty list", "[]"]),
    ({"opt": _spec("choice", "abc")}, "opt", ["_value to be a list", "'abc'"]),
    (
        {"opt": _spec("choice", ["a", {"_name": 3}])},
        "opt/_value[1]",
        ["'_name' to be a non-empty str", "3 (int)"],
    ),
    ({"opt": _spec("choice", [{"_name": ""}])}, "opt/_value[0]", ["non-empty str", "''"]),
    (
        {"opt": _spec("choice", [{"_name": "a"}, {"_name": "b"}, {"_name": "a"}])},
        "opt/_value[2]",
        ["its own '_name'", "'a' twice"],
    ),
    (
        {
            "optimizer": _spec(
                "choice",
                ["plain", {"_name": "sgd", "lr": _spec("loguniform", [0, 1])}],
            )
        },
        "optimizer/_value[1]/lr",
        ["parameter 'optimizer/_value[1]/lr'", "loguniform needs 0 < low < high", "[0, 1]"],
    ),
    (
        {"optimizer": _spec("choice", [{"_name": "sgd", "lr": 0.1}])},
        "optimizer/_value[0]/lr",
        ["must be a dict", "0.1 (float)"],
    ),
    (
        {"optimizer": _spec("choice", [{"_name": "sgd", 3: _spec("uniform", [0, 1])}])},
        "optimizer/_value[0]",
        ["sub-parameter names must be non-empty strings", "3 (int)"],
    ),
    (
        {
            "a": _spec(
                "choice",
                [
                    {
                        "_name": "x",
                        "b": _spec(
                            "choice",
                            [{"_name": "y"}, {"_name": "z", "c": _spec("uniform", [1, 0])}],
                        ),
                    }
                ],
            )
        },
        "a/_value[0]/b/_value[1]/c",
        ["low < high", "[1, 0]"],
    ),
    ({"opt": _spec("choice", [1, object()])}, "opt/_value[1]", ["JSON values", "object"]),
    ({"opt": _spec("choice", [math.nan])}, "opt/_value[0]", ["finite numbers", "nan"]),
    ({"opt": _spec("choice", [[1, math.inf]])}, "opt/_value[0][1]", ["finite numbers", "inf"]),
    ({"opt": _spec("choice", [{1: 2}])}, "opt/_value[0]", ["str keys", "1 (int)"]),
    ({"opt": _spec("choice", [{1, 2}])}, "opt/_value[0]", ["JSON values", "{1, 2}"]),
    # The first problem wins: 'a' is reported, not 'b'.
    ({"a": _spec("uniform", [1, 0]), "b": _spec("nope", [])}, "a", ["low < high"]),
]


@pytest.mark.parametrize(("space", "path", "fragments"), MALFORMED)
def test_malformed_space_is_rejected_with_path_rule_and_value(
    space: object, path: str, fragments: list[str]
) -> None:
    with pytest.raises(SearchSpaceError) as info:
        validate_space(space)
    error = info.value
    assert isinstance(error, ValueError)
    assert isinstance(error, HyperbandError)
    assert error.path == path
    message = str(error)
    assert message.startswith("search space: ")
    if path:
        assert repr(path) in message
    for fragment in fragments:
        assert fragment in message


def test_message_matches_the_documented_example() -> None:
    with pytest.raises(SearchSpaceError) as info:
        validate_space({"lr": _spec("loguniform", [0, 1])})
    assert str(info.value) == (
        "search space: parameter 'lr': loguniform needs 0 < low < high, got _value=[0, 1]"
    )


def test_sampler_rejects_a_malformed_space() -> None:
    with pytest.raises(SearchSpaceError, match="sigma > 0"):
        RandomSampler({"x": _spec("normal", [0, -1])})


# --- validation: accepted spaces ----------------------------------------------------------------


def test_validate_space_returns_a_normalised_deep_copy() -> None:
    space = {
        "n": _spec("randint", (2.0, 5.0)),
        "x": _spec("uniform", (np.float64(-0.0), np.int64(3))),
        "c": _spec(
            "choice",
            (np.float64(0.5), np.int64(3), np.bool_(True), "a", None, (1, (2, 3)), {"k": [1]}),
        ),
        **NESTED,
    }
    validated = validate_space(space)
    assert validated["n"] == {"_type": "randint", "_value": [2, 5]}
    assert [type(v) for v in validated["n"]["_value"]] == [int, int]
    assert validated["x"]["_value"] == [0.0, 3]
    assert math.copysign(1.0, validated["x"]["_value"][0]) == 1.0
    assert validated["c"]["_value"] == [0.5, 3, True, "a", None, [1, [2, 3]], {"k": [1]}]
    assert [type(v) for v in validated["c"]["_value"][:5]] == [float, int, bool, str, type(None)]
    _check_plain(validated)
    assert validated["optimizer"] == NESTED["optimizer"]

    validated["c"]["_value"][6]["k"].append(2)
    validated["optimizer"]["_value"][1]["lr"]["_value"][0] = 99
    assert space["c"]["_value"][6] == {"k": [1]}
    assert NESTED["optimizer"]["_value"][1]["lr"]["_value"][0] == 1e-4


def test_nested_option_name_comes_first_and_plain_dicts_stay_plain() -> None:
    space = {
        "c": _spec(
            "choice",
            [{"x": _spec("uniform", [0, 1]), "_name": "n"}, {"x": _spec("uniform", [0, 1])}],
        )
    }
    options = validate_space(space)["c"]["_value"]
    assert list(options[0]) == ["_name", "x"]
    configs = RandomSampler(space).sample(np.random.default_rng(1), 200)
    plain = [config["c"] for config in configs if "_name" not in config["c"]]
    nested = [config["c"] for config in configs if "_name" in config["c"]]
    assert plain
    assert nested
    # A dict option without '_name' is a value, returned as written, not sampled.
    assert all(value == {"x": {"_type": "uniform", "_value": [0, 1]}} for value in plain)
    assert all(list(value) == ["_name", "x"] and 0 <= value["x"] <= 1 for value in nested)


def test_randint_accepts_the_int64_extremes() -> None:
    sampler = RandomSampler({"n": _spec("randint", [-(2**63), 2**63])})
    values = [config["n"] for config in sampler.sample(np.random.default_rng(0), 100)]
    assert all(type(v) is int and -(2**63) <= v < 2**63 for v in values)


@given(search_spaces())
def test_generated_spaces_are_valid_and_validation_is_idempotent(space: dict[str, Any]) -> None:
    validated = validate_space(space)
    assert validate_space(validated) == validated
    _check_plain(validated)


# --- sampling properties ------------------------------------------------------------------------


@settings(max_examples=200)
@given(search_spaces(), st.integers(0, 2**32), st.integers(0, 30))
def test_samples_lie_in_the_space(space: dict[str, Any], seed: int, n: int) -> None:
    sampler = RandomSampler(space)
    configs = sampler.sample(np.random.default_rng(seed), n)
    assert len(configs) == n
    json.dumps(configs, allow_nan=False)
    for config in configs:
        _check_plain(config)
        _check_in_space(config, sampler.space)


@given(search_spaces(max_params=3), st.integers(0, 2**32))
def test_sampling_is_deterministic(space: dict[str, Any], seed: int) -> None:
    sampler = RandomSampler(space)
    first = sampler.sample(np.random.default_rng(seed), 7)
    again = RandomSampler(space).sample(np.random.default_rng(seed), 7)
    assert json.dumps(first) == json.dumps(again)


def test_different_seeds_give_different_configs() -> None:
    sampler = RandomSampler(NESTED | {"x": _spec("uniform", [0, 1])})
    a = sampler.sample(np.random.default_rng(1), 5)
    b = sampler.sample(np.random.default_rng(2), 5)
    assert a != b


def test_nested_samples_have_the_documented_shape() -> None:
    configs = RandomSampler(NESTED).sample(np.random.default_rng(3), 600)
    for config in configs:
        _check_in_space(config, NESTED)
    kinds = Counter(
        config["optimizer"]["_name"] if isinstance(config["optimizer"], dict) else "plain"
        for config in configs
    )
    assert set(kinds) == {"plain", "sgd", "adam"}
    assert all(150 <= count <= 250 for count in kinds.values()), kinds
    schedules = Counter(
        config["optimizer"]["schedule"]["_name"]
        for config in configs
        if isinstance(config["optimizer"], dict) and config["optimizer"]["_name"] == "adam"
    )
    assert set(schedules) == {"cosine", "step"}


def test_sampled_mutable_options_are_fresh_copies() -> None:
    sampler = RandomSampler({"layers": _spec("choice", [[64, 64], {"k": [1]}])})
    rng = np.random.default_rng(0)
    configs = sampler.sample(rng, 20)
    lists = [config["layers"] for config in configs if isinstance(config["layers"], list)]
    dicts = [config["layers"] for config in configs if isinstance(config["layers"], dict)]
    assert len(lists) >= 2
    assert dicts
    lists[0].append(128)
    dicts[0]["k"].append(2)
    assert lists[1] == [64, 64]
    assert sampler.space["layers"]["_value"] == [[64, 64], {"k": [1]}]
    assert all(config["layers"] in ([64, 64], {"k": [1]}) for config in sampler.sample(rng, 20))


def test_parameter_order_follows_the_space() -> None:
    space = {name: _spec("uniform", [0, 1]) for name in ["z", "a", "m", "b"]}
    (config,) = RandomSampler(space).sample(np.random.default_rng(0), 1)
    assert list(config) == ["z", "a", "m", "b"]


# --- sampling distributions ---------------------------------------------------------------------


def _draw(spec: dict[str, Any], n: int = 4000, seed: int = 12345) -> list[Any]:
    configs = RandomSampler({"x": spec}).sample(np.random.default_rng(seed), n)
    return [config["x"] for config in configs]


def test_uniform_distribution() -> None:
    values = _draw(_spec("uniform", [0, 1]))
    assert abs(statistics.fmean(values) - 0.5) < 0.02
    assert min(values) < 0.01
    assert max(values) > 0.99


def test_loguniform_is_uniform_in_log_space() -> None:
    values = _draw(_spec("loguniform", [1e-4, 1]))
    assert all(1e-4 <= v <= 1 for v in values)
    assert abs(math.log10(statistics.median(values)) - (-2.0)) < 0.15
    below = sum(v < 1e-3 for v in values) / len(values)
    assert abs(below - 0.25) < 0.03


def test_randint_excludes_the_upper_bound() -> None:
    counts = Counter(_draw(_spec("randint", [0, 3])))
    assert set(counts) == {0, 1, 2}
    assert all(abs(count / 4000 - 1 / 3) < 0.03 for count in counts.values()), counts


def test_choice_frequencies_are_roughly_equal() -> None:
    counts = Counter(_draw(_spec("choice", ["a", "b", "c", "d"])))
    assert set(counts) == {"a", "b", "c", "d"}
    assert all(abs(count / 4000 - 0.25) < 0.03 for count in counts.values()), counts


def test_quniform_gives_clean_decimal_multiples() -> None:
    counts = Counter(_draw(_spec("quniform", [0, 1, 0.1])))
    assert set(counts) == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}
    # Rounding gives the two end points half a bucket each.
    assert abs(counts[0.0] / 4000 - 0.05) < 0.015
    assert abs(counts[0.5] / 4000 - 0.1) < 0.02


def test_quniform_clips_to_the_bounds() -> None:
    values = set(_draw(_spec("quniform", [0.04, 0.96, 0.1])))
    assert min(values) == 0.04
    assert max(values) == 0.96


def test_qloguniform_values() -> None:
    values = _draw(_spec("qloguniform", [1, 1000, 1]))
    assert all(1 <= v <= 1000 and v == int(v) for v in values)
    assert abs(math.log10(statistics.median(values)) - 1.5) < 0.15


def test_normal_family() -> None:
    normal = _draw(_spec("normal", [3, 2]))
    assert abs(statistics.fmean(normal) - 3) < 0.15
    assert abs(statistics.stdev(normal) - 2) < 0.15
    lognormal = _draw(_spec("lognormal", [1, 0.5]))
    assert abs(math.log(statistics.median(lognormal)) - 1) < 0.05
    qnormal = _draw(_spec("qnormal", [0, 1, 0.5]))
    assert set(qnormal) <= {k / 2 for k in range(-20, 21)}
    # Rounding a small negative draw must not produce -0.0.
    assert all(math.copysign(1.0, v) == 1.0 for v in qnormal if v == 0)
    qlognormal = _draw(_spec("qlognormal", [0, 1, 0.25]))
    assert all(_is_multiple(v, 0.25) and v >= 0 for v in qlognormal)
    assert 0.0 in qlognormal


# --- the sampler API ----------------------------------------------------------------------------


def test_random_sampler_is_a_sampler() -> None:
    assert isinstance(RandomSampler({"x": _spec("uniform", [0, 1])}), Sampler)


def test_sample_zero_and_numpy_int() -> None:
    sampler = RandomSampler({"x": _spec("uniform", [0, 1])})
    assert sampler.sample(np.random.default_rng(0), 0) == []
    assert len(sampler.sample(np.random.default_rng(0), np.int64(3))) == 3


@pytest.mark.parametrize("n", [-1, -81])
def test_negative_n_is_a_configuration_error(n: int) -> None:
    sampler = RandomSampler({"x": _spec("uniform", [0, 1])})
    with pytest.raises(ConfigurationError, match=rf"n must be >= 0, got {n} \(int\)"):
        sampler.sample(np.random.default_rng(0), n)


@pytest.mark.parametrize("n", [1.0, True, "3", None])
def test_n_of_the_wrong_type(n: Any) -> None:
    sampler = RandomSampler({"x": _spec("uniform", [0, 1])})
    with pytest.raises(ArgumentTypeError, match="n must be an int") as info:
        sampler.sample(np.random.default_rng(0), n)
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("rng", [None, 0, np.random.RandomState(0)])
def test_rng_must_be_a_generator(rng: Any) -> None:
    sampler = RandomSampler({"x": _spec("uniform", [0, 1])})
    with pytest.raises(ArgumentTypeError, match=r"numpy\.random\.Generator"):
        sampler.sample(rng, 1)


def test_space_property_is_a_copy() -> None:
    sampler = RandomSampler(NESTED)
    sampler.space["optimizer"]["_value"].clear()
    assert sampler.space == NESTED


def test_repr_is_short() -> None:
    assert repr(RandomSampler({"lr": _spec("uniform", [0, 1])})) == "RandomSampler(lr)"
    many = RandomSampler({f"p{i}": _spec("uniform", [0, 1]) for i in range(50)})
    assert len(repr(many)) < 80
    assert "50 parameters" in repr(many)


@pytest.mark.parametrize(("kwargs"), [{"max_params": 0}, {"max_depth": -1}, {"max_params": 1.5}])
def test_search_spaces_checks_its_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="search_spaces"):
        search_spaces(**kwargs)


@given(search_spaces(max_params=1, max_depth=0))
def test_search_spaces_respects_its_limits(space: dict[str, Any]) -> None:
    assert len(space) == 1
    (spec,) = space.values()
    if spec["_type"] == "choice":
        assert not any(isinstance(o, dict) and "_name" in o for o in spec["_value"])
