"""The executor seam of ``hyperband.run``: every ``executor=`` argument becomes a ``Backend``.

A backend is what the runner drives: ``submit(fn, *args) -> concurrent.futures.Future``, a
``capacity`` (how many jobs it keeps in flight), ``stop(future)`` (stop one job: kill its worker
when it can) and ``shutdown(cancel=...)``. ``resolve`` maps the user's argument to one, and
says whether the run owns it (and so shuts it down) or borrows it (and leaves it open).

Backends here:

- ``SerialBackend``: runs each job in the calling thread, inside ``submit``.
- ``ThreadBackend``: daemon threads that grow on demand. Unlike ``ThreadPoolExecutor`` a thread
  whose job timed out is abandoned without taking a slot, and a stuck thread never blocks the
  interpreter's exit (``ThreadPoolExecutor`` joins its threads at exit).
- ``ProcessBackend``: persistent worker processes, one pipe each. Because the runner knows which
  process runs which job, a worker that dies fails exactly its own job and only that process is
  replaced; a timed-out job is stopped by killing exactly its process. (``ProcessPoolExecutor``
  fails *every* in-flight future with ``BrokenProcessPool`` when one worker dies, and cannot
  kill one task.)
- ``ExternalBackend``: any object with the concurrent.futures ``submit`` (``ThreadPoolExecutor``,
  ``ProcessPoolExecutor``, loky, mpi4py.futures, ``distributed.Client.get_executor()``).
- ``hyperband.integrations.dask.DaskBackend``: a dask ``Client`` (``executor=client``) or a
  ``LocalCluster`` the run owns (``executor="dask"``); it lives in its own module, a layer
  above the drivers, which ``resolve`` reaches through its plug (``plugs.EXECUTOR_PLUGS``) and
  which imports ``distributed`` only when one of these is used.

A backend whose executor broke beyond repair (a dask client that lost its scheduler) fails
its futures, or raises from ``submit``, with a ``BrokenExecutor`` and declares
``kind = "external"``: the runner then charges no job and, unless it can replace the
executor (an ``ExternalBackend``), stops the run with that error.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from hyperband.core.errors import (
    ArgumentTypeError,
    ConfigurationError,
    WorkerStartError,
    describe,
)
from hyperband.drivers import worker_start
from hyperband.drivers.plugs import EXECUTOR_PLUGS

__all__ = [
    "EXECUTORS",
    "Backend",
    "ExternalBackend",
    "ProcessBackend",
    "SerialBackend",
    "ThreadBackend",
    "WorkerDiedError",
    "resolve",
    "validate",
    "worker_label",
]

EXECUTORS = ("serial", "threads", "processes", *EXECUTOR_PLUGS)

Fn = Callable[..., Any]


def worker_label() -> str:
    """Identifies where a job runs: ``host/pid/thread name``."""
    return f"{socket.gethostname()}/{os.getpid()}/{threading.current_thread().name}"


class WorkerDiedError(Exception):
    """The worker process running a job exited before it returned a result.

    Attributes:
        pid: the process id.
        exitcode: its exit code (negative: killed by that signal), or ``None`` if unknown.
        worker: the worker's label (see ``worker_label``).
    """

    def __init__(self, pid: int | None, exitcode: int | None, worker: str) -> None:
        self.pid = pid
        self.exitcode = exitcode
        self.worker = worker
        super().__init__(f"worker process {pid} died ({describe_exit(exitcode)})")


def describe_exit(exitcode: int | None) -> str:
    """``"exit code 3"``, ``"killed by SIGSEGV"``, ... for a process exit code."""
    if exitcode is None:
        return "exit code unknown"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


class Backend(Protocol):
    """What the runner drives (see the module docstring)."""

    #: ``"serial"``, ``"threads"``, ``"processes"`` or ``"external"``.
    kind: str
    #: How many jobs the runner keeps in flight.
    capacity: int
    #: True when the run created it (and so shuts it down).
    owned: bool

    def submit(self, fn: Fn, /, *args: Any) -> concurrent.futures.Future[Any]:
        """Schedule ``fn(*args)``."""
        ...

    def stop(self, future: concurrent.futures.Future[Any]) -> bool:
        """Stop the job behind ``future``; True when its slot is free for another job now."""
        ...

    def shutdown(self, *, cancel: bool) -> None:
        """Release what the backend owns; ``cancel`` stops running jobs instead of waiting."""
        ...


# ----------------------------------------------------------------------------- serial


class SerialBackend:
    """Runs each job in the calling thread, inside ``submit`` (for debugging).

    ``BaseException`` (``KeyboardInterrupt``) raised by ``fn`` propagates out of ``submit``, so a
    Ctrl-C during a job stops the run; an ``Exception`` is set on the returned future.
    """

    kind = "serial"
    capacity = 1
    owned = True

    def submit(self, fn: Fn, /, *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def stop(self, future: concurrent.futures.Future[Any]) -> bool:
        return True  # never called: a serial job is finished when submit returns

    def shutdown(self, *, cancel: bool) -> None:
        pass


# ----------------------------------------------------------------------------- threads


_Task = tuple[concurrent.futures.Future[Any], Fn, tuple[Any, ...]]


class ThreadBackend:
    """Daemon worker threads, started on demand, reused while idle.

    A thread runs one task at a time. ``submit`` hands the task to an idle thread, or starts a
    new one, so a thread stuck in an abandoned (timed-out) job never delays other jobs.
    """

    kind = "threads"
    owned = True

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._tasks: collections.deque[_Task | None] = collections.deque()
        self._cond = threading.Condition()
        self._idle = 0
        self._started = 0
        self._closed = False

    def submit(self, fn: Fn, /, *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("cannot submit to a backend that was shut down")
            self._tasks.append((future, fn, args))
            if self._idle >= len(self._tasks):
                self._cond.notify()
                return future
            self._started += 1
            name = f"hyperband-worker-{self._started}"
        threading.Thread(target=self._loop, name=name, daemon=True).start()
        return future

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._tasks:
                    self._idle += 1
                    self._cond.wait()
                    self._idle -= 1
                task = self._tasks.popleft()
            if task is None:  # shutdown
                return
            future, fn, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # a worker thread must outlive any job
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, fn, args, task

    def stop(self, future: concurrent.futures.Future[Any]) -> bool:
        # A thread cannot be killed: the job is abandoned (its result ignored), and because
        # threads start on demand its slot is free for another job right away.
        future.cancel()
        return True

    def shutdown(self, *, cancel: bool) -> None:
        with self._cond:
            self._closed = True
            _cancel_queued(self._tasks)
            # One sentinel per thread: idle threads exit now, busy ones after their job.
            self._tasks.extend([None] * self._started)
            self._cond.notify_all()


# ----------------------------------------------------------------------------- processes


def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """A worker process: say it is ready, then run tasks until ``conn`` closes or sends None."""
    # Ctrl-C in a terminal signals the whole process group; the driver handles it and stops
    # the workers, so a worker must not die of it mid-job with a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_start.ready()
    try:
        conn.send("ready")  # after the imports unpickling this function needed
    except OSError:
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the driver is gone
            return
        if task is None:
            return
        fn, args = task
        try:
            # The driver charges a job to this worker only once it has this word: a worker that
            # dies before it (killed while idle, its death not yet noticed) never ran the job.
            conn.send("started")
        except OSError:
            return
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except BaseException as exc:
            reply = ("error", _portable(exc))
        del task, fn, args
        try:
            conn.send(reply)
        except OSError:  # the driver is gone
            return
        except Exception as exc:  # the result does not pickle
            try:
                conn.send(("error", _portable(exc)))
            except OSError:
                return


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it pickles, else a RuntimeError carrying its text and traceback."""
    import pickle

    try:
        pickle.dumps(exc)
    except Exception:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return RuntimeError(text)
    return exc


