"""The machine's cost per job against an older commit's, measured side by side.

Two versions of one package cannot share a process, so each measurement runs in its own
subprocess with ``PYTHONPATH`` on one tree: old, new, old, new, ... (``--rounds`` pairs). A
subprocess runs its workload ``--repeats`` times, timed in pieces (250 jobs, or one advisor
command), and counts each piece at its fastest run; the result of a side is its least
subprocess. The old tree is a detached ``git worktree`` of ``--old``
(by default b3e6107, the commit before the model-based samplers and early stopping came in),
made in a temporary directory and removed at the end; the new tree is this checkout.

Workloads, in both trees:

* ``machine``: ``Hyperband`` with its random sampler, R=2187, eta=3, ``iterations=None``, a
  3-parameter space; 32 jobs in flight (ask until 32 are pending, then tell the oldest and ask
  again), ``--jobs`` jobs. Reported in us per ``ask()`` + ``tell()``.
* ``fixed``: the same with configurations made once, so without the random sampler's cost:
  the machine's own.
* ``nni``: the NNI advisor driven as ``bench_nni_overhead.py`` drives it (a stub channel, the
  commands NNI's manager sends; R=81, eta=3, 8 trial slots, one iteration), in us per job.

The ratio new / old of the minima is what counts: the machine is shared, so absolute numbers
move with its load, and interleaving old and new makes both see the same load.

Run:  python benchmarks/bench_machine_speed.py [--old b3e6107] [--rounds 3] [--jobs 60000]
      [--repeats 5] [--nni-repeats 20] [--workloads machine fixed nni] [--old-tree DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "bench_machine_speed.json"
OLD = "b3e6107"
IN_FLIGHT = 32
CHUNK = 250  # jobs per timed piece

# Runs in the child, with PYTHONPATH on one tree; prints one JSON object. Each run is timed in
# short pieces (CHUNK jobs, or one advisor command), the same pieces in every repetition (the
# runs are seeded), and each piece counts at its fastest repetition: a piece the scheduler
# preempted in one repetition is usually clean in another, which matters on a shared machine.
CHILD = r"""
import gc, json, sys, time
from collections import deque
import hyperband

SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
}
workload, n_jobs, repeats, in_flight, chunk = (int(a) if a.isdigit() else a for a in sys.argv[1:6])
clock = time.perf_counter_ns


class Fixed:  # configurations made once: the machine's own cost, without a sampler's

    def __init__(self):
        self.configs = [{"x": (i * 0.6180339887) % 1.0} for i in range(2187)]

    def sample(self, rng, n):
        return self.configs[:n]


