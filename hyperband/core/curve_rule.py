"""The curve rule: stop a job whose own extrapolated curve is unlikely to earn a promotion.

`CurveRule` fits monotone learning-curve families to the job's reports
(`hyperband.core.curve_fit`), forecasts its loss at its rung's budget, and stops it when the
probability of finishing among the values its rung would promote is below ``threshold``. It
reads only the `StopView`, uses no random numbers, and so replays exactly.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from hyperband.core.curve_fit import DEFAULT_FAMILIES, FAMILIES, Forecast, forecast
from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.stopping import StopView, _check_int

__all__ = ["CurveRule"]


def _check_threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(
            f"CurveRule: threshold must be a number in (0, 1), got {describe(value)}"
        )
    x = float(value)
    if not 0 < x < 1:
        raise ConfigurationError(f"CurveRule: threshold must be in (0, 1), got {describe(value)}")
    return x


def _check_families(value: object) -> tuple[str, ...]:
    known = ", ".join(map(repr, FAMILIES))
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ArgumentTypeError(
            f"CurveRule: families must be a list of names among {known}, got {describe(value)}"
        )
    names = tuple(value)
    bad = [name for name in names if not isinstance(name, str) or name not in FAMILIES]
    if bad or not names or len(set(names)) != len(names):
        raise ConfigurationError(
            f"CurveRule: families must be distinct names among {known} (at least one), got "
            f"{describe(value)}"
        )
    return names


class CurveRule:
    """Stops a job whose extrapolated learning curve makes a promotion unlikely.

    At each report of a job with at least ``min_reports`` distinct steps, the rule fits a
    mixture of monotone curve families (``families``: power law, exponential, log-power,
    Weibull) to the job's reports in its segment, and forecasts the job's loss at its budget.

    The job is compared with its rung's *values known now*: the latest loss of each running or
    succeeded peer on its rung (a succeeded peer's is its final result; stopped peers are
    never promoted, so they do not compete). With ``k`` the jobs the rung promotes (1 on a
    bracket's last rung: the job must beat the rung's best), the job goes on, unjudged,

    - while fewer than ``max(k, min_peers)`` peers have values, or
    - while it would be promoted on the values known now: fewer than ``k`` peers are ahead of
      its latest loss (ties to the lower config id, as promotions break them).

    Otherwise it is stopped when the forecast gives a probability below ``threshold`` that its
    loss at its budget beats the ``k``-th best peer value (the edge of the promotion set).
    Running peers are counted at their latest loss, which they can still improve on, so the
    edge is a lenient one: the rule errs towards letting a job go on.

    Args:
        threshold: stop when the probability of reaching the promotion set is below this.
        min_reports: the fewest distinct report steps before a job is judged (>= 3: the fit
            has two linear parameters and needs a residual).
        min_peers: the fewest peers with values before any job is judged (besides ``k``).
        families: the curve families of the mixture (names of
            ``hyperband.core.curve_fit.FAMILIES``).

    The defaults (``threshold=0.2, min_reports=3, min_peers=1``) were chosen on the ten
    LCBench development tasks (``benchmarks/bench_stopping_lcbench.py``): with 4 workers they
    reached the middle regret target in 0.65-0.93x the time of no stopping, against 0.86-0.97x
    for the first defaults (0.05, 4, 3), at no loss of final regret on any task.

    Examples:
        >>> import hyperband
        >>> rule = hyperband.CurveRule(threshold=0.1)
        >>> rule.options["threshold"], rule.options["min_reports"]
        (0.1, 3)
        >>> hb = hyperband.Hyperband({"x": {"_type": "uniform", "_value": [0, 1]}},
        ...                          max_budget=9, early_stop="curve", seed=0)
        >>> type(hb.early_stop).__name__
        'CurveRule'
    """

    name = "curve"

    def __init__(
        self,
        *,
        threshold: float = 0.2,
        min_reports: int = 3,
        min_peers: int = 1,
        families: Sequence[str] = DEFAULT_FAMILIES,
    ) -> None:
        self.threshold = _check_threshold(threshold)
        self.min_reports = _check_int("CurveRule", "min_reports", min_reports, 3)
        self.min_peers = _check_int("CurveRule", "min_peers", min_peers, 1)
        self.families = _check_families(families)

    @property
    def options(self) -> dict[str, Any]:
        """The constructor's keyword arguments (JSON)."""
        return {
            "threshold": self.threshold,
            "min_reports": self.min_reports,
            "min_peers": self.min_peers,
            "families": list(self.families),
        }

    def __repr__(self) -> str:
        return (
            f"CurveRule(threshold={self.threshold}, min_reports={self.min_reports}, "
            f"min_peers={self.min_peers}, families={list(self.families)})"
        )

    def should_stop(self, view: StopView) -> bool:
        """True when the job's forecast reaches its rung's promotion set with probability
        below ``threshold``."""
        judged = self.judge(view)
        return judged is not None and judged[2] < self.threshold

    def explain(self, view: StopView) -> dict[str, Any]:
        """Why the job is stopped, as the machine keeps it (``Result.extra["stop"]``) and
        ``run()`` journals it: the forecast at the job's budget (its median and central 80%
        interval), the edge of the promotion set, all as losses (lower is better: ``-value``
        when maximizing), and the probability of beating the edge. ``{}`` if not judged."""
        judged = self.judge(view)
        if judged is None:
            return {}
        prediction, edge, p = judged
        low, high = prediction.interval(0.8)
        return {
            "rule": self.name,
            "budget": view.job.budget,
            "median_loss": prediction.median,
            "interval_loss": [low, high],
            "edge_loss": edge,
            "probability": p,
        }

    def judge(self, view: StopView) -> tuple[Forecast, float, float] | None:
        """The forecast of the job's loss at its budget, the edge of the promotion set and the
        probability of beating it; ``None`` while the job is not judged (see the class).

        Examples:
            >>> import hyperband
            >>> from hyperband.core.stopping import Peer, StopView
            >>> job = hyperband.Job(0, {}, 0, 27, 3, 0, 0)
            >>> curve = tuple((s, 1.0 - 0.01 * s) for s in range(1, 6))  # slow: 0.95
            >>> peers = tuple(Peer(i, "succeeded", ((27, 0.2),)) for i in (1, 2, 3))
            >>> view = StopView(job, 5, 0.95, curve, 1, 9, 3.0, rung_peers=lambda: peers,
            ...                 segment_peers=lambda: ())
            >>> fc, edge, p = hyperband.CurveRule().judge(view)
            >>> edge, p < 0.05
            (0.2, True)
        """
        job = view.job
        if view.step >= job.budget:
            return None
        steps = [step for step, _ in view.curve]
        if len(set(steps)) < self.min_reports:
            return None
        k = view.k if view.k > 0 else 1
        values = sorted(
            (peer.curve[-1][1], peer.config_id)
            for peer in view.rung_peers()
            if peer.status != "stopped" and peer.curve
        )
        if len(values) < max(k, self.min_peers):
            return None
        # Promotable now: fewer than k peers ahead of the job's latest loss.
        if values[k - 1] > (view.loss, job.config_id):
            return None
        edge = values[k - 1][0]
        prediction = forecast(steps, [loss for _, loss in view.curve], job.budget, self.families)
        return prediction, edge, prediction.cdf(edge)
