"""``cv_results_``: one row per job, in the layout of scikit-learn's searches.

The keys of ``HalvingRandomSearchCV`` (``mean_fit_time``, ``std_fit_time``,
``mean_score_time``, ``std_score_time``, ``param_<name>``, ``params``,
``split<k>_test_score``, ``mean_test_score``, ``std_test_score``, ``rank_test_score``, the
``train`` ones with ``return_train_score``, ``iter``, ``n_resources``), plus Hyperband's
``bracket``, ``rung``, ``config_id``, ``job_id``, ``status`` and ``stopped_at``, one row
per job in schedule order. A failed job's scores are ``error_score`` and its times NaN. A job
that early stopping stopped (``status`` ``"stopped"``) has the scores and times of the fits
it made, up to the resource value where it stopped (``stopped_at``, NaN for the other jobs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from hyperband.drivers.job_record import JobRecord
from hyperband.integrations.sklearn.evaluate import units

__all__ = ["cv_results", "rank"]


def rank(means: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
    """1 + how many rows score strictly higher (ties share the best rank; NaN ranks last),
    as scikit-learn ranks ``mean_test_score``."""
    filled = np.where(np.isnan(means), -np.inf, means)
    ordered = np.sort(filled)
    higher = len(filled) - np.searchsorted(ordered, filled, side="right")
    return (1 + higher).astype(np.int32)


def _outcome(rec: JobRecord) -> Mapping[str, Any]:
    """What the job's objective returned: its result's extra keys, or what a stopped job
    returned after its stop (the runner keeps it under ``"returned"``)."""
    if rec.status == "succeeded":
        return rec.extra
    returned = rec.extra.get("returned") if rec.status == "stopped" else None
    return returned if isinstance(returned, Mapping) else {}


def _per_split(
    records: Sequence[JobRecord], key: str, n_splits: int, missing: float
) -> npt.NDArray[np.float64]:
    table = np.full((len(records), n_splits), missing, dtype=float)
    for i, rec in enumerate(records):
        values = _outcome(rec).get(key)
        if values is not None and len(values) == n_splits:
            table[i] = values
    return table


def _params(records: Sequence[JobRecord]) -> dict[str, Any]:
    names = sorted({name for rec in records for name in rec.job.config})
    out: dict[str, Any] = {}
    for name in names:
        column: np.ma.MaskedArray[Any, Any] = np.ma.MaskedArray(
            np.empty(len(records), dtype=object), mask=True
        )
        for i, rec in enumerate(records):
            if name in rec.job.config:
                column[i] = rec.job.config[name]
        out[f"param_{name}"] = column
    out["params"] = [dict(rec.job.config) for rec in records]
    return out


def cv_results(
    history: Sequence[JobRecord], n_splits: int, return_train_score: bool, error_score: float
) -> dict[str, Any]:
    """The ``cv_results_`` dict of a finished run's records.

    Rows in schedule order: by iteration, bracket (the most rungs first), rung, then
    configuration, so that the layout does not depend on the order in which jobs finished
    (the executor, the number of workers).
    """
    records = sorted(
        history, key=lambda r: (r.job.iteration, -r.job.bracket, r.job.rung, r.job.config_id)
    )
    out: dict[str, Any] = {}
    with np.errstate(invalid="ignore"):
        for key in ("fit_time", "score_time"):
            table = _per_split(records, key, n_splits, math.nan)
            out[f"mean_{key}"] = table.mean(axis=1)
            out[f"std_{key}"] = table.std(axis=1)
    out.update(_params(records))
    for which in ("test", "train") if return_train_score else ("test",):
        table = _per_split(records, f"{which}_scores", n_splits, error_score)
        for k in range(n_splits):
            out[f"split{k}_{which}_score"] = table[:, k]
        out[f"mean_{which}_score"] = table.mean(axis=1)
        out[f"std_{which}_score"] = table.std(axis=1)
        if which == "test":
            out["rank_test_score"] = rank(out["mean_test_score"])
    out["iter"] = np.array([rec.job.iteration for rec in records], dtype=int)
    out["bracket"] = np.array([rec.job.bracket for rec in records], dtype=int)
    out["rung"] = np.array([rec.job.rung for rec in records], dtype=int)
    out["n_resources"] = np.array([units(rec.job.budget) for rec in records], dtype=int)
    out["config_id"] = np.array([rec.job.config_id for rec in records], dtype=int)
    out["job_id"] = np.array([rec.job.id for rec in records], dtype=int)
    out["status"] = np.array([rec.status for rec in records], dtype=object)
    out["stopped_at"] = np.array(
        [
            rec.extra.get("stopped_at", math.nan) if rec.status == "stopped" else math.nan
            for rec in records
        ],
        dtype=float,
    )
    return out
