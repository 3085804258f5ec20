"""The study journal: an append-only JSON-lines event log, and its replay into a fresh machine.

Format (one JSON object per line, ``\\n``-terminated, UTF-8):

1. ``{"event": "study", "format": "hyperband.journal", "version": 1, "params": {...},
   "space": {...} | null, "sampler": "module.Class", "time": ...}``: the machine's parameters
   (with the seed actually used) and its search space (``null`` for a custom sampler).
2. ``{"event": "ask", "job": {...Job.to_dict()...}, "time": ...}``: a job handed out.
3. ``{"event": "result", "job_id": 7, "status": "succeeded" | "failed", "value": ...,
   "extra": {...}, "error": ..., "start": ..., "end": ..., "worker": ..., "reports": [...],
   "attempts": 1}``: a job told or failed (see ``JobRecord.event``).

The events are in the order the driver called the machine, so replaying them (``ask`` for each
ask event, ``tell``/``fail`` for each result) rebuilds the machine exactly: it is
deterministic. Asks are flushed; results are flushed and fsynced, which also makes every
earlier line durable.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ._errors import HyperbandError, describe
from ._jobs import Job
from ._machine import Hyperband
from ._records import JobRecord, jsonable
from ._samplers import RandomSampler, Sampler

__all__ = ["FORMAT", "VERSION", "Journal", "JournalError", "JournalMismatchError", "load", "read"]

FORMAT = "hyperband.journal"
VERSION = 1

logger = logging.getLogger("hyperband")


class JournalError(HyperbandError, ValueError):
    """A journal file cannot be used: not a journal, corrupt, in use, or it does not replay."""


class JournalMismatchError(JournalError):
    """A journal was written by a study with other parameters than the run resuming it.

    Attributes:
        name: the parameter (``"eta"``, ``"space"``, ...).
        journal_value: its value in the journal.
        given_value: its value in this run.
    """

    def __init__(self, path: Path, name: str, journal_value: Any, given_value: Any) -> None:
        self.name = name
        self.journal_value = journal_value
        self.given_value = given_value
        super().__init__(
            f"journal {str(path)!r} was written by a study with {name}={describe(journal_value)}"
            f", but this run has {name}={describe(given_value)}; pass the same study parameters "
            "to resume it, or another journal path to start a new study"
        )


def _dumps(event: Mapping[str, Any]) -> bytes:
    text = json.dumps(event, separators=(",", ":"), default=jsonable, ensure_ascii=False)
    return (text + "\n").encode()


def normalise(obj: Any) -> Any:
    """``obj`` as it reads back from the journal (tuples become lists, numpy becomes Python)."""
    return json.loads(json.dumps(obj, default=jsonable))


def sampler_name(sampler: object) -> str:
    cls = type(sampler)
    return f"{cls.__module__}.{cls.__qualname__}"


def header(hb: Hyperband) -> dict[str, Any]:
    """The ``study`` event describing ``hb``."""
    sampler = hb.sampler
    return {
        "event": "study",
        "format": FORMAT,
        "version": VERSION,
        "params": hb.params,
        "space": sampler.space if isinstance(sampler, RandomSampler) else None,
        "sampler": sampler_name(sampler),
        "time": time.time(),
    }


def read(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int, int]:
    """Parse a journal file.

    Returns:
        ``(events, good, size)``: the events of its complete lines, the byte length of those
        lines, and the file's size. ``good < size`` when the last line is torn (no ``\\n``, or
        not JSON): a write cut short by a kill.

    Raises:
        JournalError: a line other than the last is not a JSON object with an ``"event"``.
    """
    data = Path(path).read_bytes()
    return _parse(Path(path), data)


def _parse(path: Path, data: bytes) -> tuple[list[dict[str, Any]], int, int]:
    events: list[dict[str, Any]] = []
    lines = data.split(b"\n")
    # data ends with b"\n" in an intact file, so lines[-1] == b""; anything else is torn.
    good = 0
    for number, line in enumerate(lines[:-1], start=1):
        last = number == len(lines) - 1 and lines[-1] == b""
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            if last:
                break  # a complete but garbled last line: torn all the same
            raise JournalError(
                f"journal {str(path)!r} line {number} must be a JSON object with an 'event' "
                f"key, got {line[:80]!r}; the file is corrupt (only the last line may be torn)"
            )
        events.append(event)
        good += len(line) + 1
    return events, good, len(data)


class Journal:
    """An open journal: appends events, one JSON line each.

    Use ``open``, which also reads what the file already holds and takes an exclusive lock
    (POSIX ``flock``) so two runs never append to one journal.
    """

    def __init__(self, path: Path, file: IO[bytes]) -> None:
        self.path = path
        self._file = file

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> tuple[Journal, list[dict[str, Any]]]:
        """Open (or create) a journal; a torn last line is cut off so appends stay valid JSONL.

        Returns:
            The journal and the events it already holds (empty for a new file).

        Raises:
            JournalError: the path cannot be opened for appending (a directory, no
                permission), another run holds the file, or it is corrupt.
        """
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            file = open(p, "a+b")  # noqa: SIM115 - the Journal owns and closes it
        except OSError as exc:
            raise JournalError(
                f"journal must be a path to a file this process can create or append to, "
                f"got {str(path)!r}: {exc.strerror or exc}"
            ) from exc
        try:
            _lock(p, file)
            file.seek(0)
            events, good, size = _parse(p, file.read())
            if good < size:
                logger.warning(
                    "journal %s: ignoring a torn last line (%d bytes, a write cut short)",
                    p,
                    size - good,
                )
                file.truncate(good)
                file.flush()
                os.fsync(file.fileno())
        except BaseException:
            file.close()
            raise
        return cls(p, file), events

    def write(self, event: Mapping[str, Any], *, sync: bool) -> None:
        """Append one event; ``sync`` also fsyncs (which makes every earlier line durable)."""
        self._file.write(_dumps(event))
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def ask(self, job: Job) -> None:
        """Record a job handed out (flushed, not fsynced: a lost ask only re-runs the job)."""
        self.write({"event": "ask", "job": job.to_dict(), "time": time.time()}, sync=False)

    def result(self, record: JobRecord) -> None:
        """Record a job's result (flushed and fsynced)."""
        self.write(record.event(), sync=True)

    def close(self) -> None:
        """Flush, fsync and close (which releases the lock)."""
        if self._file.closed:
            return
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()


