"""Bracket schedules: pure, exact arithmetic.

Everything is computed with ``fractions.Fraction``, so ``s_max`` is exact: the
familiar ``int(math.log(243) / math.log(3))`` is 4, not 5, and loses a bracket.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Literal

import attrs

from ._errors import ArgumentTypeError, ConfigurationError, describe

__all__ = ["SIZINGS", "Bracket", "Rung", "Schedule", "Sizing", "schedule"]

Sizing = Literal["li2018", "table"]
SIZINGS: tuple[str, ...] = ("li2018", "table")

Number = int | float


@attrs.frozen
class Rung:
    """One round of a bracket: ``n_configs`` jobs, each at ``budget``.

    Attributes:
        index: the rung's position ``i`` in its bracket (0 is the widest).
        n_configs: how many configurations the rung evaluates (``n_i``).
        budget: the budget of each of its jobs (``r_i``); an ``int`` when integral.
    """

    index: int
    n_configs: int
    budget: Number


@attrs.frozen
class Bracket:
    """One successive-halving run.

    Attributes:
        s: the bracket's index; it has ``s + 1`` rungs and starts at ``max_budget / eta**s``.
        rungs: its rungs, widest first; the last one's budget is ``max_budget``.
    """

    s: int
    rungs: tuple[Rung, ...]

    @property
    def n_jobs(self) -> int:
        """Jobs in the bracket when no job fails."""
        return sum(r.n_configs for r in self.rungs)

    @property
    def total_budget(self) -> Number:
        """Budget the bracket spends when no job fails and no job resumes a checkpoint."""
        return _plain(sum((r.n_configs * Fraction(r.budget) for r in self.rungs), Fraction(0)))


@attrs.frozen
class Schedule:
    """Every bracket of one Hyperband iteration, in the order they run (largest ``s`` first).

    Build it with [`schedule`][hyperband.schedule]. ``str(schedule)`` prints the bracket table.

    Attributes:
        max_budget: the budget of the last rung of every bracket (``R`` when ``min_budget=1``).
        eta: the halving rate.
        min_budget: the smallest budget a rung may get.
        sizing: ``"li2018"`` or ``"table"``.
        brackets: the brackets, ``s = s_max`` first.
    """

    max_budget: Number
    eta: Number
    min_budget: Number
    sizing: str
    brackets: tuple[Bracket, ...]

    @property
    def s_max(self) -> int:
        """The largest bracket index."""
        return self.brackets[0].s

    @property
    def total_jobs(self) -> int:
        """Jobs in one iteration when no job fails."""
        return sum(b.n_jobs for b in self.brackets)

    @property
    def total_budget(self) -> Number:
        """Budget one iteration spends when no job fails and no job resumes a checkpoint."""
        return _plain(sum((Fraction(b.total_budget) for b in self.brackets), Fraction(0)))

    def bracket(self, s: int) -> Bracket:
        """The bracket with index ``s``."""
        for b in self.brackets:
            if b.s == s:
                return b
        raise ConfigurationError(
            f"s must be one of the schedule's bracket indices 0..{self.s_max}, got {describe(s)}"
        )

    def __str__(self) -> str:
        return format_table(self)


def schedule(
    max_budget: float,
    eta: float = 3,
    *,
    min_budget: float = 1,
    sizing: str = "li2018",
    integer_budgets: bool = False,
) -> Schedule:
    """Compute the Hyperband bracket schedule.

    With ``R = max_budget / min_budget`` and ``s_max`` the largest integer with
    ``eta**s_max <= R`` (computed exactly), bracket ``s`` (from ``s_max`` down to 0) has
    rungs ``i = 0..s`` of ``n_i = floor(n / eta**i)`` configurations at budget
    ``max_budget * eta**(i - s)``, where ``n`` is

    - ``"li2018"`` (default; Algorithm 1 of Li et al. 2018, as NNI computes it):
      ``ceil((s_max + 1) / (s + 1) * eta**s)``;
    - ``"table"`` (the worked table of the paper and NNI's docs; HpBandSter, DEHB):
      ``floor((s_max + 1) / (s + 1)) * eta**s``.

    Args:
        max_budget: the largest budget (``R`` when ``min_budget`` is 1); ``> 0`` and finite.
        eta: the halving rate, any real ``> 1``.
        min_budget: the smallest budget a rung may get; ``0 < min_budget <= max_budget``.
        sizing: ``"li2018"`` or ``"table"``.
        integer_budgets: round non-integral budgets to the nearest int ``>= 1``
            (the last rung stays ``max_budget``).

    Returns:
        The [`Schedule`][hyperband.Schedule].

    Raises:
        ConfigurationError: an argument breaks one of the rules above.

    Examples:
        >>> s = schedule(81, 3)
        >>> [(r.n_configs, r.budget) for r in s.brackets[1].rungs]
        [(34, 3), (11, 9), (3, 27), (1, 81)]
        >>> s.total_jobs, s.total_budget
        (206, 1902)
    """
    r_max = _positive_number("max_budget", max_budget)
    r_min = _positive_number("min_budget", min_budget)
    if r_max < r_min:
        raise ConfigurationError(
            f"max_budget must be >= min_budget ({min_budget!r}), got {describe(max_budget)}"
        )
    e = _eta(eta)
    if sizing not in SIZINGS:
        raise ConfigurationError(
            f"sizing must be one of {', '.join(map(repr, SIZINGS))}, got {describe(sizing)}"
        )
    if not isinstance(integer_budgets, bool):
        raise ArgumentTypeError(f"integer_budgets must be a bool, got {describe(integer_budgets)}")

    if integer_budgets and r_max < 1:
        raise ConfigurationError(
            f"max_budget must be >= 1 when integer_budgets=True, got {describe(max_budget)}"
        )
    s_max = exact_s_max(r_max / r_min, e)
    brackets = []
    for s in range(s_max, -1, -1):
        if sizing == "li2018":
            n = math.ceil(Fraction(s_max + 1, s + 1) * e**s)
        else:
            n = math.floor((s_max + 1) // (s + 1) * e**s)
        rungs = []
        for i in range(s + 1):
            # A non-integral eta can floor a last rung of the "table" sizing to zero;
            # every rung keeps at least one configuration so every bracket reaches max_budget.
            n_i = max(1, math.floor(n / e**i))
            budget = r_max * e ** (i - s)
            if i == s:
                budget = r_max
            elif integer_budgets and budget.denominator != 1:
                budget = Fraction(max(1, math.floor(budget + Fraction(1, 2))))
            rungs.append(Rung(index=i, n_configs=n_i, budget=_plain(budget)))
        brackets.append(Bracket(s=s, rungs=tuple(rungs)))
    return Schedule(
        max_budget=_plain(r_max),
        eta=_plain(e),
        min_budget=_plain(r_min),
        sizing=sizing,
        brackets=tuple(brackets),
    )


def exact_s_max(ratio: Fraction, eta: Fraction) -> int:
    """The largest integer ``s`` with ``eta**s <= ratio``, exactly (``ratio >= 1``, ``eta > 1``)."""
    # Start from the float estimate and correct it exactly; the loop runs at most a step or two.
    s = max(0, int(math.log(ratio) / math.log(eta)))
    while s > 0 and eta**s > ratio:
        s -= 1
    while eta ** (s + 1) <= ratio:
        s += 1
    return s


def format_table(sched: Schedule) -> str:
    """Render the bracket table: one row per rung ``i``, one ``n r`` column pair per bracket."""
    cells = [
        [
            (str(b.rungs[i].n_configs), _fmt(b.rungs[i].budget)) if i < len(b.rungs) else ("", "")
            for b in sched.brackets
        ]
        for i in range(sched.s_max + 1)
    ]
    cols = range(len(sched.brackets))
    nw = [max(1, *(len(row[k][0]) for row in cells)) for k in cols]
    rw = [max(1, *(len(row[k][1]) for row in cells)) for k in cols]
    iw = len(str(sched.s_max))
    head = " " * iw + "".join(
        "  " + f"s={b.s}".center(nw[k] + 1 + rw[k]) for k, b in enumerate(sched.brackets)
    )
    sub = "i".rjust(iw) + "".join("  " + "n".rjust(nw[k]) + " " + "r".rjust(rw[k]) for k in cols)
    lines = [head.rstrip(), sub]
    for i, row in enumerate(cells):
        line = str(i).rjust(iw) + "".join(
            "  " + n.rjust(nw[k]) + " " + r.rjust(rw[k]) for k, (n, r) in enumerate(row)
        )
        lines.append(line.rstrip())
    return "\n".join(lines)


def _fmt(x: Number) -> str:
    if isinstance(x, int):
        return str(x)
    return f"{x:.4g}"


def _plain(x: Fraction) -> Number:
    """An int when integral (or when the nearest float is), else the nearest float."""
    if x.denominator == 1:
        return int(x)
    f = float(x)
    return int(f) if f.is_integer() else f


def _real(name: str, value: object) -> Fraction:
    # numbers.Real admits numpy scalars; bool is an int subclass but never a budget.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be a real number, got {describe(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise ConfigurationError(f"{name} must be finite, got {describe(value)}")
    return Fraction(int(value)) if isinstance(value, numbers.Integral) else Fraction(x)


def _positive_number(name: str, value: object) -> Fraction:
    x = _real(name, value)
    if x <= 0:
        raise ConfigurationError(f"{name} must be > 0, got {describe(value)}")
    return x


def _eta(value: object) -> Fraction:
    e = _real("eta", value)
    if e <= 1:
        raise ConfigurationError(f"eta must be > 1, got {describe(value)}")
    return e
