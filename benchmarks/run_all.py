"""Regenerate docs/benchmarks.md from the saved results, or rerun benchmarks first.

Each benchmark runs in a fresh process with ``OPENBLAS_NUM_THREADS=1`` and fixed seeds, writes
``benchmarks/results/<name>.json`` (with its tables under ``"markdown"``), and this script fills
those tables into ``benchmarks/benchmarks_template.md`` to write ``docs/benchmarks.md``.
Timings are measured in-process against a baseline run in the same process; none is asserted.

Run:  python benchmarks/run_all.py             render docs/benchmarks.md from benchmarks/results/
      python benchmarks/run_all.py --run       rerun every benchmark, then render
      python benchmarks/run_all.py --only X Y  rerun these benchmarks, then render
      python benchmarks/run_all.py --quick     smoke runs; docs/benchmarks.md is not rewritten
(needs the extras: pip install -e ".[bench,nni]"). How long each benchmark took at its last
run, and the machine's load then, is kept in ``benchmarks/results/run_all.json`` and shown on
the page. The stopping benchmark caches its runs in ``benchmarks/results/stopping_runs/`` (its
peers need ``benchmarks/stopping/setup_venvs.sh``). The side-by-side quality comparison with
the peer packages (``bench_compare.py``), when rerun, reruns our methods but takes the peers'
runs from ``benchmarks/results/compare/*.json``; ``--peers`` also runs the peer runs missing
there (hours; it needs ``bash benchmarks/peers/setup.sh``). The LCBench benchmark
(``bench_lcbench.py``) needs YAHPO Gym's surrogate: ``bash benchmarks/yahpo/setup.sh``.
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

from summary import summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
TEMPLATE = HERE / "benchmarks_template.md"
OUTPUT = ROOT / "docs" / "benchmarks.md"
# The machine of the last run, and how long each benchmark took at its last full run.
TIMES = RESULTS / "run_all.json"

# (placeholder, script, arguments, arguments with --quick)
BENCHMARKS: list[tuple[str, str, list[str], list[str]]] = [
    ("core", "bench_core.py", [], ["--quick"]),
    # Checks out the older commit it compares with (git worktree) in a temporary directory.
    ("machine_speed", "bench_machine_speed.py", [], ["--quick"]),
    ("parallel", "bench_parallel.py", ["--plots"], ["--quick"]),
    ("nni_overhead", "bench_nni_overhead.py", [], ["--quick"]),
    ("optuna_overhead", "bench_optuna_overhead.py", [], ["--quick"]),
    ("quality", "bench_quality.py", [], ["--quick"]),
    ("resume", "bench_resume.py", [], ["--quick"]),
    ("stopping", "bench_stopping.py", [], ["--quick", "--out", "/dev/null"]),
    ("compare", "bench_compare.py", [], ["--quick"]),
    # Needs the yahpo venv and data: bash benchmarks/yahpo/setup.sh.
    ("lcbench", "bench_lcbench.py", [], ["--quick"]),
    # Needs the yahpo venv and data, and fetches LCDB into benchmarks/data/lcdb/.
    ("curves", "bench_curves.py", [], ["--quick"]),
    ("sklearn", "bench_sklearn.py", [], ["--quick"]),
    # Needs the yahpo venv and data; the peers' venvs: benchmarks/stopping/setup_venvs.sh.
    ("stopping_lcbench", "bench_stopping_lcbench.py", [], ["--quick"]),
]
RESULT_FILES = {
    "core": "bench_core.json",
    "machine_speed": "bench_machine_speed.json",
    "parallel": "parallel.json",
    "nni_overhead": "bench_nni_overhead.json",
    "optuna_overhead": "bench_optuna_overhead.json",
    "quality": "bench_quality.json",
    "resume": "bench_resume.json",
    "stopping": "stopping.json",
    "compare": "bench_compare.json",
    "lcbench": "bench_lcbench.json",
    "curves": "bench_curves.json",
    "sklearn": "bench_sklearn.json",
    # Rendered from the saved runs by bench_lcbench_peers.py (its --run batch takes hours).
    "lcbench_peers": "bench_lcbench_peers.json",
    "stopping_lcbench": "stopping_lcbench.json",
}
# Extra tables of a result file: placeholder -> (file, key).
EXTRA_TABLES = {"stopping_variants": ("stopping.json", "markdown_variants")}


def run(script: str, args: list[str]) -> float:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    start = time.perf_counter()
    print(f"+ python benchmarks/{script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def run_seconds(times: dict[str, float]) -> str:
    """How long the benchmarks took, in all and each, as of their last full runs."""
    each = [(name, times[name]) for name, *_ in BENCHMARKS if name in times]
    untimed = [name for name, *_ in BENCHMARKS if name not in times]
    total = sum(s for _, s in each)
    text = f"{total:.0f} s ({', '.join(f'{name} {s:.0f} s' for name, s in each)})"
    return text + (f" besides {', '.join(untimed)} (not timed yet)" if untimed else "")


def this_machine() -> str:
    return (
        f"{platform.python_implementation()} {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    )


def page() -> str:
    """docs/benchmarks.md as the template and the committed results make it."""
    times = json.loads(TIMES.read_text())
    tables = {
        name: json.loads((RESULTS / file).read_text())["markdown"]
        for name, file in RESULT_FILES.items()
    }
    for name, (file, key) in EXTRA_TABLES.items():
        tables[name] = json.loads((RESULTS / file).read_text())[key]
    tables["summary"] = summary(RESULTS)
    low, high = times["load"]
    tables["run_seconds"] = (
        f"{run_seconds(times['seconds'])} at their last full run, with a load average of "
        f"{low:.1f} to {high:.1f} on the machine's {times['cores']} cores"
    )
    tables["machine"] = times["machine"]
    return render(TEMPLATE.read_text(), tables)


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
    parser.add_argument("--run", action="store_true", help="rerun every benchmark first")
    parser.add_argument("--only", nargs="*", help="rerun only these benchmarks (by name)")
    parser.add_argument(
        "--peers",
        action="store_true",
        help="with the compare benchmark: also run the missing peer runs (hours)",
    )
    args = parser.parse_args(argv)
    seconds: dict[str, float] = {}
    # The load average says whether other work shared the cores (and slowed the timings).
    loads = [os.getloadavg()[0]]
    for name, script, full, quick in BENCHMARKS:
        if not (args.run or args.quick or args.only) or (args.only and name not in args.only):
            continue
        extra = ["--peers"] if args.peers and name == "compare" and not args.quick else []
        seconds[name] = run(script, (quick if args.quick else full) + extra)
        loads.append(os.getloadavg()[0])
    if args.quick:
        print("quick run: docs/benchmarks.md left as it is")
        return {"seconds": seconds}
    if seconds:
        times = json.loads(TIMES.read_text()) if TIMES.exists() else {"seconds": {}}
        times["machine"] = this_machine()
        times["cores"] = os.cpu_count()
        times["load"] = [round(min(loads), 1), round(max(loads), 1)]
        times["seconds"].update({name: round(s, 1) for name, s in seconds.items()})
        TIMES.write_text(json.dumps(times, indent=2) + "\n")
    OUTPUT.write_text(page())
    total = sum(seconds.values())
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({total:.0f} s of benchmarks this run)")
    for name, s in seconds.items():
        print(f"  {name:<16} {s:6.1f} s")
    return {"seconds": seconds}


if __name__ == "__main__":
    main(sys.argv[1:])
