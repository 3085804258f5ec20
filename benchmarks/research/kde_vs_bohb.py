"""KDE HB against HpBandSter's BOHB on LCBench: which difference matters (issue 15).

An experiment, not a maintained benchmark. HpBandSter 0.7.4's BOHB (``peers/run_hpbandster.py``)
runs the algorithm of our ``KDESampler`` + Hyperband ("KDE HB", ``trust="off"``), yet ends lower
on some LCBench tasks. ``kde_vs_bohb.md`` lists every difference found by reading both; this
script measures those that ``KDESampler`` can be given, one at a time from today's default, and
two that it cannot, through small research-only subclasses (the library is not changed):

- ``untruncated``: the densities' continuous kernels are plain Gaussians, as statsmodels'
  ``KDEMultivariate`` (BOHB's) evaluates them, instead of Gaussians truncated to ``[0, 1]``
  (renormalised, so a centre near a bound weighs up to twice as much);
- ``BOHB encoding``: the space as HpBandSter's ConfigSpace sees it: ``batch_size`` and
  ``max_units`` unrounded log-scale floats (the surrogate rounds them), and ``num_layers`` on
  ConfigSpace 1.x's integer grid (1..5 at 0, 1/4, ..., 1, so 1 and 5 own half cells in the
  model's draws); random draws stay uniform over 1..5, as ``sample_configuration`` draws.

and one harness difference, HpBandSter's Hyperband sizing (``sizing="table"``, through a
dispatcher around ``bench_lcbench._method``), alone and with every sampler difference
("BOHB emulation").

Everything else is ``benchmarks/bench_lcbench.py``'s machinery, imported (``run_task``,
``summarise``): the same Hyperband (li2018 sizing, ``integer_budgets=True``, serial, 4
iterations' worth of budget, 3268 epochs), the same seeds (0-9), the same regret.

Run (the yahpo venv and data must be there: ``bash benchmarks/yahpo/setup.sh``)::

    nice -n 19 python benchmarks/research/kde_vs_bohb.py          # 5 tasks x seeds 0-9
    nice -n 19 python benchmarks/research/kde_vs_bohb.py --first 10 --seeds 20 \
        --variants "KDE HB" "64 candidates"                         # seeds 10-29
    python benchmarks/research/kde_vs_bohb.py --render              # the tables only

Runs are merged into ``kde_vs_bohb.json`` next to this file (a seed run again replaces that
run), so variants and seeds can be added batch by batch. The tables are rendered from every run
kept: seeds 0-9 (bench_lcbench's), and every seed for the variants run on more,
with today's KDE HB (``results/bench_lcbench.json``) and HpBandSter's BOHB
(``results/bench_lcbench_peers.json``) as published.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import copy
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import hyperband

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.insert(0, str(BENCH))

import bench_compare  # noqa: E402
import bench_lcbench as bl  # noqa: E402
from bench_compare import best_medians, regret_cells  # noqa: E402
from yahpo import lcbench  # noqa: E402
from yahpo.client import LCBenchSurrogate  # noqa: E402

from hyperband.core.sampling import _Block  # noqa: E402
from hyperband.core.space import validate_space  # noqa: E402
from hyperband.samplers.kde.densities import _Density  # noqa: E402
from hyperband.samplers.kde.encoding import FloatArray  # noqa: E402
from hyperband.samplers.kde.kernels import _log_truncation  # noqa: E402

TASKS = ("126029", "7593", "189862", "168331", "167201")
OUT = HERE / "kde_vs_bohb.json"
PEER = "BOHB (HpBandSter)"
DEFAULT = "KDE HB"


# ---------------------------------------------------------------------- research subclasses


class Untruncated(bl._Counted):
    """``KDESampler`` whose densities use plain Gaussian kernels on the ``[0, 1]`` dimensions
    (statsmodels' ``KDEMultivariate``, as BOHB evaluates ``l(x) / g(x)``). Candidates are
    still drawn from truncated Gaussians, as both do."""

    def _density(self, data: Any) -> _Density:
        dens = super()._density(data)
        lay = self._layout
        k = lay.cont.size
        if not lay.is_unit.any():
            return dens
        # The centres' constant feature holds -log Z(m) of the truncation: add it back.
        unit = lay.cont[lay.is_unit]
        m = data[:, unit]
        active = ~np.isnan(m)
        z = _log_truncation(np.where(active, m, 0.5), dens.bw[unit])
        rows = 2 * k + np.flatnonzero(lay.is_unit)
        dens.features[rows] += np.where(active, z, 0.0).T
        return dens


def bohb_space(
    space: dict[str, Any], *, unrounded: bool = True, grid: bool = True
) -> dict[str, Any]:
    """lcbench's NNI space as HpBandSter's ConfigSpace encodes it (see the module docstring):
    ``unrounded``: ``batch_size`` and ``max_units`` as log-scale floats; ``grid``:
    ``num_layers`` on ConfigSpace's integer grid."""
    out = copy.deepcopy(space)
    if unrounded:
        for name in ("batch_size", "max_units"):
            low, high = out[name]["_value"][:2]
            out[name] = {"_type": "loguniform", "_value": [low, high]}
    if grid:
        low, high = out["num_layers"]["_value"]  # randint: high excluded
        out["num_layers"] = {"_type": "quniform", "_value": [low, high - 1, 1]}
    return out


class BOHBEncoding(bl._Counted):
    """``KDESampler`` that models :func:`bohb_space` but draws its random configurations from
    the original space (uniform integers, as ConfigSpace's ``sample_configuration``)."""

    def __init__(
        self, space: dict[str, Any], unrounded: bool = True, grid: bool = True, **options: Any
    ) -> None:
        super().__init__(bohb_space(space, unrounded=unrounded, grid=grid), **options)
        self._random = _Block.compile(validate_space(space))


class BOHBAll(BOHBEncoding, Untruncated):
    """Every sampler-side difference at once: BOHB's options, kernels and encoding."""


BOHB_OPTIONS: dict[str, Any] = {"random_fraction": 1 / 3, "n_candidates": 64}

Factory = Callable[[Any], Any]
VARIANTS: dict[str, tuple[Factory, str]] = {
    DEFAULT: (lambda w: bl._Counted(w.space), "today's defaults (rerun)"),
    "rf 1/3": (lambda w: bl._Counted(w.space, random_fraction=1 / 3), "random_fraction=1/3"),
    "64 candidates": (lambda w: bl._Counted(w.space, n_candidates=64), "n_candidates=64"),
    "pending ignore": (lambda w: bl._Counted(w.space, pending="ignore"), 'pending="ignore"'),
    "untruncated": (lambda w: Untruncated(w.space), "plain Gaussian kernels in l and g"),
    "BOHB encoding": (lambda w: BOHBEncoding(w.space), "ConfigSpace's encoding of the space"),
    "unrounded ints": (
        lambda w: BOHBEncoding(w.space, grid=False),
        "batch_size, max_units: unrounded log floats",
    ),
    "num_layers grid": (
        lambda w: BOHBEncoding(w.space, unrounded=False),
        "num_layers on ConfigSpace's grid",
    ),
    "BOHB options": (
        lambda w: bl._Counted(w.space, **BOHB_OPTIONS),
        "random_fraction=1/3 and n_candidates=64",
    ),
    "BOHB all": (
        lambda w: BOHBAll(w.space, **BOHB_OPTIONS),
        "BOHB's options, untruncated kernels and encoding",
    ),
}


class TableSizing:
    """A sampler factory whose Hyperband uses HpBandSter's sizing (``sizing="table"``): a
    harness difference, not a sampler one (the s=2 bracket starts 9 configurations, not 12)."""

    def __init__(self, factory: Factory) -> None:
        self.factory = factory

    def __call__(self, w: Any) -> Any:
        return self.factory(w)


VARIANTS["table sizing"] = (TableSizing(VARIANTS[DEFAULT][0]), 'Hyperband(sizing="table")')
VARIANTS["BOHB emulation"] = (
    TableSizing(VARIANTS["BOHB all"][0]),
    'BOHB all with sizing="table"',
)

_LI2018 = bl._method


def _method(sampler: Any, brackets: str = "cycle") -> tuple[bench_compare.Ours, list[Any]]:
    """``bench_lcbench._method``, with the table sizing for a :class:`TableSizing` factory."""
    if not isinstance(sampler, TableSizing):
        return _LI2018(sampler, brackets)
    ours, made = _LI2018(sampler, brackets)

    def make(w: Any, seed: int) -> hyperband.Hyperband:
        li2018 = ours.make(w, seed)  # draws nothing yet: only its sampler and options are kept
        options = {**li2018.params, "sizing": "table"}
        return hyperband.Hyperband(made[0], **options)

    return bench_compare.Ours(make), made


def register(names: list[str]) -> None:
    """Make the variants known to ``bench_lcbench.run_task`` (it looks methods up by name),
    and give it the table sizing for the :class:`TableSizing` variants."""
    for name in names:
        bl.FACTORIES.setdefault(name, VARIANTS[name][0])
    bl._method = _method


# ---------------------------------------------------------------------- runs and summary


def load(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The runs kept in ``path``, shaped as ``bench_lcbench.summarise`` reads them."""
    if not path.exists():
        return {}
    runs: dict[str, dict[str, dict[str, Any]]] = json.loads(path.read_text())["runs"]
    for by_variant in runs.values():
        for recs in by_variant.values():
            for rec in recs.values():
                rec.setdefault("consistency", {})
                rec.setdefault("trust_weights", {})
    return runs


# With trust="off" the consistency and weights steer nothing: they are not kept (the file
# stays small).
_NOT_KEPT = ("consistency", "trust_weights")


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """``bench_lcbench._compact``'s record, without the trust state, floats to 8 digits."""
    kept = {k: v for k, v in bl._compact(record).items() if k not in _NOT_KEPT}
    return {k: float(f"{v:.8g}") if isinstance(v, float) else v for k, v in kept.items()}


def published() -> dict[str, dict[str, Any]]:
    """Per task, today's KDE HB and HpBandSter's BOHB entries as the benchmarks published
    them."""
    ours = json.loads((BENCH / "results" / "bench_lcbench.json").read_text())
    peers = json.loads((BENCH / "results" / "bench_lcbench_peers.json").read_text())
    out: dict[str, dict[str, Any]] = {}
    for task, entry in peers["summary"]["tasks"].items():
        out[task] = {
            f"{DEFAULT} (published)": ours["summary"]["tasks"][task]["methods"][DEFAULT],
            f"{PEER} (published)": entry["methods"][PEER],
        }
    return out


PEER_RUNS = BENCH / "results" / "lcbench_peers" / "bohb__hpbandster"


def peer_finals(task: str) -> FloatArray:
    """HpBandSter's final regret in each of its published runs of ``task``."""
    records = [json.loads(p.read_text()) for p in sorted(PEER_RUNS.glob(f"{task}-*.json"))]
    return np.array([bl._finite(r["final_regret"]) for r in records if r["total"] == bl.TOTAL])


def peer_lower(peer: FloatArray, ours: FloatArray) -> tuple[float, float]:
    """The probability that a run of the peer ends lower than one of ours (ties count half:
    Mann-Whitney's U / (n1 n2)), and the two-sided p-value of U (normal approximation)."""
    wins = (peer[:, None] < ours[None, :]).mean() + 0.5 * (peer[:, None] == ours[None, :]).mean()
    n1, n2 = peer.size, ours.size
    z = (wins - 0.5) * n1 * n2 / math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0)
    return float(wins), math.erfc(abs(z) / math.sqrt(2.0))


def paired(runs: dict[str, dict[str, Any]], variant: str) -> dict[str, list[int]]:
    """Against the default, per fraction: seeds where the variant's regret is lower, equal,
    higher (same task and seed)."""
    out: dict[str, list[int]] = {}
    base = runs.get(DEFAULT, {})
    for i, f in enumerate(bl.FRACTIONS):
        counts = [0, 0, 0]
        for seed, rec in runs[variant].items():
            if seed not in base:
                continue
            a, b = bl._finite(base[seed]["regret_at"][i]), bl._finite(rec["regret_at"][i])
            counts[0 if b < a else 1 if b == a else 2] += 1
        out[f"{f:g}"] = counts
    return out


def summary_of(
    runs: dict[str, dict[str, dict[str, Any]]], variants: list[str], seeds: range
) -> dict[str, Any]:
    """Per task, ``bench_lcbench.summarise``'s entry over the runs of ``seeds``, and the
    paired counts against the default."""
    wanted = {str(s) for s in seeds}
    per_task: dict[str, Any] = {}
    for task, all_seeds in runs.items():
        by_variant = {
            v: kept
            for v, recs in all_seeds.items()
            if (kept := {s: r for s, r in recs.items() if s in wanted})
        }
        present = [v for v in variants if v in by_variant]
        entry = bl.summarise({task: by_variant}, present)["tasks"][task]
        entry["paired"] = {v: paired(by_variant, v) for v in present if v != DEFAULT}
        peer = peer_finals(task)
        entry["peer_lower"] = {}
        for v in present if peer.size else []:
            finals = np.array([bl._finite(r["regret_at"][-1]) for r in by_variant[v].values()])
            entry["peer_lower"][v] = peer_lower(peer, finals)
        per_task[task] = entry
    return per_task


def sign_p(lower: int, higher: int) -> float:
    """Two-sided exact sign test of ``lower`` against ``higher`` (ties left out)."""
    n = lower + higher
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(lower, higher) + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def pooled(tasks: dict[str, Any], variants: list[str]) -> dict[str, Any]:
    """Per variant and fraction, over the tasks that ran it and the default: the geometric
    mean of (variant's median / default's median), the tasks where its median is lower, the
    paired seed counts summed and their sign test; and the mean over tasks of P(BOHB lower)
    at 100%."""
    out: dict[str, Any] = {}
    for v in variants:
        row: dict[str, Any] = {}
        odds = [e["peer_lower"][v][0] for e in tasks.values() if v in e["peer_lower"]]
        row["peer_lower_mean"] = float(np.mean(odds)) if odds else None
        for f in bl.FRACTIONS if v != DEFAULT else ():
            key = f"{f:g}"
            ratios, lower, n, seeds = [], 0, 0, [0, 0, 0]
            for entry in tasks.values():
                if v not in entry["methods"] or DEFAULT not in entry["methods"]:
                    continue
                a = entry["methods"][DEFAULT]["at"][key][0]
                b = entry["methods"][v]["at"][key][0]
                if a is None or b is None:
                    continue
                n += 1
                lower += b < a
                ratios.append(max(b, 1e-6) / max(a, 1e-6))
                seeds = [s + c for s, c in zip(seeds, entry["paired"][v][key], strict=True)]
            gm = float(np.exp(np.mean(np.log(ratios)))) if ratios else None
            row[key] = {
                "tasks": n,
                "lower_median": lower,
                "ratio_gmean": gm,
                "seeds": seeds,
                "sign_p": sign_p(seeds[0], seeds[2]),
            }
        out[v] = row
    return out


# ---------------------------------------------------------------------- the report


def markdown(tasks: dict[str, Any], pool: dict[str, Any], title: str, pub: bool) -> str:
    """A table of every task and variant (with the published rows if ``pub``) and the pooled
    table."""
    published_rows = published() if pub else {}
    lines = [
        title,
        "",
        "| task | variant | seeds | 25% of budget | 100% of budget | vs default at 100% "
        "| P(BOHB lower) at 100% [p] |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for task, entry in tasks.items():
        rows = {**published_rows.get(task, {}), **entry["methods"]}
        present = list(rows)
        best = best_medians({"methods": rows}, present, bl.FRACTIONS)
        for name in present:
            e = rows[name]
            cells = regret_cells(e, best, bl.FRACTIONS)
            vs = entry["paired"].get(name, {}).get("1")
            versus = " / ".join(map(str, vs)) if vs else ""
            pl = entry["peer_lower"].get(name)
            odds = f"{pl[0]:.2f} [{pl[1]:.2g}]" if pl else ""
            lines.append(
                f"| {task} | {name} | {e['seeds']} | "
                + " | ".join(cells)
                + f" | {versus} | {odds} |"
            )
    lines += [
        "",
        "Pooled over the tasks: geometric mean of the ratio of medians (variant / rerun "
        "default; below 1 is better), tasks where the variant's median is lower, seeds "
        "lower / equal / higher (paired by seed) and the two-sided sign test of lower against "
        "higher; last, the mean over the tasks of P(BOHB lower) at 100%.",
        "",
        "| variant | what | tasks | ratio at 25% | seeds at 25% [p] | ratio at 100% "
        "| lower at 100% | seeds at 100% [p] | P(BOHB lower) |",
        "|---|---|---:|---:|---|---:|---:|---|---:|",
    ]
    for v, row in pool.items():
        odds = _r(row["peer_lower_mean"])
        if v == DEFAULT:
            lines.append(f"| {v} | {VARIANTS[v][1]} | | | | | | | {odds} |")
            continue
        a, b = row["0.25"], row["1"]
        lines.append(
            f"| {v} | {VARIANTS[v][1]} | {b['tasks']} | {_r(a['ratio_gmean'])} | {_seeds(a)} | "
            f"{_r(b['ratio_gmean'])} | {b['lower_median']} | {_seeds(b)} | {odds} |"
        )
    lines.append("")
    return "\n".join(lines)


def _seeds(cell: dict[str, Any]) -> str:
    return " / ".join(map(str, cell["seeds"])) + f" [{cell['sign_p']:.2g}]"


def _r(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--seeds", type=int, default=10, help="seeds FIRST .. FIRST+SEEDS-1")
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--render", action="store_true", help="only re-render the kept runs")
    args = parser.parse_args(argv)
    register(list(VARIANTS))
    runs = load(args.out)
    start = time.perf_counter()
    if not args.render:
        seeds = list(range(args.first, args.first + args.seeds))
        for task in args.tasks:
            with lcbench.lcbench_workload(task, LCBenchSurrogate(task)) as w:
                done = bl.run_task(w, list(args.variants), seeds, bl.TOTAL)
            for v, recs in done.items():
                kept = runs.setdefault(task, {}).setdefault(v, {})
                kept.update({s: compact(r) for s, r in recs.items()})
            save(args.out, runs, time.perf_counter() - start)
    return save(args.out, runs, time.perf_counter() - start)


MAIN = range(10)  # bench_lcbench's seeds
MAIN_TITLE = (
    "Seeds 0-9 (bench_lcbench's). Regret (validation error at 52 epochs above the task's "
    "reference), median [25%, 75%] over seeds at 25% and 100% of the budget (3268 epochs); "
    'lowest median of each task and column in bold. "(published)": the rows of '
    "`results/bench_lcbench.json` and `results/bench_lcbench_peers.json`. Column 6: seeds "
    "where the variant's final regret is lower / equal / higher than the rerun default's "
    "(same seed). Column 7: the probability that one of HpBandSter's published runs ends lower "
    "than one of the variant's (Mann-Whitney U / n1 n2; 0.5: no difference) and the "
    "two-sided p-value of U (normal approximation)."
)
EXTENDED_TITLE = (
    "Every seed kept (0 to {last}), for the variants run on more seeds than bench_lcbench's "
    "10; cells as above."
)


def save(path: Path, runs: dict[str, Any], seconds: float) -> dict[str, Any]:
    variants = [v for v in VARIANTS if any(v in by_v for by_v in runs.values())]
    seeds = {int(s) for by_v in runs.values() for recs in by_v.values() for s in recs}
    everything = range(max(seeds) + 1)
    report: dict[str, Any] = {
        "experiment": "kde_vs_bohb",
        "total_budget": bl.TOTAL,
        "fractions": list(bl.FRACTIONS),
        "variants": {v: VARIANTS[v][1] for v in variants},
    }
    tables = []
    for name, chosen in (("main", MAIN), ("extended", everything)):
        if name == "extended" and len(everything) <= len(MAIN):
            break
        extended = name == "extended"
        wide = [v for v in variants if not extended or _has_more(runs, v)]
        tasks = summary_of(runs, wide, chosen)
        pool = pooled(tasks, wide)
        title = EXTENDED_TITLE.format(last=max(seeds)) if extended else MAIN_TITLE
        tables.append(markdown(tasks, pool, title, pub=not extended))
        report[name] = {"seeds": [chosen.start, chosen.stop - 1], "summary": tasks, "pooled": pool}
    report.update(markdown="\n".join(tables), seconds_last_batch=seconds)
    text = json.dumps(report, indent=1)
    # The runs one line per task and variant: a run per seed, compact.
    lines = ",\n".join(
        f'  "{task}": {{\n'
        + ",\n".join(
            f"   {json.dumps(v)}: {json.dumps({s: compact(r) for s, r in recs.items()})}"
            for v, recs in by_v.items()
        )
        + "\n  }"
        for task, by_v in runs.items()
    )
    path.write_text(text[:-2] + ',\n "runs": {\n' + lines + "\n }\n}\n")
    return report


def _has_more(runs: dict[str, Any], variant: str) -> bool:
    """Whether ``variant`` has runs of seeds past bench_lcbench's on every task it ran."""
    counts = [len(by_v[variant]) for by_v in runs.values() if variant in by_v]
    return bool(counts) and min(counts) > len(MAIN)


if __name__ == "__main__":
    print(main()["markdown"])
