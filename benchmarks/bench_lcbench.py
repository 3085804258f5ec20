"""Our Hyperband methods on LCBench (real MLP learning curves, YAHPO Gym's surrogate).

Run:  nice -n 10 python benchmarks/bench_lcbench.py               (10 dev tasks x 10 seeds)
      python benchmarks/bench_lcbench.py --quick --results DIR      (a smoke run: 1 task, 1 seed)
      python benchmarks/bench_lcbench.py --tasks 7593 --seeds 3 --methods "KDE HB trust"

It needs the yahpo venv and data (``bash benchmarks/yahpo/setup.sh``; see
``benchmarks/yahpo/lcbench.py``). Peers are not run here yet.

Methods, all through ``hyperband.Hyperband`` with the li2018 sizing, ``integer_budgets=True``
(rungs at 2, 6, 17, 52 epochs), ``iterations=None``, driven sequentially (ask, evaluate, tell) by
``bench_compare.run_ours`` until a total budget of 4 Hyperband iterations (``4 x
schedule(52, 3, min_budget=1, integer_budgets=True).total_budget`` = 3268 epochs), each
evaluation charged its budget in epochs: random Hyperband (``HB``), KDE Hyperband
(``KDESampler(space)``, ``trust="off"``: BOHB's rule, ``KDE HB``) and KDE Hyperband with
``trust="rank"`` (``KDE HB trust``: a budget that ranks worse than chance against the top budget
does not carry the model).

Tasks: the 10 development tasks (``lcbench.DEV_TASKS``), one surrogate process per task, shared
by every method and seed (the surrogate is deterministic, so its cache only saves time).

Regret: the validation error at 52 epochs of the incumbent (the best observed value at 52
epochs) minus the task's reference value (``benchmarks/results/lcbench_reference.json``, made by
``benchmarks/yahpo/reference.py``: the best of 30,000 random configurations and a local search
from the best 20), clipped at 0; computed from the traces by ``bench_compare.reduce_trace``.
Reported: median and interquartile range over seeds at 25% and 100% of the total budget; for
the trust runs, their final ``consistency`` and ``trust_weights`` (median over seeds per
budget) and how many draws the trust rule took off BOHB's budget (to a cheaper one, or a random
draw when every budget with enough results ranks backwards); how many runs ``trust="rank"``
changed against ``trust="off"`` (same task and seed, different final regret).

Cost: milliseconds (CPU) per configuration drawn by ``KDESampler`` (every draw from the model:
``random_fraction=0``) with 1,000 observations spread over budgets 2/6/17/52 as a Hyperband run
spreads them (configurations promoted to the next budget), in lcbench's 7-dimensional space,
with made-up losses: the model and weights cached (no observe since the last draw); one observe
at the top budget before each draw (the consistency is measured and the model refitted every
time); one observe at the cheapest budget before each draw (the model stays, but with
``trust="rank"`` the consistency is measured again: any observation can change it).
``trust="rank"`` against ``trust="off"``. Target: at most 2 ms per configuration.

Writes ``benchmarks/results/bench_lcbench.json`` (``bench_lcbench_quick.json`` with
``--quick``), its tables under ``"markdown"``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_compare import (
    Ours,
    _num,
    best_medians,
    quartiles,
    reduce_trace,
    regret_at,
    regret_cells,
    run_ours,
)
from yahpo import lcbench
from yahpo.client import LCBenchSurrogate

import hyperband
from hyperband import KDESampler

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

SCHEDULE = hyperband.schedule(
    lcbench.MAX_BUDGET, lcbench.ETA, min_budget=lcbench.MIN_BUDGET, integer_budgets=True
)
ITERATIONS = 4
TOTAL = ITERATIONS * SCHEDULE.total_budget  # epochs
FRACTIONS = (0.25, 1.0)
SEEDS = 10
METHODS = ("HB", "KDE HB", "KDE HB trust", "HB adaptive", "KDE HB trust adaptive")
COST_BUDGETS = lcbench.RUNG_EPOCHS  # 2, 6, 17, 52

Config = dict[str, Any]


# ---------------------------------------------------------------------- the methods


class _Counted(KDESampler):
    """``KDESampler`` that counts the draws for which BOHB's rule has a model (the largest
    budget with enough observations, what ``trust="off"`` uses), and of those the draws whose
    model the trust rule put on a cheaper budget (``lower``) or dropped, every budget with
    enough observations ranking backwards, so the draw is random (``none``)."""

    def __init__(self, space: dict[str, Any], **options: Any) -> None:
        super().__init__(space, **options)
        self.draws = {"bohb": 0, "lower": 0, "none": 0}

    def sample(self, rng: np.random.Generator, n: int, **kwargs: Any) -> list[dict[str, Any]]:
        bohb = self._budgets._largest  # the benchmark peeks: BOHB's budget is not public
        if bohb is not None and n > 0:
            budget = self.model_budget
            self.draws["bohb"] += n
            if budget is None:
                self.draws["none"] += n
            elif budget < bohb:
                self.draws["lower"] += n
        return super().sample(rng, n, **kwargs)


def _method(
    sampler: Callable[[lcbench.LCBenchWorkload], Any] | None, brackets: str = "cycle"
) -> tuple[Ours, list[Any]]:
    """A method for ``run_ours``, and the list where each run's sampler is kept (to read its
    final consistency and weights)."""
    made: list[Any] = []

    def make(w: Any, seed: int) -> hyperband.Hyperband:
        made.clear()
        s = w.space if sampler is None else sampler(w)
        made.append(s)
        return hyperband.Hyperband(
            s,
            w.max_budget,
            eta=w.eta,
            min_budget=w.min_budget,
            sizing="li2018",
            mode=w.mode,
            exec_mode="serial",
            iterations=None,
            seed=seed,
            integer_budgets=w.integer_budgets,
            brackets=brackets,
        )

    return Ours(make), made


FACTORIES: dict[str, Callable[[Any], Any] | None] = {
    "HB": None,
    "KDE HB": lambda w: _Counted(w.space),
    "KDE HB trust": lambda w: _Counted(w.space, trust="rank"),
    "HB adaptive": None,
    "KDE HB trust adaptive": lambda w: _Counted(w.space, trust="rank"),
}


def _sampler_state(s: Any) -> dict[str, Any]:
    return {
        "consistency": {f"{b:g}": p for b, p in s.consistency.items()},
        "trust_weights": {f"{b:g}": v for b, v in s.trust_weights.items()},
        "model_budget": s.model_budget,
        "draws": dict(s.draws),
    }


def run_task(
    w: lcbench.LCBenchWorkload,
    methods: list[str],
    seeds: list[int],
    total: float,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Every (method, seed) on one task: ``{method: {seed: record}}``."""
    out: dict[str, dict[str, Any]] = {m: {} for m in methods}
    at = np.array([f * total for f in FRACTIONS])
    for method in methods:
        ours, made = _method(FACTORIES[method], "adaptive" if "adaptive" in method else "cycle")
        start = time.perf_counter()
        for seed in seeds:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", RuntimeWarning)
                record = reduce_trace(w, total, run_ours(ours, w, seed, total))
            record["below_reference"] = sum("beat the reference" in str(c.message) for c in caught)
            record["regret_at"] = [_num(v) for v in regret_at(record, at)]
            if FACTORIES[method] is not None:  # a KDE: its final consistency and weights
                record.update(_sampler_state(made[0]))
            out[method][str(seed)] = record
        log(f"  {w.task} {method}: {len(seeds)} seeds, {time.perf_counter() - start:.1f} s")
    return out


