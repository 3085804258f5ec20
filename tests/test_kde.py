"""KDESampler: BOHB's kernel density model behind the model-based sampler protocol."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from collections import Counter
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperband
from hyperband import ArgumentTypeError, ConfigurationError, Hyperband, Job, RandomSampler
from hyperband.core.sampling import _finisher
from hyperband.samplers.kde import KDESampler
from hyperband.samplers.kde.densities import _needed
from hyperband.samplers.kde.encoding import _CAT, _CONST, _ORD, _REAL, _UNIT
from hyperband.samplers.kde.kernels import (
    _erfc,
    _log_kernel_table,
    _log_mean_exp,
    _norm_cdf,
    _norm_ppf,
    _sample_aitchison_aitken,
    _sample_wang_van_ryzin,
    _truncated_normal,
)
from hyperband.testing import search_spaces
from tests.test_space import _check_in_space, _check_plain

SEEDS = st.integers(0, 2**32 - 1)
UNIFORM = {"_type": "uniform", "_value": [0, 1]}
LINE = {"x": UNIFORM}
PLANE = {"x": UNIFORM, "y": UNIFORM}
NESTED: dict[str, Any] = {
    "optimizer": {
        "_type": "choice",
        "_value": [
            "plain",
            {"_name": "sgd", "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}},
            {
                "_name": "adam",
                "beta": {"_type": "uniform", "_value": [0.5, 0.999]},
                "schedule": {
                    "_type": "choice",
                    "_value": [
                        {"_name": "cosine"},
                        {"_name": "step", "every": {"_type": "randint", "_value": [1, 10]}},
                    ],
                },
            },
        ],
    },
    "batch": {"_type": "choice", "_value": [16, 32, 64, 128]},
    "width": {"_type": "qloguniform", "_value": [8, 512, 8]},
}


def _loss(config: Any) -> float:
    """A deterministic pseudo-random loss for any configuration."""
    text = json.dumps(config, sort_keys=True).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") / 2**64


def _check_snapped(value: Any, spec: dict[str, Any]) -> None:
    """A q-rounded value is a fixed point of RandomSampler's own rounding and snapping."""
    kind, bounds = spec["_type"], spec["_value"]
    if kind == "choice":
        if isinstance(value, dict) and "_name" in value:
            (option,) = [
                o for o in bounds if isinstance(o, dict) and o.get("_name") == value["_name"]
            ]
            for key, sub in option.items():
                if key != "_name":
                    _check_snapped(value[key], sub)
        return
    if kind not in ("quniform", "qloguniform", "qnormal", "qlognormal"):
        return
    if kind in ("quniform", "qloguniform") and value in (float(bounds[0]), float(bounds[1])):
        return  # clipped to a bound, which need not be a multiple of q
    assert _finisher(kind, bounds)(np.array([value]))[0] == value


def _check_draw(config: dict[str, Any], space: dict[str, Any]) -> None:
    _check_plain(config)
    _check_in_space(config, space)
    for name, spec in space.items():
        _check_snapped(config[name], spec)


def _feed(sampler: KDESampler, loss: Any, n: int, seed: int = 0, budget: float = 1) -> None:
    """Run ``n`` sequential draw/observe rounds (lazy draws, as the machine makes them)."""
    for k in range(n):
        (config,) = sampler.sample(np.random.default_rng([seed, k]), 1)
        sampler.observe(config, budget, loss(config))


def _learned(space: dict[str, Any], loss: Any, n: int, **options: Any) -> KDESampler:
    """A sampler with ``options`` that has observed ``n`` random configurations."""
    sampler = KDESampler(space, **options)
    for config in RandomSampler(space).sample(np.random.default_rng(0), n):
        sampler.observe(config, 1, loss(config))
    return sampler


def _draws(sampler: KDESampler, n: int, seed: int = 1000, **kwargs: Any) -> list[dict[str, Any]]:
    return [sampler.sample(np.random.default_rng([seed, k]), 1, **kwargs)[0] for k in range(n)]


# --- every draw is a valid configuration ------------------------------------------------------


def test_the_check_accepts_what_random_sampler_draws() -> None:
    space = NESTED | {"q": {"_type": "qnormal", "_value": [0, 3, 0.1]}}
    for config in RandomSampler(space).sample(np.random.default_rng(0), 300):
        _check_draw(config, space)


