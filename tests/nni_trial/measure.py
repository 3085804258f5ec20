"""Measures for docs/nni.md ("Early stopping", "Measured"); not a test.

Usage (from the repository root, with the ``nni`` extra installed)::

    python tests/nni_trial/measure.py [--runs 2]

1. Real NNI 3.0 experiments, the end-to-end tests' study (R=9, eta=3, one iteration, 3 trials
   at a time, trials of 0.2 s per epoch reporting every epoch, seed 1), with ``early_stop``
   null, ``rung`` and ``median`` (``min_peers: 1``): wall time, NNI's trial statuses, jobs
   stopped, epochs the trials trained, the best result.
2. In-process, the advisor's cost per PERIODICAL metric: 27 trials of budget 9 (R=243, eta=3,
   min_budget=9) reporting every epoch, median of 5 runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

RULES: tuple[str | None, ...] = (None, "rung", "median")


def experiments(runs: int) -> None:
    sys.path.insert(0, str(TESTS.parent))
    from tests import test_nni_e2e as e2e

    for _ in range(runs):
        for rule in RULES:
            tmp = Path(tempfile.mkdtemp(prefix="nni-measure-"))
            os.environ["HOME"] = str(tmp)  # NNI keeps its registry of experiments there
            args: dict[str, object] = {} if rule is None else {"early_stop": rule}
            if rule == "median":
                args["early_stop_options"] = {"min_peers": 1}
            run = e2e.run_experiment(tmp, class_args=args, epoch_seconds=0.2)
            state = e2e.checkpoint(tmp)["machine"]
            best = state["best"]
            line = {
                "early_stop": rule,
                "wall_s": round(run.wall, 1),
                "status": run.status,
                "nni_statuses": dict(Counter(run.trials.values())),
                "stopped": state["n_stopped"],
                "succeeded": state["n_succeeded"],
                "epochs": sum(r.get("epochs", 0) for r in run.records),
                "best": None if best is None else [best["value"], best["budget"]],
            }
            print(json.dumps(line), flush=True)


def overhead() -> None:
    import test_nni_advisor as unit
    from nni.runtime.tuner_command_channel import CommandType

    logging.disable(logging.CRITICAL)
    for rule in RULES:
        per_metric = []
        stopped = 0
        for _ in range(5):
            advisor, channel = unit.make(
                R=243,
                eta=3,
                min_budget=9,
                early_stop=rule,
                early_stop_options={"min_peers": 1} if rule == "median" else None,
            )
            advisor.process_command(CommandType.Initialize, unit.SPACE)
            advisor.process_command(CommandType.RequestTrialJobs, 27)
            jobs = unit.trials_sent(channel)
            metrics = [
                {
                    "parameter_id": job["parameter_id"],
                    "trial_job_id": f"T{i}",
                    "type": "PERIODICAL",
                    "sequence": epoch - 1,
                    "value": json.dumps(unit.objective(job["parameters"], epoch)),
                }
                for epoch in range(1, 10)
                for i, job in enumerate(jobs)
            ]
            start = time.perf_counter()
            for metric in metrics:
                advisor.process_command(CommandType.ReportMetricData, metric)
            per_metric.append((time.perf_counter() - start) / len(metrics) * 1e6)
            assert advisor.machine is not None
            stopped = advisor.machine.n_stopped
        print(
            f"early_stop={rule}: {statistics.median(per_metric):.1f} us per PERIODICAL metric "
            f"(min {min(per_metric):.1f}, max {max(per_metric):.1f}); {stopped} of 27 stopped"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    overhead()
    experiments(args.runs)


if __name__ == "__main__":
    main()
