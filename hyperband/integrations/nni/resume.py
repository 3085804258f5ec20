"""Resuming a study: ``nnictl resume`` and ``experiment.import_data``.

NNI imports an earlier run's results (``ImportData``) and resumes its running trials
(``AddCustomizedTrialJob``). With a checkpoint, the resumed trials are the machine's pending
jobs, and the pending jobs NNI did not resume are sent again. Without one, their parameter ids
mean nothing to this machine, but their results can still serve the jobs with the same
configuration and budget.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Container, Mapping
from typing import Any

from hyperband.core.jobs import Job
from hyperband.core.machine import Hyperband
from hyperband.integrations.nni.messages import (
    _decode_metric,
    _default_number,
    _job_key,
    _params_key,
)
from hyperband.integrations.nni.trials import _GRACE_PINGS

_logger = logging.getLogger("hyperband.integrations.nni")


class _Resume:
    """The earlier results by configuration and budget, the earlier run's live forms, and the
    jobs to send again."""

    __slots__ = (
        "cache",
        "foreign",
        "foreign_grace",
        "foreign_live",
        "resend",
        "restored",
        "resumed",
    )

    def __init__(self) -> None:
        # Results known without running a trial (nnictl resume, experiment.import_data), by
        # configuration and budget; a job that asks for one is told at once.
        self.cache: dict[str, list[Any]] = {}
        self.foreign: dict[int, dict[str, Any]] = {}  # parameter ids of an earlier run
        # Forms of an earlier run that NNI resumed without a checkpoint here. Their ids may be
        # those of this machine's new jobs, so no job is sent until all of their trials ended:
        # until then a metric with such an id can only come from the earlier run.
        self.foreign_live: set[int] = set()
        self.foreign_grace: dict[str, list[int]] = {}  # ended trial -> [its form's id, pings]
        self.resend: deque[int] = deque()
        self.resumed: set[int] | None = None  # set while resuming, until the first request
        self.restored = False  # a checkpoint restored the machine

    def add(self, data: list[Any]) -> int:
        """Keep the usable entries of NNI's import data; return how many."""
        used = 0
        for entry in data:
            if not isinstance(entry, Mapping):
                continue
            params = entry.get("parameter")
            try:
                value = _decode_metric(entry.get("value"))
                _default_number(value)
            except ValueError as exc:
                _logger.warning("HyperbandAdvisor: import entry skipped: %s", exc)
                continue
            key = _params_key(params)
            if key is None:
                continue
            self.cache.setdefault(key, []).append(value)
            used += 1
        return used

    def take(self, config: Mapping[str, Any], budget: Any) -> Any:
        """The first earlier result of ``config`` at ``budget`` (now used up), or ``None``."""
        key = _job_key(config, budget)
        values = self.cache.get(key)
        if not values:
            return None
        value = values.pop(0)
        if not values:
            del self.cache[key]
        return value

    def add_foreign(self, pid: int, params: dict[str, Any]) -> None:
        """An earlier run's form that NNI resumed: its trial may still report."""
        self.foreign[pid] = params
        self.foreign_live.add(pid)

    def foreign_result(self, trial: Any, pid: int, kind: Any, raw: Any) -> None:
        """A metric of an earlier run's form: its FINAL serves the identical job."""
        if kind != "FINAL":
            return
        key = _params_key(self.foreign.pop(pid))
        try:
            value = _decode_metric(raw)
            _default_number(value)
        except ValueError as exc:
            _logger.error("HyperbandAdvisor: trial %s: bad FINAL metric ignored: %s", trial, exc)
            return
        if key is not None:  # for the machine's identical job, unless it already runs
            self.cache.setdefault(key, []).append(value)

    def foreign_ended(self, trial: str, pid: int) -> bool:
        """A trial of form ``pid`` ended: True when it was a live form of the earlier run."""
        if pid not in self.foreign_live:
            return False
        self.foreign_grace[trial] = [pid, 0]
        return True

    def expire(self) -> bool:
        """Age the earlier run's trial ends by one ping; True once all of them ended."""
        for trial, entry in list(self.foreign_grace.items()):
            entry[1] += 1
            if entry[1] >= _GRACE_PINGS:
                del self.foreign_grace[trial]
                self.foreign_live.discard(entry[0])
        return not self.foreign_live

    def answer(self, hb: Hyperband, job: Job) -> bool:
        """Tell ``job`` its earlier result, if there is one; return whether there was."""
        value = self.take(job.config, job.budget)
        if value is None:
            return False
        hb.tell(job.id, value)
        _logger.debug("HyperbandAdvisor: job %d told %r from earlier results", job.id, value)
        return True

    def feed_pending(self, hb: Hyperband, open_jobs: dict[int, Job]) -> int:
        """Tell the pending jobs whose results arrived by import; return how many."""
        fed = 0
        if not self.cache:
            return fed
        for job in hb.pending:
            value = self.take(job.config, job.budget)
            if value is not None:
                hb.tell(job.id, value)
                open_jobs.pop(job.id, None)
                fed += 1
        return fed

    def resume_forms(self, data: Any, sent: Container[int], open_jobs: Container[int]) -> int:
        """Note the forms NNI resumed; return how many of them are this machine's."""
        entries = data if isinstance(data, list) else [data]
        if self.resumed is None:
            self.resumed = set()
        ours = 0
        for entry in entries:
            if isinstance(entry, str):
                try:
                    entry = json.loads(entry)
                except ValueError:
                    continue
            if not isinstance(entry, Mapping):
                continue
            pid = entry.get("parameter_id")
            params = entry.get("parameters")
            if type(pid) is not int:
                continue
            if self.restored and pid in sent:
                # Its trial will end like any other (it counts, see _Trials.lost) even when an
                # imported result already told its job.
                ours += 1
                if pid in open_jobs:
                    self.resumed.add(pid)
            elif isinstance(params, dict):
                # Without a checkpoint these ids mean nothing to this machine; their results
                # can still be used by configuration (see HyperbandAdvisor.handle_import_data).
                self.add_foreign(pid, params)
        return ours

    def plan_resend(self, hb: Hyperband | None) -> None:
        """On the first request after a resume: send again the jobs NNI did not resume."""
        resumed = self.resumed or set()
        self.resumed = None
        if not self.restored or hb is None:
            return
        for job in hb.pending:
            if job.id not in resumed:
                self.resend.append(job.id)
        if self.resend:
            _logger.info(
                "HyperbandAdvisor: sending again %d job(s) whose trials NNI lost: %s",
                len(self.resend),
                list(self.resend),
            )
