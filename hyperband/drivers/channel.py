"""How a running objective's ``context.report(step, value)`` reaches the machine and back.

Only the runner's thread touches the machine, so a report made inside a worker travels to that
thread, which calls ``Hyperband.report`` and sends the decision back; the objective waits
for it. Three transports, picked by where the objective runs:

- in this process (``DirectReporter``): a direct call in the runner's own thread
  (``executor="serial"``), the runner's mailbox from another thread (``"threads"``);
- in another process, here or on another machine (``"processes"``, ``"dask"``, any
  ``submit`` executor): a connection to the runner's ``ReportServer``, a
  ``multiprocessing.connection.Listener`` with a random key (``SocketReporter``, which
  pickles to the worker with its job).

Each transport answers ``"CONTINUE"`` or ``"STOP"``, or carries back the error the machine
raised on a bad report (a step outside the job's segment, a NaN value), raised again in the
objective as the same ``HyperbandError`` subclass.
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing.connection
import secrets
import threading
from collections.abc import Callable
from typing import Any

from hyperband.core import errors as _errors
from hyperband.core.errors import HyperbandError

__all__ = [
    "DirectReporter",
    "ReportServer",
    "Request",
    "SocketReporter",
    "raise_error",
]

# An answer: ("ok", "CONTINUE" | "STOP") or ("error", (HyperbandError class name, message)).
Answer = tuple[str, Any]


def raise_error(payload: tuple[str, str]) -> None:
    """Raise, in the objective, the error the machine raised on its report."""
    name, message = payload
    cls = getattr(_errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, HyperbandError)):
        cls = HyperbandError
    raise cls(message)


def _decision(answer: Answer) -> str:
    status, payload = answer
    if status == "error":
        raise_error(payload)
    return str(payload)


class Request:
    """One report waiting for the runner's thread: what was reported, and where to answer."""

    __slots__ = ("_answer", "_event", "attempt", "job_id", "step", "value")

    def __init__(self, job_id: int, attempt: int, step: Any, value: Any) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.step = step
        self.value = value
        self._event = threading.Event()
        self._answer: Answer = ("ok", "CONTINUE")

    def answer(self, answer: Answer) -> None:
        self._answer = answer
        self._event.set()

    def wait(self) -> Answer:
        self._event.wait()
        return self._answer


class ReportServer:
    """The runner's side: a mailbox its loop drains, and a listener for other processes.

    The runner waits on ``doorbell`` along with its jobs' futures; it completes when a
    request arrives. ``take`` returns the waiting requests and re-arms the doorbell.

    Args:
        host: where to listen for workers in other processes; ``None`` for no listener (only
            threads of this process report).
    """

    def __init__(self, host: str | None = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._mail: collections.deque[Request] = collections.deque()
        self.doorbell: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._closed = False
        self._listener: multiprocessing.connection.Listener | None = None
        self.address: tuple[str, int] | None = None
        self.authkey = secrets.token_bytes(32)
        if host is not None:
            self._listener = multiprocessing.connection.Listener(
                (host, 0), family="AF_INET", authkey=self.authkey
            )
            address = self._listener.address
            assert isinstance(address, tuple)
            self.address = (str(address[0]), int(address[1]))
            threading.Thread(target=self._accept, name="hyperband-reports", daemon=True).start()

    def post(self, request: Request) -> None:
        """Queue a request for the runner's thread (from any thread)."""
        with self._lock:
            if self._closed:
                request.answer(("ok", "STOP"))  # the run is over: nothing more to train for
                return
            self._mail.append(request)
            if not self.doorbell.done():
                self.doorbell.set_result(None)

    def take(self) -> list[Request]:
        """The requests waiting, oldest first; re-arms the doorbell."""
        with self._lock:
            requests = list(self._mail)
            self._mail.clear()
            if self.doorbell.done():
                self.doorbell = concurrent.futures.Future()
            return requests

    def reporter(self, job_id: int, attempt: int, *, local: bool) -> Any:
        """What a job's context reports through: in this process (``local``) or by socket."""
        if local or self.address is None:
            return DirectReporter(self.post, job_id, attempt)
        return SocketReporter(self.address, self.authkey, job_id, attempt)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError, multiprocessing.AuthenticationError):
                if self._closed:
                    return
                continue
            threading.Thread(
                target=self._serve, args=(conn,), name="hyperband-report", daemon=True
            ).start()

    def _serve(self, conn: multiprocessing.connection.Connection) -> None:
        """Relay one worker connection's reports (one job's) until it closes."""
        with conn:
            while True:
                try:
                    job_id, attempt, step, value = conn.recv()
                except (EOFError, OSError, ValueError, TypeError):
                    return
                request = Request(job_id, attempt, step, value)
                self.post(request)
                try:
                    conn.send(request.wait())
                except OSError:
                    return

    def close(self) -> None:
        """Stop listening; requests still waiting, and any later, are answered STOP."""
        with self._lock:
            self._closed = True
            waiting = list(self._mail)
            self._mail.clear()
        for request in waiting:
            request.answer(("ok", "STOP"))
        if self._listener is not None:
            self._listener.close()


class DirectReporter:
    """For a job run in the runner's process: ``deliver`` hands each request on, to the runner's
    handler itself (the job runs in the runner's thread, which answers at once) or to its
    mailbox (``ReportServer.post``: the job runs in another thread, which waits)."""

    def __init__(self, deliver: Callable[[Request], None], job_id: int, attempt: int) -> None:
        self._deliver = deliver
        self.job_id = job_id
        self.attempt = attempt

    def __call__(self, step: Any, value: Any) -> str:
        request = Request(self.job_id, self.attempt, step, value)
        self._deliver(request)
        return _decision(request.wait())

    def close(self) -> None:
        pass


class SocketReporter:
    """For a job run in another process: a connection to the runner's ``ReportServer``.

    It pickles (address, key, job) to the worker; the connection opens on the first report and
    closes when the job ends.
    """

    def __init__(self, address: tuple[str, int], authkey: bytes, job_id: int, attempt: int):
        self.address = address
        self.authkey = authkey
        self.job_id = job_id
        self.attempt = attempt
        self._conn: multiprocessing.connection.Connection | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_conn"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._conn = None

    def __call__(self, step: Any, value: Any) -> str:
        if self._conn is None:
            try:
                self._conn = multiprocessing.connection.Client(
                    self.address, family="AF_INET", authkey=self.authkey
                )
            except OSError as exc:
                raise ConnectionError(
                    f"context.report() could not reach the run's driver at "
                    f"{self.address[0]}:{self.address[1]} to ask whether job {self.job_id} goes "
                    f"on ({exc}); workers on other machines must be able to connect back to it"
                ) from exc
        self._conn.send((self.job_id, self.attempt, step, value))
        answer: Answer = self._conn.recv()
        return _decision(answer)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
