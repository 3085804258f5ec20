"""The peers on LCBench, side by side with our methods (``bench_lcbench.py``).

Run:  nice -n 10 python benchmarks/bench_lcbench_peers.py --run     (the missing peer runs: hours)
      python benchmarks/bench_lcbench_peers.py                     (the tables from saved runs)
      python benchmarks/bench_lcbench_peers.py --run --peers DEHB --tasks 7593 --seeds 2

The peers are the real packages of ``bench_compare.py`` (HpBandSter's BOHB, DEHB, SMAC3 MF,
Optuna TPE + HyperbandPruner, Syne Tune's ASHA and BOHB), each run by its runner script in its
own venv (``benchmarks/peers/``), niced, one BLAS thread, ``PYTHONHASHSEED=0``, on the workload
``lcbench_<task>``: the runner starts its own surrogate server (``benchmarks/yahpo/client.py``
needs only numpy). Same budget as ours: min 1 and max 52 epochs, eta 3, a total of 3268 epochs
(``bench_lcbench.TOTAL``); a peer's fractional rung (52 / 27 = 1.93 epochs) trains the nearest
whole number of epochs (2), as our ``integer_budgets=True`` does. Every run is reduced the same
way as ours (``bench_compare.reduce_trace``): an evaluation costs its budget in epochs, except
Optuna's and Syne Tune's, whose trials continue training (a trial costs the epochs it reached);
the run is the prefix of its trace that fits in the total budget; the regret is that of the
incumbent (best observed value at 52 epochs) against the task's reference.

Resumable: each (peer, task, seed) is one file, ``benchmarks/results/lcbench_peers/<peer>/
<task>-<seed>.json``, written when its run ends; a batch skips the runs that have one. One peer
process runs at a time, all the missing seeds of a task in one process (its imports and its
surrogate server cost seconds). Order: the cheap peers (DEHB, Optuna, Syne Tune) on every task,
then HpBandSter, then SMAC3 (40-100 s a run) on ``FIRST_TASKS`` first.

The report (``benchmarks/results/bench_lcbench_peers.json``, tables under ``"markdown"``): per
task, every method's median [IQR] at 25% and 100% of the budget (ours from
``bench_lcbench.json``), and per task whether the best of ours is at or below the best peer.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_compare as cmp
import bench_stopping as bs
import numpy as np
from bench_lcbench import FRACTIONS, METHODS, SEEDS, TOTAL, regret_table_head
from yahpo import lcbench
from yahpo.client import LCBenchSurrogate

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
RUNS = "lcbench_peers"
OURS_FILE = "bench_lcbench.json"
COMPARE_FILE = "bench_compare.json"

# Run order: cheap peers on every task first, then HpBandSter, then SMAC3.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("DEHB", "Optuna TPE+HB", "Syne Tune ASHA", "Syne Tune BOHB"),
    ("BOHB (HpBandSter)",),
    ("SMAC3 MF",),
)
PEER_NAMES = tuple(p for g in GROUPS for p in g)
# SMAC3 runs these first (two that rank badly at 2 epochs, two that rank well).
FIRST_TASKS = ("126029", "167201", "167185", "168331")

Record = dict[str, Any]


def run_path(results: Path, peer: str, task: str, seed: int) -> Path:
    return results / RUNS / cmp.store(peer).stem / f"{task}-{seed}.json"


def task_order(peer: str, tasks: list[str]) -> list[str]:
    if peer != "SMAC3 MF":
        return tasks
    return [t for t in FIRST_TASKS if t in tasks] + [t for t in tasks if t not in FIRST_TASKS]


def reduce_run(w: Any, total: float, run: dict[str, Any]) -> Record:
    """The compact record of one peer run (as ``bench_lcbench.run_task`` makes ours)."""
    record = cmp.reduce_trace(w, total, run)
    at = np.array([f * total for f in FRACTIONS])
    record["regret_at"] = [cmp._num(v) for v in cmp.regret_at(record, at)]
    record["below_reference"] = len(w.below_reference)
    w.below_reference.clear()
    return record


def run_batch(
    peers: list[str],
    tasks: list[str],
    seeds: list[int],
    results: Path,
    total: float,
    *,
    workload: Callable[[str], Any] | None = None,
    execute: Callable[[list[str]], None] | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Every missing (peer, task, seed) run, in ``GROUPS`` order; how many runs were made.

    ``workload(task)`` makes the workload used to score traces (default: the real surrogate)
    and ``execute(cmd)`` runs a peer's command (default: a subprocess); the tests pass fakes.
    """
    make = workload or (lambda t: lcbench.lcbench_workload(t, LCBenchSurrogate(t)))
    run = execute or _execute
    made = 0
    for group in GROUPS:
        order = [p for p in group if p in peers]
        for task in _tasks_of(order, tasks):
            todo = {
                p: [s for s in seeds if not run_path(results, p, task, s).exists()] for p in order
            }
            todo = {p: s for p, s in todo.items() if s and task in task_order(p, tasks)}
            if not todo:
                continue
            w = make(task)
            try:
                for peer, missing in todo.items():
                    made += _run_task(peer, w, task, missing, results, total, run, log)
            finally:
                close = getattr(w, "close", None)
                if close is not None:
                    close()
    return made


