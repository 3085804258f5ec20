"""What every peer runner shares: arguments, the recorded objective, the trace file.

A runner is run INSIDE its peer's venv (``benchmarks/peers/setup.sh``)::

    .venvs/<peer>/bin/python benchmarks/peers/run_<peer>.py WORKLOAD SEED TOTAL OUT.json

``TOTAL`` is the total budget in budget units (e.g. 7608 = 4 li2018 iterations of R=81). The
runner drives its peer on ``benchmarks/workloads/``'s workload (numpy only, so it imports in
every venv), through a :class:`Recorder` that evaluates and records every evaluation in order:
``[config, budget, observed value, cost charged]``, and stops the peer once ``TOTAL`` is spent
(or as soon after as the peer can stop: the harness keeps only the evaluations that fit in
``TOTAL``, a prefix of the trace). The output JSON also has the run's timings:

- ``wall`` / ``cpu``: wall and CPU (``time.process_time``, all threads) seconds of the whole
  optimisation call, objective included;
- ``objective_wall`` / ``objective_cpu``: the same inside the objective only;

so the optimizer's own cost is the difference (Pyro4 messaging, model fits, bookkeeping:
everything but the objective). CPU seconds are the fairer figure on a shared machine.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/: the workloads
sys.path.insert(0, str(HERE))

import workloads as wl  # noqa: E402

Config = dict[str, Any]


def snap(budget: float) -> float:
    """A peer's float budget (e.g. 81 / 3**4 = 0.99999...) as the integer it stands for."""
    nearest = round(budget)
    if nearest > 0 and abs(budget - nearest) <= 1e-6 * nearest:
        return float(nearest)
    return float(budget)


class Recorder:
    """The workload behind a peer: evaluates, times and records every evaluation in order."""

    def __init__(self, workload: wl.Workload, total: float) -> None:
        self.w = workload
        self.total = total
        self.trace: list[list[Any]] = []
        self.spent = 0.0
        self.objective_wall = 0.0
        self.objective_cpu = 0.0

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.total

    def budget(self, budget: float) -> float:
        """The budget a peer asked for as the workload takes it: snapped (:func:`snap`), and a
        whole number on a workload of whole budgets (lcbench's epochs: a peer's rung at
        52 / 27 = 1.93 epochs trains 2, as our ``integer_budgets=True`` does)."""
        if getattr(self.w, "integer_budgets", False):
            return float(max(1, round(budget)))
        return snap(budget)

    def __call__(self, config: Config, budget: float, cost: float | None = None) -> float:
        """The observed value of ``config`` at ``budget``; charged ``cost`` (default: budget)."""
        wall, cpu = time.perf_counter(), time.process_time()
        budget = self.budget(budget)
        value = self.w(config, budget)
        self.objective_wall += time.perf_counter() - wall
        self.objective_cpu += time.process_time() - cpu
        self.record(config, budget, value, budget if cost is None else cost)
        return value

    def record(self, config: Config, budget: float, value: float, cost: float) -> None:
        """Record an evaluation the peer's driver made itself (Syne Tune's simulator evaluates
        whole curves; the runner times that as objective time itself)."""
        self.trace.append([config, budget, value, cost])
        self.spent += cost

    def loss(self, config: Config, budget: float, cost: float | None = None) -> float:
        """The value as a loss to minimise (negated for a maximised workload)."""
        value = self(config, budget, cost)
        return -value if self.w.mode == "maximize" else value


def table_brackets(
    max_budget: float, min_budget: float, eta: int, *, integer: bool = False
) -> list[float]:
    """Cost of each successive-halving bracket of the paper's table sizing (HpBandSter, DEHB),
    in the order those libraries run them (s = s_max first, then down, cycling); ``integer``:
    each budget rounded to a whole number, as :meth:`Recorder.budget` charges it."""
    s_max = math.floor(math.log(max_budget / min_budget) / math.log(eta) + 1e-9)
    costs = []
    for s in range(s_max, -1, -1):
        n = (s_max + 1) // (s + 1) * eta**s
        rungs = [max_budget * eta ** (i - s) for i in range(s + 1)]
        if integer:
            rungs = [float(max(1, round(r))) for r in rungs]
        costs.append(sum(math.floor(n * eta ** (-i)) * r for i, r in enumerate(rungs)))
    return costs


