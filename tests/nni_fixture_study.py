"""The studies behind the committed NNI advisor checkpoints (tests/fixtures/nni_checkpoints).

Each study is cut in two: ``begin`` runs an advisor up to a checkpoint with jobs still pending
(some with PERIODICAL metrics, one with an explicit ``"step"``); ``finish`` loads that checkpoint
into a fresh advisor and plays the rest of the study, three trial slots, oldest trial first,
each trial reporting once per budget unit and then its FINAL metric (or ending as killed). What
``finish`` sees is what the writing commit computed: ``expected.json``.

Written once by commit 424d707 (before the advisor stopped reporting PERIODICAL metrics to
a machine without a stopping rule, issue 18 item 10):
``python -m tests.nni_fixture_study tests/fixtures/nni_checkpoints``. Never regenerate them:
a failure means an old checkpoint no longer resumes as it did.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nni.runtime.tuner_command_channel import CommandType

from hyperband.integrations.nni import BUDGET_KEY, HyperbandAdvisor

SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}
# One study per stopping rule: None (the advisor's default) and the rung rule.
STUDIES: dict[str, dict[str, Any]] = {
    "no_rule": {},
    "rung": {"early_stop": "rung"},
}
SLOTS = 3


class Channel:
    """Records what the advisor sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[CommandType, str]] = []

    def _send(self, command: CommandType, data: str) -> None:
        self.sent.append((command, data))


def value_at(config: dict[str, Any], step: float) -> float:
    """A learning curve (maximize): the x near 0.3 and relu end best."""
    top = 1.0 - (config["x"] - 0.3) ** 2 + 0.02 * (config["act"] == "relu")
    return top * (1.0 - math.exp(-step / (1.0 + 4.0 * config["x"])))


def advisor(kind: str) -> tuple[HyperbandAdvisor, Channel]:
    adv = HyperbandAdvisor(
        R=9,
        eta=3,
        iterations=1,
        seed=3,
        command_channel_url="ws://_unittest_",
        **STUDIES[kind],
    )
    channel = Channel()
    adv._channel = channel
    return adv, channel


def _metric(adv: HyperbandAdvisor, trial: str, pid: int, value: Any, kind: str) -> None:
    adv.process_command(
        CommandType.ReportMetricData,
        {
            "parameter_id": pid,
            "trial_job_id": trial,
            "type": kind,
            "sequence": 0,
            "value": json.dumps(value),
        },
    )


def _forms(channel: Channel, seen: int) -> list[dict[str, Any]]:
    return [json.loads(d) for c, d in channel.sent[seen:] if c is CommandType.NewTrialJob]


@contextlib.contextmanager
def _checkpoint_directory(directory: Path) -> Iterator[None]:
    """NNI's checkpoint directory (an environment variable) set to ``directory`` for a while."""
    old = os.environ.get("NNI_CHECKPOINT_DIRECTORY")
    os.environ["NNI_CHECKPOINT_DIRECTORY"] = str(directory)
    try:
        yield
    finally:
        if old is None:
            del os.environ["NNI_CHECKPOINT_DIRECTORY"]
        else:
            os.environ["NNI_CHECKPOINT_DIRECTORY"] = old


def begin(kind: str, directory: Path) -> None:
    """Run study ``kind`` to its checkpoint in ``directory`` (NNI_CHECKPOINT_DIRECTORY)."""
    adv, channel = advisor(kind)
    adv.process_command(CommandType.Initialize, SPACE)
    # Bracket 2's rung 0 (nine jobs of budget 1), then three of bracket 1 (budget 3).
    adv.process_command(CommandType.RequestTrialJobs, 12)
    forms = _forms(channel, 0)
    assert [f["parameters"][BUDGET_KEY] for f in forms] == [1] * 9 + [3] * 3
    # Bracket 2's jobs finish, with a PERIODICAL metric each (one bad); bracket 1's stay
    # pending: one with two reports, one with an explicit step, one with none.
    for i, form in enumerate(forms[:9]):
        pid, config = form["parameter_id"], form["parameters"]
        _metric(adv, f"A{i}", pid, "NaN" if i == 2 else value_at(config, 0.5), "PERIODICAL")
        _metric(adv, f"A{i}", pid, value_at(config, 1), "FINAL")
        adv.process_command(CommandType.TrialEnd, {"trial_job_id": f"A{i}", "event": "SUCCEEDED"})
    plain, stepped = forms[9], forms[10]
    _metric(adv, "A9", plain["parameter_id"], 0.1, "PERIODICAL")
    _metric(adv, "A9", plain["parameter_id"], 0.15, "PERIODICAL")
    _metric(adv, "A10", stepped["parameter_id"], {"default": 0.2, "step": 1.5}, "PERIODICAL")
    with _checkpoint_directory(directory):
        adv.save_checkpoint()


