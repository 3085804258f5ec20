"""Every bad input raises a HyperbandError naming the argument, the rule and the value,
and leaves the machine exactly as it was."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import hyperband
from hyperband import (
    ArgumentTypeError,
    ConfigurationError,
    Hyperband,
    HyperbandError,
    InvalidResultError,
    Job,
    JobResolvedError,
    SearchSpaceError,
    UnknownJobError,
)

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"eta": 1}, ConfigurationError, ["eta", "> 1", "1 (int)"]),
        ({"eta": math.nan}, ConfigurationError, ["eta", "finite", "nan"]),
        ({"max_budget": 0}, ConfigurationError, ["max_budget", "> 0", "0 (int)"]),
        ({"max_budget": math.inf}, ConfigurationError, ["max_budget", "finite", "inf"]),
        ({"max_budget": 3, "min_budget": 9}, ConfigurationError, ["max_budget", ">= min_budget"]),
        ({"mode": "max"}, ConfigurationError, ["mode", "'maximize', 'minimize'", "'max' (str)"]),
        ({"exec_mode": "async"}, ConfigurationError, ["exec_mode", "'serial'", "'async'"]),
        ({"sizing": "hpbandster"}, ConfigurationError, ["sizing", "'table'", "'hpbandster'"]),
        ({"iterations": 0}, ConfigurationError, ["iterations", ">= 1", "0 (int)"]),
        ({"iterations": 1.5}, ArgumentTypeError, ["iterations", "int", "1.5 (float)"]),
        ({"iterations": True}, ArgumentTypeError, ["iterations", "True (bool)"]),
        ({"seed": -1}, ConfigurationError, ["seed", ">= 0", "-1"]),
        ({"seed": "abc"}, ArgumentTypeError, ["seed", "int", "'abc' (str)"]),
    ],
)
def test_bad_constructor_arguments(
    kwargs: dict[str, Any], exc: type[Exception], words: list[str]
) -> None:
    with pytest.raises(exc) as info:
        Hyperband(SPACE, **kwargs)
    assert isinstance(info.value, HyperbandError)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_builtin_bases() -> None:
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(ArgumentTypeError, TypeError)
    assert issubclass(UnknownJobError, KeyError)
    assert issubclass(JobResolvedError, UnknownJobError)
    assert issubclass(InvalidResultError, ValueError)
    assert issubclass(InvalidResultError, TypeError)
    assert issubclass(SearchSpaceError, ValueError)


@pytest.mark.parametrize(
    "space",
    [
        None,
        [],
        "x",
        {},
        {"x": {"_type": "nope", "_value": [1]}},
        {"x": {"_type": "choice", "_value": []}},
        {"x": {"_type": "uniform", "_value": [2, 1]}},
        {"x": {"_type": "loguniform", "_value": [0, 1]}},
        {"x": {"_type": "quniform", "_value": [0, 1]}},
        {"x": {"_type": "normal", "_value": [0, -1]}},
    ],
)
def test_bad_spaces_are_refused_at_construction(space: Any) -> None:
    with pytest.raises((SearchSpaceError, ArgumentTypeError)):
        Hyperband(space, max_budget=9)


@pytest.fixture
def machine() -> tuple[Hyperband, list[Job]]:
    hb = Hyperband(SPACE, max_budget=9, eta=3, seed=0)
    jobs = [hb.ask() for _ in range(4)]
    assert all(isinstance(j, Job) for j in jobs)
    hb.tell(jobs[0].id, 0.5)
    hb.fail(jobs[1].id, "x")
    return hb, jobs  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("value", "exc", "words"),
    [
        (math.nan, InvalidResultError, ["value for job 2", "finite", "nan (float)"]),
        (math.inf, InvalidResultError, ["finite", "inf"]),
        (-math.inf, InvalidResultError, ["finite", "-inf"]),
        (None, InvalidResultError, ["real number", "None (NoneType)"]),
        (True, InvalidResultError, ["real number", "True (bool)"]),
        ("0.5", InvalidResultError, ["real number", "'0.5' (str)"]),
        ([0.5], InvalidResultError, ["real number", "[0.5] (list)"]),
        ({"loss": 0.5}, InvalidResultError, ["'default' key", "['loss']"]),
        ({"default": "a"}, InvalidResultError, ["value['default']", "'a' (str)"]),
        ({"default": math.nan}, InvalidResultError, ["value['default']", "finite"]),
        (np.float64("nan"), InvalidResultError, ["finite"]),
        (1 + 2j, InvalidResultError, ["real number", "complex"]),
    ],
)
def test_bad_values(
    machine: tuple[Hyperband, list[Job]], value: Any, exc: type[Exception], words: list[str]
) -> None:
    hb, jobs = machine
    before = hb.snapshot()
    with pytest.raises(exc) as info:
        hb.tell(jobs[2].id, value)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert hb.snapshot() == before


@pytest.mark.parametrize(
    ("job_id", "exc", "words"),
    [
        (0, JobResolvedError, ["job 0", "already told or failed"]),
        (1, JobResolvedError, ["job 1", "already told or failed"]),
        (4, UnknownJobError, ["handed out by ask()", "0..3", "4 (int)"]),
        (-1, UnknownJobError, ["-1 (int)"]),
        ("2", ArgumentTypeError, ["job_id", "int", "'2' (str)"]),
        (2.0, ArgumentTypeError, ["job_id", "2.0 (float)"]),
        (None, ArgumentTypeError, ["job_id", "None"]),
        (True, ArgumentTypeError, ["job_id", "True (bool)"]),
    ],
)
@pytest.mark.parametrize("method", ["tell", "fail"])
def test_bad_job_ids(
    machine: tuple[Hyperband, list[Job]],
    job_id: Any,
    exc: type[Exception],
    words: list[str],
    method: str,
) -> None:
    hb, _ = machine
    before = hb.snapshot()
    call = hb.tell if method == "tell" else hb.fail
    with pytest.raises(exc) as info:
        call(job_id, 1.0 if method == "tell" else "r")
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    assert hb.snapshot() == before


def test_fail_reason_must_be_a_string(machine: tuple[Hyperband, list[Job]]) -> None:
    hb, jobs = machine
    before = hb.snapshot()
    with pytest.raises(ArgumentTypeError, match="reason must be a str, got 42 \\(int\\)"):
        hb.fail(jobs[2].id, 42)  # type: ignore[arg-type]
    assert hb.snapshot() == before


def test_key_error_message_is_plain() -> None:
    err = UnknownJobError("job_id must be ...")
    assert str(err) == "job_id must be ..."


def test_space_or_sampler_type() -> None:
    with pytest.raises(ArgumentTypeError, match="space_or_sampler"):
        Hyperband(42, max_budget=9)  # type: ignore[arg-type]


def test_public_api_is_complete() -> None:
    for name in hyperband.__all__:
        assert hasattr(hyperband, name), name