def _tasks_of(group: list[str], tasks: list[str]) -> list[str]:
    order: list[str] = []
    for p in group:
        order += [t for t in task_order(p, tasks) if t not in order]
    return order


def _run_task(
    peer: str,
    w: Any,
    task: str,
    seeds: list[int],
    results: Path,
    total: float,
    run: Callable[[list[str]], None],
    log: Callable[[str], None],
) -> int:
    """The missing ``seeds`` of ``peer`` on ``task`` in one process; how many were reduced.
    Traces a killed batch left (a runner writes each when its run ends) are reduced first."""
    name = f"lcbench_{task}"
    pattern = cmp.trace_path(peer, name, "{seed}")
    pattern.parent.mkdir(parents=True, exist_ok=True)
    made = _collect(peer, w, task, seeds, pattern, results, total)
    left = [s for s in seeds if not run_path(results, peer, task, s).exists()]
    if left:
        start = time.perf_counter()
        try:
            run(cmp.peer_command(peer, name, left, total, str(pattern)))
        except (subprocess.SubprocessError, OSError) as exc:
            log(f"FAILED {peer} {task} {left}: {exc} (the finished seeds are kept)")
        done = _collect(peer, w, task, left, pattern, results, total)
        log(f"{peer} {task}: {done} of {len(left)} seeds, {time.perf_counter() - start:.0f} s")
        made += done
    return made


def _collect(
    peer: str,
    w: Any,
    task: str,
    seeds: list[int],
    pattern: Path,
    results: Path,
    total: float,
) -> int:
    """Reduce the traces of ``seeds`` that exist into their result files (removing them)."""
    made = 0
    for seed in seeds:
        trace = Path(str(pattern).format(seed=seed))
        if not trace.exists():
            continue
        record = reduce_run(w, total, json.loads(trace.read_text()))
        out = run_path(results, peer, task, seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(record) + "\n")
        tmp.replace(out)
        trace.unlink()  # reduced: the full trace is not kept (it is large)
        made += 1
    return made


def _execute(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, env={**os.environ, **cmp.PEER_ENV}, timeout=4 * 3600)


# ---------------------------------------------------------------------- the report


def load_peer_runs(
    results: Path, peers: list[str], tasks: list[str], seeds: list[int]
) -> dict[str, dict[str, list[Record]]]:
    """``{task: {peer: [record per seed found]}}``."""
    out: dict[str, dict[str, list[Record]]] = {}
    for task in tasks:
        out[task] = {}
        for p in peers:
            paths = [run_path(results, p, task, s) for s in seeds]
            out[task][p] = [json.loads(q.read_text()) for q in paths if q.exists()]
    return out


