"""Which NNI trial ran which job, and when a trial's end fails its job.

NNI's local training service hands queued parameters to whichever trial asks first, so a trial
end's ``hyper_params`` may be another trial's: a trial's job is known only from its metrics,
which carry the parameter id it really ran. A trial that ended without reporting anything is an
*orphan*: its job is settled by elimination (see ``_Trials.lost``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Final

_logger = logging.getLogger("hyperband.integrations.nni")

# NNI's manager stores a metric in its database before forwarding it, but notices a trial's end
# by polling, so a trial's last metric can reach us after its end. A trial end therefore takes
# effect only after this many pings (0.5 to 1 s), ample for the metric to arrive (milliseconds).
_GRACE_PINGS: Final = 2


class _Trials:
    """The join of NNI's trials to the machine's jobs."""

    __slots__ = ("claims", "ended", "grace", "live_claimed", "n_ended", "n_forms", "orphans")

    def __init__(self) -> None:
        self.claims: dict[str, int] = {}  # trial id -> job id, from the trial's metrics
        self.live_claimed: set[str] = set()  # claimed trials that have not ended
        self.ended: set[str] = set()
        self.grace: dict[str, list[Any]] = {}  # ended trial -> [event, pings seen]
        self.orphans: list[str] = []  # trials that ended without reporting anything
        self.n_forms = 0  # trials NNI created or will create for our parameters
        self.n_ended = 0  # ... and how many of them ended

    def claim(self, trial: str, jid: int) -> bool:
        """Join ``trial`` to job ``jid`` (its metric says so); True when orphans may settle."""
        known = self.claims.get(trial)
        if known is None:
            self.claims[trial] = jid
            if trial not in self.ended:
                self.live_claimed.add(trial)
            elif trial in self.orphans:  # a late metric: not an orphan after all
                self.orphans.remove(trial)
            return bool(self.orphans)
        if known != jid:
            _logger.error(
                "HyperbandAdvisor: trial %s reported for parameter ids %d and %d; only the "
                "first one is joined to it",
                trial,
                known,
                jid,
            )
        return False

    def end(self, trial: str, event: Any, *, pending: bool) -> None:
        """One of our trials ended; with its job ``pending`` its end waits for a late metric."""
        self.n_ended += 1
        self.live_claimed.discard(trial)
        if pending:
            self.grace[trial] = [event, 0]

    def expire(self) -> list[tuple[str, Any, int | None]]:
        """Age the trial ends by one ping; ``(trial, event, job id)`` of those that took effect.

        A trial whose grace is over without a claimed job becomes an orphan (job id None).
        """
        expired = []
        for trial, entry in self.grace.items():
            entry[1] += 1
            if entry[1] >= _GRACE_PINGS:
                expired.append(trial)
        over = []
        for trial in expired:
            event = self.grace.pop(trial)[0]
            jid = self.claims.get(trial)
            if jid is None:
                self.orphans.append(trial)
            over.append((trial, event, jid))
        return over

    def lost(self, pending: Iterable[int]) -> tuple[list[int], str]:
        """The pending jobs the orphans took with them, and the orphans (then forgotten).

        Such a trial's job cannot be named (see ``claims``). But once every trial of ours that
        has not ended has reported (claimed its job), no trial can report any other pending
        job: those are exactly the ones the silent trials ran. Nothing while that is not so.
        """
        if not self.orphans or any(t not in self.claims for t in self.grace):
            return [], ""
        if self.n_forms - self.n_ended - len(self.live_claimed) > 0:
            return [], ""  # a running trial may still report one of them
        claimed = set(self.claims.values())
        lost = sorted(jid for jid in pending if jid not in claimed)
        trials = ", ".join(self.orphans)
        self.orphans.clear()
        return lost, trials
