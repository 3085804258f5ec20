"""One line for a failed job: its exception, and where in the user's code it was raised.

A job's error is the traceback its worker formatted. Its last line alone (``KeyError:
'learning_rate'``) does not say which line of the objective failed; the whole traceback is too
long for a summary. ``failure_line`` keeps the exception and adds the deepest frame of the
user's own code: not this package's, not Python's standard library, not an installed package.
"""

from __future__ import annotations

import os
import re
import sysconfig
from pathlib import Path

__all__ = ["failure_line"]

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>.+?)\s*$')
_TRACEBACK = "Traceback (most recent call last):"


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.add(str(Path(__file__).resolve().parents[1]))  # this package, wherever it lives
    return tuple(os.path.normcase(os.path.abspath(root)) + os.sep for root in roots)


def _user_frame(lines: list[str]) -> str | None:
    """``file:line, in function`` of the deepest frame of the user's code, or None."""
    if _TRACEBACK in lines:  # only the last exception of a chain
        lines = lines[len(lines) - 1 - lines[::-1].index(_TRACEBACK) :]
    roots = _library_roots()
    for line in reversed(lines):
        match = _FRAME.match(line)
        if match is None:
            continue
        path = match["file"]
        if os.path.normcase(os.path.abspath(path)).startswith(roots):
            continue
        with_cwd = os.path.abspath(os.getcwd()) + os.sep
        shown = path[len(with_cwd) :] if os.path.abspath(path).startswith(with_cwd) else path
        return f"{shown}:{match['line']}, in {match['func']}"
    return None


def failure_line(text: str | None) -> str:
    """The exception (the last non-blank line of ``text``), with where the user's code raised it.

    Args:
        text: a failed job's error: a formatted traceback, or a plain reason.

    Returns:
        ``"(no reason given)"`` for an empty text.

    Examples:
        >>> failure_line('Traceback (most recent call last):\\n'
        ...              '  File "/home/me/obj.py", line 3, in objective\\n'
        ...              '    return config["learning_rate"]\\n'
        ...              "KeyError: 'learning_rate'")
        "KeyError: 'learning_rate' (at /home/me/obj.py:3, in objective)"
        >>> failure_line("timed out after 5 s")
        'timed out after 5 s'
    """
    lines = [line.rstrip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return "(no reason given)"
    last = lines[-1].strip()
    where = _user_frame(lines)
    return last if where is None else f"{last} (at {where})"
