"""Removing the checkpoint directories of configurations that can no longer be promoted.

``hyperband.run`` gives an objective that takes a context one directory per
configuration, ``<root>/config-<config id>``, shared by all its jobs so a promotion can resume
from the previous rung's checkpoint. Once a configuration can never run again, its directory
is dead weight (a study of a few hundred small models leaves tens of megabytes). Which ones
can run again is read from the machine's public ``snapshot``, so
this module needs nothing private and stays out of the machine.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from hyperband.core.machine import Hyperband

__all__ = ["KEEP_CHECKPOINTS", "CheckpointPruner", "promotable"]

#: ``run(keep_checkpoints=...)``: ``"best"`` removes a configuration's directory once it can no
#: longer be promoted, except the best configuration's; ``"all"`` never removes anything.
KEEP_CHECKPOINTS = ("best", "all")

_NAME = re.compile(r"config-(\d+)")


def promotable(state: Mapping[str, Any]) -> set[int]:
    """The configurations a machine (its ``snapshot``) may still run.

    A configuration may run again when it has a job pending (running, or to be retried), is
    queued for a rung (a promotion decided, not yet handed out), or succeeded on a rung that
    is still open: more results may yet promote it. A configuration whose bracket finished,
    whose job failed, that reached its bracket's last rung, or that a closed rung did not
    promote, never runs again. When unsure, a configuration counts as promotable: its
    directory is kept.
    """
    alive = {int(job["config_id"]) for job in state["pending"]}
    for bracket in state["brackets"]:
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
