"""HyperbandAdvisor in-process: NNI's commands in, the advisor's commands out, no NNI manager.

``FakeNNI`` plays NNI 3.0's manager and local training service as the advisor sees them: it
asks for jobs, starts trials that take the queued parameters in whatever order they come up
(so a trial may run another trial's parameters, as NNI 3.0 does), reports metrics and trial
ends (sometimes the end before the last metric), and the advisor pings itself.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import subprocess
import sys
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("nni", reason="the nni extra is not installed (pip install 'hyperband[nni]')")

from nni.runtime.tuner_command_channel import CommandType

import hyperband
from hyperband.core.asha import bracket_order
from hyperband.integrations.nni import BUDGET_KEY, RESUME_KEYS, HyperbandAdvisor

SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}
FAIL_EVENTS = ("FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED")
LOGGER = "hyperband.integrations.nni"


def objective(config: dict[str, Any], budget: float) -> float:
    return (
        -((config["x"] - 0.3) ** 2) + 0.01 * math.log1p(budget) + 0.01 * (config["act"] == "relu")
    )


class StubChannel:
    """Stands in for NNI's websocket: records what the advisor sends, feeds what it receives."""

    def __init__(self) -> None:
        self.sent: list[tuple[CommandType, str]] = []
        self.incoming: deque[tuple[CommandType, Any]] = deque()

    def _send(self, command: CommandType, data: str) -> None:
        self.sent.append((command, data))

    def _receive(self) -> tuple[CommandType, Any]:
        return self.incoming.popleft() if self.incoming else (CommandType.Terminate, "")

    def disconnect(self) -> None:
        pass


def make(**kwargs: Any) -> tuple[HyperbandAdvisor, StubChannel]:
    args: dict[str, Any] = {"R": 9, "eta": 3, "iterations": 1, "seed": 0}
    args.update(kwargs)
    advisor = HyperbandAdvisor(command_channel_url="ws://_unittest_", **args)
    channel = StubChannel()
    advisor._channel = channel
    return advisor, channel


def trials_sent(channel: StubChannel) -> list[dict[str, Any]]:
    return [json.loads(d) for c, d in channel.sent if c is CommandType.NewTrialJob]


def count(channel: StubChannel, command: CommandType) -> int:
    return sum(c is command for c, _ in channel.sent)


def metric(
    advisor: HyperbandAdvisor, trial: str, pid: Any, value: Any, kind: str = "FINAL"
) -> None:
    advisor.process_command(
        CommandType.ReportMetricData,
        {
            "parameter_id": pid,
            "trial_job_id": trial,
            "type": kind,
            "sequence": 0,
            "value": value if isinstance(value, str) else json.dumps(value),
        },
    )


def end(advisor: HyperbandAdvisor, trial: str, event: str, form: dict[str, Any] | None) -> None:
    advisor.process_command(
        CommandType.TrialEnd,
        {"trial_job_id": trial, "event": event, "hyper_params": json.dumps(form)},
    )


def ping(advisor: HyperbandAdvisor, times: int = 2) -> None:
    for _ in range(times):
        advisor.process_command(CommandType.Ping, "")


def predict(
    max_budget: float, eta: float, fails: Any, seed: int = 0
) -> tuple[Counter[tuple[Any, ...]], hyperband.Best | None]:
    """What the machine schedules, and its best, run serially in-process with the same seed."""
    hb = hyperband.Hyperband(SPACE, max_budget, eta, iterations=1, seed=seed)
    jobs: Counter[tuple[Any, ...]] = Counter()
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        jobs[(job.config["x"], job.config["act"], job.budget)] += 1
        if fails(job.config):
            hb.fail(job.id, "fails")
        else:
            hb.tell(job.id, objective(job.config, job.budget))
    return jobs, hb.best


def predicted_jobs(max_budget: float, eta: float, fails: Any) -> Counter[tuple[Any, ...]]:
    return predict(max_budget, eta, fails)[0]


def same_best(a: hyperband.Best | None, b: hyperband.Best | None) -> bool:
    """Equal but for the job id, which depends on the order jobs were asked in."""
    assert a is not None
    assert b is not None
    return (a.config, a.value, a.budget, a.config_id) == (b.config, b.value, b.budget, b.config_id)


class Trial:
    def __init__(self, tid: str, form: dict[str, Any]) -> None:
        self.id = tid
        self.form = form  # what NNI's manager associates with the trial
        self.params: dict[str, Any] | None = None  # what the trial really received
        self.pid: int | None = None
        self.step = 0
        self.killed = False  # the advisor sent KillTrialJob for it


class FakeNNI:
    """NNI 3.0's manager and local training service, from the advisor's side of the channel.

    Args:
        advisor: the advisor under test, with a StubChannel.
        rng: drives every choice (which trial moves, which takes the next parameters...).
        concurrency: trialConcurrency.
        fails: which configurations fail; half fail before reporting anything, half after one
            intermediate result.
        late_final: the probability that a trial's end reaches the advisor before its FINAL.
    """

    def __init__(
        self,
        advisor: HyperbandAdvisor,
        rng: random.Random,
        concurrency: int,
        fails: Any = lambda config: False,
        late_final: float = 0.0,
    ) -> None:
        self.advisor = advisor
        self.channel: StubChannel = advisor._channel
        self.rng = rng
        self.concurrency = concurrency
        self.fails = fails
        self.late_final = late_final
        self.forms: deque[dict[str, Any]] = deque()  # NNI's waitingTrials
        self.queue: deque[dict[str, Any]] = deque()  # the training service's parameters
        self.live: list[Trial] = []
        self.seen = 0  # how many of the advisor's commands were read
        self.no_more = 0
        self.completed: Counter[tuple[Any, ...]] = Counter()  # (x, act, budget) told or failed
        self.n_trials = 0
        self.kills: list[str] = []  # the trial ids of the KillTrialJob commands, in order
        self.ran: dict[str, int] = {}  # trial id -> the parameter id it ran

    def send(self, command: CommandType, data: Any) -> None:
        self.advisor.process_command(command, data)

    def read(self) -> None:
        for command, data in self.channel.sent[self.seen :]:
            if command is CommandType.NewTrialJob:
                form = json.loads(data)
                self.forms.append(form)
                self.queue.append(form)
            elif command is CommandType.NoMoreTrialJobs:
                self.no_more += 1
            elif command is CommandType.KillTrialJob:
                tid = json.loads(data)  # NNI's manager JSON.parses it
                self.kills.append(tid)
                for trial in self.live:
                    if trial.id == tid:
                        trial.killed = True
        self.seen = len(self.channel.sent)

    def start(self, space: dict[str, Any] = SPACE) -> None:
        self.send(CommandType.Initialize, space)
        self.send(CommandType.RequestTrialJobs, self.concurrency)

    def step(self) -> bool:
        """Advance one thing; False once the study is over."""
        self.read()
        while len(self.live) < self.concurrency and self.forms:
            self.n_trials += 1
            self.live.append(Trial(f"T{self.n_trials}", self.forms.popleft()))
        if self.rng.random() < 0.2:
            self.send(CommandType.Ping, "")
        if not self.live:
            return not self.no_more
        trial = self.rng.choice(self.live)
        self.advance(trial)
        return True

    def advance(self, trial: Trial) -> None:
        if trial.params is None:  # the first of the started trials to ask takes the head
            record = self.queue.popleft()
            trial.params, trial.pid = record["parameters"], record["parameter_id"]
            self.ran[trial.id] = record["parameter_id"]
            return
        params, pid = trial.params, trial.pid
        config = {k: v for k, v in params.items() if k in SPACE}
        key = (config["x"], config["act"], params[BUDGET_KEY])
        fails = self.fails(config)
        value = objective(config, params[BUDGET_KEY])
        trial.step += 1
        if fails and config["x"] > 0.8:
            self.finish(trial, self.rng.choice(FAIL_EVENTS))
            self.completed[key] += 1
        elif trial.step == 1:
            metric(self.advisor, trial.id, pid, value / 2, "PERIODICAL")
        elif fails:
            self.finish(trial, self.rng.choice(FAIL_EVENTS))
            self.completed[key] += 1
        elif self.rng.random() < self.late_final:
            self.finish(trial, "SUCCEEDED")
            metric(self.advisor, trial.id, pid, value)  # within the grace: no ping between
            self.completed[key] += 1
        else:
            metric(self.advisor, trial.id, pid, value)
            self.finish(trial, "SUCCEEDED")
            self.completed[key] += 1

    def finish(self, trial: Trial, event: str) -> None:
        self.live.remove(trial)
        end(self.advisor, trial.id, event, trial.form)
        self.send(CommandType.RequestTrialJobs, 1)  # NNI asks for one job per ended trial

    def run(self, max_steps: int = 20_000) -> None:
        for _ in range(max_steps):
            if not self.step():
                return
        raise AssertionError("the study did not finish")

    def study(self) -> hyperband.Hyperband:
        """Run a whole study; the advisor's machine, checked done (and said so, once)."""
        self.start()
        self.run()
        hb = self.advisor.machine
        assert hb is not None
        assert hb.done
        assert self.no_more == 1
        return hb


