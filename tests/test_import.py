"""`import hyperband` loads the machine only: no driver, engine or test library."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "nni",
    "distributed",
    "dask",
    "matplotlib",
    "sklearn",
    "pandas",
    "tqdm",
    "hypothesis",
    "ConfigSpace",
    "optuna",
    "keras",
    "jax",
    "multiprocessing",
    "concurrent.futures.process",
    "hyperband.drivers.runner",
    "hyperband.drivers.simulate",
]


def test_import_hyperband_loads_no_driver_or_engine() -> None:
    code = (
        "import json, sys, hyperband\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_drivers_load_on_first_use() -> None:
    code = (
        "import sys, hyperband\n"
        "assert 'hyperband.drivers.runner' not in sys.modules\n"
        "from hyperband import run, RunResult\n"
        "assert 'hyperband.drivers.runner' in sys.modules\n"
        "assert run.__module__ == 'hyperband.drivers.runner'\n"
        "assert 'simulate' in dir(hyperband)\n"
        "try:\n"
        "    hyperband.nope\n"
        "except AttributeError as exc:\n"
        "    assert 'nope' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
