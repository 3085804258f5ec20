"""examples/pytorch_digits.py: a real study of a hand-written PyTorch loop on the digits."""

from __future__ import annotations

import pytest

from tests.optional import require
from tests.torch_checks import ARGS, StopOddConfigs, check_study, load_example

require("torch")
require("sklearn")


def test_the_example_resumes_promotions_and_stops_jobs_cleanly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = load_example("pytorch_digits")
    result = example.main(ARGS, early_stop=StopOddConfigs())
    check_study(result)
    out = capsys.readouterr().out
    assert "promotions resumed their checkpoint" in out
    accuracy = float(out.rsplit("test accuracy of the best configuration: ", 1)[1])
    assert accuracy > 0.8
