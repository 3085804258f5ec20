"""The samplers layer: where configurations come from.

The protocol (``Sampler``, ``ModelSampler``) and ``RandomSampler`` live in the core, which the
machine needs; the model-based samplers live here. ``KDESampler`` is imported on first use, so
importing this package stays as cheap as the core.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hyperband.core.sampling import ModelSampler, RandomSampler, Sampler

if TYPE_CHECKING:
    from hyperband.samplers.kde import KDESampler

__all__ = ["KDESampler", "ModelSampler", "RandomSampler", "Sampler"]


def __getattr__(name: str) -> Any:
    if name == "KDESampler":
        return importlib.import_module("hyperband.samplers.kde").KDESampler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
