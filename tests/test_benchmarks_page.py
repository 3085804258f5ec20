"""docs/benchmarks.md is exactly what benchmarks/run_all.py makes of its template and results.

So no figure on the page is typed by hand or left behind by an edit of the template: after
changing either, run ``python benchmarks/run_all.py`` (no benchmark runs).
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_the_benchmarks_page_is_the_rendered_template() -> None:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    run_all = importlib.import_module("run_all")
    assert run_all.OUTPUT.read_text() == run_all.page()


def test_the_page_opens_with_its_summary_and_states_the_run_time() -> None:
    text = (BENCH.parent / "docs" / "benchmarks.md").read_text()
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[0] == "Summary"
    assert re.search(r"took \d+ s \(core \d+ s, ", text)
