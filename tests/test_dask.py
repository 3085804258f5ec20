"""dask.distributed: LocalCluster and Client executors, a real scheduler and workers, faults.

The end-to-end tests start ``dask scheduler`` and ``dask worker`` as separate processes on
127.0.0.1 (OS-assigned free ports, no dashboard), each in its own process group, kill them
with SIGKILL mid-study, and kill every process they started in a ``finally``.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib.util
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hyperband
from hyperband import ArgumentTypeError, ConfigurationError, RunResult
from hyperband.cli import main

from . import dask_helpers as d
from . import runner_helpers as h
from .runner_helpers import SPACE, STUDY, best_of, outcomes

ROOT = Path(__file__).resolve().parent.parent
HAVE_DISTRIBUTED = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(
    not HAVE_DISTRIBUTED, reason="distributed is not installed (pip install 'hyperband[dask]')"
)

# The cluster tests' objectives sleep; stop waiting for a study that hangs.
STUDY_LIMIT = 60.0


def run(objective: Any, **kwargs: Any) -> RunResult:
    options: dict[str, Any] = {**STUDY, "progress": False, **kwargs}
    return hyperband.run(objective, SPACE, **options)


@pytest.fixture(scope="module")
def reference() -> RunResult:
    return run(h.quadratic, executor="serial")


def same_study(result: RunResult, reference: RunResult) -> None:
    """The same jobs with the same results and the same best (job ids follow timing)."""
    assert outcomes(result) == outcomes(reference)
    assert best_of(result) == best_of(reference)
    assert len(result.history) == len(reference.history) == 69


def pid_of(worker: str) -> int:
    """The process id in a JobRecord.worker label (``host/pid/thread``)."""
    return int(worker.split("/")[1])


# ---------------------------------------------------------------------- without a cluster


def test_dask_executor_without_distributed_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    journal = tmp_path / "study.jsonl"
    with pytest.raises(ConfigurationError, match=r"pip install 'hyperband\[dask\]'"):
        run(h.quadratic, executor="dask", journal=journal)
    assert not journal.exists()  # refused before the run touched anything


def test_hyperband_does_not_import_distributed() -> None:
    code = (
        "import sys, hyperband\n"
        "from tests import runner_helpers as h\n"
        "hyperband.run(h.quadratic, h.SPACE, **h.STUDY, executor='threads', progress=False)\n"
        "assert 'distributed' not in sys.modules, 'distributed was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_cli_scheduler_needs_the_dask_executor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    argv = ["run", "tests.runner_helpers:quadratic", "--space", str(space), "--max-budget", "9"]
    code = main([*argv, "--executor", "threads", "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "hyperband: error: --scheduler needs --executor dask, got --executor threads"
    )


def test_cli_scheduler_loss_exits_1_and_says_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hyperband.integrations.dask import SchedulerLostError

    def lost(*args: Any, **kwargs: Any) -> RunResult:
        raise SchedulerLostError("tcp://127.0.0.1:8786", "connecting")

    monkeypatch.setattr("hyperband.drivers.runner.run", lost)
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    journal = tmp_path / "study.jsonl"
    argv = ["run", "tests.runner_helpers:quadratic", "--space", str(space), "--max-budget", "9"]
    assert main([*argv, "--executor", "dask", "--journal", str(journal)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "dask scheduler at 'tcp://127.0.0.1:8786'" in err
    assert f"the journal {str(journal)!r} holds every finished job: start the scheduler" in err
    assert err.rstrip().endswith("then run the same command to resume")


# ---------------------------------------------------------------------- LocalCluster


@needs_dask
def test_module_docstring_examples() -> None:
    module = importlib.import_module("hyperband.integrations.dask")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@needs_dask
def test_dask_executor_gives_the_serial_result_on_a_local_cluster(reference: RunResult) -> None:
    result = run(h.sleepy, executor="dask", workers=2)
    same_study(result, reference)
    pids = {pid_of(r.worker) for r in result.history}
    assert len(pids) == 2  # two worker processes, ...
    assert os.getpid() not in pids  # ... neither of them this one
    # The run closed the cluster it started: no worker process is left.
    assert multiprocessing.active_children() == []


@pytest.fixture(scope="module")
def local_client() -> Iterator[Any]:
    if not HAVE_DISTRIBUTED:
        pytest.skip("distributed is not installed (pip install 'hyperband[dask]')")
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = distributed.Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@needs_dask
def test_a_client_is_used_and_left_open(local_client: Any, reference: RunResult) -> None:
    result = run(h.sleepy, executor=local_client)
    same_study(result, reference)
    assert len({pid_of(r.worker) for r in result.history}) == 2  # workers=None: 2 threads
    assert local_client.status == "running"
    assert local_client.submit(sum, [1, 2]).result() == 3


@needs_dask
def test_a_retried_job_runs_again_on_dask(local_client: Any, reference: RunResult) -> None:
    # dask's default pure=True would give the retry the first attempt's failed task back.
    result = run(h.flaky, executor=local_client, retries=1)
    assert result.n_failed == 0
    assert {r.attempts for r in result.history} == {2}
    same_study(result, reference)


@needs_dask
def test_a_timed_out_job_fails_and_the_study_goes_on(
    local_client: Any, reference: RunResult
) -> None:
    # 2 s: far beyond a quick job on a loaded machine, far below a lingering one.
    result = run(d.lingering, executor=local_client, timeout=2)
    slow = {k for k, (status, _) in outcomes(result).items() if status == "failed"}
    assert slow, "no job timed out"
    for r in result.history:
        assert (r.status == "failed") == (r.job.config["x"] < d.LINGER)
        if r.status == "failed":
            assert "timed out after 2 s" in (r.error or "")
    expected = {k: v for k, v in outcomes(reference).items() if k not in slow}
    assert {k: v for k, v in outcomes(result).items() if k not in slow} == expected


@needs_dask
def test_early_stopping_and_the_kde_sampler_on_dask(local_client: Any) -> None:
    """Reports travel from the dask workers to the driver and decisions back; with one job in
    flight the study equals a serial one."""
    reference = hyperband.run(
        h.reporting, SPACE, **h.MODEL_STUDY, executor="serial", progress=False
    )
    result = hyperband.run(
        h.reporting,
        SPACE,
        **h.MODEL_STUDY,
        executor=local_client,
        workers=1,
        progress=False,
    )
    assert result.n_stopped == reference.n_stopped > 0
    assert outcomes(result) == outcomes(reference)
    assert len({pid_of(r.worker) for r in result.history}) == 2  # really on the workers


@needs_dask
def test_an_objective_that_does_not_pickle_is_one_clear_error(local_client: Any) -> None:
    lock = threading.Lock()

    def objective(config: dict[str, Any], budget: float) -> float:
        with lock:  # a lock does not pickle, so neither does this closure
            return h.quality(config, budget)

    with pytest.raises(ArgumentTypeError, match=r"objective: a job must pickle .* '_thread.lock'"):
        run(objective, executor=local_client)
    assert local_client.submit(sum, [1, 2]).result() == 3  # the client is fine


@needs_dask
def test_a_closed_client_is_refused(local_client: Any) -> None:
    import distributed

    client = distributed.Client(local_client.scheduler.address, set_as_default=False)
    client.close()
    with pytest.raises(ConfigurationError, match=r"must be connected .* got status 'closed'"):
        run(h.quadratic, executor=client)


@needs_dask
def test_a_job_whose_worker_keeps_dying_fails_like_any_failed_job() -> None:
    import dask

    # allowed-failures=0: dask gives a task up (KilledWorker) on the first worker death. One
    # worker, one job at a time: a task queued behind a crashing one on the same worker would
    # count that death too (dask's rule) and fail as a bystander.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        result = run(d.crashing, executor="dask", workers=1, retries=1)
    reference = run(d.raising, executor="serial")
    assert reference.n_failed == 2
    assert {k: s for k, (s, _) in outcomes(result).items()} == {
        k: s for k, (s, _) in outcomes(reference).items()
    }
    assert best_of(result) == best_of(reference)
    failed = [r for r in result.history if r.status == "failed"]
    assert len(failed) == 2
    for r in failed:
        assert r.attempts == 2  # retried once, as asked
        assert "KilledWorker" in (r.error or "")


# ---------------------------------------------------------------------- a real cluster


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, each its own group."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("wb")
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.folder,
                start_new_session=True,  # its own process group: killpg reaches its children
            )
        finally:
            log.close()
        self.procs.append(proc)
        return proc

    def start_scheduler(self) -> str:
        info = self.folder / "scheduler.json"
        self.scheduler = self._start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",  # the OS picks a free port; the scheduler file says which
            "--no-dashboard",
            "--scheduler-file",
            str(info),
            # A safety net should this test process itself be killed: a scheduler without
            # clients or tasks for a minute exits (and its workers after --death-timeout).
            "--idle-timeout",
            "60s",
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler exited: {self.log('scheduler')}")
            with contextlib.suppress(OSError, ValueError, KeyError):
                self.address = json.loads(info.read_text())["address"]
                return self.address
            time.sleep(0.05)
        raise RuntimeError(f"dask scheduler did not start: {self.log('scheduler')}")

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        worker = self._start(
            name,
            "worker",
            self.address,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--name",
            name,
            "--death-timeout",
            "20",  # a worker whose scheduler is gone exits by itself too
        )
        self.workers.append(worker)
        return worker

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def kill_all(self) -> None:
        for proc in self.procs:
            self.kill(proc)


@pytest.fixture
def cluster_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The workers import the objectives from tests/ of this checkout.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env[d.TRACE_ENV] = str(tmp_path / "trace.log")
    return env


@contextlib.contextmanager
def cluster(folder: Path, env: dict[str, str], workers: int = 2) -> Iterator[Cluster]:
    folder.mkdir(exist_ok=True)
    c = Cluster(folder, env)
    try:
        c.start_scheduler()
        for i in range(workers):
            c.start_worker(f"worker-{i}")
        yield c
    finally:
        c.kill_all()


@contextlib.contextmanager
def connected(address: str, workers: int) -> Iterator[Any]:
    from hyperband.integrations.dask import close_client, connect

    client = connect(address, timeout=10)
    try:
        client.wait_for_workers(workers, timeout=30)
        yield client
    finally:
        close_client(client)


def in_thread(fn: Callable[[], RunResult]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``fn`` in a thread; the returned dict gets "result" or "error"."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def wait_until(condition: Callable[[], bool], what: str, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def trace(path: Path) -> list[tuple[str, str, int, float]]:
    """``(event, job key, pid, time)`` per line of the objective's trace."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        event, key, pid, when = line.split()
        out.append((event, key, int(pid), float(when)))
    return out