def _entry(records: list[Record]) -> dict[str, Any]:
    fr = np.array([[math.inf if v is None else v for v in r["regret_at"]] for r in records])
    med, lo, hi = cmp.quartiles(fr)
    cpu = [(r["cpu"] - r["objective_cpu"]) / r["run_configs"] for r in records]
    return {
        "seeds": len(records),
        "version": records[0]["version"],
        "at": {
            f"{f:g}": [cmp._num(med[i]), cmp._num(lo[i]), cmp._num(hi[i])]
            for i, f in enumerate(FRACTIONS)
        },
        "ms_per_config_cpu": 1e3 * float(np.median(cpu)),
        "seconds_per_run_wall": float(np.median([r["wall"] for r in records])),
        "seconds_per_run_cpu": float(np.median([r["cpu"] for r in records])),
        "below_reference": sum(r.get("below_reference", 0) for r in records),
    }


def summarise(
    ours: dict[str, Any], peer_runs: dict[str, dict[str, list[Record]]]
) -> dict[str, Any]:
    """Per task: ours (from bench_lcbench's summary) and the peers' quartiles, and the best
    of ours against the best peer at each fraction."""
    tasks: dict[str, Any] = {}
    for task, by_peer in peer_runs.items():
        methods = dict(ours["tasks"][task]["methods"]) if task in ours["tasks"] else {}
        our_names = list(methods)
        methods.update({p: _entry(r) for p, r in by_peer.items() if r})
        peers = [p for p in by_peer if p in methods]
        entry: dict[str, Any] = {"methods": methods, "ours": our_names, "peers": peers}
        entry["versus"] = cmp.versus(entry, our_names, peers, FRACTIONS)
        tasks[task] = entry
    return {"tasks": tasks}


def markdown(
    summary: dict[str, Any], seeds: int, synthetic: list[tuple[str, dict[str, Any]]] = ()
) -> str:
    tasks = summary["tasks"]
    lines = [
        f"Total budget {TOTAL:g} epochs per run. Cells: median [25%, 75%] over seeds of the "
        "regret after 25% and 100% of the budget; the lowest median of each task and column "
        "in bold; in each task our methods first, then the peers (in italics; their seconds "
        "per run are in the table below).",
        "",
        *regret_table_head(),
    ]
    for task, entry in tasks.items():
        present = entry["ours"] + entry["peers"]
        best = cmp.best_medians(entry, present, FRACTIONS)
        for m in present:
            e = entry["methods"][m]
            cells = cmp.regret_cells(e, best, FRACTIONS)
            name = m if m in entry["ours"] else f"*{m}*"
            lines.append(f"| {task} | {name} | {e['seeds']} | " + " | ".join(cells) + " |")
    lines += ["", *versus_table(tasks, seeds)]
    if summary.get("significance"):
        lines += ["", *significance_lines(summary["significance"])]
    lines += ["", *cost_table(tasks)]
    everywhere = [(f"lcbench {t}", e) for t, e in tasks.items()] + list(synthetic)
    summary["candidates"] = candidates(everywhere)
    lines += ["", *candidates_lines(summary["candidates"], len(everywhere))]
    return "\n".join(lines) + "\n"


def versus_table(tasks: dict[str, Any], seeds: int) -> list[str]:
    """Per task and fraction: the best of ours, the best peer, and the count of tasks where
    ours is at or below (the issue's target: at least 8 of 10 at both fractions)."""
    lines, wins = cmp.versus_lines(list(tasks.items()), FRACTIONS, "task")
    lines += [
        "",
        "The best of ours at or below the best peer: "
        + ", ".join(f"{wins[f]} of {len(tasks)} tasks at {f:.0%} of the budget" for f in FRACTIONS)
        + " (target: at least 8 of 10 at both).",
    ]
    short: dict[tuple[str, int], list[str]] = {}
    for t, e in tasks.items():
        for p in e["peers"]:
            if e["methods"][p]["seeds"] < seeds:
                short.setdefault((p, e["methods"][p]["seeds"]), []).append(t)
    if short:
        cells = [f"{p}: {n} on {', '.join(ts)}" for (p, n), ts in sorted(short.items())]
        lines += ["", f"Cells with fewer than {seeds} seeds: " + "; ".join(cells) + "."]
    absent = sorted({p for e in tasks.values() for p in PEER_NAMES if p not in e["peers"]})
    if absent:
        lines += ["", "Peers not run on some tasks: " + ", ".join(absent) + "."]
    return lines