def quiet(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# ---------------------------------------------------------------------- whole studies


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    concurrency=st.integers(1, 7),
    shape=st.sampled_from([(9, 3), (8, 2), (27, 3)]),
    exec_mode=st.sampled_from(["parallelism", "serial"]),
    with_failures=st.booleans(),
    late_final=st.sampled_from([0.0, 0.3]),
)
def test_any_interleaving_runs_exactly_the_machines_jobs(
    seed: int,
    concurrency: int,
    shape: tuple[int, int],
    exec_mode: str,
    with_failures: bool,
    late_final: float,
) -> None:
    r, eta = shape
    advisor, channel = make(R=r, eta=eta, exec_mode=exec_mode)

    def fails(config: dict[str, Any]) -> bool:
        return with_failures and config["x"] > 0.6

    nni = FakeNNI(advisor, random.Random(seed), concurrency, fails, late_final)
    hb = nni.study()
    assert nni.completed == predicted_jobs(r, eta, fails)
    sent = trials_sent(channel)
    assert [t["parameter_id"] for t in sent] == list(range(len(sent)))  # ints, in order
    assert all(t["parameters"].keys() == {"x", "act", BUDGET_KEY} for t in sent)
    assert hb.n_failed == sum(n for k, n in nni.completed.items() if k[0] > 0.6 and with_failures)


def test_the_schedule_as_nni_sees_it() -> None:
    advisor, channel = make()
    nni = FakeNNI(advisor, random.Random(0), 3)
    nni.start()
    nni.run()
    sent = trials_sent(channel)
    schedule = hyperband.schedule(9, 3)
    assert Counter(t["parameters"][BUDGET_KEY] for t in sent) == Counter(
        r.budget for b in schedule.brackets for r in b.rungs for _ in range(r.n_configs)
    )
    assert all(type(t["parameters"][BUDGET_KEY]) is int for t in sent)
    assert all(t["parameter_source"] == "algorithm" for t in sent)
    assert channel.sent[0] == (CommandType.Initialized, "")
    assert channel.sent[-1] == (CommandType.NoMoreTrialJobs, "")
    assert advisor.machine is not None
    best = advisor.machine.best
    assert best is not None
    assert best.budget == 9


def test_minimize_mode_reaches_the_machine() -> None:
    advisor, _ = make(optimize_mode="minimize")
    FakeNNI(advisor, random.Random(1), 2).start()
    assert advisor.machine is not None
    assert advisor.machine.mode == "minimize"


def test_non_integral_budgets_are_floats_unless_rounded() -> None:
    advisor, channel = make(R=10, eta=3)
    advisor.process_command(CommandType.Initialize, SPACE)
    advisor.process_command(CommandType.RequestTrialJobs, 1)
    assert trials_sent(channel)[0]["parameters"][BUDGET_KEY] == pytest.approx(10 / 9)
    advisor, channel = make(R=10, eta=3, integer_budgets=True)
    advisor.process_command(CommandType.Initialize, SPACE)
    advisor.process_command(CommandType.RequestTrialJobs, 1)
    assert trials_sent(channel)[0]["parameters"][BUDGET_KEY] == 1


def test_resume_info_names_the_previous_job() -> None:
    advisor, channel = make(resume_info=True)
    nni = FakeNNI(advisor, random.Random(3), 3)
    nni.start()
    nni.run()
    sent = trials_sent(channel)
    by_id = {t["parameter_id"]: t["parameters"] for t in sent}
    promotions = [p for p in by_id.values() if p["TRIAL_RESUME_FROM"] is not None]
    assert promotions
    for params in by_id.values():
        assert set(RESUME_KEYS) <= params.keys()
        assert params["TRIAL_JOB_ID"] in by_id
        previous = params["TRIAL_RESUME_FROM"]
        if previous is None:
            assert params["TRIAL_PREVIOUS_BUDGET"] is None
        else:
            assert by_id[previous]["TRIAL_CONFIG_ID"] == params["TRIAL_CONFIG_ID"]
            assert by_id[previous]["x"] == params["x"]
            assert by_id[previous][BUDGET_KEY] == params["TRIAL_PREVIOUS_BUDGET"]
            assert params["TRIAL_PREVIOUS_BUDGET"] < params[BUDGET_KEY]


# ---------------------------------------------------------------------- credit


def test_requests_the_machine_cannot_serve_are_remembered() -> None:
    advisor, channel = make(exec_mode="serial")  # bracket 2 waits for bracket 1
    advisor.process_command(CommandType.Initialize, SPACE)
    advisor.process_command(CommandType.RequestTrialJobs, 12)
    first = trials_sent(channel)
    assert len(first) == 9  # rung 0 of the first bracket; 3 requests owed
    for i, t in enumerate(first):
        metric(advisor, f"T{i}", t["parameter_id"], float(i))
    # The top 3 go into the 3 owed slots, each as soon as it is certain to be in the top 3:
    # value 6 once 7 results are in (the 2 outstanding cannot push it out), then 7, then 8.
    promoted = trials_sent(channel)[9:]
    assert [t["parameters"]["x"] for t in promoted] == [
        first[i]["parameters"]["x"] for i in (6, 7, 8)
    ]
    assert [t["parameters"][BUDGET_KEY] for t in promoted] == [3, 3, 3]
    advisor.process_command(CommandType.RequestTrialJobs, 1)  # nothing more to hand out
    assert len(trials_sent(channel)) == 12


def test_done_sends_no_more_trial_jobs_once() -> None:
    advisor, channel = make(R=1, eta=3)  # one bracket of one job
    advisor.process_command(CommandType.Initialize, SPACE)
    advisor.process_command(CommandType.RequestTrialJobs, 3)
    (job,) = trials_sent(channel)
    assert count(channel, CommandType.NoMoreTrialJobs) == 0
    metric(advisor, "T0", job["parameter_id"], 0.5)
    assert count(channel, CommandType.NoMoreTrialJobs) == 1
    advisor.process_command(CommandType.RequestTrialJobs, 2)
    assert count(channel, CommandType.NoMoreTrialJobs) == 1
    assert len(trials_sent(channel)) == 1


def test_iterations_none_runs_on() -> None:
    advisor, channel = make(R=1, eta=3, iterations=None)
    advisor.process_command(CommandType.Initialize, SPACE)
    advisor.process_command(CommandType.RequestTrialJobs, 1)
    for i in range(5):
        metric(advisor, f"T{i}", i, 0.5)
        advisor.process_command(CommandType.RequestTrialJobs, 1)
    assert len(trials_sent(channel)) == 6
    assert count(channel, CommandType.NoMoreTrialJobs) == 0


# ---------------------------------------------------------------------- metrics


def start(advisor: HyperbandAdvisor, n: int = 3) -> list[dict[str, Any]]:
    advisor.process_command(CommandType.Initialize, SPACE)
    advisor.process_command(CommandType.RequestTrialJobs, n)
    sent = trials_sent(advisor._channel)
    assert len(sent) == n
    return sent


