"""Tune scikit-learn's MLPClassifier on the digits dataset with Hyperband (budget = epochs).

The dataset ships inside scikit-learn (no download). Four hyperparameters are tuned (see
``digits_space.json``): the learning rate, the L2 penalty ``alpha``, the hidden layer's size and
the batch size. The objective returns the validation accuracy (maximize).

Promoted configurations RESUME from their checkpoint: every job pickles its model into the
configuration's checkpoint directory, and a promotion (``context.job.resume_from`` set) loads
the model saved after ``previous_budget`` epochs and trains only ``budget - previous_budget``
more, instead of retraining from scratch.

Run the study from the command line::

    hyperband run examples/digits.py:objective --space examples/digits_space.json \\
        --max-budget 27 --eta 3 --executor processes --workers 2 --seed 0

or from Python::

    import json, hyperband
    from digits import objective
    space = json.load(open("examples/digits_space.json"))
    result = hyperband.run(objective, space, max_budget=27, eta=3, seed=0)
"""

from __future__ import annotations

import os
import pickle
import time
import warnings
from pathlib import Path
from typing import Any

# At import, not in every job: without the examples extra, importing the objective fails at once
# (in the script that imports it) instead of failing each job in its worker.
import sklearn  # noqa: F401

N_CLASSES = 10
VALIDATION_FRACTION = 0.25


def load_data(seed: int = 0) -> tuple[Any, Any, Any, Any]:
    """The digits dataset scaled to [0, 1], split into train and validation (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    # Pixels are 0..16; the MLP trains far better on inputs of order 1.
    x = x / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=VALIDATION_FRACTION, random_state=seed, stratify=y
    )
    return x_train, x_val, y_train, y_val


def make_model(config: dict[str, Any], random_state: int) -> Any:
    """An untrained MLPClassifier for a configuration."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(int(config["hidden_layer_size"]),),
        learning_rate_init=float(config["learning_rate_init"]),
        alpha=float(config["alpha"]),
        batch_size=int(config["batch_size"]),
        solver="adam",
        random_state=random_state,
    )


def checkpoint_path(checkpoint_dir: str | os.PathLike[str], epochs: int) -> Path:
    """Where the model trained for ``epochs`` epochs is saved.

    One file per epoch count (not one file overwritten): a retried job must still find the
    previous rung's model, and a resume must never pick up a model trained further than it
    expects.
    """
    return Path(checkpoint_dir) / f"model-{epochs}.pkl"


def save_checkpoint(path: Path, model: Any, epochs: int) -> None:
    """Pickle the model atomically: a killed job leaves the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump({"epochs": epochs, "model": model}, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def load_checkpoint(path: Path, epochs: int) -> Any | None:
    """The model saved after exactly ``epochs`` epochs, or None if there is none."""
    try:
        with open(path, "rb") as f:
            state = pickle.load(f)
    except (FileNotFoundError, EOFError, pickle.UnpicklingError):
        return None
    return state["model"] if state.get("epochs") == epochs else None


def train(model: Any, epochs: int, x: Any, y: Any, on_epoch: Any = None) -> None:
    """Train for exactly ``epochs`` more epochs (one ``partial_fit`` pass each).

    ``partial_fit`` keeps the weights and the optimizer state between calls, so a model loaded
    from a checkpoint continues where it stopped; and unlike ``fit(max_iter=...)`` it never
    stops early on its own nor emits a ConvergenceWarning per job.
    """
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    classes = np.arange(N_CLASSES)
    # One BLAS thread per job: the runner already runs one job per core, and oversubscribed
    # BLAS threads on tiny matrices make every job slower.
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(epochs):
            model.partial_fit(x, y, classes=classes)
            if on_epoch is not None:
                on_epoch(epoch)


def objective(config: dict[str, Any], budget: float, context: Any = None) -> dict[str, Any]:
    """Train an MLP for ``budget`` epochs in total and return its validation accuracy.

    Args:
        config: the hyperparameters (``learning_rate_init``, ``alpha``, ``hidden_layer_size``,
            ``batch_size``).
        budget: the total number of epochs the model must have trained for.
        context: the run's job context (``hyperband.run`` passes it): ``context.job`` (with
            ``resume_from`` and ``previous_budget``), ``context.checkpoint_dir`` (per
            configuration, kept across promotions) and ``context.report(step, value)``.
            Without one, the model trains from scratch and nothing is saved.

    Returns:
        ``{"default": validation accuracy, "epochs_trained": epochs run by THIS job,
        "resumed": whether it continued a checkpoint, "train_seconds": ...}``.
    """
    epochs = max(1, round(budget))
    x_train, x_val, y_train, y_val = load_data()
    job = getattr(context, "job", None)
    checkpoint_dir = getattr(context, "checkpoint_dir", None)
    report = getattr(context, "report", None)

    model = None
    done = 0
    if job is not None and checkpoint_dir is not None and job.previous_budget is not None:
        done = max(1, round(job.previous_budget))
        model = load_checkpoint(checkpoint_path(checkpoint_dir, done), done)
    resumed = model is not None
    if model is None:
        done = 0
        # Seeded by the configuration, so its rung-0 model is the same whatever the worker.
        model = make_model(config, random_state=job.config_id if job is not None else 0)

    def on_epoch(epoch: int) -> None:
        if report is not None:
            report(done + epoch + 1, float(model.score(x_val, y_val)))

    start = time.perf_counter()
    train(model, epochs - done, x_train, y_train, on_epoch if report is not None else None)
    seconds = time.perf_counter() - start
    accuracy = float(model.score(x_val, y_val))
    if checkpoint_dir is not None:
        save_checkpoint(checkpoint_path(checkpoint_dir, epochs), model, epochs)
    return {
        "default": accuracy,
        "epochs_trained": epochs - done,
        "resumed": resumed,
        "train_seconds": seconds,
    }


if __name__ == "__main__":
    # A quick look without the runner: one configuration, 5 epochs from scratch.
    print(
        objective(
            {"learning_rate_init": 1e-3, "alpha": 1e-4, "hidden_layer_size": 64, "batch_size": 32},
            5,
        )
    )
