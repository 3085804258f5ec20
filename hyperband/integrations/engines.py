"""Importing an integration's engine on first use, with one clear error when it is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from hyperband.core.errors import ConfigurationError

__all__ = ["import_engine"]


def import_engine(module: str, needs: str, extra: str) -> ModuleType:
    """Import ``module``, the engine of the extra ``extra``.

    Args:
        module: the module to import (``"distributed"``, ``"ray"``).
        needs: what needs it, for the message (``"executor='ray' needs ray"``).
        extra: the extra of ``hyperband`` that installs it.

    Returns:
        The module.

    Raises:
        ConfigurationError: it is not installed; the message says what to install.

    Examples:
        >>> import_engine("json", "a test needs json", "none").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(
            f"{needs}, which is not installed ({exc}): pip install 'hyperband[{extra}]'"
        ) from exc
