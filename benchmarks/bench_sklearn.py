"""HyperbandSearchCV vs scikit-learn's HalvingRandomSearchCV, at equal total resources.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sklearn.py [--quick] [--seeds 5]

Needs scikit-learn (``pip install -e ".[sklearn]"``).

Three tasks on datasets that ship with scikit-learn (nothing is downloaded; California
housing, which the issue named, is fetched from the network by scikit-learn, so diabetes
stands in as the regression task):

- digits (1797 x 64, 10 classes): ``SVC``, ``C`` and ``gamma`` log-uniform; accuracy.
- breast cancer (569 x 30): ``GradientBoostingClassifier(n_estimators=50)``, learning rate
  log-uniform, ``max_depth`` 1-5, ``subsample`` uniform; ROC AUC.
- diabetes (442 x 10, regression): ``RandomForestRegressor(n_estimators=30)``,
  ``max_depth`` 2/4/8/None, ``min_samples_leaf`` 1-20, ``max_features`` uniform 0.2-1; R^2.

Protocol, per task and seed: a stratified (classification) 75/25 train/test split from the
seed; both searches run on the training part with 3-fold CV, the same scikit-learn style
``param_distributions``, ``resource="n_samples"``, rate 3, budgets from 1/27 of the data to
all of it (Hyperband: ``max_resources="auto"``, the fold's training rows, and a 27th of
that; Halving: the training rows and a 27th of them), ``random_state=seed``, one job at a
time (``n_jobs=None``). Hyperband runs one iteration of its schedule (li2018 sizing, 69 jobs);
``HalvingRandomSearchCV`` gets the largest ``n_candidates`` whose total resources are at most
Hyperband's, counted in fractions of the data: the sum over fits of rows / all rows (the
tables show both totals). Reported: the best mean CV score each search reports
(``best_score_``), the score of its refit ``best_estimator_`` on the held-out test part, and
the CPU time (``time.process_time``: the process's threads, which a loaded machine does not
inflate as it does wall time) and wall time of ``fit``; medians over seeds, and how often
Hyperband's test score was the higher (ties counted half).

Outputs ``benchmarks/results/bench_sklearn.json`` (with the markdown) and the table.
``--quick`` runs one seed of digits and writes ``bench_sklearn_quick.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scipy import stats
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV, check_cv, train_test_split
from sklearn.svm import SVC

from hyperband.integrations.sklearn import HyperbandSearchCV

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ETA = 3
R = 27  # max / min resources
CV = 3


def _tasks() -> dict[str, tuple[Callable[[], Any], Callable[[], Any], dict[str, Any], str]]:
    return {
        "digits": (
            lambda: load_digits(return_X_y=True),
            lambda: SVC(),
            {"C": stats.loguniform(1e-2, 1e3), "gamma": stats.loguniform(1e-5, 1e-1)},
            "accuracy",
        ),
        "breast cancer": (
            lambda: load_breast_cancer(return_X_y=True),
            lambda: GradientBoostingClassifier(n_estimators=50, random_state=0),
            {
                "learning_rate": stats.loguniform(0.01, 1.0),
                "max_depth": [1, 2, 3, 4, 5],
                "subsample": stats.uniform(0.5, 0.5),
            },
            "roc_auc",
        ),
        "diabetes": (
            lambda: load_diabetes(return_X_y=True),
            lambda: RandomForestRegressor(n_estimators=30, random_state=0),
            # Distributions, not only lists: Halving samples a finite space without
            # replacement, and would run out of candidates below equal resources.
            {
                "max_depth": [2, 4, 8, None],
                "min_samples_leaf": stats.randint(1, 21),
                "max_features": stats.uniform(0.2, 0.8),
            },
            "r2",
        ),
    }


def halving_total(n_candidates: int) -> float:
    """HalvingRandomSearchCV's total resources in fractions of the data, with budgets
    1/R .. 1 at rate ETA (it keeps ceil(n / ETA**i) candidates at iteration i)."""
    levels = round(math.log(R, ETA)) + 1
    return sum(math.ceil(n_candidates / ETA**i) * ETA**i / R for i in range(levels))


def one(task: str, seed: int) -> dict[str, Any]:
    load, make, space, scoring = _tasks()[task]
    data, y = load()
    split = train_test_split(
        data, y, test_size=0.25, random_state=seed, stratify=None if task == "diabetes" else y
    )
    x_train, x_test, y_train, y_test = split
    rows = len(x_train)
    out: dict[str, Any] = {"task": task, "seed": seed}
    hb = HyperbandSearchCV(make(), space, eta=ETA, cv=CV, scoring=scoring, random_state=seed)
    # Hyperband's max_resources="auto" is the smallest fold's training rows: about a 27th
    # of it (rounded down: a float min_resources of exactly max / 27 may round R below 27).
    folds = check_cv(CV, y_train, classifier=task != "diabetes").split(x_train, y_train)
    hb.set_params(min_resources=min(len(train) for train, _ in folds) // R)
    start, cpu = time.perf_counter(), time.process_time()
    hb.fit(x_train, y_train)
    out["hb_seconds"] = time.perf_counter() - start
    out["hb_cpu"] = time.process_time() - cpu
    hb_total = float(sum(hb.cv_results_["n_resources"]) / hb.max_resources_)
    candidates = max(n for n in range(1, 2000) if halving_total(n) <= hb_total + 1e-9)
    halving = HalvingRandomSearchCV(
        make(),
        space,
        n_candidates=candidates,
        factor=ETA,
        resource="n_samples",
        max_resources=rows,
        min_resources=rows // R,
        cv=CV,
        scoring=scoring,
        random_state=seed,
    )
    start, cpu = time.perf_counter(), time.process_time()
    halving.fit(x_train, y_train)
    out["halving_seconds"] = time.perf_counter() - start
    out["halving_cpu"] = time.process_time() - cpu
    n_res, n_cand = halving.n_resources_, halving.n_candidates_
    out["hb_total"] = hb_total
    out["halving_total"] = sum(c * r for c, r in zip(n_cand, n_res, strict=True)) / rows
    out["hb_jobs"], out["halving_fits"] = len(hb.cv_results_["params"]), sum(n_cand)
    out["hb_cv"], out["halving_cv"] = float(hb.best_score_), float(halving.best_score_)
    out["hb_test"] = float(hb.score(x_test, y_test))
    out["halving_test"] = float(halving.score(x_test, y_test))
    print(
        f"{task:14} seed {seed}: HB cv {out['hb_cv']:.4f} test {out['hb_test']:.4f} "
        f"{out['hb_cpu']:.1f} s CPU | Halving cv {out['halving_cv']:.4f} test "
        f"{out['halving_test']:.4f} {out['halving_cpu']:.1f} s CPU "
        f"(totals {hb_total:.2f} / {out['halving_total']:.2f})",
        flush=True,
    )
    return out


def table(runs: list[dict[str, Any]], load: float) -> str:
    lines = [
        "| task (metric) | seeds | total resources HB / Halving | fits HB / Halving "
        "| best CV score HB / Halving | test score HB / Halving | HB test higher "
        "| CPU time HB / Halving | wall time HB / Halving |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    metrics = {name: spec[3] for name, spec in _tasks().items()}
    for task in dict.fromkeys(r["task"] for r in runs):
        rs = [r for r in runs if r["task"] == task]

        def med(key: str, rs: list[dict[str, Any]] = rs) -> float:
            return statistics.median(r[key] for r in rs)

        wins = sum(
            (r["hb_test"] > r["halving_test"]) + 0.5 * (r["hb_test"] == r["halving_test"])
            for r in rs
        )
        lines.append(
            f"| {task} ({metrics[task]}) | {len(rs)} | {med('hb_total'):.2f} / "
            f"{med('halving_total'):.2f} | {med('hb_jobs'):.0f} / {med('halving_fits'):.0f} | "
            f"{med('hb_cv'):.4f} / {med('halving_cv'):.4f} | "
            f"{med('hb_test'):.4f} / {med('halving_test'):.4f} | {wins:g} of {len(rs)} | "
            f"{med('hb_cpu'):.1f} s / {med('halving_cpu'):.1f} s | "
            f"{med('hb_seconds'):.1f} s / {med('halving_seconds'):.1f} s |"
        )
    wins = sum(
        (r["hb_test"] > r["halving_test"]) + 0.5 * (r["hb_test"] == r["halving_test"]) for r in runs
    )
    cpu = statistics.median(r["hb_cpu"] / r["halving_cpu"] for r in runs)
    fits = statistics.median(r["hb_jobs"] / r["halving_fits"] for r in runs)
    lines += [
        "",
        f"Over all {len(runs)} runs, Hyperband's refit estimator scored higher on the test part "
        f"in {wins:g} (ties counted half). At equal resources Hyperband makes fewer, larger "
        f"fits ({fits:.2f}x Halving's number, median), which took {cpu:.2f}x Halving's CPU "
        "time (median of the per-run ratios): each fit costs something besides its rows. "
        f"The machine's load average was {load:.1f} when the run ended, on "
        f"{os.cpu_count()} cores: the wall times are mostly waiting.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--tasks", nargs="*", help="rerun only these tasks; keep the others' saved runs"
    )
    args = parser.parse_args()
    tasks = ["digits"] if args.quick else args.tasks or list(_tasks())
    seeds = range(1 if args.quick else args.seeds)
    runs = [one(task, seed) for task in tasks for seed in seeds]
    saved = RESULTS / "bench_sklearn.json"
    if args.tasks and saved.exists():
        kept = [r for r in json.loads(saved.read_text())["runs"] if r["task"] not in tasks]
        runs = sorted(kept + runs, key=lambda r: (list(_tasks()).index(r["task"]), r["seed"]))
    load = os.getloadavg()[0]
    markdown = table(runs, load)
    print(markdown)
    name = "bench_sklearn_quick.json" if args.quick else "bench_sklearn.json"
    protocol = {"eta": ETA, "R": R, "cv": CV, "seeds": len(seeds), "load": load}
    payload = {"protocol": protocol, "runs": runs, "markdown": markdown}
    (RESULTS / name).write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
