"""Syne Tune 0.16's ``ASHA`` or ``BOHB`` on one workload, in its simulator (inside
.venvs/synetune; see common.py).

Usage: ``run_synetune.py {asha,bohb} [--every-step] WORKLOAD SEEDS TOTAL OUT``.

The recipe of shared PEERS.md: the workload is a ``Blackbox`` whose ``objective_function``
returns the whole learning curve (the observed value at every fidelity), run by
``UserBlackboxBackend`` and a ``Tuner`` with ``SimulatorCallback``, one worker (``n_workers=1``:
sequential, as every other method here), no sleeping. The scheduler stops a trial when it
fails a rung (``grace_period=min_budget``, ``reduction_factor=eta``, ``max_t=max_budget``:
lcbench's rung levels are 1, 3, 9 and 27 epochs). A trial reports at its scheduler's rung
levels and at ``max_budget`` (lcbench: 1, 3, 9, 27 and 52 epochs), not at every epoch: with one
worker that gives the same decisions and the same configurations as reporting every epoch
(``ASHA``'s brackets decide only at a rung level; ``BOHB``'s searcher fits on each trial's last
value and refits by number of trials, and a trial ends at a rung level or at ``max_budget``)
at a tenth of the surrogate queries (a whole 52-epoch curve for each of ~900 trials costs more
than the run itself); ``--every-step`` reports at every multiple of ``min_budget`` instead, to
check that claim.

- Both schedulers are Syne Tune's defaults apart from those: ``ASHA`` is the stopping variant
  ("adapted from Ray"); ``BOHB`` is that ASHA with a KDE searcher (asynchronous, not
  HpBandSter's synchronous BOHB).
- Seeds: ``random_seed`` and the global ``np.random`` (ASHA's bracket draw uses it).
- Traps handled: ``fidelity_values`` is a property of the blackbox (the default is None);
  ``SYNETUNE_FOLDER`` points at a temporary folder (the tuner writes its metadata there).
- Accounting, as for Optuna's continued trials: each report at fidelity f is recorded as an
  evaluation at f charged the budget trained since the trial's previous report, so a trial
  costs the budget it reached; the run stops once the total budget is spent (the stop
  criterion reads the recorder, not the simulated clock: the simulator adds the scheduler's
  real compute time to simulated time, which would charge model-based methods for their
  compute in the budget of epochs). The whole curve is computed when a trial starts (the
  simulator's way), and timed as objective time.
"""

from __future__ import annotations

import common

common.one_thread()

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from spaces import from_synetune, to_synetune  # noqa: E402
from syne_tune import Tuner  # noqa: E402
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback  # noqa: E402
from syne_tune.blackbox_repository.blackbox import Blackbox  # noqa: E402
from syne_tune.blackbox_repository.simulated_tabular_backend import (  # noqa: E402
    UserBlackboxBackend,
)
from syne_tune.optimizer.baselines import ASHA, BOHB  # noqa: E402
from syne_tune.tuner_callback import TunerCallback  # noqa: E402

FIDELITY = "epoch"
SCHEDULERS = {"asha": ASHA, "bohb": BOHB}


def fidelities(w: Any, scheduler: Any, every_step: bool) -> list[int]:
    """The fidelities a trial reports at: the scheduler's rung levels and max_budget, or with
    ``every_step`` every multiple of min_budget up to max_budget."""
    if every_step:
        step = int(w.min_budget)
        return list(range(step, int(w.max_budget) + 1, step))
    levels = {int(m) for bracket in scheduler.brackets for m, _ in bracket.rungs}
    return sorted(levels | {int(w.max_budget)})


def curve(w: Any, config: dict[str, Any], steps: list[int]) -> list[float]:
    """The observed values of ``config`` at every fidelity of ``steps``."""
    surrogate = getattr(w, "surrogate", None)
    if surrogate is not None:  # lcbench: the whole curve in one request to the server
        errors, _ = surrogate.curves([config])
        return [float(errors[0, e - 1]) for e in steps]
    return [w(config, float(b)) for b in steps]


class WorkloadBlackbox(Blackbox):  # type: ignore[misc]
    """The workload as a Syne Tune blackbox: loss and elapsed time (1 s a budget unit, which
    only orders the simulator's events: with one worker the order is a trial's own)."""

    def __init__(self, w: Any, rec: common.Recorder, space: Any, steps: list[int]) -> None:
        super().__init__(
            configuration_space=space,
            fidelity_space={FIDELITY: None},
            objectives_names=["loss", "elapsed_time"],
        )
        self.w, self.rec, self.steps = w, rec, steps

    @property
    def fidelity_values(self) -> np.ndarray:
        return np.array(self.steps)

    def _objective_function(
        self, configuration: dict[str, Any], fidelity: Any = None, seed: Any = None
    ) -> np.ndarray:
        wall, cpu = time.perf_counter(), time.process_time()
        values = curve(self.w, from_synetune(self.w.space, configuration), self.steps)
        sign = -1.0 if self.w.mode == "maximize" else 1.0
        out = np.array([[sign * v, float(b)] for v, b in zip(values, self.steps, strict=True)])
        self.rec.objective_wall += time.perf_counter() - wall
        self.rec.objective_cpu += time.process_time() - cpu
        return out


class Recording(TunerCallback):  # type: ignore[misc]
    """Records every report the tuner passes to the scheduler, in order, charged the budget
    trained since the trial's previous report."""

    def __init__(self, w: Any, rec: common.Recorder) -> None:
        self.w, self.rec = w, rec
        self.reached: dict[int, float] = {}

    def on_trial_result(
        self, trial: Any, status: str, result: dict[str, Any], decision: str
    ) -> None:
        budget = float(result[FIDELITY])
        previous = self.reached.get(trial.trial_id, 0.0)
        self.reached[trial.trial_id] = budget
        sign = -1.0 if self.w.mode == "maximize" else 1.0
        config = from_synetune(self.w.space, trial.config)
        self.rec.record(config, budget, sign * float(result["loss"]), budget - previous)


def drive(kind: str, every_step: bool, w: Any, seed: int, rec: common.Recorder) -> None:
    np.random.seed(seed)
    space = to_synetune(w.space)
    scheduler = SCHEDULERS[kind](
        space,
        metric="loss",
        time_attr=FIDELITY,
        max_t=int(w.max_budget),
        do_minimize=True,
        random_seed=seed,
        grace_period=int(w.min_budget),
        reduction_factor=w.eta,
    )
    blackbox = WorkloadBlackbox(w, rec, space, fidelities(w, scheduler, every_step))
    backend = UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="elapsed_time")
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=lambda status: rec.exhausted,
        n_workers=1,
        sleep_time=0,
        callbacks=[SimulatorCallback(), Recording(w, rec)],
        save_tuner=False,
        tuner_name=f"{w.name.replace('_', '-')}-{kind}-{seed}",
        suffix_tuner_name=False,
    )
    tuner.run()


def main() -> None:
    kind = sys.argv.pop(1)
    every_step = "--every-step" in sys.argv
    if every_step:
        sys.argv.remove("--every-step")
    if kind not in SCHEDULERS:
        raise SystemExit(f"the scheduler is one of {sorted(SCHEDULERS)}, got {kind!r}")
    for name in ("syne_tune", "root"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYNETUNE_FOLDER"] = tmp
        common.main(
            f"Syne Tune {kind.upper()}",
            common.version("syne-tune"),
            lambda w, seed, rec: drive(kind, every_step, w, seed, rec),
        )


if __name__ == "__main__":
    main()
