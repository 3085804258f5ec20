"""The lcbench surrogate behind a JSON-lines pipe; runs in the yahpo venv (``setup.sh``).

yahpo-gym 1.0.2 pins numpy<2 and ConfigSpace<=0.6.1, which the project's environment cannot
have, so the surrogate lives in its own venv and ``client.py`` talks to this script over
stdin/stdout. Usage: ``.venv/bin/python server.py --data PATH`` (``PATH`` holds ``lcbench/``).

Protocol, one JSON object a line each way:

- On start the server answers once, unasked: ``{"ok": true, "hello": {"tasks": [...],
  "targets": [...], "backend": ..., "data_path": ..., "data_version": ...}}``, or
  ``{"ok": false, "error": "..."}`` and exits 1 when the surrogate cannot be loaded.
- Request: ``{"op": "query", "task": "126029", "configs": [{...}, ...], "queries": [[i, epoch],
  ...]}``: configuration ``configs[i]`` at ``epoch`` (1..52) on ``task``. A configuration is
  sent once however many epochs are asked of it, which keeps a whole curve's request small.
- Answer: ``{"ok": true, "results": {"val_accuracy": [...], "time": [...], ...}}``, one column
  per target, in the order of ``queries``; or ``{"ok": false, "error": "..."}`` for a bad
  request, after which the server goes on serving.
- End of stdin ends the server (exit 0).

The protocol part (:func:`serve`, :func:`run`) does not import yahpo: ``fake_server.py`` runs it
with a fake backend, so the tests cover this code without the venv.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))  # run as a script: `yahpo.space` lives beside it

from yahpo import space  # noqa: E402

Config = dict[str, Any]

# yahpo's objective_function stacks its inputs row by row (np.vstack in a loop), which is
# quadratic in the batch; above a few thousand rows, chunks are faster.
CHUNK = 2000


class Backend(Protocol):
    """What :func:`serve` needs from a surrogate."""

    tasks: Sequence[str]
    targets: Sequence[str]
    info: dict[str, Any]

    def predict(
        self, task: str, configs: Sequence[Config], queries: Sequence[tuple[int, int]]
    ) -> dict[str, list[float]]:
        """One column per target, in the order of ``queries`` (configs are clean)."""
        ...


class RequestError(ValueError):
    """A request the server refuses (answered with ``ok: false``; the server goes on)."""


def _parse(request: Any, backend: Backend) -> tuple[str, list[Config], list[tuple[int, int]]]:
    if not isinstance(request, dict) or request.get("op") != "query":
        raise RequestError(f"expected an object with op 'query', got {request!r:.200}")
    task = str(request.get("task"))
    if task not in backend.tasks:
        raise RequestError(f"unknown lcbench task {task!r}; known: {', '.join(backend.tasks)}")
    raw_configs, raw_queries = request.get("configs"), request.get("queries")
    if not isinstance(raw_configs, list) or not isinstance(raw_queries, list):
        raise RequestError("'configs' and 'queries' must be lists")
    try:
        # Cleaned here too: another client of the protocol must not crash the surrogate.
        configs = [space.clean_config(c) for c in raw_configs]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RequestError(str(error)) from error
    queries: list[tuple[int, int]] = []
    for q in raw_queries:
        ok = isinstance(q, list) and len(q) == 2 and all(type(x) is int for x in q)
        if not ok or not 0 <= q[0] < len(configs) or not 1 <= q[1] <= space.MAX_EPOCH:
            raise RequestError(
                f"a query is [config index, epoch in 1..{space.MAX_EPOCH}], got {q!r:.100}"
            )
        queries.append((q[0], q[1]))
    return task, configs, queries


def _answer(line: str, backend: Backend) -> dict[str, Any]:
    try:
        task, configs, queries = _parse(json.loads(line), backend)
    except (json.JSONDecodeError, RequestError) as error:
        return {"ok": False, "error": str(error)}
    if not queries:
        return {"ok": True, "results": {t: [] for t in backend.targets}}
    return {"ok": True, "results": backend.predict(task, configs, queries)}


def serve(backend: Backend, requests: IO[str], answers: IO[str]) -> None:
    """Answer each request line of ``requests`` on ``answers`` until end of input."""
    for line in requests:
        if not line.strip():
            continue
        answers.write(json.dumps(_answer(line, backend)) + "\n")
        answers.flush()


def take_stdout() -> IO[str]:
    """The protocol's channel: the real stdout, with file descriptor 1 sent to stderr.

    yahpo prints its citation on stdout, and onnxruntime may write there from C, so stdout is
    moved at the descriptor level: only what this module writes reaches the client.
    """
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def run(make_backend: Callable[[argparse.Namespace], Backend], args: argparse.Namespace) -> int:
    """Build the backend, say hello (or why not), serve stdin; the exit status."""
    channel = take_stdout()
    try:
        backend = make_backend(args)
    except Exception as error:  # any reason the surrogate cannot load goes to the client
        channel.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}))
        channel.write("\n")
        channel.flush()
        return 1
    hello = {"tasks": list(backend.tasks), "targets": list(backend.targets), **backend.info}
    channel.write(json.dumps({"ok": True, "hello": hello}) + "\n")
    channel.flush()
    serve(backend, sys.stdin, channel)
    return 0


def parser(description: str) -> argparse.ArgumentParser:
    """The arguments every server takes (the client passes ``--data``)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", required=True, type=Path, help="yahpo_data folder (has lcbench/)")
    return p


