"""Per-run results on disk, so that a rerun of the stopping benchmark skips finished runs.

One JSON-lines file per (method, workload): ``<root>/<plain(method)>/<workload>.jsonl``, one
line per run: ``{"workers": W, "seed": s, "record": {...}}``. Lines are appended (and flushed)
as runs finish, so an interrupted benchmark resumes where it stopped. numpy-free: the peers'
virtualenvs write here too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["append", "load", "plain"]


def plain(method: str) -> str:
    """A method's label as a file name: ``asynchronous+median(0.5)`` -> ``asynchronous-median-0.5``.

    The label stays as it is in the tables; on disk ``+ ( ) = ,`` and spaces trip up shells and
    tools, so each run of characters other than letters, digits, ``_`` and ``.`` becomes ``-``.
    """
    return re.sub(r"[^A-Za-z0-9_.]+", "-", method).strip("-")


def _path(root: Path, method: str, workload: str) -> Path:
    return root / plain(method) / f"{workload}.jsonl"


def load(root: Path, method: str, workload: str) -> dict[tuple[int, int], dict[str, Any]]:
    """The cached records of (method, workload), keyed by (workers, seed)."""
    path = _path(root, method, workload)
    out: dict[tuple[int, int], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                out[int(row["workers"]), int(row["seed"])] = row["record"]
    return out


def append(
    root: Path, method: str, workload: str, workers: int, seed: int, record: dict[str, Any]
) -> None:
    """Add one run's record."""
    path = _path(root, method, workload)
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"workers": workers, "seed": seed, "record": record}
    with path.open("a") as f:
        f.write(json.dumps(row, separators=(",", ":")) + "\n")
