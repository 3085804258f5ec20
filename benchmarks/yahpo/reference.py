"""Reference validation errors of the lcbench tasks, for regret (``lcbench.py``'s ``optimum``).

The surrogate's true optimum is unknown, so regret is measured against a stated reference: for
each task, the best validation error at epoch 52 of

1. random search: ``--n-random`` (30,000) configurations drawn uniformly in the encoded space
   (the law of the NNI space; ``space.decode``), in one batch;
2. a local search from the best ``--starts`` (20) of them: ``--rounds`` rounds in each of which
   every incumbent proposes ``--proposals`` points, each its encoded point with one random
   coordinate moved by a Gaussian step (standard deviation shrinking geometrically from 0.2
   to 0.01 over the rounds, clipped to the cube); an incumbent moves to its best proposal
   when that is better. All proposals of a round go in one batch.

Both bests are recorded, with the configurations, the query counts and the seed. Also recorded,
over 500 fresh random configurations: the Spearman rank correlation of the validation accuracy
at epochs 1, 2, 3, 6 and 17 (2, 6, 17 are Hyperband's rungs, see ``lcbench.py``) with that at
epoch 52, which says how much a low-budget rung can be trusted on the task.

Each task has its own RNG, seeded by ``(seed, task id)``, so a task's numbers do not depend on
which other tasks are run. Usage (project env; the yahpo venv must exist, see ``setup.sh``):
``python benchmarks/yahpo/reference.py [--tasks 126029 ...] [--out FILE]``. A run for some tasks
updates only their entries in an existing file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from yahpo import space  # noqa: E402
from yahpo.client import LCBenchSurrogate  # noqa: E402
from yahpo.lcbench import DEV_TASKS, HELD_OUT, MAX_BUDGET, REFERENCE_FILE  # noqa: E402

FloatArray = npt.NDArray[np.float64]

SPEARMAN_EPOCHS = (1, 2, 3, 6, 17)
DEFAULTS: dict[str, Any] = {
    "n_random": 30_000,
    "starts": 20,
    "rounds": 12,
    "proposals": 16,
    "sigma_first": 0.2,
    "sigma_last": 0.01,
    "n_spearman": 500,
}


def spearman(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Spearman's rank correlation (ties get their average rank; numpy only, no scipy)."""

    def ranks(x: FloatArray) -> FloatArray:
        _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x), dtype=float)
        return (np.bincount(inverse, weights=r) / counts)[inverse]

    ra, rb = ranks(np.asarray(a, dtype=float)), ranks(np.asarray(b, dtype=float))
    return float(np.corrcoef(ra, rb)[0, 1])


def local_search(
    surrogate: LCBenchSurrogate,
    rng: np.random.Generator,
    starts: FloatArray,
    start_errors: FloatArray,
    *,
    rounds: int,
    proposals: int,
    sigma_first: float,
    sigma_last: float,
) -> tuple[list[dict[str, Any]], FloatArray, int]:
    """Coordinate-perturbation hill climbing from each row of ``starts`` (encoded points).

    Returns the final configurations (as evaluated: decoding a re-encoded point can move a
    float by an ulp), their errors at epoch 52, and how many proposals were evaluated.
    """
    points, errors = starts.copy(), start_errors.copy()
    incumbents = space.decode(points)
    n, d = points.shape
    sigmas = np.geomspace(sigma_first, sigma_last, rounds)
    for sigma in sigmas:
        moved = np.repeat(points, proposals, axis=0)
        coordinate = rng.integers(0, d, len(moved))
        step = rng.normal(0.0, sigma, len(moved))
        moved[np.arange(len(moved)), coordinate] += step
        moved = np.clip(moved, 0.0, 1.0)
        configs = space.decode(moved)
        # Re-encode: a point's integer coordinates snap to their value's canonical position,
        # so the incumbent is the point that was really evaluated.
        moved = space.encode(configs)
        proposal_errors = surrogate.val_error(configs, MAX_BUDGET).reshape(n, proposals)
        best = np.argmin(proposal_errors, axis=1)
        better = proposal_errors[np.arange(n), best] < errors
        rows = np.arange(n)[better] * proposals + best[better]
        points[better] = moved[rows]
        errors[better] = proposal_errors[better, best[better]]
        for i, row in zip(np.flatnonzero(better), rows, strict=True):
            incumbents[i] = configs[row]
    return incumbents, errors, n * proposals * rounds


