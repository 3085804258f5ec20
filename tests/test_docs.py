"""Every ```python block in the README and docs/ runs, and every fence is one the site renders.

A block whose info string is ``python`` runs the way a reader pastes it: saved as a script file
and run with ``python`` in a fresh process, in a temporary working directory (one where the
repository's entries are linked in, for a block marked to run from the repository root),
unless a ``<!-- notest: why -->`` comment on the line before it says it cannot run in a test
(tests/doc_blocks.py). A script is ``__main__``: a block that starts worker processes (or a
dask cluster) without the ``if __name__ == "__main__":`` guard fails here as it fails for the
reader. A block that needs an optional package skips without it, with the install line in
the reason. Where an ``<!-- output -->`` block follows, the block must print exactly that.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from .doc_blocks import DOC_FILES, ROOT, Block, blocks
from .optional import EXTRAS, missing_reason

ALL = blocks()
RUN = [b for b in ALL if b.info == "python" and b.notest is None]
# block -> the output block right after it, if any
PRINTS = {
    (b.path, b.line): nxt.code
    for b, nxt in itertools.pairwise(ALL)
    if nxt.output and nxt.path == b.path
}
GUARD = 'if __name__ == "__main__":'
# What starts processes that import the main module again (spawn, forkserver, dask's nannies).
STARTS_PROCESSES = re.compile(r"""executor=["'](?:processes|dask)["']|LocalCluster|Client\(""")
# Generous: the digits study of docs/example.md takes 10-45 s on two busy cores. Below
# pytest-timeout's 300 s, so that a hung block fails with its own output.
TIMEOUT = 240


def _missing_optional(stderr: str) -> str | None:
    """Why the script failed for want of an optional package (raised or chained), if so."""
    for name in re.findall(r"ModuleNotFoundError: No module named '([\w.]+)'", stderr):
        top = name.split(".")[0]
        if top in EXTRAS:
            return missing_reason(top)
    # hyperband's own adapters say which extra they need, e.g. OptunaSampler's error.
    match = re.search(r"needs [\w-]+: (pip install 'hyperband\[\w+\]')", stderr)
    return None if match is None else f"an extra is not installed: {match.group(1)}"


def _workdir(block: Block, tmp_path: Path) -> Path:
    """A fresh directory to run ``block`` in; for a block marked to run from the repository
    root, with the repository's top-level entries linked in (what it writes stays here)."""
    work = tmp_path / "work"
    work.mkdir()
    if block.at_root:
        for entry in ROOT.iterdir():
            if not entry.name.startswith("."):
                (work / entry.name).symlink_to(entry)
    return work


@pytest.mark.parametrize("block", RUN, ids=[b.where for b in RUN])
def test_doc_example_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "pasted_block.py"
    script.write_text(block.code)
    env = {
        **os.environ,
        # This checkout's hyperband, also in the worker processes a block starts.
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, sys.path)]),
        # No __pycache__ in the repository's directories a block imports from.
        "PYTHONDONTWRITEBYTECODE": "1",
        # A local Ray instance (docs/distributed.md) otherwise saves a new token in ~/.ray.
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=_workdir(block, tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if proc.returncode != 0:
        reason = _missing_optional(proc.stderr)
        if reason is not None:
            pytest.skip(f"{block.where}: {reason}")
        pytest.fail(
            f"{block.where}, run as a script, exited with {proc.returncode}:\n"
            f"{proc.stdout}{proc.stderr}",
            pytrace=False,
        )
    expected = PRINTS.get((block.path, block.line))
    if expected is not None:
        assert proc.stdout == expected, proc.stderr


def test_blocks_that_start_processes_show_the_main_guard() -> None:
    # A reader pastes a block into a script: worker processes (spawn, forkserver, a dask
    # LocalCluster's) import that script again, and without the guard each one runs the
    # study again (or cannot start at all). Blocks marked notest too: they are pasted as well.
    unguarded = [
        b.where
        for b in ALL
        if b.info == "python" and STARTS_PROCESSES.search(b.code) and GUARD not in b.code
    ]
    assert unguarded == []


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
            marks = "notest" in line or "from the repository root" in line
            if line.lstrip().startswith("<!--") and marks and not followed_by_fence:
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