@settings(max_examples=60, deadline=None)
@given(search_spaces(max_params=3, max_depth=2), SEEDS)
def test_model_based_draws_lie_in_the_space(space: dict[str, Any], seed: int) -> None:
    sampler = KDESampler(space, min_points=2, random_fraction=0.0)
    rng = np.random.default_rng(seed)
    history = sampler.sample(rng, 12)
    for i, config in enumerate(history):
        sampler.observe(config, 1 + i % 2, None if i % 5 == 4 else _loss(config))
    assert sampler.model_budget == (2 if sampler._d else None)
    pending = [(config, 1) for config in history[:3]]
    draws = sampler.sample(rng, 4, pending=pending) + sampler.sample(rng, 1)
    json.dumps(draws, allow_nan=False)
    validated = sampler.space
    for config in draws:
        _check_draw(config, validated)


def test_every_type_survives_many_model_based_draws() -> None:
    space = NESTED | {
        "n": {"_type": "normal", "_value": [0, 2]},
        "qn": {"_type": "qnormal", "_value": [1, 2, 0.5]},
        "ln": {"_type": "lognormal", "_value": [0, 1]},
        "qln": {"_type": "qlognormal", "_value": [1, 1, 0.1]},
        "qu": {"_type": "quniform", "_value": [0.05, 1.03, 0.1]},
        "wide": {"_type": "randint", "_value": [-(2**63), 2**63]},
        "one": {"_type": "randint", "_value": [5, 6]},
        "only": {"_type": "choice", "_value": [{"_name": "solo", "x": UNIFORM}]},
        "many": {"_type": "choice", "_value": [f"o{i}" for i in range(100)]},
        "ranks": {"_type": "choice", "_value": [i / 7 for i in range(90)]},
        "mixed": {"_type": "choice", "_value": [1, 1.0, True, None, [1], {"k": 1}]},
    }
    sampler = KDESampler(space, min_points=3)
    _feed(sampler, _loss, 60)
    assert sampler.model_budget == 1
    validated = sampler.space
    for config in _draws(sampler, 60):
        _check_draw(config, validated)


@settings(max_examples=50, deadline=None)
@given(search_spaces(), SEEDS, st.integers(0, 20))
def test_without_a_model_it_draws_exactly_as_random_sampler(
    space: dict[str, Any], seed: int, n: int
) -> None:
    ours = KDESampler(space).sample(np.random.default_rng(seed), n)
    theirs = RandomSampler(space).sample(np.random.default_rng(seed), n)
    assert json.dumps(ours) == json.dumps(theirs)


# --- determinism --------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(search_spaces(max_params=3, max_depth=1), SEEDS)
def test_draws_depend_only_on_rng_pending_and_observations(
    space: dict[str, Any], seed: int
) -> None:
    def build() -> KDESampler:
        sampler = KDESampler(space, min_points=2)
        for i, config in enumerate(sampler.sample(np.random.default_rng(seed), 10)):
            sampler.observe(config, 3, _loss(config) if i != 4 else None)
        return sampler

    a, b = build(), build()
    pending = [(config, 1) for config in a.sample(np.random.default_rng(seed + 1), 2)]

    def draw(sampler: KDESampler) -> str:
        return json.dumps(sampler.sample(np.random.default_rng(seed + 2), 5, pending=pending))

    first = draw(a)
    assert draw(a) == first  # sampling leaves the state unchanged
    assert draw(b) == first  # a fresh sampler fed the same calls
    rebuilt = type(a)(a.space, **a.options)
    for i, config in enumerate(rebuilt.sample(np.random.default_rng(seed), 10)):
        rebuilt.observe(config, 3, _loss(config) if i != 4 else None)
    assert draw(rebuilt) == first


def test_options_rebuild_an_equivalent_sampler_and_are_json() -> None:
    sampler = KDESampler(NESTED, top_fraction=0.2, n_candidates=32, failures="ignore")
    options = json.loads(json.dumps(sampler.options))
    assert options == {
        "top_fraction": 0.2,
        "n_candidates": 32,
        "bandwidth_factor": 3.0,
        "min_bandwidth": 1e-3,
        "random_fraction": 0.2,
        "min_points": None,
        "failures": "ignore",
        "pending": "bad",
    }
    copy = KDESampler(sampler.space, **options)
    for s in (sampler, copy):
        _feed(s, _loss, 40)
    assert json.dumps(_draws(sampler, 10)) == json.dumps(_draws(copy, 10))


def test_space_is_a_fresh_copy() -> None:
    sampler = KDESampler(NESTED)
    space = sampler.space
    space["batch"]["_value"].append(256)
    assert sampler.space["batch"]["_value"] == [16, 32, 64, 128]


