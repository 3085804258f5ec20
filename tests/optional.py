"""Optional packages the tests use, and the extra of pyproject.toml that installs each.

A test of an optional part calls ``require(module)``: without the package it is skipped with a
reason that names what to install, so ``pip install -e ".[test]" && pytest`` is green on a fresh
machine. CI installs every extra and sets ``HYPERBAND_REQUIRE_OPTIONAL=1``, under which such a
skip fails instead (tests/conftest.py), so the integrations run for real there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

# module -> extra that installs it (None: no extra pins it; another extra pulls it in).
EXTRAS: dict[str, str | None] = {
    "distributed": "dask",
    "ray": "ray",
    "matplotlib": "plot",
    "mkdocs": "docs",
    "mkdocstrings_handlers": "docs",
    "nni": "nni",
    "optuna": "optuna",
    "ConfigSpace": "configspace",
    "lightgbm": "lightgbm",
    "xgboost": "xgboost",
    "keras": "keras",
    "jax": "keras",  # the backend the extra installs; docs blocks import it before keras
    "cmaes": "optuna",
    "pandas": None,
    "playwright": "browser",
    "plotly": "plotly-schema",
    "sklearn": "sklearn",
    "scipy": "sklearn",  # scikit-learn's dependency, imported first by some docs blocks
    "tqdm": "progress",
    "torch": "torch",
    "lightning": "lightning",
}


def install_hint(module: str) -> str:
    """What to run to get ``module``: the extra that pins it, else the package itself."""
    top = module.split(".")[0]
    extra = EXTRAS.get(top)
    return f"pip install -e '.[{extra}]'" if extra else f"pip install {top}"


def missing_reason(module: str) -> str:
    return f"{module} is not installed (optional): {install_hint(module)}"


def require(module: str) -> ModuleType:
    """Import ``module``, or skip the calling test with the install line in the reason."""
    __tracebackhide__ = True  # the skip is reported at the caller's line, not here
    return pytest.importorskip(module, reason=missing_reason(module))


def run_without(module: str, code: str) -> str:
    """What ``code`` prints in a fresh interpreter where ``module`` cannot be imported (as if
    it were not installed), with this checkout's hyperband."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    script = f"import sys\nsys.modules[{module!r}] = None\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout
