"""DEHB 0.1.2 on one workload (run inside .venvs/dehb; see common.py).

One worker in this process (``n_workers=1``: no dask), DEHB's defaults (mutation 0.5,
crossover 0.5, ``rand1_bin``), seeded; its log and checkpoint files go to a temporary folder.
DEHB runs whole successive-halving brackets of the paper's table sizing; the runner asks for as
many as it takes to spend the total budget (``run(brackets=...)``).
"""

from __future__ import annotations

import common

common.one_thread()

import tempfile  # noqa: E402
from typing import Any  # noqa: E402

from dehb import DEHB  # noqa: E402
from spaces import from_configspace, to_configspace  # noqa: E402


def drive(w: Any, seed: int, rec: common.Recorder) -> None:
    def objective(config: Any, fidelity: float, **kwargs: Any) -> dict[str, float]:
        loss = rec.loss(from_configspace(w.space, config), fidelity)
        return {"fitness": float(loss), "cost": float(common.snap(fidelity))}

    cs = to_configspace(w.space, seed)
    with tempfile.TemporaryDirectory() as tmp:
        dehb = DEHB(
            f=objective,
            cs=cs,
            dimensions=len(list(cs.values())),
            min_fidelity=w.min_budget,
            max_fidelity=w.max_budget,
            eta=w.eta,
            n_workers=1,
            seed=seed,
            output_path=tmp,
            save_freq="end",
            log_level="ERROR",
        )
        dehb.run(brackets=common.brackets_needed(w, rec.total))


if __name__ == "__main__":
    common.main("DEHB", common.version("dehb"), drive)
