"""Advisor checkpoints written by an earlier commit (tests/fixtures/nni_checkpoints) resume.

See tests/nni_fixture_study.py for the studies, cut at a checkpoint with jobs pending, and for
the commit that wrote the files and ``expected.json`` (what that commit did after the cut).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("nni", reason="the nni extra is not installed (pip install 'hyperband[nni]')")

from .nni_fixture_study import STUDIES, finish

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "nni_checkpoints"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())


@pytest.mark.parametrize("kind", sorted(STUDIES))
def test_an_old_checkpoint_resumes_as_it_did(kind: str, tmp_path: Path) -> None:
    shutil.copy(FIXTURES / f"{kind}.json", tmp_path / "hyperband_advisor.json")
    got = json.loads(json.dumps(finish(tmp_path)))
    assert got == EXPECTED[kind]
    assert got["done"]
    # The rung study's continuation stops jobs: the stopping path is exercised, not only
    # the plain one.
    assert (got["counts"][2] > 0) == (kind == "rung")