# --- the model learns ---------------------------------------------------------------------------


def _near(values: list[float], centre: float, width: float) -> float:
    return float(np.mean([abs(v - centre) < width for v in values]))


def test_model_concentrates_near_good_observations_in_1d() -> None:
    sampler = _learned(LINE, lambda c: (c["x"] - 0.2) ** 2, 60, random_fraction=0.0)
    assert _near([c["x"] for c in _draws(sampler, 100)], 0.2, 0.1) > 0.8


def test_a_random_fraction_of_draws_ignores_the_model() -> None:
    def near(fraction: float) -> float:
        sampler = _learned(LINE, lambda c: (c["x"] - 0.2) ** 2, 60, random_fraction=fraction)
        return _near([c["x"] for c in _draws(sampler, 200)], 0.2, 0.1)

    assert near(0.0) > 0.9
    assert 0.5 < near(0.5) < 0.7
    assert near(1.0) < 0.3  # uniform: 0.2


def test_the_direction_matters_lower_loss_is_better() -> None:
    # The same observations with the loss negated: the model must flee 0.2 (this fails if the
    # good and bad densities were swapped).
    sampler = _learned(LINE, lambda c: -((c["x"] - 0.2) ** 2), 60, random_fraction=0.0)
    assert _near([c["x"] for c in _draws(sampler, 100)], 0.2, 0.1) < 0.1


def test_model_concentrates_near_good_observations_in_2d() -> None:
    sampler = KDESampler(PLANE)
    _feed(sampler, lambda c: (c["x"] - 0.2) ** 2 + (c["y"] - 0.7) ** 2, 80)
    draws = _draws(sampler, 150)
    near = [math.hypot(c["x"] - 0.2, c["y"] - 0.7) < 0.15 for c in draws]
    # A third are random by design: 2/3 of the model's draws near the optimum is the target,
    # against 7% for uniform draws.
    assert np.mean(near) > 0.5


def test_categorical_and_ordinal_choices_are_learned() -> None:
    space = {
        "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu", "elu"]},
        "batch": {"_type": "choice", "_value": [128, 16, 64, 32, 256]},
        "noise": UNIFORM,
    }

    def act_loss(c: dict[str, Any]) -> float:
        return float(c["act"] != "gelu") + 0.1 * c["noise"]

    def batch_loss(c: dict[str, Any]) -> float:
        return abs(math.log2(c["batch"]) - 6) + 0.1 * c["noise"]

    draws = _draws(_learned(space, act_loss, 80, random_fraction=0.0), 100)
    assert Counter(c["act"] for c in draws)["gelu"] > 80
    draws = _draws(_learned(space, batch_loss, 80, random_fraction=0.0), 100)
    assert Counter(c["batch"] for c in draws)[64] > 80


def test_conditional_parameters_are_learned_within_their_option() -> None:
    def loss(c: dict[str, Any]) -> float:
        opt = c["optimizer"]
        if isinstance(opt, dict) and opt["_name"] == "adam":
            return (opt["beta"] - 0.9) ** 2
        return 1.0

    sampler = _learned(NESTED, loss, 120, random_fraction=0.0)
    validated = sampler.space
    model_draws = _draws(sampler, 100)
    for config in model_draws:
        _check_draw(config, validated)
    adam = [c["optimizer"] for c in model_draws if isinstance(c["optimizer"], dict)]
    adam = [o for o in adam if o["_name"] == "adam"]
    assert len(adam) > 50
    assert _near([o["beta"] for o in adam], 0.9, 0.08) > 0.7


def test_log_types_are_modelled_in_log_space() -> None:
    space = {"lr": {"_type": "loguniform", "_value": [1e-6, 1.0]}}
    sampler = _learned(space, lambda c: abs(math.log10(c["lr"]) + 5), 60, random_fraction=0.0)
    draws = [c["lr"] for c in _draws(sampler, 100)]
    assert np.mean([1e-6 <= v < 1e-4 for v in draws]) > 0.8


def test_normal_types_use_the_prior_scale() -> None:
    space = {"w": {"_type": "normal", "_value": [100, 10]}}
    sampler = _learned(space, lambda c: abs(c["w"] - 115), 60, random_fraction=0.0)
    assert _near([c["w"] for c in _draws(sampler, 100)], 115, 4) > 0.7


# --- pending configurations ---------------------------------------------------------------------


def _fitted(pending: str = "bad") -> KDESampler:
    return _learned(LINE, lambda c: (c["x"] - 0.2) ** 2, 60, random_fraction=0.0, pending=pending)