@pytest.mark.parametrize(
    ("raw", "value", "extra"),
    [
        ("0.25", 0.25, {}),
        ("3", 3.0, {}),
        ('{"default": 0.5, "loss": 1.5}', 0.5, {"loss": 1.5}),
        (0.75, 0.75, {}),  # already decoded
    ],
)
def test_final_metric_formats(raw: Any, value: float, extra: dict[str, Any]) -> None:
    advisor, _ = make()
    t = start(advisor, 1)[0]
    advisor.process_command(
        CommandType.ReportMetricData,
        {
            "parameter_id": t["parameter_id"],
            "trial_job_id": "T0",
            "type": "FINAL",
            "sequence": 0,
            "value": raw,
        },
    )
    hb = advisor.machine
    assert hb is not None
    assert hb.n_succeeded == 1
    assert hb.best is not None
    assert hb.best.value == value


def test_periodical_metrics_are_recorded_not_told() -> None:
    advisor, _ = make()
    t = start(advisor, 1)[0]
    for v in (0.1, {"default": 0.2, "acc": 1}, 0.3):
        metric(advisor, "T0", t["parameter_id"], v, "PERIODICAL")
    assert advisor.intermediate == {t["parameter_id"]: [0.1, 0.2, 0.3]}
    assert advisor.machine is not None
    assert advisor.machine.n_succeeded == 0


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ('{"loss": 0.1}', "default"),
        ("true", "finite real number"),
        ('"0.5"', "finite real number"),
        ("not json {", "not valid JSON"),
        ('{"default": null}', "finite real number"),
    ],
)
def test_a_bad_final_metric_fails_its_job_and_is_logged(
    raw: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    advisor, channel = make()
    jobs = start(advisor)
    metric(advisor, "TrialX", jobs[1]["parameter_id"], raw)
    hb = advisor.machine
    assert hb is not None
    assert hb.n_failed == 1
    assert [j.id for j in hb.pending] == [0, 2]
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "TrialX" in message
    assert why in message
    # Its slot is not lost: the next request gets a job.
    advisor.process_command(CommandType.RequestTrialJobs, 1)
    assert len(trials_sent(channel)) == 4


def test_a_bad_periodical_metric_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    advisor, _ = make()
    t = start(advisor, 1)[0]
    metric(advisor, "TrialY", t["parameter_id"], "NaN", "PERIODICAL")
    assert advisor.intermediate == {}
    assert advisor.machine is not None
    assert advisor.machine.n_failed == 0
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "TrialY" in message


@pytest.mark.parametrize("pid", [99, -1, "0-4_0_7", 1.5, True])
def test_unknown_parameter_ids_are_logged_with_the_trial(
    pid: Any, caplog: pytest.LogCaptureFixture
) -> None:
    advisor, _ = make()
    start(advisor)
    metric(advisor, "TrialZ", pid, 0.5)
    metric(advisor, "TrialZ", pid, 0.5, "PERIODICAL")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert all("TrialZ" in e and "never sent" in e for e in errors)
    assert advisor.machine is not None
    assert len(advisor.machine.pending) == 3


def test_a_second_final_for_a_job_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    advisor, _ = make()
    t = start(advisor, 1)[0]
    metric(advisor, "T0", t["parameter_id"], 0.5)
    metric(advisor, "T0", t["parameter_id"], 0.6)
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "T0" in message
    assert "already told" in message


def test_customized_trials_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    advisor, _ = make()
    start(advisor)
    metric(advisor, "Custom", None, 0.5)
    end(advisor, "Custom", "SUCCEEDED", {"parameter_id": None, "parameter_source": "customized"})
    ping(advisor)
    assert advisor.machine is not None
    assert len(advisor.machine.pending) == 3
    assert any("customized" in m for m in quiet(caplog))


def test_multi_phase_requests_are_refused(caplog: pytest.LogCaptureFixture) -> None:
    advisor, _ = make()
    start(advisor)
    advisor.process_command(
        CommandType.ReportMetricData,
        {
            "parameter_id": 0,
            "trial_job_id": "T0",
            "type": "REQUEST_PARAMETER",
            "sequence": 0,
            "parameter_index": 1,
        },
    )
    assert any("REQUEST_PARAMETER" in m for m in quiet(caplog))


# ---------------------------------------------------------------------- trial ends


@pytest.mark.parametrize("event", FAIL_EVENTS)
def test_a_trial_ending_without_final_fails_its_job_after_the_grace(event: str) -> None:
    advisor, channel = make()
    jobs = start(advisor)
    metric(advisor, "T0", jobs[0]["parameter_id"], 0.1, "PERIODICAL")
    end(advisor, "T0", event, jobs[0])
    hb = advisor.machine
    assert hb is not None
    ping(advisor, 1)
    assert hb.n_failed == 0  # its FINAL may still be on its way
    ping(advisor, 1)
    assert hb.n_failed == 1
    assert [j.id for j in hb.pending] == [1, 2]
    advisor.process_command(CommandType.RequestTrialJobs, 1)
    assert len(trials_sent(channel)) == 4


def test_a_final_arriving_after_the_end_is_told() -> None:
    advisor, _ = make()
    jobs = start(advisor)
    metric(advisor, "T0", jobs[0]["parameter_id"], 0.1, "PERIODICAL")
    end(advisor, "T0", "FAILED", jobs[0])  # e.g. it crashed after reporting
    ping(advisor, 1)
    metric(advisor, "T0", jobs[0]["parameter_id"], 0.7)
    ping(advisor, 3)
    hb = advisor.machine
    assert hb is not None
    assert (hb.n_succeeded, hb.n_failed) == (1, 0)


def test_a_succeeded_trial_without_final_fails_its_job() -> None:
    advisor, _ = make()
    jobs = start(advisor)
    metric(advisor, "T0", jobs[2]["parameter_id"], 0.1, "PERIODICAL")
    end(advisor, "T0", "SUCCEEDED", jobs[2])
    ping(advisor)
    hb = advisor.machine
    assert hb is not None
    assert hb.n_failed == 1
    assert [j.id for j in hb.pending] == [0, 1]


def test_trial_ends_are_joined_by_metrics_not_by_their_hyper_params() -> None:
    """NNI 3.0 handed T0 the parameters of job 1 and T1 those of job 0."""
    advisor, _ = make()
    jobs = start(advisor)
    metric(advisor, "T0", jobs[1]["parameter_id"], 0.1, "PERIODICAL")
    metric(advisor, "T1", jobs[0]["parameter_id"], 0.2)
    end(advisor, "T1", "SUCCEEDED", jobs[1])
    end(advisor, "T0", "FAILED", jobs[0])  # hyper_params say job 0, but T0 ran job 1
    ping(advisor)
    hb = advisor.machine
    assert hb is not None
    assert (hb.n_succeeded, hb.n_failed) == (1, 1)
    assert [j.id for j in hb.pending] == [2]


def test_a_silent_failure_fails_the_job_once_every_running_trial_reported() -> None:
    """T0 died before reporting: its job is the one no running trial turns out to hold."""
    advisor, _ = make()
    jobs = start(advisor)
    end(advisor, "T0", "FAILED", jobs[0])
    ping(advisor, 5)
    hb = advisor.machine
    assert hb is not None
    assert hb.n_failed == 0  # T1 and T2 have not reported: any of the 3 jobs may be T0's
    metric(advisor, "T1", jobs[0]["parameter_id"], 0.1, "PERIODICAL")  # T1 had job 0
    ping(advisor, 5)
    assert hb.n_failed == 0
    metric(advisor, "T2", jobs[2]["parameter_id"], 0.1, "PERIODICAL")
    assert hb.n_failed == 1
    assert [j.id for j in hb.pending] == [0, 2]  # job 1 was T0's


def test_ends_of_trials_that_are_not_ours_are_ignored() -> None:
    advisor, _ = make()
    start(advisor)
    end(advisor, "Old", "FAILED", {"parameter_id": 1234})
    end(advisor, "Odd", "FAILED", None)
    advisor.process_command(
        CommandType.TrialEnd,
        {"trial_job_id": "Bad", "event": "FAILED", "hyper_params": "{not json"},
    )
    ping(advisor, 3)
    assert advisor.machine is not None
    assert advisor.machine.n_failed == 0


# ---------------------------------------------------------------------- robustness


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
COMMANDS = [c for c in CommandType if c is not CommandType.Initialize]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(COMMANDS),
            JSONISH
            | st.fixed_dictionaries(
                {
                    "parameter_id": st.integers(-2, 30) | JSONISH,
                    "trial_job_id": st.sampled_from(["A", "B", "C"]) | JSONISH,
                    "type": st.sampled_from(["FINAL", "PERIODICAL", "REQUEST_PARAMETER"]),
                    "value": JSONISH.map(json.dumps) | JSONISH,
                    "event": st.sampled_from(["SUCCEEDED", *FAIL_EVENTS]) | JSONISH,
                    "hyper_params": st.integers(0, 30).map(
                        lambda i: json.dumps({"parameter_id": i})
                    )
                    | JSONISH,
                }
            ),
        ),
        max_size=30,
    )
)
def test_no_handler_raises_whatever_nni_sends(commands: list[tuple[CommandType, Any]]) -> None:
    advisor, channel = make()
    start(advisor)
    # process_command logs (never raises) what escapes a handler, so "no exception" alone
    # proves nothing: listen for that log record. The logged refusals are the point; keep
    # them out of the output.
    records: list[logging.LogRecord] = []
    catcher = logging.Handler(logging.DEBUG)
    catcher.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(LOGGER)
    logger.addHandler(catcher)
    propagate, logger.propagate = logger.propagate, False
    try:
        for command, data in commands:
            advisor.process_command(command, data)
    finally:
        logger.removeHandler(catcher)
        logger.propagate = propagate
    escaped = [r.getMessage() for r in records if r.exc_info is not None]
    assert not escaped, escaped
    # The state is still coherent: each parameter id sent once, every job the machine has
    # pending was sent to NNI, and the machine's state restores as it is.
    hb = advisor.machine
    assert hb is not None
    sent = [t["parameter_id"] for t in trials_sent(channel)]
    assert len(sent) == len(set(sent))
    assert {job.id for job in hb.pending} <= set(sent)
    state = json.loads(json.dumps(hb.snapshot()))
    assert hyperband.Hyperband.restore(state).snapshot() == hb.snapshot()


