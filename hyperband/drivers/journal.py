"""The study journal: an append-only JSON-lines event log, and its replay into a fresh machine.

Format (one JSON object per line, ``\\n``-terminated, UTF-8):

1. ``{"event": "study", "format": "hyperband.journal", "version": 1, "params": {...},
   "space": {...} | null, "sampler": "module.Class", "objective": "module:qualname",
   "study_name": str | null, "time": ...}``: the machine's parameters (with the seed actually
   used), its search space (``null`` for a custom sampler), which objective wrote the journal
   and the user's name for the study. Journals written before ``objective`` and
   ``study_name`` existed lack them; they still resume (with a warning: nothing to check).
2. ``{"event": "ask", "job": {...Job.to_dict()...}, "time": ...}``: a job handed out.
3. ``{"event": "result", "job_id": 7, "status": "succeeded" | "failed", "value": ...,
   "extra": {...}, "error": ..., "start": ..., "end": ..., "worker": ..., "reports": [...],
   "attempts": 1}``: a job told or failed (see ``JobRecord.event``).
4. ``{"event": "retry", "job_id": 7, "time": ...}``: written when a run resumes the journal
   with ``retry_failed=True``: job 7's latest failed result (before this line) is superseded.
   The replay holds that failure back, so the machine sees job 7 still pending and the run
   runs it again; its next result (``attempts`` counting the earlier ones) resolves it.
   Journals without retry events replay as before; a hyperband older than this event refuses
   a journal holding one (``unknown event``).

The events are in the order the driver called the machine, so replaying them (``ask`` for each
ask event, ``tell``/``fail`` for each result) rebuilds the machine exactly: it is
deterministic. Asks are flushed; results are flushed and fsynced, which also makes every
earlier line durable.

A file is only ever written to when its first line is a study header (or it is empty, or holds
nothing but the beginning of one: a header whose write was cut short, which never has events
after it). Anything else (a search space passed by mistake, a notes file) is refused before a
byte of it changes. A torn last line is cut off only when the run writes to the journal, that
is after its header was checked against the run's study and every event replayed.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from hyperband.core.errors import HyperbandError, describe
from hyperband.core.jobs import Job
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import RandomSampler, Sampler, sampler_from_spec, sampler_spec
from hyperband.drivers.encoding import jsonable
from hyperband.drivers.job_record import JobRecord

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

    def __init__(
        self, path: Path, name: str, journal_value: Any, given_value: Any, hint: str = ""
    ) -> None:
        self.name = name
        self.journal_value = journal_value
        self.given_value = given_value
        super().__init__(
            f"journal {str(path)!r} was written by a study with {name}={describe(journal_value)}"
            f", but this run has {name}={describe(given_value)}; pass the same study parameters "
            f"to resume it, or another journal path to start a new study{hint}"
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


def objective_name(objective: object) -> str:
    """``module:qualname`` of an objective (of its class for a callable object).

    A ``functools.partial``, and a wrapper made with ``functools.wraps`` (it has
    ``__wrapped__``), are named after the function they wrap.

    Examples:
        >>> import math
        >>> objective_name(math.sqrt)
        'math:sqrt'
    """
    target = objective
    while True:
        if isinstance(target, functools.partial):
            target = target.func
        elif hasattr(target, "__wrapped__"):
            target = target.__wrapped__
        else:
            break
    if not hasattr(target, "__qualname__"):
        target = type(target)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}:{getattr(target, '__qualname__', '?')}"


def header(
    hb: Hyperband, *, objective: str | None = None, study_name: str | None = None
) -> dict[str, Any]:
    """The ``study`` event describing ``hb``, run by ``objective`` (see objective_name)."""
    sampler = hb.sampler
    return {
        "event": "study",
        "format": FORMAT,
        "version": VERSION,
        "params": hb.params,
        "space": sampler.space if isinstance(sampler, RandomSampler) else None,
        "sampler": sampler_name(sampler),
        "sampler_spec": sampler_spec(sampler),
        "objective": objective,
        "study_name": study_name,
        "time": time.time(),
    }


# Every header starts with these bytes (_dumps keeps the key order); a file holding nothing but
# a prefix of them, without a newline, is a header whose write was cut short.
_HEADER_START = b'{"event":"study","format":"hyperband.journal",'


def _is_torn_header(line: bytes) -> bool:
    return _HEADER_START.startswith(line) or line.startswith(_HEADER_START)


def _check_first_line(path: Path, data: bytes) -> None:
    """Refuse a file that is not a journal: its first line must be a study header.

    An empty file, and a file holding only the start of a header without its newline (the
    first write of a new journal, cut short by a kill), are a new journal.
    """
    if not data:
        return
    first, newline, _ = data.partition(b"\n")
    if not newline and _is_torn_header(first):
        return
    try:
        event = json.loads(first)
    except ValueError:
        event = None
    if (
        isinstance(event, dict)
        and event.get("event") == "study"
        and event.get("format") == FORMAT
        and newline
    ):
        return
    shown = first[:80] + (b"..." if len(first) > 80 else b"")
    raise JournalError(
        f"journal {str(path)!r} must start with a study header (format {FORMAT!r}), but its "
        f"first line is {shown!r}; it is not a hyperband journal and was left untouched: pass "
        "the path of an existing journal, or a new path to start a study"
    )


def read(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int, int]:
    """Parse a journal file.

    Returns:
        ``(events, good, size)``: the events of its complete lines, the byte length of those
        lines, and the file's size. ``good < size`` when the last line is torn (no ``\\n``, or
        not JSON): a write cut short by a kill.

    Raises:
        JournalError: the first line is not a study header, or a line other than the last is
            not a JSON object with an ``"event"``.
    """
    data = Path(path).read_bytes()
    return _parse(Path(path), data)


def _parse(path: Path, data: bytes) -> tuple[list[dict[str, Any]], int, int]:
    _check_first_line(path, data)
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
    (POSIX ``flock``) so two runs never append to one journal. Opening changes nothing in the
    file: a torn last line is cut off by the first ``write`` (or ``cut_torn_tail``),
    so appends stay valid JSONL.
    """

    def __init__(self, path: Path, file: IO[bytes], good: int = 0, size: int = 0) -> None:
        self.path = path
        self._file = file
        self._good = good  # bytes of complete lines
        self._size = size  # bytes in the file when opened

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> tuple[Journal, list[dict[str, Any]]]:
        """Open (or create) a journal, without changing what the file holds.

        Returns:
            The journal and the events it already holds (empty for a new file).

        Raises:
            JournalError: the path cannot be opened for appending (a directory, no
                permission), another run holds the file, the file is not a journal (its
                first line is not a study header), or it is corrupt.
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
        except BaseException:
            file.close()
            raise
        return cls(p, file, good, size), events

    def cut_torn_tail(self) -> None:
        """Cut off a torn last line (a write cut short by a kill), if there is one.

        Call it only once the journal is known to be this study's: ``write`` calls it.
        """
        if self._good >= self._size:
            return
        logger.warning(
            "journal %s: cutting off a torn last line (%d bytes, a write cut short)",
            self.path,
            self._size - self._good,
        )
        self._file.truncate(self._good)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._size = self._good

    def write(self, event: Mapping[str, Any], *, sync: bool) -> None:
        """Append one event; ``sync`` also fsyncs (which makes every earlier line durable)."""
        self.cut_torn_tail()
        self._file.write(_dumps(event))
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def ask(self, job: Job) -> None:
        """Record a job handed out (flushed, not fsynced: a lost ask only re-runs the job)."""
        self.write({"event": "ask", "job": job.to_dict(), "time": time.time()}, sync=False)

    def report(self, job_id: int, step: Any, value: Any, decision: str) -> None:
        """Record an intermediate report the machine judged, and its decision (flushed)."""
        self.write(
            {
                "event": "report",
                "job_id": job_id,
                "step": step,
                "value": value,
                "decision": decision,
                "time": time.time(),
            },
            sync=False,
        )

    def result(self, record: JobRecord) -> None:
        """Record a job's result (flushed and fsynced)."""
        self.write(record.event(), sync=True)

    def retry(self, job_id: int) -> None:
        """Record that the job's failure is superseded: it runs again (flushed and fsynced)."""
        self.write(_retry_event(job_id), sync=True)

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
    "early_stop",
    "max_jobs",
    "brackets",
    "seed",
)


