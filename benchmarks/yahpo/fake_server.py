"""A stand-in for ``server.py`` with made-up curves: plain Python + numpy, no yahpo, no venv.

It runs ``server.py``'s own protocol code (:func:`server.run`) with :class:`FakeBackend`, so
the tests of the client (``tests/test_lcbench_adapter.py``) exercise the real protocol, the
stdout redirection and the request checks in CI, where yahpo and its data are absent. The
curves (:func:`fake_result`) are deterministic and simple enough for a test to recompute.

Extra options, for tests: ``--log FILE`` appends every request line as received (to see what
the server was sent: ints, clamped values, how many requests); ``--die-after N`` exits without
answering the N-th request (a crash mid-run); ``--fail-start MESSAGE`` refuses to start;
``--hang`` never says hello (it waits for the end of its input).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from yahpo import server, space  # noqa: E402

Config = dict[str, Any]

TARGETS = (
    "time",
    "val_accuracy",
    "val_cross_entropy",
    "val_balanced_accuracy",
    "test_cross_entropy",
    "test_balanced_accuracy",
)
TIME_DIP_EPOCH = 7  # the cumulative time dips here, as the real surrogate's sometimes does


def fake_result(task: str, config: Config, epoch: int) -> dict[str, float]:
    """Made-up but curve-shaped targets of a clean configuration at ``epoch``.

    Accuracy rises towards a plateau set by the learning rate, dropout, depth and the task; the
    time grows with the epoch and the batch count, except that epoch 7 takes less cumulative
    time than epoch 6 (the real surrogate has such dips: ``seconds`` must cope with them).
    """
    lr = math.log10(config["learning_rate"])
    plateau = (
        90.0
        - 8.0 * abs(lr + 2.5)
        - 6.0 * config["max_dropout"]
        - (config["num_layers"] - 3) ** 2
        - 2.0 * config["weight_decay"]
        + int(task) % 7
    )
    speed = 2.0 + config["batch_size"] / 64.0
    accuracy = plateau - 40.0 * math.exp(-epoch / speed)
    per_epoch = 0.5 + 1000.0 / config["batch_size"] + config["max_units"] / 256.0
    time = per_epoch * (epoch - 1.5 if epoch == TIME_DIP_EPOCH else epoch)
    return {
        "time": time,
        "val_accuracy": accuracy,
        "val_cross_entropy": (100.0 - accuracy) / 50.0,
        "val_balanced_accuracy": accuracy / 100.0 - 0.01 * config["momentum"],
        "test_cross_entropy": (100.0 - accuracy) / 48.0,
        "test_balanced_accuracy": accuracy / 100.0 - 0.02,
    }


class FakeBackend:
    """:func:`fake_result` behind :class:`server.Backend`'s interface."""

    def __init__(self, args: argparse.Namespace) -> None:
        if args.fail_start:
            raise RuntimeError(args.fail_start)
        if args.hang:
            assert sys.__stdin__ is not None
            sys.__stdin__.read()  # silent until the client gives up and closes the pipe
            sys.exit(4)
        # As yahpo does at import, and as a C library (onnxruntime) could, below Python's
        # sys.stdout: the protocol must survive both.
        print("Please make sure to also cite: the fake lcbench server")
        sys.stdout.flush()
        os.write(1, b"fake onnxruntime: a warning written to file descriptor 1\n")
        self.tasks: Sequence[str] = space.ALL_TASKS
        self.targets: Sequence[str] = TARGETS
        self.info: dict[str, Any] = {
            "backend": "fake",
            "data_path": str(args.data),
            "data_version": None,
        }

    def predict(
        self, task: str, configs: Sequence[Config], queries: Sequence[tuple[int, int]]
    ) -> dict[str, list[float]]:
        rows = [fake_result(task, configs[i], e) for i, e in queries]
        return {t: [r[t] for r in rows] for t in self.targets}


class _Recorder:
    """stdin as :func:`server.serve` reads it, logging each line and dying on cue."""

    def __init__(self, lines: IO[str], log: Path | None, die_after: int | None) -> None:
        self._lines, self._log, self._die_after, self._n = lines, log, die_after, 0

    def __iter__(self) -> _Recorder:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._n += 1
        if self._log is not None:
            with self._log.open("a", encoding="utf-8") as f:
                f.write(line)
        if self._die_after is not None and self._n >= self._die_after:
            sys.exit(3)
        return line


def main(argv: list[str] | None = None) -> int:
    p = server.parser("A fake lcbench surrogate speaking server.py's protocol.")
    p.add_argument("--log", type=Path, default=None)
    p.add_argument("--die-after", type=int, default=None)
    p.add_argument("--fail-start", default=None)
    p.add_argument("--hang", action="store_true")
    args = p.parse_args(argv)
    sys.stdin = _Recorder(sys.stdin, args.log, args.die_after)
    return server.run(FakeBackend, args)


if __name__ == "__main__":
    sys.exit(main())
