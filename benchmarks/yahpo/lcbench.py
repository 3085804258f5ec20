"""YAHPO Gym's lcbench surrogate as a :class:`workloads.Workload`: real MLP learning curves.

lcbench (Zimmer et al. 2021) trained funnel-shaped MLPs for 52 epochs on 34 OpenML tasks;
YAHPO Gym (Pfisterer et al. 2022) fits one neural surrogate to those curves. A workload here is
one task: a configuration of the 7 hyperparameters (:data:`space.NNI_SPACE`) trained for
``budget`` epochs scores its validation error ``1 - val_accuracy / 100`` (minimize). The
surrogate is deterministic, so ``evaluate(config, 52)`` is the configuration's true value.

Schedule: ``max_budget=52, eta=3, min_budget=1`` with ``integer_budgets=True``. Hyperband then
has ``s_max = 3`` (``3**3 = 27 <= 52 < 81``) and rungs at ``52 / 27, 52 / 9, 52 / 3, 52`` =
1.93, 5.78, 17.3, 52 epochs, rounded to **2, 6, 17, 52** (:data:`RUNG_EPOCHS`): four brackets,
the widest starting 27 configurations at 2 epochs. ``min_budget=2`` would lose that bracket
(``52 / 2 = 26 < 27``), and epoch 1 is out of reach at eta 3 unless the largest budget were 81
(lcbench stops at 52). The surrogate knows whole epochs only, so :meth:`evaluate` refuses a
fractional budget (Hyperband without ``integer_budgets=True`` would ask for 1.93 epochs); the
workload carries ``integer_budgets = True`` to say so.

``optimum`` is a reference value per task, not the true optimum: the best validation error
``reference.py`` found (30,000 random configurations at epoch 52, then a local search from the
best 20), stored in ``benchmarks/results/lcbench_reference.json`` with how it was found. The
surrogate extrapolates oddly at the edges of the space, where a local search finds errors far
below random search's, so a regret is only meaningful with its reference stated. Should a run
beat the reference, its regret is clipped at 0 and the case is recorded
(:attr:`LCBenchWorkload.below_reference`) and warned about.

Tasks: :data:`DEV_TASKS` to develop and tune on, :data:`HELD_OUT` to report on.
"""

from __future__ import annotations

import copy
import json
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # `workloads` and the `yahpo` folder live there

from workloads import Workload  # noqa: E402
from yahpo import space  # noqa: E402
from yahpo.client import LCBenchSurrogate  # noqa: E402

__all__ = [
    "DEV_TASKS",
    "ETA",
    "HELD_OUT",
    "MAX_BUDGET",
    "MIN_BUDGET",
    "REFERENCE_FILE",
    "RUNG_EPOCHS",
    "LCBenchWorkload",
    "epoch_of",
    "lcbench_workload",
    "load_reference",
]

DEV_TASKS: tuple[str, ...] = (
    "126029", "167201", "167185", "168331", "34539",
    "7593", "146212", "167168", "189862", "189909",
)  # fmt: skip
# Every other lcbench task of yahpo_data 1.0.2 (space.ALL_TASKS less DEV_TASKS, in its order).
HELD_OUT: tuple[str, ...] = (
    "3945", "126025", "126026", "167104", "167149", "167152", "167161", "167181",
    "167184", "167190", "167200", "168329", "168330", "168335", "168868", "168908",
    "168910", "189354", "189865", "189866", "189873", "189905", "189906", "189908",
)  # fmt: skip

MAX_BUDGET = space.MAX_EPOCH  # 52
MIN_BUDGET = 1
ETA = 3
RUNG_EPOCHS: tuple[int, ...] = (2, 6, 17, 52)  # schedule(52, 3, min_budget=1, integer_budgets)
REFERENCE_FILE = HERE.parent / "results" / "lcbench_reference.json"


def epoch_of(budget: float) -> int:
    """The whole epoch a budget stands for; a fractional budget is an error (see the module)."""
    e = round(budget)
    if not math.isclose(budget, e, rel_tol=0.0, abs_tol=1e-9) or not 1 <= e <= MAX_BUDGET:
        raise ValueError(
            f"an lcbench budget is a whole number of epochs in 1..{MAX_BUDGET}, got {budget!r}; "
            "build the schedule with integer_budgets=True"
        )
    return int(e)


