"""Check a peer's venv: the workloads import, and every workload's space translates to the
peer's own and back to valid configurations (``python selfcheck.py PEER`` inside its venv).

Run by ``setup.sh`` after each install; the main test suite runs the same checks where
ConfigSpace or Optuna is installed (``tests/test_workloads.py``).
"""

from __future__ import annotations

import sys

import common
import spaces


def check_configspace(peer: str) -> int:
    n = 0
    ordinal_as = "integer" if peer == "hpbandster" else "ordinal"
    for name in common.wl.NAMES:
        w = common.wl.workload(name)
        cs = spaces.to_configspace(w.space, seed=0, ordinal_as=ordinal_as)
        for sample in cs.sample_configuration(50):
            config = spaces.from_configspace(w.space, sample)
            assert spaces.in_space(w.space, config), (name, config)
            w(config, w.max_budget)
            n += 1
    return n


def check_optuna() -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n = 0
    for name in common.wl.NAMES:
        w = common.wl.workload(name)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        for _ in range(50):
            trial = study.ask()
            config = spaces.suggest_optuna(trial, w.space)
            assert spaces.in_space(w.space, config), (name, config)
            study.tell(trial, w(config, w.max_budget))
            n += 1
    return n


def check_synetune() -> int:
    import numpy as np

    n = 0
    for name in common.wl.NAMES:
        w = common.wl.workload(name)
        st_space = spaces.to_synetune(w.space)
        rng = np.random.RandomState(0)
        for _ in range(50):
            sample = {k: d.sample(random_state=rng) for k, d in st_space.items()}
            config = spaces.from_synetune(w.space, sample)
            assert spaces.in_space(w.space, config), (name, config)
            w(config, w.max_budget)
            n += 1
    return n


CHECKS = {"optuna": check_optuna, "synetune": check_synetune}

if __name__ == "__main__":
    peer = sys.argv[1]
    n = CHECKS[peer]() if peer in CHECKS else check_configspace(peer)
    print(f"{peer}: {n} translated configurations of {len(common.wl.NAMES)} workloads: ok")
