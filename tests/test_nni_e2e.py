"""End-to-end: real NNI 3.0 experiments (local training service) driven by HyperbandAdvisor.

Each test starts NNI's manager through NNI's Python launcher (``tests/nni_launch.py`` says why
not through ``Experiment.start`` alone), with a temporary HOME and experiment directory, runs
real trial processes (``tests/nni_trial/trial.py``), and always stops the experiment and kills
NNI's process group.

The machine is deterministic: its configurations, promotions and failures do not depend on the
order results arrive in. So an in-process machine with the same seed, told the trial's own
objective, predicts exactly which (configuration, budget) pairs the real experiment must run.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("nni", reason="the nni extra is not installed (pip install 'hyperband[nni]')")

from nni.experiment import CustomAlgorithmConfig, Experiment, ExperimentConfig, rest

import hyperband

from .nni_launch import Launched, launch

TRIAL_DIR = Path(__file__).parent / "nni_trial"
sys.path.insert(0, str(TRIAL_DIR))
from trial import objective  # type: ignore[import-not-found]  # noqa: E402

# Seconds per test, NNI's start and stop included: only a bound against a hang, since each
# wait is for its condition. A test takes 20-60 s on a loaded 2-core machine, and up to 4 min
# at a load average of 20 (measured), hence pytest-timeout's 10 min for this file only.
TIME_LIMIT = 540.0
STOP_RESERVE = 60.0  # of which this much is kept for stopping NNI and checking

# NNI's launcher leaves a socket unclosed (nni/experiment/launcher.py, _ensure_port_idle).
pytestmark = [
    pytest.mark.timeout(TIME_LIMIT + 60),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

SPACE: dict[str, Any] = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "act": {"_type": "choice", "_value": ["relu", "tanh"]},
}
SEED = 1
TERMINAL = {"SUCCEEDED", "FAILED", "USER_CANCELED", "SYS_CANCELED", "EARLY_STOPPED"}
RESOLVED = "HyperbandAdvisor: every bracket is resolved"
ADVISOR = "hyperband.integrations.nni.HyperbandAdvisor"


def in_space(params: dict[str, Any]) -> bool:
    return (
        set(params) == {"x", "lr", "act", "TRIAL_BUDGET"}
        and 0 <= params["x"] <= 1
        and 1e-4 <= params["lr"] <= 1e-1
        and params["act"] in ("relu", "tanh")
    )


def config_key(params: dict[str, Any]) -> tuple[Any, ...]:
    return (params["x"], params["lr"], params["act"])


def predicted_machine(
    max_budget: int,
    eta: int,
    fail_above: float,
    sampler: Any = None,
    exec_mode: str = "parallelism",
) -> tuple[Counter[tuple[Any, ...]], hyperband.Hyperband]:
    """The (configuration, budget) pairs the real study must run, from the same machine run
    serially (ask, tell, ask...), and that machine."""
    hb = hyperband.Hyperband(
        sampler or SPACE, max_budget, eta, iterations=1, seed=SEED, exec_mode=exec_mode
    )
    jobs: Counter[tuple[Any, ...]] = Counter()
    while not hb.done:
        job = hb.ask()
        assert isinstance(job, hyperband.Job)  # serially, the machine never waits
        jobs[(*config_key(job.config), job.budget)] += 1
        if job.config["x"] > fail_above:
            hb.fail(job.id, "fails")
        else:
            hb.tell(job.id, objective(job.config, job.budget))
    return jobs, hb


def predicted_jobs(max_budget: int, eta: int, fail_above: float) -> Counter[tuple[Any, ...]]:
    return predicted_machine(max_budget, eta, fail_above)[0]


class Run:
    """What one experiment left behind: NNI's view and the trials' own records."""

    def __init__(self) -> None:
        self.status = "NOT STARTED"
        self.errors: list[str] = []  # NNI's status errors
        self.trials: dict[str, str] = {}  # trial id -> NNI status
        self.metrics: list[dict[str, Any]] = []  # NNI's stored metrics
        self.records: list[dict[str, Any]] = []  # written by the trials themselves
        self.dispatcher_log = ""
        self.manager_log = ""
        self.wall = 0.0

    def jobs(self) -> Counter[tuple[Any, ...]]:
        return Counter(
            (*config_key(r["parameters"]), r["parameters"]["TRIAL_BUDGET"]) for r in self.records
        )


def make_experiment(
    tmp: Path,
    records_dir: Path,
    *,
    max_budget: int = 9,
    eta: int = 3,
    fail_above: float = math.inf,
    client: str = "http",
    class_args: dict[str, Any] | None = None,
    max_trial_number: int | None = None,
    exp_id: str | None = None,
    concurrency: int = 3,
    epoch_seconds: float = 0.02,
) -> Experiment:
    cfg = ExperimentConfig("local")
    cfg.experiment_name = "hyperband-e2e"
    cfg.experiment_working_directory = str(tmp / "nni-experiments")
    cfg.search_space = SPACE
    cfg.trial_command = (
        f'"{sys.executable}" trial.py "{records_dir}" --fail-above {fail_above} --client {client}'
        f" --epoch-seconds {epoch_seconds}"
    )
    cfg.trial_code_directory = str(TRIAL_DIR)
    cfg.trial_concurrency = concurrency
    # NNI's manager says DONE only after maxTrialNumber trials: one iteration of the schedule.
    cfg.max_trial_number = max_trial_number or hyperband.schedule(max_budget, eta).total_jobs
    cfg.nni_manager_ip = "127.0.0.1"
    cfg.tuner = CustomAlgorithmConfig(
        class_name=ADVISOR,
        class_args={
            "R": max_budget,
            "eta": eta,
            "iterations": 1,
            "seed": SEED,
            **(class_args or {}),
        },
    )
    return Experiment(cfg, id=exp_id)


def watch(launched: Launched, run: Run, deadline: float) -> None:
    """Wait until the experiment is over (or the deadline), then collect NNI's view of it.

    Over means: NNI says DONE (once ``maxTrialNumber`` trials ended), ERROR or STOPPED; or,
    when fewer trials run (failed and stopped jobs are not promoted), the advisor said that
    every bracket is resolved (it had every result) and NNI shows every trial ended.
    """
    exp = launched.exp
    while time.monotonic() < deadline:
        time.sleep(0.5)
        launched.note_children()
        run.status = exp.get_status()
        if run.status in ("DONE", "ERROR", "STOPPED"):
            break
        jobs = exp.list_trial_jobs()
        if (
            len(jobs) < exp.config.max_trial_number
            and all(str(j.status) in TERMINAL for j in jobs)
            and RESOLVED in dispatcher_log(exp)
        ):
            break
    run.errors = list(rest.get(exp.port, "/check-status").get("errors", []))
    run.trials = {j.trialJobId: str(j.status) for j in exp.list_trial_jobs()}
    run.metrics = [
        {"trial": m.trialJobId, "type": m.type, "parameter_id": m.parameterId, "value": m.data}
        for per_trial in exp.get_job_metrics().values()
        for m in per_trial
    ]


def dispatcher_log(exp: Experiment) -> str:
    path = Path(str(exp.config.experiment_working_directory), exp.id, "log", "dispatcher.log")
    return path.read_text() if path.exists() else ""


def read_logs(tmp: Path, run: Run, records_dir: Path) -> None:
    logs = sorted((tmp / "nni-experiments").glob("*/log/dispatcher.log"))
    run.dispatcher_log = logs[0].read_text() if logs else ""
    logs = sorted((tmp / "nni-experiments").glob("*/log/nnimanager.log"))
    run.manager_log = logs[0].read_text() if logs else ""
    run.records = [json.loads(p.read_text()) for p in sorted(records_dir.glob("*.json"))]


def checkpoint(tmp: Path) -> dict[str, Any]:
    """The advisor's checkpoint, written when NNI stopped the dispatcher."""
    (path,) = [  # NNI also links the experiment's directory as _latest
        p
        for p in (tmp / "nni-experiments").glob("*/checkpoint/hyperband_advisor.json")
        if p.parent.parent.name != "_latest"
    ]
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def run_experiment(tmp: Path, **options: Any) -> Run:
    """Run one experiment until it finishes (or the time limit) and collect what it left."""
    run = Run()
    start = time.monotonic()
    records_dir = tmp / "records"
    records_dir.mkdir()
    launched = launch(make_experiment(tmp, records_dir, **options))
    try:
        watch(launched, run, start + TIME_LIMIT - STOP_RESERVE)
    finally:
        launched.stop()
    read_logs(tmp, run, records_dir)
    run.wall = time.monotonic() - start
    return run


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME: NNI keeps its registry of experiments there."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def check_common(
    run: Run,
    max_budget: int,
    eta: int,
    fail_above: float = math.inf,
    expected: Counter[tuple[Any, ...]] | None = None,
) -> None:
    assert run.dispatcher_log, "NNI wrote no dispatcher.log"
    assert "Traceback" not in run.dispatcher_log, run.dispatcher_log
    assert " ERROR " not in run.dispatcher_log, run.dispatcher_log
    assert all(in_space(r["parameters"]) for r in run.records)
    # Exactly the jobs the machine schedules, failures and promotions included.
    if expected is None:
        expected = predicted_jobs(max_budget, eta, fail_above)
    assert run.jobs() == expected
    # Joined by parameter id (what the trial really ran, which NNI 3.0 may have swapped between
    # trials started together), NNI's FINAL metrics are the trials' objective.
    by_pid = {r["parameter_id"]: r["parameters"] for r in run.records}
    assert len(by_pid) == len(run.records)  # the machine's job ids, each run once
    finals = [m for m in run.metrics if m["type"] == "FINAL"]
    assert len(finals) == sum(r["status"] == "succeeded" for r in run.records)
    for m in finals:
        params = by_pid[int(m["parameter_id"])]
        assert float(m["value"]) == pytest.approx(objective(params, params["TRIAL_BUDGET"]))
    assert run.wall < TIME_LIMIT