def running(path: Path, pid: int) -> list[str]:
    """Jobs ``pid`` started and has not ended, per the trace."""
    started: dict[str, int] = {}
    for event, key, p, _ in trace(path):
        if p == pid:
            started[key] = started.get(key, 0) + (1 if event == "start" else -1)
    return [k for k, n in started.items() if n > 0]


@needs_dask
def test_a_worker_killed_mid_job_loses_nothing(
    tmp_path: Path, cluster_env: dict[str, str], reference: RunResult
) -> None:
    trace_file = Path(cluster_env[d.TRACE_ENV])
    with cluster(tmp_path / "cluster", cluster_env) as c, connected(c.address, 2) as client:
        pids: dict[str, int] = client.run(os.getpid)
        # The worker process of worker-0 (its nanny leads the process group we kill).
        (victim,) = [pid for pid in pids.values() if os.getpgid(pid) == c.workers[0].pid]

        started = time.monotonic()
        thread, box = in_thread(lambda: run(d.paced, executor=client))
        # Kill it while it is in the middle of a job of budget >= 9 (>= 110 ms of sleep).
        wait_until(
            lambda: any(float(k.split("@")[1]) >= 9 for k in running(trace_file, victim)),
            "the victim worker to run a long job",
        )
        killed_at = time.time()  # before the kill: the rescheduled job starts after it
        c.kill(c.workers[0])
        interrupted = running(trace_file, victim)
        thread.join(STUDY_LIMIT)
        elapsed = time.monotonic() - started
        assert not thread.is_alive(), "the study did not finish"
    assert "error" not in box, box.get("error")
    result: RunResult = box["result"]

    same_study(result, reference)  # every job succeeded, exactly once, with the serial value
    assert interrupted, "no job was running on the killed worker"
    survivors = {pid_of(r.worker) for r in result.history} - {victim}
    assert len(survivors) == 1
    by_key = {d.trace_key(r.job.config, r.job.budget): r for r in result.history}
    for key in interrupted:
        # The job the kill interrupted ran again, to the end, on the surviving worker.
        assert pid_of(by_key[key].worker) in survivors
        assert by_key[key].start > killed_at
    victim_records = [r for r in result.history if pid_of(r.worker) == victim]
    assert victim_records, "the victim worker ran no job before it was killed"
    assert all(r.end <= killed_at for r in victim_records)
    print(f"cluster study with a worker killed: {elapsed:.2f} s")


