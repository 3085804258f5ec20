"""Ray: executor="ray" and RayExecutor on a real two-node cluster on loopback, and faults.

The cluster is two ``ray start --block`` processes (a head and a second node) on 127.0.0.2,
each in its own session, shared by the module's tests (Ray takes seconds to start). The
second node runs in a mount namespace of its own, where a tmpfs hides one directory of the
test's: the node sees a different file system there, as a machine without the shared file
system would. Every process the cluster started is found by walking the process tree from
the two ``ray start`` processes and killed with SIGKILL in the fixture's finalizer.

127.0.0.2 and not 127.0.0.1: Ray replaces a --node-ip-address of 127.0.0.1 (or localhost)
with the machine's outward address; any other loopback address it keeps.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import doctest
import functools
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import ArgumentTypeError, ConfigurationError, RunResult
from hyperband.cli import main

from . import dask_helpers as d
from . import runner_helpers as h
from .optional import require, run_without
from .runner_helpers import SPACE, STUDY, outcomes
from .test_dask import in_thread, pid_of, running, same_study, trace, wait_until

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.2"
STUDY_LIMIT = 90.0


def run(objective: Any, **kwargs: Any) -> RunResult:
    options: dict[str, Any] = {**STUDY, "progress": False, **kwargs}
    return hyperband.run(objective, SPACE, **options)


# ---------------------------------------------------------------------- without a cluster


def test_without_ray_only_executor_ray_fails_and_says_what_to_install(tmp_path: Path) -> None:
    # In a fresh interpreter where `import ray` fails: another executor never tries it (it
    # would fail), and executor="ray" is refused before the run touches its journal.
    journal = tmp_path / "study.jsonl"
    out = run_without(
        "ray",
        "import hyperband\n"
        "from tests import runner_helpers as h\n"
        "options = dict(**h.STUDY, progress=False)\n"
        "hyperband.run(h.quadratic, h.SPACE, **options, executor='threads')\n"
        f"options['journal'] = {str(journal)!r}\n"
        "try:\n"
        "    hyperband.run(h.quadratic, h.SPACE, **options, executor='ray')\n"
        "except hyperband.ConfigurationError as exc:\n"
        "    print(exc)\n",
    )
    assert out.startswith("executor='ray' needs ray, which is not installed")
    assert out.rstrip().endswith("pip install 'hyperband[ray]'")
    assert not journal.exists()


def test_cli_executor_ray_without_ray_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    argv = ["run", "tests.runner_helpers:quadratic", "--space", str(space), "--max-budget", "9"]
    assert main([*argv, "--executor", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("hyperband: error: executor='ray' needs ray, which is not installed")
    assert err.rstrip().endswith("pip install 'hyperband[ray]'")


def test_module_docstring_examples() -> None:
    require("ray")
    module = importlib.import_module("hyperband.integrations.ray")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_bad_arguments_name_the_parameter_and_connect_nothing() -> None:
    ray = require("ray")
    from hyperband.integrations.ray import RayExecutor

    if ray.is_initialized():  # pragma: no cover - the cluster tests run after this one
        pytest.skip("Ray is already connected in this process")
    with pytest.raises(ArgumentTypeError, match=r"^address must be .* got 6379 \(int\)"):
        RayExecutor(6379)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"^task_options must be a mapping"):
        RayExecutor(task_options=["num_cpus"])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"^task_options: Ray rejects .* negative"):
        RayExecutor(task_options={"num_cpus": -1})
    with pytest.raises(ConfigurationError, match=r"^task_options: Ray rejects .* bogus"):
        RayExecutor(task_options={"bogus": 1})
    assert not ray.is_initialized()  # the errors came before any connection


# ---------------------------------------------------------------------- a real cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _descendants(roots: list[int]) -> list[int]:
    """Every live process below ``roots`` in the process tree (Ray's workers call setsid,
    so their process group is not their node's)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class RayCluster:
    """A head and a second node, ``ray start --block`` each, on HOST."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.address = f"{HOST}:{_free_port()}"
        # The second node's view of this directory is an empty tmpfs.
        self.hidden = folder / "hidden"
        self.hidden.mkdir()

    def _start(self, name: str, argv: list[str]) -> None:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.folder,
                start_new_session=True,
            )
        self.procs.append(proc)
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {log.read_text()[-3000:]}")
            time.sleep(0.1)

    def start(self) -> None:
        ray = [sys.executable, "-m", "ray.scripts.scripts", "start", "--block"]
        common = [
            f"--node-ip-address={HOST}",
            "--num-cpus=1",
            "--disable-usage-stats",
            "--object-store-memory=80000000",
        ]
        port = self.address.rsplit(":", 1)[1]
        self._start(
            "head",
            [
                *ray,
                "--head",
                f"--port={port}",
                "--include-dashboard=false",
                f"--temp-dir={self.folder / 's'}",
                *common,
            ],
        )
        second = " ".join([*ray, f"--address={self.address}", *common])
        mount = f"mount -t tmpfs tmpfs {self.hidden} && exec {second}"
        self._start("node", ["unshare", "--mount", "sh", "-c", mount])

    def kill_all(self) -> None:
        pids = [p.pid for p in self.procs]
        for pid in [*pids, *_descendants(pids)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for proc in self.procs:
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    require("ray")
    # A short path: Ray's session sockets live under it (a Unix socket path has 107 bytes).
    folder = Path(tempfile.mkdtemp(prefix="hbray-"))
    # No token authentication, said explicitly: a token in ~/.ray/auth_token (which a local
    # ray.init() writes) would otherwise turn it on for the nodes and not for this process,
    # whose Ray configuration is read once, when ray is imported (an earlier test does).
    auth = {"RAY_AUTH_MODE": "disabled"}
    env = {
        **os.environ,
        **auth,
        "RAY_USAGE_STATS_ENABLED": "0",
        # The workers import the objectives from tests/ of this checkout.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        d.TRACE_ENV: str(folder / "trace.log"),
    }
    c = RayCluster(folder, env)
    saved = {k: os.environ.get(k) for k in auth}
    os.environ.update(auth)  # for the driver: this process
    try:
        c.start()
        yield c
    finally:
        c.kill_all()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.fixture(scope="module")
def executor(cluster: RayCluster) -> Iterator[Any]:
    from hyperband.integrations.ray import RayExecutor

    ex = RayExecutor(cluster.address, init_options={"log_to_driver": False})
    try:
        ex.submit(sum, [0]).result(timeout=60)  # both nodes' first workers are up
        yield ex
    finally:
        ex.shutdown(cancel_futures=True)


@pytest.fixture(scope="module")
def reference() -> RunResult:
    return run(h.quadratic, executor="serial")


@pytest.mark.timeout(240)
def test_a_worker_killed_mid_job_fails_that_job_only_and_its_retry_gives_the_serial_study(
    cluster: RayCluster, executor: Any, reference: RunResult
) -> None:
    trace_file = Path(cluster.env[d.TRACE_ENV])
    started = time.monotonic()
    thread, box = in_thread(lambda: run(d.paced, executor=executor, retries=1))

    def victim() -> int | None:
        # A worker in the middle of a job of budget >= 9 (>= 110 ms of sleep).
        for pid in {p for _, _, p, _ in trace(trace_file)}:
            if any(float(k.split("@")[1]) >= 9 for k in running(trace_file, pid)):
                return pid
        return None

    wait_until(lambda: victim() is not None, "a worker to run a long job", limit=60)
    pid = victim()
    assert pid is not None
    interrupted = running(trace_file, pid)
    killed_at = time.time()
    os.kill(pid, signal.SIGKILL)
    thread.join(STUDY_LIMIT)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), "the study did not finish"
    assert "error" not in box, box.get("error")
    result: RunResult = box["result"]

    # Every job succeeded in the end, exactly once, with the serial value: the same best.
    same_study(result, reference)
    assert len(interrupted) == 1
    retried = [r for r in result.history if r.attempts == 2]
    # The killed job, and only it, failed once (Ray's WorkerCrashedError) and ran again.
    assert [d.trace_key(r.job.config, r.job.budget) for r in retried] == interrupted
    assert retried[0].start > killed_at
    assert pid_of(retried[0].worker) != pid
    assert pid not in {pid_of(r.worker) for r in result.history if r.start > killed_at}
    assert os.getpid() not in {pid_of(r.worker) for r in result.history}
    print(f"ray study with a worker killed: {elapsed:.2f} s")


@pytest.mark.timeout(240)
def test_reports_stop_jobs_on_ray_workers_and_checkpoints_must_be_shared(
    cluster: RayCluster, executor: Any, tmp_path: Path
) -> None:
    serial = hyperband.run(h.reporting, SPACE, **h.MODEL_STUDY, executor="serial", progress=False)
    # executor="ray" in a process already connected to Ray uses that connection.
    result = hyperband.run(
        h.reporting,
        SPACE,
        **h.MODEL_STUDY,
        executor="ray",
        workers=1,
        journal=tmp_path / "study.jsonl",
        progress=False,
    )
    assert result.n_stopped == serial.n_stopped > 0
    assert outcomes(result) == outcomes(serial)
    assert os.getpid() not in {pid_of(r.worker) for r in result.history}
    assert not list((tmp_path / "study.checkpoints").glob(".hyperband-visible-*"))

    # The second node does not see this directory: the run refuses before the first job.
    journal = cluster.hidden / "study.jsonl"
    with pytest.raises(ConfigurationError) as info:
        hyperband.run(h.reporting, SPACE, **h.MODEL_STUDY, executor=executor, journal=journal)
    message = str(info.value)
    assert message.startswith(
        f"journal: the checkpoint directory {str(cluster.hidden / 'study.checkpoints')!r} "
        "must be visible to every Ray node"
    )
    assert f"but 1 of 2 do not see it: {HOST} (node " in message
    assert '"event":"ask"' not in journal.read_text()
    # The borrowed executor is still usable.
    assert executor.submit(sum, [1, 2]).result(timeout=60) == 3


@pytest.mark.timeout(240)
def test_stopping_a_job_kills_its_worker_process(cluster: RayCluster, executor: Any) -> None:
    """What a run's timeout does to a job (``Backend.stop``): Ray would reuse the worker
    process otherwise, and dask can only abandon the task, its slot busy."""
    from hyperband.integrations.ray import RayBackend

    trace_file = Path(cluster.env[d.TRACE_ENV])
    trace_file.unlink(missing_ok=True)
    backend = RayBackend(executor, 2, owned=False)
    future = backend.submit(d.lingering, {"x": 0.0, "act": "relu"}, 1)
    wait_until(lambda: bool(trace(trace_file)), "the job to start", limit=60)
    ((event, _, pid, _),) = trace(trace_file)
    assert event == "start"
    asked = time.monotonic()
    # Its slot frees when Ray has killed it: usually after stop() returns, but a quick kill can
    # land first, and then stop() may say so. It must never claim a slot the job still holds.
    freed = backend.stop(future)
    assert not freed or future.done()
    cancelled = (concurrent.futures.CancelledError, require("ray").exceptions.TaskCancelledError)
    with pytest.raises(cancelled):
        future.result(timeout=60)
    assert time.monotonic() - asked < d.LINGER_SECONDS

    def gone() -> bool:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        return stat.rsplit(")", 1)[1].split()[0] == "Z"

    wait_until(gone, "the worker process to die", limit=20)
    assert [e[0] for e in trace(trace_file)] == ["start"]  # it never finished its sleep


@pytest.mark.timeout(240)
def test_refusals_on_a_connected_cluster(cluster: RayCluster, executor: Any) -> None:
    from hyperband.integrations.ray import RayExecutor

    # A lock does not pickle, so neither does a function that holds one.
    objective = functools.partial(h.quality, lock=threading.Lock())
    with pytest.raises(ArgumentTypeError, match=r"^objective: a job must pickle .* Ray workers"):
        run(objective, executor=executor)
    # Ray is connected in this process: a second executor shares the connection, and may not
    # ask for another.
    with pytest.raises(ConfigurationError, match=r"^address: Ray is already initialized"):
        RayExecutor("127.0.0.1:1")
    other = RayExecutor()
    assert not other.owned
    other.shutdown()  # leaves the connection open: it did not make it
    with pytest.raises(ConfigurationError, match=r"^executor: the RayExecutor was shut down"):
        run(h.quadratic, executor=other)
    assert executor.submit(sum, [1, 2]).result(timeout=60) == 3