def test_real_experiment_runs_the_whole_schedule(home: Path) -> None:
    run = run_experiment(home)
    print(f"\nwall time {run.wall:.1f} s")
    schedule = hyperband.schedule(9, 3)
    assert run.status == "DONE", run.dispatcher_log
    assert len(run.trials) == schedule.total_jobs
    assert set(run.trials.values()) == {"SUCCEEDED"}, run.trials
    budgets = Counter(r["parameters"]["TRIAL_BUDGET"] for r in run.records)
    assert budgets == Counter(
        r.budget for b in schedule.brackets for r in b.rungs for _ in range(r.n_configs)
    )
    assert all(type(b) is int for b in budgets)
    assert sorted(r["parameter_id"] for r in run.records) == list(range(schedule.total_jobs))
    assert any(m["type"] == "PERIODICAL" for m in run.metrics)
    check_common(run, 9, 3)


def test_real_experiment_in_asynchronous_mode(home: Path) -> None:
    """``exec_mode: asynchronous`` (ASHA): one trial at a time, so results reach the advisor in a
    fixed order and the promotions, which depend on that order, are exactly those of an
    in-process asynchronous machine run serially; some come before their rung is full."""
    class_args = {"exec_mode": "asynchronous"}
    run = run_experiment(home, concurrency=1, class_args=class_args)
    print(f"\nwall time {run.wall:.1f} s")
    expected, hb = predicted_machine(9, 3, math.inf, exec_mode="asynchronous")
    assert run.status == "DONE", run.dispatcher_log
    assert set(run.trials.values()) == {"SUCCEEDED"}, run.trials
    check_common(run, 9, 3, expected=expected)
    # Promoted early: a configuration ran at a larger budget before its bracket's first rung
    # had all its results (a job id is the order the advisor handed jobs out in).
    by_id = sorted(run.records, key=lambda r: r["parameter_id"])
    budgets = [r["parameters"]["TRIAL_BUDGET"] for r in by_id]
    assert budgets.index(3) < len(budgets) - 1 - budgets[::-1].index(1), budgets
    state = checkpoint(home)["machine"]
    assert state["params"]["exec_mode"] == "asynchronous"
    assert state["n_succeeded"] == len(run.records) == hb.n_succeeded
    assert f"every bracket is resolved ({hb.n_succeeded} succeeded, 0 failed" in run.dispatcher_log