class YahpoBackend:
    """yahpo-gym's lcbench surrogate (one ONNX model for every task)."""

    def __init__(self, data_path: Path) -> None:
        data_path = data_path.resolve()
        with tempfile.TemporaryDirectory(prefix="yahpo-config-") as tmp:
            # yahpo keeps its data path in a settings file, by default ~/.config/yahpo_gym; a
            # private one keeps servers with different data paths from racing on it (and
            # leaves the user's alone). It is read once, at import, so set before importing.
            os.environ["YAHPO_LOCAL_CONFIG"] = str(Path(tmp) / "yahpo_gym.yaml")
            from yahpo_gym import benchmark_set, local_config

            local_config.init_config()
            local_config.set_data_path(str(data_path))
            # check=False: clean_config guarantees what yahpo's check would (bounds, ints),
            # and the check costs half of a query. One thread: the machines have two cores.
            self._bench = benchmark_set.BenchmarkSet("lcbench", multithread=False, check=False)
        self._check_space()
        self.tasks: Sequence[str] = [str(t) for t in self._bench.instances]
        self.targets: Sequence[str] = list(self._bench.config.y_names)
        version_file = data_path / "VERSION"
        from importlib.metadata import version

        self.info: dict[str, Any] = {
            "backend": f"yahpo_gym {version('yahpo_gym')}",
            "data_path": str(data_path),
            # The file reads "VERSION:1.0.2".
            "data_version": version_file.read_text().strip().removeprefix("VERSION:")
            if version_file.exists()
            else None,
        }

    def _check_space(self) -> None:
        """Refuse a data folder whose space differs from :mod:`space`'s (its bounds clamp)."""
        cs = self._bench.config_space
        for p in space.PARAMS:
            hp = cs.get_hyperparameter(p.name)
            got = (float(hp.lower), float(hp.upper), bool(hp.log), "Integer" in type(hp).__name__)
            if got != (float(p.lower), float(p.upper), p.log, p.integer):
                raise RuntimeError(f"lcbench's {p.name} is {got} in the data, {p} in space.py")

    def predict(
        self, task: str, configs: Sequence[Config], queries: Sequence[tuple[int, int]]
    ) -> dict[str, list[float]]:
        # The instance is a constant that overrides the rows' task id; cheap to set each time.
        self._bench.set_instance(task)
        rows = [{**configs[i], "epoch": e, "OpenML_task_id": task} for i, e in queries]
        out: dict[str, list[float]] = {t: [] for t in self.targets}
        for start in range(0, len(rows), CHUNK):
            for result in self._bench.objective_function(rows[start : start + CHUNK]):
                for t in self.targets:
                    out[t].append(float(result[t]))  # float32 -> float for JSON
        return out


def main(argv: list[str] | None = None) -> int:
    args = parser("YAHPO Gym lcbench surrogate over JSON lines.").parse_args(argv)
    return run(lambda a: YahpoBackend(a.data), args)


if __name__ == "__main__":
    sys.exit(main())
