"""The lcbench surrogate from the project's environment: a subprocess in the yahpo venv.

:class:`LCBenchSurrogate` starts ``server.py`` with the venv's Python (made by
``bash benchmarks/yahpo/setup.sh``) and asks it over JSON lines (protocol in ``server.py``).
This module needs numpy only and never imports yahpo, whose pins (numpy<2, ConfigSpace<=0.6.1)
the project cannot take.

Every (configuration, epoch) asked is cached for the life of the object (the surrogate is
deterministic), and only the missing ones go to the server, in one request per call: a batch
costs about as much as a single query, so ask for many at once where you can (:meth:`curves`
gets whole learning curves in one round trip).

An object is thread-safe (one request at a time goes down its pipe) but belongs to the process
that made it: a forked or pickled copy would share or lack the pipe, so each process of a pool
starts its own.

The data folder is ``data_path``, else the environment variable ``YAHPO_DATA``, else
``<repo>/../shared/yahpo_data``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from yahpo import space  # noqa: E402

__all__ = [
    "SERVER",
    "VENV_PYTHON",
    "LCBenchSurrogate",
    "SurrogateError",
    "default_data_path",
]

REPO = HERE.parent.parent
SERVER = HERE / "server.py"
VENV_PYTHON = HERE / ".venv" / "bin" / "python"
SETUP_HINT = "run `bash benchmarks/yahpo/setup.sh` from the repository root"
EPOCHS = np.arange(1, space.MAX_EPOCH + 1)

# Queries per request: bounds the size of one JSON line (~100 bytes a query) and the server's
# memory, not the speed (the server chunks for speed itself).
MAX_QUERIES_PER_REQUEST = 50_000

Config = dict[str, Any]
FloatArray = npt.NDArray[np.float64]
_Key = tuple[tuple[int | float, ...], int]


class SurrogateError(RuntimeError):
    """The server failed to start, died, or refused a request."""


def default_data_path() -> Path:
    """``$YAHPO_DATA``, else ``<repo>/../shared/yahpo_data`` (where the project keeps it)."""
    env = os.environ.get("YAHPO_DATA")
    return Path(env) if env else REPO.parent / "shared" / "yahpo_data"


def _check_data(path: Path) -> Path:
    needed = [path / "lcbench" / "model.onnx", path / "lcbench" / "config_space.json"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"no yahpo_data lcbench surrogate at {path} (missing {', '.join(missing)}); "
            "pass data_path= or set YAHPO_DATA to the yahpo_data folder (v1.0.2)"
        )
    return path


def _epoch(value: Any) -> int:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if not ok or float(value) != round(float(value)) or not 1 <= value <= space.MAX_EPOCH:
        raise ValueError(
            f"an lcbench epoch is a whole number in 1..{space.MAX_EPOCH}, got {value!r}"
        )
    return round(float(value))


def _shutdown(proc: subprocess.Popen[bytes], files: list[IO[bytes]]) -> None:
    """End the server: end of input first (it exits by itself), a kill if it does not."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):  # it is dead already
            proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for f in files:
        f.close()


