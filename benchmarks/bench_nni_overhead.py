"""Scheduling overhead of an NNI advisor: ours against NNI 3.0's built-in Hyperband.

Both advisors run in this process behind a stub command channel (``MsgDispatcherBase`` does not
connect when the channel URL starts with ``ws://_unittest_``). A fake NNI manager plays one
Hyperband iteration with ``--concurrency`` trial slots: it asks for jobs, and for each job sends
what NNI's manager sends (one PERIODICAL and one FINAL metric, the trial's end, a request for
one more job), in the formats NNI 3.0 uses (metric values and trial parameters as JSON text).
Only the time spent inside the advisors' command handlers is counted, divided by the number of
jobs; the fake manager's own work is not.

NNI 3.0's built-in advisor crashes on its own string parameter ids in
``is_created_in_previous_exp`` (microsoft/nni issue 5263); for the built-in only, that method is
replaced by one that returns False, as it would for a fresh experiment.

Run: ``python benchmarks/bench_nni_overhead.py [--max-budget 81] [--eta 3] [--concurrency 8]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import nni
import nni.runtime.msg_dispatcher_base as dispatcher_base
from nni.algorithms.hpo.hyperband_advisor import Hyperband as BuiltinHyperband
from nni.runtime.tuner_command_channel import CommandType

from hyperband import schedule
from hyperband.integrations.nni import HyperbandAdvisor

RESULTS = Path(__file__).resolve().parent / "results" / "bench_nni_overhead.json"
SPACE: dict[str, Any] = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "units": {"_type": "randint", "_value": [16, 512]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
}


class StubChannel:
    """Collects what the advisor sends; the fake manager reads it between timed calls."""

    def __init__(self) -> None:
        self.sent: list[tuple[CommandType, str]] = []

    def _send(self, command: CommandType, data: str) -> None:
        self.sent.append((command, data))


def objective(params: dict[str, Any]) -> float:
    return -abs(params["dropout"] - 0.2) + 0.01 * float(params["TRIAL_BUDGET"]) ** 0.5


def drive(advisor: Any, n_jobs: int, concurrency: int) -> tuple[int, float]:
    """Run ``n_jobs`` jobs through ``advisor``; return (jobs, seconds inside its handlers)."""
    channel = StubChannel()
    advisor._channel = channel
    spent = 0

    def call(command: CommandType, data: Any) -> None:
        nonlocal spent
        t0 = time.perf_counter_ns()
        advisor.process_command(command, data)
        spent += time.perf_counter_ns() - t0

    running: deque[str] = deque()  # payloads of the trials running, oldest first
    seen = 0
    call(CommandType.Initialize, SPACE)
    call(CommandType.RequestTrialJobs, concurrency)
    done = 0
    while done < n_jobs:
        for command, data in channel.sent[seen:]:
            if command is CommandType.NewTrialJob:
                running.append(data)
        seen = len(channel.sent)
        if not running:
            raise RuntimeError(f"{type(advisor).__name__} stopped after {done} jobs")
        payload = running.popleft()
        trial = json.loads(payload)
        pid, params = trial["parameter_id"], trial["parameters"]
        value = objective(params)
        tid = f"trial{done}"
        for kind, v in (("PERIODICAL", value / 2), ("FINAL", value)):
            call(
                CommandType.ReportMetricData,
                {
                    "parameter_id": pid,
                    "trial_job_id": tid,
                    "type": kind,
                    "sequence": 0,
                    "value": nni.dump(v),
                },
            )
        call(
            CommandType.TrialEnd,
            {"trial_job_id": tid, "event": "SUCCEEDED", "hyper_params": payload},
        )
        call(CommandType.RequestTrialJobs, 1)
        done += 1
    return done, spent / 1e9


def ours(max_budget: float, eta: float) -> Any:
    return HyperbandAdvisor(
        R=max_budget, eta=eta, iterations=1, seed=0, command_channel_url="ws://_unittest_"
    )


def builtin(max_budget: float, eta: float) -> Any:
    # The built-in advisor takes its channel URL from the environment, as nni read it at import.
    env = dispatcher_base.dispatcher_env_vars
    dispatcher_base.dispatcher_env_vars = env._replace(NNI_TUNER_COMMAND_CHANNEL="ws://_unittest_")
    try:
        advisor = BuiltinHyperband(optimize_mode="maximize", R=max_budget, eta=eta)
    finally:
        dispatcher_base.dispatcher_env_vars = env
    # microsoft/nni issue 5263: its parameter ids are strings like "0-4_0_7", which the base
    # class compares with an int. In a fresh experiment nothing is from a previous one.
    advisor.is_created_in_previous_exp = lambda param_id: False
    return advisor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-budget", type=float, default=81.0)
    parser.add_argument("--eta", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--min-ratio", type=float, default=0, help="exit 1 unless built-in/ours >= this"
    )
    parser.add_argument("--quick", action="store_true", help="one run, no results file")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    max_budget = int(args.max_budget) if args.max_budget.is_integer() else args.max_budget
    eta = int(args.eta) if args.eta.is_integer() else args.eta
    n_jobs = schedule(max_budget, eta).total_jobs  # one iteration, for both
    results: dict[str, list[float]] = {"ours": [], "builtin": []}
    for _ in range(args.repeats):
        for name, make in (("ours", ours), ("builtin", builtin)):
            jobs, seconds = drive(make(max_budget, eta), n_jobs, args.concurrency)
            results[name].append(seconds / jobs * 1e6)
    mine = statistics.median(results["ours"])
    theirs = statistics.median(results["builtin"])
    print(
        f"NNI advisor scheduling overhead: R={max_budget}, eta={eta}, {n_jobs} jobs, "
        f"{args.concurrency} trial slots, median of {args.repeats} runs; python "
        f"{sys.version.split()[0]}, nni {nni.__version__}"
    )
    print(f"{'advisor':<44} {'us/job':>9}")
    print(f"{'hyperband.integrations.nni.HyperbandAdvisor':<44} {mine:>9.1f}")
    print(f"{'nni.algorithms.hpo.hyperband_advisor (3.0)':<44} {theirs:>9.1f}")
    print(f"ours is {theirs / mine:.1f}x cheaper")
    if not args.quick:
        table = "\n".join(
            [
                f"R={max_budget}, eta={eta}, one iteration ({n_jobs} jobs), {args.concurrency} "
                f"trial slots, median of {args.repeats} runs; nni {nni.__version__}.",
                "",
                "| advisor | us of scheduling per job |",
                "|---|---:|",
                f"| `hyperband.integrations.nni.HyperbandAdvisor` | {mine:.1f} |",
                f"| NNI 3.0 `nni.algorithms.hpo.hyperband_advisor.Hyperband` | {theirs:.1f} |",
                "",
                f"Ours is **{theirs / mine:.1f}x** cheaper.",
            ]
        )
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "benchmark": "nni_overhead",
                    "jobs": n_jobs,
                    "us_per_job": {"ours": results["ours"], "builtin": results["builtin"]},
                    "median": {"ours": mine, "builtin": theirs},
                    "ratio": theirs / mine,
                    "markdown": table,
                },
                indent=1,
            )
            + "\n"
        )
    return 0 if theirs / mine >= args.min_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
