"""OptunaSampler: Optuna's samplers behind the model-based sampler protocol."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

optuna = pytest.importorskip("optuna")

import hyperband  # noqa: E402
from hyperband import ArgumentTypeError, ConfigurationError, Hyperband, RandomSampler  # noqa: E402
from hyperband.core.sampling import make_sampler, sampler_from_spec, sampler_spec  # noqa: E402
from hyperband.integrations.optuna import OptunaSampler  # noqa: E402
from hyperband.testing import search_spaces  # noqa: E402
from tests.test_space import _check_in_space, _check_plain  # noqa: E402

SEEDS = st.integers(0, 2**32 - 1)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NESTED: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [-1, 1]},
    "k": {"_type": "randint", "_value": [0, 10]},
    "q": {"_type": "quniform", "_value": [0, 1, 0.1]},
    "n": {"_type": "qlognormal", "_value": [0, 1, 0.5]},
    "optimizer": {
        "_type": "choice",
        "_value": [
            "plain",
            [1, 2],
            {"_name": "sgd", "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}},
        ],
    },
}


def loss(config: dict[str, Any]) -> float:
    extra = 0.0 if config["optimizer"] == "plain" else 0.5
    return float((config["x"] - 0.3) ** 2 + abs(config["k"] - 3) / 10 + extra)


def feed(sampler: Any, space: Any, n: int, seed: int = 0, budget: int = 1) -> None:
    for config in RandomSampler(space).sample(np.random.default_rng(seed), n):
        sampler.observe(config, budget, loss(config) if "x" in config else 0.0)


# ---------------------------------------------------------------------- shapes


@PROPERTY
@given(search_spaces(max_params=3), SEEDS)
def test_nni_draws_are_in_the_space(space: dict[str, Any], seed: int) -> None:
    sampler = OptunaSampler(space, min_trials=3)
    rng = np.random.default_rng(seed)
    for i, config in enumerate(RandomSampler(space).sample(rng, 8)):
        sampler.observe(config, 1, float(i % 3) if i != 5 else None)
    pending = [(c, 1) for c in RandomSampler(space).sample(rng, 2)]
    for config in sampler.sample(rng, 3, pending=pending):
        _check_in_space(config, space)
        _check_plain(config)
        assert json.loads(json.dumps(config)) == config


@PROPERTY
@given(st.data(), SEEDS)
def test_configspace_draws_pass_its_checks(data: st.DataObject, seed: int) -> None:
    pytest.importorskip("ConfigSpace")
    from tests.cs_strategies import check_valid, configspaces

    cs = data.draw(configspaces(max_size=5))
    sampler = OptunaSampler(cs, min_trials=3)
    rng = np.random.default_rng(seed)
    for i, config in enumerate(RandomSampler(cs).sample(rng, 8)):
        sampler.observe(config, 1, float(i % 4))
    sampler.observe({"nonsense": [1]}, 1, None)
    pending = [(c, 1) for c in RandomSampler(cs).sample(rng, 2)]
    for config in sampler.sample(rng, 3, pending=pending):
        check_valid(cs, config)


def test_the_gp_sampler_needs_torch_and_says_so() -> None:
    """GP is the one named sampler whose engine (torch) is not in the optuna extra: without it
    the name is refused with the install line; with it, it runs like the others."""
    import importlib.util

    if importlib.util.find_spec("torch") is not None:  # pragma: no cover - torch not in CI
        test_every_named_sampler_runs_a_study("gp")
        return
    with pytest.raises(hyperband.HyperbandError, match="torch"):
        OptunaSampler(NESTED, "gp")


@pytest.mark.parametrize("name", ["tpe", "random", "qmc", "cmaes"])
def test_every_named_sampler_runs_a_study(name: str) -> None:
    if name == "cmaes":
        pytest.importorskip("cmaes")
    space = {"x": NESTED["x"], "k": NESTED["k"], "optimizer": NESTED["optimizer"]}
    hb = Hyperband(OptunaSampler(space, name), max_budget=9, seed=1, mode="minimize")
    configs = []
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        _check_in_space(job.config, space)
        configs.append(json.dumps(job.config, sort_keys=True))
        hb.tell(job.id, loss(job.config))
    assert hb.best is not None
    # Draws spread out: few repeats among first-rung configurations.
    assert len(set(configs)) > len(configs) // 3


def test_qmc_walks_one_sequence() -> None:
    sampler = OptunaSampler({"x": NESTED["x"]}, "qmc")
    xs = []
    for i in range(8):
        (config,) = sampler.sample(np.random.default_rng(i), 1)
        sampler.observe(config, 1, 0.0)
        xs.append(config["x"])
    # The first draw has no search space yet (Optuna's random fallback); then points 1..7 of
    # one Sobol sequence, indexed by the configurations seen, not by calls.
    assert sorted(xs[1:]) == [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75]


def test_qmc_counts_the_pending_configurations_in_its_index() -> None:
    # Jobs asked at once: each draw sees the earlier ones running, and takes the next point.
    sampler = OptunaSampler({"x": NESTED["x"]}, "qmc")
    (config,) = sampler.sample(np.random.default_rng(0), 1)
    sampler.observe(config, 1, 0.0)  # a search space, past the random first draw
    pending: list[tuple[dict[str, Any], int]] = []
    for i in range(1, 8):
        (config,) = sampler.sample(np.random.default_rng(i), 1, pending=pending)
        pending.append((config, 1))
    xs = sorted(c["x"] for c, _ in pending)
    assert xs == [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75]


# ---------------------------------------------------------------------- determinism


def test_draws_depend_only_on_rng_pending_and_observations() -> None:
    a = OptunaSampler(NESTED)
    b = OptunaSampler(NESTED)
    feed(a, NESTED, 30)
    # b draws in between, which advances any random state a sampler would keep.
    for i in range(10):
        b.sample(np.random.default_rng(100 + i), 1)
    feed(b, NESTED, 30)
    pending = [(RandomSampler(NESTED).sample(np.random.default_rng(9), 1)[0], 3)]
    for seed in range(5):
        assert a.sample(np.random.default_rng(seed), 2, pending=pending) == b.sample(
            np.random.default_rng(seed), 2, pending=pending
        )
    assert a.sample(np.random.default_rng(0), 1) != a.sample(np.random.default_rng(1), 1)


@pytest.mark.parametrize("name", ["tpe", "random", "qmc", "cmaes"])
def test_the_kept_study_draws_as_a_study_rebuilt_from_the_observations(name: str) -> None:
    """One study per budget is kept and grows with each observation; what earlier draws
    added to it (their asked trials, the pending configurations' running trials) must not
    change later draws: a restored machine never made those draws."""
    if name == "cmaes":
        pytest.importorskip("cmaes")
    space = {"x": NESTED["x"], "k": NESTED["k"], "optimizer": NESTED["optimizer"]}
    kept = OptunaSampler(space, name, min_trials=5)
    rng = np.random.default_rng(3)
    observed: list[tuple[dict[str, Any], int, float]] = []
    for step in range(40):
        pending = [(c, 1) for c in RandomSampler(space).sample(np.random.default_rng(step), 2)]
        (config,) = kept.sample(rng, 1, pending=pending)
        budget = 1 if step % 3 else 3  # the study's budget changes on the way
        observed.append((config, budget, loss(config)))
        kept.observe(config, budget, loss(config))
        if step % 10 == 9:
            rebuilt = OptunaSampler(space, name, min_trials=5)
            for c, b, v in observed:
                rebuilt.observe(c, b, v)
            for seed in range(3):
                assert kept.sample(np.random.default_rng(seed), 2, pending=pending) == (
                    rebuilt.sample(np.random.default_rng(seed), 2, pending=pending)
                )


@pytest.mark.parametrize("name", ["tpe", "random", "qmc"])
def test_a_kept_study_holds_only_the_observations_between_draws(name: str) -> None:
    """Issue 18 item 10: what a draw adds to a kept study (its asked trial, the pending
    configurations' running trials) is dropped afterwards, so a draw's cost does not grow with
    the draws made before it. Fails too if Optuna's InMemoryStorage changes shape (pinned)."""
    space = {"x": NESTED["x"], "k": NESTED["k"], "optimizer": NESTED["optimizer"]}
    sampler = OptunaSampler(space, name, min_trials=5)
    feed(sampler, space, 12)
    pending = [(c, 1) for c in RandomSampler(space).sample(np.random.default_rng(1), 3)]
    rng = np.random.default_rng(2)
    for step in range(4):
        sampler.sample(rng, 2, pending=pending)
        (study, held) = sampler._studies[1]
        trials = study.get_trials(deepcopy=False)
        assert held == len(trials) == 12 + step
        assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
        assert [t.number for t in trials] == list(range(held))
        feed(sampler, space, 1, seed=10 + step)


def test_a_sampler_object_is_reseeded_from_rng() -> None:
    made = optuna.samplers.TPESampler(seed=3, n_startup_trials=5)
    a = OptunaSampler(NESTED, made)
    made.reseed_rng()  # the user's object is copied: this changes nothing
    b = OptunaSampler(NESTED, optuna.samplers.TPESampler(seed=3, n_startup_trials=5))
    for s in (a, b):
        feed(s, NESTED, 20)
        s.sample(np.random.default_rng(50), 1)
    draws = [a.sample(np.random.default_rng(seed), 1)[0] for seed in range(4)]
    assert draws == [b.sample(np.random.default_rng(seed), 1)[0] for seed in range(4)]
    assert len({json.dumps(d, sort_keys=True) for d in draws}) == 4
    assert sampler_spec(a) is None


def test_a_sampler_objects_nested_samplers_are_reseeded_too() -> None:
    # With no observations TPE draws from its inner RandomSampler (its startup trials): that
    # one must follow rng as well, or every startup draw is the same configuration.
    sampler = OptunaSampler(NESTED, optuna.samplers.TPESampler(seed=0))
    draws = [sampler.sample(np.random.default_rng(seed), 1)[0] for seed in range(4)]
    assert len({json.dumps(d, sort_keys=True) for d in draws}) == 4
    # In a study: Hyperband(R=9) starts 17 configurations, all different.
    hb = Hyperband(OptunaSampler(NESTED, optuna.samplers.TPESampler(seed=0)), max_budget=9, seed=1)
    configs = []
    while isinstance(job := hb.ask(), hyperband.Job):
        if job.rung == 0:
            configs.append(json.dumps(job.config, sort_keys=True))
        hb.tell(job.id, loss(job.config))
    assert len(configs) == 17
    assert len(set(configs)) == 17


def _asks(hb: Hyperband, n: int, trace: list[Any]) -> None:
    for _ in range(n):
        job = hb.ask()
        if not isinstance(job, hyperband.Job):
            return
        trace.append(job.to_dict())
        hb.tell(job.id, loss(job.config))


@pytest.mark.parametrize("kind", ["named", "object"])
def test_restore_continues_exactly(kind: str) -> None:
    def make() -> OptunaSampler:
        if kind == "named":
            return OptunaSampler(NESTED, min_trials=5)
        return OptunaSampler(NESTED, optuna.samplers.TPESampler(multivariate=True, seed=0))

    hb = Hyperband(make(), max_budget=27, seed=4, mode="minimize", iterations=3)
    before: list[Any] = []
    _asks(hb, 70, before)
    pending = hb.ask()  # one job left running across the snapshot
    assert isinstance(pending, hyperband.Job)
    state = json.loads(json.dumps(hb.snapshot()))
    again = Hyperband.restore(state) if kind == "named" else Hyperband.restore(state, make())
    assert again.pending == hb.pending
    tails: list[list[Any]] = [[], []]
    for machine, tail in zip((hb, again), tails, strict=True):
        machine.tell(pending.id, loss(pending.config))
        _asks(machine, 200, tail)
    assert tails[0] == tails[1]
    assert len(tails[0]) > 50


def test_journal_replays(tmp_path: Path) -> None:
    journal = tmp_path / "study.jsonl"

    def objective(config: dict[str, Any], budget: float) -> float:
        return -loss(config)

    first = hyperband.run(
        objective,
        OptunaSampler(NESTED, min_trials=4),
        max_budget=9,
        seed=7,
        executor="serial",
        journal=journal,
        progress=False,
    )
    # Resuming replays every ask (re-drawing each configuration) and checks it.
    again = hyperband.run(
        objective,
        OptunaSampler(NESTED, min_trials=4),
        max_budget=9,
        executor="serial",
        journal=journal,
        progress=False,
    )
    assert again.best == first.best
    assert [r.job for r in again.history] == [r.job for r in first.history]


# ---------------------------------------------------------------------- the model


def test_results_at_the_largest_budget_with_enough_count() -> None:
    sampler = OptunaSampler(NESTED, min_trials=5)
    assert sampler.model_budget is None
    feed(sampler, NESTED, 3, budget=9)
    assert sampler.model_budget == 9  # none has enough: the one with most
    feed(sampler, NESTED, 6, budget=1)
    assert sampler.model_budget == 1
    feed(sampler, NESTED, 4, budget=3)
    for config in RandomSampler(NESTED).sample(np.random.default_rng(5), 3):
        sampler.observe(config, 3, None)  # failures do not count
    assert sampler.model_budget == 1
    feed(sampler, NESTED, 1, budget=3)
    assert sampler.model_budget == 3


def test_tpe_learns() -> None:
    space = {"x": NESTED["x"], "k": NESTED["k"], "optimizer": NESTED["optimizer"]}
    sampler = OptunaSampler(space)
    feed(sampler, space, 60)
    rng = np.random.default_rng(0)
    drawn = [sampler.sample(rng, 1)[0] for _ in range(30)]
    random = RandomSampler(space).sample(rng, 30)
    assert np.mean([loss(c) for c in drawn]) < 0.7 * np.mean([loss(c) for c in random])


def test_pending_configurations_spread_draws() -> None:
    sampler = OptunaSampler({"x": NESTED["x"]})
    for x in np.linspace(-1, 1, 30):
        sampler.observe({"x": float(x)}, 1, float((x - 0.3) ** 2))
    spread = {True: [], False: []}
    for seed in range(5):
        # Drawn together, each is pending for the next (TPE's constant liar); alone, not.
        together = sampler.sample(np.random.default_rng(seed), 8)
        alone = [sampler.sample(np.random.default_rng(100 * seed + i), 1)[0] for i in range(8)]
        spread[True].append(np.std([c["x"] for c in together]))
        spread[False].append(np.std([c["x"] for c in alone]))
    assert np.mean(spread[True]) > 3 * np.mean(spread[False])


def test_optuna_stays_quiet() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("optuna")
    handler = Keep()
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        optuna.create_study()  # Optuna itself logs "A new study created"
        assert records
        records.clear()
        sampler = OptunaSampler(NESTED)
        feed(sampler, NESTED, 20)
        sampler.sample(np.random.default_rng(0), 3)
        assert records == []
        # Only while it draws: the user's own Optuna logging is left as it was.
        assert logger.level == logging.DEBUG
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


# ---------------------------------------------------------------------- names and errors


def test_named_sampler_spec_round_trips() -> None:
    sampler = make_sampler("optuna", NESTED, sampler="random", min_trials=3)
    spec = sampler_spec(sampler)
    assert spec == {
        "name": "optuna",
        "space": sampler.space,
        "options": {"sampler": "random", "min_trials": 3},
    }
    again = sampler_from_spec(json.loads(json.dumps(spec)))
    feed(sampler, NESTED, 10)
    feed(again, NESTED, 10)
    rng = [np.random.default_rng(2), np.random.default_rng(2)]
    assert sampler.sample(rng[0], 3) == again.sample(rng[1], 3)


def test_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="sampler must be one of"):
        OptunaSampler(NESTED, "nsga")
    with pytest.raises(ArgumentTypeError, match=r"optuna\.samplers\.BaseSampler"):
        OptunaSampler(NESTED, 3)
    with pytest.raises(ConfigurationError, match="min_trials must be >= 1"):
        OptunaSampler(NESTED, min_trials=0)
    sampler = OptunaSampler(NESTED)
    with pytest.raises(ArgumentTypeError, match="config must be a dict"):
        sampler.observe([], 1, 0.0)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="budget must be finite"):
        sampler.observe({}, 0, 0.0)
    with pytest.raises(ArgumentTypeError, match="pending must be"):
        sampler.sample(np.random.default_rng(0), 1, pending=[{}])  # type: ignore[list-item]


def test_docstring_example() -> None:
    import doctest

    import hyperband.integrations.optuna as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