def machine(space=SPACE):
    hb = hyperband.Hyperband(space, max_budget=2187, eta=3, iterations=None, seed=0)
    ask, tell = hb.ask, hb.tell
    pending = deque()
    for _ in range(in_flight):
        pending.append(ask())
    gc.collect()
    pieces = []
    for _ in range(n_jobs // chunk):
        start = clock()
        for _ in range(chunk):
            job = pending.popleft()
            tell(job.id, job.config["x"])
            pending.append(ask())
        pieces.append(clock() - start)
    return pieces, n_jobs // chunk * chunk


def nni():
    sys.path.insert(0, sys.argv[6])
    import bench_nni_overhead as bench

    advisor = bench.ours(81, 3)
    handle = advisor.process_command
    pieces = []

    def timed(command, data):
        start = clock()
        handle(command, data)
        pieces.append(clock() - start)

    advisor.process_command = timed
    jobs, _ = bench.drive(advisor, hyperband.schedule(81, 3).total_jobs, 8)
    return pieces, jobs


run = {"machine": machine, "fixed": lambda: machine(Fixed()), "nni": nni}[workload]
run()  # warm-up: imports, caches
runs = [run() for _ in range(repeats)]
fastest = [min(piece) for piece in zip(*(pieces for pieces, _ in runs), strict=True)]
print(json.dumps({"file": hyperband.__file__, "us": sum(fastest) / runs[0][1] / 1e3}))
"""


def measure(tree: Path, workload: str, jobs: int, repeats: int) -> float:
    """us per job of ``workload`` with ``hyperband`` imported from ``tree`` (min of repeats)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONHASHSEED"] = "0"
    args = [workload, str(jobs), str(repeats), str(IN_FLIGHT), str(CHUNK), str(HERE)]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    if not Path(result["file"]).is_relative_to(tree):
        raise RuntimeError(f"{tree}: the child imported hyperband from {result['file']}")
    return float(result["us"])


def side_by_side(
    old: Path, workload: str, jobs: int, repeats: int, rounds: int
) -> dict[str, list[float]]:
    """Alternate old and new subprocesses; us per job of each, one entry per round."""
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(rounds):
        for name, tree in (("old", old), ("new", ROOT)):
            times[name].append(measure(tree, workload, jobs, repeats))
            print(f"  {workload} {name}: {times[name][-1]:.2f} us", flush=True)
    return times


def table(results: dict[str, dict[str, list[float]]], ref: str, args: Any) -> str:
    names = {
        "machine": f"`ask()` + `tell()`, R=2187, eta=3, {IN_FLIGHT} in flight",
        "fixed": "the same, configurations made once (no sampler)",
        "nni": "NNI advisor, per job (R=81, eta=3, 8 slots)",
    }
    rows = [
        f"| {names[w]} | {min(t['old']):.2f} | {min(t['new']):.2f} | "
        f"{min(t['new']) / min(t['old']):.2f} |"
        for w, t in results.items()
    ]
    return "\n".join(
        [
            f"Old: commit {ref}; new: this commit. Alternating subprocesses, {args.rounds} of "
            f"each; each runs the workload {args.repeats} times ({args.jobs:,} jobs for the "
            f"machine; the advisor {args.nni_repeats} times), timed in pieces ({CHUNK} jobs, "
            "or one advisor command) each counted at its fastest run; the least of the "
            "subprocesses.",
            "",
            "| workload | old (us) | new (us) | new / old |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=OLD, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="old/new pairs of subprocesses")
    parser.add_argument("--repeats", type=int, default=5, help="best of N timings per process")
    # One advisor run is 206 jobs (a few ms), and its pieces are single commands, which a
    # loaded machine disturbs most: more repetitions bring each to its floor, at little cost.
    parser.add_argument("--nni-repeats", type=int, default=20, help="--repeats for nni")
    parser.add_argument("--jobs", type=int, default=60_000, help="jobs per machine timing")
    parser.add_argument("--workloads", nargs="+", default=["machine", "fixed", "nni"])
    parser.add_argument("--old-tree", type=Path, help="a checkout of --old to use as it is")
    parser.add_argument("--quick", action="store_true", help="one short round, no results file")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.repeats, args.nni_repeats, args.jobs = 1, 1, 1, 5_000

    def run(old: Path) -> dict[str, dict[str, list[float]]]:
        return {
            w: side_by_side(
                old, w, args.jobs, args.nni_repeats if w == "nni" else args.repeats, args.rounds
            )
            for w in args.workloads
        }

    if args.old_tree is not None:
        results = run(args.old_tree.resolve())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            old = Path(tmp) / "old"
            git = ["git", "-C", str(ROOT)]
            subprocess.run([*git, "worktree", "add", "--detach", str(old), args.old], check=True)
            try:
                results = run(old)
            finally:
                subprocess.run([*git, "worktree", "remove", "--force", str(old)], check=True)
    markdown = table(results, args.old, args)
    print(markdown)
    out = {
        "benchmark": "machine_speed",
        "old": args.old,
        "us_per_job": results,
        "ratio": {w: min(t["new"]) / min(t["old"]) for w, t in results.items()},
        "load": os.getloadavg()[0],
        "markdown": markdown,
    }
    if not args.quick:
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
