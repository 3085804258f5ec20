"""Starting and stopping a real NNI 3.0 experiment for the end-to-end tests, on a loaded machine.

NNI's own ``Experiment.start`` depends on timing in three places; on a busy 2-core machine each
of them failed whole-suite runs:

- its launcher asks the new web server for ``/check-status`` four times, one second apart
  (``nni/experiment/launcher.py``, ``_check_rest_server``), and gives up ("Create experiment
  failed") when node takes longer to start;
- its manager gives the dispatcher (``python -m nni``, which runs the advisor) 10 seconds to
  connect, counted from the experiment's start (``core/tuner_command_channel.js``), and
  ``import nni`` alone costs about 2 s of CPU (scipy, pandas): on a loaded machine the manager
  ends the experiment with "Tuner did not connect in 10 seconds";
- a port from ``bind(("", 0))`` is an ephemeral one: between the test closing it and node
  listening on it, any outgoing connection on the machine may take it.

So ``launch`` uses NNI's launcher, with its web-server check replaced by one that waits for the
server to answer (or for node to exit), on a port below the kernel's ephemeral range, and
starts the dispatcher itself: the same ``nni.__main__.main`` with the same arguments and
environment NNI's manager gives it (``setupTuner`` in ``core/nnimanager.js``), through the
manager's own option for a dispatcher it does not start (``--tuner-command-channel``), with NNI
and the advisor imported before the experiment starts and told to connect right after. Then
it connects at the moment NNI's own would have, once imported.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import requests
from nni.experiment import Experiment, RunMode, launcher, rest

# Linux hands out 32768-60999 by itself (ip_local_port_range); a port below is taken only on
# purpose, by a program that asks for that very port.
PORTS = (20000, 32000)
START_SECONDS = 240.0  # for node's web server to answer, however loaded the machine
ATTEMPTS = 5  # ports tried when another program took the one chosen

# The dispatcher: what `python -m nni --exp_params ...` runs, imported ahead (then it creates
# the file argv[2]), run on "go".
DISPATCHER = """
import logging, pathlib, sys
import nni.__main__
import hyperband.integrations.nni
pathlib.Path(sys.argv[2]).touch()
if sys.stdin.readline().strip() == "go":
    sys.argv = ["nni", "--exp_params", sys.argv[1]]
    try:
        nni.__main__.main()
    except Exception as exc:
        logging.getLogger("nni.main").exception(exc)
        raise
"""


class PortTakenError(RuntimeError):
    """Node could not listen on the port chosen: another program took it meanwhile."""


def free_port(rng: random.Random) -> int:
    """A port below the ephemeral range that nothing listens on now."""
    while True:
        port = rng.randrange(*PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("", port))
            except OSError:
                continue
        return port


class Launched:
    """A started experiment: NNI's manager (node), the dispatcher, and every child they had."""

    def __init__(self, exp: Experiment) -> None:
        self.exp = exp
        self.dispatcher: subprocess.Popen[bytes] | None = None
        self.descendants: set[psutil.Process] = set()

    def note_children(self) -> None:
        """Remember the processes under node and the dispatcher (trials), to kill at the end."""
        for proc in (self.exp._proc, self.dispatcher):
            if proc is not None:
                with contextlib.suppress(psutil.Error):
                    self.descendants.update(psutil.Process(proc.pid).children(recursive=True))

    def stop(self) -> None:
        """Stop the experiment as NNI does, then kill whatever survived."""
        self.note_children()
        proc = self.exp._proc  # node, which NNI starts in a process group of its own
        pid = proc.pid if proc is not None else None
        # Experiment.stop() waits for the manager without a timeout: bound it.
        stopper = threading.Thread(target=self.exp.stop, daemon=True)
        stopper.start()
        stopper.join(timeout=30)
        if self.dispatcher is not None:
            # The manager sent it "terminate": it writes its checkpoint, then exits (NNI's
            # manager waits 30 s for its own dispatcher too).
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.dispatcher.wait(timeout=30)
            self.dispatcher.kill()
            self.dispatcher.wait()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
        for child in self.descendants:
            with contextlib.suppress(psutil.Error):
                child.kill()


def _log_directory(exp: Experiment) -> Path:
    return Path(str(exp.config.experiment_working_directory), exp.id, "log")


