from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperband
from hyperband import ConfigurationError, schedule
from hyperband.testing import check_schedule, schedule_params


def table(sched: hyperband.Schedule) -> dict[int, list[tuple[int, int | float]]]:
    return {b.s: [(r.n_configs, r.budget) for r in b.rungs] for b in sched.brackets}


def test_r81_li2018_matches_the_paper() -> None:
    sched = schedule(81, 3)
    assert table(sched) == {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(34, 3), (11, 9), (3, 27), (1, 81)],
        2: [(15, 9), (5, 27), (1, 81)],
        1: [(8, 27), (2, 81)],
        0: [(5, 81)],
    }
    assert sched.total_jobs == 206
    assert sched.total_budget == 1902
    assert [b.s for b in sched.brackets] == [4, 3, 2, 1, 0]


def test_r81_table_sizing_matches_the_nni_docs() -> None:
    sched = schedule(81, 3, sizing="table")
    assert table(sched) == {
        4: [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        3: [(27, 3), (9, 9), (3, 27), (1, 81)],
        2: [(9, 9), (3, 27), (1, 81)],
        1: [(6, 27), (2, 81)],
        0: [(5, 81)],
    }


def test_str_prints_the_nni_worked_table() -> None:
    text = str(schedule(81, 3, sizing="table"))
    assert text.splitlines() == [
        "    s=4    s=3   s=2   s=1   s=0",
        "i   n  r   n  r  n  r  n  r  n  r",
        "0  81  1  27  3  9  9  6 27  5 81",
        "1  27  3   9  9  3 27  2 81",
        "2   9  9   3 27  1 81",
        "3   3 27   1 81",
        "4   1 81",
    ]


def test_r243_has_six_brackets() -> None:
    # math.log(243, 3) is 4.999...; flooring it loses the s=5 bracket.
    assert math.floor(math.log(243, 3)) == 4
    sched = schedule(243, 3)
    assert sched.s_max == 5
    assert len(sched.brackets) == 6
    assert table(sched)[5] == [(243, 1), (81, 3), (27, 9), (9, 27), (3, 81), (1, 243)]
    check_schedule(sched, 243, 3)


@pytest.mark.parametrize("power", range(1, 13))
@pytest.mark.parametrize("eta", [2, 3, 4, 5, 10])
def test_exact_powers_never_lose_a_bracket(power: int, eta: int) -> None:
    # Up to 10**12 jobs an iteration: past the default bound, on purpose.
    sched = schedule(eta**power, eta, max_jobs=None)
    assert sched.s_max == power
    assert schedule(eta**power - 1, eta, max_jobs=None).s_max == power - 1


def test_min_budget_scales_the_schedule() -> None:
    sched = schedule(810, 3, min_budget=10)
    assert table(sched)[4] == [(81, 10), (27, 30), (9, 90), (3, 270), (1, 810)]


def test_real_budgets_and_eta() -> None:
    sched = schedule(100, 3.5, min_budget=0.7)
    check_schedule(sched, 100, 3.5, min_budget=0.7)
    assert sched.s_max == 3  # 3.5**3 = 42.875 <= 142.86 < 150.06
    assert isinstance(sched.brackets[0].rungs[0].budget, float)
    assert sched.brackets[0].rungs[-1].budget == 100
    assert isinstance(sched.brackets[0].rungs[-1].budget, int)


def test_integral_float_budgets_become_ints() -> None:
    sched = schedule(81.0, 3.0, min_budget=1.0)
    assert all(isinstance(r.budget, int) for b in sched.brackets for r in b.rungs)
    assert table(sched) == table(schedule(81, 3))


def test_integer_budgets_rounds_and_keeps_max() -> None:
    sched = schedule(10, 2.5, integer_budgets=True)
    assert table(sched) == {2: [(7, 2), (2, 4), (1, 10)], 1: [(4, 4), (1, 10)], 0: [(3, 10)]}
    check_schedule(sched, integer_budgets=True)


def test_max_equal_min_is_one_bracket() -> None:
    sched = schedule(5, 3, min_budget=5)
    assert table(sched) == {0: [(1, 5)]}


def test_bracket_lookup() -> None:
    sched = schedule(81, 3)
    assert sched.bracket(2).rungs[0].n_configs == 15
    with pytest.raises(ConfigurationError, match="s must be one of"):
        sched.bracket(7)


def test_schedule_values_are_frozen() -> None:
    sched = schedule(9, 3)
    with pytest.raises(AttributeError):
        sched.eta = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"max_budget": 81, "eta": 1}, ConfigurationError, ["eta", "> 1", "1 (int)"]),
        ({"max_budget": 81, "eta": 0.5}, ConfigurationError, ["eta", "> 1", "0.5"]),
        ({"max_budget": 81, "eta": math.nan}, ConfigurationError, ["eta", "finite", "nan"]),
        ({"max_budget": 81, "eta": "3"}, TypeError, ["eta", "real number", "'3' (str)"]),
        ({"max_budget": 81, "eta": True}, TypeError, ["eta", "real number", "True"]),
        ({"max_budget": 0}, ConfigurationError, ["max_budget", "> 0", "0 (int)"]),
        ({"max_budget": -3}, ConfigurationError, ["max_budget", "> 0", "-3"]),
        ({"max_budget": math.inf}, ConfigurationError, ["max_budget", "finite", "inf"]),
        ({"max_budget": None}, TypeError, ["max_budget", "None"]),
        ({"max_budget": 5, "min_budget": 6}, ConfigurationError, ["max_budget", ">= min_budget"]),
        ({"max_budget": 5, "min_budget": 0}, ConfigurationError, ["min_budget", "> 0"]),
        ({"max_budget": 5, "sizing": "nni"}, ConfigurationError, ["sizing", "li2018", "'nni'"]),
        ({"max_budget": 5, "integer_budgets": 1}, TypeError, ["integer_budgets", "bool"]),
        (
            {"max_budget": 0.5, "min_budget": 0.1, "integer_budgets": True},
            ConfigurationError,
            ["max_budget", ">= 1 when integer_budgets=True", "0.5"],
        ),
    ],
)
def test_bad_arguments_name_argument_rule_and_value(
    kwargs: dict[str, object], exc: type[Exception], words: list[str]
) -> None:
    with pytest.raises(exc) as info:
        schedule(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, hyperband.HyperbandError)
    for word in words:
        assert word in str(info.value)


