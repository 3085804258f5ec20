"""Parallel efficiency: makespan and utilisation of W workers, ours (serial, parallelism) vs NNI.

Every scheduler runs R=81, eta=3 (li2018 sizing), 2 iterations, on W simulated workers with a
fake clock, for W in {1, 4, 8, 16, 32} and 10 seeds. A job lasts ``budget * LogNormal(0, 0.3)``
(trained from scratch), drawn per job from a seeded RNG, and a configuration's value is fixed
per configuration, so a scheduler's only freedom is the order and timing of its jobs.

- ours: :func:`hyperband.simulate` drives the real :class:`hyperband.Hyperband` machine in
  ``exec_mode="serial"`` and ``"parallelism"``, and ``"parallelism+resume"``: the same with
  promoted jobs resumed from their checkpoints (a promotion lasts ``(budget - previous_budget) *
  LogNormal(0, 0.3)``), which NNI's advisor cannot do (it restarts promoted trials).
- NNI: NNI 3.0's own Hyperband advisor (``nni.algorithms.hpo.hyperband_advisor.Hyperband``,
  ``exec_mode="parallelism"``, its default) runs in this process behind a stub command channel,
  driven by a fake NNI manager with the same workers, clock, durations and values. Two patches,
  both outside its scheduling logic: ``is_created_in_previous_exp`` returns False (it crashes on
  its own string ids otherwise, microsoft/nni issue 5263), and it stops creating brackets after
  2 iterations (it loops forever otherwise).

Reported per scheduler and W (mean over seeds): makespan, utilisation = busy time /
(W x makespan), and makespan / lower bound, where the lower bound is max(total work / W,
longest chain of dependent jobs). Writes ``benchmarks/results/parallel.json`` and, with
``--plots``, ``docs/img/parallel_makespan.png`` and ``docs/img/parallel_timeline.png``.

Run:  python benchmarks/bench_parallel.py [--quick] [--plots]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import heapq
import json
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

import hyperband

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "parallel.json"
IMG = HERE.parent / "docs" / "img"
SPACE: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}}
SIGMA = 0.3


def ours(max_budget: int, eta: int, workers: int, seed: int, exec_mode: str) -> dict[str, Any]:
    resume = exec_mode.endswith("+resume")
    r = hyperband.simulate(
        max_budget,
        eta,
        workers=workers,
        iterations=ITERATIONS,
        seed=seed,
        exec_mode=exec_mode.removesuffix("+resume"),
        resume=resume,
    )
    return {
        "makespan": r.makespan,
        "utilisation": r.utilisation,
        "bound_ratio": r.makespan / r.lower_bound,
        "jobs": len(r.jobs),
        "timeline": [(j.worker, j.start, j.end, j.job.iteration, j.job.bracket) for j in r.jobs],
    }


ITERATIONS = 2


class _StubChannel:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, str]] = []

    def _send(self, command: Any, data: str) -> None:
        self.sent.append((command, data))


def nni_builtin(max_budget: int, eta: int, workers: int, seed: int) -> dict[str, Any]:
    """NNI 3.0's Hyperband advisor on ``workers`` simulated workers."""
    import nni
    import nni.algorithms.hpo.hyperband_advisor as nni_hyperband
    import nni.runtime.msg_dispatcher_base as base
    from nni.algorithms.hpo.hyperband_advisor import Hyperband as Builtin
    from nni.runtime.tuner_command_channel import CommandType

    # Its parameter ids count up in a module global; restart it so that a run's ids (which key
    # the durations below) do not depend on the runs before it in this process.
    nni_hyperband._next_parameter_id = 0
    env = base.dispatcher_env_vars
    base.dispatcher_env_vars = env._replace(NNI_TUNER_COMMAND_CHANNEL="ws://_unittest_")
    try:
        adv = Builtin(optimize_mode="maximize", R=max_budget, eta=eta, exec_mode="parallelism")
    finally:
        base.dispatcher_env_vars = env
    adv.is_created_in_previous_exp = lambda _pid: False  # microsoft/nni issue 5263
    channel = _StubChannel()
    adv._channel = channel
    original = adv._get_one_trial_job

    def bounded() -> Any:
        # Stop before the bracket that would open iteration ITERATIONS: no job, keep the credit.
        if not adv.generated_hyper_configs and adv.curr_s < 0 and adv.curr_hb + 1 >= ITERATIONS:
            return None
        return original()

    adv._get_one_trial_job = bounded
    adv.process_command(CommandType.Initialize, SPACE)
    adv.random_state = np.random.RandomState(seed)  # NNI leaves it unseeded

    def stream(*key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))

    def ids(pid: str) -> tuple[int, int, int, int]:
        bracket, rung, k = pid.split("_")
        hb, s = bracket.split("-")
        return int(hb), int(s), int(rung), int(k)

    idle = list(range(workers))
    heap: list[tuple[float, int, int, str]] = []
    seen = 0
    now = 0.0
    seq = 0
    timeline: list[tuple[int, float, float, int, int]] = []
    chain_end: dict[tuple[int, int, int], float] = {}  # (hb, s, k) -> chain length so far
    longest = 0.0
    adv.process_command(CommandType.RequestTrialJobs, workers)
    while True:
        for command, data in channel.sent[seen:]:
            if command is CommandType.NewTrialJob:
                trial = json.loads(data)
                hb, s, rung, k = ids(trial["parameter_id"])
                budget = trial["parameters"]["TRIAL_BUDGET"]
                d = budget * float(stream(0, hb, s, k, rung).lognormal(0.0, SIGMA))
                w = idle.pop(0)
                heapq.heappush(heap, (now + d, seq, w, data))
                seq += 1
                timeline.append((w, now, now + d, hb, s))
                key = (hb, s, k)
                chain_end[key] = chain_end.get(key, 0.0) + d
                longest = max(longest, chain_end[key])
        seen = len(channel.sent)
        if not heap:
            break
        now, _, w, data = heapq.heappop(heap)
        trial = json.loads(data)
        pid = trial["parameter_id"]
        hb, s, rung, k = ids(pid)
        value = float(stream(1, hb, s, k).random())
        tid = f"t{w}-{now}"
        adv.process_command(
            CommandType.ReportMetricData,
            {
                "parameter_id": pid,
                "trial_job_id": tid,
                "type": "FINAL",
                "sequence": 0,
                "value": nni.dump(value),
            },
        )
        idle.append(w)
        idle.sort()
        adv.process_command(
            CommandType.TrialEnd, {"trial_job_id": tid, "event": "SUCCEEDED", "hyper_params": data}
        )
        adv.process_command(CommandType.RequestTrialJobs, 1)
    makespan = max(end for _, _, end, _, _ in timeline)
    work = sum(end - start for _, start, end, _, _ in timeline)
    expected = ITERATIONS * hyperband.schedule(max_budget, eta).total_jobs
    if len(timeline) != expected:
        raise RuntimeError(f"NNI ran {len(timeline)} jobs, expected {expected}")
    bound = max(work / workers, longest)
    return {
        "makespan": makespan,
        "utilisation": work / (workers * makespan),
        "bound_ratio": makespan / bound,
        "jobs": len(timeline),
        "timeline": timeline,
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {
        key: statistics.mean(r[key] for r in runs)
        for key in ("makespan", "utilisation", "bound_ratio")
    }


def plot(results: dict[str, Any], timelines: dict[str, Any], ws: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    IMG.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for name, label in (
        ("nni", "NNI 3.0 Hyperband"),
        ("serial", "ours, serial"),
        ("parallelism", "ours, parallelism"),
        ("parallelism+resume", "ours, parallelism + resume"),
    ):
        ax.plot(ws, [results[name][str(w)]["makespan"] for w in ws], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(ws, [str(w) for w in ws])
    ax.set_xlabel("workers W")
    ax.set_ylabel("makespan (budget units)")
    ax.set_title("R=81, eta=3, 2 iterations (mean of seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(IMG / "parallel_makespan.png")
    plt.close(fig)

    fig, axes = plt.subplots(3, 1, figsize=(7, 7.5), dpi=90)
    colors = plt.get_cmap("tab10")
    for ax, (name, label) in zip(
        axes,
        (("serial", "ours, serial"), ("parallelism", "ours, parallelism"), ("nni", "NNI 3.0")),
        strict=True,
    ):
        for w, start, end, it, s in timelines[name]:
            ax.barh(w, end - start, left=start, height=0.8, color=colors(s), alpha=1 - 0.4 * it)
        ax.set_title(f"{label}: W=16, seed 0", fontsize=10)
        ax.set_ylabel("worker")
    axes[-1].set_xlabel("time (budget units); colour = bracket s, lighter = 2nd iteration")
    for ax in axes[1:]:
        ax.set_xlim(axes[2].get_xlim()[0], max(a.get_xlim()[1] for a in axes[1:]))
    fig.tight_layout()
    fig.savefig(IMG / "parallel_timeline.png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, W in {4, 16}")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--plots", action="store_true")
    args = parser.parse_args(argv)
    logging.getLogger("nni").setLevel(logging.ERROR)
    ws = [4, 16] if args.quick else [1, 4, 8, 16, 32]
    seeds = range(2 if args.quick else args.seeds)
    results: dict[str, dict[str, dict[str, float]]] = {
        "serial": {},
        "parallelism": {},
        "parallelism+resume": {},
        "nni": {},
    }
    timelines: dict[str, Any] = {}
    for w in ws:
        for name in results:
            runs = [
                nni_builtin(81, 3, w, seed) if name == "nni" else ours(81, 3, w, seed, name)
                for seed in seeds
            ]
            results[name][str(w)] = summarise(runs)
            if w == 16:
                timelines[name] = runs[0]["timeline"]
    print(f"R=81, eta=3, {ITERATIONS} iterations, mean of {len(seeds)} seeds")
    print(f"{'W':>3}  {'scheduler':<18} {'makespan':>9} {'util':>6} {'/bound':>7} {'vs NNI':>7}")
    for w in ws:
        nni_ms = results["nni"][str(w)]["makespan"]
        for name in ("nni", "serial", "parallelism", "parallelism+resume"):
            r = results[name][str(w)]
            print(
                f"{w:>3}  {name:<18} {r['makespan']:>9.1f} {r['utilisation']:>6.3f} "
                f"{r['bound_ratio']:>7.3f} {r['makespan'] / nni_ms:>7.3f}"
            )
    labels = {
        "nni": "NNI 3.0 Hyperband (parallelism)",
        "serial": "ours, serial",
        "parallelism": "ours, parallelism",
        "parallelism+resume": "ours, parallelism + checkpoint resume",
    }
    lines = [
        f"R=81, eta=3, {ITERATIONS} iterations, mean of {len(seeds)} seeds; a job lasts "
        "budget x LogNormal(0, 0.3) (a resumed promotion: budget - previous_budget times that).",
        "",
        "| W | scheduler | makespan | utilisation | makespan / lower bound | makespan / NNI's |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for w in ws:
        nni_ms = results["nni"][str(w)]["makespan"]
        for name, label in labels.items():
            r = results[name][str(w)]
            lines.append(
                f"| {w} | {label} | {r['makespan']:.1f} | {r['utilisation']:.3f} | "
                f"{r['bound_ratio']:.3f} | {r['makespan'] / nni_ms:.3f} |"
            )
    out = {
        "benchmark": "parallel",
        "iterations": ITERATIONS,
        "seeds": len(seeds),
        "workers": ws,
        "results": results,
        "markdown": "\n".join(lines),
    }
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    if args.plots and 16 in ws:
        plot(results, timelines, ws)
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
