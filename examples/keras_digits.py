"""Tune a Keras 3 network on the digits dataset with Hyperband: the budget is epochs.

The dataset ships inside scikit-learn (no download). ``KerasCallback`` reports the
validation loss after every epoch, ends a job that the median rule stops, and lets a
promoted configuration continue its saved model (weights and optimizer state) instead of
training from scratch. At the end the best configuration is trained once more on train +
validation and scored on a test set it never saw, and the study's cost in epochs is compared
with training every configuration it tried for the full budget.

Keras runs on jax here (CPU). Every job builds or loads a model, and jax compiles its
training step: JAX's persistent compilation cache (in a temporary directory) lets the
models of one architecture share that compilation, which is most of a small model's cost.
The learning rate is a variable of the compiled step; the layer width is a constant of it,
so it is a choice: each distinct width compiles once.

Run it (about a minute of CPU time, shared by two workers; needs
``pip install 'hyperband[keras,sklearn]'``)::

    python examples/keras_digits.py --max-budget 27 --workers 2
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is first imported

import argparse
import tempfile
from typing import Any

import jax
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import hyperband
from hyperband.drivers.context import Context
from hyperband.integrations.keras import KerasCallback

SPACE = {
    "learning_rate": {"_type": "loguniform", "_value": [1e-4, 0.1]},
    "units": {"_type": "choice", "_value": [16, 64]},
}
BATCH = 64


def split(seed: int = 0) -> tuple[Any, ...]:
    """Train, validation and test sets (60/20/20, stratified), pixels scaled to [0, 1]."""
    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=seed
    )
    x_train, x_valid, y_train, y_valid = train_test_split(
        x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=seed
    )
    return x_train, y_train, x_valid, y_valid, x_test, y_test


def build(config: dict[str, Any], seed: int) -> Any:
    """A compiled one-hidden-layer network for ``config``."""
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(
                config["units"],
                activation="relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            ),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(config["learning_rate"]),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def main(argv: list[str] | None = None) -> hyperband.RunResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options = (
        ("--max-budget", 27, "epochs of the longest jobs"),
        ("--eta", 3, "the halving rate"),
        ("--workers", 2, "threads training models at once"),
        ("--seed", 0, "of the study, the data split and the initial weights"),
    )
    for flag, default, text in options:
        parser.add_argument(flag, type=int, default=default, help=f"{text} ({default})")
    args = parser.parse_args(argv)
    x_train, y_train, x_valid, y_valid, x_test, y_test = split(args.seed)

    def objective(config: dict[str, Any], budget: float, context: Context) -> float | None:
        cb = KerasCallback(context, "val_loss")
        model = cb.load_or_build(lambda: build(config, args.seed))
        model.fit(
            x_train,
            y_train,
            batch_size=BATCH,
            epochs=cb.epochs,  # where this rung ends
            initial_epoch=cb.initial_epoch,  # where the loaded model left off
            validation_data=(x_valid, y_valid),
            verbose=0,
            callbacks=[cb],
        )
        return cb.value

    with tempfile.TemporaryDirectory() as cache:
        # Models of one width then compile their training step once, not once each.
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
        study = {"max_budget": args.max_budget, "eta": args.eta, "seed": args.seed}
        result = hyperband.run(
            objective,
            SPACE,
            mode="minimize",
            early_stop="median",
            workers=args.workers,
            progress=False,
            **study,
        )
        best = result.best
        assert best is not None
        print(f"best validation loss {best.value:.4f} after {best.budget} epochs: {best.config}")
        # One report per epoch trained; `spent` counts each job's epochs from scratch.
        epochs = sum(len(r.reports) for r in result.history)
        configs = len({r.job.config_id for r in result.history})
        print(
            f"{epochs} epochs trained, against {result.spent:g} if promotions had trained "
            f"from scratch, and {configs * args.max_budget} for all {configs} "
            f"configurations at {args.max_budget} epochs; {result.n_stopped} jobs stopped"
        )
        final = build(best.config, args.seed)
        final.fit(
            np.concatenate([x_train, x_valid]),
            np.concatenate([y_train, y_valid]),
            batch_size=BATCH,
            epochs=args.max_budget,
            verbose=0,
        )
        accuracy = final.evaluate(x_test, y_test, verbose=0)[1]
    print(f"test accuracy of the best configuration: {accuracy:.3f}")
    return result


if __name__ == "__main__":
    main()
