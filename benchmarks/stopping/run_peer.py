"""Run one peer on one workload for some worker counts and seeds; append to the run cache.

Started by ``bench_stopping.py`` with the interpreter of the peer's own virtualenv (see
``setup_venvs.sh``); it needs only numpy, hyperband and the peer's package.

Run:  python benchmarks/stopping/run_peer.py PEER WORKLOAD --workers 1 4 --seeds 0 1
          --budget-limit 7608 --cache DIR
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import contextlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cache  # noqa: E402
import lcbench_curves as lcbench  # noqa: E402
import peers  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=sorted(peers.PEERS))
    parser.add_argument("workload", help="a curve workload's name, or lcbench_<task>")
    parser.add_argument("--workers", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--budget-limit", type=float, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--surrogate-python", help="lcbench: the yahpo venv's interpreter")
    parser.add_argument("--surrogate-server", help="lcbench: the server script (tests: fake)")
    parser.add_argument("--yahpo-data", help="lcbench: the yahpo_data folder")
    parser.add_argument("--optimum", type=float, help="lcbench: the reference error")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if lcbench.is_lcbench(args.workload):
            sur = stack.enter_context(
                lcbench.LCBenchSurrogate(
                    lcbench.task_of(args.workload),
                    data_path=args.yahpo_data,
                    python=args.surrogate_python,
                    server=args.surrogate_server,
                )
            )
            w = lcbench.lcbench_curve_workload(
                lcbench.task_of(args.workload), sur, optimum=args.optimum
            )
        else:
            w = peers.curves.curve_workload(args.workload)
        _run(args, w)


def _run(args: argparse.Namespace, w: peers.curves.CurveWorkload) -> None:
    done = cache.load(args.cache, args.peer, args.workload)
    for workers in args.workers:
        for seed in args.seeds:
            if (workers, seed) in done:
                continue
            record = peers.run_peer(peers.PEERS[args.peer], w, workers, seed, args.budget_limit)
            cache.append(args.cache, args.peer, args.workload, workers, seed, record)


if __name__ == "__main__":
    main(sys.argv[1:])
