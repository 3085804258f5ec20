"""The curve rule's forecast calibration on LCBench and LCDB together (issue 16).

An experiment, not a maintained benchmark. ``hyperband/core/curve_fit.py``'s forecasts carry
four calibration constants: ``_NMAX`` (the most reports a likelihood weight counts),
``_TEMPERATURE`` (divides the log-likelihood weights), ``_INFLATION`` (multiplies each model's
residual spread) and ``_GAP`` (the share of the curve's recent log-linear change added to every
model's spread). They were first fitted to LCBench alone (4, 1.5 and 0.8 for the last three):
LCBench's 80% intervals held 79-85% of the final values, LCDB's 92-95%.

This script scores a grid of ``(_GAP, _INFLATION, _TEMPERATURE)`` with the default family set
on the curves of ``benchmarks/bench_curves.py``: LCBench's 10 development tasks (100 random
configurations each) and the first 1,000 LCDB curves of its draw, which choose; and the first
10 ``HELD_OUT`` LCBench tasks and the next 1,000 LCDB curves, which only check. It sets the
module's constants for each point (the library is not changed) and prints, per source and
fraction of the budget (10%, 25%, 50%), the 80% interval's coverage and the median absolute
error of the median.

Run (the yahpo venv and data, and LCDB's sdist, as ``bench_curves.py`` needs them)::

    nice -n 10 python benchmarks/research/curve_calibration.py            # the grid below
    python benchmarks/research/curve_calibration.py --gap 1.2 --inflation 1 --temperature 1

Writes ``curve_calibration.json`` next to this file (one row per grid point).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent.parent))

import bench_curves as bc  # noqa: E402

import hyperband.core.curve_fit as cf  # noqa: E402

GAPS = (0.5, 0.8, 1.2, 1.6)
INFLATIONS = (1.0, 1.5)
TEMPERATURES = (1.0, 2.0, 4.0)


def point(
    sources: dict[str, list[bc.Curve]], gap: float, inflation: float, t: float
) -> dict[str, Any]:
    """Coverage and error of the default families with these constants, per source and k."""
    saved = (cf._GAP, cf._INFLATION, cf._TEMPERATURE)
    cf._GAP, cf._INFLATION, cf._TEMPERATURE = gap, inflation, t
    try:
        row: dict[str, Any] = {"gap": gap, "inflation": inflation, "temperature": t}
        for name, curves in sources.items():
            for fraction in bc.FRACTIONS:
                cell = bc.score(curves, fraction, {"all four": cf.DEFAULT_FAMILIES})
                row[f"{name} {fraction:.0%}"] = cell["sets"]["all four"]
        return row
    finally:
        cf._GAP, cf._INFLATION, cf._TEMPERATURE = saved


def line(row: dict[str, Any]) -> str:
    cells = [
        f"{k.replace('held-out', 'ho')}: {v['coverage']:.0%} / {v['error']:.4f}"
        for k, v in row.items()
        if isinstance(v, dict)
    ]
    head = f"gap {row['gap']:g}, inflation {row['inflation']:g}, temperature {row['temperature']:g}"
    return head + " | " + "; ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gap", type=float, nargs="+", default=GAPS)
    parser.add_argument("--inflation", type=float, nargs="+", default=INFLATIONS)
    parser.add_argument("--temperature", type=float, nargs="+", default=TEMPERATURES)
    parser.add_argument("--lcbench-configs", type=int, default=100)
    parser.add_argument("--lcdb-curves", type=int, default=1000)
    args = parser.parse_args()
    from yahpo import lcbench

    sources = bc.curve_sources(args.lcbench_configs, args.lcdb_curves, lcbench.DEV_TASKS)
    rows = []
    for gap, inflation, t in itertools.product(args.gap, args.inflation, args.temperature):
        rows.append(point(sources, gap, inflation, t))
        print(line(rows[-1]), flush=True)
    (HERE / "curve_calibration.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
