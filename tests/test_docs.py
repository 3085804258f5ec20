"""Every ```python block in the README and docs/ runs.

A block whose info string is exactly ``python`` is executed in a fresh namespace, in a
temporary working directory. Blocks that cannot run in a test (they start a cluster or an NNI
experiment on another machine) are marked ``python notest`` and are the exception.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for match in FENCE.finditer(text):
            if match.group(1).strip() == "python":
                line = text[: match.start()].count("\n") + 1
                out.append((f"{path.relative_to(ROOT)}:{line}", match.group(2)))
    return out


@pytest.mark.parametrize(("where", "code"), blocks(), ids=[w for w, _ in blocks()])
def test_doc_example_runs(
    where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})
