"""benchmarks/bench_curves.py's scoring, on made-up curves (no surrogate, no LCDB)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _bench() -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("bench_curves")


def test_the_baselines_and_the_forecast_are_scored_as_documented() -> None:
    bench = _bench()
    steps = np.arange(1.0, 21.0)
    # Task "a": three power laws; task "b": one curve, so it has no peers.
    curves = [("a", steps, c + 0.5 * steps**-0.5) for c in (0.1, 0.2, 0.3)]
    curves.append(("b", steps, 0.4 + 0.0 * steps))
    row = bench.score(curves, 0.25, {"pow3": ("pow3",)})
    assert row["n"] == 4  # 5 reports each (steps 1..5 of 20)
    gap = 0.5 * (5**-0.5 - 20**-0.5)
    # last value: off by each power law's remaining fall, and exact for the flat curve.
    assert row["last value"] == pytest.approx(gap)
    # median of peers: 0.1 is predicted at the median of 0.2 and 0.3 (off by 0.15), 0.2 at
    # that of 0.1 and 0.3 (exact), 0.3 at 0.15 (off by 0.15); the flat curve has no peer and
    # falls back on its last value (exact): the median error is 0.075.
    assert row["median of peers"] == pytest.approx(0.075)
    # last + peers' gain: the peers fall exactly as much: no error.
    assert row["last + peers' gain"] == pytest.approx(0.0, abs=1e-12)
    cell = row["sets"]["pow3"]
    assert cell["error"] < 0.01 * gap  # exact power laws are recovered
    assert cell["coverage"] == 1.0
    table = bench.markdown({"sources": {"made up": {"0.25": row}}, "cost_ms": 0.5})
    assert "| made up (n=4) | 25% | pow3 |" in table
    assert "0.500 ms CPU" in table


def test_a_curve_too_short_at_the_fraction_is_left_out() -> None:
    bench = _bench()
    steps = np.arange(1.0, 11.0)
    row = bench.score([("a", steps, 1 / steps)], 0.2, {"pow3": ("pow3",)})
    assert row == {"n": 0, "sets": {}}  # 2 reports by 20% of 10 steps: fewer than 3
    assert "| x " not in bench.markdown({"sources": {"x": {"0.2": row}}, "cost_ms": 1.0})


def test_the_cost_measure_times_a_judged_report() -> None:
    assert 0 < _bench().cost_ms(repeat=2) < 1000


def test_the_lcdb_held_out_draw_is_disjoint_from_the_calibration_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench()
    # A made-up curves cache (what lcdb_curves builds from LCDB's CSV): 10 curves of 8 anchors.
    n, anchors = 10, 8
    np.savez_compressed(
        tmp_path / "curves.npz",
        keys=np.array([f"{i}/learner" for i in range(n)]),
        lengths=np.full(n, anchors),
        steps=np.tile(16.0 * 2 ** (np.arange(anchors) / 2), n),
        losses=np.repeat(np.arange(n, dtype=float), anchors),
    )
    monkeypatch.setattr(bench, "LCDB_DIR", tmp_path)
    first = {c[0] for c in bench.lcdb_curves(4)}
    second = {c[0] for c in bench.lcdb_curves(4, skip=4)}
    assert len(first) == len(second) == 4
    assert not first & second
    assert {c[0] for c in bench.lcdb_curves(8)} == first | second
