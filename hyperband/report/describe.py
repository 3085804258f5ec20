"""Words for a study's parts, shared by the text and HTML reports: its sampler and stopping rule
with their options, and why the rule stopped a job (with the forecast behind it, when the rule
gives one: `hyperband.CurveRule` keeps it in the job's ``extra["stop"]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from hyperband.drivers.records import jsonable

__all__ = [
    "Prediction",
    "options_text",
    "prediction",
    "rule_text",
    "sampler_text",
    "short",
    "stop_text",
]


def short(value: Any) -> str:
    """A value in a line of text: floats to 6 significant digits, strings as they are,
    anything else as compact JSON."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=jsonable)


def options_text(options: Any) -> str:
    """``" (name=value, ...)"`` for a dict of options, ``""`` for none."""
    if not isinstance(options, Mapping) or not options:
        return ""
    return " (" + ", ".join(f"{k}={short(v)}" for k, v in options.items()) + ")"


def sampler_text(spec: Any, sampler: str = "") -> str:
    """The sampler from the journal's ``sampler_spec`` (its name and options), else the last
    part of its class name ``sampler``.

    Examples:
        >>> sampler_text({"name": "kde", "options": {"random_fraction": 0.2}})
        'kde (random_fraction=0.2)'
        >>> sampler_text(None, "my.module.MySampler")
        'MySampler'
    """
    spec = spec if isinstance(spec, Mapping) else {}
    name = str(spec.get("name") or sampler.rsplit(".", 1)[-1] or "unknown")
    return name + options_text(spec.get("options"))


def rule_text(early_stop: Any) -> str:
    """The stopping rule from the study's ``early_stop`` parameter (a named rule's spec).

    Examples:
        >>> rule_text({"name": "rung", "options": {"min_peers": 1}})
        'rung (min_peers=1)'
        >>> rule_text(None)
        'none'
    """
    if isinstance(early_stop, Mapping):
        return f"{early_stop.get('name')}{options_text(early_stop.get('options'))}"
    return "none" if early_stop is None else str(early_stop)


class Prediction(NamedTuple):
    """The forecast that stopped a job, in the study's values (not losses).

    Attributes:
        budget: the budget it forecasts the job's value at (its rung's).
        median: the forecast's median.
        low: the lower end of its central 80% interval (the smaller value).
        high: the upper end.
        edge: the promotion cut: the value the job had to beat (the rung's ``k``-th best).
        probability: the forecast's probability of beating it.
    """

    budget: float
    median: float
    low: float
    high: float
    edge: float
    probability: float


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def prediction(extra: Mapping[str, Any], *, maximize: bool) -> Prediction | None:
    """The forecast in a stopped job's ``extra["stop"]`` (as `hyperband.CurveRule` explains
    its stops, in losses), turned into the study's values; ``None`` if there is none.

    Examples:
        >>> why = {"rule": "curve", "budget": 27, "median_loss": -0.41,
        ...        "interval_loss": [-0.48, -0.35], "edge_loss": -0.6, "probability": 0.03}
        >>> prediction({"stop": why}, maximize=True)
        Prediction(budget=27.0, median=0.41, low=0.35, high=0.48, edge=0.6, probability=0.03)
    """
    why = extra.get("stop")
    if not isinstance(why, Mapping):
        return None
    interval = why.get("interval_loss")
    pair = interval if isinstance(interval, list | tuple) and len(interval) == 2 else (None, None)
    keys = ("budget", "median_loss", "edge_loss", "probability")
    numbers = [_number(why.get(k)) for k in keys] + [_number(x) for x in pair]
    if any(x is None for x in numbers):
        return None
    budget, median, edge, p, a, b = (x for x in numbers if x is not None)
    sign = -1.0 if maximize else 1.0  # a loss is -value when maximizing
    low, high = sorted((sign * a, sign * b))
    return Prediction(budget, sign * median, low, high, sign * edge, p)


def stop_text(extra: Mapping[str, Any], *, maximize: bool, early_stop: Any = None) -> str | None:
    """Why a stopped job was stopped, in one line; ``None`` for a job not stopped (no
    ``"stopped_at"`` in its ``extra``).

    With a forecast (`prediction`): the predicted value and 80% interval at the job's budget,
    and the probability of beating the promotion cut against the rule's threshold (from the
    study's ``early_stop`` spec, when it names one). Without one (the median and rung rules
    compare values, they do not forecast): the rule and the step.

    Examples:
        >>> why = {"rule": "curve", "budget": 27, "median_loss": -0.41,
        ...        "interval_loss": [-0.48, -0.35], "edge_loss": -0.6, "probability": 0.03}
        >>> spec = {"name": "curve", "options": {"threshold": 0.2}}
        >>> text = stop_text({"stopped_at": 9, "stop": why}, maximize=True, early_stop=spec)
        >>> for part in text.split("; "):
        ...     print(part)
        stopped at step 9 by the curve rule: predicted 0.41 (80%: 0.35 to 0.48) at budget 27
        P(beating the promotion cut 0.6) = 0.03 < threshold 0.2
        >>> stop_text({"stopped_at": 2.5}, maximize=True, early_stop={"name": "rung"})
        'stopped at step 2.5 by the rung rule'
    """
    if "stopped_at" not in extra:
        return None
    step = short(extra["stopped_at"])
    spec = early_stop if isinstance(early_stop, Mapping) else {}
    why = extra.get("stop")
    name = why.get("rule") if isinstance(why, Mapping) else None
    name = str(name or spec.get("name") or "stopping")
    forecast = prediction(extra, maximize=maximize)
    if forecast is None:
        detail = _compared(why, -1.0 if maximize else 1.0) if isinstance(why, Mapping) else None
        if detail is None and isinstance(why, Mapping) and why:
            detail = ", ".join(f"{k}={short(v)}" for k, v in why.items() if k != "rule")
        return f"stopped at step {step} by the {name} rule" + (f": {detail}" if detail else "")
    options = spec.get("options")
    threshold = options.get("threshold") if isinstance(options, Mapping) else None
    against = "" if _number(threshold) is None else f" < threshold {threshold:g}"
    f = forecast
    return (
        f"stopped at step {step} by the {name} rule: predicted {f.median:.3g} (80%: {f.low:.3g} to "
        f"{f.high:.3g}) at budget {f.budget:g}; P(beating the promotion cut {f.edge:.3g}) = "
        f"{f.probability:.2g}{against}"
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _compared(why: Mapping[str, Any], sign: float) -> str | None:
    """The median and rung rules' explanations (they compare values at the job's step, in
    losses; ``sign`` turns a loss into the study's value), or ``None`` for another shape."""
    k, ahead, seen = (why.get(key) for key in ("k", "ahead", "rung_peers"))
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (k, ahead, seen)):
        return None
    rung = f"{ahead} of {seen} rung peers ahead at this step (the rung promotes {k})"
    if why.get("rule") == "median":
        best, median, peers = (_number(why.get(x)) for x in ("best_loss", "median_loss", "peers"))
        if best is None or median is None or peers is None:
            return None
        return (
            f"best so far {sign * best:.3g}, worse than the median {sign * median:.3g} of "
            f"{peers:g} completed peers' running averages; {rung}"
        )
    loss, edge = _number(why.get("loss")), _number(why.get("edge_loss"))
    if loss is None or edge is None:
        return None
    assert isinstance(k, int)  # checked above
    nth = "best" if k == 1 else f"{_ordinal(k)} best"
    return f"{rung}; the {nth} there {sign * edge:.3g}, this job {sign * loss:.3g}"
