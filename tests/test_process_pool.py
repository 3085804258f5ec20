"""The process pool when the machine is loaded: deaths reported late.

A worker started by the forkserver learns its exit status from the forkserver process, which
on a loaded machine can take seconds to report it. Stopping the forkserver (SIGSTOP) for a
moment reproduces that deterministically.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperband.drivers import executors as _executors
from hyperband.drivers.executors import ProcessBackend, WorkerDiedError

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="stops the forkserver and reads /proc: Linux only"
)


@pytest.fixture
def backend() -> Iterator[ProcessBackend]:
    pool = ProcessBackend(1, multiprocessing.get_context("forkserver"))
    try:
        yield pool
    finally:
        pool.shutdown(cancel=True)


@contextlib.contextmanager
def forkserver_stopped(seconds: float) -> Iterator[None]:
    """The forkserver reports no exit (and starts no process) for ``seconds``."""
    server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server is not None
    os.kill(server, signal.SIGSTOP)
    timer = threading.Timer(seconds, os.kill, (server, signal.SIGCONT))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        os.kill(server, signal.SIGCONT)


def test_a_death_reported_late_still_gives_its_exit_code(
    backend: ProcessBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner used to wait 5 s for the exit status, then report "exit code unknown"."""
    monkeypatch.setattr(_executors, "_REAP_WAIT", 0.2)
    assert backend.submit(os.getpid).result(timeout=60) > 0
    with forkserver_stopped(1.0):
        future = backend.submit(os._exit, 3)
        with pytest.raises(WorkerDiedError) as info:
            future.result(timeout=60)
    assert info.value.exitcode == 3
    assert "died (exit code 3)" in str(info.value)
    assert backend.submit(os.getpid).result(timeout=60) > 0  # replaced


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def _fork_holding_the_pipe(seconds: float) -> int:
    """In a worker: fork a child that keeps the worker's end of its pipe open for ``seconds``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        time.sleep(seconds)
        os._exit(0)
    return pid


@pytest.mark.parametrize("pipe", ["closed", "held open"])
def test_a_task_for_a_worker_that_died_idle_runs_on_a_fresh_one(
    backend: ProcessBackend, pipe: str
) -> None:
    """A worker killed while idle, its death not reported yet: the task sent to it never ran,
    so it must not fail as if it had crashed the worker (it runs on a new process).

    The two ways the driver learns that the task never arrived: with the pipe closed (the
    dead worker was its only reader), the send fails; with the pipe held open by a child the
    worker forked, the send succeeds and the process dies without having said 'started'. Which
    one happens is left to neither the kernel nor the timing: each case is made here.
    """
    old = backend.submit(os.getpid).result(timeout=60)
    holder = None
    if pipe == "held open":
        holder = backend.submit(_fork_holding_the_pipe, 60.0).result(timeout=60)
    try:
        with forkserver_stopped(1.0):
            os.kill(old, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while not zombie(old):  # dead, and not reaped: the forkserver is stopped
                assert time.monotonic() < deadline
                time.sleep(0.01)
            new = backend.submit(os.getpid).result(timeout=60)
    finally:
        if holder is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(holder, signal.SIGKILL)
    assert new != old


class SlowToArrive:
    """An argument whose unpickling in the worker takes ``seconds``: the worker has the task but
    has not said it started it yet."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __reduce__(self) -> tuple[Any, tuple[float]]:
        return (_arrive_slowly, (self.seconds,))


