"""Hypothesis strategies and invariant checks for people who embed ``hyperband``.

Property-test your integration the way the library tests itself:

    from hypothesis import given
    from hyperband import schedule
    from hyperband.testing import check_schedule, schedule_params

    @given(schedule_params())
    def test_my_tuner_accepts_every_schedule(params):
        check_schedule(schedule(**params), **params)

This module needs ``hypothesis`` (the ``test`` extra); the core package does not.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from hyperband._strategies_space import search_spaces
from hyperband.core.schedule import Schedule

__all__ = ["check_schedule", "machine_params", "schedule_params", "search_spaces"]


@st.composite
def schedule_params(
    draw: st.DrawFn, *, max_ratio: float = 1000.0, min_eta: float = 1.5
) -> dict[str, Any]:
    """Keyword arguments for [`hyperband.schedule`][hyperband.schedule]: integer and real budgets
    and etas.

    Args:
        max_ratio: the largest ``max_budget / min_budget`` drawn (keeps schedules small).
        min_eta: the smallest ``eta`` drawn.

    Examples:
        >>> from hypothesis import find
        >>> from hyperband import schedule
        >>> params = find(schedule_params(), lambda p: p["sizing"] == "table")
        >>> check_schedule(schedule(**params), **params)
    """
    eta = draw(
        st.one_of(
            st.integers(max(2, math.ceil(min_eta)), 6),
            st.floats(min_eta, 6.0, allow_nan=False, allow_infinity=False),
        )
    )
    min_budget = draw(
        st.one_of(st.just(1), st.integers(1, 10), st.floats(0.01, 10.0, allow_nan=False))
    )
    ratio = draw(st.one_of(st.integers(1, int(max_ratio)), st.floats(1.0, max_ratio)))
    if isinstance(ratio, int) and isinstance(min_budget, int):
        max_budget: float = ratio * min_budget
    else:
        max_budget = float(ratio) * float(min_budget)
        if max_budget < min_budget:  # pragma: no cover - float rounding
            max_budget = float(min_budget)
    sizing = draw(st.sampled_from(["li2018", "table"]))
    return {"max_budget": max_budget, "eta": eta, "min_budget": min_budget, "sizing": sizing}


@st.composite
def machine_params(
    draw: st.DrawFn,
    *,
    max_budget: int = 27,
    exec_modes: tuple[str, ...] = ("parallelism", "serial"),
) -> dict[str, Any]:
    """Keyword arguments for [`hyperband.Hyperband`][hyperband.Hyperband] small enough to run to
    the end.

    ``exec_modes`` are the exec modes to draw from (add ``"asynchronous"`` to cover ASHA).

    Examples:
        >>> from hypothesis import find
        >>> params = find(machine_params(), lambda p: p["exec_mode"] == "serial")
        >>> params["exec_mode"], sorted(params)[:4]
        ('serial', ['eta', 'exec_mode', 'iterations', 'max_budget'])
    """
    eta = draw(st.sampled_from([2, 3, 4, 2.5]))
    return {
        "max_budget": draw(st.integers(1, max_budget)),
        "eta": eta,
        "min_budget": 1,
        "mode": draw(st.sampled_from(["maximize", "minimize"])),
        "exec_mode": draw(st.sampled_from(exec_modes)),
        "sizing": draw(st.sampled_from(["li2018", "table"])),
        "iterations": draw(st.integers(1, 2)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


def check_schedule(
    sched: Schedule,
    max_budget: float | None = None,
    eta: float | None = None,
    *,
    min_budget: float | None = None,
    sizing: str | None = None,
    integer_budgets: bool = False,
) -> None:
    """Assert every invariant of a Hyperband schedule; raise ``AssertionError`` if one fails.

    Checks: ``s_max`` is exact (``eta**s_max <= R < eta**(s_max+1)``); brackets run from
    ``s_max`` down to 0, bracket ``s`` has ``s + 1`` rungs; the first rung's size follows the
    sizing rule; ``n_i = floor(n_0 / eta**i)`` (at least 1) and never grows; budgets grow by
    ``eta`` per rung, start at ``>= min_budget`` and end at exactly ``max_budget``; integral
    budgets are ints; totals add up. Arguments given are checked against the schedule's own.
    """
    r_max, e, rmin = Fraction(sched.max_budget), Fraction(sched.eta), Fraction(sched.min_budget)
    for name, given, actual in (
        ("max_budget", max_budget, sched.max_budget),
        ("eta", eta, sched.eta),
        ("min_budget", min_budget, sched.min_budget),
        ("sizing", sizing, sched.sizing),
    ):
        assert given is None or given == actual, f"{name}: schedule has {actual!r}, not {given!r}"
    s_max = sched.s_max
    assert e**s_max <= r_max / rmin < e ** (s_max + 1), f"s_max={s_max} is not exact"
    assert [b.s for b in sched.brackets] == list(range(s_max, -1, -1)), "bracket order"
    jobs = 0
    budget = Fraction(0)
    for b in sched.brackets:
        s = b.s
        assert [r.index for r in b.rungs] == list(range(s + 1)), f"s={s}: rung indices"
        if sched.sizing == "li2018":
            n = math.ceil(Fraction(s_max + 1, s + 1) * e**s)
        else:
            n = math.floor((s_max + 1) // (s + 1) * e**s)
        for r in b.rungs:
            expected_n = max(1, math.floor(n / e**r.index))
            assert r.n_configs == expected_n, f"s={s} i={r.index}: n={r.n_configs}, not {n}"
            assert isinstance(r.n_configs, int)
            if isinstance(r.budget, float):
                assert not r.budget.is_integer(), f"s={s} i={r.index}: integral float budget"
            else:
                assert isinstance(r.budget, int), f"s={s} i={r.index}: budget type"
            exact = r_max * e ** (r.index - s)
            if r.index == s:
                assert Fraction(r.budget) == r_max, f"s={s}: last rung budget {r.budget} != {r_max}"
            elif integer_budgets:
                assert isinstance(r.budget, int)
                assert r.budget >= 1
                assert abs(Fraction(r.budget) - exact) <= Fraction(1, 2) or r.budget == 1
            else:
                assert math.isclose(float(r.budget), float(exact), rel_tol=1e-12)
                assert Fraction(r.budget) >= rmin * (1 - Fraction(1, 10**9))
            jobs += r.n_configs
            budget += r.n_configs * Fraction(r.budget)
        assert all(
            a.n_configs >= c.n_configs for a, c in zip(b.rungs, b.rungs[1:], strict=False)
        ), "n grows"
        assert all(a.budget <= c.budget for a, c in zip(b.rungs, b.rungs[1:], strict=False)), (
            "r shrinks"
        )
    assert sched.total_jobs == jobs
    assert math.isclose(float(sched.total_budget), float(budget), rel_tol=1e-9)