# ---------------------------------------------------------------------- the summary


def _finite(x: float | None) -> float:
    return math.inf if x is None else x


def summarise(runs: dict[str, dict[str, dict[str, Any]]], methods: list[str]) -> dict[str, Any]:
    """Per task and method, the regret quartiles at the fractions; per task, the KDE runs'
    median consistency and weights per budget; the runs trust changed."""
    tasks: dict[str, Any] = {}
    changed = better = worse = compared = unexplained = 0
    for task, by_method in runs.items():
        entry: dict[str, Any] = {"methods": {}, "trust": {}}
        for m in methods:
            recs = list(by_method[m].values())
            fr = np.array([[_finite(v) for v in r["regret_at"]] for r in recs])
            med, lo, hi = quartiles(fr)
            overhead = [(r["cpu"] - r["objective_cpu"]) / r["run_configs"] for r in recs]
            entry["methods"][m] = {
                "seeds": len(recs),
                "at": {
                    f"{f:g}": [_num(med[i]), _num(lo[i]), _num(hi[i])]
                    for i, f in enumerate(FRACTIONS)
                },
                "ms_per_config_cpu": 1e3 * float(np.median(overhead)),
                "below_reference": sum(r["below_reference"] for r in recs),
            }
            if FACTORIES[m] is not None:  # a KDE's consistency and weights
                entry["trust"][m] = _median_state(recs)
        if "KDE HB" in methods and "KDE HB trust" in methods:
            off, rank = by_method["KDE HB"], by_method["KDE HB trust"]
            for seed in off.keys() & rank.keys():
                a, b = _finite(off[seed]["final_regret"]), _finite(rank[seed]["final_regret"])
                compared += 1
                changed += a != b
                d = rank[seed]["draws"]
                unexplained += a != b and d["lower"] + d["none"] == 0
                better += b < a
                worse += b > a
        tasks[task] = entry
    return {
        "tasks": tasks,
        "trust_changed": {
            "compared": compared,
            "changed": changed,
            "better": better,
            "worse": worse,
            # Changed although no draw left BOHB's budget: should be 0 (the runs are the same
            # draw for draw until the trust rule first picks another model).
            "changed_without_a_moved_draw": unexplained,
        },
    }


