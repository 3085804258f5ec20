"""The figure of the curve rule's docs: a real LCBench curve and its extrapolation band.

Run:  python benchmarks/plot_curve_band.py        (writes docs/img/curve_band.png)

One learning curve of LCBench task 7593 (a development task; YAHPO Gym's surrogate, see
``benchmarks/yahpo``): the validation error of a random configuration over 52 epochs. After
5, 13 and 26 reports (10%, 25% and 50% of the budget), the forecast that `CurveRule` makes
(``hyperband.core.curve_fit.forecast``, the default families) of the error at every later
epoch: its median and its central 80% interval.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from hyperband.core.curve_fit import forecast  # noqa: E402

TASK = "7593"
SEED = 4
REPORTS = (5, 13, 26)
OUT = HERE.parent / "docs" / "img" / "curve_band.png"


def real_curve() -> tuple[np.ndarray, np.ndarray]:
    """Epochs and validation errors of the first of 20 random configurations whose error
    falls by at least a quarter over training (a curve worth extrapolating)."""
    from yahpo import space
    from yahpo.client import LCBenchSurrogate

    configs = space.sample(np.random.default_rng(SEED), 20)
    with LCBenchSurrogate(TASK) as surrogate:
        errors, _ = surrogate.curves(configs)
    epochs = np.arange(1, errors.shape[1] + 1, dtype=float)
    for row in errors:
        if row[-1] < 0.75 * row[0]:
            return epochs, row
    return epochs, errors[0]


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs, errors = real_curve()
    fig, axes = plt.subplots(1, len(REPORTS), figsize=(11, 3.4), sharey=True)
    for ax, n in zip(axes, REPORTS, strict=True):
        later = epochs[n:]
        bands = [forecast(epochs[:n], errors[:n], t) for t in later]
        low = [b.quantile(0.1) for b in bands]
        high = [b.quantile(0.9) for b in bands]
        ax.fill_between(later, low, high, color="tab:blue", alpha=0.25, label="80% interval")
        ax.plot(later, [b.median for b in bands], color="tab:blue", label="forecast median")
        ax.plot(epochs, errors, color="0.6", lw=1, label="the real curve")
        ax.plot(epochs[:n], errors[:n], "o", ms=3, color="black", label="reports so far")
        ax.set_title(f"after {n} reports ({n / len(epochs):.0%})")
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("validation error")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"LCBench task {TASK}: CurveRule's forecast of one real curve", fontsize=10)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