def _start_dispatcher(exp: Experiment, port: int, mode: str) -> subprocess.Popen[bytes]:
    config = exp.config.canonical_copy()
    log = _log_directory(exp)
    root = log.parent
    log.mkdir(parents=True, exist_ok=True)
    params = config.json()
    params.pop("searchSpace", None)  # as NNI's manager does (getMsgDispatcherCommand)
    env = {
        **os.environ,
        "SDK_PROCESS": "dispatcher",
        "NNI_MODE": mode,
        "NNI_CHECKPOINT_DIRECTORY": str(root / "checkpoint"),
        "NNI_LOG_DIRECTORY": str(log),
        "NNI_LOG_LEVEL": str(config.log_level),
        "NNI_INCLUDE_INTERMEDIATE_RESULTS": "false",
        "NNI_TUNER_COMMAND_CHANNEL": f"ws://localhost:{port}/tuner",
    }
    encoded = base64.b64encode(json.dumps(params).encode()).decode()
    ready = log / "dispatcher.imported"
    ready.unlink(missing_ok=True)  # a resumed experiment's first dispatcher left one
    with open(log / "dispatcher_output.log", "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", DISPATCHER, encoded, str(ready)],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log,
            env=env,
        )


def _wait(what: str, ready: Any, deadline: float) -> None:
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} in {START_SECONDS:g} s")
        time.sleep(0.1)


@contextlib.contextmanager
def _patient_launcher(dispatcher: subprocess.Popen[bytes], imported: Path) -> Iterator[None]:
    """NNI's launcher, waiting for its web server to answer instead of for four seconds, and
    then for the dispatcher to have imported NNI and the advisor (before the experiment starts
    and NNI's 10 seconds with it)."""
    started: list[subprocess.Popen[bytes]] = []
    start_rest_server = launcher._start_rest_server
    check_rest_server = launcher._check_rest_server

    def start(*args: Any, **kwargs: Any) -> Any:
        proc = start_rest_server(*args, **kwargs)
        started.append(proc)
        return proc

    def check(port: int, retry: int = 3, url_prefix: str | None = None) -> None:
        deadline = time.monotonic() + START_SECONDS

        def answers() -> bool:
            with contextlib.suppress(requests.RequestException):
                rest.get(port, "/check-status", url_prefix)
                return True
            if started and (code := started[-1].poll()) is not None:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        raise PortTakenError(f"port {port} was taken while NNI's manager started")
                raise RuntimeError(f"NNI's manager exited at start with code {code}")
            return False

        _wait("NNI's web server did not answer", answers, deadline)

        def done() -> bool:
            if dispatcher.poll() is not None:
                raise RuntimeError(f"the dispatcher exited with code {dispatcher.returncode}")
            return imported.exists()

        _wait("the dispatcher did not import NNI and the advisor", done, deadline)

    launcher._start_rest_server = start
    launcher._check_rest_server = check
    try:
        yield
    finally:
        launcher._start_rest_server = start_rest_server
        launcher._check_rest_server = check_rest_server


def launch(exp: Experiment, *, resume: bool = False) -> Launched:
    """Start ``exp`` (or resume it), as ``Experiment.start``/``resume`` do; see the module."""
    if resume:
        exp.load_checkpoint()  # what Experiment.resume does first
        exp._action = "resume"
    exp._start_logging(False)
    rng = random.Random()
    launched = Launched(exp)
    for attempt in range(ATTEMPTS):
        port = free_port(rng)
        launched.dispatcher = _start_dispatcher(exp, port, "resume" if resume else "start")
        imported = _log_directory(exp) / "dispatcher.imported"
        try:
            with _patient_launcher(launched.dispatcher, imported):
                exp._start_nni_manager(
                    port, False, RunMode.Background, f"ws://localhost:{port}/tuner", []
                )
        except PortTakenError:
            launched.dispatcher.kill()
            launched.dispatcher.wait()
            if attempt == ATTEMPTS - 1:
                raise
            continue
        except BaseException:
            launched.stop()
            raise
        break
    assert launched.dispatcher is not None
    assert launched.dispatcher.stdin is not None
    # The manager started the experiment and waits for its dispatcher: connect now.
    launched.dispatcher.stdin.write(b"go\n")
    launched.dispatcher.stdin.close()
    return launched