def _lock(path: Path, file: IO[bytes]) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        raise JournalError(
            f"journal {str(path)!r} is in use by another run (it holds the file's lock); "
            "wait for it to finish or use another journal path"
        ) from exc


# Compared in this order, so the error names the first parameter that differs.
_PARAMS = (
    "max_budget",
    "eta",
    "min_budget",
    "mode",
    "exec_mode",
    "sizing",
    "iterations",
    "integer_budgets",
    "seed",
)


def check_header(
    path: Path, study: Mapping[str, Any], params: Mapping[str, Any], sampler: Sampler
) -> None:
    """Refuse to resume ``study`` (a journal's first event) with other study parameters.

    ``params`` are the run's machine parameters; a ``seed`` of ``None`` adopts the journal's.

    Raises:
        JournalError: the first event is not a study header of a known version.
        JournalMismatchError: a parameter, the search space or the sampler's class differ.
    """
    if study.get("event") != "study" or study.get("format") != FORMAT:
        raise JournalError(
            f"journal {str(path)!r} must start with a study header (format {FORMAT!r}), got "
            f"{describe(dict(study))}; is it a hyperband journal?"
        )
    if study.get("version") != VERSION:
        raise JournalError(
            f"journal {str(path)!r} has format version {describe(study.get('version'))}; this "
            f"hyperband reads version {VERSION}"
        )
    theirs = study.get("params") or {}
    for name in _PARAMS:
        given = params.get(name)
        if name == "seed" and given is None:
            continue
        if theirs.get(name) != given:
            raise JournalMismatchError(path, name, theirs.get(name), given)
    if isinstance(sampler, RandomSampler):
        if study.get("space") != normalise(sampler.space):
            raise JournalMismatchError(path, "space", study.get("space"), sampler.space)
    elif study.get("sampler") != sampler_name(sampler):
        raise JournalMismatchError(path, "sampler", study.get("sampler"), sampler_name(sampler))


def replay(
    path: Path, hb: Hyperband, events: list[dict[str, Any]], *, first_line: int = 2
) -> list[JobRecord]:
    """Feed a journal's ask and result events to a fresh machine, checking each ask.

    Returns:
        The records of the journal's results, in journal order. Jobs asked but without a
        result are left pending in ``hb`` (``hb.pending``), to be run again.

    Raises:
        JournalError: an event does not match what the machine does (the journal was edited,
            or written with a sampler that is not deterministic).
    """
    jobs: dict[int, Job] = {}
    records: list[JobRecord] = []
    for line, event in enumerate(events, start=first_line):
        kind = event["event"]
        try:
            if kind == "ask":
                job = hb.ask()
                if not isinstance(job, Job) or normalise(job.to_dict()) != event.get("job"):
                    raise JournalError(
                        f"journal {str(path)!r} line {line}: the machine hands out "
                        f"{describe(job)} where the journal has {describe(event.get('job'))}; "
                        "the journal does not belong to this study (or its sampler is not "
                        "deterministic)"
                    )
                jobs[job.id] = job
            elif kind == "result":
                job_id = event["job_id"]
                if event["status"] == "succeeded":
                    hb.tell(job_id, event["value"])
                else:
                    hb.fail(job_id, event.get("error") or "")
                records.append(JobRecord.from_event(jobs[job_id], event))
            else:
                raise JournalError(
                    f"journal {str(path)!r} line {line}: unknown event {describe(kind)}"
                )
        except JournalError:
            raise
        except (HyperbandError, KeyError, TypeError, ValueError) as exc:
            raise JournalError(
                f"journal {str(path)!r} line {line} does not replay: {type(exc).__name__}: {exc}"
            ) from exc
    return records


def load(
    path: str | os.PathLike[str], space: Mapping[str, Any] | Sampler | None = None
) -> tuple[Hyperband, list[JobRecord]]:
    """Rebuild a study's machine and records from its journal (read-only; see RunResult).

    Raises:
        JournalError: the file is not a journal, is corrupt, or does not replay.
    """
    p = Path(path)
    events, _, _ = read(p)
    if not events:
        raise JournalError(f"journal {str(p)!r} is empty: it holds no study")
    study = events[0]
    if space is None:
        space = study.get("space")
        if space is None:
            raise JournalError(
                f"journal {str(p)!r} was written by a study with a custom sampler "
                f"({study.get('sampler')}); pass it as space="
            )
    params = dict(study.get("params") or {})
    try:
        hb = Hyperband(space, **params)
    except TypeError as exc:
        raise JournalError(f"journal {str(p)!r} has malformed study parameters: {exc}") from exc
    check_header(p, study, hb.params, hb.sampler)
    return hb, replay(p, hb, events[1:])