def _cancel_queued(tasks: collections.deque[_Task | None]) -> None:
    """Cancel every job still waiting in ``tasks`` and empty it (the caller holds its lock)."""
    while tasks:
        task = tasks.popleft()
        if task is not None:
            task[0].cancel()


class _StartFailedError(RuntimeError):
    """A worker process exited before it was ready; ``line`` is the error it reported."""

    def __init__(self, exit_text: str, line: str | None) -> None:
        self.exit_text = exit_text
        self.line = line
        said = "" if line is None else f": {line}"
        super().__init__(f"a worker process failed to start ({exit_text}){said}")


class _Undelivered:
    """The marker ``ProcessBackend._run`` returns for a task it could not send."""


_UNDELIVERED = _Undelivered()

# Seconds to wait for the exit of a process whose pipe closed, before making sure with a kill.
_REAP_WAIT = 5.0


class _Worker:
    __slots__ = ("conn", "future", "killed", "process", "thread")

    def __init__(self) -> None:
        self.process: Any = None
        self.conn: multiprocessing.connection.Connection | None = None
        # The future of the task the process is running. Set and cleared under the backend's
        # lock; while it is set, only ``stop`` (under that lock) touches ``process``, and the
        # driver thread neither replaces nor closes it.
        self.future: concurrent.futures.Future[Any] | None = None
        # Set (under the lock) when ``stop`` or ``shutdown`` kills the process for ``future``:
        # that job ends there, even if the process died before it said it had started.
        self.killed = False
        self.thread: threading.Thread | None = None


