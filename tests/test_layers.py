"""The import contracts of pyproject.toml catch what they are written for.

CI runs ``lint-imports`` on the real tree (.ci/run). These tests break a copy of the package on
purpose, one rule at a time, and check that the contract in charge fails and names the import
that broke it: a contract that passes everything would otherwise go unnoticed. They look for
the injected import in the output, not for a clean run, so they hold whatever else the tree
gets wrong at the time.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# import-linter is pinned in the test extra, but only for Python 3.11+ (it needs tomllib).
pytest.importorskip(
    "importlinter", reason="import-linter is not installed: pip install import-linter"
)

# After the skip: Python 3.11+, as import-linter.
import tomllib

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
# Contract type -> its name, as lint-imports prints it.
CONTRACTS = {contract["type"]: contract["name"] for contract in CONFIG["contracts"]}

# lint-imports as the console script runs it, with the interpreter running the tests.
LINT_IMPORTS = (
    "import sys; from importlinter.cli import lint_imports_command; "
    "sys.exit(lint_imports_command())"
)


def copy_tree(tmp_path: Path) -> Path:
    """The package and the real pyproject.toml (its contracts) in ``tmp_path``."""
    shutil.copytree(
        ROOT / "hyperband", tmp_path / "hyperband", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def inject(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first, so that grimp finds the copy, not the installed package. A wide
    # terminal keeps each import on one line of the report.
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "400"}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def assert_broken(result: subprocess.CompletedProcess[str], contract: str, *names: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{contract} BROKEN" in output, output
    for name in names:
        assert name in output, output


def core_module(tree: Path) -> tuple[Path, str]:
    """A module of the core, as a file and a dotted name (the first in sorted order)."""
    path = next(p for p in sorted((tree / "hyperband" / "core").rglob("*.py")) if p.stem[0] != "_")
    return path, dotted(tree, path)


def dotted(tree: Path, path: Path) -> str:
    return ".".join(path.relative_to(tree).with_suffix("").parts)


def test_a_core_module_importing_a_driver_breaks_the_layers(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    path, name = core_module(tree)
    inject(path, "import hyperband.drivers")
    assert_broken(
        lint_imports(tree),
        CONTRACTS["layers"],
        "hyperband.core is not allowed to import hyperband.drivers",
        f"{name} -> hyperband.drivers",
    )


def test_a_core_module_importing_a_framework_breaks_the_dependency_rule(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    path, name = core_module(tree)
    inject(path, "import nni")
    assert_broken(lint_imports(tree), CONTRACTS["forbidden"], f"{name} -> nni")


def test_two_core_modules_importing_each_other_break_the_no_cycle_rule(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    # An import already there between two modules of the core, then its reverse.
    core = tree / "hyperband" / "core"
    files = {dotted(tree, p): p for p in sorted(core.rglob("*.py")) if p.stem != "__init__"}
    importer, imported = next(
        (name, node.module)
        for name, path in files.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module in files and node.module != name
    )
    inject(files[imported], f"import {importer}")
    assert_broken(
        lint_imports(tree), CONTRACTS["acyclic_siblings"], "No cycles are allowed in hyperband.core"
    )