def test_real_experiment_with_failing_trials_finishes_without_promoting_them(home: Path) -> None:
    fail_above = 0.6
    run = run_experiment(home, fail_above=fail_above)
    print(f"\nwall time {run.wall:.1f} s")
    if run.status != "DONE":
        assert run.status in ("NO_MORE_TRIAL", "TUNER_NO_MORE_TRIAL"), run.dispatcher_log
    assert run.trials
    assert set(run.trials.values()) <= TERMINAL  # nothing is left running
    statuses = Counter(r["status"] for r in run.records)
    # Both ways a trial fails happened: silently, and after reporting.
    assert statuses["failed before reporting"] > 0, statuses
    assert statuses["failed after reporting"] > 0, statuses
    assert (
        Counter(run.trials.values())["FAILED"]
        == statuses["failed before reporting"] + (statuses["failed after reporting"])
    )
    # No configuration that failed was promoted: each ran once, at its bracket's first budget.
    runs_per_config = Counter(config_key(r["parameters"]) for r in run.records)
    for r in run.records:
        if r["status"].startswith("failed"):
            assert runs_per_config[config_key(r["parameters"])] == 1, r
    check_common(run, 9, 3, fail_above)


def test_real_experiment_with_nnis_own_trial_api(home: Path) -> None:
    """The trials use nni.get_next_parameter / nni.report_*: a small study (6 trials)."""
    run = run_experiment(home, max_budget=3, eta=3, client="nni")
    print(f"\nwall time {run.wall:.1f} s")
    assert run.status == "DONE", run.dispatcher_log
    assert set(run.trials.values()) == {"SUCCEEDED"}, run.trials
    check_common(run, 3, 3)