DEFAULT = "KDE HB trust"  # run()'s and the CLI's default (docs/samplers.md)


def significance(
    summary: dict[str, Any],
    our_runs: dict[str, dict[str, dict[str, Record]]],
    peer_runs: dict[str, dict[str, list[Record]]],
) -> dict[str, Any]:
    """Per task and fraction, whether a median difference is more than seed noise: the default
    (``DEFAULT``) and the best of ours (lowest median, chosen after the fact, which favours us)
    against every peer, by one-sided Mann-Whitney U tests at 5% over the seeds' regrets.
    ``{side: {"method", "lower", "higher"}}``: the peers whose regrets are significantly lower
    / higher than that method's. ``{}`` without our per-seed runs."""
    out: dict[str, Any] = {}
    for task, entry in summary["tasks"].items():
        if task not in our_runs:
            continue
        out[task] = {}
        for i, f in enumerate(FRACTIONS):
            best = entry["versus"][f"{f:g}"]["ours"]
            sides = {"default": DEFAULT, "best": None if best is None else best[1]}
            out[task][f"{f:g}"] = {
                side: _tests(m, our_runs[task], peer_runs[task], entry["peers"], i)
                for side, m in sides.items()
                if m is not None and m in our_runs[task]
            }
    return out


def _tests(
    method: str,
    ours: dict[str, dict[str, Record]],
    peers: dict[str, list[Record]],
    names: list[str],
    i: int,
) -> dict[str, Any]:
    mine = _regrets(ours[method].values(), i)
    cell: dict[str, Any] = {"method": method, "lower": [], "higher": []}
    for p in names:
        theirs = _regrets(peers[p], i)
        if min(len(theirs), len(mine)) < 3:
            continue  # too few seeds for the test to mean anything
        side = bs.mwu_side(theirs, mine)
        if side is not None:
            cell[side].append(p)
    return cell


def _regrets(records: Any, i: int) -> list[float]:
    return [math.inf if r["regret_at"][i] is None else r["regret_at"][i] for r in records]


