"""Cost of the ask/tell machine per job, and its memory, at 1e5 and 1e6 jobs.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_core.py [--jobs 100000 1000000]

What one "job" includes: ``ask()`` (bracket start and sampling of the configurations, amortised),
``tell()`` with a float, promotions, best-tracking and the ``Result`` returned, plus the
driver loop itself. R=81, eta=3, parallelism mode, iterations=None, a 3-parameter space
(uniform, loguniform, choice). The flatness figure is the ratio of the per-job cost at the
largest size to that at the smallest, measured in the same process (the target is ~1.0: the
machine drops finished brackets, so its cost and memory do not grow with the run).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import hyperband

SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
}


def drive(n_jobs: int) -> float:
    """Seconds to ask and tell ``n_jobs`` jobs, one at a time."""
    hb = hyperband.Hyperband(SPACE, max_budget=81, eta=3, iterations=None, seed=0)
    ask, tell = hb.ask, hb.tell
    gc.collect()
    start = time.perf_counter()
    for _ in range(n_jobs):
        job = ask()
        tell(job.id, job.config["x"])  # type: ignore[union-attr]
    return time.perf_counter() - start


def peak_memory(n_jobs: int) -> int:
    """Peak bytes allocated by Python while running ``n_jobs`` jobs (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        drive(n_jobs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


RESULTS = Path(__file__).resolve().parent / "results" / "bench_core.json"


_IMPORT_PROBE = """
import time
t0 = time.perf_counter()
import numpy, numpy.random, attrs
t1 = time.perf_counter()
import hyperband
t2 = time.perf_counter()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3)
"""


def import_cost(repeat: int = 7) -> tuple[float, float]:
    """Median ms to import numpy + attrs, and hyperband on top of them, in fresh processes."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT_PROBE], capture_output=True, text=True, check=True
        )
        base, ours = map(float, out.stdout.split())
        runs.append((base, ours))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings per size")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="1e4 and 1e5 jobs, one timing")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.repeat = [10_000, 100_000], 1

    drive(20_000)  # warm-up: imports, caches
    rows = []
    for n in args.jobs:
        seconds = min(drive(n) for _ in range(args.repeat))
        rows.append(
            {
                "jobs": n,
                "us_per_job": seconds / n * 1e6,
                "peak_mib": peak_memory(n) / 2**20,
            }
        )
    flat = rows[-1]["us_per_job"] / rows[0]["us_per_job"]
    base_ms, import_ms = import_cost()
    lines = [
        f"One `ask()` + `tell()` per job, R=81, eta=3, a 3-parameter space, best of "
        f"{args.repeat}; Python {platform.python_version()}.",
        "",
        "| jobs | us per job | peak Python memory (MiB) |",
        "|---:|---:|---:|",
        *(f"| {r['jobs']:,} | {r['us_per_job']:.2f} | {r['peak_mib']:.2f} |" for r in rows),
        "",
        f"Flatness (us per job at {rows[-1]['jobs']:,} / at {rows[0]['jobs']:,}): {flat:.3f}.",
        "",
        f"`import hyperband` (the machine; drivers load on first use) takes {import_ms:.0f} ms "
        f"on top of numpy and attrs, which take {base_ms:.0f} ms themselves (median of 7 fresh "
        "processes).",
    ]
    out = {
        "benchmark": "core",
        "rows": rows,
        "flatness": flat,
        "import_ms": {"numpy_attrs": base_ms, "hyperband_on_top": import_ms},
        "markdown": "\n".join(lines),
    }
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    if args.json:
        print(json.dumps(out))
        return out
    print(f"{'jobs':>10}  {'us/job':>8}  {'peak MiB':>9}")
    for r in rows:
        print(f"{r['jobs']:>10}  {r['us_per_job']:>8.2f}  {r['peak_mib']:>9.2f}")
    print(f"flatness (us/job at {rows[-1]['jobs']} / at {rows[0]['jobs']}): {flat:.3f}")
    print("peak MiB: the most Python allocated during the run (tracemalloc, a separate pass)")
    print(f"import hyperband: {import_ms:.0f} ms on top of numpy + attrs ({base_ms:.0f} ms)")
    return out


if __name__ == "__main__":
    main()