def test_bad_class_args_are_reported_to_nni() -> None:
    channel_sends: list[tuple[CommandType, str]] = []

    class Reporting(HyperbandAdvisor):
        def send(self, command: CommandType, data: str) -> None:
            channel_sends.append((command, data))

    with pytest.raises(hyperband.ConfigurationError, match="eta must be") as info:
        Reporting(R=9, eta=1, command_channel_url="ws://_unittest_")
    assert "got 1" in str(info.value)
    ((command, message),) = channel_sends
    assert command is CommandType.Error  # NNI's manager turns it into status ERROR
    assert "eta" in message
    with pytest.raises(hyperband.ConfigurationError, match="optimize_mode must be one of"):
        Reporting(optimize_mode="max", command_channel_url="ws://_unittest_")
    with pytest.raises(hyperband.ConfigurationError, match="iterations must be >= 1"):
        Reporting(iterations=0, command_channel_url="ws://_unittest_")


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({"x": {"_type": "uniform", "_value": [1, 0]}}, "x"),
        ({"TRIAL_BUDGET": {"_type": "choice", "_value": [1]}}, "reserved"),
        ([1, 2], "must be a dict"),
    ],
)
def test_a_bad_search_space_is_fatal_and_reported(space: Any, match: str) -> None:
    advisor, channel = make()
    with pytest.raises(hyperband.HyperbandError, match=match):
        advisor.process_command(CommandType.Initialize, space)
    assert [c for c, _ in channel.sent] == [CommandType.Error]


def test_search_space_updates(caplog: pytest.LogCaptureFixture) -> None:
    advisor, _ = make()
    advisor.process_command(CommandType.UpdateSearchSpace, SPACE)  # before Initialize: taken
    assert advisor.machine is not None
    advisor.process_command(CommandType.UpdateSearchSpace, SPACE)  # unchanged: fine
    assert quiet(caplog) == []
    advisor.process_command(CommandType.UpdateSearchSpace, {"y": SPACE["x"]})
    assert any("cannot change its space" in m for m in quiet(caplog))


def test_all_commands_share_one_queue_in_order() -> None:
    advisor, _ = make()
    advisor.enqueue_command(CommandType.ReportMetricData, {"type": "PERIODICAL"})
    advisor.enqueue_command(CommandType.TrialEnd, {})
    advisor.enqueue_command(CommandType.RequestTrialJobs, 1)
    queued = [advisor.default_command_queue.get_nowait()[0] for _ in range(3)]
    assert queued == [
        CommandType.ReportMetricData,
        CommandType.TrialEnd,
        CommandType.RequestTrialJobs,
    ]
    assert advisor.assessor_command_queue.empty()


def test_the_dispatcher_loop_serves_and_checkpoints_on_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path))
    advisor, channel = make()
    checkpoint = tmp_path / "hyperband_advisor.json"
    incoming = deque(
        [(CommandType.Initialize, json.dumps(SPACE)), (CommandType.RequestTrialJobs, "2")]
    )

    def receive() -> tuple[CommandType, Any]:
        if incoming:
            return incoming.popleft()
        # Terminate drops queued commands, so first let the worker serve the request, and the
        # advisor's own ping write the checkpoint (NNI 3.0 sends no pings).
        deadline = time.monotonic() + 10
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return (CommandType.Terminate, "")

    channel._receive = receive  # type: ignore[method-assign]
    advisor.run()  # the base class's loop, with this class's queue and ping thread
    assert len(trials_sent(channel)) == 2
    state = json.loads(checkpoint.read_text())
    assert len(state["machine"]["pending"]) == 2


def test_importing_hyperband_does_not_import_nni() -> None:
    code = "import sys, hyperband, hyperband.integrations; assert 'nni' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------- resume and import


def import_entry(params: dict[str, Any], value: Any) -> dict[str, Any]:
    return {"parameter": params, "value": json.dumps(value), "trialJobId": "old"}


def test_resume_from_checkpoint_finishes_the_same_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path))
    first, _ = make()
    nni = FakeNNI(first, random.Random(5), 3)
    nni.start()
    for _ in range(40):
        nni.step()
    first.process_command(CommandType.Ping, "")  # the checkpoint is written on a ping
    assert (tmp_path / "hyperband_advisor.json").exists()
    # After the checkpoint, one more trial finishes: NNI's database has it, the checkpoint not.
    nni.read()
    running = [t for t in nni.live if t.params is not None]
    late = running[0]
    assert late.pid is not None
    late_params = dict(late.params or {})
    late_value = objective(late_params, late_params[BUDGET_KEY])
    metric(first, late.id, late.pid, late_value)
    nni.completed[(late_params["x"], late_params["act"], late_params[BUDGET_KEY])] += 1
    nni.live.remove(late)
    # The experiment stops; forms still queued in NNI are lost, running trials are resumed.
    resumed = [t.form for t in nni.live]

    second, channel = make()
    second.load_checkpoint()
    nni2 = FakeNNI(second, random.Random(6), 3)
    nni2.completed = nni.completed
    second.process_command(CommandType.Initialize, SPACE)
    second.process_command(CommandType.ImportData, [import_entry(late_params, late_value)])
    second.process_command(
        CommandType.AddCustomizedTrialJob,
        [{**f, "parameter_source": "resumed"} for f in resumed],
    )
    for form in resumed:  # NNI submits the resumed trials again, with their old forms
        nni2.forms.append(form)
        nni2.queue.append(form)
    second.process_command(CommandType.RequestTrialJobs, 3)
    nni2.run()
    hb = second.machine
    assert hb is not None
    assert hb.done
    jobs, best = predict(9, 3, lambda c: False)
    # Every job of the study was told exactly once, across the two runs.
    assert (hb.n_succeeded, hb.n_failed) == (sum(jobs.values()), 0)
    assert set(nni2.completed) == set(jobs)
    assert same_best(hb.best, best)
    # The job that finished after the checkpoint came from NNI's import, not from a new trial.
    assert late.pid not in {t["parameter_id"] for t in trials_sent(channel)}