@given(schedule_params())
def test_every_schedule_satisfies_the_invariants(params: dict[str, object]) -> None:
    check_schedule(schedule(**params), **params)  # type: ignore[arg-type]


@given(schedule_params(), st.booleans())
def test_integer_budgets_invariants(params: dict[str, object], integer: bool) -> None:
    if integer and params["max_budget"] < 1:  # type: ignore[operator]
        params = {**params, "max_budget": 1, "min_budget": min(1, params["min_budget"])}  # type: ignore[type-var]
    sched = schedule(**params, integer_budgets=integer)  # type: ignore[arg-type]
    check_schedule(sched, integer_budgets=integer)
    if integer:
        # Every budget is an int, except a non-integral max_budget, which the last rungs keep.
        assert all(isinstance(r.budget, int) for b in sched.brackets for r in b.rungs[:-1])


@given(st.integers(2, 6), st.integers(0, 8))
def test_s_max_is_exact_for_integer_powers(eta: int, power: int) -> None:
    assert schedule(eta**power, eta, max_jobs=None).s_max == power


@given(schedule_params())
def test_li2018_never_smaller_than_table(params: dict[str, object]) -> None:
    li = schedule(**{**params, "sizing": "li2018"})  # type: ignore[arg-type]
    tb = schedule(**{**params, "sizing": "table"})  # type: ignore[arg-type]
    for a, b in zip(li.brackets, tb.brackets, strict=True):
        assert a.rungs[0].n_configs >= b.rungs[0].n_configs


def test_check_schedule_catches_a_wrong_schedule() -> None:
    good = schedule(81, 3)
    b = good.brackets[1]
    bad_rung = hyperband.Rung(index=0, n_configs=33, budget=3)
    bad = hyperband.Schedule(
        max_budget=81,
        eta=3,
        min_budget=1,
        sizing="li2018",
        brackets=(
            good.brackets[0],
            hyperband.Bracket(s=3, rungs=(bad_rung, *b.rungs[1:])),
            *good.brackets[2:],
        ),
    )
    with pytest.raises(AssertionError, match="s=3 i=0"):
        check_schedule(bad)
    assert Fraction(good.total_budget) == 1902


# ---------------------------------------------------------------------- size bound


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((1e308, 3), ["about 646 brackets", "more than 10^307 jobs", "max_budget=1e+308"]),
        ((10**308, 3), ["about 646 brackets", "max_budget=1e+308"]),
        ((1e9, 3), ["about 19 brackets", "at least 3.33e+08 jobs"]),
        ((81, 1.0001), ["about 43947 brackets", "eta=1.0001"]),
        ((81, 1.000001), ["about 4394452 brackets"]),
        ((531441, 3), ["13 brackets and at least 1085021 jobs"]),
        ((81, 1.01), ["442 brackets and at least 1000381 jobs"]),
    ],
)
def test_a_huge_schedule_is_refused_at_once(args: tuple[float, float], words: list[str]) -> None:
    """These used to print 108 MB, run out of memory, or hang; pytest-timeout guards the time."""
    with pytest.raises(ConfigurationError) as info:
        schedule(*args)
    message = str(info.value)
    assert message.startswith("max_jobs: ")
    for word in [*words, "more than max_jobs=1000000", "pass a larger max_jobs (None: no bound)"]:
        assert word in message
    assert "--max-jobs N" in message


def test_max_jobs_is_exact_and_can_be_raised_or_lifted() -> None:
    assert schedule(81, 3, max_jobs=206).total_jobs == 206
    with pytest.raises(ConfigurationError, match=r"5 brackets and 206 jobs per iteration"):
        schedule(81, 3, max_jobs=205)
    assert schedule(531441, 3, max_jobs=1_250_962).total_jobs == 1_250_962
    assert schedule(531441, 3, max_jobs=None).total_jobs == 1_250_962
    for bad, exc in [(0, ConfigurationError), (-1, ConfigurationError), (2.5, TypeError)]:
        with pytest.raises(exc, match=r"max_jobs must be"):
            schedule(81, 3, max_jobs=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"max_jobs must be an int or None, got True"):
        schedule(81, 3, max_jobs=True)


def test_the_machine_inherits_the_bound() -> None:
    with pytest.raises(ConfigurationError, match=r"more than max_jobs=1000000"):
        hyperband.Hyperband({"x": {"_type": "uniform", "_value": [0, 1]}}, max_budget=1e9)


def test_degenerate_names_a_one_bracket_schedule() -> None:
    from hyperband.core.schedule import degenerate

    assert degenerate(schedule(81, 3)) is None
    assert degenerate(schedule(3, 3)) is None
    reason = degenerate(schedule(1.5, 3))
    assert reason is not None
    assert reason.startswith("max_budget / min_budget = 1.5 is less than eta = 3: ")
    assert "one bracket of 1 job at budget 1.5" in reason
    assert "= 2 is less than eta = 3" in (degenerate(schedule(10, 3, min_budget=5)) or "")
