"""The fenced code blocks of README.md and docs/*.md, for the tests that run or check them.

A block that cannot run in a test (it starts an NNI experiment or a cluster, or imports the
reader's own module) is marked by an HTML comment on the line before its fence, which neither
GitHub nor the docs site shows, and which says why:

    <!-- notest: starts an NNI experiment -->
    ```python

(A word after the language, as in ```` ```python notest ````, is no good: pymdownx.superfences
then does not recognise the fence and the site shows it as raw text.)

A ```text block marked ``<!-- output -->`` shows what the ```python block before it prints;
tests/test_docs.py checks that it does.

A block that reads the repository's files by relative paths (``examples/...``), as the prose
around it tells the reader to paste it at the repository root, is marked
``<!-- from the repository root -->``: the test then runs it where the repository's top-level
entries are linked in, so that what it writes still lands in a temporary directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"(?:^<!--[ \t]*(?:notest:(?P<notest>[^\n]*?)|(?P<output>output)"
    r"|(?P<root>from the repository root))[ \t]*-->\n)?"
    r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence
    info: str  # what follows the opening backticks
    code: str
    notest: str | None  # the reason given by a notest comment, or None
    output: bool = False  # marked as what the block before it prints
    at_root: bool = False  # marked to run from the repository root

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(paths: list[Path] = DOC_FILES) -> list[Block]:
    out = []
    for path in paths:
        text = path.read_text()
        for match in FENCE.finditer(text):
            notest = match.group("notest")
            line = text[: match.start("info")].count("\n") + 1
            out.append(
                Block(
                    path=path,
                    line=line,
                    info=match.group("info").strip(),
                    code=match.group("code"),
                    notest=None if notest is None else notest.strip(),
                    output=match.group("output") is not None,
                    at_root=match.group("root") is not None,
                )
            )
    return out