def finish(directory: Path) -> dict[str, Any]:
    """Resume the study checkpointed in ``directory`` and play it to the end; what it did."""
    state = json.loads((directory / "hyperband_advisor.json").read_text())
    kind = "no_rule" if state["machine"]["params"]["early_stop"] is None else "rung"
    adv, channel = advisor(kind)
    with _checkpoint_directory(directory):
        adv.load_checkpoint()
    adv.process_command(CommandType.Initialize, SPACE)
    adv.process_command(CommandType.AddCustomizedTrialJob, [])
    adv.process_command(CommandType.RequestTrialJobs, SLOTS)
    running: deque[dict[str, Any]] = deque()
    seen = n_trials = 0
    ran: list[list[Any]] = []
    while True:
        running.extend(_forms(channel, seen))
        seen = len(channel.sent)
        if not running:
            break
        form = running.popleft()
        trial = f"B{n_trials}"
        n_trials += 1
        pid, params = form["parameter_id"], form["parameters"]
        config = {k: params[k] for k in SPACE}
        budget = params[BUDGET_KEY]
        assert adv.machine is not None
        job = next(j for j in adv.machine.pending if j.id == pid)
        first = job.previous_budget or 0
        killed = False
        for step in range(int(first) + 1, int(budget) + 1):
            _metric(adv, trial, pid, value_at(config, step), "PERIODICAL")
            if (CommandType.KillTrialJob, json.dumps(trial)) in channel.sent:
                killed = True
                break
        if not killed:
            _metric(adv, trial, pid, value_at(config, budget), "FINAL")
        event = "USER_CANCELED" if killed else "SUCCEEDED"
        adv.process_command(CommandType.TrialEnd, {"trial_job_id": trial, "event": event})
        adv.process_command(CommandType.RequestTrialJobs, 1)
        ran.append([pid, budget, config, killed])
    hb = adv.machine
    assert hb is not None
    best = hb.best
    with tempfile.TemporaryDirectory() as tmp, _checkpoint_directory(Path(tmp)):
        adv.save_checkpoint()
        last = json.loads((Path(tmp) / "hyperband_advisor.json").read_text())
    # Everything the final checkpoint holds but the count of reports the machine received and
    # the stopping rule's explanation of each stop (the rung rule gained one after 424d707).
    del last["machine"]["n_reports"]
    for entry in last["machine"]["stopped"]:
        entry.pop("stop", None)
    return {
        "checkpoint": last,
        "ran": ran,
        "done": hb.done,
        "counts": [hb.n_succeeded, hb.n_failed, hb.n_stopped],
        "best": None if best is None else [best.job_id, best.config_id, best.value, best.budget],
        "intermediate": sorted([k, v] for k, v in adv.intermediate.items()),
        "stopped": sorted([k, v] for k, v in adv.stopped.items()),
    }


def write(target: Path) -> None:
    """Write each study's checkpoint and ``expected.json`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    expected = {}
    for kind in STUDIES:
        with tempfile.TemporaryDirectory() as tmp:
            begin(kind, Path(tmp))
            shutil.copy(Path(tmp) / "hyperband_advisor.json", target / f"{kind}.json")
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(target / f"{kind}.json", Path(tmp) / "hyperband_advisor.json")
            expected[kind] = finish(Path(tmp))
    (target / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]))
