"""``HyperbandSearchCV``'s arguments, checked at ``fit`` (scikit-learn's convention: the
constructor only stores them). Each error names the argument, the rule and the value."""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hyperband.core.configspace import is_configspace_like
from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.stopping import make_rule
from hyperband.integrations.sklearn.params import DistributionSampler, is_nni_space

__all__ = [
    "check_early_stop",
    "check_error_score",
    "check_flag",
    "check_scoring",
    "n_workers",
    "resources",
    "search_space",
    "seed_of",
    "warm_param",
]

N_SAMPLES = "n_samples"


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
        raise ConfigurationError(f"{name} must be 'auto' or a number > 0, got {describe(value)}")
    return float(value)


def resources(
    resource: str,
    max_resources: object,
    min_resources: object,
    splits: Sequence[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]],
    n_classes: int,
) -> tuple[float, float]:
    """``(max_budget, min_budget)`` for the run.

    ``resource="n_samples"``: ``max_resources="auto"`` is the smallest fold's training rows
    (a larger number is refused); ``min_resources="auto"`` is ``2 * n_splits * n_classes``
    (``n_classes`` is 1 for a regressor), as ``HalvingRandomSearchCV`` picks its smallest,
    at most ``max_resources``. A parameter resource needs ``max_resources``; its
    ``min_resources="auto"`` is 1.
    """
    if resource == N_SAMPLES:
        rows = min(len(train) for train, _ in splits)
        top = rows if max_resources == "auto" else _positive("max_resources", max_resources)
        if top > rows:
            raise ConfigurationError(
                f"max_resources must be at most the smallest fold's training rows ({rows}) "
                f"when resource='n_samples', got {describe(max_resources)}"
            )
        low = 2.0 * len(splits) * n_classes
        bottom = min(low, top) if min_resources == "auto" else None
    else:
        if max_resources == "auto":
            raise ConfigurationError(
                f"max_resources='auto' is only for resource='n_samples'; give the largest "
                f"value of {resource!r} a job may use, e.g. max_resources=100"
            )
        top = _positive("max_resources", max_resources)
        bottom = 1.0 if min_resources == "auto" else None
    if bottom is None:
        bottom = _positive("min_resources", min_resources)
    if bottom > top:
        raise ConfigurationError(
            f"min_resources must be <= max_resources ({top:g}), got {describe(min_resources)}"
        )
    return top, bottom


def search_space(param_distributions: Any, sampler: Any) -> tuple[Any, Any]:
    """``(space, sampler)`` for ``run``: our spaces and sampler objects as they are,
    scikit-learn's ``param_distributions`` as a ``DistributionSampler``."""
    ours = (
        param_distributions is None
        or is_nni_space(param_distributions)
        or is_configspace_like(param_distributions)
        or callable(getattr(param_distributions, "sample", None))
    )
    if ours:
        return param_distributions, sampler
    if sampler not in (None, "random"):
        raise ConfigurationError(
            f"sampler={sampler!r} draws from a search space in NNI's format or a ConfigSpace "
            "space; scikit-learn style param_distributions (lists, scipy.stats "
            "distributions) are drawn at random: leave sampler=None"
        )
    return DistributionSampler(param_distributions), None


def warm_param(warm_start: object, resource: str, params: Mapping[str, Any]) -> str | None:
    """The ``warm_start`` parameter to set on promotions, or None for no warm start.

    ``"auto"``: when the resource is an ``n_estimators`` (scikit-learn's ensembles count the
    total there, so a warm fit adds the missing members) of an estimator with ``warm_start``.
    ``True`` insists (for a parameter that counts the total, as ``max_iter`` of the
    histogram gradient boosting estimators); ``False`` never.
    """
    if not (isinstance(warm_start, bool) or warm_start == "auto"):
        raise ConfigurationError(
            f"warm_start must be 'auto', True or False, got {describe(warm_start)}"
        )
    prefix, _, last = resource.rpartition("__")
    name = f"{prefix}__warm_start" if prefix else "warm_start"
    if warm_start is True:
        if resource == N_SAMPLES or name not in params:
            raise ConfigurationError(
                f"warm_start=True continues an estimator's fit, which needs a parameter "
                f"resource and a {name!r} parameter; got resource={resource!r}"
                + ("" if resource == N_SAMPLES else f" and no {name!r} parameter")
            )
        return name
    if warm_start == "auto" and last == "n_estimators" and name in params:
        return name
    return None


def check_early_stop(
    early_stop: object, n_reports: object, warm: str | None, resource: str
) -> int | None:
    """How many times a job reports before its budget (``n_reports``), or None without
    early stopping.

    Raises:
        ConfigurationError: ``early_stop`` is not a rule (named as ``hyperband.run`` names
            them), ``n_reports`` is below 1, or the jobs have nothing to report: a job
            reports only while it grows warm-started estimators.
        ArgumentTypeError: ``n_reports`` is not an int.
    """
    if isinstance(n_reports, bool) or not isinstance(n_reports, numbers.Integral):
        raise ArgumentTypeError(f"n_reports must be an int >= 1, got {describe(n_reports)}")
    if n_reports < 1:
        raise ConfigurationError(f"n_reports must be >= 1, got {describe(n_reports)}")
    if make_rule(early_stop) is None:
        return None
    if warm is None:
        why = (
            "the budget is training rows, and a fit on more rows starts over"
            if resource == N_SAMPLES
            else f"warm start is off for {resource!r} (see warm_start)"
        )
        raise ConfigurationError(
            f"early_stop={early_stop!r} needs scores on the way to a job's budget, "
            "which only a warm-started job has (a parameter resource such as "
            f"'n_estimators' with warm_start 'auto' or True); here {why}: use "
            "early_stop=None"
        )
    return int(n_reports)


def check_scoring(scoring: object) -> None:
    """One metric only: a name, a scorer callable, or None (the estimator's ``score``)."""
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        return
    raise ConfigurationError(
        "scoring must be None, a scorer name or a callable (one metric: HyperbandSearchCV "
        f"promotes by one number), got {describe(scoring)}"
    )


def check_error_score(error_score: object) -> float | None:
    """The number failed fits score, or None for ``"raise"``."""
    if error_score == "raise":
        return None
    if isinstance(error_score, bool) or not isinstance(error_score, numbers.Real):
        raise ConfigurationError(
            f"error_score must be 'raise' or a number, got {describe(error_score)}"
        )
    return float(error_score)


def check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ArgumentTypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def n_workers(n_jobs: object, executor: object) -> int | None:
    """``run``'s ``workers`` from scikit-learn's ``n_jobs``: None is 1 (an executor object
    or ``"serial"``: its own size), -1 every core, -2 all but one, and so on."""
    if n_jobs is None:
        return 1 if executor in ("threads", "processes", "dask") else None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ConfigurationError(
            f"n_jobs must be None or a non-zero int (-1: every core), got {describe(n_jobs)}"
        )
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


def seed_of(random_state: object) -> int:
    """The run's seed: the int itself, one drawn from a ``RandomState``, or (None) fresh
    entropy from the operating system (never numpy's global RNG)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise ArgumentTypeError(
            "random_state must be None, an int >= 0 or a numpy RandomState, got "
            f"{describe(random_state)}"
        )
    if random_state < 0:
        raise ConfigurationError(f"random_state must be >= 0, got {describe(random_state)}")
    return int(random_state)
