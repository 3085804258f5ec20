"""The snapshot format of a machine: its header, and what a snapshot must hold to restore.

`Hyperband.snapshot` writes the machine's counters, jobs and curves; each discipline writes
its brackets (`hyperband.core.discipline.Discipline.dump`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperband.core.errors import HyperbandError, SnapshotError, describe
from hyperband.core.sampling import RandomSampler, Sampler, sampler_from_spec

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "check_state", "sampler_of", "space_of"]

SNAPSHOT_FORMAT = "hyperband.snapshot"
SNAPSHOT_VERSION = 2
# Version 1 snapshots (before model-based samplers and early stopping) load unchanged: they lack
# only what a random sampler without a stopping rule does not need.
_READABLE_VERSIONS = (1, 2)


def check_state(state: object) -> None:
    """Raise `SnapshotError` unless ``state`` is a snapshot of a version this one reads."""
    if not isinstance(state, Mapping) or state.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f"state must be a dict made by Hyperband.snapshot() (format {SNAPSHOT_FORMAT!r})"
            f", got {describe(state)}"
        )
    if state.get("version") not in _READABLE_VERSIONS:
        raise SnapshotError(
            f"state['version'] must be one of {_READABLE_VERSIONS}, got "
            f"{describe(state.get('version'))}"
        )


def sampler_of(state: Mapping[str, Any]) -> Mapping[str, Any] | Sampler:
    """The sampler a snapshot names, or the search space it holds.

    Raises:
        SnapshotError: the snapshot holds neither (its machine had a custom sampler), or a
            malformed sampler spec.
    """
    spec = state.get("sampler")
    if isinstance(spec, Mapping):
        try:
            found: Mapping[str, Any] | Sampler | None = sampler_from_spec(spec)
        except HyperbandError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(
                f"state['sampler'] is malformed: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        found = state.get("space")
    if found is None:
        raise SnapshotError(
            "space_or_sampler is required: the snapshot was made by a machine with a "
            "custom sampler, which a snapshot cannot hold (pass a fresh one: its "
            "observations are replayed into it)"
        )
    return found


def space_of(sampler: object) -> Any:
    """The search space a snapshot holds: a random sampler's, else none."""
    return sampler.space if isinstance(sampler, RandomSampler) else None