def significance_lines(table: dict[str, Any]) -> list[str]:
    """The table of :func:`significance` and the count of tasks where no peer is lower."""
    cols = [(f, f"{f:.0%}", side) for f in FRACTIONS for side in ("default", "best")]
    names = {"default": f"the default ({DEFAULT})", "best": "the best of ours"}
    lines = [
        "Is a difference more than seed noise? The default and the best of ours (the lowest "
        "median, chosen after the fact, which favours us) against each peer, one-sided "
        "Mann-Whitney U tests at 5% over the seeds: the peers whose regrets are significantly "
        "lower (in parentheses: how many are significantly higher).",
        "",
        "| task | " + " | ".join(f"lower than {names[s]} at {c}" for _, c, s in cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    clear = {(c, s): 0 for _, c, s in cols}
    for task, by_fraction in table.items():
        cells = []
        for f, c, side in cols:
            cell = by_fraction.get(f"{f:g}", {}).get(side)
            if cell is None:
                cells.append("-")
                continue
            clear[c, side] += not cell["lower"]
            cells.append(f"{', '.join(cell['lower']) or 'none'} ({len(cell['higher'])})")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    counts = [f"{clear[c, s]} of {len(table)} at {c} ({names[s]})" for _, c, s in cols]
    lines += ["", "Tasks where no peer is significantly lower: " + ", ".join(counts) + "."]
    return lines


def candidates(entries: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Over workloads (name, summary entry with ``METHODS``' names): per method of ours, where
    it has the lowest median of ours (ties count for each) and where its median is above
    random Hyperband's by more than random Hyperband's interquartile range, at each fraction."""
    out: dict[str, Any] = {m: {"best": {}, "worse_than_hb": {}} for m in METHODS}
    for f in FRACTIONS:
        key = f"{f:g}"
        for m in METHODS:
            out[m]["best"][key], out[m]["worse_than_hb"][key] = [], []
        for name, entry in entries:
            at = {m: entry["methods"][m]["at"][key] for m in METHODS if m in entry["methods"]}
            meds = {m: math.inf if q[0] is None else q[0] for m, q in at.items()}
            low = min(meds.values())
            hb = at.get("HB")
            for m, med in meds.items():
                if med == low and math.isfinite(low):
                    out[m]["best"][key].append(name)
                if hb is not None and None not in hb and med > hb[0] + (hb[2] - hb[1]):
                    out[m]["worse_than_hb"][key].append(name)
    return out


def candidates_lines(table: dict[str, Any], n: int) -> list[str]:
    cols = [f"{f:.0%}" for f in FRACTIONS]
    lines = [
        f"Our methods over the {n} workloads (the {len(lcbench.DEV_TASKS)} LCBench tasks and "
        "the six of the side-by-side section, whose li2018 methods are these): on how many "
        "each has the lowest median of ours (ties count for each), and where its median is "
        "above random Hyperband's by more than random Hyperband's interquartile range:",
        "",
        "| method | "
        + " | ".join(f"lowest of ours at {c}" for c in cols)
        + " | "
        + " | ".join(f"worse than HB by > its IQR at {c}" for c in cols)
        + " |",
        "|---|" + "---:|" * len(cols) + "---|" * len(cols),
    ]
    for m, e in table.items():
        best = [str(len(e["best"][f"{f:g}"])) for f in FRACTIONS]
        worse = [", ".join(e["worse_than_hb"][f"{f:g}"]) or "never" for f in FRACTIONS]
        lines.append(f"| {m} | " + " | ".join(best) + " | " + " | ".join(worse) + " |")
    return lines


def synthetic_entries(compare: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """bench_compare.json's workloads with its li2018 methods under ``METHODS``' names."""
    out = []
    for w in compare["workloads"]:
        methods = {m: w["methods"][f"{m} li2018"] for m in METHODS if f"{m} li2018" in w["methods"]}
        out.append((w["workload"], {"methods": methods}))
    return out


def cost_table(tasks: dict[str, Any]) -> list[str]:
    lines = [
        "Seconds per run of each peer (median over its runs, wall, CPU in parentheses; surrogate "
        "included) and its optimizer cost (CPU ms per configuration, the run less the time "
        "inside the surrogate, median over tasks):",
        "",
        "| peer | version | s per run | ms per configuration |",
        "|---|---|---:|---:|",
    ]
    for p in PEER_NAMES:
        es = [e["methods"][p] for e in tasks.values() if p in e["peers"]]
        if not es:
            continue
        wall = float(np.median([e["seconds_per_run_wall"] for e in es]))
        cpu = float(np.median([e["seconds_per_run_cpu"] for e in es]))
        ms = float(np.median([e["ms_per_config_cpu"] for e in es]))
        lines.append(f"| {p} | {es[0]['version']} | {wall:.1f} ({cpu:.1f}) | {ms:.2g} |")
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the missing peer runs first")
    parser.add_argument("--peers", nargs="+", default=list(PEER_NAMES), choices=PEER_NAMES)
    parser.add_argument("--tasks", nargs="+", default=list(lcbench.DEV_TASKS))
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds 0 .. SEEDS - 1")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    peers = [p for p in PEER_NAMES if p in args.peers and p in cmp.PEERS]
    if args.run:
        run_batch(peers, args.tasks, seeds, args.results, TOTAL)
    ours_file = json.loads((args.results / OURS_FILE).read_text())
    peer_runs = load_peer_runs(args.results, peers, args.tasks, seeds)
    summary = summarise(ours_file["summary"], peer_runs)
    summary["significance"] = significance(summary, ours_file.get("runs", {}), peer_runs)
    compare = args.results / COMPARE_FILE
    synthetic = synthetic_entries(json.loads(compare.read_text())) if compare.exists() else []
    table = markdown(summary, args.seeds, synthetic)
    report = {
        "benchmark": "bench_lcbench_peers",
        "total_budget": TOTAL,
        "tasks": args.tasks,
        "seeds": seeds,
        "peers": peers,
        "summary": summary,
        "markdown": table,
    }
    out = args.results / "bench_lcbench_peers.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(table)
    print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main()
