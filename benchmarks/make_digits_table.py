"""Build the digits-MLP replay table used by the ``digits`` benchmark workload (run once).

Trains scikit-learn's ``MLPClassifier`` on ``sklearn.datasets.load_digits()`` (it ships with
scikit-learn: no download) for a fixed random sample of configurations, one epoch at a time
(``partial_fit``: one pass of Adam over the training set), and records after every epoch the
number of correctly classified validation images and the seconds the epoch took.

The configurations are drawn from the same search space as ``examples/digits.py`` (learning
rate, L2 penalty ``alpha``, hidden layer size, batch size) with ``hyperband.RandomSampler`` and a
fixed seed; each model is initialised with ``random_state = row``. The split is the example's:
a stratified 25% validation split with ``random_state=0``.

Run (takes about 7 minutes on one core; the accuracies are deterministic, the seconds are not)::

    OPENBLAS_NUM_THREADS=1 python benchmarks/make_digits_table.py [--configs 300 --epochs 81]

Output: ``benchmarks/data/digits_mlp.npz`` (``np.savez_compressed``), with

- ``learning_rate_init``, ``alpha`` (float64), ``hidden_layer_size``, ``batch_size`` (int16),
  one entry per configuration (row);
- ``correct`` (uint16, rows x epochs): validation images classified correctly after epoch e+1;
- ``n_val`` (int): the validation set's size, so accuracy = ``correct / n_val``;
- ``epoch_us`` (uint32, rows x epochs): wall-clock microseconds of epoch e+1 (training only);
- ``meta``: a JSON string with the seed, the space and the library versions used.
"""

from __future__ import annotations

import os

# Set before numpy is imported: one BLAS thread makes per-epoch timings comparable.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import hyperband

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data" / "digits_mlp.npz"
SEED = 20180
N_CLASSES = 10

# The search space of examples/digits.py (copied so that the table does not change when the
# example does).
SPACE: dict[str, Any] = {
    "learning_rate_init": {"_type": "loguniform", "_value": [0.0001, 0.1]},
    "alpha": {"_type": "loguniform", "_value": [1e-06, 0.1]},
    "hidden_layer_size": {"_type": "choice", "_value": [16, 32, 64, 128]},
    "batch_size": {"_type": "choice", "_value": [16, 32, 64, 128]},
}


def load_split() -> tuple[Any, Any, Any, Any]:
    """Digits scaled to [0, 1], split as in ``examples/digits.py`` (stratified, 25%, seed 0)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    return x_train, x_val, y_train, y_val


def train_curve(
    config: dict[str, Any], row: int, epochs: int, data: tuple[Any, Any, Any, Any]
) -> tuple[list[int], list[int]]:
    """Correct validation predictions and microseconds, after each of ``epochs`` epochs."""
    from sklearn.neural_network import MLPClassifier

    x_train, x_val, y_train, y_val = data
    model = MLPClassifier(
        hidden_layer_sizes=(int(config["hidden_layer_size"]),),
        learning_rate_init=float(config["learning_rate_init"]),
        alpha=float(config["alpha"]),
        batch_size=int(config["batch_size"]),
        solver="adam",
        random_state=row,
    )
    classes = np.arange(N_CLASSES)
    correct: list[int] = []
    micros: list[int] = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.partial_fit(x_train, y_train, classes=classes)
        micros.append(round((time.perf_counter() - start) * 1e6))
        correct.append(int(np.sum(model.predict(x_val) == y_val)))
    return correct, micros


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=81)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    import sklearn

    data = load_split()
    configs = hyperband.RandomSampler(SPACE).sample(np.random.default_rng(SEED), args.configs)
    correct = np.zeros((args.configs, args.epochs), dtype=np.uint16)
    epoch_us = np.zeros((args.configs, args.epochs), dtype=np.uint32)
    start = time.perf_counter()
    for row, config in enumerate(configs):
        # A large learning rate can overflow inside the MLP; the table records what happens.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            c, us = train_curve(config, row, args.epochs, data)
        correct[row] = c
        epoch_us[row] = us
        if row % 20 == 19:
            print(
                f"{row + 1}/{args.configs} configs, {time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
    meta = {
        "seed": SEED,
        "space": SPACE,
        "epochs": args.epochs,
        "split": "train_test_split(test_size=0.25, random_state=0, stratify=y)",
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        learning_rate_init=np.array([c["learning_rate_init"] for c in configs]),
        alpha=np.array([c["alpha"] for c in configs]),
        hidden_layer_size=np.array([c["hidden_layer_size"] for c in configs], dtype=np.int16),
        batch_size=np.array([c["batch_size"] for c in configs], dtype=np.int16),
        correct=correct,
        n_val=np.array(len(data[3])),
        epoch_us=epoch_us,
        meta=np.array(json.dumps(meta)),
    )
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