def _arrive_slowly(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _sleep(_: float, seconds: float) -> None:
    time.sleep(seconds)


def _touch(path: str, _: float) -> str:
    Path(path).touch()
    return path


def test_a_job_stopped_before_it_started_is_not_run_again(
    backend: ProcessBackend, tmp_path: Path
) -> None:
    """``stop`` kills the worker while the task is still arriving: the job ends there, with the
    worker's death, instead of being sent again to a fresh process as if it had never been."""
    marker = tmp_path / "ran"
    future = backend.submit(_touch, str(marker), SlowToArrive(1.0))
    time.sleep(0.3)  # sent, and being unpickled in the worker
    assert not backend.stop(future)
    with pytest.raises(WorkerDiedError):
        future.result(timeout=30)
    time.sleep(1.5)  # time enough for a resent task to arrive and run
    assert not marker.exists()


def test_shutdown_with_cancel_does_not_wait_for_a_job_that_had_not_started(
    tmp_path: Path,
) -> None:
    """Cancelling while a never-ending task is still arriving: shutdown returns (it used to
    send the task to a fresh process, and wait for it forever)."""
    pool = ProcessBackend(1, multiprocessing.get_context("forkserver"))
    future = pool.submit(_sleep, SlowToArrive(1.0), 3600.0)
    time.sleep(0.3)
    done = threading.Event()
    closer = threading.Thread(target=lambda: (pool.shutdown(cancel=True), done.set()))
    closer.start()
    assert done.wait(30), "shutdown(cancel=True) hung"
    with pytest.raises(WorkerDiedError):
        future.result(timeout=1)


# A Ctrl-C while the pool starts its workers, in a process of its own: the forkserver is
# stopped, so the constructor is certainly waiting for them when the signal comes.
_INTERRUPTED_START = """
import multiprocessing, multiprocessing.forkserver, os, signal, threading, time
from hyperband.drivers.executors import ProcessBackend

if __name__ == "__main__":
    # Python ignores SIGINT if it started ignored (a background job of a script): not here.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ctx = multiprocessing.get_context("forkserver")
    multiprocessing.forkserver.ensure_running()
    server = multiprocessing.forkserver._forkserver._forkserver_pid
    os.kill(server, signal.SIGSTOP)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    resume = threading.Timer(1.0, os.kill, (server, signal.SIGCONT))
    resume.start()
    try:
        ProcessBackend(2, ctx)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    resume.join()
    # Until the workers are up (a pool left running) or its pipe threads are gone (shut down).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        pipes = [t for t in threading.enumerate() if t.name.startswith("hyperband-pipe-")]
        if not pipes or len(multiprocessing.active_children()) == 2:
            break
        time.sleep(0.05)
    print("exiting", flush=True)
"""


@pytest.mark.timeout(120)
def test_ctrl_c_while_the_workers_start_leaves_nothing_to_wait_for(tmp_path: Path) -> None:
    """The constructor shuts its pool down when interrupted: no caller holds it yet, and at
    exit multiprocessing joins the live workers, which used to wait for tasks forever (a
    CI run's Ctrl-C test hung there)."""
    script = tmp_path / "interrupted_start.py"
    script.write_text(_INTERRUPTED_START)
    try:
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the interrupted process never exited: {exc.stdout!r} {exc.stderr!r}")
    assert done.stdout.split() == ["interrupted", "exiting"], done.stderr
    assert done.returncode == 0, done.stderr


def test_shutdown_with_cancel_while_a_dead_worker_is_replaced_does_not_start_its_job() -> None:
    """A task taken by a worker's thread while it replaces a dead process, and the pool shut
    down with cancel meanwhile: the job never starts. It used to run, unwatched, and the
    shutdown, which joins that thread, waited for it to end."""
    pool = ProcessBackend(1, multiprocessing.get_context("forkserver"))
    (worker,) = pool._workers
    try:
        worker.process.kill()
        worker.process.join(30)  # its death is known before the forkserver stops
        assert worker.process.exitcode is not None
        with forkserver_stopped(1.0):
            future = pool.submit(_sleep, 0.0, 3600.0)
            time.sleep(0.3)  # taken, and waiting for the forkserver to start a process
            closer = threading.Thread(target=pool.shutdown, kwargs={"cancel": True})
            closer.start()
        closer.join(30)
        assert not closer.is_alive(), "shutdown(cancel=True) hung"
        assert future.cancelled()
    finally:
        if worker.process is not None and worker.process.is_alive():
            worker.process.kill()