def _median_state(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median over runs of the final consistency and weight of each budget (a run where a
    budget is unmeasured leaves it out), and the draws the trust rule moved (``_Counted``)."""
    budgets = sorted({b for r in recs for b in r["consistency"]}, key=float)
    out: dict[str, Any] = {"consistency": {}, "trust_weights": {}, "measured": {}}
    for b in budgets:
        p = [r["consistency"][b] for r in recs if r["consistency"].get(b) is not None]
        wt = [r["trust_weights"][b] for r in recs if b in r["trust_weights"]]
        out["measured"][b] = len(p)
        out["consistency"][b] = float(np.median(p)) if p else None
        out["trust_weights"][b] = float(np.median(wt)) if wt else None
    for k in ("bohb", "lower", "none"):
        out[f"draws_{k}"] = sum(r["draws"][k] for r in recs)
    out["runs_moved"] = sum(r["draws"]["lower"] + r["draws"]["none"] > 0 for r in recs)
    out["final_model_budget"] = sorted(
        {str(r["model_budget"]) for r in recs}, key=lambda s: (s == "None", s)
    )
    return out


# ---------------------------------------------------------------------- cost


def _spread(n: int) -> dict[int, int]:
    """How many of ``n`` observations fall on each budget when spread as li2018 Hyperband
    iterations spread them (at budget r_i, n_i jobs of each bracket reaching it)."""
    counts = dict.fromkeys(COST_BUDGETS, 0)
    for bracket in SCHEDULE.brackets:
        for rung in bracket.rungs:
            counts[int(rung.budget)] += rung.n_configs
    total = sum(counts.values())
    out = {b: round(n * c / total) for b, c in counts.items()}
    out[COST_BUDGETS[0]] += n - sum(out.values())
    return out


def _cost_row(trust: str, n: int, repeats: int) -> dict[str, Any]:
    """ms (CPU) per draw with ``n`` observations spread over the budgets: cached, with one
    observe at the top budget before each draw, and with one at the cheapest."""
    from yahpo import space as lc_space

    rng = np.random.default_rng(0)
    counts = _spread(n)
    # Promotions: the configurations at a budget are the best of those at the budget below
    # (the ones a rung keeps), so every cheaper budget shares configurations with the top.
    configs = lc_space.sample(rng, counts[COST_BUDGETS[0]] + 2 * repeats)
    quality = rng.random(len(configs))
    sampler = KDESampler(lc_space.NNI_SPACE, random_fraction=0.0, trust=trust)
    ranked = list(np.argsort(quality[: counts[COST_BUDGETS[0]]]))
    for budget in COST_BUDGETS:
        keep = ranked[: counts[budget]]
        for i in keep:
            noise = 0.3 * (1 - budget / COST_BUDGETS[-1]) * rng.standard_normal()
            sampler.observe(configs[i], budget, float(quality[i] + noise))
        ranked = keep
    sampler.sample(rng, 1)  # fit once, measure once
    start = time.process_time()
    for _ in range(repeats):
        sampler.sample(rng, 1)
    cached = time.process_time() - start
    first = counts[COST_BUDGETS[0]]
    row: dict[str, Any] = {
        "observations": dict(counts.items()),
        "cached_ms": 1e3 * cached / repeats,
    }
    # One new configuration observed before each draw: at the top budget (the model is refitted
    # and the consistency measured again), then at the cheapest (the model stays, the
    # consistency is measured again: what most observations of a Hyperband run do).
    cases = (("observe_top_ms", COST_BUDGETS[-1]), ("observe_low_ms", COST_BUDGETS[0]))
    for k, (name, budget) in enumerate(cases):
        start = time.process_time()
        for i in range(first + k * repeats, first + (k + 1) * repeats):
            sampler.observe(configs[i], budget, float(quality[i]))
            sampler.sample(rng, 1)
        row[name] = 1e3 * (time.process_time() - start) / repeats
    row["model_budget"] = sampler.model_budget
    row["consistency"] = {f"{b:g}": p for b, p in sampler.consistency.items()}
    return row


def bench_cost(n: int, repeats: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    out = {}
    for trust in ("off", "rank"):
        row = out[trust] = _cost_row(trust, n, repeats)
        log(
            f"cost trust={trust}: cached {row['cached_ms']:.3f} ms, observe at 52 + draw "
            f"{row['observe_top_ms']:.3f} ms, observe at 2 + draw {row['observe_low_ms']:.3f} ms"
        )
    return {"n": n, "repeats": repeats, "dims": 7, "rows": out}


# ---------------------------------------------------------------------- the report


def _p(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def regret_table_head() -> list[str]:
    """The head of a regret table: a row per task and method, a column per fraction."""
    fractions = " | ".join(f"{f:.0%} of budget" for f in FRACTIONS)
    return [f"| task | method | seeds | {fractions} |", "|---|---|---:|" + "---:|" * len(FRACTIONS)]


def markdown(
    summary: dict[str, Any], methods: list[str], cost: dict[str, Any], total: float
) -> str:
    lines = [
        f"Total budget {total:g} epochs per run ({total / lcbench.MAX_BUDGET:.1f} x 52 epochs). "
        "Cells: median [25%, 75%] over seeds of the regret (validation error at 52 epochs above "
        "the task's reference) after 25% and 100% of the budget; the lowest median of each "
        "task and column in bold.",
        "",
        *regret_table_head(),
    ]
    wins = dict.fromkeys(methods, 0)
    for task, entry in summary["tasks"].items():
        present = [m for m in methods if m in entry["methods"]]
        best = best_medians(entry, present, FRACTIONS)
        for m in present:
            e = entry["methods"][m]
            cells = regret_cells(e, best, FRACTIONS)
            final = e["at"][f"{FRACTIONS[-1]:g}"][0]
            wins[m] += final is not None and final == best[FRACTIONS[-1]]
            lines.append(f"| {task} | {m} | {e['seeds']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Lowest median at 100% of the budget (ties count for each): "
        + ", ".join(f"{m} {wins[m]} of {len(summary['tasks'])}" for m in methods)
        + ".",
        "",
    ]
    below = sum(
        e["methods"][m]["below_reference"] for e in summary["tasks"].values() for m in e["methods"]
    )
    if below:
        lines += [f"Incumbents that beat the reference (regret clipped at 0): {below}.", ""]
    if "KDE HB trust" in methods:
        budgets = [f"{b:g}" for b in COST_BUDGETS]
        lines += [
            "KDE HB trust at the end of its runs: the rank consistency `p` of each cheaper budget "
            "with 52 epochs and the trust weights (`p**3`, summing to 1) of 2 / 6 / 17 / 52 "
            'epochs, median over seeds ("-": unmeasured in every run: fewer than 5 '
            "configurations evaluated at both budgets); and, of the draws for which BOHB's rule "
            "had a model, those the trust rule drew from a cheaper budget's model or at random "
            "(every budget with enough results ranking backwards), over the whole runs (in how "
            "many runs):",
            "",
            "| task | p at " + " / ".join(budgets[:-1]) + " | weights | draws: cheaper budget | "
            "draws: random | runs |",
            "|---|---|---|---:|---:|---:|",
        ]
        for task, entry in summary["tasks"].items():
            t = entry["trust"]["KDE HB trust"]
            p = " / ".join(_p(t["consistency"].get(b)) for b in budgets[:-1])
            wt = " / ".join(_p(t["trust_weights"].get(b)) for b in budgets)
            lines.append(
                f"| {task} | {p} | {wt} | {t['draws_lower']} of {t['draws_bohb']} "
                f"| {t['draws_none']} | {t['runs_moved']} |"
            )
        lines.append("")
    tc = summary["trust_changed"]
    if tc["compared"]:
        lines += [
            f'`trust="rank"` changed the final regret in {tc["changed"]} of {tc["compared"]} '
            f'runs against `trust="off"` (same task and seed): lower in {tc["better"]}, higher '
            f"in {tc['worse']}.",
            "",
        ]
    if cost:
        rows = cost["rows"]
        obs = rows["off"]["observations"]
        spread = ", ".join(f"{v} at {b}" for b, v in obs.items())
        lines += [
            f"Cost of a draw (CPU ms, every draw from the model), {cost['n']:,} observations in "
            f"lcbench's {cost['dims']}-dimensional space ({spread} epochs, each budget's "
            "configurations the best of the budget below), mean of "
            f"{cost['repeats']} draws; target at most 2 ms:",
            "",
            "| trust | model and weights cached | one observe at 52 epochs before each draw "
            "| one observe at 2 epochs before each draw |",
            "|---|---:|---:|---:|",
        ]
        for trust, row in rows.items():
            lines.append(
                f"| {trust} | {row['cached_ms']:.2f} | {row['observe_top_ms']:.2f} "
                f"| {row['observe_low_ms']:.2f} |"
            )
        lines.append("")
    ms = {
        m: float(
            np.median([e["methods"][m]["ms_per_config_cpu"] for e in summary["tasks"].values()])
        )
        for m in methods
    }
    lines += [
        "Optimizer cost inside the runs (CPU ms per distinct configuration, run time less the "
        "surrogate's, median over tasks): "
        + ", ".join(f"{m} {v:.2g}" for m, v in ms.items())
        + ".",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- main


def main(
    argv: list[str] | None = None,
    surrogate: Callable[[str], LCBenchSurrogate] | None = None,
) -> dict[str, Any]:
    """Run the benchmark; ``surrogate(task)`` makes each task's surrogate (default: the real
    one; the tests pass a fake)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 task, 1 seed, 1 iteration")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds 0 .. SEEDS - 1")
    parser.add_argument("--tasks", nargs="+", default=list(lcbench.DEV_TASKS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--reference", type=Path, default=lcbench.REFERENCE_FILE)
    parser.add_argument("--no-cost", action="store_true", help="skip the cost measurement")
    args = parser.parse_args(argv)
    tasks = args.tasks[:1] if args.quick else args.tasks
    seeds = list(range(1 if args.quick else args.seeds))
    total = (SCHEDULE.total_budget if args.quick else TOTAL) * 1.0
    methods = [m for m in METHODS if m in args.methods]
    make = surrogate or LCBenchSurrogate

    start = time.perf_counter()
    runs: dict[str, dict[str, dict[str, Any]]] = {}
    references: dict[str, float] = {}
    for task in tasks:
        with lcbench.lcbench_workload(task, make(task), reference_file=args.reference) as w:
            references[task] = w.optimum
            runs[task] = run_task(w, methods, seeds, total)
    cost = {} if args.no_cost else bench_cost(1000, 20 if args.quick else 300)
    summary = summarise(runs, methods)
    table = markdown(summary, methods, cost, total)
    report = {
        "benchmark": "bench_lcbench",
        "version": hyperband.__version__,
        "quick": args.quick,
        "tasks": tasks,
        "seeds": seeds,
        "methods": methods,
        "total_budget": total,
        "references": references,
        "reference_file": str(args.reference.relative_to(HERE.parent))
        if args.reference.is_relative_to(HERE.parent)
        else str(args.reference),
        "summary": summary,
        "cost": cost,
        "runs": {
            task: {m: {s: _compact(r) for s, r in recs.items()} for m, recs in by_m.items()}
            for task, by_m in runs.items()
        },
        "markdown": table,
        "seconds": time.perf_counter() - start,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / ("bench_lcbench_quick.json" if args.quick else "bench_lcbench.json")
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(table)
    print(f"wrote {out}; {report['seconds']:.1f} s")
    return report


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    keep: tuple[str, ...] = (
        "final_regret",
        "regret_at",
        "evaluations",
        "configs",
        "at_max_budget",
        "spent",
    )
    keep += ("cpu", "objective_cpu", "run_configs", "below_reference")
    keep += ("consistency", "trust_weights", "model_budget", "draws")
    return {k: record[k] for k in keep if k in record}


if __name__ == "__main__":
    main()
