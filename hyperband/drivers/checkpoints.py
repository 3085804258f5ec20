"""Removing the checkpoint directories of configurations that can no longer be promoted.

``hyperband.run`` gives an objective that takes a context one directory per
configuration, ``<root>/config-<config id>``, shared by all its jobs so a promotion can resume
from the previous rung's checkpoint. Once a configuration can never run again, its directory
is dead weight (a study of a few hundred small models leaves tens of megabytes). Which ones
can run again is read from the machine's public ``snapshot``, so
this module needs nothing private and stays out of the machine.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from collections.abc import Collection, Iterable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

from hyperband.core.asha import bracket_order
from hyperband.core.machine import Hyperband
from hyperband.core.schedule import DEFAULT_MAX_JOBS, Schedule, schedule

__all__ = ["KEEP_CHECKPOINTS", "CheckpointPruner", "promotable"]

#: ``run(keep_checkpoints=...)``: ``"best"`` removes a configuration's directory once it can no
#: longer be promoted, except the best configuration's; ``"all"`` never removes anything.
KEEP_CHECKPOINTS = ("best", "all")

_NAME = re.compile(r"config-(\d+)")


def promotable(state: Mapping[str, Any]) -> set[int]:
    """The configurations a machine (its ``snapshot``) may still run.

    A configuration may run again when it has a job pending (running, or to be retried), or
    when its bracket may still promote it from the rung it succeeded on (see `_synchronous`
    and `_asynchronous`, one per discipline). A configuration whose job failed or was stopped,
    that reached its bracket's last rung, or that its rung can no longer promote, never runs
    again. When unsure, a configuration counts as promotable: its directory is kept.
    """
    alive = {int(job["config_id"]) for job in state["pending"]}
    alive |= _synchronous(state["brackets"])
    if "async" in state:
        alive |= _asynchronous(state)
    return alive


def _synchronous(brackets: Iterable[Mapping[str, Any]]) -> set[int]:
    """Synchronous successive halving: a configuration queued for a rung (a promotion
    decided, not yet handed out), or that succeeded on a rung still open, whose outstanding
    results may yet make it certain to be in the top."""
    alive: set[int] = set()
    for bracket in brackets:
        rungs = bracket["rungs"]
        for i, rung in enumerate(rungs):
            alive.update(int(c) for c in rung["queue"])
            if i + 1 == len(rungs):
                continue  # the last rung promotes nobody
            closed = rung["size"] is not None and rung["resolved"] == rung["size"]
            nxt = rungs[i + 1]
            moved_on = {int(c) for c, _ in nxt["jobs"]} | {int(c) for c in nxt["queue"]}
            promoted = {int(c) for c in rung["promoted"]}
            for cid, _ in rung["ranked"]:  # its successes
                cid = int(cid)
                if cid in moved_on:
                    continue  # the next rung decides
                if cid in promoted or not closed:
                    alive.add(cid)
    return alive


def _asynchronous(state: Mapping[str, Any]) -> set[int]:
    """ASHA: a rung never closes while results may still reach it, and a promotion is made
    only when a job is asked, so nothing is queued: every success not yet promoted may be.

    A rung may still receive results while a job of its bracket is pending on it, or new
    configurations of the bracket are still to start (rung 0), or the rung below may still
    promote (every rung above). Only once no result can reach a rung is it settled, and then
    exactly the promotions `hyperband.core.asha.Asynchronous` will still make from it are
    known: the best successes not yet promoted, one at a time while the best of them ranks in
    the top ``floor(r / eta)`` of the rung's ``r`` results and fewer than that many were
    promoted.
    """
    params = state["params"]
    sched = schedule(
        params["max_budget"],
        params["eta"],
        min_budget=params["min_budget"],
        sizing=params["sizing"],
        integer_budgets=params.get("integer_budgets", False),
        max_jobs=params.get("max_jobs", DEFAULT_MAX_JOBS),
    )
    eta = Fraction(sched.eta)
    sign = -1.0 if params["mode"] == "maximize" else 1.0
    starting = _starting(state, sched)
    pending = {(int(j["bracket"]), int(j["rung"])) for j in state["pending"]}
    alive: set[int] = set()
    for bracket in state["async"]["brackets"]:
        s = int(bracket["s"])
        rungs = bracket["rungs"]
        fed = s in starting  # whether results may still reach the rung, going up
        for i, rung in enumerate(rungs[:-1]):  # the last rung promotes nobody
            fed = fed or (s, i) in pending
            promoted = {int(c) for c in rung["promoted"]}
            ranked = sorted((sign * float(v), int(c)) for c, v in rung["ranked"])
            if fed:
                will = [cid for _, cid in ranked if cid not in promoted]
            else:
                r = len(ranked) + len(rung["stopped"])
                top = min(len(ranked), math.floor(Fraction(r) / eta))
                room = max(0, top - len(promoted))
                will = [cid for _, cid in ranked[:top] if cid not in promoted][:room]
            alive.update(will)
            fed = fed or bool(will)  # a promotion from rung i is a result to come on i + 1
    return alive


def _starting(state: Mapping[str, Any], sched: Schedule) -> set[int]:
    """The brackets ASHA will still start a new configuration in."""
    order = bracket_order(sched)
    first = int(state["async"]["next_new"])
    iterations = state["params"]["iterations"]
    if iterations is None:
        return set(order)
    last = min(int(iterations) * len(order), first + len(order))
    return {order[k % len(order)] for k in range(first, last)}


class CheckpointPruner:
    """Removes dead ``config-<id>`` directories under ``root`` as a run goes.

    Only directories named ``config-<int>`` are touched, never anything else in ``root``.
    The check costs a snapshot, so it runs after a result only every ``1/16`` of the
    configurations the machine holds: its cost stays a small multiple of the run's own.
    """

    def __init__(self, root: str | os.PathLike[str], keep: str = "best") -> None:
        self.root = Path(root)
        self.keep = keep
        self._since = 0
        self._every = 1

    def after_result(self, hb: Hyperband, busy: Collection[int] = ()) -> None:
        """Called after each result; prunes when enough results came since the last time."""
        self._since += 1
        if self._since >= self._every:
            self.prune(hb, busy)

    def prune(self, hb: Hyperband, busy: Collection[int] = ()) -> list[int]:
        """Remove the directories of configurations ``hb`` will never run again.

        Args:
            hb: the machine.
            busy: configurations whose directory a worker may still be writing to (a job
                that timed out but whose thread could not be stopped): kept for now.

        Returns:
            The configuration ids whose directory was removed.
        """
        self._since = 0
        if self.keep == "all":
            return []
        state = hb.snapshot()
        keep = promotable(state) | set(busy)
        if hb.best is not None:
            keep.add(hb.best.config_id)
        self._every = max(1, sum(len(b["configs"]) for b in state["brackets"]) // 16)
        try:
            entries = list(os.scandir(self.root))
        except OSError:  # not created yet, or on another machine (a dask cluster)
            return []
        removed = []
        for entry in entries:
            match = _NAME.fullmatch(entry.name)
            if match is None or not entry.is_dir(follow_symlinks=False):
                continue
            cid = int(match.group(1))
            if cid not in keep:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(cid)
        return sorted(removed)
