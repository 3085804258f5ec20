"""The advisor's checkpoint in NNI's checkpoint directory, for ``nnictl resume``.

One JSON file, replaced atomically: the machine's snapshot plus the advisor's record of the
PERIODICAL metrics and of the jobs the stopping rule stopped.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Final

from hyperband.core.errors import HyperbandError
from hyperband.core.machine import Hyperband

_logger = logging.getLogger("hyperband.integrations.nni")

CHECKPOINT_FILE: Final = "hyperband_advisor.json"
CHECKPOINT_FORMAT: Final = "hyperband.nni-advisor"
CHECKPOINT_VERSION: Final = 1


def _write_checkpoint(directory: str, hb: Hyperband, advisor_state: dict[str, Any]) -> None:
    """Write the checkpoint into ``directory``, atomically (a crash leaves the previous one)."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "machine": hb.snapshot(),
        **advisor_state,
    }
    target = os.path.join(directory, CHECKPOINT_FILE)
    tmp = target + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f)
    os.replace(tmp, target)


def _load_checkpoint(directory: str | None) -> tuple[str, Hyperband, dict[str, Any]] | None:
    """The checkpoint's file, machine and state; None (logged) when there is none to use."""
    target = None if directory is None else os.path.join(directory, CHECKPOINT_FILE)
    if target is None or not os.path.exists(target):
        _logger.info("HyperbandAdvisor: resuming without a checkpoint")
        return None
    try:
        hb, state = _read_checkpoint(target)
    except (OSError, ValueError, KeyError, TypeError, HyperbandError) as exc:
        _logger.error("HyperbandAdvisor: checkpoint %s unusable, starting afresh: %s", target, exc)
        return None
    return target, hb, state


def _read_checkpoint(target: str) -> tuple[Hyperband, dict[str, Any]]:
    """The restored machine and the checkpoint's state.

    Raises:
        OSError, ValueError, KeyError, TypeError, HyperbandError: the checkpoint is unusable.
    """
    with open(target, encoding="utf-8") as f:
        state = json.load(f)
    if (state.get("format"), state.get("version")) != (
        CHECKPOINT_FORMAT,
        CHECKPOINT_VERSION,
    ):
        raise ValueError(
            f"unknown checkpoint format {state.get('format')!r} version {state.get('version')!r}"
        )
    return Hyperband.restore(state["machine"]), state
