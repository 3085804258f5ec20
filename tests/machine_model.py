"""An independent model of what a finished Hyperband run must look like.

The tests record every job and result, then check the record against the rules of
DESIGN.md section 4 without looking inside the machine.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import hyperband
from hyperband import Job, Schedule


class Record:
    """Everything a driver sees: the jobs handed out and how each one ended."""

    def __init__(self, sched: Schedule, mode: str) -> None:
        self.sched = sched
        self.mode = mode
        self.jobs: dict[int, Job] = {}
        self.values: dict[int, float] = {}  # job id -> value (successes)
        self.failed: set[int] = set()

    def asked(self, job: Job) -> None:
        assert job.id not in self.jobs, f"job id {job.id} handed out twice"
        if self.jobs:
            assert job.id > max(self.jobs), "job ids must increase"
        self.jobs[job.id] = job

    def resolved(self, job_id: int) -> bool:
        return job_id in self.values or job_id in self.failed

    def signed(self, value: float) -> float:
        return -value if self.mode == "maximize" else value

    def brackets(self) -> dict[tuple[int, int], dict[int, list[Job]]]:
        out: dict[tuple[int, int], dict[int, list[Job]]] = defaultdict(lambda: defaultdict(list))
        for job in self.jobs.values():
            out[(job.iteration, job.bracket)][job.rung].append(job)
        return out

    def check_complete(self, iterations: int, adaptive: bool = False) -> None:
        """Check a run that reached DONE against the rules (``adaptive``: bracket runs drawn,
        so only their number and each bracket's run numbering are fixed)."""
        assert all(self.resolved(j) for j in self.jobs), "DONE with unresolved jobs"
        brackets = self.brackets()
        if adaptive:
            assert len(brackets) == iterations * len(self.sched.brackets), "runs in all"
            for s in {s for _, s in brackets}:
                runs = sorted(t for t, s2 in brackets if s2 == s)
                assert runs == list(range(len(runs))), f"bracket {s}'s runs are numbered"
        else:
            expected_keys = {(t, b.s) for t in range(iterations) for b in self.sched.brackets}
            assert set(brackets) == expected_keys, "every bracket of every iteration runs once"
        for (t, s), rungs in brackets.items():
            plan = self.sched.bracket(s).rungs
            assert len(rungs[0]) == plan[0].n_configs, f"({t},{s}) rung 0 size"
            for i, plan_rung in enumerate(plan):
                jobs = rungs.get(i, [])
                assert all(j.budget == plan_rung.budget for j in jobs), f"({t},{s},{i}) budget"
                assert len({j.config_id for j in jobs}) == len(jobs), "config twice in a rung"
                if i + 1 < len(plan):
                    self._check_promotion(
                        t, s, i, jobs, rungs.get(i + 1, []), plan[i + 1].n_configs
                    )

    def _check_promotion(
        self, t: int, s: int, i: int, lower: list[Job], upper: list[Job], k: int
    ) -> None:
        ok = sorted(
            (self.signed(self.values[j.id]), j.config_id) for j in lower if j.id in self.values
        )
        top = {cid for _, cid in ok[:k]}
        got = {j.config_id for j in upper}
        assert got == top, f"({t},{s}) rung {i + 1} must be the top {k} of rung {i}: {got} != {top}"
        by_config = {j.config_id: j for j in lower}
        for j in upper:
            prev = by_config[j.config_id]
            assert j.resume_from == prev.id
            assert j.previous_budget == prev.budget
            assert j.config == prev.config
            assert prev.id in self.values, "a failed job was promoted"

    def expected_best(self) -> tuple[Any, float, Any] | None:
        ok = [self.jobs[j] for j in self.values]
        if not ok:
            return None
        top_budget = max(j.budget for j in ok)
        job = min(
            (j for j in ok if j.budget == top_budget),
            key=lambda j: (self.signed(self.values[j.id]), j.config_id),
        )
        return job.config_id, self.values[job.id], job.budget

    def check_best(self, best: hyperband.Best | None) -> None:
        exp = self.expected_best()
        if exp is None:
            assert best is None
        else:
            assert best is not None
            assert (best.config_id, best.value, best.budget) == exp
            assert best.config == self.jobs[best.job_id].config
            assert self.jobs[best.job_id].config_id == best.config_id


def count_mispromotions(
    ended: Iterable[tuple[Job, str, float | None]], eta: float, mode: str
) -> int:
    """ASHA's mispromotions, from the jobs alone: per (bracket, rung), the promoted
    configurations that are not among the best ``floor(r / eta)`` successes at the end, where
    ``r`` counts the rung's successes and stops (ties broken by config id, like promotions)."""
    sign = -1.0 if mode == "maximize" else 1.0
    rungs: dict[tuple[int, int], list[tuple[Job, str, float | None]]] = defaultdict(list)
    for item in ended:
        rungs[item[0].bracket, item[0].rung].append(item)
    count = 0
    for (bracket, rung), items in rungs.items():
        promoted = {j.config_id for j, _, _ in rungs.get((bracket, rung + 1), [])}
        if not promoted:
            continue
        ranked = sorted(
            (sign * value, j.config_id) for j, status, value in items if status == "succeeded"
        )
        r = sum(status in ("succeeded", "stopped") for _, status, _ in items)
        top = {cid for _, cid in ranked[: min(len(ranked), math.floor(r / eta + 1e-9))]}
        count += len(promoted - top)
    return count
