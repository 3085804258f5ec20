"""The checks of ``hyperband.run``'s driver options, before anything is created."""

from __future__ import annotations

import math
import numbers
import pickle

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.drivers.checkpoints import KEEP_CHECKPOINTS
from hyperband.drivers.executors import validate
from hyperband.drivers.worker_start import check_main_importable

__all__ = ["check_executor", "check_options"]


def check_options(
    objective: object,
    *,
    timeout: object,
    retries: object,
    progress: object,
    study_name: object,
    allow_objective_change: object,
    max_failures: object,
    keep_checkpoints: object,
    fail_fast: object = None,
) -> float | None:
    """Check ``run()``'s options that need no study; returns the timeout in seconds, or None.

    Raises:
        ArgumentTypeError: an option of the wrong type.
        ConfigurationError: an option out of its range.
    """
    seconds = _check_timing(objective, timeout, retries, progress)
    _check_identity_options(study_name, allow_objective_change)
    _check_max_failures(max_failures)
    _check_max_failures(fail_fast, "fail_fast")
    if keep_checkpoints not in KEEP_CHECKPOINTS:
        raise ConfigurationError(
            f"keep_checkpoints must be one of {', '.join(map(repr, KEEP_CHECKPOINTS))}, got "
            f"{describe(keep_checkpoints)}"
        )
    return seconds


def _check_timing(
    objective: object, timeout: object, retries: object, progress: object
) -> float | None:
    if not callable(objective):
        raise ArgumentTypeError(
            f"objective must be a callable objective(config, budget[, context]), got "
            f"{describe(objective)}"
        )
    if not isinstance(progress, bool):
        raise ArgumentTypeError(f"progress must be a bool, got {describe(progress)}")
    if isinstance(retries, bool) or not isinstance(retries, int):
        raise ArgumentTypeError(f"retries must be an int >= 0, got {describe(retries)}")
    if retries < 0:
        raise ConfigurationError(f"retries must be >= 0, got {describe(retries)}")
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise ArgumentTypeError(
            f"timeout must be a number of seconds > 0 or None, got {describe(timeout)}"
        )
    seconds = float(timeout)
    if not seconds > 0 or not math.isfinite(seconds):
        raise ConfigurationError(
            f"timeout must be a finite number of seconds > 0 (or None), got {describe(timeout)}"
        )
    return seconds


def _check_identity_options(study_name: object, allow_objective_change: object) -> None:
    if study_name is not None and not isinstance(study_name, str):
        raise ArgumentTypeError(f"study_name must be a str or None, got {describe(study_name)}")
    if not isinstance(allow_objective_change, bool):
        raise ArgumentTypeError(
            f"allow_objective_change must be a bool, got {describe(allow_objective_change)}"
        )


def _check_max_failures(max_failures: object, name: str = "max_failures") -> None:
    if max_failures is None:
        return
    if isinstance(max_failures, bool) or not isinstance(max_failures, int):
        raise ArgumentTypeError(f"{name} must be an int >= 1 or None, got {describe(max_failures)}")
    if max_failures < 1:
        raise ConfigurationError(f"{name} must be >= 1 (or None), got {describe(max_failures)}")


def check_executor(
    objective: object, executor: object, workers: object, timeout: object, seconds: float | None
) -> None:
    """Check ``run()``'s executor options against the objective, without creating anything.

    Raises:
        ConfigurationError: a timeout with ``executor="serial"``, or a bad executor name or
            ``workers``.
        ArgumentTypeError: an objective that does not pickle for ``executor="processes"``.
        WorkerStartError: ``executor="processes"`` from a script read from standard input,
            which its worker processes cannot import again.
    """
    if seconds is not None and executor == "serial":
        raise ConfigurationError(
            f"timeout needs a pool: executor='serial' runs jobs in the calling thread and cannot "
            f"stop one, got timeout={describe(timeout)}; use executor='threads' or 'processes'"
        )
    if executor == "processes":
        check_main_importable()
        try:
            pickle.dumps(objective)
        except Exception as exc:
            raise ArgumentTypeError(
                "objective must pickle for executor='processes' (define it at module level, "
                f"not as a lambda or closure), got {describe(objective)}: {exc}"
            ) from exc
    validate(executor, workers)
