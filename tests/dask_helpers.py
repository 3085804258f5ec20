"""Objectives for tests/test_dask.py, at module level so dask workers can import them.

Workers started by the tests get the repository on their PYTHONPATH, so ``tests.dask_helpers``
imports there as it does here.
"""

from __future__ import annotations

import os
import time
from typing import Any

from .runner_helpers import quality

#: Set in a worker's environment: the file where ``paced`` logs when each job starts and ends.
TRACE_ENV = "HYPERBAND_TEST_TRACE"

#: Configurations with x below this crash their worker in ``crashing`` (raise in ``raising``).
CRASH = 0.05


def _trace(event: str, config: dict[str, Any], budget: float) -> None:
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    line = f"{event} {config['x']!r}@{budget} {os.getpid()} {time.time():.6f}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write of a short line with O_APPEND: never interleaved
    finally:
        os.close(fd)


def paced(config: dict[str, Any], budget: float) -> float:
    """``quality`` after 20 ms + 10 ms per budget unit: about 5.6 s of work for the study."""
    _trace("start", config, budget)
    time.sleep(0.02 + 0.01 * budget)
    _trace("end", config, budget)
    return quality(config, budget)


def crashing(config: dict[str, Any], budget: float) -> float:
    """Kills its worker process for x < CRASH (no exception, no cleanup)."""
    if config["x"] < CRASH:
        os._exit(3)
    return quality(config, budget)


def raising(config: dict[str, Any], budget: float) -> float:
    """``crashing`` with an exception instead of a crash: the serial reference."""
    if config["x"] < CRASH:
        raise RuntimeError(f"x={config['x']} is too small")
    return quality(config, budget)


#: Configurations with x below this take LINGER_SECONDS in ``lingering``.
LINGER = 0.05
LINGER_SECONDS = 4.0


def lingering(config: dict[str, Any], budget: float) -> float:
    """Outlasts a 2 s timeout for x < LINGER (traced, as ``paced``)."""
    if config["x"] < LINGER:
        _trace("start", config, budget)
        time.sleep(LINGER_SECONDS)
        _trace("end", config, budget)
    return quality(config, budget)


def trace_key(config: dict[str, Any], budget: float) -> str:
    """How ``paced`` names a job in its trace."""
    return f"{config['x']!r}@{budget}"
