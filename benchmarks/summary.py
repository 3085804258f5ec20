"""The summary at the top of docs/benchmarks.md, written from benchmarks/results/*.json.

``run_all.py`` fills it in for ``{{summary}}``, so that the headline figures are the ones the
sections below show, from the same run, and no page quotes a number typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _load(results: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / name).read_text())
    return data


def _times(x: float) -> str:
    return f"{x:,.0f}x" if x >= 10 else f"{x:.2f}x"


def _overhead(results: Path) -> str:
    core = _load(results, "bench_core.json")
    last = core["rows"][-1]
    return (
        f"- **Overhead.** One `ask()` + `tell()` costs {last['us_per_job']:.1f} us at "
        f"{last['jobs']:,} jobs (target: at most 5 us), and stays flat: "
        f"{core['flatness']:.2f}x the cost at {core['rows'][0]['jobs']:,} jobs "
        "([details](#overhead-of-the-machine))."
    )


def _nni(results: Path) -> str:
    nni = _load(results, "bench_nni_overhead.json")
    parallel = _load(results, "parallel.json")["results"]

    def vs_nni(scheduler: str, workers: int) -> str:
        ours, theirs = parallel[scheduler][str(workers)], parallel["nni"][str(workers)]
        return f"{ours['makespan'] / theirs['makespan']:.2f}x"

    return (
        f"- **Against NNI 3.0's built-in Hyperband advisor.** {nni['median']['ours']:.0f} us of "
        f"scheduling per job against {nni['median']['builtin']:.0f} us "
        f"({nni['ratio']:.1f}x less; [details](#overhead-of-the-nni-advisor)). With 16 and 32 "
        f"simulated workers our makespan is {vs_nni('parallelism', 16)} and "
        f"{vs_nni('parallelism', 32)} NNI's, and {vs_nni('parallelism+resume', 16)} and "
        f"{vs_nni('parallelism+resume', 32)} with checkpoint resume, which NNI's advisor cannot "
        "do ([details](#parallel-efficiency-serial-vs-parallelism-vs-nni))."
    )


def _optuna(results: Path) -> str:
    optuna = _load(results, "bench_optuna_overhead.json")
    return (
        f"- **Against Optuna {optuna['optuna']['version']}'s `HyperbandPruner`.** "
        f"{optuna['ours']['us_per_config']:.1f} us of bookkeeping per configuration against "
        f"{optuna['optuna']['us_per_trial']:,.0f} us per trial over "
        f"{optuna['optuna']['trials']:,} trials ({_times(optuna['ratio'])} less); Optuna's "
        f"cost grows with the study: {optuna['optuna']['us_per_trial_last_block']:,.0f} us per "
        f"trial over the last {optuna['optuna']['last_block']:,} "
        "([details](#overhead-against-optuna))."
    )


def _quality(results: Path) -> str:
    quality = _load(results, "bench_quality.json")
    lines = [
        f"- **Quality at equal total budget**: median regret over {quality['seeds']} seeds, "
        "lower is better ([details](#quality-at-equal-total-budget)). Per workload, the "
        "method with the lowest median, and Hyperband's (li2018) over random search's:"
    ]
    for w in quality["workloads"]:
        medians = {m: v["final_scratch"]["median"] for m, v in w["methods"].items()}
        low = min(medians.values())
        tied = [m for m, median in medians.items() if median <= low * (1 + 1e-9)]
        lowest = "all methods tie" if len(tied) == len(medians) else " and ".join(tied)
        ratio = medians["HB li2018"] / medians["RS"]
        lines.append(f"    - {w['title']}: {lowest}; Hyperband / random search {ratio:.2f}")
    return "\n".join(lines)


# The peers of bench_compare.py (their runs come from their own packages).
PEERS = (
    "BOHB (HpBandSter)",
    "DEHB",
    "SMAC3 MF",
    "Optuna TPE+HB",
    "Syne Tune ASHA",
    "Syne Tune BOHB",
)


def _g(x: float) -> str:
    return f"{x:.3g}"


def _compare(results: Path) -> str:
    compare = _load(results, "bench_compare.json")
    seeds = sorted(
        {v["seeds"] for w in compare["workloads"] for m, v in w["methods"].items() if m in PEERS}
    )
    counts = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
    lines = [
        "- **Against the peers at equal budget** (HpBandSter's BOHB, DEHB, SMAC3, Optuna, "
        "Syne Tune's ASHA and BOHB; "
        f"{counts} seeds of each peer, 20 of ours; "
        "[details](#side-by-side-with-the-peers)). Median regret at the end of the budget of "
        "KDE Hyperband (li2018), of the best peer, and of random Hyperband:"
    ]
    for w in compare["workloads"]:
        m = w["methods"]
        final = {name: v["at"]["1"][0] for name, v in m.items()}
        best = min((p for p in PEERS if final.get(p) is not None), key=lambda p: final[p])
        kde = final["KDE HB li2018"]
        lines.append(
            f"    - {w['title']}: {_g(kde)}; {best} {_g(final[best])}; "
            f"random HB {_g(final['HB li2018'])}"
        )
    return "\n".join(lines)


def _resume(results: Path) -> str:
    resume = _load(results, "bench_resume.json")
    saving = {row["sizing"]: row["iteration"]["saving"] for row in resume["rows"]}
    return (
        "- **Checkpoint resume.** Promotions that continue their checkpoint save "
        f"{saving['li2018']:.1%} (li2018) and {saving['table']:.1%} (table) of an iteration's "
        f"budget, {resume['check_r81_eta3']['s4_saving']:.1%} on the most aggressive bracket "
        "([details](#checkpoint-resume))."
    )


def summary(results: Path) -> str:
    """The summary's Markdown: one bullet per benchmark, each linking to its section."""
    parts = [_overhead, _nni, _optuna, _quality, _compare, _resume]
    return "\n".join(part(results) for part in parts)