def test_pending_configurations_push_draws_away() -> None:
    sampler = _fitted()
    alone = [c["x"] for c in _draws(sampler, 60)]
    mode = float(np.median(alone))
    crowd = [({"x": mode + 0.004 * i}, 1) for i in range(-4, 5)]
    crowded = [c["x"] for c in _draws(sampler, 60, pending=crowd)]
    assert _near(crowded, mode, 0.02) < _near(alone, mode, 0.02) - 0.3
    ignored = _fitted("ignore")
    assert _draws(ignored, 60, pending=crowd) == _draws(ignored, 60)


def test_one_call_spreads_its_own_draws() -> None:
    def spread(sampler: KDESampler) -> float:
        xs = np.array([c["x"] for c in sampler.sample(np.random.default_rng(5), 16)])
        return float(np.abs(xs[:, None] - xs[None, :]).mean())

    assert spread(_fitted("bad")) > 1.5 * spread(_fitted("ignore"))


# --- failures -----------------------------------------------------------------------------------


def _failing(config: dict[str, Any]) -> float | None:
    # Everything right of 0.5 fails; the best results are just left of it.
    return None if config["x"] > 0.5 else (config["x"] - 0.45) ** 2


def test_failures_count_as_bad_observations_by_default() -> None:
    bad = _learned(LINE, _failing, 60, random_fraction=0.0)
    ignore = _learned(LINE, _failing, 60, random_fraction=0.0, failures="ignore")
    assert bad.n_observations == 60
    assert ignore.n_observations < 40
    right_bad = np.mean([c["x"] > 0.5 for c in _draws(bad, 100)])
    right_ignore = np.mean([c["x"] > 0.5 for c in _draws(ignore, 100)])
    assert right_bad < right_ignore


def test_ignored_failures_change_nothing() -> None:
    a = KDESampler(PLANE, failures="ignore")
    b = KDESampler(PLANE, failures="ignore")
    _feed(a, _loss, 30)
    _feed(b, _loss, 30)
    a.observe({"x": 0.3, "y": 0.3}, 1, None)
    assert a.n_observations == b.n_observations == 30
    assert _draws(a, 10) == _draws(b, 10)


# --- the model's budget -------------------------------------------------------------------------


def test_the_model_uses_the_largest_budget_with_enough_observations() -> None:
    sampler = KDESampler(PLANE)  # d = 2: 3 points per density, 6 observations per budget
    assert sampler.min_points == 3
    assert sampler.model_budget is None
    rng = np.random.default_rng(0)
    configs = sampler.sample(rng, 30)
    for config in configs[:20]:
        sampler.observe(config, 1, _loss(config))
    assert sampler.model_budget == 1
    for config in configs[20:25]:
        sampler.observe(config, 9, _loss(config))
    assert sampler.model_budget == 1  # 5 < 6 observations at budget 9
    sampler.observe(configs[25], 9, _loss(configs[25]))
    assert sampler.model_budget == 9
    for config in configs[26:]:
        sampler.observe(config, 2.5, _loss(config))
    assert sampler.model_budget == 9
    assert isinstance(sampler.model_budget, int)


def test_enough_means_min_points_in_each_density() -> None:
    assert _needed(7, 0.15) == 14
    assert _needed(2, 0.15) == 4
    assert _needed(3, 0.9) == 21  # 18 good, 3 bad
    for mp in range(1, 20):
        for tf in (0.05, 0.15, 0.5, 0.8):
            n = _needed(mp, tf)
            good = max(mp, math.floor(tf * n + 1e-9))
            assert n - good >= mp
            smaller = n - 1
            assert smaller - max(mp, math.floor(tf * smaller + 1e-9)) < mp


# --- the density is what the docs say -----------------------------------------------------------

KERNEL_SPACE: dict[str, Any] = {
    "u": UNIFORM,
    "z": {"_type": "normal", "_value": [3, 2]},
    "cat": {"_type": "choice", "_value": ["a", "b", "c"]},
    "ord": {"_type": "choice", "_value": [1, 2, 5, 10]},
    "bigcat": {"_type": "choice", "_value": [f"s{i}" for i in range(70)]},
    "bigord": {"_type": "choice", "_value": list(range(80))},
    "opt": {
        "_type": "choice",
        "_value": [
            "none",
            {"_name": "a", "lr": {"_type": "loguniform", "_value": [1e-3, 1]}},
            {
                "_name": "b",
                "k": {"_type": "choice", "_value": ["p", "q"]},
                "mom": {"_type": "normal", "_value": [0.9, 0.05]},
            },
        ],
    },
}


