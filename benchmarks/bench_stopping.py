"""Early stopping and asynchronous promotion: ours side by side with the peers' own logic.

Five learning-curve workloads (``workloads.curves``), W = 1, 4, 16, 32 simulated workers, 20 seeds,
``iterations=None`` until a fixed total budget (``ITERATIONS``: 2 Hyperband iterations' worth,
1 for the digits table, which saturates; more did not fit this machine's share of 2 cores: the
whole benchmark took about 50 minutes of CPU). Every method runs in ONE simulator design: a job (or
a peer's trial) reports ``curve(config, step)`` every ``report_every`` budget units, the report
at ``step`` happens when the configuration has trained that far (a configuration trains at a
speed of its own, the same in every method), and a stop frees the worker at once. Our
promotions resume from their checkpoints (``resume=True``), as the peers' trials simply go on.

- ours: :func:`hyperband.simulate` around the real machine, ``exec_mode`` ``"parallelism"`` or
  ``"asynchronous"``, ``early_stop`` None, ``"median"`` or ``"rung"`` (and variants of the
  rules' options, at W=16, to choose their defaults);
- peers (``stopping/peers.py``): Ray Tune's ASHAScheduler, Optuna's HyperbandPruner and
  SuccessiveHalvingPruner, NNI's MedianstopAssessor, Syne Tune 0.13's HyperbandScheduler,
  Syne Tune 0.16's ASHA and BOHB (BOHB trains the configurations its own searcher proposes),
  from their real packages (Ray and Syne Tune in their own virtualenvs:
  ``stopping/setup_venvs.sh``).

The incumbent is the best observed value at max_budget among jobs that completed there (the
machine's ``best``); its regret is the distance of its noise-free final value from the
optimum. Per run: the simulated time at which the incumbent's regret first falls to each target
(``TARGETS``) and the budget spent by then, the regret when the budget limit is reached, the
fraction of jobs stopped and (asynchronous mode) the mispromotions. Per-run results are cached
in ``benchmarks/results/stopping_runs/`` so reruns skip finished runs; the tables go to
``benchmarks/results/stopping.json``.

Run:  python benchmarks/bench_stopping.py [--quick] [--only METHOD ...] [--workloads NAME ...]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "stopping"))

from stopping import cache  # noqa: E402
from workloads import curves  # noqa: E402

import hyperband  # noqa: E402

RESULTS = HERE / "results" / "stopping.json"
CACHE = HERE / "results" / "stopping_runs"
VENVS = HERE / "stopping" / ".venvs"
WORKERS = [1, 4, 16, 32]
SEEDS = 20
# Seeds of the peers and of the rule variants (the same as ours; fewer to save CPU).
PEER_SEEDS = 20
WORKLOADS = ["crossing", "digits", "hartmann6", "counting_ones", "parallel"]
# Total budget per run, in Hyperband iterations of the workload's schedule (li2018 sizing).
ITERATIONS = {"crossing": 2, "digits": 1, "hartmann6": 2, "counting_ones": 2, "parallel": 2}
# Regret targets per workload, from the spread of plain parallelism's regrets when the budget
# ran out (its 9th, 7th and 6th deciles over its 80 runs, rounded up): what about 90%, 70% and
# 60% of its runs reach.
TARGETS: dict[str, tuple[float, ...]] = {
    "crossing": (0.03, 0.022, 0.02),
    "digits": (0.018, 0.009, 0.005),  # 8, 4 and 2 validation images (of 450) short of the best
    "hartmann6": (1.26, 1.02, 0.97),
    "counting_ones": (4.4, 4.01, 3.72),
    "parallel": (0.0075, 0.0055, 0.0043),
}

# Our methods: name -> (exec_mode, early_stop).
OURS: dict[str, tuple[str, Any]] = {
    "parallelism": ("parallelism", None),
    "parallelism+median": ("parallelism", "median"),
    "parallelism+rung": ("parallelism", "rung"),
    "asynchronous": ("asynchronous", None),
    "asynchronous+median": ("asynchronous", "median"),
    "asynchronous+rung": ("asynchronous", "rung"),
    # The option the variants below pick for the median rule, measured at every W as well.
    "parallelism+median(0.5)": ("parallelism", hyperband.MedianRule(min_progress=0.5)),
    "asynchronous+median(0.5)": ("asynchronous", hyperband.MedianRule(min_progress=0.5)),
}
# Options of the rules, measured at W=16 only, to choose the defaults.
VARIANTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "median(min_peers=1)": ("parallelism", "median", {"min_peers": 1}),
    "median(min_progress=0.25)": ("parallelism", "median", {"min_progress": 0.25}),
    "median(min_progress=0.5)": ("parallelism", "median", {"min_progress": 0.5}),
    "median(min_peers=10)": ("parallelism", "median", {"min_peers": 10}),
    "rung(min_peers=3)": ("parallelism", "rung", {"min_peers": 3}),
    "rung(min_progress=0.25)": ("parallelism", "rung", {"min_progress": 0.25}),
    "rung(min_progress=0.5)": ("parallelism", "rung", {"min_progress": 0.5}),
}
VARIANT_WORKERS = [16]
PEER_LABELS = {
    "ray_asha": "Ray Tune 2.60 ASHAScheduler",
    "optuna_hb": "Optuna 5.0 HyperbandPruner",
    "optuna_sh": "Optuna 5.0 SuccessiveHalvingPruner",
    "nni_median": "NNI 3.0 MedianstopAssessor",
    "syne_hb": "Syne Tune 0.13 HyperbandScheduler",
    "syne16_asha": "Syne Tune 0.16 ASHA",
    "syne16_bohb": "Syne Tune 0.16 BOHB",
}
# The peers' column headings in the equal-budget table: their full labels in one table's
# headings are 1200 px wide, more than the docs' column.
PEER_SHORT = {
    "ray_asha": "Ray ASHA",
    "optuna_hb": "Optuna HB",
    "optuna_sh": "Optuna SH",
    "nni_median": "NNI median",
    "syne_hb": "Syne Tune HB",
    "syne16_asha": "Syne ASHA",
    "syne16_bohb": "Syne BOHB",
}
# Which interpreter runs each peer: the project's own, or the peer's virtualenv.
PEER_VENV = {"ray_asha": "ray", "syne_hb": "syne", "syne16_asha": "syne16", "syne16_bohb": "syne16"}


def budget_limit(w: curves.CurveWorkload, iterations: dict[str, int] | None = None) -> float:
    """The total budget of a run: ``iterations[w.name]`` Hyperband iterations' worth."""
    sched = hyperband.schedule(
        w.max_budget, w.eta, min_budget=w.min_budget, integer_budgets=w.integer_budgets
    )
    return float((iterations or ITERATIONS)[w.name] * sched.total_budget)


