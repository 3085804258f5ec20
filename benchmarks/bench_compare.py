"""Quality side by side with the peers: every method, the same workloads, the same total budget.

Run:  python benchmarks/bench_compare.py                 (our methods; peers from saved results)
      python benchmarks/bench_compare.py --peers         (also run the missing peer runs: hours)
      python benchmarks/bench_compare.py --quick --results DIR   (a smoke run, ours only)
      python benchmarks/bench_compare.py --render-only   (the report from the saved records)
      nice -n 19 python benchmarks/bench_compare.py --peers --methods DEHB ... --batch-only
                                                         (a batch of peer runs in the background)

Methods. Ours are driven sequentially (ask, evaluate, tell) through ``hyperband.Hyperband``, one
entry of :data:`OURS` each (a factory returning the machine): HB li2018, HB table, SH (the most
aggressive bracket only, every job of another bracket failed at no cost), RS (random search at
max_budget), and, when ``hyperband.KDESampler`` exists, KDE HB li2018 and KDE HB table. Every
method samples the workload's NNI space (for the digits replay table too, whose configurations
are then evaluated as their nearest table row: ``workloads.nearest_row``). The peers are the
real packages, each run by its own script inside its own venv (``benchmarks/peers/``:
``setup.sh`` makes the venvs from the pinned ``requirements-<peer>.txt``): HpBandSter 0.7.4 BOHB,
DEHB 0.1.2, SMAC3 2.4.1 ``MultiFidelityFacade``, Optuna 5.0.0 ``TPESampler`` +
``HyperbandPruner``; each with the workload's min/max budget and eta.

Every method yields a *trace*: its evaluations in order, ``(config, budget, observed value, cost
charged)``, and everything is computed from the traces the same way (:func:`reduce_trace`):

- budget: an evaluation costs its budget (trained from scratch), except Optuna's, whose trials
  continue training across rungs: a report at budget b costs the steps trained since the trial's
  previous report, so a trial costs the budget it reached. That is its real cost, and it is the
  generous choice: charged from scratch like the others, Optuna would spend ~15-20% more per
  trial that passes a rung;
- the run's evaluations are those that fit in the total budget ``T`` (a prefix of the trace:
  the peers stop as soon as they can after ``T``);
- the incumbent after k evaluations: the best observed value among the evaluations at
  max_budget so far (ties to the earlier one); its regret: the distance of its noise-free value
  at max_budget from the optimum (``Workload.regret``). Before the first evaluation at
  max_budget there is no incumbent: its regret counts as infinite (worse than any).

``T`` is 4 li2018 Hyperband iterations' worth (4 x 1902/81 x max_budget, about 94 x max_budget)
on every workload but the digits table (one iteration's worth: its 300 rows saturate fast).
Reported per workload: median and interquartile range over 20 seeds of the regret at 10%, 25%,
50% and 100% of ``T``; a plot of median regret vs budget; and each method's optimizer cost per
configuration: CPU (and wall) seconds of the whole run minus those spent inside the objective,
divided by the number of distinct configurations evaluated.

Files: ``benchmarks/results/compare/<method>.json`` has one compact record per (workload, seed)
(the incumbent's regret as a step function of budget spent, counts, timings), written after each
run, so an interrupted ``--peers`` batch resumes where it stopped; the full traces of the peers
go to ``benchmarks/peers/traces/`` (gitignored). ``benchmarks/results/bench_compare.json`` has
the tables (``"markdown"``) and the plot is ``docs/img/compare_regret.png``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # `workloads` lives beside this script

import workloads as wl  # noqa: E402

import hyperband  # noqa: E402

RESULTS = HERE / "results"
PEER_DIR = HERE / "peers"
VENVS = PEER_DIR / ".venvs"
TRACES = PEER_DIR / "traces"
PLOT = HERE.parent / "docs" / "img" / "compare_regret.png"

WORKLOADS = wl.NAMES
LI2018_ITERATION = 1902 / 81  # one li2018 iteration of R=81, eta=3, in units of max_budget
TOTAL: dict[str, float] = dict.fromkeys(WORKLOADS, 4 * LI2018_ITERATION)
TOTAL["digits"] = LI2018_ITERATION
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
GRID_POINTS = 48
SEEDS = 20

Config = dict[str, Any]
Trace = list[tuple[Config, float, float, float]]
FloatArray = npt.NDArray[np.float64]


# ---------------------------------------------------------------------- our methods


@dataclass(frozen=True)
class Ours:
    """One of our methods: ``make(workload, seed)`` returns the machine that drives it;
    ``skip(job, machine)`` says which jobs to fail at once, unevaluated and free (SH)."""

    make: Callable[[wl.Workload, int], hyperband.Hyperband]
    skip: Callable[[hyperband.Job, hyperband.Hyperband], bool] | None = None
    # A slow method (Optuna's TPE redraws from a fresh study per configuration) keeps its saved
    # runs, as the peers do, instead of running again each time.
    cached: bool = False


def _hb(
    sampler: Callable[[wl.Workload], Any], sizing: str, brackets: str = "cycle"
) -> Callable[..., hyperband.Hyperband]:
    def make(w: wl.Workload, seed: int) -> hyperband.Hyperband:
        return hyperband.Hyperband(
            sampler(w),
            w.max_budget,
            eta=w.eta,
            min_budget=w.min_budget,
            sizing=sizing,
            mode=w.mode,
            exec_mode="serial",
            iterations=None,
            seed=seed,
            brackets=brackets,
        )

    return make


def _random_search(w: wl.Workload, seed: int) -> hyperband.Hyperband:
    return hyperband.Hyperband(
        w.space,
        w.max_budget,
        min_budget=w.max_budget,
        eta=w.eta,
        mode=w.mode,
        exec_mode="serial",
        iterations=None,
        seed=seed,
    )


def _space(w: wl.Workload) -> Any:
    return w.space


def _kde(w: wl.Workload) -> Any:
    return hyperband.KDESampler(w.space)


def _kde_trust(w: wl.Workload) -> Any:
    return hyperband.KDESampler(w.space, trust="rank")


OURS: dict[str, Ours] = {
    "HB li2018": Ours(_hb(_space, "li2018")),
    "HB table": Ours(_hb(_space, "table")),
    "SH": Ours(_hb(_space, "li2018"), skip=lambda job, hb: job.bracket != hb.schedule.s_max),
    "RS": Ours(_random_search),
    "KDE HB li2018": Ours(_hb(_kde, "li2018")),
    "KDE HB table": Ours(_hb(_kde, "table")),
    # The trust rule (issue 15) and the adaptive brackets: the candidates for the defaults.
    "KDE HB trust li2018": Ours(_hb(_kde_trust, "li2018")),
    "HB adaptive li2018": Ours(_hb(_space, "li2018", "adaptive")),
    "KDE HB trust adaptive li2018": Ours(_hb(_kde_trust, "li2018", "adaptive")),
}
# The candidates for the defaults (issue 15): "the best of ours" below is the best of these, the
# same five methods as on LCBench (bench_lcbench.METHODS).
CANDIDATES = (
    "HB li2018",
    "KDE HB li2018",
    "KDE HB trust li2018",
    "HB adaptive li2018",
    "KDE HB trust adaptive li2018",
)


def _tpe(w: wl.Workload) -> Any:
    from hyperband.integrations.optuna import OptunaSampler

    return OptunaSampler(w.space)  # TPESampler(multivariate=True, ...): see its docs


try:
    import optuna  # noqa: F401 - only whether it is there
except ImportError:  # pragma: no cover - the bench extra has it
    pass
else:
    # Optuna's TPE as our configuration generator (hyperband.integrations.optuna), in our
    # Hyperband: next to the KDE, the same machine with another model.
    OURS["TPE HB li2018"] = Ours(_hb(_tpe, "li2018"), cached=True)


def run_ours(method: Ours, w: wl.Workload, seed: int, total: float) -> dict[str, Any]:
    """Drive one of our methods until ``total`` is spent; the trace and the run's timings."""
    hb = method.make(w, seed)
    trace: Trace = []
    spent = objective_wall = objective_cpu = 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    while spent < total:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)  # sequential and unlimited: never WAIT/DONE
        if method.skip is not None and method.skip(job, hb):
            hb.fail(job.id, "skipped by the method")
            continue
        ow, oc = time.perf_counter(), time.process_time()
        value = w(job.config, job.budget)
        objective_wall += time.perf_counter() - ow
        objective_cpu += time.process_time() - oc
        hb.tell(job.id, value)
        trace.append((job.config, float(job.budget), value, float(job.budget)))
        spent += job.budget
    return {
        "version": hyperband.__version__,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "objective_wall": objective_wall,
        "objective_cpu": objective_cpu,
        "trace": trace,
    }