def journal_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@needs_dask
def test_a_lost_scheduler_stops_the_run_and_a_new_cluster_resumes_it(
    tmp_path: Path,
    cluster_env: dict[str, str],
    reference: RunResult,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hyperband.integrations.dask import SchedulerLostError

    journal = tmp_path / "study.jsonl"
    with cluster(tmp_path / "first", cluster_env) as c, connected(c.address, 2) as client:
        thread, box = in_thread(lambda: run(d.paced, executor=client, journal=journal))
        wait_until(
            lambda: journal.exists() and journal.read_text().count('"event":"result"') >= 10,
            "10 results in the journal",
        )
        assert c.scheduler is not None
        c.kill(c.scheduler)
        lost_at = time.monotonic()
        thread.join(STUDY_LIMIT)
        assert not thread.is_alive(), "the run did not stop"
        stopped_after = time.monotonic() - lost_at
        address = c.address

    error = box.get("error")
    assert isinstance(error, SchedulerLostError), error
    assert error.address == address
    assert address in str(error)
    # Milliseconds in practice: the closed connection is seen. The other way a loss is noticed,
    # TCP keepalive, takes dask's 30 s; the margin below it absorbs a loaded machine.
    assert stopped_after < 20
    with capsys.disabled():  # shown with pytest -s
        print(f"the run stopped {stopped_after:.3f} s after the scheduler was killed")

    # The journal is complete: every line is whole, no job was charged for the loss, and
    # the jobs that were running are asked without a result.
    events = journal_events(journal)
    results = [e for e in events if e["event"] == "result"]
    asked = {e["job"]["id"] for e in events if e["event"] == "ask"}
    assert 10 <= len(results) < 69
    assert all(e["status"] == "succeeded" for e in results)
    assert asked - {e["job_id"] for e in results}, "no job was running when the scheduler died"

    # Resume from the command line against a new cluster (a new scheduler, a new address).
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    with cluster(tmp_path / "second", cluster_env) as c2, connected(c2.address, 2):
        assert c2.address != address
        code = main(
            [
                "run",
                "tests.dask_helpers:paced",
                "--space",
                str(space),
                "--max-budget",
                str(STUDY["max_budget"]),
                "--eta",
                str(STUDY["eta"]),
                "--seed",
                str(STUDY["seed"]),
                "--scheduler",
                c2.address,
                "--journal",
                str(journal),
                "--no-progress",
            ]
        )
        out, err = capsys.readouterr()
    assert code == 0, err
    assert "jobs: 69 of 69 scheduled finished: 69 succeeded, 0 failed" in out
    resumed = RunResult.from_journal(journal)
    same_study(resumed, reference)


@needs_dask
def test_cli_unreachable_scheduler_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dask

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    argv = ["run", "tests.runner_helpers:quadratic", "--space", str(space), "--max-budget", "9"]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main([*argv, "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        f"hyperband: error: scheduler: cannot connect to dask scheduler 'tcp://127.0.0.1:{port}'"
    )
