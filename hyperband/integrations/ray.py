"""Ray: run studies on a Ray cluster (the ``ray`` extra).

``hyperband.run`` drives Ray in two ways:

- ``executor=RayExecutor(address)``: a connection to a running cluster (``ray start``), or
  to the one Ray is already connected to in this process. The run borrows it and leaves it
  open. ``workers`` defaults to the cluster's CPUs divided by the CPUs a job asks for.
- ``executor="ray"``: the cluster ``RAY_ADDRESS`` names when that is set (Ray's own
  convention), else a new local Ray instance of ``workers`` CPUs that the run starts and
  stops. When Ray is already initialized in this process, the run uses that connection.

The machine stays in the driver process: each job is one Ray task that runs the objective
with one configuration and one budget (Ray pickles both with cloudpickle), and only its result
comes back. ``context.report`` works from the workers the way it does from dask's: the task
connects back to the run's report server, on the address by which Ray knows the driver's node.

Faults:

- A worker process that dies mid-job (killed, out of memory, its node gone) fails that job
  only, with Ray's ``WorkerCrashedError`` (or ``NodeDiedError``): Ray's ``max_retries`` is 0
  by default, so the job does not run again behind hyperband's back. ``run(retries=N)`` runs
  it again as a new attempt (a reporting objective then catches up from its last report); or
  pass ``task_options={"max_retries": 1}`` to let Ray re-run it transparently.
- A timed-out job (``run(timeout=...)``) is cancelled with ``ray.cancel(force=True)``, which
  kills the worker process running it: its CPU is free again at once.

Checkpoints: an objective that takes a context gets a checkpoint directory under the journal's
folder on the driver. Every node that runs jobs must see that path (a shared file system); the
run checks it before the first job, on every node, and refuses to start otherwise.

This module imports ``ray`` only inside its functions, so ``import hyperband`` stays fast.

Examples:
    >>> import concurrent.futures
    >>> from hyperband.integrations.ray import RayExecutor
    >>> issubclass(RayExecutor, concurrent.futures.Executor)  # no Ray needed to ask
    True
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.integrations.engines import import_engine

__all__ = [
    "RayBackend",
    "RayExecutor",
    "check_directory",
    "client_backend",
    "is_client",
    "local_backend",
    "require",
]

logger = logging.getLogger("hyperband")

# What every job asks of Ray unless task_options says otherwise: one CPU (a job per CPU, as
# with executor="processes"), and no transparent re-run of a job whose worker died.
_TASK_DEFAULTS: dict[str, Any] = {"num_cpus": 1, "max_retries": 0}

# Seconds the directory check waits for every node to answer.
_CHECK_TIMEOUT = 60.0


def require() -> Any:
    """The ``ray`` module, imported now; without it, a ``ConfigurationError`` naming the extra.

    Examples:
        >>> require().__name__
        'ray'
    """
    return import_engine("ray", "executor='ray' needs ray", "ray")


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """The Ray task behind every job: one remote function serves them all."""
    return fn(*args)


def _sees(path: str, token: str) -> bool:
    """On a node: whether ``path`` holds ``token``, i.e. is the driver's file."""
    try:
        return Path(path).read_text() == token
    except OSError:
        return False


