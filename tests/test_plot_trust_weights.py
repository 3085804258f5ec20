"""benchmarks/plot_trust_weights.py on the fake LCBench surrogate: the weights it records after
each result, and a quick run that writes its plot and JSON where it is told."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .optional import require
from .test_lcbench_adapter import BENCH, _fake, _import
from .test_lcbench_adapter import data as data  # the fixture: a stand-in data folder

TASKS = ("168331", "167201")


def test_the_weights_after_each_result(data: Path) -> None:
    plot = _import("plot_trust_weights")
    lcbench = _import("yahpo.lcbench")
    total = 3 * plot.bench.SCHEDULE.total_budget
    with lcbench.lcbench_workload(TASKS[0], _fake(data, task=TASKS[0]), optimum=0.0) as w:
        points = plot.trust_run(w, 0, total)
    spent = [p[0] for p in points]
    assert spent == sorted(spent)
    assert spent[-1] >= total
    measured = [weights for _, weights, _ in points if len(weights) > 1]
    assert measured  # three iterations measure some budget against the top one
    for weights in measured:
        assert all(0.0 <= v <= 1.0 for v in weights.values())
        assert math.isclose(sum(weights.values()), 1.0)
    for _, weights, p in points:
        assert set(weights) <= set(p)  # a weight only for a measured budget
    summary = plot.summarise([points, points[: len(points) // 2]], total)
    final = summary["budgets"]["52"]
    assert final["final_p"] == 1.0
    assert len(final["median"]) == plot.GRID


def test_a_quick_run_writes_where_it_is_told(data: Path, tmp_path: Path) -> None:
    require("matplotlib")  # the plot
    plot = _import("plot_trust_weights")
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps({"tasks": {key: {"reference": 0.0} for key in TASKS}}))
    fakes = {task: _fake(data, task=task) for task in TASKS}
    out = tmp_path / "out"
    argv = ["--quick", "--results", str(out), "--img", str(out), "--reference", str(reference)]
    try:
        report = plot.main(argv, fakes.__getitem__)
        assert all(fake.closed for fake in fakes.values())  # main closes each task's
    finally:
        for fake in fakes.values():
            fake.close()  # after a failure
    assert not list(BENCH.rglob("trust_weights_quick*"))  # nothing written into the repo
    assert (out / "trust_weights_quick.png").stat().st_size > 1000
    saved = json.loads((out / "trust_weights_quick.json").read_text())
    assert list(saved["tasks"]) == list(TASKS)
    assert saved["total_budget"] == report["total_budget"] == 817
    (out / "trust_weights_quick.png").unlink()
    plot.main([*argv, "--plot-only"])  # replots from the JSON alone
    assert (out / "trust_weights_quick.png").exists()