def check_header(
    path: Path,
    study: Mapping[str, Any],
    params: Mapping[str, Any],
    sampler: Sampler,
    *,
    objective: str | None = None,
    study_name: str | None = None,
    allow_objective_change: bool = False,
) -> None:
    """Refuse to resume ``study`` (a journal's first event) with other study parameters.

    ``params`` are the run's machine parameters; a ``seed`` of ``None`` adopts the journal's.
    ``objective`` (see ``objective_name``) must be the journal's, unless
    ``allow_objective_change``; ``study_name`` must be the journal's. A journal written before
    these were recorded resumes with a warning (there is nothing to compare).

    Raises:
        JournalError: the first event is not a study header of a known version.
        JournalMismatchError: a parameter, the search space, the sampler's class, the
            objective or the study name differ.
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
    spec = sampler_spec(sampler)
    theirs_spec = study.get("sampler_spec")
    if (
        spec is not None
        and isinstance(theirs_spec, Mapping)
        and theirs_spec.get("name") != spec["name"]
    ):
        # Named first: "space=None" would hide that the sampler is what differs.
        raise JournalMismatchError(path, "sampler", theirs_spec.get("name"), spec["name"])
    if isinstance(sampler, RandomSampler):
        if study.get("space") != normalise(sampler.space):
            raise JournalMismatchError(path, "space", study.get("space"), sampler.space)
    elif spec is not None and "sampler_spec" in study:
        # A named sampler: its space and options must match, not only its class.
        if study["sampler_spec"] != normalise(spec):
            raise JournalMismatchError(path, "sampler", study["sampler_spec"], spec)
    elif study.get("sampler") != sampler_name(sampler):
        raise JournalMismatchError(path, "sampler", study.get("sampler"), sampler_name(sampler))
    _check_identity(path, study, objective, study_name, allow_objective_change)


def _check_identity(
    path: Path,
    study: Mapping[str, Any],
    objective: str | None,
    study_name: str | None,
    allow_objective_change: bool,
) -> None:
    if "study_name" not in study:
        if study_name is not None:
            logger.warning(
                "journal %s records no study name (an older hyperband wrote it); resuming it "
                "as study %r",
                path,
                study_name,
            )
    elif study["study_name"] != study_name:
        raise JournalMismatchError(path, "study_name", study["study_name"], study_name)
    if objective is None:
        return
    theirs = study.get("objective")
    if theirs is None:
        logger.warning(
            "journal %s does not record which objective wrote it (an older hyperband did); "
            "cannot check that it was %s",
            path,
            objective,
        )
    elif theirs != objective:
        if not allow_objective_change:
            raise JournalMismatchError(
                path,
                "objective",
                theirs,
                objective,
                "; if you only renamed or moved the function, pass "
                "allow_objective_change=True (CLI: --allow-objective-change)",
            )
        logger.warning(
            "journal %s was written by objective %s; resuming it with %s "
            "(allow_objective_change=True)",
            path,
            theirs,
            objective,
        )


def _retry_event(job_id: int) -> dict[str, Any]:
    return {"event": "retry", "job_id": job_id, "time": time.time()}


def _superseded(path: Path, events: list[dict[str, Any]], first_line: int) -> set[int]:
    """The indices (in ``events``) of the failed results a later retry event supersedes.

    Raises:
        JournalError: a retry event names a job without a failed result before it.
    """
    latest: dict[Any, int] = {}  # job id -> index of its latest failed result, not superseded
    out: set[int] = set()
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "result":
            if event.get("status") == "failed":
                latest[event.get("job_id")] = index
            else:
                latest.pop(event.get("job_id"), None)
        elif kind == "retry":
            job_id = event.get("job_id")
            if job_id not in latest:
                raise JournalError(
                    f"journal {str(path)!r} line {first_line + index}: retry of job "
                    f"{job_id!r}, which has no failed result before it"
                )
            out.add(latest.pop(job_id))
    return out


def earlier_attempts(events: list[dict[str, Any]]) -> dict[int, int]:
    """The attempts already spent on each job a retry event sent back to run, without a
    result since: its next result counts them (``JobRecord.attempts``)."""
    attempts: dict[int, int] = {}
    out: dict[int, int] = {}
    for event in events:
        kind = event.get("event")
        if kind == "result":
            attempts[event["job_id"]] = int(event.get("attempts", 1))
            out.pop(event["job_id"], None)
        elif kind == "retry":
            out[event["job_id"]] = attempts.get(event["job_id"], 1)
    return out


def retryable(
    path: Path, machine: Callable[[], Hyperband], events: list[dict[str, Any]], failed: list[int]
) -> list[int]:
    """The failed jobs (of ``failed``, in that order) that can run again.

    A failure resolved its job in the machine, which may have gone on because of it: closed
    the rung (promoting others) or ended the bracket. Holding the failure back is sound only
    if the journal still replays with the job pending, that is if the machine would have
    handed out the same jobs and made the same decisions without it: each candidate is tried
    by replaying ``events`` (the journal without its header) into a fresh ``machine()``, all
    of them at once first (a study where whole rungs failed), else one by one.
    """

    def fits(ids: list[int]) -> bool:
        try:
            replay(path, machine(), [*events, *(_retry_event(j) for j in ids)])
        except JournalError:
            return False
        return True

    if fits(failed):
        return list(failed)
    chosen: list[int] = []
    for job_id in failed:
        if fits([*chosen, job_id]):
            chosen.append(job_id)
    return chosen


def replay(
    path: Path,
    hb: Hyperband,
    events: list[dict[str, Any]],
    *,
    first_line: int = 2,
    on_result: Callable[[Hyperband], None] | None = None,
) -> list[JobRecord]:
    """Feed a journal's ask and result events to a fresh machine, checking each ask.

    A failed result that a later retry event supersedes is held back: its job stays pending.
    ``on_result(hb)`` is called after each result is replayed (the HTML report reads the
    sampler's trust weights as they evolved).

    Returns:
        The records of the journal's results, in journal order, then a record for each job
        the journal shows stopped without its result (the run ended first). Jobs asked but
        without a result are left pending in ``hb`` (``hb.pending``), to be run again.

    Raises:
        JournalError: an event does not match what the machine does (the journal was edited,
            or written with a sampler that is not deterministic).
    """
    jobs: dict[int, Job] = {}
    records: list[JobRecord] = []
    stops: dict[int, tuple[Any, Any]] = {}  # job id -> (step, value) of a stop without result
    held = _superseded(path, events, first_line)
    for line, event in enumerate(events, start=first_line):
        kind = event["event"]
        try:
            if kind == "retry" or line - first_line in held:
                continue  # checked by _superseded; a held-back failure leaves its job pending
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
            elif kind == "report":
                decision = hb.report(event["job_id"], event["step"], event["value"])
                if decision.name == "STOP":
                    stops[event["job_id"]] = (event["step"], event["value"])
                if decision.name != event.get("decision"):
                    raise JournalError(
                        f"journal {str(path)!r} line {line}: the machine decides "
                        f"{decision.name} on job {event['job_id']}'s report where the journal "
                        f"has {describe(event.get('decision'))}; the journal does not belong to "
                        "this study (or its stopping rule is not deterministic)"
                    )
            elif kind == "result":
                job_id = event["job_id"]
                status = event["status"]
                if status == "succeeded":
                    hb.tell(job_id, event["value"])
                elif status == "failed":
                    hb.fail(job_id, event.get("error") or "")
                elif status != "stopped" or any(j.id == job_id for j in hb.pending):
                    # A stop is the machine's own decision, replayed with its report event.
                    raise JournalError(
                        f"journal {str(path)!r} line {line}: job {job_id} has status "
                        f"{describe(status)}, which its earlier events do not explain"
                    )
                stops.pop(job_id, None)
                records.append(JobRecord.from_event(jobs[job_id], event))
                if on_result is not None:
                    on_result(hb)
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
    for job_id, (step, value) in stops.items():
        # Stopped, then the run was killed before the job's result was written.
        number: Any = value.get("default") if isinstance(value, dict) else value
        extra = {"stopped_at": step, "after_stop": "the run ended before the job did"}
        # The rule's explanation is the machine's, rebuilt by the replay as run() recorded it.
        stopped = hb.stopped_result(job_id)
        if stopped is not None and "stop" in stopped.extra:
            extra["stop"] = stopped.extra["stop"]
        records.append(JobRecord(jobs[job_id], "stopped", float(number), extra))
    return records


def load(
    path: str | os.PathLike[str],
    space: Mapping[str, Any] | Sampler | None = None,
    *,
    early_stop: Any = None,
) -> tuple[Hyperband, list[JobRecord]]:
    """Rebuild a study's machine and records from its journal (read-only; see RunResult).

    ``space`` is needed only for a custom sampler, ``early_stop`` only for a custom stopping
    rule: the journal describes the named ones.

    Raises:
        JournalError: the file is not a journal, is corrupt, or does not replay.
    """
    p = Path(path)
    events, _, size = read(p)
    return load_events(p, events, size, space, early_stop=early_stop)


def load_events(
    p: Path,
    events: list[dict[str, Any]],
    size: int,
    space: Mapping[str, Any] | Sampler | None = None,
    *,
    early_stop: Any = None,
    on_result: Callable[[Hyperband], None] | None = None,
) -> tuple[Hyperband, list[JobRecord]]:
    """``load`` on the ``events`` (and file ``size``) ``read(p)`` returned; ``on_result``:
    see ``replay``."""
    if not events:
        if size:
            raise JournalError(
                f"journal {str(p)!r} holds only the beginning of a study header (its first "
                "write was cut short): the study never started"
            )
        raise JournalError(f"journal {str(p)!r} is empty: it holds no study")
    study = events[0]
    if space is None:
        spec = study.get("sampler_spec")
        if isinstance(spec, Mapping) and spec.get("name") != "random":
            try:
                space = sampler_from_spec(spec)
            except (HyperbandError, KeyError, TypeError, ValueError, ImportError) as exc:
                raise JournalError(
                    f"journal {str(p)!r}: its sampler {describe(spec.get('name'))} cannot be "
                    f"rebuilt: {exc}"
                ) from exc
        else:
            space = study.get("space")
        if space is None:
            raise JournalError(
                f"journal {str(p)!r} was written by a study with a custom sampler "
                f"({study.get('sampler')}); pass it as space="
            )
    params = dict(study.get("params") or {})
    if early_stop is not None:
        params["early_stop"] = early_stop
    try:
        hb = Hyperband(space, **params)
    except HyperbandError as exc:
        raise JournalError(f"journal {str(p)!r}: its study cannot be rebuilt: {exc}") from exc
    except TypeError as exc:
        raise JournalError(f"journal {str(p)!r} has malformed study parameters: {exc}") from exc
    # Reading a journal needs no objective, and takes the study's name from it.
    check_header(p, study, hb.params, hb.sampler, study_name=study.get("study_name"))
    return hb, replay(p, hb, events[1:], on_result=on_result)
