"""Hyperband for Microsoft NNI 3.0: an advisor that drives the `Hyperband` machine.

NNI runs an *advisor* (a ``nni.runtime.msg_dispatcher_base.MsgDispatcherBase`` subclass) in
its dispatcher process and talks to it with commands: it asks for trial jobs, reports metrics
and trial ends. ``HyperbandAdvisor`` translates those commands into ``ask``/``tell``/``fail``
calls on the machine and adds no scheduling logic of its own: which configuration runs at which
budget, what gets promoted, when a bracket starts and when the study is over is all the machine's.

This module is the only place that imports ``nni`` (the ``nni`` extra); importing ``hyperband``
never does.

Configuration (NNI 3.0, ``config.yml``):

    tuner:
      className: hyperband.integrations.nni.HyperbandAdvisor
      codeDirectory: .          # NNI 3.0's validator insists on it for a className
      classArgs: {R: 81, eta: 3, optimize_mode: maximize, iterations: 1, seed: 0}

Each trial gets the configuration plus ``TRIAL_BUDGET`` (an int when integral) from
``nni.get_next_parameter()`` and reports with ``nni.report_final_result``. Its
``nni.report_intermediate_result`` values go to the machine's ``report`` (and, with an
``early_stop`` rule, may stop the trial: NNI's ``KillTrialJob``). See ``docs/nni.md``.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

import nni
from nni.runtime.msg_dispatcher_base import MsgDispatcherBase
from nni.runtime.tuner_command_channel import CommandType

from hyperband.core.errors import (
    ConfigurationError,
    HyperbandError,
    InvalidResultError,
    JobResolvedError,
    UnknownJobError,
    describe,
)
from hyperband.core.jobs import DONE, STOP, WAIT, Job
from hyperband.core.machine import Hyperband
from hyperband.core.sampling import SAMPLERS, make_sampler
from hyperband.core.space import validate_space
from hyperband.core.stopping import STOPPING_RULES, StoppingRule, make_rule

__all__ = ["BUDGET_KEY", "RESUME_KEYS", "HyperbandAdvisor"]

_logger = logging.getLogger(__name__)

#: The parameter that carries a job's budget, as NNI's built-in Hyperband names it.
BUDGET_KEY: Final = "TRIAL_BUDGET"
#: The extra parameters sent with ``resume_info=True`` (see ``HyperbandAdvisor``).
RESUME_KEYS: Final = (
    "TRIAL_JOB_ID",
    "TRIAL_CONFIG_ID",
    "TRIAL_PREVIOUS_BUDGET",
    "TRIAL_RESUME_FROM",
)
_RESERVED: Final = frozenset((BUDGET_KEY, *RESUME_KEYS))

OPTIMIZE_MODES: Final = ("maximize", "minimize")
CHECKPOINT_FILE: Final = "hyperband_advisor.json"
CHECKPOINT_FORMAT: Final = "hyperband.nni-advisor"
CHECKPOINT_VERSION: Final = 1
#: The key of a PERIODICAL metric dict that gives the report's step, in budget units.
STEP_KEY: Final = "step"

# NNI's manager stores a metric in its database before forwarding it, but notices a trial's end
# by polling, so a trial's last metric can reach us after its end. A trial end therefore takes
# effect only after this many pings (0.5 to 1 s), ample for the metric to arrive (milliseconds).
_GRACE_PINGS: Final = 2
# NNI 3.0's manager drops its own pings (nni_node/core/tuner_command_channel.js ignores 'PI'),
# so the dispatcher pings itself at this interval, through the command queue.
PING_SECONDS: Final = 0.5


# The sampler's classArgs are checked on this space before NNI sends the real one.
_PROBE_SPACE: Final = {"x": {"_type": "uniform", "_value": [0, 1]}}


def _new_machine(space_or_sampler: Any, args: Mapping[str, Any]) -> Hyperband:
    return Hyperband(space_or_sampler, **args)


def _options(name: str, options: object) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
        raise ConfigurationError(
            f"{name} must be a dict of keyword arguments (or null), got {describe(options)}"
        )
    return dict(options)


def _sampler_for(name: object, space: Any, options: Mapping[str, Any]) -> Any:
    """The named sampler over ``space``; a bad name or option is a ``ConfigurationError``."""
    if not isinstance(name, str) or name not in SAMPLERS:
        raise ConfigurationError(
            f"sampler must be one of {', '.join(map(repr, SAMPLERS))}, got {describe(name)}"
        )
    try:
        return make_sampler(name, space, **options)
    except TypeError as exc:  # an unknown keyword argument
        raise ConfigurationError(
            f"sampler_options must be keyword arguments of the {name!r} sampler: {exc}"
        ) from None


def _rule_for(name: object, options: Mapping[str, Any]) -> StoppingRule | None:
    known = ", ".join(map(repr, STOPPING_RULES))
    if name is None:
        if options:
            raise ConfigurationError(
                f"early_stop_options need an early_stop rule ({known}), got early_stop=None "
                f"with options {sorted(options)}"
            )
        return None
    if not isinstance(name, str) or name not in STOPPING_RULES:
        raise ConfigurationError(
            f"early_stop must be null (no early stopping) or one of {known}, got {describe(name)}"
        )
    try:
        return make_rule({"name": name, "options": options})
    except TypeError as exc:  # an unknown keyword argument
        raise ConfigurationError(
            f"early_stop_options must be keyword arguments of the {name!r} rule: {exc}"
        ) from None


class HyperbandAdvisor(MsgDispatcherBase):  # type: ignore[misc]  # nni ships no type hints
    """An NNI 3.0 advisor running Hyperband on the deterministic ``Hyperband``.

    The first four arguments are those of NNI's built-in ``Hyperband`` advisor, in its order and
    with its defaults, so a configuration written for the built-in one keeps working; the rest
    are this library's. NNI passes ``classArgs`` as keyword arguments.

    Args:
        optimize_mode: ``"maximize"`` or ``"minimize"`` the metric's ``"default"``.
        R: the largest budget a trial gets (the machine's ``max_budget``).
        eta: the halving rate (> 1; any real, not only ints).
        exec_mode: ``"parallelism"`` (a new bracket starts whenever no started bracket has a job
            to hand out), ``"serial"`` (a bracket starts only after the previous one resolved
            completely; NNI's built-in starts it early) or ``"asynchronous"`` (ASHA: promote as
            soon as a configuration ranks in the top ``1/eta`` of its rung's results so far).
        min_budget: the smallest budget (``R / min_budget`` fixes the brackets).
        sizing: ``"li2018"`` (the paper's Algorithm 1, what NNI computes) or ``"table"``.
        iterations: how many times to run every bracket; ``None`` (default, like the built-in)
            runs until NNI's ``maxTrialNumber`` or ``maxExperimentDuration`` stops it.
        seed: an int >= 0 makes the configurations reproducible; ``None`` draws one (logged,
            and kept in the checkpoint so ``nnictl resume`` continues the same study).
        integer_budgets: round non-integral budgets to the nearest int >= 1 (the last rung
            stays ``R``); by default ``TRIAL_BUDGET`` is a float when a budget is not integral.
        resume_info: also send ``TRIAL_JOB_ID`` (this job's id, also its NNI parameter id),
            ``TRIAL_CONFIG_ID``, and for a promotion ``TRIAL_PREVIOUS_BUDGET`` and
            ``TRIAL_RESUME_FROM`` (the job id of the configuration's previous rung; ``None`` on
            rung 0), so a trial can resume a checkpoint instead of training from scratch.
        sampler: where new configurations come from: ``"random"`` (uniform over the space) or
            ``"kde"`` (`hyperband.KDESampler`, BOHB's model, which learns from every result).
        sampler_options: keyword arguments of the sampler's constructor (``"kde"`` only), e.g.
            ``{"min_points": 4, "random_fraction": 0.2}``.
        early_stop: ``None`` (trials run their whole budget), ``"median"``
            (`hyperband.MedianRule`) or ``"rung"`` (`hyperband.RungRule`): judged at each
            ``nni.report_intermediate_result``; a trial the rule stops is killed with NNI's
            ``KillTrialJob`` (NNI 3.0's local training service then shows ``USER_CANCELED``).
        early_stop_options: keyword arguments of the rule, e.g. ``{"min_peers": 3}``.
        command_channel_url: where NNI's manager listens; NNI passes nothing (the dispatcher
            reads it from the environment). In-process tests pass a ``ws://_unittest_`` URL,
            which ``MsgDispatcherBase`` does not connect to.

    Raises:
        ConfigurationError: an argument is out of range (``HyperbandError`` subclasses name the
            argument, the rule and the value). NNI then shows the experiment as ``ERROR``.

    Example:
        >>> from nni.runtime.tuner_command_channel import CommandType
        >>> advisor = HyperbandAdvisor(R=9, eta=3, iterations=1, seed=0,
        ...                            command_channel_url="ws://_unittest_")
        >>> sent = []
        >>> advisor.send = lambda command, data: sent.append((command, data))
        >>> advisor.process_command(CommandType.Initialize,
        ...                         {"x": {"_type": "uniform", "_value": [0, 1]}})
        >>> advisor.process_command(CommandType.RequestTrialJobs, 1)
        >>> trial = json.loads(sent[-1][1])
        >>> trial["parameter_id"], trial["parameters"]["TRIAL_BUDGET"]
        (0, 1)
    """

    def __init__(
        self,
        optimize_mode: str = "maximize",
        R: float = 60,  # noqa: N803 - NNI's built-in advisor's classArg name
        eta: float = 3,
        exec_mode: str = "parallelism",
        *,
        min_budget: float = 1,
        sizing: str = "li2018",
        iterations: int | None = None,
        seed: int | None = None,
        integer_budgets: bool = False,
        resume_info: bool = False,
        sampler: str = "random",
        sampler_options: Mapping[str, Any] | None = None,
        early_stop: str | None = None,
        early_stop_options: Mapping[str, Any] | None = None,
        command_channel_url: str | None = None,
    ) -> None:
        # Connect first: failing before that, NNI's manager would only say "Tuner did not
        # connect in 10 seconds"; once connected, report_error shows NNI our message.
        super().__init__(command_channel_url)
        try:
            if optimize_mode not in OPTIMIZE_MODES:
                raise ConfigurationError(
                    f"optimize_mode must be one of {', '.join(map(repr, OPTIMIZE_MODES))}, "
                    f"got {describe(optimize_mode)}"
                )
            if not isinstance(resume_info, bool):
                raise ConfigurationError(f"resume_info must be a bool, got {describe(resume_info)}")
            self._sampler_options = _options("sampler_options", sampler_options)
            # Checks the name and the options; the real sampler waits for the search space.
            probe_sampler = _sampler_for(sampler, _PROBE_SPACE, self._sampler_options)
            rule = _rule_for(early_stop, _options("early_stop_options", early_stop_options))
            self._args: dict[str, Any] = {
                "max_budget": R,
                "eta": eta,
                "min_budget": min_budget,
                "mode": optimize_mode,
                "exec_mode": exec_mode,
                "sizing": sizing,
                "iterations": iterations,
                "seed": seed,
                "integer_budgets": integer_budgets,
                "early_stop": rule,
            }
            # Validates every argument (and draws the seed when None) without a search space.
            probe = _new_machine(probe_sampler, self._args)
        except HyperbandError as exc:
            self._fatal(f"HyperbandAdvisor classArgs: {exc}")
            raise
        self._args["seed"] = probe.seed
        self._resume_info = resume_info
        self._sampler_name = sampler
        self._hb: Hyperband | None = None
        self._space: dict[str, Any] | None = None

        self._credit = 0  # jobs NNI asked for that the machine could not hand out yet
        self._done_sent = False
        # Join bookkeeping. NNI's local training service hands queued parameters to whichever
        # trial asks first, so a trial end's hyper_params may be another trial's: a trial's
        # job is known only from its metrics, which carry the parameter id it really ran.
        self._claims: dict[str, int] = {}  # trial id -> job id, from the trial's metrics
        self._live_claimed: set[str] = set()  # claimed trials that have not ended
        self._ended: set[str] = set()
        self._grace: dict[str, list[Any]] = {}  # ended trial -> [event, pings seen]
        self._orphans: list[str] = []  # trials that ended without reporting anything
        self._sent_ids: set[int] = set()  # every parameter id sent to NNI
        # Sent and not yet told, failed or stopped: job id -> the job (its budget segment
        # (previous budget, budget] numbers its PERIODICAL reports).
        self._open: dict[int, Job] = {}
        self._n_forms = 0  # trials NNI created or will create for our parameters
        self._n_ended = 0  # ... and how many of them ended
        self._intermediate: dict[int, list[float]] = {}
        self._n_periodical: dict[int, int] = {}  # job id -> PERIODICAL metrics received
        # Jobs the stopping rule stopped -> the trial killed for it (None: none was running).
        self._stopped: dict[int, str | None] = {}
        # Results known without running a trial (nnictl resume, experiment.import_data), by
        # configuration and budget; a job that asks for one is told at once.
        self._cache: dict[str, list[Any]] = {}
        self._foreign: dict[int, dict[str, Any]] = {}  # parameter ids of an earlier run
        # Forms of an earlier run that NNI resumed without a checkpoint here. Their ids may be
        # those of this machine's new jobs, so no job is sent until all of their trials ended:
        # until then a metric with such an id can only come from the earlier run.
        self._foreign_live: set[int] = set()
        self._foreign_grace: dict[str, list[int]] = {}  # ended trial -> [its form's id, pings]
        self._resend: deque[int] = deque()
        self._resumed: set[int] | None = None  # set while resuming, until the first request
        self._restored = False
        self._dirty = False
        self._handlers: dict[CommandType, Callable[[Any], None]] = {
            CommandType.Initialize: self.handle_initialize,
            CommandType.RequestTrialJobs: self.handle_request_trial_jobs,
            CommandType.UpdateSearchSpace: self.handle_update_search_space,
            CommandType.ImportData: self.handle_import_data,
            CommandType.AddCustomizedTrialJob: self.handle_add_customized_trial,
            CommandType.ReportMetricData: self.handle_report_metric_data,
            CommandType.TrialEnd: self.handle_trial_end,
            CommandType.Ping: self.handle_ping,
        }
        _logger.info(
            "HyperbandAdvisor: R=%r eta=%r min_budget=%r optimize_mode=%s exec_mode=%s "
            "sizing=%s iterations=%r seed=%d sampler=%s%s early_stop=%r",
            R,
            eta,
            min_budget,
            optimize_mode,
            exec_mode,
            sizing,
            iterations,
            probe.seed,
            sampler,
            f" {self._sampler_options}" if self._sampler_options else "",
            rule,
        )

    # ------------------------------------------------------------------ public views

    @property
    def machine(self) -> Hyperband | None:
        """The machine, once NNI sent the search space (or a checkpoint was loaded)."""
        return self._hb

    @property
    def intermediate(self) -> dict[int, list[float]]:
        """The PERIODICAL metrics (their ``"default"``) recorded per job id, in arrival order."""
        return {jid: list(values) for jid, values in self._intermediate.items()}

    @property
    def stopped(self) -> dict[int, str | None]:
        """The jobs the stopping rule stopped, each with the trial killed for it (or ``None``)."""
        return dict(self._stopped)

    # ------------------------------------------------------------------ dispatcher plumbing

    def enqueue_command(self, command: CommandType, data: Any) -> None:
        """Queue every command on one worker thread, in the order NNI sent them.

        The base class sends trial ends and PERIODICAL metrics to a second (assessor) thread.
        Here that would reorder a trial's FINAL metric and its end, and make two threads
        share the machine; one queue keeps NNI's order and needs no lock.
        """
        self.default_command_queue.put((command, data))

    def process_command(self, command: CommandType, data: Any) -> None:
        """Run one command's handler; an unexpected error is logged, never raised.

        An exception escaping a handler stops the base class's worker, after which the
        experiment hangs in RUNNING, so only the fatal ``Initialize`` errors propagate.
        """
        handler = self._handlers.get(command)
        if handler is None:
            _logger.error("HyperbandAdvisor: unsupported NNI command %s ignored", command)
            return
        if command is CommandType.Initialize:
            handler(data)
            return
        try:
            handler(data)
        except Exception:
            _logger.exception("HyperbandAdvisor: error while handling %s %r", command, data)

    def run(self) -> None:
        """Serve NNI's commands until it terminates the dispatcher, then save a checkpoint."""
        ticker = threading.Thread(target=self._ping_forever, name="hyperband-ping", daemon=True)
        ticker.start()
        try:
            super().run()
        finally:
            self._save_if_dirty()

    def _ping_forever(self) -> None:
        # Queued like NNI's commands, so the handler runs on the one worker thread.
        while not self.stopping:
            time.sleep(PING_SECONDS)
            self.default_command_queue.put((CommandType.Ping, ""))

    # ------------------------------------------------------------------ NNI handlers

    def handle_initialize(self, data: Any) -> None:
        """Build the machine on the search space and tell NNI the advisor is ready.

        A malformed search space is fatal: it is reported to NNI (status ERROR, with the
        message naming the place, the rule and the value) and the dispatcher stops.
        """
        if self._hb is None:
            self._build_or_die(data)
        elif not self._same_space(data):
            _logger.error(
                "HyperbandAdvisor: the search space differs from the checkpoint's; the "
                "checkpoint's is kept (a running Hyperband study cannot change its space)"
            )
        self.send(CommandType.Initialized, "")

    def handle_update_search_space(self, data: Any) -> None:
        """Accept the search space before the first job; afterwards only an unchanged one."""
        if self._hb is None:
            self._build_or_die(data)
        elif not self._same_space(data):
            _logger.error(
                "HyperbandAdvisor: search space update ignored: a running Hyperband study "
                "cannot change its space (start a new experiment instead)"
            )

    def handle_request_trial_jobs(self, data: Any) -> None:
        """NNI has ``data`` free trial slots: hand out that many jobs, or owe them."""
        if isinstance(data, bool) or not isinstance(data, int) or data < 0:
            _logger.error(
                "HyperbandAdvisor: RequestTrialJobs must carry an int >= 0, got %s",
                describe(data),
            )
            return
        if self._resumed is not None:
            self._plan_resend()
        self._credit += data
        self._serve()

    def handle_report_metric_data(self, data: Any) -> None:
        """A trial reported a metric: FINAL tells the machine, PERIODICAL reports to it.

        Joined by ``parameter_id`` (the machine's job id), never by trial id. A bad metric or
        an unknown id is logged as an error naming the trial; a bad FINAL fails its job. A
        PERIODICAL metric goes to the machine's ``report`` (see ``_report`` for its step);
        when the stopping rule says ``STOP`` the trial is killed. Metrics of a job already
        stopped (they raced the kill) are ignored.
        """
        if type(data) is not dict and not isinstance(data, Mapping):
            _logger.error("HyperbandAdvisor: metric data must be a dict, got %s", describe(data))
            return
        trial = data.get("trial_job_id")
        pid = data.get("parameter_id")
        kind = data.get("type")
        if kind not in ("FINAL", "PERIODICAL"):
            _logger.error(
                "HyperbandAdvisor: trial %s sent a %s metric; only FINAL and PERIODICAL are "
                "supported (multi-phase trials are not)",
                trial,
                kind,
            )
            return
        if pid is None:
            # A trial the user added by hand (NNI's "customized" trial) is outside the schedule.
            _logger.warning(
                "HyperbandAdvisor: trial %s (a customized trial) reported a metric; ignored",
                trial,
            )
            return
        if type(pid) is not int or pid not in self._sent_ids:
            if type(pid) is int and pid in self._foreign:
                self._foreign_result(trial, pid, kind, data.get("value"))
                return
            _logger.error(
                "HyperbandAdvisor: trial %s reported a %s metric for parameter_id %s, which "
                "this advisor never sent; ignored",
                trial,
                kind,
                describe(pid),
            )
            return
        if isinstance(trial, str):
            self._claim(trial, pid)
        if pid in self._stopped:
            # It raced the kill (the trial finished or reported just as it was stopped): the
            # machine resolved the job already.
            _logger.debug(
                "HyperbandAdvisor: trial %s: %s metric of job %d, stopped early, ignored",
                trial,
                kind,
                pid,
            )
            return
        hb = self._hb
        assert hb is not None  # ids are sent only once the machine exists
        try:
            value = _decode_metric(data.get("value"))
        except ValueError as exc:
            self._bad_metric(trial, pid, kind, str(exc))
            return
        if kind == "PERIODICAL":
            self._report(trial, pid, value)
            return
        try:
            hb.tell(pid, value)
        except UnknownJobError as exc:  # includes "already told or failed"
            _logger.error("HyperbandAdvisor: trial %s: FINAL metric ignored: %s", trial, exc)
            return
        except InvalidResultError as exc:
            self._bad_metric(trial, pid, kind, str(exc))
            return
        self._open.pop(pid, None)
        _logger.debug("HyperbandAdvisor: trial %s: job %d told %r", trial, pid, value)
        self._resolved()

    def _report(self, trial: Any, pid: int, value: Any) -> None:
        """A PERIODICAL metric: record it and report it to the machine at its step.

        The step, in budget units: the metric's ``"step"`` when it is a dict with one; else
        the k-th PERIODICAL metric of a job (counting every one received, bad ones included)
        is at ``previous_budget + k`` (one report per budget unit), clamped to the job's
        budget. A bad value or step is logged as an error naming the trial; the trial goes on.
        """
        k = self._n_periodical[pid] = self._n_periodical.get(pid, 0) + 1
        try:
            number = _default_number(value)
        except ValueError as exc:
            self._bad_metric(trial, pid, "PERIODICAL", str(exc))
            return
        self._intermediate.setdefault(pid, []).append(number)
        job = self._open.get(pid)
        if job is None:  # told or failed already: nothing left to judge
            _logger.debug(
                "HyperbandAdvisor: trial %s: PERIODICAL metric of job %d after its end ignored",
                trial,
                pid,
            )
            return
        step: Any
        if isinstance(value, dict) and STEP_KEY in value:
            step = value[STEP_KEY]
        else:
            step = _plain(min((job.previous_budget or 0) + k, job.budget))
        assert self._hb is not None
        try:
            decision = self._hb.report(pid, step, number)
        except JobResolvedError:  # pragma: no cover - _open tracks the machine's pending jobs
            return
        except HyperbandError as exc:
            _logger.error(
                "HyperbandAdvisor: trial %s: PERIODICAL metric of job %d not reported: %s",
                trial,
                pid,
                exc,
            )
            return
        self._dirty = True
        if decision is STOP:
            self._stop(trial, pid, step, number)

    def _stop(self, trial: Any, jid: int, step: Any, value: float) -> None:
        """The rule stopped job ``jid`` (the machine resolved it): kill the trial running it."""
        self._open.pop(jid, None)
        live = isinstance(trial, str) and trial not in self._ended
        self._stopped[jid] = trial if live else None
        if live:
            # NNI's own assessors send the trial id JSON-encoded; the manager JSON.parses it and
            # has the training service kill the trial as early-stopped (NNI 3.0's local one
            # shows USER_CANCELED all the same: see docs/nni.md).
            self.send(CommandType.KillTrialJob, json.dumps(trial))
        _logger.info(
            "HyperbandAdvisor: job %d stopped early at step %s (value %r)%s",
            jid,
            step,
            value,
            f": trial {trial} killed" if live else f"; its trial {trial} had ended",
        )
        self._resolved()

    def handle_trial_end(self, data: Any) -> None:
        """A trial ended. Without a FINAL metric its job fails (after a short grace)."""
        if type(data) is not dict and not isinstance(data, Mapping):
            _logger.error("HyperbandAdvisor: trial end must be a dict, got %s", describe(data))
            return
        trial = data.get("trial_job_id")
        event = data.get("event")
        if not isinstance(trial, str) or trial in self._ended:
            return
        self._ended.add(trial)
        jid = self._claims.get(trial)
        if jid is not None:
            self._n_ended += 1
            self._live_claimed.discard(trial)
            if jid in self._open:  # no FINAL yet: it may still be on its way
                self._grace[trial] = [event, 0]
            return
        # The trial never reported: its job is unknown (see _claims); whether it was one of
        # ours is known from its own form, which NNI does keep with the trial.
        pid = _form_parameter_id(data.get("hyper_params"))
        if pid is not None and pid in self._foreign_live and pid not in self._sent_ids:
            self._foreign_grace[trial] = [pid, 0]
            return
        if pid is None or pid not in self._sent_ids:
            _logger.debug("HyperbandAdvisor: end of trial %s (not ours) ignored", trial)
            return
        self._n_ended += 1
        self._grace[trial] = [event, 0]

    def handle_ping(self, data: Any) -> None:
        """The heartbeat (see ``run``): age trial ends, settle lost jobs, checkpoint."""
        if self._grace:
            expired = []
            for trial, entry in self._grace.items():
                entry[1] += 1
                if entry[1] >= _GRACE_PINGS:
                    expired.append(trial)
            for trial in expired:
                event = self._grace.pop(trial)[0]
                self._trial_over(trial, event)
            self._settle()
        if self._foreign_grace:
            for trial, entry in list(self._foreign_grace.items()):
                entry[1] += 1
                if entry[1] >= _GRACE_PINGS:
                    del self._foreign_grace[trial]
                    self._foreign_live.discard(entry[0])
            if not self._foreign_live:
                _logger.info("HyperbandAdvisor: the earlier run's resumed trials have ended")
                self._serve()
        self._save_if_dirty()

    def handle_import_data(self, data: Any) -> None:
        """Take earlier results (``nnictl resume``, ``experiment.import_data``) where they fit.

        Each entry is ``{"parameter": {...config, "TRIAL_BUDGET": b}, "value": metric}``. A
        result is used when the machine hands out a job with exactly that configuration and
        budget: the job is told at once instead of run. With the same ``seed`` the machine
        draws the same configurations again, so a study resumed without a checkpoint replays
        its finished jobs this way. Entries without a budget or a usable value are skipped.

        When a checkpoint restored the machine, the results NNI imports on resume serve only the
        jobs still pending (those that finished after the last checkpoint): the machine knows
        every other result already, and must not take them for new jobs'.
        """
        if not isinstance(data, list):
            _logger.error("HyperbandAdvisor: import data must be a list, got %s", describe(data))
            return
        used = 0
        for entry in data:
            if not isinstance(entry, Mapping):
                continue
            params = entry.get("parameter")
            try:
                value = _decode_metric(entry.get("value"))
                _default_number(value)
            except ValueError as exc:
                _logger.warning("HyperbandAdvisor: import entry skipped: %s", exc)
                continue
            key = _params_key(params)
            if key is None:
                continue
            self._cache.setdefault(key, []).append(value)
            used += 1
        # Only while resuming (before NNI's first request) are the pending jobs the previous
        # run's; later they are running trials, which will report themselves.
        fed = self._feed_pending() if self._resumed is not None else 0
        if self._restored and self._resumed is not None:
            self._cache.clear()
        _logger.info(
            "HyperbandAdvisor: imported %d of %d earlier results; %d told pending jobs",
            used,
            len(data),
            fed,
        )
        self._serve()

    def handle_add_customized_trial(self, data: Any) -> None:
        """NNI resumes trials that were running when the experiment stopped (``nnictl resume``).

        Their parameter ids are ours when a checkpoint restored the machine; they will report
        as usual. Jobs of the checkpoint that NNI does not resume are sent again.
        """
        entries = data if isinstance(data, list) else [data]
        if self._resumed is None:
            self._resumed = set()
        for entry in entries:
            if isinstance(entry, str):
                try:
                    entry = json.loads(entry)
                except ValueError:
                    continue
            if not isinstance(entry, Mapping):
                continue
            pid = entry.get("parameter_id")
            params = entry.get("parameters")
            if type(pid) is not int:
                continue
            if self._restored and pid in self._sent_ids:
                # Its trial will end like any other (it counts, see _settle) even when an
                # imported result already told its job.
                self._n_forms += 1
                if pid in self._open:
                    self._resumed.add(pid)
            elif isinstance(params, dict):
                # Without a checkpoint these ids mean nothing to this machine; their results
                # can still be used by configuration (see handle_import_data).
                self._foreign[pid] = params
                self._foreign_live.add(pid)

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self) -> None:
        """Write the machine's snapshot to NNI's checkpoint directory (atomically)."""
        path = self.get_checkpoint_path()
        if path is None or self._hb is None:
            return
        state = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "machine": self._hb.snapshot(),
            "intermediate": [[k, v] for k, v in self._intermediate.items()],
            "periodical": [[k, n] for k, n in self._n_periodical.items()],
            "stopped": [[k, t] for k, t in self._stopped.items()],
        }
        target = os.path.join(path, CHECKPOINT_FILE)
        tmp = target + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(tmp, target)
        self._dirty = False

    def load_checkpoint(self) -> None:
        """Restore the machine from NNI's checkpoint directory (called on ``nnictl resume``).

        Without a checkpoint the study starts afresh and reuses the results NNI imports (see
        ``handle_import_data``). A checkpoint that cannot be read is logged and ignored.
        """
        self._resumed = set()
        path = self.get_checkpoint_path()
        target = None if path is None else os.path.join(path, CHECKPOINT_FILE)
        if target is None or not os.path.exists(target):
            _logger.info("HyperbandAdvisor: resuming without a checkpoint")
            return
        try:
            with open(target, encoding="utf-8") as f:
                state = json.load(f)
            if (state.get("format"), state.get("version")) != (
                CHECKPOINT_FORMAT,
                CHECKPOINT_VERSION,
            ):
                raise ValueError(
                    f"unknown checkpoint format {state.get('format')!r} "
                    f"version {state.get('version')!r}"
                )
            hb = Hyperband.restore(state["machine"])
        except (OSError, ValueError, KeyError, TypeError, HyperbandError) as exc:
            _logger.error(
                "HyperbandAdvisor: checkpoint %s unusable, starting afresh: %s", target, exc
            )
            return
        self._hb = hb
        machine = state["machine"]
        # A model-based sampler's space lives in its spec: the snapshot's "space" is None.
        self._space = machine.get("space") or (machine.get("sampler") or {}).get("space")
        self._intermediate = {int(k): list(v) for k, v in state.get("intermediate", [])}
        self._n_periodical = {int(k): int(n) for k, n in state.get("periodical", [])}
        self._stopped = {int(k): t for k, t in state.get("stopped", [])}
        # The pending jobs were sent by the previous dispatcher; their trials are resumed by
        # NNI (handle_add_customized_trial) or lost, and then sent again (_plan_resend).
        self._open = {job.id: job for job in hb.pending}
        self._sent_ids = set(self._open) | set(self._stopped)
        self._restored = True
        _logger.info(
            "HyperbandAdvisor: resumed from %s: %d jobs asked, %d pending",
            target,
            hb.n_asked,
            len(hb.pending),
        )

    # ------------------------------------------------------------------ internals

    def _build_or_die(self, space: Any) -> None:
        try:
            self._hb = self._build(space)
        except HyperbandError as exc:
            self._fatal(f"HyperbandAdvisor search space: {exc}")
            raise

    def _same_space(self, space: Any) -> bool:
        try:  # compared in normal form: NNI's JSON and the checkpoint's may spell it differently
            return validate_space(space) == self._space
        except HyperbandError:
            return False

    def _build(self, space: Any) -> Hyperband:
        if not isinstance(space, dict):
            raise ConfigurationError(
                f"the search space must be a dict in NNI's format, got {describe(space)}"
            )
        clash = sorted(_RESERVED.intersection(space))
        if clash:
            raise ConfigurationError(
                f"the search space must not use the reserved parameter names "
                f"{', '.join(sorted(_RESERVED))}; it has {', '.join(clash)}"
            )
        self._space = validate_space(space)
        sampler = _sampler_for(self._sampler_name, space, self._sampler_options)
        return _new_machine(sampler, self._args)

    def _fatal(self, message: str) -> None:
        _logger.error("%s", message)
        self.report_error(message)  # NNI's manager sets the experiment's status to ERROR

    def _serve(self) -> None:
        """Hand out as many jobs as NNI is owed; announce the end once the machine is done."""
        hb = self._hb
        if hb is None or self._foreign_live:
            return
        while self._credit > 0:
            if self._resend:
                jid = self._resend.popleft()
                job = next((j for j in hb.pending if j.id == jid), None)
                if job is not None:
                    self._dispatch(job)
                continue
            nxt = hb.ask()
            if nxt is WAIT:
                break
            if nxt is DONE:
                self._credit = 0
                break
            assert isinstance(nxt, Job)
            if self._cache and self._answer_from_cache(nxt):
                continue
            self._dispatch(nxt)
        if not self._done_sent and hb.done:
            self._done_sent = True
            self._credit = 0
            _logger.info(
                "HyperbandAdvisor: every bracket is resolved (%d succeeded, %d failed, %d "
                "stopped early); best: %s",
                hb.n_succeeded,
                hb.n_failed,
                hb.n_stopped,
                hb.best,
            )
            self.send(CommandType.NoMoreTrialJobs, "")

    def _dispatch(self, job: Job) -> None:
        params = dict(job.config)
        params[BUDGET_KEY] = job.budget
        if self._resume_info:
            params["TRIAL_JOB_ID"] = job.id
            params["TRIAL_CONFIG_ID"] = job.config_id
            params["TRIAL_PREVIOUS_BUDGET"] = job.previous_budget
            params["TRIAL_RESUME_FROM"] = job.resume_from
        # Plain json, not nni.dump: configurations are plain JSON values, and json_tricks
        # costs several times more on the dispatcher's per-job path.
        payload = _ENCODE(
            {
                "parameter_id": job.id,
                "parameter_source": "algorithm",
                "parameters": params,
                "parameter_index": 0,
            }
        )
        self.send(CommandType.NewTrialJob, payload)
        self._credit -= 1
        self._sent_ids.add(job.id)
        self._open[job.id] = job
        self._n_forms += 1
        self._dirty = True

    def _resolved(self) -> None:
        """After a tell or fail: the machine may have promotions or a new bracket ready."""
        self._dirty = True
        self._serve()

    def _claim(self, trial: str, jid: int) -> None:
        known = self._claims.get(trial)
        if known is None:
            self._claims[trial] = jid
            if trial not in self._ended:
                self._live_claimed.add(trial)
            elif trial in self._orphans:  # a late metric: not an orphan after all
                self._orphans.remove(trial)
            if self._orphans:
                self._settle()
        elif known != jid:
            _logger.error(
                "HyperbandAdvisor: trial %s reported for parameter ids %d and %d; only the "
                "first one is joined to it",
                trial,
                known,
                jid,
            )

    def _bad_metric(self, trial: Any, jid: int, kind: Any, why: str) -> None:
        if kind != "FINAL":
            _logger.error("HyperbandAdvisor: trial %s: bad %s metric ignored: %s", trial, kind, why)
            return
        _logger.error(
            "HyperbandAdvisor: trial %s: bad FINAL metric, job %d fails: %s", trial, jid, why
        )
        self._fail(jid, f"trial {trial} reported a bad final metric: {why}")

    def _fail(self, jid: int, reason: str) -> None:
        assert self._hb is not None
        if jid in self._stopped:  # resolved by the stop; its trial's end changes nothing
            return
        try:
            self._hb.fail(jid, reason)
        except UnknownJobError:
            return
        self._open.pop(jid, None)
        _logger.info("HyperbandAdvisor: job %d failed: %s", jid, reason)
        self._resolved()

    def _trial_over(self, trial: str, event: Any) -> None:
        """A trial's end took effect: fail its job if it never reported a FINAL metric."""
        jid = self._claims.get(trial)
        if jid is None:
            self._orphans.append(trial)
            return
        self._fail(jid, f"trial {trial} ended {event} without a final result")

    def _settle(self) -> None:
        """Fail the jobs that trials which ended without reporting anything took with them.

        Such a trial's job cannot be named (see ``_claims``). But once every trial of ours
        that has not ended has reported (claimed its job), no trial can report any other
        pending job: those are exactly the ones the silent trials ran, so they fail.
        """
        if not self._orphans or any(t not in self._claims for t in self._grace):
            return
        if self._n_forms - self._n_ended - len(self._live_claimed) > 0:
            return  # a running trial may still report one of them
        claimed = set(self._claims.values())
        lost = sorted(jid for jid in self._open if jid not in claimed)
        trials = ", ".join(self._orphans)
        self._orphans.clear()
        for jid in lost:
            self._fail(jid, f"its trial ended without reporting any metric (one of: {trials})")

    def _answer_from_cache(self, job: Job) -> bool:
        key = _job_key(job.config, job.budget)
        values = self._cache.get(key)
        if not values:
            return False
        value = values.pop(0)
        if not values:
            del self._cache[key]
        assert self._hb is not None
        self._hb.tell(job.id, value)
        self._dirty = True
        _logger.debug("HyperbandAdvisor: job %d told %r from earlier results", job.id, value)
        return True

    def _feed_pending(self) -> int:
        """Tell the pending jobs whose results arrived by import; return how many."""
        fed = 0
        if not self._cache or self._hb is None:
            return fed
        for job in self._hb.pending:
            key = _job_key(job.config, job.budget)
            values = self._cache.get(key)
            if values:
                value = values.pop(0)
                if not values:
                    del self._cache[key]
                self._hb.tell(job.id, value)
                self._open.pop(job.id, None)
                self._dirty = True
                fed += 1
        return fed

    def _foreign_result(self, trial: Any, pid: int, kind: Any, raw: Any) -> None:
        if kind != "FINAL":
            return
        key = _params_key(self._foreign.pop(pid))
        try:
            value = _decode_metric(raw)
            _default_number(value)
        except ValueError as exc:
            _logger.error("HyperbandAdvisor: trial %s: bad FINAL metric ignored: %s", trial, exc)
            return
        if key is not None:  # for the machine's identical job, unless it already runs
            self._cache.setdefault(key, []).append(value)

    def _plan_resend(self) -> None:
        """On the first request after a resume: send again the jobs NNI did not resume."""
        resumed = self._resumed or set()
        self._resumed = None
        if not self._restored or self._hb is None:
            return
        for job in self._hb.pending:
            if job.id not in resumed:
                self._resend.append(job.id)
        if self._resend:
            _logger.info(
                "HyperbandAdvisor: sending again %d job(s) whose trials NNI lost: %s",
                len(self._resend),
                list(self._resend),
            )

    def _save_if_dirty(self) -> None:
        if not self._dirty:
            return
        try:
            self.save_checkpoint()
        except OSError as exc:
            _logger.error("HyperbandAdvisor: could not write the checkpoint: %s", exc)


# ---------------------------------------------------------------------- helpers


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"parameter value {describe(value)} is not JSON-serialisable")


# Built once: json.dumps(..., default=...) would build an encoder on every call.
_ENCODE: Final = json.JSONEncoder(default=_json_default).encode


def _decode_metric(raw: Any) -> Any:
    """A metric as NNI forwards it: a JSON string (written by ``nni.dump`` in the trial)."""
    if not isinstance(raw, str):
        if raw is None:
            raise ValueError("the metric has no value")
        return raw
    try:  # a plain number, the common case: float() is several times faster than json
        return float(raw)
    except ValueError:
        pass
    if '"__' not in raw:  # json_tricks marks its special encodings with "__..." keys
        try:
            return json.loads(raw)
        except ValueError:
            pass
    try:
        return nni.load(raw)
    except Exception as exc:
        raise ValueError(f"the metric {raw[:80]!r} is not valid JSON: {exc}") from None


def _default_number(value: Any) -> float:
    if type(value) is float and value - value == 0.0:  # a finite float: the common case
        return value
    raw = value.get("default") if isinstance(value, dict) else value
    if isinstance(value, dict) and "default" not in value:
        raise ValueError(f"a dict metric needs a 'default' key, got keys {sorted(map(str, value))}")
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real) or not math.isfinite(raw):
        raise ValueError(f"the metric must be a finite number, got {describe(raw)}")
    return float(raw)


def _plain(x: float) -> float:
    """An integral step as an int, as the machine's budgets are."""
    return int(x) if float(x).is_integer() else x


def _form_parameter_id(hyper_params: Any) -> int | None:
    form = hyper_params
    if isinstance(form, str):
        try:
            form = json.loads(form)
        except ValueError:
            return None
    pid = form.get("parameter_id") if isinstance(form, Mapping) else None
    return pid if type(pid) is int else None


def _canonical(value: Any) -> Any:
    # NNI's manager round-trips parameters through JavaScript, which writes 3.0 as 3.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _job_key(config: Mapping[str, Any], budget: Any) -> str:
    return json.dumps([_canonical(dict(config)), _canonical(budget)], sort_keys=True)


def _params_key(params: Any) -> str | None:
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            return None
    if not isinstance(params, Mapping) or BUDGET_KEY not in params:
        return None
    config = {k: v for k, v in params.items() if k not in _RESERVED}
    return _job_key(config, params[BUDGET_KEY])