def _options(name: str, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ArgumentTypeError(
            f"{name} must be a mapping of option names to values or None, got {describe(value)}"
        )
    return dict(value)


class RayExecutor(concurrent.futures.Executor):
    """A ``concurrent.futures`` executor whose ``submit`` runs each call as a Ray task.

    Pass it to ``hyperband.run(executor=...)``; it works as a plain executor too.

    Args:
        address: the cluster to connect to (``"10.0.0.5:6379"``, ``"auto"``, ``"local"``, a
            ``ray://`` client address), as for ``ray.init``. ``None``: Ray's default (the
            ``RAY_ADDRESS`` environment variable, the latest ``ray start`` cluster on this
            machine, else a new local instance); and when Ray is already initialized in this
            process, that connection, left open by ``shutdown``.
        task_options: options of every task (``ray.remote`` options: ``num_cpus``,
            ``num_gpus``, ``resources``, ``runtime_env``, ``max_retries``, ...), over the
            defaults ``{"num_cpus": 1, "max_retries": 0}``.
        init_options: more keyword arguments for ``ray.init`` (``num_cpus`` of a local
            instance, ``runtime_env``, ...); only when this executor connects.

    Raises:
        ConfigurationError: ``ray`` is not installed, Ray rejects an option, or Ray is
            already initialized in this process and ``address`` or ``init_options`` is given.
        ArgumentTypeError: an argument of the wrong type.

    Examples:
        >>> executor = RayExecutor("10.0.0.5:6379")  # doctest: +SKIP
        >>> executor.submit(sum, [1, 2]).result()  # doctest: +SKIP
        3
        >>> result = hyperband.run(f, space, max_budget=81, executor=executor)  # doctest: +SKIP
        >>> executor.shutdown()  # doctest: +SKIP
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        task_options: Mapping[str, Any] | None = None,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise ArgumentTypeError(
                f"address must be a Ray cluster address (str) or None, got {describe(address)}"
            )
        tasks = {**_TASK_DEFAULTS, **_options("task_options", task_options)}
        init = _options("init_options", init_options)
        ray = require()
        try:
            remote = ray.remote(_call).options(**tasks)
            probe = ray.remote(_sees)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"task_options: Ray rejects {tasks!r}: {exc}") from exc
        self.owned = not ray.is_initialized()
        if not self.owned and (address is not None or init):
            raise ConfigurationError(
                "address: Ray is already initialized in this process (connected to "
                f"{ray.get_runtime_context().gcs_address!r}), got address={address!r} and "
                f"init_options={init!r}: pass neither to use that connection, or call "
                "ray.shutdown() first"
            )
        if self.owned:
            try:
                ray.init(address=address, **init)
            except (ConnectionError, ValueError, TypeError, RuntimeError) as exc:
                raise ConfigurationError(
                    f"address: cannot start or reach the Ray cluster at {address!r} with "
                    f"init_options={init!r}: {type(exc).__name__}: {exc}"
                ) from exc
        self.task_options = tasks
        self._ray = ray
        self._remote = remote
        self._probe = probe
        self._lock = threading.Lock()
        # Our future -> its Ray object ref, while the task is out (to cancel it).
        self._refs: dict[concurrent.futures.Future[Any], Any] = {}
        self.closed = False

    @property
    def address(self) -> str:
        """The cluster's GCS address, ``host:port``."""
        return str(self._ray.get_runtime_context().gcs_address)

    def node_ip(self) -> str:
        """The address by which the cluster knows this process's node."""
        return str(self._ray.util.get_node_ip_address())

    def capacity(self) -> int:
        """How many jobs the cluster runs at once: its CPUs over a job's (at least 1)."""
        cpus = float(self._ray.cluster_resources().get("CPU", 0))
        per_job = float(self.task_options.get("num_cpus") or 0)
        return max(1, int(cpus // per_job)) if per_job > 0 else max(1, int(cpus))

    def submit(  # type: ignore[override]
        self, fn: Callable[..., Any], /, *args: Any
    ) -> concurrent.futures.Future[Any]:
        """Run ``fn(*args)`` as a Ray task.

        Raises:
            RuntimeError: the executor was shut down.
            ArgumentTypeError: the task does not pickle (the objective holds a lock, ...).
        """
        if self.closed:
            raise RuntimeError("cannot submit to a RayExecutor that was shut down")
        try:
            ref = self._remote.remote(fn, *args)
        except TypeError as exc:  # Ray's word for "could not serialize"
            raise ArgumentTypeError(
                "objective: a job must pickle (with cloudpickle) to go to the Ray workers, "
                f"got {describe(fn)} with {len(args)} arguments, which does not: {exc}"
            ) from exc
        future: concurrent.futures.Future[Any] = ref.future()
        with self._lock:
            self._refs[future] = ref
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._refs.pop(future, None)

    def cancel(self, future: concurrent.futures.Future[Any]) -> None:
        """Cancel the task behind ``future``, killing the worker process if it runs."""
        with self._lock:
            ref = self._refs.get(future)
        if ref is not None:
            self._ray.cancel(ref, force=True)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking jobs; cancel or wait for those out; disconnect if this executor
        connected (``ray.shutdown``, which stops a local instance it started)."""
        self.closed = True
        with self._lock:
            futures = list(self._refs)
        if cancel_futures:
            self.cancel_all()
        elif wait:
            concurrent.futures.wait(futures)
        if self.owned:
            self.owned = False
            self._ray.shutdown()

    def nodes(self) -> list[tuple[str, str]]:
        """``(node id, address)`` of the alive nodes that can run a job."""
        need = float(self.task_options.get("num_cpus") or 0)
        return [
            (str(n["NodeID"]), str(n["NodeManagerAddress"]))
            for n in self._ray.nodes()
            if n.get("Alive") and float(n.get("Resources", {}).get("CPU", 0)) >= need
        ]

    def blind(self, path: str, token: str) -> tuple[list[str], int]:
        """The nodes that can run a job but do not read ``token`` in ``path``, and how many
        nodes were asked: a task pinned to each node reads the file there."""
        strategies = importlib.import_module("ray.util.scheduling_strategies")
        nodes = self.nodes()
        refs = [
            self._probe.options(
                num_cpus=0,  # runs beside the jobs, never waits for one
                max_retries=0,
                scheduling_strategy=strategies.NodeAffinitySchedulingStrategy(node, soft=False),
            ).remote(path, token)
            for node, _ in nodes
        ]
        done: set[Any] = set()
        if refs:
            ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=_CHECK_TIMEOUT)
            done = set(ready)
        out = []
        for (node, address), ref in zip(nodes, refs, strict=True):
            try:
                seen = ref in done and bool(self._ray.get(ref))
            except Exception:  # the probe's worker died, the node left: not seen
                seen = False
            if not seen:
                out.append(f"{address} (node {node[:12]})")
        return out, len(nodes)

    def cancel_all(self) -> None:
        """Cancel every task still out, killing the worker processes that run them."""
        with self._lock:
            futures = list(self._refs)
        for future in futures:
            self.cancel(future)


def check_directory(executor: RayExecutor, root: str | os.PathLike[str]) -> None:
    """Check that every node that can run a job sees ``root``, the checkpoint directory.

    Writes a file of random content under ``root`` on the driver, asks a task pinned to each
    node whether it reads the same content there, and removes the file.

    Args:
        executor: the connection to the cluster.
        root: the run's checkpoint directory (created if missing).

    Raises:
        ConfigurationError: a node does not see it (the message names the nodes).

    Examples:
        >>> check_directory(RayExecutor(), "study.checkpoints")  # doctest: +SKIP
    """
    folder = Path(root).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    marker = folder / f".hyperband-visible-{token}"
    marker.write_text(token)
    try:
        blind, asked = executor.blind(str(marker), token)
    finally:
        marker.unlink(missing_ok=True)
    if blind:
        raise ConfigurationError(
            f"journal: the checkpoint directory {str(folder)!r} must be visible to every Ray "
            f"node that runs jobs (an objective that takes a context keeps its checkpoints "
            f"there), but {len(blind)} of {asked} do not see it: {', '.join(blind)}; put "
            "the journal (the directory sits beside it) on a file system every node mounts at "
            "the same path"
        )


def is_client(obj: object) -> bool:
    """True when ``obj`` is a ``RayExecutor``.

    Examples:
        >>> is_client(object())
        False
    """
    return isinstance(obj, RayExecutor)


class RayBackend:
    """The runner's backend on a ``RayExecutor`` (see ``hyperband.drivers.executors.Backend``).

    Args:
        executor: the connection to the cluster.
        capacity: how many jobs the runner keeps in flight.
        owned: whether the run created ``executor`` (and so shuts it down at the end).

    Examples:
        >>> backend = RayBackend(RayExecutor(), capacity=2, owned=True)  # doctest: +SKIP
        >>> backend.submit(sum, [1, 2]).result()  # doctest: +SKIP
        3
    """

    kind = "external"

    def __init__(self, executor: RayExecutor, capacity: int, *, owned: bool) -> None:
        self.executor = executor
        self.capacity = capacity
        self.owned = owned
        # Where workers connect back to for context.report: this node, as Ray knows it.
        self.report_host = executor.node_ip()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> concurrent.futures.Future[Any]:
        """Submit ``fn(*args)`` as a Ray task."""
        return self.executor.submit(fn, *args)

    def stop(self, future: concurrent.futures.Future[Any]) -> bool:
        """Stop a timed-out job by killing its worker; its slot frees once Ray says so."""
        self.executor.cancel(future)
        return future.done()

    def check_directory(self, root: str | os.PathLike[str]) -> None:
        """See ``check_directory``."""
        check_directory(self.executor, root)

    def shutdown(self, *, cancel: bool) -> None:
        """Cancel the tasks still out (with ``cancel``); close the executor if the run owns it."""
        if self.owned:
            self.executor.shutdown(wait=not cancel, cancel_futures=cancel)
        elif cancel:
            self.executor.cancel_all()


def client_backend(executor: RayExecutor, workers: int | None) -> RayBackend:
    """The backend for ``run(executor=RayExecutor(...))``: borrows it and leaves it open.

    Args:
        executor: the user's ``RayExecutor``.
        workers: jobs in flight; ``None``: the cluster's capacity now.

    Returns:
        A ``RayBackend`` the run does not own.

    Raises:
        ConfigurationError: the executor was shut down.

    Examples:
        >>> backend = client_backend(RayExecutor(), workers=None)  # doctest: +SKIP
    """
    if executor.closed:
        raise ConfigurationError(
            f"executor: the RayExecutor was shut down, got {describe(executor)}"
        )
    return RayBackend(executor, workers or executor.capacity(), owned=False)


def local_backend(workers: int) -> RayBackend:
    """The backend for ``run(executor="ray")``, which the run owns.

    Args:
        workers: jobs in flight, and the CPUs of the local instance when one is started.

    Returns:
        A ``RayBackend`` on the cluster ``RAY_ADDRESS`` names, else on a new local instance
        (``ray.init(address="local", num_cpus=workers)``); on the connection this process
        already has, when Ray is initialized (left open).

    Raises:
        ConfigurationError: ``ray`` is not installed, or the cluster cannot be reached.

    Examples:
        >>> backend = local_backend(2)  # doctest: +SKIP
    """
    ray = require()
    if ray.is_initialized():
        executor = RayExecutor()
    elif os.environ.get("RAY_ADDRESS"):
        executor = RayExecutor(os.environ["RAY_ADDRESS"])
    else:
        executor = RayExecutor("local", init_options={"num_cpus": workers})
    logger.info("Ray cluster at %s, %d jobs at a time", executor.address, workers)
    return RayBackend(executor, workers, owned=True)