def default_mp_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where the platform has it, else ``spawn``; never plain ``fork``.

    Forking a multi-threaded driver (the runner's pipe threads, a progress bar's monitor
    thread) can deadlock a child on a lock some thread held; ``forkserver`` forks from a clean
    single-threaded server, and is the default from Python 3.14 on.
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


class ProcessBackend:
    """``capacity`` persistent worker processes, each with its own pipe and driver thread.

    The driver thread of a worker sends it one task, waits for the reply or the process's
    exit, and resolves the task's future. A worker that exits mid-task fails that task's future
    with ``WorkerDiedError``, after a fresh process has replaced it; other tasks are
    untouched. Workers are started (and have done their imports) before the constructor
    returns, and replaced before a death is reported, so a submitted task starts at once while
    no more than ``capacity`` are out: a timeout counted from submission counts the job only.
    """

    kind = "processes"
    owned = True

    def __init__(
        self, capacity: int, mp_context: multiprocessing.context.BaseContext | None = None
    ) -> None:
        self.capacity = capacity
        self._ctx = mp_context or default_mp_context()
        self._tasks: collections.deque[_Task | None] = collections.deque()
        self._cond = threading.Condition()
        self._workers: list[_Worker] = []
        self._closed = False
        self._cancelled = False  # shut down with cancel: a task taken, not yet started, never is
        # Where a starting worker reports the error that stops it (see worker_start). Inside
        # multiprocessing's own temporary directory, which it removes at exit, so that a
        # driver killed before ``shutdown`` leaves nothing more behind than it did before.
        self._start_dir = tempfile.mkdtemp(
            prefix="hyperband-start-", dir=multiprocessing.util.get_temp_dir()
        )
        # Workers that could not start at all: then none can (the main module does not import
        # in a worker), and the constructor raises the first rather than respawn for each job.
        self._start_failures: list[WorkerStartError] = []
        ready = []
        try:
            for i in range(capacity):
                w = _Worker()
                event = threading.Event()
                w.thread = threading.Thread(
                    target=self._drive, args=(w, event), name=f"hyperband-pipe-{i}", daemon=True
                )
                self._workers.append(w)
                ready.append(event)
                w.thread.start()
            for event in ready:  # the workers start in parallel
                event.wait()
        except BaseException:
            # Ctrl-C while the workers start: no caller holds this pool to shut it down, and
            # at exit multiprocessing joins the live workers, which would wait for tasks
            # forever.
            self.shutdown(cancel=True)
            raise
        if self._start_failures:
            self.shutdown(cancel=True)
            raise self._start_failures[0]

    def _spawn(self, w: _Worker) -> None:
        """Start a worker process and wait until it is ready for tasks."""
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(child,), name=worker_start.worker_name(self._start_dir)
        )
        try:
            process.start()
        finally:
            child.close()  # so the parent sees EOF when the worker dies
        w.process, w.conn = process, parent
        if parent in multiprocessing.connection.wait([parent, process.sentinel]):
            try:
                if parent.recv() == "ready":
                    return
            except (EOFError, OSError):
                pass
        process.join(5)
        exitcode, pid = process.exitcode, process.pid
        self._close(w, graceful=False)
        line = worker_start.reported_line(self._start_dir, pid)
        raise _StartFailedError(describe_exit(exitcode), line)

    def _close(self, w: _Worker, *, graceful: bool) -> None:
        conn, process = w.conn, w.process
        w.conn = w.process = None
        if conn is not None:
            if graceful and process is not None and process.is_alive():
                try:
                    conn.send(None)  # let an idle worker exit on its own
                except OSError:
                    pass
                else:
                    process.join(2)
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join()
            process.close()

    def _drive(self, w: _Worker, ready: threading.Event) -> None:
        """Feed one worker process until shutdown."""
        try:
            try:
                self._spawn(w)
            except Exception as exc:
                # The first start of a worker runs what every start runs (the main module's
                # import): its failure is the pool's, raised by the constructor. A later start
                # that fails (the machine out of memory) fails the job that needed it, below.
                if isinstance(exc, _StartFailedError):
                    failure = worker_start.start_error(exc.exit_text, exc.line)
                else:  # raised here, by Process.start
                    failure = worker_start.start_error(None, worker_start.one_line(exc))
                with self._cond:
                    self._start_failures.append(failure)
                return
            ready.set()
            while True:
                with self._cond:
                    while not self._tasks:
                        self._cond.wait()
                    task = self._tasks.popleft()
                if task is None:
                    return
                future, fn, args = task
                if w.process is None or not w.process.is_alive():
                    self._close(w, graceful=False)
                    try:
                        self._spawn(w)
                    except Exception as exc:
                        if future.set_running_or_notify_cancel():
                            future.set_exception(exc)
                        continue
                with self._cond:
                    # Shut down with cancel after this thread took the task (while it replaced
                    # a dead process): nothing would stop the job then, and shutdown, which
                    # joins this thread, would wait for it to end.
                    if self._cancelled:
                        future.cancel()
                        continue
                    if not future.set_running_or_notify_cancel():
                        continue
                    w.future, w.killed = future, False
                died = self._run(w, future, fn, args)
                if isinstance(died, _Undelivered):
                    died = self._resend(w, future, fn, args)
                with self._cond:
                    w.future = None
                if died is not None:
                    self._close(w, graceful=False)
                    if not self._closed:
                        # Replace the process before reporting, so the job the runner submits
                        # in reply starts at once (its timeout must not count a restart).
                        with contextlib.suppress(Exception):
                            self._spawn(w)
                    future.set_exception(died)
                del future, fn, args, task
        finally:
            ready.set()
            with self._cond:
                w.future = None
            self._close(w, graceful=True)

    def _resend(
        self, w: _Worker, future: concurrent.futures.Future[Any], fn: Fn, args: Any
    ) -> WorkerDiedError | None:
        """The task never reached ``w``'s process, dead already: send it to a fresh one."""
        with self._cond:
            w.future = None  # so that replacing the process is this thread's alone
        self._close(w, graceful=False)
        try:
            self._spawn(w)
        except Exception as exc:
            future.set_exception(exc)
            return None
        with self._cond:
            if self._closed:  # shut down meanwhile: the job never ran, and will not
                future.set_exception(RuntimeError("the backend was shut down"))
                return None
            w.future, w.killed = future, False
        died = self._run(w, future, fn, args)
        if isinstance(died, _Undelivered):  # a fresh process dead before its first task
            return self._death(w.process)
        return died

    def _run(
        self, w: _Worker, future: concurrent.futures.Future[Any], fn: Fn, args: Any
    ) -> WorkerDiedError | _Undelivered | None:
        """Run one task on ``w``'s process; resolve ``future``, or return how the process died.

        Returns ``_UNDELIVERED`` when the process died before it said it started the task: it
        had died before the task was sent (a forkserver reports deaths late on a loaded
        machine, so the liveness check before sending can miss one), and the send itself can
        succeed then (the kernel may release a dead process's end of the pipe after its exit
        is visible). The job never ran, so it is not charged.
        """
        conn, process = w.conn, w.process
        assert conn is not None
        assert process is not None
        try:
            conn.send((fn, args))
        except OSError:  # the process is gone: nobody reads the pipe
            return _UNDELIVERED
        except Exception as exc:  # the task does not pickle: nothing was sent
            future.set_exception(exc)
            return None
        reply = self._receive(conn, process)
        started = reply == "started"
        if started:
            reply = self._receive(conn, process)
        if reply is None:
            with self._cond:
                if not started and not w.killed:
                    return _UNDELIVERED
            return self._death(process)
        status, payload = reply
        if status == "ok":
            future.set_result(payload)
        else:
            future.set_exception(payload)
        return None

    @staticmethod
    def _death(process: Any) -> WorkerDiedError:
        """How ``process``, whose pipe closed, died."""
        # The process exited, or is exiting. Its exit status comes from the forkserver, which
        # a loaded machine can delay by seconds (a bounded wait then reported "exit code
        # unknown"). A process still there after a while closed its end and lives on: it is
        # killed, and then reported as killed.
        process.join(_REAP_WAIT)
        if process.exitcode is None:
            process.kill()
            process.join()
        label = f"{socket.gethostname()}/{process.pid}/MainThread"
        return WorkerDiedError(process.pid, process.exitcode, label)

    @staticmethod
    def _receive(conn: multiprocessing.connection.Connection, process: Any) -> Any:
        """The worker's next message, or None once its process is gone."""
        # Waiting on the process's sentinel too: a child the job forked may hold the pipe
        # open after the worker died, so EOF alone is not a reliable death notice.
        ready = multiprocessing.connection.wait([conn, process.sentinel])
        if conn not in ready and not conn.poll(0):
            return None  # dead, and nothing it wrote before dying is left to read
        try:
            return conn.recv()
        except (EOFError, OSError):
            return None
        except Exception as exc:  # the reply does not unpickle in the driver
            return ("error", exc)

    def submit(self, fn: Fn, /, *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("cannot submit to a backend that was shut down")
            self._tasks.append((future, fn, args))
            self._cond.notify()
        return future

    def stop(self, future: concurrent.futures.Future[Any]) -> bool:
        """Kill the process running ``future``'s job; its future then fails with WorkerDiedError."""
        with self._cond:
            if future.cancel():
                return True
            for w in self._workers:
                if w.future is future and w.process is not None:
                    w.killed = True
                    w.process.kill()
        # The slot frees once the driver thread has seen the death and resolved the future.
        return False

    def shutdown(self, *, cancel: bool) -> None:
        with self._cond:
            self._closed = True
            _cancel_queued(self._tasks)
            if cancel:
                self._cancelled = True
                for w in self._workers:
                    if w.future is not None and w.process is not None:
                        w.killed = True
                        w.process.kill()
            self._tasks.extend([None] * len(self._workers))
            self._cond.notify_all()
        for w in self._workers:
            # Not alive yet: a Ctrl-C interrupted its start (see __init__); if it runs at all,
            # it takes its sentinel above and closes its own process.
            if w.thread is not None and w.thread.is_alive():
                w.thread.join()
        shutil.rmtree(self._start_dir, ignore_errors=True)


# ----------------------------------------------------------------------------- external


class ExternalBackend:
    """Any object with the concurrent.futures ``submit``; the run borrows it (leaves it open).

    ``stop`` can only cancel a job that has not started; a running job is abandoned and keeps
    its slot until it finishes (the executor's worker is still busy with it).
    """

    kind = "external"

    def __init__(
        self, executor: Any, capacity: int, close: Callable[[], object] | None = None
    ) -> None:
        self.executor = executor
        self.capacity = capacity
        # ``close`` releases what the run created around the executor (a dask cluster, ...):
        # then the run owns the backend and calls it at the end.
        self._close = close
        self.owned = close is not None

    def submit(self, fn: Fn, /, *args: Any) -> concurrent.futures.Future[Any]:
        future = self.executor.submit(fn, *args)
        if not isinstance(future, concurrent.futures.Future):
            raise ArgumentTypeError(
                "executor.submit must return a concurrent.futures.Future, got "
                f"{describe(future)}; for a dask Client pass client.get_executor()"
            )
        return future

    def stop(self, future: concurrent.futures.Future[Any]) -> bool:
        return future.cancel()

    def shutdown(self, *, cancel: bool) -> None:
        if self._close is not None:
            self._close()
        # else: the user's executor, left open


# ----------------------------------------------------------------------------- resolve


def _int_workers(workers: object) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise ArgumentTypeError(f"workers must be an int >= 1 or None, got {describe(workers)}")
    if workers < 1:
        raise ConfigurationError(f"workers must be >= 1 (or None), got {describe(workers)}")
    return workers


def validate(executor: object, workers: object) -> int | None:
    """Check ``run(executor=..., workers=...)`` without creating anything; returns ``workers``.

    Raises:
        ConfigurationError: an unknown executor name, ``workers < 1``, or ``"dask"`` without
            ``distributed`` installed.
        ArgumentTypeError: ``executor`` is neither a name nor has ``submit``; ``workers`` is
            not an int.
    """
    n = _int_workers(workers)
    if isinstance(executor, str):
        if executor not in EXECUTORS:
            raise ConfigurationError(
                f"executor must be one of {', '.join(map(repr, EXECUTORS))} or an object with "
                f"submit(), got {describe(executor)}"
            )
        plug = EXECUTOR_PLUGS.get(executor)
        if plug is not None:
            plug.load().require()  # before the run touches its journal
    elif not callable(getattr(executor, "submit", None)):
        raise ArgumentTypeError(
            f"executor must be {', '.join(map(repr, EXECUTORS))} or an object with the "
            f"concurrent.futures submit(), got {describe(executor)}"
        )
    return n


def resolve(executor: object, workers: object) -> Backend:
    """Map ``run(executor=..., workers=...)`` to a backend.

    This is the seam for new executors: one branch per kind of argument, each returning a
    backend. ``"dask"`` (a ``LocalCluster`` the run owns) and a dask ``Client`` (recognised
    without importing ``distributed``: an object of that class implies the module is
    imported) go to their plug, ``hyperband.integrations.dask`` (see ``plugs``).

    Args:
        executor: ``"serial"``, ``"threads"``, ``"processes"``, ``"dask"``, or an object with
            ``submit``.
        workers: how many jobs to keep in flight; ``None``: the executor's size, or
            ``os.cpu_count()``.

    Raises:
        ConfigurationError: an unknown executor name, ``workers < 1``, ``"dask"`` without
            ``distributed``, or a dask ``Client`` that is not connected.
        ArgumentTypeError: ``executor`` is neither a name nor has ``submit``.
    """
    n = validate(executor, workers)
    default = os.cpu_count() or 1
    if isinstance(executor, str):
        if executor == "serial":
            return SerialBackend()
        if executor == "threads":
            return ThreadBackend(n or default)
        plug = EXECUTOR_PLUGS.get(executor)
        if plug is not None:
            owned: Backend = plug.load().local_backend(n or default)
            return owned
        return ProcessBackend(n or default)
    for plug in EXECUTOR_PLUGS.values():
        # A dask Client exists only once distributed is imported: no import to look.
        if plug.engine in sys.modules and plug.load().is_client(executor):
            # A Client's own submit returns dask futures, not concurrent.futures ones.
            borrowed: Backend = plug.load().client_backend(executor, n)
            return borrowed
    size = getattr(executor, "_max_workers", None)  # ThreadPool/ProcessPoolExecutor, loky
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        size = None
    return ExternalBackend(executor, n or size or default)