def load_reference(task: str | int, path: Path = REFERENCE_FILE) -> float:
    """The reference validation error of ``task`` (written by ``reference.py``)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"no lcbench reference file at {path}: run `python benchmarks/yahpo/reference.py`"
        )
    tasks = json.loads(path.read_text())["tasks"]
    if str(task) not in tasks:
        raise KeyError(f"task {task} has no reference in {path}; run reference.py for it")
    return float(tasks[str(task)]["reference"])


@dataclass(frozen=True)
class LCBenchWorkload(Workload):
    """A :class:`Workload` on one lcbench task, with its surrogate and reference bookkeeping.

    Attributes:
        task: the OpenML task id.
        surrogate: the :class:`LCBenchSurrogate` it queries (close it when done, or use the
            workload as a context manager).
        integer_budgets: always ``True``: build its schedule with ``integer_budgets=True``.
        below_reference: ``(config, true value)`` of every configuration whose regret was
            asked and that beat ``optimum`` (its regret was clipped at 0).
    """

    task: str = ""
    surrogate: Any = field(default=None, repr=False)
    integer_budgets: bool = True
    below_reference: list[tuple[dict[str, Any], float]] = field(
        default_factory=list, repr=False, compare=False
    )

    def regret(self, config: dict[str, Any]) -> float:
        """Validation error at 52 epochs minus the reference, clipped at 0 (recorded if < 0)."""
        value = self.true_value(config)
        if value < self.optimum:
            self.below_reference.append((dict(config), value))
            warnings.warn(
                f"lcbench {self.task}: a configuration beat the reference ({value:.6f} < "
                f"{self.optimum:.6f}); its regret is clipped at 0",
                RuntimeWarning,
                stacklevel=2,
            )
        return max(0.0, value - self.optimum)

    def close(self) -> None:
        self.surrogate.close()

    def __enter__(self) -> LCBenchWorkload:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def lcbench_workload(
    task: str | int,
    surrogate: LCBenchSurrogate | None = None,
    *,
    optimum: float | None = None,
    reference_file: Path = REFERENCE_FILE,
) -> LCBenchWorkload:
    """The workload of one lcbench task (see the module docstring for its definition).

    Args:
        task: an OpenML task id of :data:`space.ALL_TASKS`.
        surrogate: the surrogate of that task; ``None`` starts one (the default venv and data).
        optimum: the reference validation error; ``None`` reads it from ``reference_file``.
        reference_file: where ``reference.py`` wrote the references.
    """
    task = str(task)
    if task not in space.ALL_TASKS:
        raise ValueError(f"unknown lcbench task {task!r}; known: {', '.join(space.ALL_TASKS)}")
    reference = load_reference(task, reference_file) if optimum is None else float(optimum)
    if surrogate is None:
        surrogate = LCBenchSurrogate(task)
    elif surrogate.task != task:
        raise ValueError(f"the surrogate is for task {surrogate.task}, not {task}")
    sur = surrogate

    def error_at(config: dict[str, Any], epoch: int) -> float:
        # Ask for the epochs a Hyperband run will ask next in the same round trip: a batch
        # costs about one query, a round trip ~1 ms. Later rungs, seconds and the true value
        # then come from the cache.
        epochs = sorted({epoch, *RUNG_EPOCHS})
        errors = sur.val_error([config] * len(epochs), epochs)
        return float(errors[epochs.index(epoch)])

    def evaluate(config: dict[str, Any], budget: float) -> float:
        return error_at(config, epoch_of(budget))

    def true_value(config: dict[str, Any]) -> float:
        return error_at(config, MAX_BUDGET)

    def seconds(config: dict[str, Any], budget: float, previous_budget: float | None) -> float:
        # The surrogate's cumulative time is not always monotone in the epoch (dips of a few
        # seconds); resuming across a dip costs 0 rather than a negative time.
        epochs = [epoch_of(budget)] + (
            [] if previous_budget is None else [epoch_of(previous_budget)]
        )
        times = sur.query([config] * len(epochs), epochs)["time"]
        return float(times[0]) if len(times) == 1 else max(0.0, float(times[0] - times[1]))

    return LCBenchWorkload(
        name=f"lcbench_{task}",
        title=f"LCBench {task} (YAHPO surrogate)",
        space=copy.deepcopy(space.NNI_SPACE),
        max_budget=MAX_BUDGET,
        min_budget=MIN_BUDGET,
        eta=ETA,
        mode="minimize",
        optimum=reference,
        evaluate=evaluate,
        true_value=true_value,
        seconds=seconds,
        description=(
            f"validation error (1 - val_accuracy/100) of an MLP on OpenML task {task} after "
            f"`budget` epochs, from YAHPO Gym's lcbench surrogate (yahpo_data 1.0.2); budgets "
            f"1..52 epochs (schedule with integer_budgets=True: rungs 2, 6, 17, 52), minimize; "
            f"optimum = reference {reference:.6f} (reference.py: best of random search + local "
            f"search)"
        ),
        task=task,
        surrogate=sur,
    )