def make_rule(early_stop: Any, options: dict[str, Any] | None) -> Any:
    if early_stop is None or not options:
        return early_stop
    rules = {
        "median": hyperband.MedianRule,
        "rung": hyperband.RungRule,
        "curve": hyperband.CurveRule,
    }
    return rules[early_stop](**options)


def ours(
    w: curves.CurveWorkload,
    workers: int,
    seed: int,
    exec_mode: str,
    early_stop: Any,
    limit: float,
    **sampler: Any,
) -> dict[str, Any]:
    """One simulated run of ours; ``sampler``: ``simulate``'s ``sampler`` and
    ``sampler_options`` (none: the workload's space, drawn at random)."""
    r = hyperband.simulate(
        w.max_budget,
        w.eta,
        min_budget=w.min_budget,
        workers=workers,
        exec_mode=exec_mode,
        iterations=None,
        budget_limit=limit,
        seed=seed,
        duration=w.duration,
        mode=w.mode,
        resume=True,
        space=w.space_or_sampler,
        integer_budgets=w.integer_budgets,
        curve=w.curve,
        report_every=w.report_every,
        early_stop=early_stop,
        **sampler,
    )
    history = [
        (t, spent, w.regret(best.config))
        for t, spent, best in r.best_history
        if best.budget == w.max_budget
    ]
    assert r.stats is not None
    return {
        "history": history,
        "jobs": r.stats.n_asked,
        "stopped": r.stats.n_stopped,
        "mispromoted": r.stats.n_mispromoted,
    }


# ---------------------------------------------------------------------- metrics


def at_limit(record: dict[str, Any], limit: float) -> float:
    """The incumbent's regret once ``limit`` budget units ran (inf: no incumbent yet)."""
    regret = math.inf
    for _, spent, r in record["history"]:
        if spent > limit:
            break
        regret = r
    return regret