def _brute_log_density(sampler: KDESampler, data: Any, bw: Any, point: Any) -> float:
    """The log density at ``point`` from the documented kernels, one product at a time."""
    dims = sampler._layout.dims
    unit = NormalDist()
    total = 0.0
    for centre in data:
        product = 1.0
        for j, dim in enumerate(dims):
            x, m, h = point[j], centre[j], bw[j]
            if math.isnan(x) or dim.family == _CONST:
                continue
            c = dim.levels
            if math.isnan(m):  # the centre says nothing: the prior
                product *= {_UNIT: 1.0, _REAL: unit.pdf(x)}.get(dim.family, 1.0 / c)
            elif dim.family in (_UNIT, _REAL):
                k = unit.pdf((x - m) / h) / h
                if dim.family == _UNIT:
                    k /= unit.cdf((1 - m) / h) - unit.cdf(-m / h)
                product *= k
            elif dim.family == _CAT:
                product *= 1 - h if x == m else h / (c - 1)
            else:
                weights = [1.0 if i == m else 0.5 * h ** abs(i - m) for i in range(c)]
                product *= weights[int(x)] / sum(weights)
        total += product
    return math.log(total / len(data))


def test_log_densities_match_the_documented_kernels() -> None:
    sampler = KDESampler(KERNEL_SPACE, min_bandwidth=0.05)
    lay = sampler._layout
    assert sorted({dim.family for dim in lay.dims}) == [_UNIT, _REAL, _CAT, _ORD]
    assert len(lay.direct) == 2  # the two large choices take the direct path
    rng = np.random.default_rng(3)
    data = np.array([sampler._encode(c) for c in RandomSampler(KERNEL_SPACE).sample(rng, 25)])
    assert np.isnan(data).any()  # conditional dimensions are inactive somewhere
    density = sampler._density(data)
    points = lay.candidates(rng, density, 30, 3.0)
    for point in points:  # a candidate has exactly the dimensions its choices activate
        for j, dim in enumerate(lay.dims):
            active = dim.parent < 0 or point[dim.parent] == dim.option
            assert math.isnan(point[j]) != active
    mine = _log_mean_exp(lay.log_kernels(lay.features_of_points(points), points, density))
    for point, value in zip(points, mine, strict=True):
        assert value == pytest.approx(_brute_log_density(sampler, data, density.bw, point), 1e-6)


def test_bandwidths_follow_the_normal_reference_rule() -> None:
    sampler = KDESampler({"u": UNIFORM, "cat": {"_type": "choice", "_value": ["a", "b", "c"]}})
    data = np.array([[0.1, 0.0], [0.3, 0.0], [0.5, 1.0], [np.nan, 2.0], [0.9, 0.0]])
    bw = sampler._layout.bandwidths(data, 1e-3)
    values = np.array([0.1, 0.3, 0.5, 0.9])
    assert bw[0] == pytest.approx(1.06 * values.std() * 4 ** (-1 / 6))
    p = np.array([3, 1, 1]) / 5
    assert bw[1] == pytest.approx(1.06 * math.sqrt(np.dot(p, 1 - p) / 2) * 5 ** (-1 / 6))
    same = sampler._layout.bandwidths(np.array([[0.5, 1.0]] * 4), 1e-3)
    assert same[0] == 1e-3  # floored at min_bandwidth


def test_discrete_kernel_tables_are_distributions() -> None:
    for family in (_CAT, _ORD):
        for h in (1e-3, 0.3, 0.6):
            table = _log_kernel_table(family, 5, h)
            assert np.exp(table).sum(axis=0) == pytest.approx(np.ones(5))
            assert np.argmax(table, axis=0).tolist() == list(range(5))


def _frequencies(draws: Any, levels: int) -> Any:
    return np.bincount(draws.astype(np.int64).ravel(), minlength=levels) / draws.size


@pytest.mark.parametrize(
    ("family", "sampler"), [(_CAT, _sample_aitchison_aitken), (_ORD, _sample_wang_van_ryzin)]
)
@pytest.mark.parametrize("h", [0.05, 0.4, 1.0])
def test_discrete_kernels_are_sampled_with_their_own_probabilities(
    family: int, sampler: Any, h: float
) -> None:
    levels = 6
    if family == _CAT:
        h = min(h, (levels - 1) / levels)
    rng = np.random.default_rng(0)
    n = 40000
    for centre in (0, 2, 5):
        m = np.full(n, float(centre))
        draws = sampler(m, np.full(n, float(levels)), np.full(n, h), rng.random(n), rng.random(n))
        expected = np.exp(_log_kernel_table(family, levels, h)[:, centre])
        assert np.abs(_frequencies(draws, levels) - expected).max() < 0.01


