"""Hyperband done right: exact schedules and a deterministic, sans-IO ask/tell machine.

Examples:
    >>> import hyperband
    >>> space = {"lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}}
    >>> hb = hyperband.Hyperband(space, max_budget=9, eta=3, seed=0)
    >>> job = hb.ask()
    >>> job.budget, job.rung
    (1, 0)
    >>> result = hb.tell(job.id, 0.5)
"""

import importlib
import sys
from typing import TYPE_CHECKING, Any

from hyperband.core.errors import (
    ArgumentTypeError,
    ConfigurationError,
    HyperbandError,
    InvalidResultError,
    JobResolvedError,
    SearchSpaceError,
    SnapshotError,
    TooManyFailuresError,
    UnknownJobError,
    WorkerStartError,
)
from hyperband.core.jobs import (
    CONTINUE,
    DONE,
    STOP,
    WAIT,
    Best,
    Decision,
    EarlyStopped,
    Job,
    Result,
    Signal,
    Stats,
)
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import ModelSampler, RandomSampler, Sampler
from hyperband.core.schedule import Bracket, Rung, Schedule, schedule
from hyperband.core.space import validate_space
from hyperband.core.stopping import MedianRule, Peer, RungRule, StoppingRule, StopView, value_at

if TYPE_CHECKING:
    from hyperband.core.curve_rule import CurveRule
    from hyperband.drivers.journal import JournalError, JournalMismatchError
    from hyperband.drivers.records import JobRecord, RunResult
    from hyperband.drivers.runner import run
    from hyperband.drivers.simulate import SimulatedJob, SimulationResult, simulate
    from hyperband.report.html import html_report
    from hyperband.samplers.kde import KDESampler

# The drivers pull in concurrent.futures, multiprocessing, tempfile and logging, and the KDE
# sampler is a sizeable module; importing them on first use keeps `import hyperband` (the
# machine alone) cheap for embedders.
_LAZY = {
    "CurveRule": ".core.curve_rule",
    "JournalError": ".drivers.journal",
    "JournalMismatchError": ".drivers.journal",
    "KDESampler": ".samplers.kde",
    "run": ".drivers.runner",
    "RunResult": ".drivers.records",
    "JobRecord": ".drivers.records",
    "simulate": ".drivers.simulate",
    "SimulationResult": ".drivers.simulate",
    "SimulatedJob": ".drivers.simulate",
    "html_report": ".report.html",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hyperband' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "CONTINUE",
    "DONE",
    "STOP",
    "WAIT",
    "ArgumentTypeError",
    "Best",
    "Bracket",
    "ConfigurationError",
    "CurveRule",
    "Decision",
    "EarlyStopped",
    "Hyperband",
    "HyperbandError",
    "InvalidResultError",
    "Job",
    "JobRecord",
    "JobResolvedError",
    "JournalError",
    "JournalMismatchError",
    "KDESampler",
    "MedianRule",
    "ModelSampler",
    "Peer",
    "RandomSampler",
    "Result",
    "RunResult",
    "Rung",
    "RungRule",
    "Sampler",
    "Schedule",
    "SearchSpaceError",
    "Signal",
    "SimulatedJob",
    "SimulationResult",
    "SnapshotError",
    "Stats",
    "StopView",
    "StoppingRule",
    "TooManyFailuresError",
    "UnknownJobError",
    "WorkerStartError",
    "__version__",
    "html_report",
    "run",
    "schedule",
    "simulate",
    "validate_space",
    "value_at",
]


def _in_a_starting_worker() -> bool:
    """True while a process that multiprocessing started imports the main module again.

    Looked up without importing multiprocessing: a process it started has it loaded already.
    """
    process = sys.modules.get("multiprocessing.process")
    return process is not None and bool(getattr(process.current_process(), "_inheriting", False))


if _in_a_starting_worker():
    # A worker of run()'s process pool that fails while it imports the main module (an
    # unguarded script) reports its error to the pool in one line, instead of each attempt
    # printing a traceback (see drivers/worker_start.py).
    from hyperband.drivers.worker_start import report_start_failure

    report_start_failure()
