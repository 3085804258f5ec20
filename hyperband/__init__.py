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

from ._errors import (
    ArgumentTypeError,
    ConfigurationError,
    HyperbandError,
    InvalidResultError,
    JobResolvedError,
    SearchSpaceError,
    SnapshotError,
    UnknownJobError,
)
from ._jobs import DONE, WAIT, Best, Job, Result, Signal
from ._machine import Hyperband
from ._records import JobRecord, RunResult
from ._runner import run
from ._samplers import RandomSampler, Sampler
from ._schedule import Bracket, Rung, Schedule, schedule
from ._simulate import SimulatedJob, SimulationResult, simulate
from ._space import validate_space

__version__ = "0.1.0"

__all__ = [
    "DONE",
    "WAIT",
    "ArgumentTypeError",
    "Best",
    "Bracket",
    "ConfigurationError",
    "Hyperband",
    "HyperbandError",
    "InvalidResultError",
    "Job",
    "JobRecord",
    "JobResolvedError",
    "RandomSampler",
    "Result",
    "RunResult",
    "Rung",
    "Sampler",
    "Schedule",
    "SearchSpaceError",
    "Signal",
    "SimulatedJob",
    "SimulationResult",
    "SnapshotError",
    "UnknownJobError",
    "__version__",
    "run",
    "schedule",
    "simulate",
    "validate_space",
]