def test_bad_class_args_end_the_experiment_with_the_message(home: Path) -> None:
    """A misconfigured advisor ends the experiment in ERROR at once, its message in NNI's log."""
    run = run_experiment(home, class_args={"eta": 1})
    print(f"\nwall time {run.wall:.1f} s")
    assert run.status == "ERROR"
    assert run.errors  # NNI puts its own words there: "Dispatcher stream error, ..."
    message = "Dispatcher error: HyperbandAdvisor classArgs: eta must be > 1, got 1 (int)"
    assert message in run.manager_log
    assert run.trials == {}


def test_real_experiment_resumes_after_a_stop(home: Path) -> None:
    """Stopped mid-study and resumed (what nnictl resume does), the study completes."""
    start = time.monotonic()
    records_dir = home / "records"
    records_dir.mkdir()
    # Trials NNI resumes or that the advisor sends again count towards maxTrialNumber too.
    options: dict[str, Any] = {"max_trial_number": 40}
    first = launch(make_experiment(home, records_dir, **options))
    try:
        while time.monotonic() < start + TIME_LIMIT / 2:
            time.sleep(0.25)
            first.note_children()
            if len(list(records_dir.glob("*.json"))) >= 8:
                break
    finally:
        first.stop()  # a graceful stop first: the advisor checkpoints on exit
    before = len(list(records_dir.glob("*.json")))
    assert 8 <= before < hyperband.schedule(9, 3).total_jobs
    exp_id = first.exp.id
    checkpoint = home / "nni-experiments" / exp_id / "checkpoint" / "hyperband_advisor.json"
    assert checkpoint.exists()

    run = Run()
    second = launch(make_experiment(home, records_dir, exp_id=exp_id, **options), resume=True)
    try:
        watch(second, run, start + TIME_LIMIT - STOP_RESERVE)
    finally:
        second.stop()
    read_logs(home, run, records_dir)
    run.wall = time.monotonic() - start
    print(f"\nwall time {run.wall:.1f} s ({before} trials before the stop)")
    assert run.status in ("DONE", "NO_MORE_TRIAL", "TUNER_NO_MORE_TRIAL"), run.dispatcher_log
    assert set(run.trials.values()) <= TERMINAL
    assert "resumed from" in run.dispatcher_log
    resolved = "every bracket is resolved (22 succeeded, 0 failed, 0 stopped early)"
    assert resolved in run.dispatcher_log
    assert "Traceback" not in run.dispatcher_log, run.dispatcher_log
    # Every job of the study ran to the end at least once (a trial stopped mid-run reruns).
    done = Counter(
        (*config_key(r["parameters"]), r["parameters"]["TRIAL_BUDGET"])
        for r in run.records
        if r["status"] == "succeeded"
    )
    assert set(done) == set(predicted_jobs(9, 3, math.inf))
    assert run.wall < TIME_LIMIT


