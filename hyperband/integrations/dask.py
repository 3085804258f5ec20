"""dask.distributed convenience: run studies on a dask cluster (the ``dask`` extra).

``hyperband.run`` drives a dask cluster in two ways:

- ``executor=client``: a ``distributed.Client`` you connected (to a scheduler on other
  machines, a ``LocalCluster``, a ``dask-jobqueue`` cluster, ...). The run borrows it and
  leaves it open. ``workers`` defaults to the cluster's thread count when the run starts.
- ``executor="dask"``: the run starts a ``LocalCluster`` of ``workers`` worker processes (one
  thread each), and closes it at the end.

The machine stays in the driver process: only the objective and one job at a time travel to
the workers (dask pickles them with cloudpickle), and only results come back.

Faults:

- A worker that dies mid-job loses nothing: the scheduler runs the task again on another
  worker. A task that was running on ``distributed.scheduler.allowed-failures`` + 1 dying
  workers (default 3 + 1) is given up with ``KilledWorker``: that job fails like any failed
  job, and is retried if the run has ``retries``.
- A lost scheduler (its process died, the network went down) stops the run with
  ``SchedulerLostError``, naming the scheduler. The journal has every result that came
  back; the jobs that were running have none and run again when the study resumes.

This module imports ``distributed`` only inside its functions, so ``hyperband`` (which imports
it to recognise a ``Client``) works without dask installed.

Examples:
    >>> from hyperband.integrations.dask import is_client
    >>> is_client("threads")
    False
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, HyperbandError, describe
from hyperband.integrations.engines import import_engine

__all__ = [
    "DaskBackend",
    "SchedulerConnectError",
    "SchedulerLostError",
    "client_backend",
    "close_client",
    "connect",
    "is_client",
    "local_backend",
    "require",
]

logger = logging.getLogger("hyperband")


class SchedulerLostError(HyperbandError, concurrent.futures.BrokenExecutor):
    """The dask client lost its scheduler: the run stops, to be resumed from its journal.

    A ``BrokenExecutor``, so the runner charges no job for it: the jobs that were running are
    not recorded, and a resumed study runs them again.

    Attributes:
        address: the scheduler's address (``"tcp://10.0.0.5:8786"``).
        status: the client's status when the loss was noticed (``"connecting"`` while dask
            tries to reconnect, ``"closed"`` after it gave up or the client was closed).

    Examples:
        >>> err = SchedulerLostError("tcp://127.0.0.1:8786", "connecting")
        >>> err.address, isinstance(err, concurrent.futures.BrokenExecutor)
        ('tcp://127.0.0.1:8786', True)
    """

    def __init__(self, address: str, status: str) -> None:
        self.address = address
        self.status = status
        super().__init__(
            f"lost the connection to the dask scheduler at {address!r} (client status "
            f"{status!r}): the run stopped; the jobs that were running have no result in the "
            "journal and run again when the study resumes"
        )


class SchedulerConnectError(HyperbandError, ConnectionError):
    """``connect`` could not reach the scheduler.

    Attributes:
        address: the address given.
    """

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        super().__init__(f"scheduler: cannot connect to dask scheduler {address!r}: {reason}")


def require() -> Any:
    """Import and return the ``distributed`` module.

    Returns:
        The ``distributed`` module.

    Raises:
        ConfigurationError: ``distributed`` is not installed (the message says what to install).

    Examples:
        >>> require().__name__
        'distributed'
    """
    return import_engine("distributed", "executor='dask' needs dask.distributed", "dask")


def is_client(obj: object) -> bool:
    """True when ``obj`` is a ``distributed.Client``, without importing ``distributed``.

    An object of that class exists only once ``distributed`` is imported, so looking the
    module up in ``sys.modules`` is enough, and costs nothing when dask is not in use.

    Args:
        obj: anything.

    Returns:
        Whether it is a dask ``Client``.

    Examples:
        >>> is_client(object())
        False
    """
    distributed = sys.modules.get("distributed")
    client_class = getattr(distributed, "Client", None)
    return isinstance(client_class, type) and isinstance(obj, client_class)


def _address(client: Any) -> str:
    try:
        return str(client.scheduler.address)
    except AttributeError:  # a client that never connected has no scheduler
        return "<unknown>"


def report_host(scheduler_address: str) -> str:
    """The address of this machine that the scheduler's side of the network can reach.

    Workers connect back to it to report intermediate values (``run(early_stop=...)``): the
    address of the interface that routes to the scheduler, or 127.0.0.1 for a local one.
    """
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(scheduler_address)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "127.0.0.1"
    if not host or host in ("localhost", "127.0.0.1", "::1") or parts.scheme == "inproc":
        return "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, port or 8786))  # UDP: no packet is sent
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


class DaskBackend:
    """The runner's backend on a dask ``Client`` (see ``hyperband.drivers.executors.Backend``).

    Jobs go through ``client.get_executor(pure=False)``: ``pure=False`` gives every submission
    its own task key. (With dask's default ``pure=True`` the key is a hash of the arguments, so
    a retried job would get the first attempt's failed task back instead of running again.)

    Each submission returns a ``concurrent.futures.Future`` of the backend's own, which relays
    the dask task's outcome, except for a task that dask cancelled because the client lost its
    scheduler: that future fails with ``SchedulerLostError``, which stops the run.

    Args:
        client: a connected, synchronous ``distributed.Client``.
        capacity: how many jobs the runner keeps in flight.
        close: releases what the run created (the client, its cluster); ``None`` for a client
            the run borrows and leaves open.

    Examples:
        >>> import distributed  # doctest: +SKIP
        >>> client = distributed.Client(n_workers=2)  # doctest: +SKIP
        >>> backend = DaskBackend(client, capacity=2)  # doctest: +SKIP
        >>> backend.submit(sum, [1, 2]).result()  # doctest: +SKIP
        3
    """

    # The runner treats a BrokenExecutor from an "external" backend as "the executor broke, no
    # job is charged"; for a backend that is not an ExternalBackend it then stops the run with
    # that error (it cannot replace a cluster), which is what a lost scheduler needs.
    kind = "external"

    def __init__(
        self, client: Any, capacity: int, *, close: Callable[[], object] | None = None
    ) -> None:
        self.client = client
        self.capacity = capacity
        self.address = _address(client)
        self.report_host = report_host(self.address)
        self.owned = close is not None
        self._close = close
        self._executor = client.get_executor(pure=False)
        self._lock = threading.Lock()
        # Our future -> dask's concurrent.futures wrapper, while the task is out.
        self._tasks: dict[concurrent.futures.Future[Any], concurrent.futures.Future[Any]] = {}

    def _check(self) -> None:
        status = str(self.client.status)
        if status != "running":
            raise SchedulerLostError(self.address, status)

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> concurrent.futures.Future[Any]:
        """Submit ``fn(*args)`` as a dask task.

        Raises:
            SchedulerLostError: the client is no longer connected to its scheduler.
            ArgumentTypeError: the task does not pickle (the objective holds a lock, ...).
        """
        self._check()
        outer: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            inner = self._executor.submit(fn, *args)
        except Exception as exc:
            self._check()  # the client closed meanwhile
            _check_pickles(fn, args, exc)
            raise
        with self._lock:
            self._tasks[outer] = inner
        # Called in the client's event loop thread (or here, if the task is already done).
        inner.add_done_callback(lambda done: self._relay(done, outer))
        return outer

    def _relay(
        self, inner: concurrent.futures.Future[Any], outer: concurrent.futures.Future[Any]
    ) -> None:
        with self._lock:
            self._tasks.pop(outer, None)
        if outer.done():
            return
        if inner.cancelled():
            status = str(self.client.status)
            if status != "running":
                # Dask cancels every task of a client that lost its scheduler (it sets the
                # status first): not the job's fault, the run cannot go on.
                outer.set_exception(SchedulerLostError(self.address, status))
            else:
                outer.set_exception(
                    concurrent.futures.CancelledError(
                        "the dask task was cancelled outside hyperband (client.cancel?)"
                    )
                )
            return
        exc = inner.exception()
        if exc is not None:
            # KilledWorker (the task outlived allowed-failures workers), a deserialisation
            # error on the worker, ...: the runner fails (or retries) the job.
            outer.set_exception(exc)
        else:
            outer.set_result(inner.result())

    def stop(self, future: concurrent.futures.Future[Any]) -> bool:
        """Abandon a timed-out job; False while its task still runs (its slot is not free).

        Dask cannot interrupt a running task, and cancelling it would only hide that its
        worker thread is still busy: the runner would hand out a job that then waits behind
        it, its timeout running. So the task runs to its end, keeping its slot, and the
        runner drops its result.
        """
        return future.done()

    def shutdown(self, *, cancel: bool) -> None:
        """Cancel the tasks still out (with ``cancel``), then close what the run created."""
        if cancel:
            with self._lock:
                inners = list(self._tasks.values())
            for inner in inners:
                inner.cancel()
        if self._close is not None:
            self._close()


def _check_pickles(fn: Callable[..., Any], args: tuple[Any, ...], exc: Exception) -> None:
    """Raise a clear error if ``submit`` failed because the task does not pickle."""
    cloudpickle = importlib.import_module("cloudpickle")  # a dependency of distributed
    for what in (fn, *args):
        try:
            cloudpickle.dumps(what)
        except Exception as err:
            raise ArgumentTypeError(
                "objective: a job must pickle (with cloudpickle) to go to the dask workers, "
                f"got {describe(what)}, which does not: {type(err).__name__}: {err}"
            ) from exc


def client_backend(client: Any, workers: int | None) -> DaskBackend:
    """The backend for ``run(executor=client)``: borrows ``client`` and leaves it open.

    Args:
        client: a connected, synchronous ``distributed.Client``.
        workers: jobs in flight; ``None``: the cluster's thread count now (at least 1).

    Returns:
        A ``DaskBackend`` the run does not own.

    Raises:
        ConfigurationError: the client is asynchronous or not connected.

    Examples:
        >>> backend = client_backend(client, workers=None)  # doctest: +SKIP
    """
    if getattr(client, "asynchronous", False):
        raise ConfigurationError(
            "executor: run() needs a synchronous dask Client (it blocks while it waits for "
            f"results), got {describe(client)} with asynchronous=True"
        )
    status = str(client.status)
    if status != "running":
        raise ConfigurationError(
            f"executor: the dask Client must be connected (status 'running'), got status "
            f"{status!r} for scheduler {_address(client)!r}"
        )
    if workers is None:
        # Workers that join later do not raise the number in flight: pass workers= for a
        # cluster that is still scaling up.
        workers = max(1, sum(client.nthreads().values()))
    return DaskBackend(client, workers)


def local_backend(workers: int) -> DaskBackend:
    """The backend for ``run(executor="dask")``: a ``LocalCluster`` the run owns.

    The cluster has ``workers`` worker processes of one thread each (a job at a time per
    process, as with ``executor="processes"``), its dashboard on a free port (logged), and is
    closed at the end.

    Args:
        workers: the number of worker processes (and of jobs in flight).

    Returns:
        A ``DaskBackend`` the run owns.

    Raises:
        ConfigurationError: ``distributed`` is not installed.

    Examples:
        >>> backend = local_backend(2)  # doctest: +SKIP
    """
    distributed = require()
    # ":0": the scheduler's HTTP server (the dashboard, when bokeh is installed) on a free
    # port; dask's default 8787 would clash with any other cluster on this machine.
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    try:
        client = distributed.Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise
    logger.info(
        "dask LocalCluster of %d worker processes at %s (dashboard %s)",
        workers,
        cluster.scheduler_address,
        cluster.dashboard_link,
    )

    def close() -> None:
        try:
            close_client(client)
        finally:
            cluster.close()

    return DaskBackend(client, workers, close=close)


def close_client(client: Any) -> None:
    """Close a ``distributed.Client``, quietly when it has lost its scheduler.

    Closing a client that is still trying to reconnect cancels that attempt, and dask logs the
    cancellation as an error with a traceback: noise after ``SchedulerLostError`` has
    said what happened, so that one logger is muted while the client closes.

    Args:
        client: the client.

    Examples:
        >>> close_client(client)  # doctest: +SKIP
    """
    if str(client.status) == "running":
        client.close()
        return
    log = logging.getLogger("distributed.client")
    disabled, log.disabled = log.disabled, True
    try:
        client.close()
    finally:
        log.disabled = disabled


def connect(address: str, *, timeout: float | None = None) -> Any:
    """Connect a ``distributed.Client`` to a running scheduler (what ``--scheduler`` does).

    Args:
        address: the scheduler's address, e.g. ``"tcp://10.0.0.5:8786"``.
        timeout: seconds to keep trying; ``None``: dask's ``distributed.comm.timeouts.connect``
            (30 s unless configured, e.g. ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s``).

    Returns:
        The connected client (not made dask's default client). Close it when done
        (``close_client``).

    Raises:
        ConfigurationError: ``distributed`` is not installed.
        SchedulerConnectError: nothing answered at ``address`` in time, or it is malformed.

    Examples:
        >>> client = connect("tcp://127.0.0.1:8786")  # doctest: +SKIP
        >>> result = hyperband.run(f, space, max_budget=81, executor=client)  # doctest: +SKIP
        >>> client.close()  # doctest: +SKIP
    """
    distributed = require()
    options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    try:
        return distributed.Client(address, set_as_default=False, **options)
    except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
        raise SchedulerConnectError(address, f"{type(exc).__name__}: {exc}") from exc