def rank_correlations(
    surrogate: LCBenchSurrogate, configs: list[dict[str, Any]]
) -> dict[str, float]:
    """Spearman of val accuracy at each of ``SPEARMAN_EPOCHS`` with epoch 52, in one batch."""
    epochs = (*SPEARMAN_EPOCHS, MAX_BUDGET)
    repeated = [c for c in configs for _ in epochs]
    accuracy = surrogate.query(repeated, np.tile(epochs, len(configs)))["val_accuracy"]
    accuracy = accuracy.reshape(len(configs), len(epochs))
    return {
        str(e): spearman(accuracy[:, k], accuracy[:, -1]) for k, e in enumerate(SPEARMAN_EPOCHS)
    }


def task_reference(surrogate: LCBenchSurrogate, seed: int, **options: Any) -> dict[str, Any]:
    """Random search, local search and rank correlations on the surrogate's task."""
    o = {**DEFAULTS, **options}
    rng = np.random.default_rng([seed, int(surrogate.task)])
    started = time.perf_counter()

    points = rng.random((o["n_random"], len(space.PARAMS)))
    configs = space.decode(points)
    errors = surrogate.val_error(configs, MAX_BUDGET)
    order = np.argsort(errors, kind="stable")
    random_best = int(order[0])

    top = order[: o["starts"]]
    ls_configs, ls_errors, n_ls = local_search(
        surrogate,
        rng,
        space.encode([configs[i] for i in top]),
        errors[top],
        rounds=o["rounds"],
        proposals=o["proposals"],
        sigma_first=o["sigma_first"],
        sigma_last=o["sigma_last"],
    )
    ls_best = int(np.argmin(ls_errors))
    ls_config = ls_configs[ls_best]

    rho = rank_correlations(surrogate, space.sample(rng, o["n_spearman"]))

    random_error, ls_error = float(errors[random_best]), float(ls_errors[ls_best])
    return {
        "reference": min(random_error, ls_error),
        "found_by": "local_search" if ls_error < random_error else "random_search",
        "random_search": {
            "best": random_error,
            "config": configs[random_best],
            "n_queries": o["n_random"],
            "median": float(np.median(errors)),
        },
        "local_search": {
            "best": ls_error,
            "config": ls_config,
            "n_queries": n_ls,
            "from_random_rank": ls_best + 1,
            "start_error": float(errors[top[ls_best]]),
            # The surrogate extrapolates at the edges of the space, where the search ends up.
            "at_bounds": [p.name for p in space.PARAMS if ls_config[p.name] in (p.lower, p.upper)],
        },
        "spearman_vs_epoch_52": rho,
        "server_queries": surrogate.n_queries,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tasks", nargs="*", default=[*DEV_TASKS, *HELD_OUT])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=REFERENCE_FILE)
    p.add_argument("--n-random", type=int, default=DEFAULTS["n_random"])
    args = p.parse_args(argv)

    out: dict[str, Any] = {"tasks": {}}
    if args.out.is_file():
        out = json.loads(args.out.read_text())
    head = ("task", "reference", "random", "local", "rho@2", "rho@6", "s")
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, (7, 9, 9, 9, 6, 6, 5), strict=True)))
    for task in args.tasks:
        with LCBenchSurrogate(task) as surrogate:
            entry = task_reference(surrogate, args.seed, n_random=args.n_random)
            hello = surrogate.hello
        out["meta"] = {
            "made_by": "benchmarks/yahpo/reference.py",
            "objective": "validation error = 1 - val_accuracy / 100 at epoch 52",
            "backend": hello["backend"],
            "data_version": hello["data_version"],
            "seed": args.seed,
            "rng": "numpy default_rng([seed, int(task)])",
            **DEFAULTS,
            "n_random": args.n_random,
            "spearman_epochs": list(SPEARMAN_EPOCHS),
        }
        out["tasks"][task] = entry
        rho = entry["spearman_vs_epoch_52"]
        print(
            f"{task:>7} {entry['reference']:9.5f} {entry['random_search']['best']:9.5f} "
            f"{entry['local_search']['best']:9.5f} {rho['2']:6.3f} {rho['6']:6.3f} "
            f"{entry['seconds']:5.1f}",
            flush=True,
        )
        # Written after each task: a long run that is stopped keeps what it computed.
        order = [t for t in space.ALL_TASKS if t in out["tasks"]]
        out["tasks"] = {t: out["tasks"][t] for t in order}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