def test_resume_without_checkpoint_replays_imported_results() -> None:
    """Same seed, no checkpoint: the results NNI imports answer the machine's identical jobs."""
    first, first_channel = make()
    nni = FakeNNI(first, random.Random(8), 3)
    nni.start()
    nni.run()
    results = [
        import_entry(t["parameters"], objective(t["parameters"], t["parameters"][BUDGET_KEY]))
        for t in trials_sent(first_channel)[:15]
    ]
    second, channel = make()
    second.load_checkpoint()  # no NNI_CHECKPOINT_DIRECTORY: nothing to load, no crash
    nni2 = FakeNNI(second, random.Random(9), 3)
    # NNI's order on resume: Initialize, ImportData, AddCustomizedTrialJob, RequestTrialJobs.
    second.process_command(CommandType.Initialize, SPACE)
    second.process_command(CommandType.ImportData, results)
    second.process_command(CommandType.AddCustomizedTrialJob, [])
    second.process_command(CommandType.RequestTrialJobs, 3)
    nni2.run()
    hb = second.machine
    assert hb is not None
    assert hb.done
    assert len(trials_sent(channel)) == hyperband.schedule(9, 3).total_jobs - 15
    assert first.machine is not None
    assert same_best(hb.best, first.machine.best)


def test_resume_tolerates_the_built_in_advisors_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An experiment begun with NNI's built-in Hyperband, resumed with this advisor."""
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path))
    (tmp_path / "hyperband_advisor.json").write_text("{not json")
    advisor, channel = make()
    advisor.load_checkpoint()
    advisor.process_command(CommandType.Initialize, SPACE)
    advisor.process_command(
        CommandType.ImportData,
        [
            {"parameter": {"x": 0.5, "act": "relu", "TRIAL_BUDGET": 1}, "value": "0.5"},
            {"parameter": {"x": 0.5}, "value": 0.5},
            {"parameter": None, "value": None},
            "junk",
        ],
    )
    advisor.process_command(
        CommandType.AddCustomizedTrialJob,
        [
            {"parameter_id": "0-4_0_7", "parameter_source": "resumed", "parameters": {}},
            json.dumps(
                {"parameter_id": 3, "parameters": {"x": 0.1, "act": "relu", "TRIAL_BUDGET": 1}}
            ),
        ],
    )
    advisor.process_command(CommandType.RequestTrialJobs, 3)
    metric(advisor, "Resumed", 3, 0.2)  # a resumed trial of the old study reports
    assert trials_sent(channel) == []  # job 3 of this study must not meet that trial
    end(advisor, "Resumed", "SUCCEEDED", {"parameter_id": 3, "parameter_source": "resumed"})
    ping(advisor)
    assert len(trials_sent(channel)) == 3
    assert any("checkpoint" in m and "unusable" in m for m in quiet(caplog))


def test_a_checkpoint_round_trips_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path))
    advisor, _ = make()
    jobs = start(advisor)
    metric(advisor, "T0", jobs[0]["parameter_id"], 0.3, "PERIODICAL")
    metric(advisor, "T0", jobs[0]["parameter_id"], 0.4)
    advisor.save_checkpoint()
    other, _ = make()
    other.load_checkpoint()
    assert other.machine is not None
    assert advisor.machine is not None
    assert other.machine.snapshot() == advisor.machine.snapshot()
    assert other.intermediate == {0: [0.3]}
    # NNI sends the search space again on resume: the same one, spelled as JSON, is accepted.
    other.process_command(CommandType.Initialize, json.loads(json.dumps(SPACE)))
    assert quiet(caplog) == []
    assert other._channel.sent == [(CommandType.Initialized, "")]
    other.process_command(CommandType.UpdateSearchSpace, {"x": SPACE["x"]})
    assert any("cannot change its space" in m for m in quiet(caplog))


def test_docstring_examples() -> None:
    import doctest

    import hyperband.integrations.nni as module

    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


def test_the_overhead_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    try:
        import bench_nni_overhead
    finally:
        sys.path.pop(0)
    committed = bench_nni_overhead.RESULTS.read_bytes()
    # Small and once: this checks that it runs and what it prints, not the figures. --quick
    # writes no results file: the committed one holds the figures docs/benchmarks.md quotes.
    assert bench_nni_overhead.main(["--max-budget", "9", "--quick"]) == 0
    assert bench_nni_overhead.RESULTS.read_bytes() == committed
    out = capsys.readouterr().out
    assert "HyperbandAdvisor" in out
    assert "x cheaper" in out


def test_resume_without_checkpoint_keeps_resumed_trials_apart_from_new_jobs() -> None:
    """The earlier run's ids are this machine's too: a resumed trial's result must not land on
    the new job with its id, so no job is sent until the resumed trials ended."""
    first, first_channel = make()
    start(first)
    old = trials_sent(first_channel)  # jobs 0, 1, 2 running when the experiment stopped
    second, channel = make()
    second.load_checkpoint()
    second.process_command(CommandType.Initialize, SPACE)
    second.process_command(CommandType.ImportData, [])
    second.process_command(
        CommandType.AddCustomizedTrialJob, [{**t, "parameter_source": "resumed"} for t in old]
    )
    second.process_command(CommandType.RequestTrialJobs, 3)
    assert trials_sent(channel) == []
    params = old[1]["parameters"]
    metric(second, "R1", 1, objective(params, params[BUDGET_KEY]))
    hb = second.machine
    assert hb is not None
    assert hb.n_succeeded == 0  # not this machine's job 1: kept by configuration instead
    for i, t in enumerate(old):
        end(second, f"R{i}", "SUCCEEDED" if i == 1 else "USER_CANCELED", t)
    ping(second, 1)
    assert trials_sent(channel) == []  # within the grace, a late metric may still come
    ping(second, 1)
    # Same seed, same first configurations: job 1 is answered by the resumed trial's result.
    sent = trials_sent(channel)
    assert [t["parameter_id"] for t in sent] == [0, 2, 3]
    assert hb.n_succeeded == 1
    assert [t["parameters"] for t in sent[:2]] == [old[0]["parameters"], old[2]["parameters"]]


# ---------------------------------------------------------------------- samplers


def predict_with(sampler: Any, max_budget: float = 9, eta: float = 3, **kwargs: Any) -> Any:
    """The (x, act, budget) jobs an in-process machine runs serially (ask, tell, ask...)."""
    hb = hyperband.Hyperband(sampler, max_budget, eta, iterations=1, seed=0, **kwargs)
    jobs: Counter[tuple[Any, ...]] = Counter()
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)
        jobs[(job.config["x"], job.config["act"], job.budget)] += 1
        hb.tell(job.id, objective(job.config, job.budget))
    return jobs


@pytest.mark.parametrize(
    ("name", "options", "cls"),
    [("random", None, hyperband.RandomSampler), ("kde", {"min_points": 3}, "KDESampler")],
)
def test_the_sampler_class_arg_builds_the_machines_sampler(
    name: str, options: Any, cls: Any
) -> None:
    advisor, _ = make(sampler=name, sampler_options=options)
    assert advisor.machine is None  # the sampler needs the search space
    advisor.process_command(CommandType.Initialize, SPACE)
    hb = advisor.machine
    assert hb is not None
    cls = getattr(hyperband, cls) if isinstance(cls, str) else cls
    assert type(hb.sampler) is cls
    assert hb.sampler.space == hyperband.validate_space(SPACE)  # type: ignore[attr-defined]
    assert hb.sampler.options == ({} if options is None else {**hb.sampler.options, **options})  # type: ignore[attr-defined]
    if options:
        assert hb.sampler.options["min_points"] == 3  # type: ignore[attr-defined]


