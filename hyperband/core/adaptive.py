"""Which bracket runs next: NNI's cycle, or Hyper-Tune's adaptive choice from trust weights.

``brackets="cycle"`` runs the brackets in NNI's order, ``s = s_max, ..., 0``, again and again.
``brackets="adaptive"`` (Hyper-Tune, Li et al., VLDB 2022) draws each new bracket run: bracket
``s`` with probability proportional to the trust weight of its first rung's budget ``r_s``.
Since a run of bracket ``s`` starts ``n_s`` new configurations, a new configuration then starts
in bracket ``s`` with probability ``∝ w(r_s) n_s``, which is Hyper-Tune's rule; with equal
weights it is the cycle's share of every bracket.

The weights are MFES-HB's, measured here from the results themselves, so they need no model
and work with any sampler: ``p`` of a budget is the fraction of pairs of configurations,
evaluated at both that budget and ``max_budget``, that the two put in the same order
(`hyperband.core.trust`), and ``w ∝ p ** 3``. ``max_budget`` has ``p = 1``. A budget with
fewer than ``MIN_PAIRS`` configurations evaluated at both gets the weight of the next larger
measured budget (rank consistency rises with the budget on every workload measured so far).
Until ``max_budget`` has ``MIN_TOP`` results and at least one cheaper budget is measured, runs
follow the cycle: there is nothing to adapt to yet. Then a share ``EXPLORE`` (10%) of the runs
keeps the cycle's even split, so that every bracket still runs now and then and a budget whose
trust was low can be measured again.

The draw for the run numbered ``seq`` uses an RNG derived from ``(seed, seq)``, and the weights
depend only on the results told before the run starts, so the same seed and the same sequence
of calls give the same brackets; a journal replays them exactly.

A bracket's ``iteration`` (on its jobs) counts the runs of that same bracket before it, so
``(iteration, s)`` names one run and keys its configurations' draws; in the cycle this is the
usual iteration. ``iterations=N`` means ``N (s_max + 1)`` bracket runs in both modes.

Asynchronous mode (ASHA, `hyperband.core.asha`) has no bracket runs: each new configuration
joins a bracket, in the balanced order `hyperband.core.asha.bracket_order` with ``"cycle"``.
With ``"adaptive"`` it follows that order under the same threshold (``MIN_TOP`` results at
``max_budget`` and one cheaper budget measured); after it, new configuration number ``seq``
starts in bracket ``s`` with probability ``(1 - EXPLORE) w(r_s) n_s / sum(w n) + EXPLORE
n_s / sum(n)`` (`BracketChooser.config_weights`): Hyper-Tune's rule, with the same share
``EXPLORE`` kept at the cycle's split (the balanced order gives bracket ``s`` the share
``n_s / sum(n)``). It is drawn from an RNG derived from ``(seed, seq)``, with the same
weights as the synchronous draw, measured on every success told before that ask. A
configuration's ``iteration`` is then ``c // n_s`` and its draw's index ``c % n_s``, where
``c`` counts the configurations bracket ``s`` started before it, exactly as in the balanced
order; ``iterations=N`` still means ``N sum(n)`` new configurations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from hyperband.core.errors import SnapshotError
from hyperband.core.schedule import Schedule
from hyperband.core.trust import rank_consistency, trust_weights

__all__ = ["BRACKET_MODES", "EXPLORE", "BracketChooser"]

BRACKET_MODES: Final = ("cycle", "adaptive")
#: The share of bracket runs drawn evenly, whatever the weights.
EXPLORE: Final = 0.1
# Draws use SeedSequence keys of length 2 and 3 (iteration, s[, k]); length 4 cannot collide.
_STREAM: Final = (7, 0)


class BracketChooser:
    """Numbers the bracket runs and chooses each one's ``s``.

    Args:
        sched: the schedule.
        seed: the machine's seed.
        adaptive: draw runs from the trust weights (``True``) or cycle (``False``).
    """

    __slots__ = (
        "_adaptive",
        "_budgets",
        "_results",
        "_sched",
        "_seed",
        "_sizes",
        "_top",
        "_trust",
        "runs",
    )

    def __init__(self, sched: Schedule, seed: int, adaptive: bool) -> None:
        self._sched = sched
        self._seed = seed
        self._adaptive = adaptive
        self._top = float(sched.max_budget)
        # each bracket's first budget, by s
        self._budgets = {b.s: float(b.rungs[0].budget) for b in sched.brackets}
        self._sizes = {b.s: b.rungs[0].n_configs for b in sched.brackets}  # n_s, by s
        self.runs: dict[int, int] = {}  # s -> runs started
        self._results: dict[float, dict[int, float]] = {}  # budget -> config_id -> loss
        # trust(), until a result changes it: asynchronous mode asks for it at every new
        # configuration, and most results (a cheap budget's, of a configuration not at
        # max_budget) change no pair.
        self._trust: dict[int, float] | None = None

    @property
    def schedule(self) -> Schedule:
        """The schedule whose brackets it chooses from."""
        return self._sched

    @property
    def adaptive(self) -> bool:
        """Whether runs are drawn from the trust weights."""
        return self._adaptive

    def next(self, seq: int) -> tuple[int, int]:
        """The ``(s, iteration)`` of run ``seq``, counted as started."""
        n = len(self._sched.brackets)
        if not self._adaptive:
            return self._sched.s_max - seq % n, seq // n
        s = self._draw(seq, self.weights())
        if s is None:
            s = self._sched.s_max - seq % n
        iteration = self.runs.get(s, 0)
        self.runs[s] = iteration + 1
        return s, iteration

    def undo(self, s: int) -> None:
        """Take back the last run of bracket ``s`` (its start failed)."""
        if self._adaptive:
            self.runs[s] -= 1

    def record(self, config_id: int, budget: float, loss: float) -> None:
        """A success: ``config_id`` at ``budget`` had ``loss`` (lower is better)."""
        if self._adaptive:
            b = float(budget)
            if b == self._top or config_id in self._results.get(self._top, ()):
                self._trust = None
            self._results.setdefault(b, {})[config_id] = loss

    def consistency(self) -> dict[float, float | None]:
        """Each budget's rank consistency with ``max_budget`` (``{}`` before ``MIN_TOP``)."""
        return rank_consistency(self._results, self._top, sorted(set(self._budgets.values())))

    def trust(self) -> dict[int, float]:
        """Each bracket's trust, the weight of its first budget (unnormalised), by ``s``.

        ``{}`` until the threshold (see the module docstring): the draws follow the cycle.
        """
        if self._trust is None:
            self._trust = self._measure()
        return self._trust

    def _measure(self) -> dict[int, float]:
        p = self.consistency()
        measured = {b: v for b, v in p.items() if v is not None}
        if len(measured) < 2:
            return {}
        w = trust_weights(measured)
        known = sorted(w)

        def weight(b: float) -> float:
            # An unmeasured budget ranks no better than the next larger measured one (rank
            # consistency rises with the budget on every workload measured so far).
            return w[b] if b in w else w[next(k for k in known if k > b)]

        return {s: weight(b) for s, b in self._budgets.items()}

    def weights(self) -> dict[int, float]:
        """Each bracket's share of the next run, by ``s`` (``{}`` while it cycles)."""
        raw = self.trust()
        if not raw:
            return {}
        total = sum(raw.values())
        n = len(raw)
        # A share EXPLORE of the runs keeps the cycle's even split, so every bracket runs now
        # and then and a budget's measured trust can recover.
        return {s: (1 - EXPLORE) * v / total + EXPLORE / n for s, v in sorted(raw.items())[::-1]}

    def config_weights(self) -> dict[int, float]:
        """Each bracket's share of the next new asynchronous configuration, by ``s``.

        ``(1 - EXPLORE) w(r_s) n_s / sum(w n) + EXPLORE n_s / sum(n)``; ``{}`` while the
        balanced order holds.
        """
        raw = self.trust()
        if not raw:
            return {}
        sizes = self._sizes
        trusted = sum(v * sizes[s] for s, v in raw.items())
        total = sum(sizes.values())
        # As for runs, a share EXPLORE keeps the balanced order's split, n_s / sum(n).
        return {
            s: (1 - EXPLORE) * v * sizes[s] / trusted + EXPLORE * sizes[s] / total
            for s, v in sorted(raw.items())[::-1]
        }

    def pick(self, seq: int) -> int | None:
        """The bracket of asynchronous new configuration ``seq``, drawn from
        `config_weights`; ``None`` while the balanced order holds."""
        return self._draw(seq, self.config_weights()) if self._adaptive else None

    def _draw(self, seq: int, w: Mapping[int, float]) -> int | None:
        if not w:
            return None
        rng = np.random.default_rng(
            np.random.SeedSequence(self._seed, spawn_key=(*_STREAM, seq, 0))
        )
        ss = list(w)
        return int(ss[int(rng.choice(len(ss), p=np.array([w[s] for s in ss])))])

    def dump(self) -> dict[str, Any]:
        """The chooser's part of a snapshot (adaptive mode only)."""
        return {
            "runs": [[s, n] for s, n in sorted(self.runs.items())],
            "results": [
                [b, [[cid, loss] for cid, loss in sorted(r.items())]]
                for b, r in sorted(self._results.items())
            ],
        }

    def load(self, state: Mapping[str, Any]) -> None:
        """Read the chooser back from a snapshot."""
        try:
            self.runs = {int(s): int(n) for s, n in state["runs"]}
            self._results = {
                float(b): {int(cid): float(loss) for cid, loss in r} for b, r in state["results"]
            }
            self._trust = None
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"state: malformed adaptive bracket state: {exc}") from None
