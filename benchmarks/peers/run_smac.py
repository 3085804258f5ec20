"""SMAC3 2.4.1's ``MultiFidelityFacade`` on one workload (run inside .venvs/smac; see common.py).

Random forest + Hyperband (SMAC's own intensifier, eta from the workload, budgets from the
workload's min and max) with the facade's defaults otherwise; ``deterministic=True`` since every
workload is a deterministic function of (config, budget), so SMAC never repeats an evaluation
with another seed. Recipe (shared PEERS.md): ``PYTHONHASHSEED`` must be fixed for a fixed seed to
replay across processes (the harness sets it to 0), and joblib limited to one CPU
(``LOKY_MAX_CPU_COUNT=1``). The run stops through a callback once the total budget is spent.
"""

from __future__ import annotations

import common

common.one_thread()

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from smac import Callback, MultiFidelityFacade, Scenario  # noqa: E402
from spaces import from_configspace, to_configspace  # noqa: E402


def drive(w: Any, seed: int, rec: common.Recorder) -> None:
    def train(config: Any, seed: int = 0, budget: float = 1.0) -> float:
        return rec.loss(from_configspace(w.space, config), budget)

    class StopWhenSpent(Callback):  # type: ignore[misc]
        def on_tell_end(self, smbo: Any, info: Any, value: Any) -> bool | None:
            return False if rec.exhausted else None

    with tempfile.TemporaryDirectory() as tmp:
        scenario = Scenario(
            to_configspace(w.space, seed),
            name=f"{w.name}-{seed}",
            output_directory=Path(tmp),
            deterministic=True,
            n_trials=10**9,
            min_budget=w.min_budget,
            max_budget=w.max_budget,
            seed=seed,
        )
        smac = MultiFidelityFacade(
            scenario,
            train,
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=w.eta),
            callbacks=[StopWhenSpent()],
            overwrite=True,
            logging_level=40,
        )
        smac.optimize()


if __name__ == "__main__":
    common.main("SMAC3 MultiFidelityFacade", common.version("smac"), drive)