def test_truncated_normal_draws_follow_their_distribution() -> None:
    rng = np.random.default_rng(1)
    n = 20000
    for m, s in ((0.0, 0.3), (0.5, 0.05), (0.95, 0.5), (1.0, 2.0)):
        x = _truncated_normal(np.full(n, m), np.full(n, s), rng.random(n))
        assert ((x >= 0) & (x <= 1)).all()
        d = NormalDist(m, s)
        z = d.cdf(1) - d.cdf(0)
        for q in (0.1, 0.3, 0.6, 0.9):
            expected = (d.cdf(q) - d.cdf(0)) / z
            assert abs(np.mean(x <= q) - expected) < 0.015


def test_normal_functions_are_accurate() -> None:
    p = np.array([1e-300, 1e-20, 1e-8, 0.001, 0.02425, 0.1, 0.5, 0.77, 0.999, 1 - 1e-12])
    exact = np.array([NormalDist().inv_cdf(v) for v in p])
    assert np.abs(_norm_ppf(p) - exact).max() < 1e-8 * np.abs(exact).max()
    x = np.linspace(-8, 8, 801)
    assert _norm_cdf(x) == pytest.approx([NormalDist().cdf(v) for v in x], rel=1e-6, abs=1e-15)
    x = np.linspace(-5, 25, 601)
    assert _erfc(x) == pytest.approx([math.erfc(v) for v in x], rel=1e-6, abs=0)


# --- observations the space cannot hold, memory -------------------------------------------------


def test_values_outside_the_space_say_nothing_about_their_dimension() -> None:
    sampler = KDESampler(NESTED)
    row = sampler._encode({"optimizer": {"_name": "nope", "beta": 0.9}, "batch": "x"})
    assert np.isnan(row).all()
    row = sampler._encode({"optimizer": "plain", "batch": 64, "width": 1e9})
    assert row.tolist()[:1] == [0.0]
    assert row[-1] == 1.0  # clipped to the top of the range
    sampler.observe({"junk": 1}, 1, 0.5)
    assert sampler.n_observations == 1


def test_memory_is_bounded_by_the_observations() -> None:
    sampler = KDESampler(PLANE)
    _feed(sampler, _loss, 100)
    (store,) = sampler._stores.values()
    assert store.n == 100
    assert store.codes.shape[0] <= 2 * 100
    assert store.codes.shape[1] == 2


# --- arguments ----------------------------------------------------------------------------------

BAD_OPTIONS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"top_fraction": 0}, ConfigurationError, "top_fraction must satisfy 0 < x < 1, got 0"),
    ({"top_fraction": 1.0}, ConfigurationError, "top_fraction"),
    ({"top_fraction": math.nan}, ConfigurationError, "top_fraction"),
    ({"top_fraction": "0.1"}, ArgumentTypeError, "top_fraction must be a real number, got '0.1'"),
    ({"top_fraction": True}, ArgumentTypeError, "top_fraction"),
    ({"n_candidates": 0}, ConfigurationError, "n_candidates must be >= 1, got 0"),
    ({"n_candidates": 2.0}, ArgumentTypeError, "n_candidates must be an int, got 2.0"),
    ({"bandwidth_factor": 0}, ConfigurationError, "bandwidth_factor must satisfy 0 < x <= 100"),
    ({"bandwidth_factor": 1e9}, ConfigurationError, "bandwidth_factor"),
    ({"min_bandwidth": 1e-9}, ConfigurationError, "min_bandwidth must satisfy 1e-6 <= x < 1"),
    ({"min_bandwidth": 1}, ConfigurationError, "min_bandwidth"),
    ({"random_fraction": -0.1}, ConfigurationError, "random_fraction must satisfy 0 <= x <= 1"),
    ({"random_fraction": 1.5}, ConfigurationError, "random_fraction"),
    ({"min_points": 0}, ConfigurationError, "min_points must be >= 1, got 0"),
    ({"min_points": "3"}, ArgumentTypeError, "min_points must be an int"),
    (
        {"failures": "drop"},
        ConfigurationError,
        "failures must be one of 'bad', 'ignore', got 'drop'",
    ),
    ({"pending": None}, ConfigurationError, "pending must be one of 'bad', 'ignore', got None"),
]


