"""Plugs: the modules above the drivers that the drivers call into, by name only.

The drivers import nothing from the report or integrations layers (import-linter enforces the
layers). Three features still reach up at run time: ``executor="dask"`` (and a dask ``Client``
passed as the executor), served by ``hyperband.integrations.dask``, ``executor="ray"`` (and a
``RayExecutor``), served by ``hyperband.integrations.ray``, and
``SimulationResult.plot_timeline``, drawn by ``hyperband.report.plots``. Like
``hyperband.core.sampling.SAMPLERS`` for ``"kde"`` and ``"optuna"``, they are named here and
imported with importlib on first use: the drivers know a plug's name and the functions it
offers, not its code, and a study that does not use one never imports it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import attrs

__all__ = ["EXECUTOR_PLUGS", "PLOTS", "ExecutorPlug", "load"]


@attrs.frozen
class ExecutorPlug:
    """An executor served by a module of a layer above the drivers.

    The module offers ``require()`` (raises ``ConfigurationError`` when its engine is not
    installed), ``local_backend(workers)`` (the backend for the executor's name, which the run
    owns), ``is_client(obj)`` and ``client_backend(obj, workers)`` (a backend borrowing the
    user's object); the dask plug also offers ``connect(address)`` and
    ``close_client(client)``, which the command line's ``--scheduler`` uses.

    Attributes:
        module: the module, imported on first use.
        engine: the module the executor's objects come from. An object can be one only once
            that module is imported, so a run looks it up in ``sys.modules`` instead of
            importing it.
    """

    module: str
    engine: str

    def load(self) -> ModuleType:
        """The plug's module."""
        return load(self.module)


# The executors a run can name besides its own ("serial", "threads", "processes").
EXECUTOR_PLUGS: dict[str, ExecutorPlug] = {
    "dask": ExecutorPlug("hyperband.integrations.dask", "distributed"),
    # A RayExecutor is the plug's own class: it exists once the plug's module is imported.
    "ray": ExecutorPlug("hyperband.integrations.ray", "hyperband.integrations.ray"),
}

# Draws SimulationResult.plot_timeline: offers ``Span`` and ``plot_timeline(spans, *, ax,
# xlabel)``.
PLOTS = "hyperband.report.plots"


def load(module: str) -> ModuleType:
    """Import a plug's module (once; later calls find it in ``sys.modules``)."""
    return importlib.import_module(module)