def brackets_needed(w: wl.Workload, total: float) -> int:
    """How many brackets of the table sizing it takes to spend ``total``."""
    integer = getattr(w, "integer_budgets", False)
    costs = table_brackets(w.max_budget, w.min_budget, w.eta, integer=integer)
    spent, k = 0.0, 0
    while spent < total:
        spent += costs[k % len(costs)]
        k += 1
    return k


def one_thread() -> None:
    """One BLAS/OpenMP thread per process (set before numpy-using libraries are imported)."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("LOKY_MAX_CPU_COUNT", "1")


def version(package: str) -> str:
    """The installed version of ``package`` (from its metadata)."""
    from importlib.metadata import version as installed

    return installed(package)


LCBENCH = "lcbench_"


def load_workload(name: str) -> wl.Workload:
    """A workload by name: one of ``workloads.NAMES``, or ``lcbench_<task>``: an lcbench task
    of YAHPO Gym's surrogate, whose server this process starts (``yahpo/client.py`` needs only
    numpy, so it imports in every peer's venv; the server runs in the yahpo venv)."""
    if name.startswith(LCBENCH):
        from yahpo import lcbench

        return lcbench.lcbench_workload(name[len(LCBENCH) :])
    return wl.workload(name)


def main(peer: str, version: str, drive: Callable[[wl.Workload, int, Recorder], None]) -> None:
    """Parse ``WORKLOAD SEEDS TOTAL OUT``, run ``drive(workload, seed, recorder)`` for each
    seed, write OUT after each run.

    ``SEEDS`` is one seed or several separated by commas; with several, ``OUT`` has a
    ``{seed}`` field. Several seeds in one process share its imports and, on lcbench, its
    surrogate server (seconds each on a loaded machine), and every run is written as soon as
    it ends, so a killed batch keeps the runs it finished.
    """
    name, seeds_text, total_text, out = sys.argv[1:5]
    seeds = [int(s) for s in seeds_text.split(",")]
    if len(seeds) > 1 and "{seed}" not in out:
        raise SystemExit(f"several seeds need a {{seed}} field in OUT, got {out!r}")
    w = load_workload(name)
    try:
        for seed in seeds:
            one_run(peer, version, drive, w, seed, float(total_text), out.format(seed=seed))
    finally:
        close = getattr(w, "close", None)
        if close is not None:  # an lcbench workload: stop its surrogate's server
            close()


def one_run(
    peer: str,
    version: str,
    drive: Callable[[wl.Workload, int, Recorder], None],
    w: wl.Workload,
    seed: int,
    total: float,
    out: str,
) -> None:
    rec = Recorder(w, total)
    wall, cpu = time.perf_counter(), time.process_time()
    drive(w, seed, rec)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    report = {
        "peer": peer,
        "version": version,
        "workload": w.name,
        "seed": seed,
        "total": total,
        "wall": wall,
        "cpu": cpu,
        "objective_wall": rec.objective_wall,
        "objective_cpu": rec.objective_cpu,
        "python": sys.version.split()[0],
        "trace": rec.trace,
    }
    tmp = Path(out + ".tmp")
    tmp.write_text(json.dumps(report))
    tmp.replace(out)
    print(
        f"{peer} {w.name} seed {seed}: {len(rec.trace)} evaluations, spent {rec.spent:g} of "
        f"{total:g}, {wall:.1f} s wall ({rec.objective_wall:.1f} s in the objective)",
        flush=True,
    )