def test_a_kde_study_with_one_trial_at_a_time_is_the_serial_machines() -> None:
    """One trial at a time, results reach the machine in one order: the configurations the KDE
    sampler draws lazily are exactly those of the machine run serially in-process."""
    advisor, channel = make(sampler="kde", sampler_options={"min_points": 2})
    nni = FakeNNI(advisor, random.Random(2), 1)
    nni.study()
    sampler = hyperband.KDESampler(SPACE, min_points=2)
    assert nni.completed == predict_with(sampler)
    assert sampler.model_budget is not None  # the model drew some of them
    # Not the random sampler's configurations (the classArg reached the machine).
    assert nni.completed != predict_with(SPACE)
    assert channel.sent[-1] == (CommandType.NoMoreTrialJobs, "")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampler": "tpe"}, "sampler must be one of 'random', 'kde', 'optuna', got 'tpe' (str)"),
        ({"sampler": None}, "sampler must be one of 'random', 'kde', 'optuna', got None"),
        ({"sampler": "kde", "sampler_options": {"top_fraction": 2}}, "top_fraction"),
        (
            {"sampler": "kde", "sampler_options": {"nope": 1}},
            "sampler 'kde' takes the options",
        ),
        ({"sampler": "kde", "sampler_options": [1]}, "sampler_options must be a dict"),
        ({"sampler_options": {"min_points": 2}}, "sampler 'random' takes the options none"),
        (
            {"early_stop": "mean"},
            "early_stop must be null (no early stopping) or one of 'median', 'rung', 'curve', "
            "got 'mean' (str)",
        ),
        ({"early_stop": True}, "early_stop must be null (no early stopping) or one of"),
        ({"early_stop_options": {"min_peers": 2}}, "early_stop_options need an early_stop"),
        ({"early_stop": "rung", "early_stop_options": {"min_peers": 0}}, "min_peers must be >= 1"),
        (
            {"early_stop": "median", "early_stop_options": {"patience": 3}},
            "early_stop_options must be keyword arguments of the 'median' rule",
        ),
        ({"early_stop": "rung", "early_stop_options": "fast"}, "early_stop_options must be a dict"),
        ({"exec_mode": "async"}, "exec_mode must be one of"),
    ],
)
def test_bad_sampler_and_early_stop_class_args_are_fatal(
    kwargs: dict[str, Any], message: str
) -> None:
    sent: list[tuple[CommandType, str]] = []

    class Reporting(HyperbandAdvisor):
        def send(self, command: CommandType, data: str) -> None:
            sent.append((command, data))

    with pytest.raises(hyperband.HyperbandError, match=re.escape(message)):
        Reporting(R=9, eta=3, command_channel_url="ws://_unittest_", **kwargs)
    ((command, data),) = sent
    assert command is CommandType.Error
    assert message in data


# ---------------------------------------------------------------------- early stopping


def test_early_stop_class_args_reach_the_machine() -> None:
    advisor, _ = make(early_stop="median", early_stop_options={"min_peers": 1})
    advisor.process_command(CommandType.Initialize, SPACE)
    assert advisor.machine is not None
    rule = advisor.machine.early_stop
    assert isinstance(rule, hyperband.MedianRule)
    assert rule.options == {"min_peers": 1, "min_progress": 0.0}
    advisor, _ = make(exec_mode="asynchronous", early_stop="rung")
    advisor.process_command(CommandType.Initialize, SPACE)
    assert advisor.machine is not None
    assert isinstance(advisor.machine.early_stop, hyperband.RungRule)
    assert advisor.machine.exec_mode == "asynchronous"


def promoted_and_fresh(advisor: HyperbandAdvisor) -> tuple[int, int]:
    """R=3, eta=3: a promotion (budget 3 after 1) and a bracket-0 job (budget 3 from 0)."""
    jobs = start(advisor)
    for i, t in enumerate(jobs):
        metric(advisor, f"T{i}", t["parameter_id"], 0.1 * i)
    advisor.process_command(CommandType.RequestTrialJobs, 2)
    promoted, fresh = trials_sent(advisor._channel)[3:5]
    assert (promoted["parameters"][BUDGET_KEY], fresh["parameters"][BUDGET_KEY]) == (3, 3)
    assert advisor.machine is not None
    previous = {j.id: j.previous_budget for j in advisor.machine.pending}
    assert previous == {promoted["parameter_id"]: 1, fresh["parameter_id"]: None}
    return promoted["parameter_id"], fresh["parameter_id"]


def curves(advisor: HyperbandAdvisor) -> dict[int, list[list[float]]]:
    """The machine's record of each pending job's reports: [step, loss] (loss = -value)."""
    assert advisor.machine is not None
    return dict(advisor.machine.snapshot()["reports"])


# A rule that never stops in these tests: with a rule every PERIODICAL metric reaches the machine.
PATIENT = {"early_stop": "median", "early_stop_options": {"min_peers": 1000}}


def test_the_kth_periodical_metric_is_at_previous_budget_plus_k(
    caplog: pytest.LogCaptureFixture,
) -> None:
    advisor, _ = make(R=3, eta=3, **PATIENT)
    promoted, fresh = promoted_and_fresh(advisor)
    for v in (0.1, 0.2, 0.3):
        metric(advisor, "P", promoted, v, "PERIODICAL")
    for v in ("NaN", 0.2, 0.3, {"default": 0.4, "acc": 1}, 0.5):  # a bad one counts too
        metric(advisor, "F", fresh, v, "PERIODICAL")
    got = curves(advisor)
    # From previous budget 1: steps 2, 3, then clamped to the budget 3.
    assert got[promoted] == [[2, -0.1], [3, -0.2], [3, -0.3]]
    assert got[fresh] == [[2, -0.2], [3, -0.3], [3, -0.4], [3, -0.5]]
    (error,) = quiet(caplog)
    assert "F" in error
    assert "finite" in error
    assert advisor.machine is not None
    assert advisor.machine.stats.n_reports == 7


def test_a_step_key_in_the_metric_gives_the_step(caplog: pytest.LogCaptureFixture) -> None:
    advisor, _ = make(R=3, eta=3)
    promoted, _ = promoted_and_fresh(advisor)
    reports = [
        {"default": 0.5, "step": 1.5},
        {"default": 0.6, "step": 1.2},  # goes backwards
        {"default": 0.6, "step": 7},  # beyond the budget
        {"default": 0.6, "step": 1},  # not after the previous budget
        {"default": 0.6, "step": "2"},
        {"default": 0.6, "step": True},
        {"default": 0.6, "step": None},
        {"default": 0.7, "step": 3},
    ]
    for value in reports:
        metric(advisor, "TrialS", promoted, value, "PERIODICAL")
    assert curves(advisor)[promoted] == [[1.5, -0.5], [3, -0.7]]
    errors = quiet(caplog)
    assert len(errors) == 6
    assert all("TrialS" in e and f"job {promoted}" in e and "step" in e for e in errors)
    assert "must not go backwards" in errors[0]
    assert "must be in (1, 3]" in errors[1]
    assert advisor.intermediate[promoted] == [0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.7]
    assert advisor.machine is not None
    assert len(advisor.machine.pending) == 2  # nothing was resolved by a bad report


