"""hyperband.core.trust: rank concordance between budgets and MFES-HB's weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperband.core.errors import ArgumentTypeError, ConfigurationError
from hyperband.core.trust import concordance, trust_weights

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.lists(st.tuples(finite, finite), min_size=2, max_size=30))
def test_concordance_is_a_fraction_and_reversing_the_scores_mirrors_it(
    pairs: list[tuple[float, float]],
) -> None:
    scores, targets = zip(*pairs, strict=True)
    c = concordance(scores, targets)
    if len(set(targets)) == 1:
        assert c is None
        return
    assert c is not None
    assert 0.0 <= c <= 1.0
    mirrored = concordance([-s for s in scores], targets)
    assert mirrored is not None
    assert math.isclose(c + mirrored, 1.0)


def test_concordance_counts_order_preserving_pairs() -> None:
    # pairs (0,1) agree, (0,2) agree, (1,2) disagree: 2 of 3
    assert concordance([1, 2, 1.5], [1, 2, 3]) == pytest.approx(2 / 3)
    assert concordance([5, 5, 5], [1, 2, 3]) == 0.5  # a constant model ranks at random
    assert concordance([1, 2], [7, 7]) is None  # tied targets say nothing


def test_concordance_rejects_mismatched_or_nan_input() -> None:
    with pytest.raises(ConfigurationError, match="one length"):
        concordance([1, 2], [1, 2, 3])
    with pytest.raises(ConfigurationError, match="NaN"):
        concordance([1, math.nan], [1, 2])


@given(st.dictionaries(st.integers(1, 100), st.floats(0, 1), min_size=1, max_size=8))
def test_weights_lie_in_0_1_and_sum_to_1(p: dict[int, float]) -> None:
    w = trust_weights(p)
    assert list(w) == list(p)
    assert all(0.0 <= v <= 1.0 for v in w.values())
    assert math.isclose(sum(w.values()), 1.0)


@given(st.floats(0.01, 1), st.floats(0.01, 1))
def test_a_better_ranking_budget_never_weighs_less(a: float, b: float) -> None:
    w = trust_weights({1: a, 2: b})
    assert (w[1] >= w[2]) == (a >= b) or math.isclose(w[1], w[2])


def test_a_budget_anticorrelated_with_the_top_ends_with_a_weight_near_0() -> None:
    rng = np.random.default_rng(0)
    top = rng.random(40)
    good = top + 0.05 * rng.standard_normal(40)
    backwards = -top + 0.05 * rng.standard_normal(40)
    p = {3: concordance(good, top), 1: concordance(backwards, top)}
    assert p[1] is not None
    assert p[3] is not None
    w = trust_weights({b: v for b, v in p.items() if v is not None})
    assert w[1] < 0.01 < 0.99 < w[3]


def test_weights_follow_p_cubed_and_fall_back_to_equal() -> None:
    assert trust_weights({1: 0.5, 9: 1.0}) == pytest.approx({1: 1 / 9, 9: 8 / 9})
    assert trust_weights({1: 0.0, 9: 0.0}) == {1: 0.5, 9: 0.5}
    assert trust_weights({}) == {}
    assert trust_weights({1: 0.5, 9: 1.0}, power=1) == pytest.approx({1: 1 / 3, 9: 2 / 3})


def test_bad_weights_arguments_name_the_rule() -> None:
    with pytest.raises(ConfigurationError, match=r"budget 9 must be in \[0, 1\], got 1.5"):
        trust_weights({9: 1.5})
    with pytest.raises(ConfigurationError, match="power must be > 0, got 0"):
        trust_weights({9: 0.5}, power=0)
    with pytest.raises(ArgumentTypeError, match="power must be a number"):
        trust_weights({9: 0.5}, power="3")  # type: ignore[arg-type]