class LCBenchSurrogate:
    """One lcbench task's surrogate, served by a subprocess; use as a context manager.

    Args:
        task: the OpenML task id (``"126029"`` or ``126029``).
        data_path: the yahpo_data folder (see :func:`default_data_path`).
        python: the interpreter of the yahpo venv (default ``benchmarks/yahpo/.venv``).
        server: the server script (default ``server.py``; the tests pass ``fake_server.py``).
        server_args: extra arguments for the server script.
        start_timeout: seconds to wait for the server's hello (the first import of onnxruntime
            on a cold disk takes a few).

    Raises:
        FileNotFoundError: no venv interpreter, no server script, or no data.
        SurrogateError: the server did not start (its message and stderr are in the error).
        ValueError: ``task`` is not an lcbench task.
    """

    def __init__(
        self,
        task: str | int,
        data_path: str | os.PathLike[str] | None = None,
        python: str | os.PathLike[str] | None = None,
        *,
        server: str | os.PathLike[str] | None = None,
        server_args: Sequence[str] = (),
        start_timeout: float = 120.0,
    ) -> None:
        self.task = str(task)
        self.data_path = _check_data(Path(data_path) if data_path else default_data_path())
        self.python = Path(python) if python else VENV_PYTHON
        if not self.python.exists():
            raise FileNotFoundError(f"no yahpo venv interpreter at {self.python}: {SETUP_HINT}")
        script = Path(server) if server else SERVER
        if not script.is_file():
            raise FileNotFoundError(f"no lcbench server script at {script}")
        self.n_requests = 0  # round trips to the server (not counting the hello)
        self.n_queries = 0  # (configuration, epoch) pairs the server computed
        self._cache: dict[_Key, tuple[float, ...]] = {}
        self._buffer = bytearray()
        self._lock = threading.RLock()
        self._pid = os.getpid()
        # Closed by close() (via the finalizer), not by a with block: it lives with the server.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        # The venv has its own numpy; a PYTHONPATH meant for the project could shadow it.
        env["OMP_NUM_THREADS"] = "1"  # one thread a child process: the machines have 2 cores
        self._proc = subprocess.Popen(
            [str(self.python), str(script), "--data", str(self.data_path), *server_args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        assert self._proc.stdout is not None
        self._finalizer = weakref.finalize(
            self, _shutdown, self._proc, [self._proc.stdout, self._stderr]
        )
        try:
            answer = self._receive(start_timeout, "starting")
            if not answer.get("ok"):
                raise SurrogateError(
                    f"the lcbench server did not start: {answer.get('error')} ({SETUP_HINT}, "
                    f"check the data at {self.data_path}){self._stderr_tail()}"
                )
            self.hello: dict[str, Any] = answer["hello"]
            if self.task not in self.hello["tasks"]:
                raise ValueError(
                    f"unknown lcbench task {self.task!r}; known: {', '.join(self.hello['tasks'])}"
                )
        except BaseException:
            self.close()
            raise
        self.targets: tuple[str, ...] = tuple(self.hello["targets"])

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop the server (idempotent; also done when the object is collected or at exit)."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> LCBenchSurrogate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError(
            "an LCBenchSurrogate cannot be pickled (it owns a server process); start one in "
            "each process"
        )

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"pid {self._proc.pid}"
        return f"LCBenchSurrogate(task={self.task!r}, {state}, {len(self._cache)} cached)"

    # ------------------------------------------------------------------ queries

    def query(
        self, configs: Sequence[Mapping[str, Any]], epochs: int | Sequence[int] | npt.ArrayLike
    ) -> dict[str, FloatArray]:
        """Every target of ``configs[i]`` at ``epochs[i]`` (or at ``epochs`` for all).

        Configurations are cleaned first (:func:`space.clean_config`: ints rounded, float
        error at a bound clamped, far-out values refused); epochs are whole numbers in 1..52.

        Returns:
            ``{target: array of shape (n,)}``: ``val_accuracy`` (percent), ``time`` (cumulative
            seconds of training up to the epoch), and the server's other targets.
        """
        with self._lock:
            return self._query([space.clean_config(c) for c in configs], epochs)

    def _query(
        self, cleaned: list[Config], epochs: int | Sequence[int] | npt.ArrayLike
    ) -> dict[str, FloatArray]:
        if np.ndim(epochs) == 0:
            wanted = [_epoch(epochs)] * len(cleaned)
        else:
            wanted = [_epoch(e) for e in np.asarray(epochs, dtype=object).ravel()]
            if len(wanted) != len(cleaned):
                raise ValueError(f"{len(cleaned)} configurations but {len(wanted)} epochs")
        keys: list[_Key] = [(space.config_key(c), e) for c, e in zip(cleaned, wanted, strict=True)]
        missing: dict[_Key, Config] = {}
        for key, config in zip(keys, cleaned, strict=True):
            if key not in self._cache and key not in missing:
                missing[key] = config
        pending = list(missing.items())
        for start in range(0, len(pending), MAX_QUERIES_PER_REQUEST):
            self._fetch(pending[start : start + MAX_QUERIES_PER_REQUEST])
        rows = np.array([self._cache[k] for k in keys], dtype=float).reshape(-1, len(self.targets))
        return {t: rows[:, j] for j, t in enumerate(self.targets)}

    def val_error(
        self, configs: Sequence[Mapping[str, Any]], epochs: int | Sequence[int] | npt.ArrayLike
    ) -> FloatArray:
        """Validation error in [0, 1]: ``1 - val_accuracy / 100``."""
        return 1.0 - self.query(configs, epochs)["val_accuracy"] / 100.0

    def curves(self, configs: Sequence[Mapping[str, Any]]) -> tuple[FloatArray, FloatArray]:
        """Whole curves in one request: validation error and cumulative seconds, ``(n, 52)``."""
        n = len(configs)
        repeated = [c for c in configs for _ in EPOCHS]
        out = self.query(repeated, np.tile(EPOCHS, n))
        shape = (n, space.MAX_EPOCH)
        return (1.0 - out["val_accuracy"] / 100.0).reshape(shape), out["time"].reshape(shape)

    def clear_cache(self) -> None:
        self._cache.clear()

    # ------------------------------------------------------------------ the pipe

    def _fetch(self, pending: list[tuple[_Key, Config]]) -> None:
        index: dict[tuple[int | float, ...], int] = {}
        configs: list[Config] = []
        queries: list[list[int]] = []
        for (ckey, epoch), config in pending:
            if ckey not in index:
                index[ckey] = len(configs)
                configs.append(config)
            queries.append([index[ckey], epoch])
        request = {"op": "query", "task": self.task, "configs": configs, "queries": queries}
        self._send(request)
        # Generous: the server does ~10,000 queries a second on a loaded 2-core machine.
        answer = self._receive(60.0 + 0.01 * len(queries), "answering")
        if not answer.get("ok"):
            raise SurrogateError(f"the lcbench server refused a request: {answer.get('error')}")
        results = answer["results"]
        columns = [results[t] for t in self.targets]
        if any(len(col) != len(queries) for col in columns):
            raise SurrogateError(f"{len(queries)} queries but answers of other lengths")
        for i, (key, _) in enumerate(pending):
            self._cache[key] = tuple(float(col[i]) for col in columns)
        self.n_requests += 1
        self.n_queries += len(queries)

    def _send(self, message: dict[str, Any]) -> None:
        if self.closed:
            raise SurrogateError("the lcbench surrogate is closed")
        if os.getpid() != self._pid:
            raise SurrogateError(
                "this LCBenchSurrogate was made by another process (forked): start one in each "
                "process"
            )
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, ValueError) as error:
            raise self._died() from error

    def _receive(self, timeout: float, doing: str) -> dict[str, Any]:
        """The next line of the server as JSON, within ``timeout`` seconds.

        The pipe is read by hand (``select`` + ``os.read``) rather than through a buffered
        ``readline``, which cannot time out: a hung server must not hang the benchmark.
        """
        stdout = self._proc.stdout
        assert stdout is not None
        fd = stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self._proc.kill()  # hung: no point in waiting for it to read its end of input
                self.close()
                raise SurrogateError(
                    f"the lcbench server was not done {doing} after {timeout:.0f} s"
                    f"{self._stderr_tail()}"
                )
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise self._died()
                self._buffer += chunk
        line, _, rest = self._buffer.partition(b"\n")
        self._buffer = bytearray(rest)
        try:
            answer = json.loads(line)
        except json.JSONDecodeError as error:
            raise SurrogateError(f"the lcbench server said {bytes(line[:200])!r}") from error
        if not isinstance(answer, dict):
            raise SurrogateError(f"the lcbench server said {answer!r:.200}")
        return answer

    def _died(self) -> SurrogateError:
        try:
            status: int | None = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            status = None  # it closed its stdout but lives on; close() kills it
        tail = self._stderr_tail()
        self.close()
        return SurrogateError(
            f"the lcbench server ({self.python}) exited with status {status}; if the venv is "
            f"broken, {SETUP_HINT}{tail}"
        )

    def _stderr_tail(self, chars: int = 2000) -> str:
        if self._stderr.closed:
            return ""
        self._stderr.flush()
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - chars))
        text = self._stderr.read().decode(errors="replace").strip()
        return f"\n--- server stderr (last {chars} chars) ---\n{text}" if text else ""