def test_without_a_rule_only_explicit_steps_reach_the_machine(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18 item 10: nothing judges a report without a rule, so plain PERIODICAL metrics
    are only recorded (their count still numbers the steps); a metric with a "step" is still
    reported, so that a bad step is logged."""
    advisor, _ = make(R=3, eta=3)
    promoted, fresh = promoted_and_fresh(advisor)
    reported: list[tuple[Any, ...]] = []
    report = hyperband.Hyperband.report

    def spy(self: hyperband.Hyperband, *args: Any) -> Any:
        reported.append(args)
        return report(self, *args)

    monkeypatch.setattr(hyperband.Hyperband, "report", spy)
    for v in ("NaN", 0.2, {"default": 0.3, "acc": 1}):
        metric(advisor, "F", fresh, v, "PERIODICAL")
    assert reported == []
    assert curves(advisor) == {}
    metric(advisor, "P", promoted, {"default": 0.5, "step": 7}, "PERIODICAL")  # beyond budget
    metric(advisor, "P", promoted, {"default": 0.6, "step": 2.5}, "PERIODICAL")
    assert reported == [(promoted, 7, 0.5), (promoted, 2.5, 0.6)]
    assert curves(advisor) == {promoted: [[2.5, -0.6]]}
    (bad_value, bad_step) = quiet(caplog)
    assert "trial F" in bad_value
    assert "finite" in bad_value
    assert "trial P" in bad_step
    assert "must be in (1, 3]" in bad_step
    assert advisor.intermediate == {fresh: [0.2, 0.3], promoted: [0.5, 0.6]}
    assert advisor._periodical.counts == {fresh: 3, promoted: 2}
    assert advisor.machine is not None
    assert advisor.machine.stats.n_reports == 1


def kills(channel: StubChannel) -> list[str]:
    return [json.loads(d) for c, d in channel.sent if c is CommandType.KillTrialJob]


def stop_one(advisor: HyperbandAdvisor) -> list[dict[str, Any]]:
    """R=9, eta=3, rung rule: job 5, run by trial T3, cannot make the top 3 of its rung."""
    jobs = start(advisor, 9)  # rung 0 of bracket 2: 9 jobs of budget 1, 3 promoted

    def half(value: float) -> dict[str, float]:
        # Half way through the budget: a report at the budget itself is never judged.
        return {"default": value, "step": 0.5}

    for i in range(3):
        metric(advisor, f"T{i}", jobs[i]["parameter_id"], half(0.9 - 0.1 * i), "PERIODICAL")
    assert kills(advisor._channel) == []
    metric(advisor, "T4", jobs[4]["parameter_id"], half(0.95), "PERIODICAL")  # the best so far
    # T3 ran job 5's parameters (NNI 3.0 may hand a trial another one's).
    metric(advisor, "T3", jobs[5]["parameter_id"], half(0.1), "PERIODICAL")
    return jobs


def test_a_stop_kills_the_trial_that_ran_the_job(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    advisor, channel = make(early_stop="rung")
    stop_one(advisor)
    hb = advisor.machine
    assert hb is not None
    assert kills(channel) == ["T3"]
    # The payload NNI's own assessor path sends: the trial id, JSON-encoded.
    assert (CommandType.KillTrialJob, '"T3"') in channel.sent
    assert hb.n_stopped == 1
    assert 5 not in {j.id for j in hb.pending}
    assert advisor.stopped == {5: "T3"}
    assert quiet(caplog) == []
    assert any("job 5 stopped early at step 0.5" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("event", ["EARLY_STOPPED", "USER_CANCELED", "SUCCEEDED", "FAILED"])
@pytest.mark.parametrize("late", ["nothing", "periodical", "final", "NaN final", "garbled final"])
def test_a_killed_trials_late_metrics_and_end_change_nothing(
    event: str, late: str, caplog: pytest.LogCaptureFixture
) -> None:
    """After the kill, the trial may still report (its metrics raced the kill) and then ends
    with whatever status NNI gives it: the job stays stopped, nothing fails or is told."""
    advisor, channel = make(early_stop="rung")
    jobs = stop_one(advisor)
    hb = advisor.machine
    assert hb is not None
    before = hb.snapshot()
    recorded = advisor.intermediate
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    if late == "periodical":
        metric(advisor, "T3", 5, 0.05, "PERIODICAL")
    elif late == "final":
        metric(advisor, "T3", 5, 0.12)
    elif late == "NaN final":
        metric(advisor, "T3", 5, "NaN")
    elif late == "garbled final":
        metric(advisor, "T3", 5, "not json {")
    end(advisor, "T3", event, jobs[3])
    ping(advisor, 3)
    assert hb.snapshot() == before  # no tell, no fail, no new report
    assert advisor.intermediate == recorded
    assert kills(channel) == ["T3"]
    assert (hb.n_succeeded, hb.n_failed, hb.n_stopped) == (0, 0, 1)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    if late != "nothing":
        assert any("stopped early, ignored" in r.getMessage() for r in caplog.records)


def test_a_trial_killed_by_the_user_still_fails_its_job() -> None:
    advisor, channel = make(early_stop="rung")
    jobs = stop_one(advisor)
    end(advisor, "T4", "USER_CANCELED", jobs[4])  # the user, not the advisor, killed T4
    ping(advisor)
    hb = advisor.machine
    assert hb is not None
    assert (hb.n_failed, hb.n_stopped) == (1, 1)
    assert 4 not in {j.id for j in hb.pending}
    assert kills(channel) == ["T3"]


def test_a_stop_decided_after_the_trial_ended_sends_no_kill(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """NNI may forward a trial's last metric after its end: the job stops, nothing is killed,
    and the end's grace does not fail it afterwards."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    advisor, channel = make(early_stop="rung")
    jobs = stop_one(advisor)
    end(advisor, "T6", "SUCCEEDED", jobs[6])  # no metric yet: its job is not known
    late = {"default": 0.0, "step": 0.5}
    metric(advisor, "T6", jobs[6]["parameter_id"], late, "PERIODICAL")  # 3 peers ahead
    ping(advisor, 3)
    hb = advisor.machine
    assert hb is not None
    assert (hb.n_failed, hb.n_stopped) == (0, 2)
    assert advisor.stopped == {5: "T3", 6: None}
    assert kills(channel) == ["T3"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("job 6 stopped early" in m and "T6 had ended" in m for m in messages)
    assert not any("job 6 failed" in m for m in messages)


class CurveNNI(FakeNNI):
    """Trials report once per epoch, ``ceil(TRIAL_BUDGET)`` epochs from scratch, then FINAL.

    A trial the advisor kills may still send one metric that raced the kill, then ends with
    any status NNI may give it.
    """

    def advance(self, trial: Trial) -> None:
        if trial.params is None:
            super().advance(trial)
            return
        config = {k: v for k, v in trial.params.items() if k in SPACE}
        budget = trial.params[BUDGET_KEY]
        if trial.killed:
            r = self.rng.random()
            if r < 0.25:
                metric(self.advisor, trial.id, trial.pid, objective(config, budget), "PERIODICAL")
            elif r < 0.5:
                metric(self.advisor, trial.id, trial.pid, objective(config, budget))
            self.finish(trial, self.rng.choice(["EARLY_STOPPED", "USER_CANCELED", "SUCCEEDED"]))
            return
        if trial.step < math.ceil(budget):
            trial.step += 1
            value = objective(config, min(trial.step, budget))
            metric(self.advisor, trial.id, trial.pid, value, "PERIODICAL")
            return
        metric(self.advisor, trial.id, trial.pid, objective(config, budget))
        self.finish(trial, "SUCCEEDED")
        self.completed[(config["x"], config["act"], budget)] += 1


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    concurrency=st.integers(1, 6),
    exec_mode=st.sampled_from(["parallelism", "serial", "asynchronous"]),
    early_stop=st.sampled_from([None, "median", "rung"]),
    sampler=st.sampled_from(["random", "random", "kde"]),
)
def test_any_interleaving_with_early_stopping_completes_and_kills_only_stopped_jobs(
    seed: int, concurrency: int, exec_mode: str, early_stop: str | None, sampler: str
) -> None:
    options = {"min_points": 2} if sampler == "kde" else None
    advisor, channel = make(
        exec_mode=exec_mode,
        early_stop=early_stop,
        early_stop_options={"min_peers": 1} if early_stop == "median" else None,
        sampler=sampler,
        sampler_options=options,
        resume_info=True,
    )
    recorder = Recorder()
    logger = logging.getLogger(LOGGER)
    logger.addHandler(recorder)
    try:
        nni = CurveNNI(advisor, random.Random(seed), concurrency)
        hb = nni.study()
    finally:
        logger.removeHandler(recorder)
    assert recorder.messages == []
    # Every job handed out was resolved exactly once; the killed trials' ends failed nothing.
    assert hb.n_succeeded + hb.n_stopped == hb.n_asked
    assert hb.n_failed == 0
    assert len(advisor.stopped) == hb.n_stopped
    # Each kill is for the trial that ran a stopped job, once; every trial running a stopped
    # job was killed.
    assert len(nni.kills) == len(set(nni.kills))
    assert set(nni.kills) == {t for t in advisor.stopped.values() if t is not None}
    assert {nni.ran[t] for t in nni.kills} <= set(advisor.stopped)
    assert all(advisor.stopped[nni.ran[t]] == t for t in nni.kills)
    if early_stop is None:
        assert nni.kills == []
        assert hb.n_stopped == 0
    # A stopped configuration is never promoted: no job resumes a stopped one.
    sent = trials_sent(channel)
    assert not any(t["parameters"]["TRIAL_RESUME_FROM"] in advisor.stopped for t in sent)
    assert all(0 <= t["parameters"]["x"] <= 1 for t in sent)


def test_asynchronous_mode_promotes_while_new_configurations_still_start() -> None:
    advisor, channel = make(exec_mode="asynchronous", resume_info=True)
    hb = CurveNNI(advisor, random.Random(4), 4).study()
    sent = [t["parameters"] for t in trials_sent(channel)]
    fresh = [i for i, p in enumerate(sent) if p["TRIAL_RESUME_FROM"] is None]
    promotions = [i for i, p in enumerate(sent) if p["TRIAL_RESUME_FROM"] is not None]
    # One iteration starts every bracket's rung-0 configurations: 9 + 5 + 3 for R=9, eta=3.
    assert len(fresh) == 17
    assert hb.n_succeeded == len(sent)
    assert hb.stats.n_promoted == len(promotions)
    # ASHA: rung 0 of budget 1 (bracket 2) promotes as soon as a configuration ranks in the top
    # 1/eta of its results so far, before its last configuration starts. A synchronous rung
    # promotes only once that is certain: after 7 of its 9 jobs ended, all 9 had started.
    first_promotion = min(i for i in promotions if sent[i]["TRIAL_PREVIOUS_BUDGET"] == 1)
    last_start = max(i for i in fresh if sent[i][BUDGET_KEY] == 1)
    assert first_promotion < last_start


def test_asynchronous_mode_takes_adaptive_brackets() -> None:
    """exec_mode asynchronous with brackets adaptive: once the trust weights are measured,
    each new configuration's bracket is drawn, not taken from the balanced order."""
    advisor, channel = make(
        exec_mode="asynchronous", brackets="adaptive", iterations=6, resume_info=True
    )
    hb = CurveNNI(advisor, random.Random(4), 4).study()
    assert (hb.exec_mode, hb.params["brackets"]) == ("asynchronous", "adaptive")
    sent = [t["parameters"] for t in trials_sent(channel)]
    assert hb.n_succeeded == len(sent)
    # A new configuration's budget names its bracket (R=9, eta=3: 1, 3 or 9).
    fresh = [p[BUDGET_KEY] for p in sent if p["TRIAL_RESUME_FROM"] is None]
    order = [hb.schedule.bracket(s).rungs[0].budget for s in bracket_order(hb.schedule)]
    assert len(fresh) == 6 * len(order)
    assert fresh != order * 6
    assert fresh[:9] == order[:9]  # nothing measured yet: the balanced order


def drive_both(a: hyperband.Hyperband, b: hyperband.Hyperband) -> int:
    """Give two machines the same events until done; every answer must be the same."""
    n = 0
    while not a.done:
        ja, jb = a.ask(), b.ask()
        assert ja == jb
        if ja is hyperband.WAIT:
            ja = jb = a.pending[0]
        assert isinstance(ja, hyperband.Job)
        assert isinstance(jb, hyperband.Job)
        value = objective(ja.config, ja.budget)
        # At the budget: a job pending at the checkpoint may have reported before.
        decision = a.report(ja.id, ja.budget, value)
        assert b.report(jb.id, jb.budget, value) is decision
        if decision is hyperband.CONTINUE:
            assert a.tell(ja.id, value) == b.tell(jb.id, value)
        n += 1
    assert b.done
    return n


def test_a_checkpoint_round_trips_a_kde_study_with_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What nnictl resume restores: the KDE sampler rebuilt from its observations (not
    pickled), the stopping rule, the stops, and the advisor's count of PERIODICAL metrics."""
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path))
    args: dict[str, Any] = {
        "sampler": "kde",
        "sampler_options": {"min_points": 2},
        "early_stop": "rung",
    }
    advisor, _ = make(**args)
    nni = CurveNNI(advisor, random.Random(11), 3)
    nni.start()
    hb = advisor.machine
    assert hb is not None
    sampler = hb.sampler
    assert isinstance(sampler, hyperband.KDESampler)
    for _ in range(2000):
        nni.step()
        if hb.n_stopped >= 2 and sampler.model_budget is not None and hb.pending:
            break
    assert hb.n_stopped >= 2
    assert sampler.model_budget is not None
    advisor.save_checkpoint()

    other, channel = make(**args)
    other.load_checkpoint()
    restored = other.machine
    assert restored is not None
    assert restored.snapshot() == hb.snapshot()
    assert isinstance(restored.sampler, hyperband.KDESampler)
    assert restored.sampler is not sampler
    assert restored.sampler.options == sampler.options
    assert restored.sampler.n_observations == sampler.n_observations
    assert restored.sampler.model_budget == sampler.model_budget
    assert isinstance(restored.early_stop, hyperband.RungRule)
    assert other.stopped == advisor.stopped
    assert other.intermediate == advisor.intermediate
    state = json.loads((tmp_path / "hyperband_advisor.json").read_text())
    assert dict(state["periodical"]) == {
        jid: len(values) for jid, values in advisor.intermediate.items()
    }
    # NNI sends the search space again: the KDE sampler's own space is recognised.
    other.process_command(CommandType.Initialize, json.loads(json.dumps(SPACE)))
    # A killed trial's metric that raced the kill and the stop: still ignored after resume.
    jid, trial = next((j, t) for j, t in advisor.stopped.items() if t is not None)
    metric(other, trial, jid, 0.5)
    metric(other, trial, jid, 0.5, "PERIODICAL")
    assert quiet(caplog) == []
    assert channel.sent == [(CommandType.Initialized, "")]
    # From here on both machines answer every event the same way: same configurations.
    assert drive_both(hb, restored) > 5


