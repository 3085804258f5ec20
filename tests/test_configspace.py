"""ConfigSpace search spaces: drawing, checking, encoding, and every place a space goes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CS = pytest.importorskip("ConfigSpace")

import hyperband  # noqa: E402
from hyperband import Hyperband, KDESampler, RandomSampler, SearchSpaceError  # noqa: E402
from hyperband.cli import main  # noqa: E402
from hyperband.core.configspace import CSSpace, is_configspace, is_configspace_json  # noqa: E402
from hyperband.core.sampling import make_sampler, sampler_from_spec, sampler_spec  # noqa: E402
from tests.cs_strategies import check_valid, configspaces  # noqa: E402

SEEDS = st.integers(0, 2**32 - 1)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def example_space() -> Any:
    """A space with every type, a condition and a forbidden clause."""
    cs = CS.ConfigurationSpace(name="example")
    cs.add(
        [
            CS.Categorical("optimizer", ["sgd", "adam"]),
            CS.Float("lr", (1e-5, 1e-1), log=True),
            CS.Float("momentum", (0.0, 0.99)),
            CS.Integer("layers", (1, 6)),
            CS.Integer("units", (16, 1024), log=True),
            CS.OrdinalHyperparameter("batch", [32, 64, 128, 256]),
            CS.Constant("activation", "relu"),
            CS.Float("dropout", (0.0, 0.5), distribution=CS.Normal(0.1, 0.05)),
        ]
    )
    cs.add(CS.EqualsCondition(cs["momentum"], cs["optimizer"], "sgd"))
    cs.add(
        CS.ForbiddenAndConjunction(
            CS.ForbiddenEqualsClause(cs["optimizer"], "adam"),
            CS.ForbiddenEqualsClause(cs["batch"], 256),
        )
    )
    return cs


def loss(config: dict[str, Any]) -> float:
    return (
        (np.log10(config["lr"]) + 2.5) ** 2
        + (config["layers"] - 3) ** 2 / 10
        + (0.0 if config["optimizer"] == "sgd" else 0.5)
        + abs(config.get("momentum", 0.9) - 0.9)
    )


# ---------------------------------------------------------------------- detection


def test_detection_needs_no_import() -> None:
    cs = example_space()
    assert is_configspace(cs)
    assert not is_configspace({"x": {"_type": "uniform", "_value": [0, 1]}})
    assert is_configspace_json(cs.to_serialized_dict())
    # An NNI space may name a parameter "hyperparameters": its spec is a dict, never a list.
    assert not is_configspace_json({"hyperparameters": {"_type": "uniform", "_value": [0, 1]}})


def test_the_core_never_imports_configspace_for_an_nni_space() -> None:
    code = (
        "import sys, hyperband\n"
        "hb = hyperband.Hyperband({'x': {'_type': 'uniform', '_value': [0, 1]}}, max_budget=9)\n"
        "hyperband.KDESampler({'x': {'_type': 'uniform', '_value': [0, 1]}})\n"
        "job = hb.ask(); hb.tell(job.id, 1.0); hb.snapshot()\n"
        "assert 'ConfigSpace' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------- random draws


@PROPERTY
@given(configspaces(), SEEDS, st.integers(1, 30))
def test_random_draws_pass_configspace_checks(cs: Any, seed: int, n: int) -> None:
    configs = RandomSampler(cs).sample(np.random.default_rng(seed), n)
    assert len(configs) == n
    for config in configs:
        check_valid(cs, config)


@PROPERTY
@given(configspaces(), SEEDS)
def test_random_draws_depend_on_the_rng_only(cs: Any, seed: int) -> None:
    a = RandomSampler(cs).sample(np.random.default_rng(seed), 5)
    # The JSON form rebuilds the same space: same draws.
    b = RandomSampler(RandomSampler(cs).space).sample(np.random.default_rng(seed), 5)
    assert a == b
    assert json.loads(json.dumps(a)) == a


@PROPERTY
@given(configspaces())
def test_json_form_round_trips(cs: Any) -> None:
    space = CSSpace(cs)
    assert CSSpace(space.json).json == space.json
    assert list(space.cs) == list(cs)
    assert json.loads(json.dumps(space.json)) == space.json


def test_random_draws_follow_the_distributions() -> None:
    cs = CS.ConfigurationSpace()
    cs.add(
        [
            CS.Categorical("c", ["a", "b"], weights=[1, 3]),
            CS.Integer("i", (0, 3)),
            CS.Float("n", (0.0, 1.0), distribution=CS.Normal(0.2, 0.05)),
            CS.Float("g", (1e-4, 1.0), log=True),
        ]
    )
    configs = RandomSampler(cs).sample(np.random.default_rng(1), 4000)
    weights = Counter(c["c"] for c in configs)
    assert 0.7 < weights["b"] / 4000 < 0.8
    assert set(Counter(c["i"] for c in configs)) == {0, 1, 2, 3}
    assert abs(np.mean([c["n"] for c in configs]) - 0.2) < 0.01
    # log-uniform: each decade gets a quarter
    assert 0.2 < np.mean([c["g"] < 1e-3 for c in configs]) < 0.3


def test_conditions_and_forbiddens() -> None:
    cs = example_space()
    configs = RandomSampler(cs).sample(np.random.default_rng(0), 500)
    for config in configs:
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        assert not (config["optimizer"] == "adam" and config["batch"] == 256)
        assert config["activation"] == "relu"
        check_valid(cs, config)
    assert {c["batch"] for c in configs} == {32, 64, 128, 256}


def test_an_almost_all_forbidden_space_raises_instead_of_looping() -> None:
    cs = CS.ConfigurationSpace()
    choices = list(range(20_000))
    cs.add(CS.CategoricalHyperparameter("c", choices, default_value=0))
    cs.add(CS.ForbiddenInClause(cs["c"], choices[1:]))
    with pytest.raises(SearchSpaceError, match="forbidden clauses exclude almost every"):
        RandomSampler(cs).sample(np.random.default_rng(0), 1)


def test_malformed_configspace_json() -> None:
    with pytest.raises(SearchSpaceError, match="not a valid ConfigSpace space"):
        RandomSampler({"hyperparameters": [{"type": "nonsense", "name": "x"}]})
    with pytest.raises(SearchSpaceError, match="at least one hyperparameter"):
        RandomSampler(CS.ConfigurationSpace())


def test_the_users_space_is_copied() -> None:
    cs = CS.ConfigurationSpace({"x": (0.0, 1.0)})
    sampler = RandomSampler(cs)
    cs.add(CS.Float("y", (0.0, 1.0)))
    assert list(sampler.sample(np.random.default_rng(0), 1)[0]) == ["x"]


# ---------------------------------------------------------------------- KDE


def _feed(sampler: Any, cs: Any, seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    for config in RandomSampler(cs).sample(rng, n):
        sampler.observe(config, 1, float(rng.random()))


@PROPERTY
@given(configspaces(), SEEDS)
def test_kde_draws_pass_configspace_checks(cs: Any, seed: int) -> None:
    sampler = KDESampler(cs, min_points=2, random_fraction=0.0)
    _feed(sampler, cs, seed, 12)
    sampler.observe({"bogus": 1}, 1, None)  # a failure, and values it cannot hold
    rng = np.random.default_rng(seed)
    pending = [(c, 1) for c in RandomSampler(cs).sample(rng, 3)]
    for config in sampler.sample(rng, 6, pending=pending):
        check_valid(cs, config)


def test_kde_learns_on_a_configspace_space() -> None:
    cs = example_space()
    sampler = KDESampler(cs)
    rng = np.random.default_rng(0)
    for config in RandomSampler(cs).sample(rng, 120):
        sampler.observe(config, 1, loss(config))
    assert sampler.model_budget == 1
    drawn = [sampler.sample(rng, 1)[0] for _ in range(60)]
    random = RandomSampler(cs).sample(rng, 60)
    assert np.mean([loss(c) for c in drawn]) < 0.6 * np.mean([loss(c) for c in random])
    for config in drawn:
        check_valid(cs, config)


def test_kde_skips_forbidden_candidates() -> None:
    cs = CS.ConfigurationSpace()
    cs.add([CS.Categorical("a", ["x", "y"]), CS.Float("b", (0.0, 1.0))])
    cs.add(CS.ForbiddenEqualsClause(cs["a"], "y"))
    sampler = KDESampler(cs, min_points=2, random_fraction=0.0)
    for i in range(10):
        sampler.observe({"a": "y", "b": i / 10}, 1, float(i))  # the "good" ones are forbidden
    draws = sampler.sample(np.random.default_rng(0), 30)
    assert all(c["a"] == "x" for c in draws)


def test_kde_sampler_spec_round_trip() -> None:
    cs = example_space()
    sampler = KDESampler(cs, top_fraction=0.2)
    spec = sampler_spec(sampler)
    assert spec is not None
    assert spec["name"] == "kde"
    spec = json.loads(json.dumps(spec))
    again = sampler_from_spec(spec)
    assert again.space == sampler.space
    assert again.options == sampler.options
    rng = np.random.default_rng(3)
    configs = RandomSampler(cs).sample(rng, 40)
    for s in (sampler, again):
        for config in configs:
            s.observe(config, 1, loss(config))
    assert sampler.sample(np.random.default_rng(1), 5) == again.sample(np.random.default_rng(1), 5)


# ---------------------------------------------------------------------- the machine and drivers


def _drive(hb: Hyperband, cs: Any) -> None:
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        check_valid(cs, job.config)
        hb.tell(job.id, -loss(job.config))


@pytest.mark.parametrize("kind", ["random", "kde"])
def test_machine_snapshot_and_restore(kind: str) -> None:
    cs = example_space()
    space = cs if kind == "random" else make_sampler("kde", cs)
    hb = Hyperband(space, max_budget=27, seed=5)
    for _ in range(60):
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        hb.tell(job.id, -loss(job.config))
    state = json.loads(json.dumps(hb.snapshot()))
    assert state["sampler"]["space"]["hyperparameters"]
    again = Hyperband.restore(state)
    _drive(hb, cs)
    _drive(again, cs)
    assert again.best == hb.best


def test_run_simulate_and_journal(tmp_path: Path) -> None:
    cs = example_space()
    journal = tmp_path / "study.jsonl"
    result = hyperband.run(
        lambda config, budget: -loss(config),
        cs,
        max_budget=9,
        seed=2,
        executor="serial",
        journal=journal,
        progress=False,
        sampler="random",  # the journal then holds the space itself
    )
    for record in result.history:
        check_valid(cs, record.job.config)
    header = json.loads(journal.read_text().splitlines()[0])
    assert header["space"]["hyperparameters"]
    # The journal alone rebuilds the study, and resuming it with the space is accepted.
    again = hyperband.RunResult.from_journal(journal)
    assert again.best == result.best
    resumed = hyperband.run(
        lambda config, budget: -loss(config),
        cs,
        max_budget=9,
        executor="serial",
        journal=journal,
        progress=False,
    )
    assert resumed.best == result.best
    sim = hyperband.simulate(9, workers=3, space=cs, seed=1)
    for job in sim.jobs:
        check_valid(cs, job.job.config)


def test_cli_reads_configspace_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cs = example_space()
    path = tmp_path / "space.json"
    cs.to_json(path)
    objective = tmp_path / f"cs_objective_{abs(hash(str(tmp_path)))}.py"
    objective.write_text(
        "import math\n"
        "def objective(config, budget):\n"
        "    return -abs(math.log10(config['lr']) + 2.5)\n"
    )
    code = main(
        [
            "run",
            f"{objective}:objective",
            "--space",
            str(path),
            "--max-budget",
            "9",
            "--executor",
            "serial",
            "--seed",
            "1",
            "--no-progress",
        ]
    )
    assert code == 0
    assert "lr" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "holds a JSON object"),
        ('{"x": {"_type": "uniform"}}', "not ConfigSpace's JSON"),
        ('{"hyperparameters": [{"name": "x"}]}', "ConfigSpace's JSON format, but"),
    ],
)
def test_cli_space_file_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "space.json"
    path.write_text(content)
    objective = tmp_path / f"cs_objective_{abs(hash(str(tmp_path)))}.py"
    objective.write_text("def objective(config, budget):\n    return 0.0\n")
    code = main(["run", f"{objective}:objective", "--space", str(path), "--max-budget", "9"])
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("sampler", ["kde", "optuna"])
def test_run_with_a_named_model_sampler_on_a_configspace_space(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sampler: str
) -> None:
    """run(sampler=...) and --sampler build the sampler over a ConfigSpace space; the journal
    rebuilds it from its spec (no sampler passed), and the CLI resumes the finished study."""
    if sampler == "optuna":
        pytest.importorskip("optuna", reason="the optuna extra is not installed")
    cs = example_space()
    path = tmp_path / "space.json"
    cs.to_json(path)
    objective = tmp_path / f"cs_model_{sampler}_{abs(hash(str(tmp_path)))}.py"
    objective.write_text(
        "import math\n"
        "def objective(config, budget):\n"
        "    return -abs(math.log10(config['lr']) + 2.5)\n"
    )
    journal = tmp_path / "study.jsonl"
    argv = ["run", f"{objective}:objective", "--space", str(path), "--max-budget", "9"]
    argv += ["--executor", "serial", "--seed", "1", "--no-progress", "--sampler", sampler]
    argv += ["--journal", str(journal)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    header = json.loads(journal.read_text().splitlines()[0])
    assert header["sampler_spec"]["name"] == sampler
    assert header["sampler_spec"]["space"]["hyperparameters"]
    result = hyperband.RunResult.from_journal(journal)
    for record in result.history:
        check_valid(cs, record.job.config)
    assert main(argv) == 0  # resumes the finished study: the same best, nothing runs again
    assert capsys.readouterr().out.splitlines()[:2] == first.splitlines()[:2]
