"""examples/pytorch_digits.py: a real study of a hand-written PyTorch loop on the digits."""

from __future__ import annotations

import pytest

from tests.optional import require
from tests.torch_checks import StopOddConfigs, check_example, load_example

require("torch")
require("sklearn")


def test_the_example_resumes_promotions_and_stops_jobs_cleanly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = load_example("pytorch_digits")
    args = ["--max-budget", "9", "--eta", "3", "--workers", "2"]
    check_example(example.main(args, early_stop=StopOddConfigs()), capsys)