def test_the_docs_tuner_section_with_kde_and_early_stop_is_accepted() -> None:
    """docs/nni.md's titled YAML block: NNI's config check takes it, and so does the advisor."""
    import yaml  # a dependency of nni
    from nni.experiment import ExperimentConfig

    doc = (Path(__file__).resolve().parent.parent / "docs" / "nni.md").read_text()
    fences = re.findall(r'^```yaml title="[^"]*early stopping[^"]*"\n(.*?)^```', doc, re.M | re.S)
    (text,) = fences
    tuner = yaml.safe_load(text)["tuner"]
    config = ExperimentConfig(
        "local",
        search_space=SPACE,
        trial_command="python trial.py",
        trial_code_directory=".",
        trial_concurrency=1,
        tuner=tuner,
    )
    assert config.canonical_copy().json()["tuner"]["className"] == tuner["className"]
    advisor, _ = make(**{"R": 9, **{k: v for k, v in tuner["classArgs"].items() if k != "R"}})
    advisor.process_command(CommandType.Initialize, SPACE)
    hb = advisor.machine
    assert hb is not None
    assert isinstance(hb.sampler, hyperband.KDESampler)
    assert hb.sampler.options["min_points"] == tuner["classArgs"]["sampler_options"]["min_points"]
    assert isinstance(hb.early_stop, hyperband.RungRule)
    assert hb.early_stop.min_peers == tuner["classArgs"]["early_stop_options"]["min_peers"]
