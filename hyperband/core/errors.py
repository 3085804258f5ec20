"""The exception hierarchy.

Every error the library raises on bad input is a ``HyperbandError``, and also
subclasses the built-in exception a caller would expect (``ValueError`` for a bad
value, ``TypeError`` for a wrong type, ``KeyError`` for an unknown job id), so code
written against plain Python conventions keeps working.

Messages name three things: the argument, the rule it broke and the value received.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ArgumentTypeError",
    "ConfigurationError",
    "HyperbandError",
    "InvalidResultError",
    "JobResolvedError",
    "SearchSpaceError",
    "SnapshotError",
    "TooManyFailuresError",
    "UnknownJobError",
    "WorkerStartError",
]


def describe(value: Any) -> str:
    """A short, unambiguous rendering of a received value for error messages."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


class HyperbandError(Exception):
    """Base class of every error raised by ``hyperband`` on bad input or misuse."""

    def __str__(self) -> str:
        # KeyError's own __str__ shows repr(message) in quotes; keep messages plain.
        return str(self.args[0]) if self.args else ""


class ConfigurationError(HyperbandError, ValueError):
    """A constructor or function argument has an invalid value (``eta <= 1``, ...)."""


class ArgumentTypeError(HyperbandError, TypeError):
    """An argument has the wrong type (a job id that is not an int, ...)."""


class SearchSpaceError(HyperbandError, ValueError):
    """The search space is malformed.

    Attributes:
        path: where in the space the problem is, e.g. ``"optimizer/_value[1]/lr"``.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class UnknownJobError(HyperbandError, KeyError):
    """``tell``/``fail`` received a job id the machine never handed out."""


class JobResolvedError(UnknownJobError):
    """``tell``/``fail`` received the id of a job that was already told or failed."""


class InvalidResultError(HyperbandError, ValueError, TypeError):
    """``tell`` received a value that is not a finite number (or a dict with one)."""


class SnapshotError(HyperbandError, ValueError):
    """``Hyperband.restore`` received a snapshot it cannot rebuild a machine from."""


class TooManyFailuresError(HyperbandError, RuntimeError):
    """``run(..., max_failures=N)`` stopped the run: N of its jobs failed.

    Attributes:
        failures: how many jobs failed in this run (a resumed study's earlier failures are
            not counted).
        max_failures: the bound.
        result: the ``RunResult`` so far (``done`` is False), or ``None``.
    """

    def __init__(self, failures: int, max_failures: int, last: str) -> None:
        self.failures = failures
        self.max_failures = max_failures
        self.result: Any = None
        super().__init__(
            f"max_failures: {failures} jobs failed in this run (max_failures={max_failures}), "
            f"so it stopped; the last one: {last}"
        )


class WorkerStartError(HyperbandError, RuntimeError):
    """``run(..., executor="processes")`` cannot start its worker processes.

    A worker process imports the main module again (multiprocessing's ``spawn`` and
    ``forkserver`` do, so that what ``__main__`` defines unpickles). That fails for a script
    read from standard input, and it starts a study in every worker for a script that calls
    ``run`` without the ``if __name__ == "__main__":`` guard, where ``run`` raises this error
    instead. The message names the cause, the worker's own error and the fix.
    """
