"""Tune a PyTorch Lightning MLP on the digits dataset with Hyperband: the budget is epochs.

``LightningCallback`` reports the logged ``val_loss`` at the end of every epoch through
``context.report``, stops the trainer when the median rule stops the job (the job is recorded
as stopped, not failed), and saves a Lightning checkpoint after the job's last epoch: a
promoted configuration's ``trainer.fit(ckpt_path=...)`` restores its weights, optimizer and
epoch counter, and trains only the epochs still missing. The dataset ships inside
scikit-learn (no download). At the end the best configuration is trained once more and scored
on a test set it never saw.

Run it (about 30 s on two cores; needs ``pip install 'hyperband[lightning,sklearn]'``)::

    python examples/lightning_digits.py --max-budget 27 --workers 2
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import lightning
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import hyperband
from hyperband.drivers.context import Context
from hyperband.integrations.lightning import LightningCallback

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-3, 1e-1]},
    "hidden": {"_type": "choice", "_value": [16, 32, 64]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
}
QUIET = {
    "logger": False,
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "enable_checkpointing": False,  # LightningCallback saves what a promotion needs
    "num_sanity_val_steps": 0,
    "accelerator": "cpu",
}


class Digits(lightning.LightningDataModule):
    """scikit-learn's digits: 60% train, 20% validation, 20% test (stratified)."""

    def __init__(self, batch_size: int = 64, seed: int = 0) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.seed = seed
        x, y = load_digits(return_X_y=True)
        x_rest, x_test, y_rest, y_test = train_test_split(
            x / 16, y, test_size=0.2, stratify=y, random_state=seed
        )
        parts = train_test_split(x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=seed)
        x_train, x_valid, y_train, y_valid = parts
        self.train = self._dataset(x_train, y_train)
        self.valid = self._dataset(x_valid, y_valid)
        self.test = self._dataset(x_test, y_test)

    @staticmethod
    def _dataset(x: Any, y: Any) -> TensorDataset:
        return TensorDataset(torch.tensor(x, dtype=torch.float32), torch.tensor(y))

    def train_dataloader(self) -> DataLoader[Any]:
        # Its own generator: torch's global RNG is shared by the runner's threads.
        order = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train, self.batch_size, shuffle=True, generator=order)

    def val_dataloader(self) -> DataLoader[Any]:
        return DataLoader(self.valid, batch_size=len(self.valid))

    def test_dataloader(self) -> DataLoader[Any]:
        return DataLoader(self.test, batch_size=len(self.test))


class MLP(lightning.LightningModule):
    def __init__(self, hidden: int, lr: float, dropout: float, seed: int = 0) -> None:
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(
            nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 10)
        )
        weights = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for parameter in self.net.parameters():
                parameter.uniform_(-0.1, 0.1, generator=weights)

    def training_step(self, batch: Any, index: int) -> torch.Tensor:
        x, y = batch
        return nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch: Any, index: int) -> None:
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))

    def test_step(self, batch: Any, index: int) -> None:
        x, y = batch
        self.log("test_acc", (self.net(x).argmax(dim=1) == y).float().mean())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def objective(config: dict[str, Any], budget: float, context: Context) -> dict[str, Any]:
    cb = LightningCallback(context, monitor="val_loss")
    trainer = lightning.Trainer(max_epochs=cb.max_epochs, callbacks=[cb], **QUIET)
    # On a promotion, ckpt_path is the previous rung's checkpoint: fit goes on from there.
    model = MLP(**config, seed=context.job.config_id)
    trainer.fit(model, datamodule=Digits(), ckpt_path=cb.ckpt_path)
    return {"default": cb.value, "epochs": trainer.current_epoch, "resumed": cb.ckpt_path}


def main(
    max_budget: int = 27, workers: int = 2, seed: int = 0, early_stop: Any = "median"
) -> hyperband.RunResult:
    """The study (eta 3, epochs from 1 to ``max_budget``), then the best model's test score."""
    torch.set_num_threads(1)  # the runner's workers are the parallelism
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no banner per job
    study = {
        "max_budget": max_budget,
        "eta": 3,
        "workers": workers,
        "seed": seed,
        "progress": False,
    }
    # mode: the validation loss goes down
    result = hyperband.run(objective, SPACE, mode="minimize", early_stop=early_stop, **study)
    assert result.best is not None
    resumed = sum(r.extra.get("resumed") is not None for r in result.history)
    print(f"best validation loss {result.best.value:.4f}: {result.best.config}")
    print(
        f"{len(result.history)} jobs, {result.n_stopped} stopped early, {resumed} promotions "
        "resumed their checkpoint"
    )
    trainer = lightning.Trainer(max_epochs=max_budget, **QUIET)
    data = Digits(seed=seed)
    model = MLP(**result.best.config, seed=seed)
    trainer.fit(model, datamodule=data)
    accuracy = trainer.test(model, datamodule=data, verbose=False)[0]["test_acc"]
    print(f"test accuracy of the best configuration: {accuracy:.3f}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-budget", type=int, default=27, help="epochs")
    parser.add_argument("--workers", type=int, default=2)
    main(**vars(parser.parse_args()))
