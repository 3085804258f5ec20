"""KDESampler's trust between budgets: rank consistency with the top budget, MFES-HB's weights,
and trust="rank", which passes over a budget that ranks configurations backwards."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband import KDESampler
from hyperband.core.errors import ConfigurationError

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}


def _feed(sampler: KDESampler, n: int, seed: int = 0) -> None:
    """n configurations at budget 1 (loss rising with x: the cheap budget prefers small x) and
    the first 8 of them again at budget 9, where the loss FALLS with x: budget 1 ranks them
    backwards."""
    configs = hyperband.RandomSampler(SPACE).sample(np.random.default_rng(seed), n)
    for c in configs:
        sampler.observe(c, 1, c["x"])
    for c in configs[:8]:
        sampler.observe(c, 9, -c["x"])


def test_a_budget_that_ranks_backwards_gets_p_0_and_weight_0() -> None:
    sampler = KDESampler(SPACE, min_points=3)
    assert sampler.consistency == {}
    assert sampler.trust_weights == {}
    _feed(sampler, 40)
    assert sampler.consistency == {1: 0.0, 9: 1.0}
    assert sampler.trust_weights == {1: 0.0, 9: 1.0}


def test_trust_rank_moves_the_model_off_a_backwards_budget() -> None:
    off, rank = KDESampler(SPACE, min_points=5), KDESampler(SPACE, min_points=5, trust="rank")
    for s in (off, rank):
        _feed(s, 40)
    # 8 results at budget 9 are too few for a model (2 x 5 needed): BOHB keeps budget 1,
    # which ranks backwards; trust="rank" passes over it and draws uniformly instead.
    assert off.model_budget == 1
    assert rank.model_budget is None
    rng = np.random.default_rng(1)
    drawn = [c["x"] for c in off.sample(rng, 40)]
    assert np.median(drawn) < 0.35  # where budget 1's losses are small, the wrong end
    drawn = [c["x"] for c in rank.sample(np.random.default_rng(1), 40)]
    assert 0.3 < np.median(drawn) < 0.7


def test_a_budget_that_ranks_well_keeps_the_model() -> None:
    sampler = KDESampler(SPACE, min_points=5, trust="rank")
    configs = hyperband.RandomSampler(SPACE).sample(np.random.default_rng(0), 40)
    for c in configs:
        sampler.observe(c, 1, c["x"])
    for c in configs[:8]:
        sampler.observe(c, 9, c["x"] + 0.01)
    assert sampler.consistency[1] == 1.0
    assert sampler.model_budget == 1
    assert sampler.trust_weights == {1: 0.5, 9: 0.5}


def test_too_few_shared_configurations_leave_a_budget_unmeasured_not_untrusted() -> None:
    sampler = KDESampler(SPACE, min_points=3, trust="rank")
    configs = hyperband.RandomSampler(SPACE).sample(np.random.default_rng(0), 30)
    for c in configs:
        sampler.observe(c, 1, c["x"])
    for c in configs[:4]:
        sampler.observe(c, 9, -c["x"])
    (other,) = hyperband.RandomSampler(SPACE).sample(np.random.default_rng(1), 1)
    sampler.observe(other, 9, 0.5)  # five results at the top, four shared with budget 1
    assert sampler.consistency == {1: None, 9: 1.0}
    assert sampler.model_budget == 1  # BOHB's benefit of the doubt
    assert sampler.trust_weights == {9: 1.0}


def test_failures_are_left_out_of_the_pairs() -> None:
    sampler = KDESampler(SPACE, min_points=3)
    configs = hyperband.RandomSampler(SPACE).sample(np.random.default_rng(0), 12)
    for c in configs:
        sampler.observe(c, 1, c["x"])
    for c in configs[:8]:
        sampler.observe(c, 9, c["x"])
    sampler.observe(configs[8], 9, None)
    assert sampler.consistency == {1: 1.0, 9: 1.0}


def test_trust_is_an_option_that_round_trips_and_rejects_bad_values() -> None:
    sampler = KDESampler(SPACE, trust="rank")
    assert sampler.options["trust"] == "rank"
    assert KDESampler(sampler.space, **sampler.options).options == sampler.options
    # not recorded when off: the journals of release 0.1's KDE studies still match
    assert "trust" not in KDESampler(SPACE).options
    with pytest.raises(ConfigurationError, match=r"trust must be one of 'off', 'rank'.*'mix'"):
        KDESampler(SPACE, trust="mix")


def test_weights_are_visible_in_the_machine_stats_and_the_text_report(tmp_path: Path) -> None:
    def objective(config: dict[str, Any], budget: float) -> float:
        return -((config["x"] - 0.3) ** 2) - (config["y"] - 0.6) ** 2 - 1 / budget

    journal = tmp_path / "kde.jsonl"
    result = hyperband.run(
        objective,
        SPACE,
        max_budget=9,
        sampler="kde",
        sampler_options={"trust": "rank", "min_points": 2},
        iterations=3,
        seed=3,
        executor="serial",
        journal=journal,
        progress=False,
    )
    stats = result.stats
    assert stats is not None
    assert stats.trust
    assert math.isclose(sum(stats.trust.values()), 1.0)
    assert all(0.0 <= w <= 1.0 for w in stats.trust.values())
    assert json.loads(result.to_json())["stats"]["trust"]
    from hyperband.report.text import summary_lines

    lines = summary_lines(hyperband.RunResult.from_journal(journal))
    assert any(line.startswith("trust in each budget") for line in lines)
    # a random sampler measures nothing
    plain = hyperband.run(
        objective, SPACE, max_budget=9, seed=3, executor="serial", progress=False, sampler="random"
    )
    assert plain.stats is not None
    assert plain.stats.trust is None


def test_trust_rank_is_deterministic_and_replays_from_a_snapshot() -> None:
    def drive(hb: hyperband.Hyperband, n: int) -> list[Any]:
        out = []
        for _ in range(n):
            job = hb.ask()
            if not isinstance(job, hyperband.Job):
                break
            out.append((job.id, job.budget, job.config))
            x = job.config["x"]
            # the cheap budgets rank backwards: their loss rises where the top's falls
            hb.tell(job.id, x if job.budget < 9 else -x)
        return out

    def machine() -> hyperband.Hyperband:
        sampler = KDESampler(SPACE, min_points=2, trust="rank")
        return hyperband.Hyperband(sampler, max_budget=9, mode="minimize", iterations=4, seed=5)

    a, b = machine(), machine()
    assert drive(a, 200) == drive(b, 200)
    assert a.stats.trust == b.stats.trust
    assert a.stats.trust is not None
    assert a.stats.trust.get(1, 0.0) < 0.05  # budget 1 ranks backwards
    c = machine()
    first = drive(c, 40)
    restored = hyperband.Hyperband.restore(json.loads(json.dumps(c.snapshot())))
    d = machine()
    assert first + drive(restored, 200) == drive(d, 400)
