"""JSON for what the drivers write: the journal's events and ``RunResult.to_json``."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["jsonable"]


def jsonable(obj: Any) -> Any:
    """``json.dumps(default=...)`` hook: numpy scalars and arrays, paths, sets; else ``repr``."""
    item = getattr(obj, "item", None)
    if callable(item) and getattr(obj, "shape", None) == ():
        return item()  # a numpy scalar or 0-d array
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return repr(obj)
