"""Every ```python block in the README and docs/ runs, and every fence is one the site renders.

A block whose info string is ``python`` is executed in a fresh namespace, in a temporary working
directory, unless a ``<!-- notest: why -->`` comment on the line before it says it cannot run in
a test (tests/doc_blocks.py). A block that needs an optional package skips without it, with the
install line in the reason. Where an ``<!-- output -->`` block follows, the block must print
exactly that.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
from pathlib import Path

import pytest

from .doc_blocks import DOC_FILES, Block, blocks
from .optional import EXTRAS, missing_reason

ALL = blocks()
RUN = [b for b in ALL if b.info == "python" and b.notest is None]
# block -> the output block right after it, if any
PRINTS = {
    (b.path, b.line): nxt.code
    for b, nxt in itertools.pairwise(ALL)
    if nxt.output and nxt.path == b.path
}


def _missing_optional_module(exc: BaseException) -> str | None:
    """The optional module whose absence caused ``exc`` (raised or chained), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            top = seen.name.split(".")[0]
            if top in EXTRAS:
                return top
        seen = seen.__cause__ or seen.__context__
    return None


@pytest.mark.parametrize("block", RUN, ids=[b.where for b in RUN])
def test_doc_example_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(block.code, block.where, "exec"), {"__name__": "__docs__"})
    except Exception as exc:
        module = _missing_optional_module(exc)
        if module is None:
            raise
        pytest.skip(f"{block.where}: {missing_reason(module)}")
    finally:
        print(printed.getvalue(), end="")  # pytest shows it when the test fails
    expected = PRINTS.get((block.path, block.line))
    if expected is not None:
        assert printed.getvalue() == expected


def test_fences_are_ones_the_site_renders() -> None:
    # pymdownx.superfences takes ```python (or ```python title="x"), but not a bare second word:
    # ```python notest came out as a paragraph of raw text that swallowed the prose after it.
    renders = re.compile(r'[\w+-]*(?:\s+\w+="[^"]*")*')
    bad = [f"{b.where}: ```{b.info}" for b in blocks() if not renders.fullmatch(b.info)]
    assert bad == []


def test_output_blocks_follow_a_python_block_that_runs() -> None:
    outputs = [b for b in ALL if b.output]
    assert outputs, "the output comments are no longer found: is the pattern still right?"
    follows = {(nxt.path, nxt.line) for b, nxt in itertools.pairwise(ALL) if b in RUN}
    assert [b.where for b in outputs if b.info != "text" or (b.path, b.line) not in follows] == []


def test_notest_comments_give_a_reason_and_mark_a_python_block() -> None:
    marked = [b for b in blocks() if b.notest is not None]
    assert marked, "the notest comments are no longer found: is the pattern still right?"
    assert [b.where for b in marked if not b.notest or b.info != "python"] == []
    # A comment that is not directly above a fence would silently mark nothing.
    strays = []
    for path in DOC_FILES:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            followed_by_fence = i + 1 < len(lines) and lines[i + 1].startswith("```")
            if line.lstrip().startswith("<!--") and "notest" in line and not followed_by_fence:
                strays.append(f"{path.name}:{i + 1}")
    assert strays == []


def test_docstrings_use_no_sphinx_roles() -> None:
    # The API page renders docstrings as Markdown (mkdocstrings): :class:`X` shows literally.
    # Cross-reference with [`X`][hyperband.X], or write ``X``.
    role = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|exc|data|obj|const):`")
    package = Path(__file__).resolve().parent.parent / "hyperband"
    found = [
        f"{path.relative_to(package.parent)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if role.search(line)
    ]
    assert found == []