@pytest.mark.parametrize(("kwargs", "error", "text"), BAD_OPTIONS)
def test_bad_options_are_rejected(
    kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        KDESampler(LINE, **kwargs)
    assert text in str(info.value)
    assert str(info.value).startswith("KDESampler: ")


def test_edge_options_are_accepted() -> None:
    sampler = KDESampler(
        LINE, random_fraction=1, min_bandwidth=1e-6, bandwidth_factor=100, min_points=1
    )
    _feed(sampler, _loss, 10)
    assert sampler.model_budget == 1
    assert (
        KDESampler(LINE, random_fraction=0, n_candidates=np.int64(3)).options["n_candidates"] == 3
    )


BAD_OBSERVATIONS: list[tuple[tuple[Any, ...], type[Exception], str]] = [
    (([("x", 1)], 1, 0.5), ArgumentTypeError, "config must be a dict"),
    (({"x": 0.5}, "1", 0.5), ArgumentTypeError, "budget must be a real number, got '1'"),
    (({"x": 0.5}, True, 0.5), ArgumentTypeError, "budget must be a real number"),
    (({"x": 0.5}, 0, 0.5), ConfigurationError, "budget must be finite and > 0, got 0"),
    (({"x": 0.5}, math.inf, 0.5), ConfigurationError, "budget must be finite and > 0"),
    (({"x": 0.5}, 1, "0.5"), ArgumentTypeError, "loss must be a real number or None"),
    (({"x": 0.5}, 1, math.nan), ConfigurationError, "loss must be finite (None for a failure)"),
    (({"x": 0.5}, 1, -math.inf), ConfigurationError, "loss must be finite"),
]


@pytest.mark.parametrize(("args", "error", "text"), BAD_OBSERVATIONS)
def test_bad_observations_are_rejected_and_change_nothing(
    args: tuple[Any, ...], error: type[Exception], text: str
) -> None:
    sampler = _fitted()
    before = _draws(sampler, 5)
    with pytest.raises(error) as info:
        sampler.observe(*args)
    assert text in str(info.value)
    assert sampler.n_observations == 60
    assert _draws(sampler, 5) == before


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "text"),
    [
        ((None, 1), {}, ArgumentTypeError, "rng must be a numpy.random.Generator"),
        ((np.random.default_rng(0), 1.5), {}, ArgumentTypeError, "n must be an int, got 1.5"),
        ((np.random.default_rng(0), -1), {}, ConfigurationError, "n must be >= 0, got -1"),
        ((np.random.default_rng(0), 1), {"pending": {"x": 1}}, ArgumentTypeError, "pending"),
        ((np.random.default_rng(0), 1), {"pending": [{"x": 1}]}, ArgumentTypeError, "an item"),
        ((np.random.default_rng(0), 1), {"pending": [("x", 1)]}, ArgumentTypeError, "an item"),
    ],
)
def test_bad_sample_arguments_are_rejected(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        _fitted().sample(*args, **kwargs)
    assert text in str(info.value)
    assert str(info.value).startswith("KDESampler.sample: ")


def test_sample_zero_and_numpy_n() -> None:
    sampler = _fitted()
    assert sampler.sample(np.random.default_rng(0), 0) == []
    assert len(sampler.sample(np.random.default_rng(0), np.int64(2))) == 2


def test_repr_names_parameters_changed_options_and_state() -> None:
    sampler = KDESampler(PLANE, top_fraction=0.25)
    assert repr(sampler) == "KDESampler(x, y, top_fraction=0.25; 0 observations, no model yet)"
    _feed(sampler, _loss, 8, budget=3)
    assert repr(sampler).endswith("; 8 observations, model at budget 3)")
    many = KDESampler({f"p{i}": UNIFORM for i in range(9)})
    assert repr(many).startswith("KDESampler(p0, p1, p2, p3, ... (9 parameters); ")


# --- with the machine ---------------------------------------------------------------------------


def _quadratic(config: dict[str, Any], budget: float) -> float:
    return (config["x"] - 0.2) ** 2 + (config["y"] - 0.7) ** 2 + 0.05 / budget


def test_kde_hyperband_draws_near_the_optimum_once_it_has_learned() -> None:
    """The configurations the third iteration starts: near the bowl's bottom with the model,
    spread over the square without it (a KDE that only drew at random would fail here)."""

    def spread(sampler: Any, seed: int) -> float:
        hb = Hyperband(sampler, max_budget=27, eta=3, mode="minimize", seed=seed, iterations=3)
        distances = []
        while not hb.done:
            job = hb.ask()
            assert isinstance(job, Job)
            if job.iteration == 2 and job.rung == 0:
                distances.append(math.hypot(job.config["x"] - 0.2, job.config["y"] - 0.7))
            hb.tell(job.id, _quadratic(job.config, job.budget))
        return float(np.median(distances))

    # Measured: 0.002-0.07 with the model, 0.39-0.59 at random (uniform draws: about 0.45).
    assert max(spread(KDESampler(PLANE), seed) for seed in range(5)) < 0.15
    assert min(spread(KDESampler(PLANE, random_fraction=1.0), seed) for seed in range(5)) > 0.3
    assert min(spread(PLANE, seed) for seed in range(5)) > 0.3


def test_a_study_restored_from_a_snapshot_draws_the_same_configurations() -> None:
    hb = Hyperband(
        KDESampler(NESTED), max_budget=9, eta=3, mode="minimize", seed=4, iterations=None
    )
    jobs: list[Job] = []
    for _ in range(25):
        job = hb.ask()
        assert isinstance(job, Job)
        jobs.append(job)
        hb.tell(job.id, _loss(job.config))
    state = json.loads(json.dumps(hb.snapshot()))
    restored = Hyperband.restore(state)
    assert isinstance(restored.sampler, KDESampler)
    for machine in (hb, restored):
        assert isinstance(machine.sampler, KDESampler)
        assert machine.sampler.n_observations == 25
    for _ in range(20):
        a, b = hb.ask(), restored.ask()
        assert isinstance(a, Job)
        assert isinstance(b, Job)
        assert a.config == b.config
        hb.tell(a.id, _loss(a.config))
        restored.tell(b.id, _loss(b.config))


def test_import_hyperband_does_not_load_the_kde_module() -> None:
    code = "import sys, hyperband; print('hyperband.samplers.kde' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert hyperband.KDESampler is KDESampler


# --- mutation audit (issue 18): integers, categorical bandwidths, one call's random draws -----


def test_a_randint_optimum_is_the_most_common_model_draw() -> None:
    # A randint value is coded at the centre of its cell, so the model's draws around an
    # observed integer are centred on it (coded at the cell's left edge, they fall below).
    space = {"n": {"_type": "randint", "_value": [0, 20]}}
    sampler = _learned(space, lambda c: abs(c["n"] - 7), 60, random_fraction=0.0)
    assert sampler._encode({"n": 7}).tolist() == [7.5 / 20]
    counts = Counter(c["n"] for c in _draws(sampler, 200))
    assert counts.most_common(1)[0][0] == 7
    assert counts[7] > 2 * counts[6]


def test_a_categorical_bandwidth_never_exceeds_its_uniform_limit() -> None:
    # Aitchison-Aitken with c options is uniform at h = (c-1)/c; past it the kernel would
    # favour the *other* options. A large min_bandwidth is allowed, and is capped there.
    binary = {"b": {"_type": "choice", "_value": ["good", "bad"]}, "x": UNIFORM}
    sampler = KDESampler(binary, min_bandwidth=0.6, random_fraction=0.0)
    data = np.array([[0.0, 0.1], [0.0, 0.2], [1.0, 0.3], [0.0, 0.4]])
    bw = sampler._layout.bandwidths(data, 0.6)
    assert bw[0] == pytest.approx(0.5)
    # What a user sees: at h = 0.5 the good option is drawn about half of the time.
    for config in RandomSampler(binary).sample(np.random.default_rng(0), 40):
        sampler.observe(config, 1, 0.0 if config["b"] == "good" else 1.0)
    good = np.mean([c["b"] == "good" for c in _draws(sampler, 100)])
    assert good > 0.25  # 0.45 here; 0.0 if the bandwidth is not capped


def test_one_call_treats_its_own_random_draws_as_pending() -> None:
    # sample(rng, n) is documented as n draws each with the earlier ones pending, random ones
    # included: with a random_fraction, one call of 8 equals 8 calls of 1 fed the earlier draws.
    sampler = _learned(LINE, lambda c: (c["x"] - 0.2) ** 2, 60, random_fraction=0.5)
    batch = sampler.sample(np.random.default_rng(3), 8)
    rng = np.random.default_rng(3)
    one_by_one: list[dict[str, Any]] = []
    for _ in range(8):
        one_by_one += sampler.sample(rng, 1, pending=[(c, 1) for c in one_by_one])
    assert batch == one_by_one