KILLED = ("EARLY_STOPPED", "USER_CANCELED")  # NNI 3.0's statuses of a trial it killed
# A model once a budget has 4 results. R=4, eta=2 is 14 jobs, which one trial at a time run in
# about 30 s here; 6 of its 10 new configurations are drawn with a model.
KDE_OPTIONS = {"min_points": 2}


class WatchedKDE(hyperband.KDESampler):
    """Records, at each draw, the budget its model was fitted on (None: no model yet)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.models: list[Any] = []

    def sample(self, rng: Any, n: int, *, pending: Any = ()) -> list[dict[str, Any]]:
        self.models.append(self.model_budget)
        return super().sample(rng, n, pending=pending)


def test_real_experiment_with_the_kde_sampler(home: Path) -> None:
    """``sampler: kde``: one trial at a time, so results reach the machine in a fixed order and
    the lazily drawn configurations are exactly those of an in-process machine run serially."""
    class_args = {"sampler": "kde", "sampler_options": KDE_OPTIONS}
    run = run_experiment(home, max_budget=4, eta=2, concurrency=1, class_args=class_args)
    print(f"\nwall time {run.wall:.1f} s")
    assert run.status == "DONE", run.dispatcher_log
    assert set(run.trials.values()) == {"SUCCEEDED"}, run.trials
    sampler = WatchedKDE(SPACE, **KDE_OPTIONS)
    expected, hb = predicted_machine(4, 2, math.inf, sampler)
    assert sum(m is not None for m in sampler.models) >= 4  # the model drew, not only chance
    check_common(run, 4, 2, expected=expected)
    state = checkpoint(home)["machine"]
    assert state["sampler"]["name"] == "kde"
    assert state["sampler"]["options"]["min_points"] == 2
    assert len(state["observations"]) == hb.n_asked  # every result was observed
    assert "sampler=kde" in run.dispatcher_log


@pytest.mark.parametrize(
    "class_args",
    [
        {"early_stop": "rung"},
        # The curve rule from the third report: with R = 9, only the longer jobs have more.
        {
            "early_stop": "curve",
            "early_stop_options": {"min_reports": 3, "min_peers": 1, "threshold": 0.3},
        },
    ],
    ids=["rung", "curve"],
)
def test_real_experiment_stops_trials_early(home: Path, class_args: dict[str, Any]) -> None:
    """``early_stop: rung`` (or ``curve``): trials report each epoch; those that cannot be
    promoted are killed with KillTrialJob mid-run, and the study completes.

    NNI 3.0's local training service shows a trial it killed for KillTrialJob as
    USER_CANCELED, not EARLY_STOPPED: its compat layer records "early stopped" only after the
    kill has completed, when the trial's end was already classified (training_service/v3/
    compat.js, cancelTrialJob). Both mean the trial was killed.
    """
    run = run_experiment(home, class_args=class_args, epoch_seconds=0.2)
    print(f"\nwall time {run.wall:.1f} s, NNI statuses {Counter(run.trials.values())}")
    # Stopped jobs are never promoted: fewer trials than maxTrialNumber, so NNI may not say DONE.
    assert run.status in ("DONE", "NO_MORE_TRIAL", "TUNER_NO_MORE_TRIAL"), run.dispatcher_log
    assert set(run.trials.values()) <= TERMINAL
    assert "Traceback" not in run.dispatcher_log, run.dispatcher_log
    assert " ERROR " not in run.dispatcher_log, run.dispatcher_log
    state = checkpoint(home)["machine"]
    n_stopped = state["n_stopped"]
    assert n_stopped > 0
    assert state["n_failed"] == 0  # the killed trials' ends did not fail their jobs
    assert state["n_succeeded"] + n_stopped == state["next_job_id"]
    assert f"failed, {n_stopped} stopped early)" in run.dispatcher_log  # every bracket resolved
    # KillTrialJob reached NNI, which killed trials in the middle of their epochs.
    killed = {r["trial"] for r in run.records if r["status"] == "killed"}
    early = {t for t, status in run.trials.items() if status in KILLED}
    assert early, run.trials
    assert killed <= early  # a trial that recorded its kill died of it
    assert all(
        r["epochs"] < r["parameters"]["TRIAL_BUDGET"]
        for r in run.records
        if r["status"] == "killed"
    )
    # Every trial NNI stopped is one the advisor killed, for the job that trial ran.
    by_trial = {r["trial"]: r["parameter_id"] for r in run.records}
    stopped_jobs = {s["job"]["id"]: s["job"] for s in state["stopped"]}
    for trial in early:
        assert f"trial {trial} killed" in run.dispatcher_log
        assert by_trial[trial] in stopped_jobs
    # A stopped configuration never runs again at a larger budget.
    for job in stopped_jobs.values():
        later = [
            r
            for r in run.records
            if config_key(r["parameters"]) == config_key(job["config"])
            and r["parameters"]["TRIAL_BUDGET"] > job["budget"]
        ]
        assert later == [], job
    assert run.wall < TIME_LIMIT


class FakeClock:
    """``time`` for NNI's launcher and tests/nni_launch.py: sleeping only advances it."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Running:
    """A dispatcher process that is still running."""

    returncode = None

    def poll(self) -> None:
        return None


def test_the_launch_waits_for_a_slow_web_server_where_nni_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NNI's launcher asks the new web server four times, a second apart (the cause of "Create
    experiment failed" on a loaded machine); the tests' launch waits until it answers."""
    import requests
    from nni.experiment import launcher

    from . import nni_launch

    clock = FakeClock()
    monkeypatch.setattr(launcher, "time", clock)
    monkeypatch.setattr(nni_launch, "time", clock)

    def get(port: int, api: str, prefix: str | None = None) -> dict[str, str]:
        if clock.now < 30:  # node still starting
            raise requests.ConnectionError("connection refused")
        return {"status": "INITIALIZED"}

    monkeypatch.setattr(rest, "get", get)
    with pytest.raises(requests.ConnectionError):
        launcher._check_rest_server(20000)
    assert clock.now < 5
    clock.now = 0.0
    (tmp_path / "imported").touch()
    with nni_launch._patient_launcher(Running(), tmp_path / "imported"):  # type: ignore[arg-type]
        launcher._check_rest_server(20000)
    assert clock.now >= 30
