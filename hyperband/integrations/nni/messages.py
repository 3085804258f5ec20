"""The translation between NNI's messages and the machine's jobs, parameters and results.

A job goes to NNI as a ``NewTrialJob`` form: its configuration plus ``TRIAL_BUDGET`` (and the
resume keys); a metric comes back as a JSON string, whose ``"default"`` is the result. Earlier
results (``nnictl resume``, ``experiment.import_data``) are matched to jobs by configuration and
budget, in a canonical JSON key.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
from collections.abc import Mapping
from typing import Any, Final

import nni

from hyperband.core.errors import describe
from hyperband.core.jobs import Job

_logger = logging.getLogger("hyperband.integrations.nni")

#: The parameter that carries a job's budget, as NNI's built-in Hyperband names it.
BUDGET_KEY: Final = "TRIAL_BUDGET"
#: The extra parameters sent with ``resume_info=True`` (see ``HyperbandAdvisor``).
RESUME_KEYS: Final = (
    "TRIAL_JOB_ID",
    "TRIAL_CONFIG_ID",
    "TRIAL_PREVIOUS_BUDGET",
    "TRIAL_RESUME_FROM",
)
_RESERVED: Final = frozenset((BUDGET_KEY, *RESUME_KEYS))
#: The key of a PERIODICAL metric dict that gives the report's step, in budget units.
STEP_KEY: Final = "step"


def _metric_of(data: Any) -> tuple[Any, Any, str] | None:
    """The trial, parameter id and kind of a ``ReportMetricData``; None (logged) if unusable."""
    if type(data) is not dict and not isinstance(data, Mapping):
        _logger.error("HyperbandAdvisor: metric data must be a dict, got %s", describe(data))
        return None
    trial = data.get("trial_job_id")
    pid = data.get("parameter_id")
    kind = data.get("type")
    if kind not in ("FINAL", "PERIODICAL"):
        _logger.error(
            "HyperbandAdvisor: trial %s sent a %s metric; only FINAL and PERIODICAL are "
            "supported (multi-phase trials are not)",
            trial,
            kind,
        )
        return None
    if pid is None:
        # A trial the user added by hand (NNI's "customized" trial) is outside the schedule.
        _logger.warning(
            "HyperbandAdvisor: trial %s (a customized trial) reported a metric; ignored",
            trial,
        )
        return None
    return trial, pid, kind


def _trial_form(job: Job, resume_info: bool) -> str:
    """The ``NewTrialJob`` payload of ``job``: its parameter id is the job's id."""
    params = dict(job.config)
    params[BUDGET_KEY] = job.budget
    if resume_info:
        params["TRIAL_JOB_ID"] = job.id
        params["TRIAL_CONFIG_ID"] = job.config_id
        params["TRIAL_PREVIOUS_BUDGET"] = job.previous_budget
        params["TRIAL_RESUME_FROM"] = job.resume_from
    # Plain json, not nni.dump: configurations are plain JSON values, and json_tricks
    # costs several times more on the dispatcher's per-job path.
    return _ENCODE(
        {
            "parameter_id": job.id,
            "parameter_source": "algorithm",
            "parameters": params,
            "parameter_index": 0,
        }
    )


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"parameter value {describe(value)} is not JSON-serialisable")


# Built once: json.dumps(..., default=...) would build an encoder on every call. A form is a
# tree (a configuration is made from the JSON search space): no cycle to check for, which
# saves a tenth of the encoding, once per job.
_ENCODE: Final = json.JSONEncoder(default=_json_default, check_circular=False).encode


def _decode_metric(raw: Any) -> Any:
    """A metric as NNI forwards it: a JSON string (written by ``nni.dump`` in the trial)."""
    if not isinstance(raw, str):
        if raw is None:
            raise ValueError("the metric has no value")
        return raw
    try:  # a plain number, the common case: float() is several times faster than json
        return float(raw)
    except ValueError:
        pass
    if '"__' not in raw:  # json_tricks marks its special encodings with "__..." keys
        try:
            return json.loads(raw)
        except ValueError:
            pass
    try:
        return nni.load(raw)
    except Exception as exc:
        raise ValueError(f"the metric {raw[:80]!r} is not valid JSON: {exc}") from None


def _default_number(value: Any) -> float:
    if type(value) is float and value - value == 0.0:  # a finite float: the common case
        return value
    raw = value.get("default") if isinstance(value, dict) else value
    if isinstance(value, dict) and "default" not in value:
        raise ValueError(f"a dict metric needs a 'default' key, got keys {sorted(map(str, value))}")
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real) or not math.isfinite(raw):
        raise ValueError(f"the metric must be a finite number, got {describe(raw)}")
    return float(raw)


def _plain(x: float) -> float:
    """An integral step as an int, as the machine's budgets are."""
    return int(x) if float(x).is_integer() else x


def _form_parameter_id(hyper_params: Any) -> int | None:
    form = hyper_params
    if isinstance(form, str):
        try:
            form = json.loads(form)
        except ValueError:
            return None
    pid = form.get("parameter_id") if isinstance(form, Mapping) else None
    return pid if type(pid) is int else None


def _canonical(value: Any) -> Any:
    # NNI's manager round-trips parameters through JavaScript, which writes 3.0 as 3.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _job_key(config: Mapping[str, Any], budget: Any) -> str:
    return json.dumps([_canonical(dict(config)), _canonical(budget)], sort_keys=True)


def _params_key(params: Any) -> str | None:
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return None
    if not isinstance(params, Mapping) or BUDGET_KEY not in params:
        return None
    config = {k: v for k, v in params.items() if k not in _RESERVED}
    return _job_key(config, params[BUDGET_KEY])
