"""The HTML report's study view: its metadata, hyperparameter columns, hover, importance,
CSV export, the brackets chart of a long study and live updates in place.

The study under test is real: ``hyperband.run`` with the KDE sampler, the rung stopping rule
and six iterations, on an objective whose value depends strongly on ``x``, a little on
``act`` and not at all on ``lr``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband.report.html import page as _page
from hyperband.report.html.data import read_journal

from .test_html_report import browser as browser  # the fixture: a real Chromium

SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]},
}
ITERATIONS = 6


def objective(config: dict[str, Any], budget: float, context: Any) -> float:
    """Strongly x, a little act, never lr; reported every unit of budget."""
    bonus = {"relu": 0.0, "tanh": 0.08, "gelu": 0.04}[config["act"]]
    value = 0.0
    for step in range(1, int(budget) + 1):
        value = 2 * config["x"] + bonus - 1.0 / step
        context.report(step, value)
    return value


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, hyperband.RunResult]:
    path = tmp_path_factory.mktemp("study") / "study.jsonl"
    result = hyperband.run(
        objective,
        SPACE,
        max_budget=9,
        eta=3,
        iterations=ITERATIONS,
        sampler="kde",
        early_stop="rung",
        exec_mode="serial",
        executor="serial",
        seed=11,
        study_name="six iterations",
        journal=path,
        progress=False,
    )
    assert result.n_succeeded > 0
    return path, result


@pytest.fixture
def plotly() -> Any:
    return pytest.importorskip("plotly", reason="the HTML report needs the 'report' extra")


# ---------------------------------------------------------------------- metadata


def test_the_study_card_shows_the_header(study: tuple[Path, hyperband.RunResult]) -> None:
    path, _ = study
    facts = dict(_page.study_facts(read_journal(path)))
    assert facts["study"] == "six iterations"
    assert facts["objective"].endswith("objective")
    assert facts["direction"] == "maximize"
    assert facts["sampler"].startswith("kde (")
    assert "random_fraction=0.2" in facts["sampler"]
    assert facts["stopping rule"].startswith("rung")
    assert facts["exec mode"] == "serial"
    assert facts["brackets"] == "cycle"
    assert "max_budget=9" in facts["schedule"]
    assert "min_budget=1" in facts["schedule"]
    assert "eta=3" in facts["schedule"]
    assert f"iterations={ITERATIONS}" in facts["schedule"]
    assert facts["seed"] == "11"
    assert facts["search space"].splitlines() == [
        "x: uniform [0, 1]",
        "lr: loguniform [1e-05, 0.1]",
        'act: choice ["relu", "tanh", "gelu"]',
    ]


def test_the_page_shows_the_study_card(
    study: tuple[Path, hyperband.RunResult], plotly: Any
) -> None:
    page = _page.render(read_journal(path := study[0]))
    assert '<section class="card" id="section-study">' in page
    assert "<dt>objective</dt>" in page
    assert "six iterations" in page
    assert "x: uniform [0, 1]<br>lr: loguniform" in page
    assert str(path) in page
