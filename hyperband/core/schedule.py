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

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe

__all__ = ["DEFAULT_MAX_JOBS", "SIZINGS", "Bracket", "Rung", "Schedule", "Sizing", "schedule"]

Sizing = Literal["li2018", "table"]
SIZINGS: tuple[str, ...] = ("li2018", "table")

#: The largest schedule ``schedule`` builds unless told otherwise (jobs per iteration). A
#: bigger one is almost always a slip (a budget in the wrong unit, an eta close to 1) that
#: would exhaust memory or run for ever; ``max_jobs`` lets a user who means it go past.
DEFAULT_MAX_JOBS = 1_000_000

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
    max_jobs: int | None = DEFAULT_MAX_JOBS,
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
        max_jobs: refuse a schedule of more jobs than this per iteration (default
            ``DEFAULT_MAX_JOBS``, a million); ``None`` for no bound. The size is checked
            before anything big is computed, so ``max_budget=1e308`` or ``eta=1.0001`` fail
            at once instead of exhausting memory.

    Returns:
        The [`Schedule`][hyperband.Schedule].

    Raises:
        ConfigurationError: an argument breaks one of the rules above, or the schedule has
            more than ``max_jobs`` jobs.

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
    limit = _max_jobs(max_jobs)
    if limit is not None:
        _check_size_estimate(r_max / r_min, e, limit, (max_budget, eta, min_budget))
    s_max = exact_s_max(r_max / r_min, e)
    counts = _rung_sizes(s_max, e, sizing)
    total = 0
    for k, sizes in enumerate(counts):
        total += sum(sizes)
        if limit is not None and total > limit:
            more = "" if k == len(counts) - 1 else "at least "
            raise _too_big((max_budget, eta, min_budget), s_max + 1, f"{more}{total}", limit)
    # Every budget is max_budget / eta**k for k = s - i: one exact division per k.
    budgets: list[Number] = []
    for k in range(s_max + 1):
        budget = r_max / e**k
        if k and integer_budgets and budget.denominator != 1:
            budget = Fraction(max(1, math.floor(budget + Fraction(1, 2))))
        budgets.append(_plain(budget))
    brackets = [
        Bracket(
            s=s,
            rungs=tuple(
                Rung(index=i, n_configs=n_i, budget=budgets[s - i]) for i, n_i in enumerate(sizes)
            ),
        )
        for s, sizes in zip(range(s_max, -1, -1), counts, strict=True)
    ]
    return Schedule(
        max_budget=_plain(r_max),
        eta=_plain(e),
        min_budget=_plain(r_min),
        sizing=sizing,
        brackets=tuple(brackets),
    )


def _max_jobs(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"max_jobs must be an int or None, got {describe(value)}")
    if value < 1:
        raise ConfigurationError(f"max_jobs must be >= 1 (or None), got {describe(value)}")
    return int(value)


def _rung_sizes(s_max: int, eta: Fraction, sizing: str) -> list[list[int]]:
    """``n_i`` of every rung, brackets ``s = s_max`` first, in integer arithmetic.

    With ``eta = p / q``, ``n / eta**i`` is ``n * q**i / p**i``: integer products and floor
    divisions, fast even for the long schedules of an eta close to 1.
    """
    p, q = eta.numerator, eta.denominator
    ppow, qpow = [1], [1]
    for _ in range(s_max):
        ppow.append(ppow[-1] * p)
        qpow.append(qpow[-1] * q)
    out = []
    for s in range(s_max, -1, -1):
        if sizing == "li2018":
            n = -(-(s_max + 1) * ppow[s] // ((s + 1) * qpow[s]))  # ceil
        else:
            n = (s_max + 1) // (s + 1) * ppow[s] // qpow[s]
        # A non-integral eta can floor a last rung of the "table" sizing to zero; every rung
        # keeps at least one configuration so every bracket reaches max_budget.
        out.append([max(1, n * qpow[i] // ppow[i]) for i in range(s + 1)])
    return out


def _check_size_estimate(
    ratio: Fraction, eta: Fraction, max_jobs: int, given: tuple[object, object, object]
) -> None:
    """Refuse at once a schedule far over ``max_jobs``, before any exact arithmetic.

    Exact powers of an eta close to 1 grow to millions of digits; two lower bounds in floats
    catch those schedules first: every rung has a job, and the widest rung of the largest
    bracket has about ``max_budget / min_budget`` of them.
    """
    log_ratio = math.log(ratio.numerator) - math.log(ratio.denominator)
    log_eta = math.log(eta.numerator) - math.log(eta.denominator)
    s_est = log_ratio / log_eta
    s_low = max(0, math.floor(s_est * (1 - 1e-9)) - 1)  # surely <= s_max despite rounding
    rungs = (s_low + 1) * (s_low + 2) // 2
    log_first = log_ratio - log_eta  # eta**s_max > ratio / eta configurations
    if rungs > max_jobs or log_first > math.log(max_jobs + 1):
        jobs = max(float(rungs), math.exp(min(log_first, 700.0)))
        if log_first > 700:
            text = f"more than 10^{int(log_first / math.log(10))}"
        else:
            text = f"at least {jobs:.3g}"
        raise _too_big(given, f"about {math.floor(s_est) + 1}", text, max_jobs)


def _too_big(
    given: tuple[object, object, object], brackets: object, jobs: str, max_jobs: int
) -> ConfigurationError:
    max_budget, eta, min_budget = (_short(x) for x in given)
    return ConfigurationError(
        f"max_jobs: max_budget={max_budget}, eta={eta}, min_budget={min_budget} make a "
        f"schedule of {brackets} brackets and {jobs} jobs per iteration, more than "
        f"max_jobs={max_jobs}, a bound against slips; raise min_budget or eta (max_budget / "
        "min_budget sets how many brackets there are and how wide the first one is), or, to "
        "build it on purpose, pass a larger max_jobs (None: no bound) to hyperband.schedule(), "
        "or --max-jobs N to `hyperband schedule`"
    )


def _short(x: object) -> str:
    """``repr(x)``, but a 309-digit int (``--max-budget 1e308``) in scientific notation."""
    if isinstance(x, numbers.Integral) and abs(int(x)) >= 10**15:
        return f"{float(x):.6g}"
    return repr(x)


def degenerate(sched: Schedule) -> str | None:
    """Why ``sched`` is not really Hyperband (one bracket, no halving), or ``None``."""
    if sched.s_max > 0:
        return None
    n = sched.total_jobs
    return (
        f"max_budget / min_budget = {float(sched.max_budget) / float(sched.min_budget):g}"
        f" is less than eta = {sched.eta:g}: the schedule is one bracket of {n} "
        f"job{'s' if n != 1 else ''} at budget {sched.max_budget:g}, without successive halving;"
        " lower min_budget or eta to get brackets that stop bad configurations early"
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
