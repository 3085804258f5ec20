"""The curve families and the forecast behind CurveRule (hyperband.core.curve_fit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperband.core.curve_fit import DEFAULT_FAMILIES, FAMILIES, Forecast, forecast

STEPS = np.arange(1.0, 11.0)


@pytest.mark.parametrize(
    ("c", "a", "alpha", "target"),
    [(0.2, 0.8, 0.5, 50), (1.0, 3.0, 1.3, 50), (0.05, 0.5, 0.2, 100), (-2.0, 1.0, 0.8, 30)],
)
def test_an_exact_power_law_is_recovered_within_one_percent(
    c: float, a: float, alpha: float, target: float
) -> None:
    fc = forecast(STEPS, c + a * STEPS**-alpha, target)
    truth = c + a * target**-alpha
    assert fc.median == pytest.approx(truth, rel=0.01)
    low, high = fc.interval(0.8)
    assert low <= fc.median <= high


@pytest.mark.parametrize(
    ("c", "a", "rate", "target"),
    [(0.1, 0.5, 0.3, 50), (0.1, 0.5, 0.05, 50), (0.3, 2.0, 0.15, 27), (5.0, 1.0, 0.5, 52)],
)
def test_an_exact_exponential_is_recovered_within_one_percent(
    c: float, a: float, rate: float, target: float
) -> None:
    fc = forecast(STEPS, c + a * np.exp(-rate * STEPS), target)
    assert fc.median == pytest.approx(c + a * math.exp(-rate * target), rel=0.01)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_basis_decreases_with_the_step(name: str) -> None:
    family = FAMILIES[name]
    u = np.geomspace(0.01, 100.0, 200)
    basis = family.basis(u, family.grid)
    assert np.all(np.isfinite(basis))
    assert np.all(np.diff(basis, axis=1) <= 1e-12)  # with a >= 0: the loss never rises


def test_a_rising_curve_is_forecast_flat_not_rising() -> None:
    losses = [0.1, 0.2, 0.3, 0.4, 0.5]
    fc = forecast([1, 2, 3, 4, 5], losses, 50)
    # Every fit that would rise is held flat at the mean: none extrapolates the rise.
    assert fc.median == pytest.approx(0.3, abs=1e-6)
    assert np.all(fc.means <= max(losses) + 1e-9)


def test_a_constant_curve_is_forecast_at_its_value_with_a_tiny_interval() -> None:
    fc = forecast([1, 2, 3, 4], [0.7] * 4, 100)
    assert fc.median == pytest.approx(0.7)
    low, high = fc.interval(0.8)
    assert 0 < high - low < 1e-4
    assert fc.cdf(0.69) < 0.01 < 0.99 < fc.cdf(0.71)


def test_a_noisy_curve_gives_a_finite_forecast_whose_interval_holds_the_truth() -> None:
    rng = np.random.default_rng(3)
    steps = np.arange(1.0, 21.0)
    losses = 0.2 + 0.6 * steps**-0.7 + rng.normal(0, 0.01, steps.size)
    fc = forecast(steps, losses, 80)
    low, high = fc.interval(0.8)
    assert low < 0.2 + 0.6 * 80**-0.7 < high
    assert high - low < 0.5  # calibrated on real curves, which are rougher than this one


def test_three_points_are_enough_and_the_later_report_at_a_step_counts() -> None:
    fc = forecast([1, 2, 3], [0.9, 0.6, 0.5], 9)
    assert np.isfinite(fc.median)
    assert fc.median <= 0.5 + 1e-6
    again = forecast([1, 2, 2, 3], [0.9, 5.0, 0.6, 0.5], 9)  # (2, 5.0) is replaced
    assert again.median == pytest.approx(fc.median)


@pytest.mark.parametrize("scale", [1e-300, 1e-9, 1.0, 1e9, 1e300])
def test_extreme_scales_give_no_nan(scale: float) -> None:
    losses = scale * (0.2 + 0.8 * STEPS**-0.5)
    fc = forecast(STEPS, losses, 50)
    values = [fc.median, *fc.interval(0.8), fc.cdf(losses[-1])]
    assert all(math.isfinite(v) for v in values)
    assert fc.median == pytest.approx(scale * (0.2 + 0.8 * 50**-0.5), rel=0.01)


def test_a_single_family_can_be_asked_for() -> None:
    for name in FAMILIES:
        fc = forecast(STEPS, 0.2 + 0.8 * STEPS**-0.5, 50, (name,))
        assert fc.weights.size == FAMILIES[name].grid.shape[0]
    assert forecast(STEPS, 0.2 + 0.8 * STEPS**-0.5, 50).weights.size == sum(
        FAMILIES[n].grid.shape[0] for n in DEFAULT_FAMILIES
    )


def test_the_mixture_quantile_inverts_its_cdf() -> None:
    fc = Forecast(np.array([0.0, 10.0]), np.array([1.0, 1.0]), np.array([0.5, 0.5]))
    assert fc.cdf(5.0) == pytest.approx(0.5, abs=1e-6)
    assert fc.median == pytest.approx(5.0, abs=1e-3)
    low, high = fc.interval(0.8)
    assert fc.cdf(low) == pytest.approx(0.1, abs=1e-6)
    assert fc.cdf(high) == pytest.approx(0.9, abs=1e-6)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@given(
    losses=st.lists(finite, min_size=3, max_size=30),
    gaps=st.lists(st.floats(0.01, 10.0), min_size=30, max_size=30),
    ahead=st.floats(1.0, 100.0),
)
def test_any_finite_curve_gives_a_finite_normalised_forecast(
    losses: list[float], gaps: list[float], ahead: float
) -> None:
    steps = np.cumsum(gaps[: len(losses)])
    fc = forecast(steps, losses, float(steps[-1] * ahead))
    assert np.all(np.isfinite(fc.means))
    assert np.all(np.isfinite(fc.sds))
    assert np.all(fc.sds > 0)
    assert fc.weights.sum() == pytest.approx(1.0)
    low, high = fc.interval(0.8)
    assert math.isfinite(low)
    assert low <= fc.median <= high
    assert fc.median <= max(losses) + 1e-6 * (1 + abs(max(losses)))
    assert 0.0 <= fc.cdf(low) <= fc.cdf(high) <= 1.0