# ---------------------------------------------------------------------- peers


@dataclass(frozen=True)
class Peer:
    """A peer: its venv (``benchmarks/peers/.venvs/<venv>``), its runner script and the
    arguments that come before the run's (Syne Tune's scheduler)."""

    venv: str
    script: str
    args: tuple[str, ...] = ()


PEERS: dict[str, Peer] = {
    "BOHB (HpBandSter)": Peer("hpbandster", "run_hpbandster.py"),
    "DEHB": Peer("dehb", "run_dehb.py"),
    "SMAC3 MF": Peer("smac", "run_smac.py"),
    "Optuna TPE+HB": Peer("optuna", "run_optuna.py"),
    "Syne Tune ASHA": Peer("synetune", "run_synetune.py", ("asha",)),
    "Syne Tune BOHB": Peer("synetune", "run_synetune.py", ("bohb",)),
}
# The order in which a --peers batch runs them for each (seed, workload): SMAC (40-100 s a run)
# last.
PEER_ORDER = (
    "DEHB",
    "Optuna TPE+HB",
    "Syne Tune ASHA",
    "Syne Tune BOHB",
    "BOHB (HpBandSter)",
    "SMAC3 MF",
)
PEER_ENV = {
    "PYTHONHASHSEED": "0",  # SMAC replays a seed only with a fixed hash seed
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "LOKY_MAX_CPU_COUNT": "1",  # SMAC's random forest: joblib on one CPU
}


