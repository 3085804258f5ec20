"""HpBandSter 0.7.4's BOHB on one workload (run inside .venvs/hpbandster; see common.py).

Recipe (shared PEERS.md): numpy<2 and the Pyro4 pickle serializer (ConfigSpace 1.x hands back
numpy scalars, which Pyro4's default serpent serializer cannot send: the worker's reply would die
in a thread and the master wait forever), everything on 127.0.0.1 in this one process (name
server, master, one worker thread), string labels for categoricals (``spaces.to_configspace``);
a choice of numbers as the integer rank of its option (this BOHB refuses ordinals).
BOHB's defaults otherwise (top 15%, 64 candidates, bandwidth factor 3, random fraction 1/3).
HpBandSter has no seed argument: its model draws from the global numpy RNG and its random
configurations from the ConfigSpace's, so both are seeded. An HpBandSter "iteration" is one
successive-halving bracket; the runner asks for as many as it takes to spend the total budget.
"""

from __future__ import annotations

import common

common.one_thread()

import logging  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import Pyro4  # noqa: E402
from hpbandster.core.nameserver import NameServer  # noqa: E402
from hpbandster.core.worker import Worker  # noqa: E402
from hpbandster.optimizers import BOHB  # noqa: E402
from spaces import from_configspace, to_configspace  # noqa: E402

Pyro4.config.SERIALIZER = "pickle"
Pyro4.config.SERIALIZERS_ACCEPTED = {"pickle"}
logging.getLogger("hpbandster").setLevel(logging.WARNING)


def drive(w: Any, seed: int, rec: common.Recorder) -> None:
    run_id = f"{w.name}-{seed}"
    cs = to_configspace(w.space, seed, ordinal_as="integer")
    np.random.seed(seed)

    class RecordingWorker(Worker):  # type: ignore[misc]
        def compute(self, config_id: Any, config: Any, budget: float, **kwargs: Any) -> Any:
            loss = rec.loss(from_configspace(w.space, config), budget)
            return {"loss": float(loss), "info": {}}

    ns = NameServer(run_id=run_id, host="127.0.0.1", port=0)
    host, port = ns.start()
    worker = RecordingWorker(run_id=run_id, nameserver=host, nameserver_port=port)
    worker.run(background=True)
    bohb = BOHB(
        configspace=cs,
        run_id=run_id,
        nameserver=host,
        nameserver_port=port,
        min_budget=w.min_budget,
        max_budget=w.max_budget,
        eta=w.eta,
        ping_interval=3600,
    )
    try:
        bohb.run(n_iterations=common.brackets_needed(w, rec.total), min_n_workers=1)
    finally:
        bohb.shutdown(shutdown_workers=True)
        ns.shutdown()


if __name__ == "__main__":
    common.main("HpBandSter BOHB", common.version("hpbandster"), drive)
