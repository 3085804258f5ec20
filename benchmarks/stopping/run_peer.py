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
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cache  # noqa: E402
import peers  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=sorted(peers.PEERS))
    parser.add_argument("workload", choices=sorted(peers.curves.CURVE_WORKLOADS))
    parser.add_argument("--workers", type=int, nargs="+", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--budget-limit", type=float, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args(argv)
    done = cache.load(args.cache, args.peer, args.workload)
    for workers in args.workers:
        for seed in args.seeds:
            if (workers, seed) in done:
                continue
            w = peers.curves.curve_workload(args.workload)
            record = peers.run_peer(peers.PEERS[args.peer], w, workers, seed, args.budget_limit)
            cache.append(args.cache, args.peer, args.workload, workers, seed, record)


if __name__ == "__main__":
    main(sys.argv[1:])