def to_target(record: dict[str, Any], target: float, limit: float) -> tuple[float, float]:
    """(time, budget spent) when the incumbent's regret first fell to ``target``; inf if never
    within the budget limit."""
    for t, spent, r in record["history"]:
        if spent > limit:
            break
        if r <= target:
            return t, spent
    return math.inf, math.inf


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def summarise(
    records: dict[tuple[int, int], dict[str, Any]],
    w: curves.CurveWorkload | None,
    ws: list[int],
    limit: float,
    targets: tuple[float, ...] | None = None,
) -> dict[str, Any]:
    """Per W: time and budget to each target (``targets``, default ``TARGETS[w.name]``),
    regret at the limit, share stopped, jobs, mispromotions."""
    out: dict[str, Any] = {}
    for workers in ws:
        runs = [rec for (wk, _), rec in sorted(records.items()) if wk == workers]
        if not runs:
            continue
        per_target = []
        if targets is None:
            assert w is not None, "no targets given and no workload to read them from"
            targets = TARGETS[w.name]
        for target in targets:
            hits = [to_target(rec, target, limit) for rec in runs]
            per_target.append(
                {
                    "target": target,
                    "time": median([h[0] for h in hits]),
                    "budget": median([h[1] for h in hits]),
                    "reached": sum(math.isfinite(h[0]) for h in hits) / len(hits),
                }
            )
        regrets = [at_limit(rec, limit) for rec in runs]
        mis = [rec["mispromoted"] for rec in runs if rec.get("mispromoted") is not None]
        out[str(workers)] = {
            "runs": len(runs),
            "targets": per_target,
            "regret": median(regrets),
            "regret_q1": statistics.quantiles(regrets, n=4)[0] if len(regrets) > 1 else math.nan,
            "regret_q3": statistics.quantiles(regrets, n=4)[2] if len(regrets) > 1 else math.nan,
            "stopped": statistics.mean(rec["stopped"] / max(1, rec["jobs"]) for rec in runs),
            "jobs": statistics.mean(rec["jobs"] for rec in runs),
            "mispromoted": statistics.mean(mis) if mis else None,
        }
    return out


# ---------------------------------------------------------------------- running


def run_ours(
    root: Path,
    method: str,
    spec: tuple[str, Any],
    options: dict[str, Any] | None,
    workload: str,
    ws: list[int],
    seeds: range,
    iterations: dict[str, int],
    make: Callable[[str], curves.CurveWorkload] = curves.curve_workload,
) -> None:
    """Run the missing (W, seed) cells of one of our methods; ``make(name)`` builds the
    workload (the curve workloads by default)."""
    done = cache.load(root, method, workload)
    for workers in ws:
        for seed in seeds:
            if (workers, seed) in done:
                continue
            w = make(workload)
            rule = make_rule(spec[1], options)
            record = ours(w, workers, seed, spec[0], rule, budget_limit(w, iterations))
            cache.append(root, method, workload, workers, seed, record)


def peer_python(peer: str) -> str | None:
    venv = PEER_VENV.get(peer)
    if venv is None:
        return sys.executable
    python = VENVS / venv / "bin" / "python"
    return str(python) if python.exists() else None


def run_peer(
    root: Path,
    peer: str,
    workload: str,
    ws: list[int],
    seeds: range,
    iterations: dict[str, int],
    make: Callable[[str], curves.CurveWorkload] = curves.curve_workload,
    extra: Sequence[str] = (),
) -> bool:
    """Run the missing cells of a peer in its interpreter (``run_peer.py``); ``extra``: more
    arguments for it (how it builds a workload ``make`` builds here)."""
    done = cache.load(root, peer, workload)
    if all((wk, s) in done for wk in ws for s in seeds):
        return True
    python = peer_python(peer)
    if python is None:
        print(f"  {peer}: no venv (run benchmarks/stopping/setup_venvs.sh); skipped")
        return False
    w = make(workload)
    cmd = [
        python,
        str(HERE / "stopping" / "run_peer.py"),
        peer,
        workload,
        "--workers",
        *map(str, ws),
        "--seeds",
        *map(str, seeds),
        "--budget-limit",
        repr(budget_limit(w, iterations)),
        "--cache",
        str(root),
        *extra,
    ]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    subprocess.run(cmd, check=True, env=env)
    return True


# ---------------------------------------------------------------------- tables