def peer_command(name: str, workload: str, seeds: list[int], total: float, out: str) -> list[str]:
    """The command line of one peer process: ``seeds`` (one run each) of ``workload``; ``out``
    is the trace file, with a ``{seed}`` field when there are several seeds."""
    peer = PEERS[name]
    python = VENVS / peer.venv / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(f"{python} is missing: run benchmarks/peers/setup.sh first")
    cmd = ["nice", "-n", "10", str(python), str(PEER_DIR / peer.script), *peer.args]
    return [*cmd, workload, ",".join(map(str, seeds)), repr(total), out]


def trace_path(name: str, workload: str, seed: int | str) -> Path:
    """Where a peer's run writes its full trace (gitignored)."""
    return TRACES / store(name).stem / f"{workload}-{seed}.json"


def run_peer(name: str, w: wl.Workload, seed: int, total: float) -> dict[str, Any]:
    """Run one peer run in its venv (niced) and return its output (trace and timings)."""
    out = trace_path(name, w.name, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = peer_command(name, w.name, [seed], total, str(out))
    subprocess.run(cmd, check=True, env={**os.environ, **PEER_ENV}, timeout=3600)
    data: dict[str, Any] = json.loads(out.read_text())
    return data


# ---------------------------------------------------------------------- the harness


def reduce_trace(w: wl.Workload, total: float, run: dict[str, Any]) -> dict[str, Any]:
    """The compact record of one run, computed from its trace the same way for every method.

    ``curve`` is the incumbent's regret as a step function of the budget spent: a list of
    ``[spent, regret]`` at the evaluations where it changes (``None``: no incumbent yet).
    """
    sign = -1.0 if w.mode == "maximize" else 1.0
    best = math.inf
    regret: float | None = None
    spent = 0.0
    curve: list[list[float | None]] = []
    configs: set[str] = set()
    n = at_max = 0
    for config, budget, value, cost in run["trace"]:
        if spent + cost > total * (1 + 1e-12):
            break
        spent += cost
        n += 1
        configs.add(json.dumps(config, sort_keys=True))
        if budget == w.max_budget:
            at_max += 1
            if sign * value < best:  # strictly: ties go to the earlier evaluation
                best = sign * value
                regret = w.regret(config)
                curve.append([spent, regret])
    all_configs = {json.dumps(c, sort_keys=True) for c, *_ in run["trace"]}
    return {
        "version": run["version"],
        "total": total,
        "spent": spent,
        "evaluations": n,
        "configs": len(configs),
        "at_max_budget": at_max,
        "final_regret": regret,
        "curve": curve,
        # For the optimizer's cost: the whole run (also past the total), and its timings.
        "run_evaluations": len(run["trace"]),
        "run_configs": len(all_configs),
        **{k: run[k] for k in ("wall", "cpu", "objective_wall", "objective_cpu")},
    }


def regret_at(record: dict[str, Any], spent: FloatArray) -> FloatArray:
    """The incumbent's regret once ``spent`` budget is spent (inf: no incumbent yet)."""
    out = np.full(len(spent), math.inf)
    for at, regret in record["curve"]:
        out[spent >= at * (1 - 1e-12)] = regret
    return out


def store(method: str) -> Path:
    slug = "".join(c if c.isalnum() else "_" for c in method.lower()).strip("_")
    return RESULTS / "compare" / f"{slug}.json"


def load_records(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def save_records(path: Path, records: dict[str, Any]) -> None:
    """Atomically: an interrupted batch never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(records.items())), indent=0) + "\n")
    tmp.replace(path)


def key(name: str, seed: int) -> str:
    return f"{name}/{seed}"


def run_batch(
    methods: list[str],
    names: list[str],
    seeds: int,
    results: Path,
    scale: float,
    *,
    rerun: bool,
    log: Callable[[str], None] = print,
) -> None:
    """Run every (method, workload, seed) not in ``results`` yet (all when ``rerun``), saving
    the method's records after every run: ours seed by seed (so that an interrupted batch
    leaves every method with the same seeds), a peer's missing seeds of a workload in one
    process of its venv (its imports cost seconds; the process writes each run's trace when
    it ends, so a killed batch keeps the runs it finished)."""
    paths = {m: results / store(m).name for m in methods}
    records = {m: {} if rerun else load_records(paths[m]) for m in methods}
    ours = [m for m in methods if m in OURS]
    for seed in range(seeds):
        for name in names:
            w = wl.workload(name)
            total = TOTAL[name] * scale * w.max_budget
            for method in ours:
                done = records[method].get(key(name, seed))
                if done is not None and done["total"] == total:
                    continue
                run = run_ours(OURS[method], w, seed, total)
                records[method][key(name, seed)] = reduce_trace(w, total, run)
                save_records(paths[method], records[method])
    for method in (m for m in methods if m not in OURS):
        for name in names:
            w = wl.workload(name)
            total = TOTAL[name] * scale * w.max_budget
            missing = [
                s
                for s in range(seeds)
                if (r := records[method].get(key(name, s))) is None or r["total"] != total
            ]
            if missing:
                _peer_runs(method, w, missing, total, records[method], log)
                save_records(paths[method], records[method])


def _peer_runs(
    method: str,
    w: wl.Workload,
    seeds: list[int],
    total: float,
    records: dict[str, Any],
    log: Callable[[str], None],
) -> None:
    """The ``seeds`` of a peer on ``w`` in one process; each finished run into ``records``."""
    pattern = trace_path(method, w.name, "{seed}")
    pattern.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cmd = peer_command(method, w.name, seeds, total, str(pattern))
    try:
        subprocess.run(cmd, check=True, env={**os.environ, **PEER_ENV}, timeout=4 * 3600)
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"FAILED {method} {w.name} {seeds}: {exc} (the finished seeds are kept)")
    done = 0
    for seed in seeds:
        trace = Path(str(pattern).format(seed=seed))
        if trace.exists():
            records[key(w.name, seed)] = reduce_trace(w, total, json.loads(trace.read_text()))
            done += 1
    log(f"{method} {w.name}: {done} of {len(seeds)} seeds, {time.perf_counter() - start:.0f} s")


# ---------------------------------------------------------------------- the report


def quartiles(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Median, 25% and 75% over seeds (axis 0); inf stays inf (no incumbent yet): a quantile
    that interpolates towards a run without an incumbent has none either."""
    q = np.percentile(np.where(np.isinf(x), _NONE, x), [25, 50, 75], axis=0)
    q[q >= _NONE / 2] = math.inf
    return q[1], q[0], q[2]


_NONE = 1e300  # stands for inf inside np.percentile (inf - inf would be NaN)


def summarise(
    methods: list[str], names: list[str], seeds: int, results: Path, scale: float
) -> list[dict[str, Any]]:
    """Per workload and method: the regret quartiles at the fractions and on the plot grid,
    the optimizer's cost per configuration, and how many seeds are in."""
    out = []
    for name in names:
        w = wl.workload(name)
        total = TOTAL[name] * scale * w.max_budget
        grid = np.geomspace(1.0, TOTAL[name] * scale, GRID_POINTS) * w.max_budget
        at = np.array([f * total for f in FRACTIONS])
        entry: dict[str, Any] = {
            "workload": name,
            "title": w.title,
            "total_budget": total,
            "max_budget": w.max_budget,
            "grid": (grid / w.max_budget).tolist(),
            "methods": {},
        }
        for method in methods:
            records = load_records(results / store(method).name)
            runs = [records[key(name, s)] for s in range(seeds) if key(name, s) in records]
            runs = [r for r in runs if r["total"] == total]
            if not runs:
                continue
            fr = np.array([regret_at(r, at) for r in runs])
            cv = np.array([regret_at(r, grid) for r in runs])
            med, lo, hi = quartiles(fr)
            cmed, clo, chi = quartiles(cv)
            overhead_cpu = [(r["cpu"] - r["objective_cpu"]) / r["run_configs"] for r in runs]
            overhead_wall = [(r["wall"] - r["objective_wall"]) / r["run_configs"] for r in runs]
            entry["methods"][method] = {
                "seeds": len(runs),
                "version": runs[0]["version"],
                "at": {
                    f"{f:g}": [_num(med[i]), _num(lo[i]), _num(hi[i])]
                    for i, f in enumerate(FRACTIONS)
                },
                "curve_median": [_num(v) for v in cmed],
                "curve_q25": [_num(v) for v in clo],
                "curve_q75": [_num(v) for v in chi],
                "ms_per_config_cpu": 1e3 * float(np.median(overhead_cpu)),
                "ms_per_config_wall": 1e3 * float(np.median(overhead_wall)),
                "seconds_per_run_wall": float(np.median([r["wall"] for r in runs])),
                "seconds_per_run_cpu": float(np.median([r["cpu"] for r in runs])),
                "configs_median": float(np.median([r["configs"] for r in runs])),
                "evaluations_median": float(np.median([r["evaluations"] for r in runs])),
            }
        out.append(entry)
    return out


def _num(x: float) -> float | None:
    """JSON has no inf: None stands for 'no incumbent yet'."""
    return None if math.isinf(x) or math.isnan(x) else float(x)


def _g(x: float) -> str:
    """Two significant digits, without an exponent for the numbers a timing table shows."""
    return f"{x:.0f}" if x >= 10 else f"{x:.2g}"


def _cell(q: list[float | None], bold: bool) -> str:
    med, lo, hi = q
    text = "none yet" if med is None else f"{med:.3g}"
    if med is not None:
        text += f" [{lo:.2g}, {'inf' if hi is None else f'{hi:.2g}'}]"
    return f"**{text}**" if bold else text


def best_medians(
    entry: dict[str, Any], present: list[str], fractions: tuple[float, ...] = FRACTIONS
) -> dict[float, float | None]:
    """The lowest median regret at each fraction among the ``present`` methods of a workload's
    summary entry (None: no method has an incumbent yet)."""
    best = {}
    for f in fractions:
        meds = [entry["methods"][m]["at"][f"{f:g}"][0] for m in present]
        finite = [v for v in meds if v is not None]
        best[f] = min(finite) if finite else None
    return best


def regret_cells(
    e: dict[str, Any], best: dict[float, float | None], fractions: tuple[float, ...] = FRACTIONS
) -> list[str]:
    """One method's table cells at the fractions, the lowest median (``best``) in bold."""
    cells = []
    for f in fractions:
        q = e["at"][f"{f:g}"]
        cells.append(_cell(q, q[0] is not None and q[0] == best[f]))
    return cells


def versus(
    entry: dict[str, Any], ours: list[str], peers: list[str], fractions: tuple[float, ...]
) -> dict[str, Any]:
    """At each fraction: the best of ``ours`` and the best of ``peers`` in a workload's
    summary entry (``[lowest median, its method]``) and whether ours is at or below (None: a
    side has no method or no incumbent yet)."""
    out: dict[str, Any] = {}
    for f in fractions:
        key = f"{f:g}"
        best = {}
        for side, names in (("ours", ours), ("peer", peers)):
            meds = [(entry["methods"][m]["at"][key][0], m) for m in names]
            finite = [(v, m) for v, m in meds if v is not None]
            best[side] = list(min(finite)) if finite else None
        o, p = best["ours"], best["peer"]
        out[key] = {
            "ours": o,
            "peer": p,
            "ours_at_or_below": None if o is None or p is None else o[0] <= p[0],
        }
    return out


def _side(best: list[Any] | None) -> str:
    return "-" if best is None else f"{best[0]:.3g} ({best[1]})"


def versus_lines(
    entries: list[tuple[str, dict[str, Any]]], fractions: tuple[float, ...], label: str
) -> tuple[list[str], dict[float, int]]:
    """The table of :func:`versus` (each entry has it under ``"versus"``), ours in bold where
    at or below the best peer, and at each fraction the number of entries where it is."""
    lines = [
        "| "
        + label
        + " | "
        + " | ".join(f"best of ours at {f:.0%} | best peer at {f:.0%}" for f in fractions)
        + " |",
        "|---|" + "---|---|" * len(fractions),
    ]
    wins = dict.fromkeys(fractions, 0)
    for name, entry in entries:
        cells = []
        for f in fractions:
            v = entry["versus"][f"{f:g}"]
            mark = "**" if v["ours_at_or_below"] else ""
            cells += [f"{mark}{_side(v['ours'])}{mark}", _side(v["peer"])]
            wins[f] += bool(v["ours_at_or_below"])
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines, wins


def targets_markdown(summary: list[dict[str, Any]]) -> str:
    """The issue's targets on these workloads: the best of the candidates for the defaults
    (:data:`CANDIDATES`) against the best peer at 25% and 100% of the budget, and KDE HB trust
    against KDE HB on the badly correlated Hartmann-6."""
    fractions = (0.25, 1.0)
    entries = []
    for entry in summary:
        ours = [m for m in CANDIDATES if m in entry["methods"]]
        peers = [m for m in PEERS if m in entry["methods"]]
        entry["versus"] = versus(entry, ours, peers, fractions)
        entries.append((entry["title"], entry))
    lines, wins = versus_lines(entries, fractions, "workload")
    lines = [
        "The best of our candidates for the defaults (" + ", ".join(CANDIDATES) + ") against "
        "the best peer (lowest median regret; which method):",
        "",
        *lines,
        "",
        "The best of ours at or below the best peer: "
        + ", ".join(f"{wins[f]} of {len(entries)} at {f:.0%} of the budget" for f in fractions)
        + " (target: at least 5 of 6 at both).",
    ]
    bad = next((e for e in summary if e["workload"] == "hartmann6_bad"), None)
    pair = ("KDE HB trust li2018", "KDE HB li2018")
    if bad is not None and all(m in bad["methods"] for m in pair):
        trust, kde = (bad["methods"][m]["at"]["1"][0] for m in pair)
        ratio = kde / trust if trust else math.inf
        lines += [
            "",
            f"Hartmann-6, badly correlated, median regret at 100%: KDE HB trust {trust:.3g}, "
            f"KDE HB {kde:.3g}: {ratio:.2f}x lower with trust (target: 1.5x).",
        ]
    return "\n".join(lines) + "\n"


def markdown(summary: list[dict[str, Any]], methods: list[str], seeds: int) -> str:
    """One regret table per workload (rows: methods; columns: fractions of the budget) and the
    table of optimizer costs."""
    lines: list[str] = []
    for entry in summary:
        present = [m for m in methods if m in entry["methods"]]
        units = entry["total_budget"] / entry["max_budget"]
        lines += [
            f"**{entry['title']}**: total budget {units:.1f} x max_budget "
            f"({entry['total_budget']:g}).",
            "",
            "| method | seeds | " + " | ".join(f"{f:.0%} of budget" for f in FRACTIONS) + " |",
            "|---|---:|" + "---:|" * len(FRACTIONS),
        ]
        best = best_medians(entry, present)
        for m in present:
            e = entry["methods"][m]
            lines.append(f"| {m} | {e['seeds']} | " + " | ".join(regret_cells(e, best)) + " |")
        lines.append("")
    lines += [
        "Optimizer cost per configuration, in ms (median over runs of (run time - time inside "
        "the objective) / distinct configurations evaluated; CPU time of the process, wall "
        "time in parentheses), and the range over workloads of the median seconds of one whole "
        "run (objective included; CPU, wall in parentheses):",
        "",
        # Workload names with spaces, so that the table can wrap to the page's column.
        "| method | version | "
        + " | ".join(e["workload"].replace("_", " ") for e in summary)
        + " | s per run |",
        "|---|---|" + "---:|" * (len(summary) + 1),
    ]
    for m in methods:
        cells, version, secs, cpu = [], "-", [], []
        for entry in summary:
            e = entry["methods"].get(m)
            if e is None:
                cells.append("-")
                continue
            version = e["version"]
            secs.append(e["seconds_per_run_wall"])
            cpu.append(e["seconds_per_run_cpu"])
            cells.append(f"{_g(e['ms_per_config_cpu'])} ({_g(e['ms_per_config_wall'])})")
        run_s = f"{_g(min(cpu))}-{_g(max(cpu))} ({_g(min(secs))}-{_g(max(secs))})" if secs else "-"
        lines.append(f"| {m} | {version} | " + " | ".join(cells) + f" | {run_s} |")
    lines.append("")
    return "\n".join(lines) + "\n" + targets_markdown(summary)


def plot(summary: list[dict[str, Any]], methods: list[str], path: Path) -> None:
    """Median regret vs budget, one panel per workload, every method; a small PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 3
    rows = math.ceil(len(summary) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.4 * rows), squeeze=False)
    styles = {m: ("-" if m in OURS else "--") for m in methods}
    colors = {m: f"C{i}" for i, m in enumerate(methods)}
    for ax, entry in zip(axes.flat, summary, strict=False):
        grid = np.array(entry["grid"])
        for m in methods:
            e = entry["methods"].get(m)
            if e is None:
                continue
            y = np.array([math.nan if v is None else v for v in e["curve_median"]])
            y = np.where(y > 0, y, math.nan)  # a log axis: zero regret is off the chart
            ax.plot(grid, y, styles[m], color=colors[m], label=m, lw=1.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(entry["title"], fontsize=10)
        ax.set_xlabel("budget spent (x max_budget)")
        ax.set_ylabel("median regret")
        ax.grid(True, which="major", alpha=0.3)
    for ax in list(axes.flat)[len(summary) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", action="store_true", help="run the missing peer runs")
    parser.add_argument("--quick", action="store_true", help="ours only, 2 seeds, 1/10 budget")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS))
    parser.add_argument("--methods", nargs="+", help="only these methods (default: all)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--batch-only", action="store_true", help="only run the runs; write no report or plot"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: the report and plot from the saved records of every method",
    )
    args = parser.parse_args(argv)
    seeds = 2 if args.quick else args.seeds
    scale = 0.1 if args.quick else 1.0
    results = args.results / "compare"
    ours = [m for m in OURS if not args.methods or m in args.methods]
    peers = [] if args.quick else [m for m in PEERS if not args.methods or m in args.methods]

    start = time.perf_counter()
    fresh = [m for m in ours if not OURS[m].cached and not args.render_only]
    run_batch(fresh, args.workloads, seeds, results, scale, rerun=True)
    cached = [m for m in ours if OURS[m].cached and not args.render_only]
    run_batch(cached, args.workloads, seeds, results, scale, rerun=False)
    if args.peers and not args.render_only:
        order = [m for m in PEER_ORDER if m in peers]
        run_batch(order, args.workloads, seeds, results, scale, rerun=False)
    if args.batch_only:
        return {"seconds": time.perf_counter() - start}
    methods = ours + peers
    summary = summarise(methods, args.workloads, seeds, results, scale)
    table = markdown(summary, methods, seeds)
    report = {
        "benchmark": "bench_compare",
        "quick": args.quick,
        "seeds": seeds,
        "methods": methods,
        "total": {n: TOTAL[n] * scale for n in args.workloads},
        "workloads": summary,
        "markdown": table,
        "seconds": time.perf_counter() - start,
    }
    out = args.results / ("bench_compare_quick.json" if args.quick else "bench_compare.json")
    out.write_text(json.dumps(report, indent=1) + "\n")
    if not (args.quick or args.no_plot):
        plot(summary, methods, PLOT)
    print(table)
    print(f"wrote {out}; {report['seconds']:.1f} s")
    return report


if __name__ == "__main__":
    main()
