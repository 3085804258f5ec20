"""A demo study for the HTML report, and the screenshots of docs/report.md.

The objective imitates training (a loss that falls with the epochs towards a floor set by the
configuration, with noise), reports its loss every epoch, resumes from its previous rung like a
checkpointed model, and diverges for large learning rates with many layers: so the report has
learning curves, failures and several workers to show. It sleeps 2 ms per epoch.

    python examples/report_demo.py demo                  # demo/study.jsonl, demo/report.html
    python examples/report_demo.py demo --screenshots docs/img

Screenshots need Playwright and Chromium (``pip install 'hyperband[browser]'``,
``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import time
from pathlib import Path
from typing import Any

import hyperband

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "layers": {"_type": "choice", "_value": [1, 2, 3, 4]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.5]},
    "optimizer": {
        "_type": "choice",
        "_value": [
            {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0.0, 0.99]}},
            {"_name": "adam", "beta1": {"_type": "uniform", "_value": [0.8, 0.99]}},
        ],
    },
}


def objective(config: dict[str, Any], budget: float, context: Any) -> float:
    """Validation loss after ``budget`` epochs (minimize)."""
    lr, layers = config["lr"], config["layers"]
    opt = config["optimizer"]
    floor = 0.08 + 0.25 * abs(math.log10(lr) + 2.7) + 0.03 * abs(layers - 2.5)
    floor += 0.2 * (config["dropout"] - 0.15) ** 2
    speed = 3 + 25 * (1 - opt["momentum"]) if opt["_name"] == "sgd" else 4 + 30 * (1 - opt["beta1"])
    rng = random.Random(f"{sorted(config.items())}")
    start = int(context.job.previous_budget or 0)  # resume: continue the previous rung's curve
    loss = math.nan
    for epoch in range(start + 1, int(budget) + 1):
        if lr > 0.03 and layers >= 3 and epoch > 5:
            raise FloatingPointError(f"loss is nan at epoch {epoch} (lr={lr:.3g})")
        loss = floor + 2.0 * math.exp(-epoch / speed) + rng.gauss(0, 0.01)
        context.report(epoch, loss)
        time.sleep(0.002)
    return loss


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--screenshots", type=Path, help="save the report's screenshots here")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    journal = args.folder / "study.jsonl"
    journal.unlink(missing_ok=True)
    result = hyperband.run(
        objective,
        SPACE,
        max_budget=81,
        eta=3,
        mode="minimize",
        workers=4,
        seed=1,
        journal=journal,
        progress=False,
    )
    print(f"{len(result.history)} jobs, {result.n_failed} failed, best {result.best}")
    report = hyperband.html_report(journal, args.folder / "report.html")
    print(f"{report}: {report.stat().st_size / 1e6:.1f} MB")
    if args.screenshots is not None:
        screenshots(report, args.screenshots)


def screenshots(report: Path, folder: Path) -> None:
    """One PNG per part of the page: what docs/report.md shows."""
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        # The system's Chromium (Playwright's own download is not needed).
        browser = p.chromium.launch(
            executable_path=os.environ.get("HYPERBAND_CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
        page.goto(report.resolve().as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        page.add_style_tag(content="footer { display: none }")  # the demo's temporary path
        best = page.locator("#section-best").bounding_box()
        assert best is not None
        page.screenshot(
            path=folder / "report-overview.png",
            clip={"x": 0, "y": 0, "width": 1200, "height": best["y"] + best["height"] + 8},
        )
        for key in ("funnel", "timeline", "parcoords", "curves"):
            page.locator(f"#section-{key}").screenshot(path=folder / f"report-{key}.png")
        page.fill("#jobs-filter", "nan")
        page.click("#jobs thead th.col-budget button")
        page.click("#jobs tbody tr:not([hidden]) td.col-error summary >> nth=0")
        page.locator("#section-jobs").screenshot(path=folder / "report-jobs.png")
        browser.close()
    try:  # 128 colours: a third of the bytes, no visible difference (pillow comes with matplotlib)
        from PIL import Image

        for png in folder.glob("report-*.png"):
            image = Image.open(png).convert("RGB").quantize(128, Image.Quantize.MEDIANCUT)
            image.save(png, optimize=True)
    except ImportError:
        pass
    print(f"screenshots in {folder}")


if __name__ == "__main__":
    main()
