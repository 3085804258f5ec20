"""Objectives of the committed fixture journals (tests/fixtures/release_0_1).

They are module-level and deterministic, so that a journal written by one release can be
resumed and replayed by another: the journal names its objective by module and qualified name.
"""

from __future__ import annotations

import math
from typing import Any


def quadratic(config: dict[str, Any], budget: float) -> float:
    """A smooth objective that improves with budget (maximize)."""
    x, y = config["x"], config["y"]
    return -((x - 0.3) ** 2) - (y - 0.6) ** 2 - 1.0 / (1.0 + budget)


def curve(config: dict[str, Any], budget: float, context: Any) -> float:
    """A learning curve that reports every unit of budget (maximize), for stopping rules."""
    x, y = config["x"], config["y"]
    start = int(context.job.previous_budget or 0)
    value = 0.0
    for step in range(start + 1, int(budget) + 1):
        value = (1.0 - (x - 0.3) ** 2 - (y - 0.6) ** 2) * (1.0 - math.exp(-step / (1 + 9 * y)))
        context.report(step, value)
    return value
