"""The suite's xdist scheduling (tests/conftest.py): costly module fixtures are built once."""

from __future__ import annotations

import re

from tests import conftest

SCOPED_FIXTURE = re.compile(r"@pytest\.fixture\(scope=\"module\"")


def test_each_grouped_module_exists_and_has_a_module_fixture() -> None:
    for name in sorted(conftest.ONE_WORKER_MODULES):
        path = conftest.ROOT / name
        assert path.is_file(), name
        assert SCOPED_FIXTURE.search(path.read_text()), f"{name} has no module-scoped fixture"


def test_grouped_modules_are_one_unit_and_others_one_unit_per_test() -> None:
    sched = object.__new__(conftest._ModuleGroups)  # _split_scope reads no state
    ray = ["tests/test_ray.py::test_a", "tests/test_ray.py::TestX::test_b[1]"]
    assert {sched._split_scope(n) for n in ray} == {"tests/test_ray.py"}
    other = "tests/test_machine.py::test_ask[3]"
    assert sched._split_scope(other) == other