def _ratio(x: float, base: float) -> str:
    if math.isnan(x) or math.isnan(base):
        return "-"
    if math.isinf(base):
        return "n/r" if math.isinf(x) else "<1 (base n/r)"
    if math.isinf(x):
        return "n/r"
    return f"{x / base:.2f}"


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "none"
    return f"{x:.{digits}g}"


def tables(summary: dict[str, Any], ws: list[int], iterations: dict[str, int]) -> str:
    lines: list[str] = []
    lines.append(
        "| workload | budgets (eta 3) | reports every | total budget per run | regret targets |"
    )
    lines.append("|---|---|---|---|---|")
    for name in summary:
        w = curves.curve_workload(name)
        limit = budget_limit(w, iterations)
        its = iterations[name]
        lines.append(
            f"| {w.title} | {w.min_budget}..{w.max_budget} | {w.report_every:g} | "
            f"{limit:.0f} ({its} iteration{'s' * (its > 1)}, {limit / w.max_budget:.0f} x max) | "
            f"{', '.join(f'{t:g}' for t in TARGETS[name])} |"
        )
    lines.append("")
    for name, methods in summary.items():
        w = curves.curve_workload(name)
        base = methods.get("parallelism", {})
        lines.append(f"### {w.title}")
        lines.append("")
        lines.append(
            "Median simulated time to reach each regret target "
            f"({' / '.join(f'{t:g}' for t in TARGETS[name])}), as a ratio to plain "
            "parallelism's at the same W (n/r: the median run did not reach it within the "
            "budget); plain parallelism's own medians in its row."
        )
        lines.append("")
        lines.append("| method | " + " | ".join(f"W={x}" for x in ws) + " |")
        lines.append("|---|" + "---:|" * len(ws))
        for method, per_w in methods.items():
            cells = []
            for x in ws:
                s = per_w.get(str(x))
                b = base.get(str(x))
                if s is None or b is None:
                    cells.append("-")
                elif method == "parallelism":
                    cells.append(" / ".join(_fmt(t["time"], 3) for t in s["targets"]))
                else:
                    cells.append(
                        " / ".join(
                            _ratio(t["time"], bt["time"])
                            for t, bt in zip(s["targets"], b["targets"], strict=True)
                        )
                    )
            lines.append(f"| {label(method)} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(
            "Median regret when the budget ran out [interquartile range], at W=1 / W=16 / "
            "W=32; share of jobs (ours) or trials (peers) stopped at W=16; budget spent until "
            "the middle target, as a ratio to plain parallelism's (W=16); mean mispromotions "
            "per run at W=16."
        )
        lines.append("")
        lines.append(
            "| method | regret W=1 | regret W=16 | regret W=32 | stopped | budget to target | "
            "mispromoted |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        mid = len(TARGETS[name]) // 2
        for method, per_w in methods.items():

            def reg(x: int, per_w: dict[str, Any] = per_w) -> str:
                s = per_w.get(str(x))
                if s is None:
                    return "-"
                return f"{_fmt(s['regret'])} [{_fmt(s['regret_q1'], 3)}, {_fmt(s['regret_q3'], 3)}]"

            s16 = per_w.get("16") or next(iter(per_w.values()))
            b16 = base.get("16") or next(iter(base.values()))
            lines.append(
                f"| {label(method)} | {reg(1)} | {reg(16)} | {reg(32)} | "
                f"{s16['stopped']:.0%} | "
                f"{_ratio(s16['targets'][mid]['budget'], b16['targets'][mid]['budget'])} | "
                f"{_fmt(s16['mispromoted'], 3)} |"
            )
        lines.append("")
    return "\n".join(lines)


def label(method: str) -> str:
    if method in PEER_LABELS:
        return PEER_LABELS[method]
    return f"ours, {method}"


def equal_budget_table(
    root: Path, workloads: list[str], ws: list[int], seeds: range, iterations: dict[str, int]
) -> str:
    """Regret when the budget ran out, all W and seeds pooled: our best mode (by mean) against
    each peer, with a one-sided Mann-Whitney U test at 5% each way."""
    peers = list(PEER_LABELS)
    lines = [
        "Peers: "
        + "; ".join(f"{PEER_SHORT[p]}, {PEER_LABELS[p]}" for p in peers)
        + ". Ours: the mean regret of our best mode, and that mode.",
        "",
        "| workload | ours | " + " | ".join(PEER_SHORT[p] for p in peers) + " |",
        "|---|---|" + "---:|" * len(peers),
    ]
    for name in workloads:
        w = curves.curve_workload(name)
        limit = budget_limit(w, iterations)
        data: dict[str, list[float]] = {}
        for method in [*OURS, *peers]:
            records = cache.load(root, method, name)
            data[method] = [
                at_limit(r, limit) for (x, s), r in records.items() if x in ws and s in seeds
            ]
        # A peer without runs on the workload (a venv missing, a peer added later) shows
        # "-"; without all of ours there is no best mode to compare with.
        if not all(data[m] for m in OURS):
            continue
        lines.append(equal_budget_row(w.title, data, list(OURS), peers))
    return "\n".join(lines)


def mwu_side(theirs: Sequence[float], mine: Sequence[float]) -> str | None:
    """``"lower"`` / ``"higher"`` when ``theirs`` are significantly lower / higher than
    ``mine`` by a one-sided Mann-Whitney U test at 5% (lower is tested first), else None."""
    from scipy.stats import mannwhitneyu

    if mannwhitneyu(theirs, mine, alternative="less").pvalue < 0.05:
        return "lower"
    if mannwhitneyu(theirs, mine, alternative="greater").pvalue < 0.05:
        return "higher"
    return None


def equal_budget_row(
    title: str, data: dict[str, list[float]], ours: list[str], peers: list[str], fmt: str = ".4g"
) -> str:
    """One row of the equal-budget table: our best mode of ``ours`` by mean regret, and each
    peer's mean marked (lower) / (higher) by a one-sided Mann-Whitney U test at 5% against
    that mode (``data``: the regrets at the limit by method; a peer without data: "-";
    ``fmt``: the means' format; "asynchronous" is shortened to "async" to keep the row narrow)."""
    best = min((m for m in ours if data.get(m)), key=lambda m: statistics.mean(data[m]))
    cells = []
    for p in peers:
        if not data.get(p):
            cells.append("-")
            continue
        side = mwu_side(data[p], data[best])
        mark = f" ({side})" if side else ""
        cells.append(f"{statistics.mean(data[p]):{fmt}}{mark}")
    mode = best.replace("asynchronous", "async")
    return f"| {title} | {statistics.mean(data[best]):{fmt}} ({mode}) | " + " | ".join(cells) + " |"


def headline_table(summary: dict[str, Any], ws: list[int]) -> str:
    """Per workload and method: the time to the middle target as a ratio to plain parallelism
    at each W, and the median regret when the budget ran out (all W pooled)."""
    lines = [
        "| workload | method | " + " | ".join(f"W={x}" for x in ws) + " | regret at equal budget |",
        "|---|---|" + "---:|" * (len(ws) + 1),
    ]
    for name, methods in summary.items():
        w = curves.curve_workload(name)
        base = methods.get("parallelism", {})
        for method, per_w in methods.items():
            cells = []
            for x in ws:
                s, b = per_w.get(str(x)), base.get(str(x))
                if s is None or b is None:
                    cells.append("-")
                    continue
                mid = len(s["targets"]) // 2
                cells.append(_ratio(s["targets"][mid]["time"], b["targets"][mid]["time"]))
            regrets = [per_w[str(x)]["regret"] for x in ws if str(x) in per_w]
            pooled = statistics.median(regrets) if regrets else math.nan
            lines.append(
                f"| {w.title} | {label(method)} | " + " | ".join(cells) + f" | {_fmt(pooled, 3)} |"
            )
    return "\n".join(lines)


def variant_table(summary: dict[str, Any]) -> str:
    lines = [
        "Rule options at W=16, parallelism mode: median time to the middle regret target "
        "as a ratio to plain parallelism (n/r: not reached by the median run), and median "
        "regret when the budget ran out.",
        "",
        "| rule | " + " | ".join(curves.curve_workload(n).title for n in summary) + " |",
        "|---|" + "---:|" * len(summary),
    ]
    names = [
        "parallelism+median",
        *[v for v in VARIANTS if v.startswith("median")],
        "parallelism+rung",
        *[v for v in VARIANTS if v.startswith("rung")],
    ]
    for method in names:
        cells = []
        for methods in summary.values():
            s = methods.get(method, {}).get("16")
            b = methods.get("parallelism", {}).get("16")
            if s is None or b is None:
                cells.append("-")
                continue
            mid = len(s["targets"]) // 2
            cells.append(
                f"{_ratio(s['targets'][mid]['time'], b['targets'][mid]['time'])}, "
                f"{_fmt(s['regret'], 3)}"
            )
        shown = {
            "parallelism+median": "median (defaults: min_peers=3, min_progress=0)",
            "parallelism+rung": "rung (defaults: min_peers=1, min_progress=0)",
        }.get(method, method)
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, W=4, a small budget")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--workloads", nargs="*", default=WORKLOADS)
    parser.add_argument("--only", nargs="*", help="run only these methods")
    parser.add_argument("--no-run", action="store_true", help="only tabulate the cache")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick and args.cache == CACHE:
        # A quick run's budget is smaller: its runs must not land in the real cache.
        with tempfile.TemporaryDirectory() as tmp:
            return main([*(argv or []), "--cache", tmp])
    ws = [4] if args.quick else WORKERS
    seeds = range(2 if args.quick else args.seeds)
    iterations = dict.fromkeys(ITERATIONS, 1) if args.quick else dict(ITERATIONS)
    methods = [*OURS, *VARIANTS, *PEER_LABELS]
    if args.quick:
        methods = [m for m in methods if m not in VARIANTS]
    if args.only:
        methods = [m for m in methods if m in args.only]
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    few = range(min(len(seeds), PEER_SEEDS))

    def seeds_of(method: str) -> range:
        return seeds if method in OURS else few

    # Ours first, then the variants, then the peers: the cheapest, most used results first.
    for method in methods:
        for workload in args.workloads:
            t0 = time.perf_counter()
            if args.no_run:
                pass
            elif method in OURS:
                run_ours(args.cache, method, OURS[method], None, workload, ws, seeds, iterations)
            elif method in VARIANTS:
                mode, rule, options = VARIANTS[method]
                vws = [x for x in ws if x in VARIANT_WORKERS]
                spec = (mode, rule)
                run_ours(args.cache, method, spec, options, workload, vws, few, iterations)
            else:
                run_peer(args.cache, method, workload, ws, few, iterations)
            seconds[f"{workload}/{method}"] = time.perf_counter() - t0
            print(
                f"{workload:<14} {method:<28} {seconds[f'{workload}/{method}']:7.1f} s", flush=True
            )
    summary: dict[str, Any] = {}
    for workload in args.workloads:
        w = curves.curve_workload(workload)
        summary[workload] = {}
        for method in [*OURS, *VARIANTS, *PEER_LABELS]:
            records = cache.load(args.cache, method, workload)
            records = {k: v for k, v in records.items() if k[1] in seeds_of(method) and k[0] in ws}
            if records:
                limit = budget_limit(w, iterations)
                summary[workload][method] = summarise(records, w, ws, limit)
    main_summary = {
        n: {m: s for m, s in ms.items() if m not in VARIANTS} for n, ms in summary.items()
    }
    peer_seeds = "" if few == seeds else f" (the peers and rule options: {len(few)})"
    markdown = f"{len(seeds)} seeds{peer_seeds}, W = {', '.join(map(str, ws))}.\n\n" + tables(
        main_summary, ws, iterations
    )
    if not args.quick:
        # tables() ends with one newline: a heading needs a blank line before it, or Markdown
        # reads it as one more row of the table above.
        markdown += (
            "\n### At equal budget\n\nMean regret when the budget ran out, every W and seed "
            "pooled, our best mode by that mean against each peer; (lower) / (higher): the "
            "peer's regrets are lower / higher than ours by a one-sided Mann-Whitney U test at "
            "5%.\n\n" + equal_budget_table(args.cache, args.workloads, ws, few, iterations) + "\n"
        )
    out = {
        "benchmark": "stopping",
        "seeds": len(seeds),
        "workers": ws,
        "iterations": iterations,
        "targets": TARGETS,
        "summary": summary,
        "seconds": seconds,
        "total_seconds": time.perf_counter() - started,
        "markdown": markdown,
        "markdown_variants": variant_table(summary) if not args.quick else "",
        "markdown_headline": headline_table(main_summary, ws),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=_json_default) + "\n")
    print(markdown)
    return out


def _json_default(x: Any) -> Any:
    raise TypeError(f"not JSON: {x!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
