"""LCBench tasks as learning-curve workloads of the stopping benchmark, on the real clock.

:func:`lcbench_curve_workload` turns one task of YAHPO Gym's lcbench surrogate
(``benchmarks/yahpo``) into a :class:`curves.CurveWorkload`:

- ``curve(config, epoch)``: the validation error ``1 - val_accuracy / 100`` after ``epoch``
  epochs (minimize); reports every epoch; schedule ``max_budget=52, eta=3, min_budget=1`` with
  integer budgets (rungs 2, 6, 17, 52: see ``yahpo/lcbench.py``);
- ``seconds(config, epoch, previous)``: the surrogate's own training time, the cumulative
  seconds at ``epoch`` less those at ``previous``. The surrogate's cumulative time dips by a
  few seconds here and there; its running maximum is used, so no step takes negative time and
  the report times of a job are in order;
- ``optimum``: the task's reference error (``results/lcbench_reference.json``), as in
  ``yahpo/lcbench.py``; the regret is clipped at 0 below it.

A configuration's whole curve (52 errors and times) comes in one round trip to the surrogate
the first time it is asked for and is kept for the life of the workload. numpy only, so the
peers' virtualenvs import it too (the surrogate runs in its own venv either way).
"""

from __future__ import annotations

import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # benchmarks/: `workloads` and `yahpo`

from workloads import curves  # noqa: E402
from yahpo import lcbench, space  # noqa: E402
from yahpo.client import LCBenchSurrogate  # noqa: E402

__all__ = ["PREFIX", "is_lcbench", "lcbench_curve_workload", "task_of"]

PREFIX = "lcbench_"


def is_lcbench(name: str) -> bool:
    """Whether a workload name stands for an lcbench task (``lcbench_<task id>``)."""
    return name.startswith(PREFIX)


def task_of(name: str) -> str:
    """The OpenML task id of an ``lcbench_<task>`` workload name."""
    if not is_lcbench(name):
        raise ValueError(f"not an lcbench workload name: {name!r} (expected {PREFIX}<task>)")
    return name[len(PREFIX) :]


def lcbench_curve_workload(
    task: str, surrogate: LCBenchSurrogate, *, optimum: float | None = None
) -> curves.CurveWorkload:
    """One lcbench task as a curve workload (see the module docstring).

    Args:
        task: an OpenML task id of the lcbench surrogate.
        surrogate: that task's surrogate (the caller closes it).
        optimum: the reference error; ``None`` reads ``results/lcbench_reference.json``.
    """
    task = str(task)
    if surrogate.task != task:
        raise ValueError(f"the surrogate is for task {surrogate.task}, not {task}")
    reference = lcbench.load_reference(task) if optimum is None else float(optimum)
    known: dict[Hashable, tuple[Any, Any]] = {}

    def whole(config: dict[str, Any]) -> tuple[Any, Any]:
        key = tuple(sorted(config.items()))
        if key not in known:
            errors, seconds = surrogate.curves([config])
            # Index 0 is "no training": 0 seconds (the error there is never asked for).
            clock = np.concatenate([[0.0], np.maximum.accumulate(seconds[0])])
            known[key] = (np.concatenate([[np.nan], errors[0]]), clock)
        return known[key]

    def curve(config: dict[str, Any], step: float) -> float:
        return float(whole(config)[0][lcbench.epoch_of(step)])

    def true_value(config: dict[str, Any]) -> float:
        return curve(config, lcbench.MAX_BUDGET)

    def seconds(config: dict[str, Any], step: float, previous: float | None) -> float:
        clock = whole(config)[1]
        start = 0 if previous is None else lcbench.epoch_of(previous)
        return float(clock[lcbench.epoch_of(step)] - clock[start])

    return curves.CurveWorkload(
        name=PREFIX + task,
        title=f"LCBench {task}",
        space=dict(space.NNI_SPACE),
        max_budget=lcbench.MAX_BUDGET,
        min_budget=lcbench.MIN_BUDGET,
        eta=lcbench.ETA,
        mode="minimize",
        optimum=reference,
        curve=curve,
        true_value=true_value,
        report_every=1,
        seconds=seconds,
        integer_budgets=True,
        description=(
            f"validation error of an MLP on OpenML task {task} after each epoch (YAHPO Gym's "
            f"lcbench surrogate), its cumulative training seconds as the clock; reference "
            f"{reference:.6f}"
        ),
    )
