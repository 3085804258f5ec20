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
    nni.start()
    nni.run()
    hb = advisor.machine
    assert hb is not None
    assert hb.done
    assert nni.no_more == 1
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
    advisor, _ = make()
    start(advisor)
    logging.disable(logging.CRITICAL)  # the errors are the point; keep the output short
    try:
        for command, data in commands:
            advisor.process_command(command, data)
    finally:
        logging.disable(logging.NOTSET)


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
