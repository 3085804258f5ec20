"""Run every benchmark and regenerate docs/benchmarks.md (tables) and its plots.

Each benchmark runs in a fresh process with ``OPENBLAS_NUM_THREADS=1`` and fixed seeds, writes
``benchmarks/results/<name>.json`` (with its tables under ``"markdown"``), and this script fills
those tables into ``benchmarks/benchmarks_template.md`` to write ``docs/benchmarks.md``.
Timings are measured in-process against a baseline run in the same process; none is asserted.

Run:  python benchmarks/run_all.py [--quick] [--peers]   (needs: pip install -e ".[bench,nni]")
Takes about 6-8 minutes on 2 cores (``--quick``: under a minute, and docs/benchmarks.md is not
rewritten). The side-by-side comparison with the peer packages (``bench_compare.py``) re-runs
our methods but takes the peers' runs from ``benchmarks/results/compare/*.json``; ``--peers``
also runs the peer runs missing there (hours; it needs ``bash benchmarks/peers/setup.sh``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
TEMPLATE = HERE / "benchmarks_template.md"
OUTPUT = ROOT / "docs" / "benchmarks.md"

# (placeholder, script, arguments, arguments with --quick)
BENCHMARKS: list[tuple[str, str, list[str], list[str]]] = [
    ("core", "bench_core.py", [], ["--quick"]),
    ("parallel", "bench_parallel.py", ["--plots"], ["--quick"]),
    ("nni_overhead", "bench_nni_overhead.py", [], ["--quick"]),
    ("optuna_overhead", "bench_optuna_overhead.py", [], ["--quick"]),
    ("quality", "bench_quality.py", [], ["--quick"]),
    ("resume", "bench_resume.py", [], ["--quick"]),
    ("compare", "bench_compare.py", [], ["--quick"]),
]
RESULT_FILES = {
    "core": "bench_core.json",
    "parallel": "parallel.json",
    "nni_overhead": "bench_nni_overhead.json",
    "optuna_overhead": "bench_optuna_overhead.json",
    "quality": "bench_quality.json",
    "resume": "bench_resume.json",
    "compare": "bench_compare.json",
}


def run(script: str, args: list[str]) -> float:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    print(f"+ python benchmarks/{script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def render(template: str, tables: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in tables:
            raise KeyError(f"the template names {{{{{name}}}}}, which no benchmark produced")
        return tables[name]

    return re.sub(r"\{\{(\w+)\}\}", fill, template)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke runs; docs not rewritten")
    parser.add_argument("--only", nargs="*", help="run only these benchmarks (by name)")
    parser.add_argument(
        "--peers", action="store_true", help="also run the missing peer runs (hours)"
    )
    args = parser.parse_args(argv)
    seconds: dict[str, float] = {}
    for name, script, full, quick in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        extra = ["--peers"] if args.peers and name == "compare" and not args.quick else []
        seconds[name] = run(script, (quick if args.quick else full) + extra)
    if args.quick:
        print("quick run: docs/benchmarks.md left as it is")
        return {"seconds": seconds}
    tables = {
        name: json.loads((RESULTS / file).read_text())["markdown"]
        for name, file in RESULT_FILES.items()
    }
    tables["machine"] = (
        f"{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    )
    OUTPUT.write_text(render(TEMPLATE.read_text(), tables))
    total = sum(seconds.values())
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({total:.0f} s of benchmarks)")
    for name, s in seconds.items():
        print(f"  {name:<16} {s:6.1f} s")
    return {"seconds": seconds}


if __name__ == "__main__":
    main(sys.argv[1:])
