"""The examples in the public docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import hyperband

# __main__ runs the CLI on import; integrations need their optional engines and are
# exercised by their own tests.
SKIP = {"hyperband.__main__"}
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(hyperband.__path__, "hyperband.")
    if m.name not in SKIP and not m.name.startswith("hyperband.integrations")
)


@pytest.mark.parametrize("name", ["hyperband", *MODULES])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
