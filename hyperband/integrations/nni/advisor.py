"""``HyperbandAdvisor``: NNI's commands dispatched to the machine's ``ask``/``tell``/``fail``.

The advisor handles each command NNI sends (``dispatcher`` runs them on one thread) and keeps
the jobs sent and still open. The rest is in its own modules: ``args`` (classArgs), ``messages``
(NNI's forms and metrics), ``trials`` (which trial ran which job), ``periodical`` (intermediate
metrics and early stops), ``resume`` (``nnictl resume`` and imported results) and
``checkpoint`` (the file in NNI's checkpoint directory).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from nni.runtime.tuner_command_channel import CommandType

from hyperband.core.errors import (
    HyperbandError,
    InvalidResultError,
    JobResolvedError,
    UnknownJobError,
    describe,
)
from hyperband.core.jobs import DONE, STOP, WAIT, Job
from hyperband.core.machine import Hyperband
from hyperband.integrations.nni.args import _ClassArgs, _same_space
from hyperband.integrations.nni.checkpoint import (
    _load_checkpoint,
    _write_checkpoint,
)
from hyperband.integrations.nni.dispatcher import _Dispatcher
from hyperband.integrations.nni.messages import (
    STEP_KEY,
    _decode_metric,
    _form_parameter_id,
    _metric_of,
    _trial_form,
)
from hyperband.integrations.nni.periodical import _Periodical, _step
from hyperband.integrations.nni.resume import _Resume
from hyperband.integrations.nni.trials import _Trials

__all__ = ["HyperbandAdvisor"]

# One logger for the whole advisor, whichever of its modules logs.
_logger = logging.getLogger("hyperband.integrations.nni")


class HyperbandAdvisor(_Dispatcher):
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
            (`hyperband.MedianRule`), ``"rung"`` (`hyperband.RungRule`) or ``"curve"``
            (`hyperband.CurveRule`): judged at each
            ``nni.report_intermediate_result``; a trial the rule stops is killed with NNI's
            ``KillTrialJob`` (NNI 3.0's local training service then shows ``USER_CANCELED``).
        early_stop_options: keyword arguments of the rule, e.g. ``{"min_peers": 3}``.
        brackets: ``"cycle"`` (NNI's order, the default) or ``"adaptive"`` (each new bracket
            run drawn from the budgets' trust weights; see `hyperband.Hyperband`).
        command_channel_url: where NNI's manager listens; NNI passes nothing (the dispatcher
            reads it from the environment). In-process tests pass a ``ws://_unittest_`` URL,
            which ``MsgDispatcherBase`` does not connect to.

    Raises:
        ConfigurationError: an argument is out of range (``HyperbandError`` subclasses name the
            argument, the rule and the value). NNI then shows the experiment as ``ERROR``.

    Examples:
        >>> import json
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

    # NNI's configurations name the class by the package (className), which is also where
    # its documentation and doctests live.
    __module__ = "hyperband.integrations.nni"

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
        brackets: str = "cycle",
        command_channel_url: str | None = None,
    ) -> None:
        # Connect first: failing before that, NNI's manager would only say "Tuner did not
        # connect in 10 seconds"; once connected, report_error shows NNI our message.
        super().__init__(command_channel_url)
        # The machine's keyword arguments, in NNI's names where NNI has them (R, optimize_mode).
        machine = dict(  # noqa: C408 - keyword arguments, written as such
            max_budget=R, eta=eta, min_budget=min_budget, mode=optimize_mode, exec_mode=exec_mode
        )
        machine.update(sizing=sizing, iterations=iterations, seed=seed, brackets=brackets)
        machine["integer_budgets"] = integer_budgets
        try:
            self._config = _ClassArgs(
                machine,
                resume_info=resume_info,
                sampler=sampler,
                sampler_options=sampler_options,
                early_stop=early_stop,
                early_stop_options=early_stop_options,
            )
        except HyperbandError as exc:
            self._fatal(f"HyperbandAdvisor classArgs: {exc}")
            raise
        self._hb: Hyperband | None = None
        self._space: dict[str, Any] | None = None
        self._credit = 0  # jobs NNI asked for that the machine could not hand out yet
        self._done_sent = False
        self._trials = _Trials()
        self._sent_ids: set[int] = set()  # every parameter id sent to NNI
        # Sent and not yet told, failed or stopped: job id -> the job (its budget segment
        # (previous budget, budget] numbers its PERIODICAL reports).
        self._open: dict[int, Job] = {}
        self._periodical = _Periodical()
        self._resume = _Resume()
        self._dirty = False
        self._config.log()

    # ------------------------------------------------------------------ public views

    @property
    def machine(self) -> Hyperband | None:
        """The machine, once NNI sent the search space (or a checkpoint was loaded)."""
        return self._hb

    @property
    def intermediate(self) -> dict[int, list[float]]:
        """The PERIODICAL metrics (their ``"default"``) recorded per job id, in arrival order."""
        return {jid: list(values) for jid, values in self._periodical.intermediate.items()}

    @property
    def stopped(self) -> dict[int, str | None]:
        """The jobs the stopping rule stopped, each with the trial killed for it (or ``None``)."""
        return dict(self._periodical.stopped)

    # ------------------------------------------------------------------ NNI handlers

    def handle_initialize(self, data: Any) -> None:
        """Build the machine on the search space and tell NNI the advisor is ready.

        A malformed search space is fatal: it is reported to NNI (status ERROR, with the
        message naming the place, the rule and the value) and the dispatcher stops.
        """
        self._take_space(
            data,
            "the search space differs from the checkpoint's; the checkpoint's is kept (a "
            "running Hyperband study cannot change its space)",
        )
        self.send(CommandType.Initialized, "")

    def handle_update_search_space(self, data: Any) -> None:
        """Accept the search space before the first job; afterwards only an unchanged one."""
        self._take_space(
            data,
            "search space update ignored: a running Hyperband study cannot change its space "
            "(start a new experiment instead)",
        )

    def handle_request_trial_jobs(self, data: Any) -> None:
        """NNI has ``data`` free trial slots: hand out that many jobs, or owe them."""
        if isinstance(data, bool) or not isinstance(data, int) or data < 0:
            _logger.error(
                "HyperbandAdvisor: RequestTrialJobs must carry an int >= 0, got %s",
                describe(data),
            )
            return
        if self._resume.resumed is not None:
            self._resume.plan_resend(self._hb)
        self._credit += data
        self._serve()

    def handle_report_metric_data(self, data: Any) -> None:
        """A trial reported a metric: FINAL tells the machine, PERIODICAL is recorded.

        Joined by ``parameter_id`` (the machine's job id), never by trial id. A bad metric or
        an unknown id is logged as an error naming the trial; a bad FINAL fails its job. With
        a stopping rule a PERIODICAL metric goes to the machine's ``report`` (see ``_report``);
        when the rule says ``STOP`` the trial is killed. Metrics of a job already
        stopped (they raced the kill) are ignored.
        """
        metric = _metric_of(data)
        if metric is None:
            return
        trial, pid, kind = metric
        if type(pid) is not int or pid not in self._sent_ids:
            if type(pid) is int and pid in self._resume.foreign:
                self._resume.foreign_result(trial, pid, kind, data.get("value"))
                return
            _logger.error(
                "HyperbandAdvisor: trial %s reported a %s metric for parameter_id %s, which "
                "this advisor never sent; ignored",
                trial,
                kind,
                describe(pid),
            )
            return
        trials = self._trials  # a trial's later metrics find it joined (one lookup, no call)
        if isinstance(trial, str) and trials.claims.get(trial) != pid and trials.claim(trial, pid):
            self._settle()
        if pid in self._periodical.stopped:
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
            try:
                k, number = self._periodical.record(pid, value)
            except ValueError as exc:
                self._bad_metric(trial, pid, kind, str(exc))
                return
            self._dirty = True
            # Without a rule nothing judges it: the record (checkpointed) is all the study needs.
            if hb.early_stop is not None or (isinstance(value, dict) and STEP_KEY in value):
                self._report(trial, pid, value, k, number)
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

    def _report(self, trial: Any, pid: int, value: Any, k: int, number: float) -> None:
        """Report the ``k``-th PERIODICAL metric of job ``pid`` (recorded already, its number
        ``number``) to the machine, at ``_step``'s step; the rule may stop the job.

        Called with a stopping rule, and without one for a metric with an explicit ``"step"``
        (so that a bad step is logged). A bad step is logged as an error naming the trial; the
        trial goes on.
        """
        assert self._hb is not None
        job = self._open.get(pid)
        if job is None:  # told or failed already: nothing left to judge
            _logger.debug(
                "HyperbandAdvisor: trial %s: PERIODICAL metric of job %d after its end ignored",
                trial,
                pid,
            )
            return
        step = _step(value, job, k)
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
        if decision is STOP:
            self._stop(trial, pid, step, number)

    def _stop(self, trial: Any, jid: int, step: Any, value: float) -> None:
        """The rule stopped job ``jid`` (the machine resolved it): kill the trial running it."""
        self._open.pop(jid, None)
        live = isinstance(trial, str) and trial not in self._trials.ended
        self._periodical.stopped[jid] = trial if live else None
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
        trials = self._trials
        if not isinstance(trial, str) or trial in trials.ended:
            return
        trials.ended.add(trial)
        jid = trials.claims.get(trial)
        if jid is not None:
            # No FINAL yet when the job is open: it may still be on its way.
            trials.end(trial, event, pending=jid in self._open)
            return
        # The trial never reported: its job is unknown (see _Trials); whether it was one of
        # ours is known from its own form, which NNI does keep with the trial.
        pid = _form_parameter_id(data.get("hyper_params"))
        if pid is not None and pid not in self._sent_ids and self._resume.foreign_ended(trial, pid):
            return
        if pid is None or pid not in self._sent_ids:
            _logger.debug("HyperbandAdvisor: end of trial %s (not ours) ignored", trial)
            return
        trials.end(trial, event, pending=True)

    def handle_ping(self, data: Any) -> None:
        """The heartbeat (see ``run``): age trial ends, settle lost jobs, checkpoint."""
        if self._trials.grace:
            # A trial's end took effect: its job fails if it never reported a FINAL metric.
            for trial, event, jid in self._trials.expire():
                if jid is not None:
                    self._fail(jid, f"trial {trial} ended {event} without a final result")
            self._settle()
        if self._resume.foreign_grace and self._resume.expire():
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
        used = self._resume.add(data)
        # Only while resuming (before NNI's first request) are the pending jobs the previous
        # run's; later they are running trials, which will report themselves.
        fed = 0
        if self._resume.resumed is not None and self._hb is not None:
            fed = self._resume.feed_pending(self._hb, self._open)
            self._dirty = self._dirty or fed > 0
        if self._resume.restored and self._resume.resumed is not None:
            self._resume.cache.clear()
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
        self._trials.n_forms += self._resume.resume_forms(data, self._sent_ids, self._open)

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self) -> None:
        """Write the machine's snapshot to NNI's checkpoint directory (atomically)."""
        path = self.get_checkpoint_path()
        if path is None or self._hb is None:
            return
        _write_checkpoint(path, self._hb, self._periodical.state())
        self._dirty = False

    def load_checkpoint(self) -> None:
        """Restore the machine from NNI's checkpoint directory (called on ``nnictl resume``).

        Without a checkpoint the study starts afresh and reuses the results NNI imports (see
        ``handle_import_data``). A checkpoint that cannot be read is logged and ignored.
        """
        self._resume.resumed = set()
        loaded = _load_checkpoint(self.get_checkpoint_path())
        if loaded is None:
            return
        target, hb, state = loaded
        self._hb = hb
        machine = state["machine"]
        # A model-based sampler's space lives in its spec: the snapshot's "space" is None.
        self._space = machine.get("space") or (machine.get("sampler") or {}).get("space")
        self._periodical = _Periodical.restore(state)
        # The pending jobs were sent by the previous dispatcher; their trials are resumed by
        # NNI (handle_add_customized_trial) or lost, and then sent again (_Resume.plan_resend).
        self._open = {job.id: job for job in hb.pending}
        self._sent_ids = set(self._open) | set(self._periodical.stopped)
        self._resume.restored = True
        _logger.info(
            "HyperbandAdvisor: resumed from %s: %d jobs asked, %d pending",
            target,
            hb.n_asked,
            len(hb.pending),
        )

    # ------------------------------------------------------------------ internals

    def _take_space(self, space: Any, refusal: str) -> None:
        """Build the machine on ``space``; with a machine, log ``refusal`` for another space.

        A malformed space is fatal: reported to NNI, then raised.
        """
        if self._hb is not None:
            if not _same_space(space, self._space):
                _logger.error("HyperbandAdvisor: %s", refusal)
            return
        try:
            self._space, self._hb = self._config.build(space)
        except HyperbandError as exc:
            self._fatal(f"HyperbandAdvisor search space: {exc}")
            raise

    def _fatal(self, message: str) -> None:
        _logger.error("%s", message)
        self.report_error(message)  # NNI's manager sets the experiment's status to ERROR

    def _serve(self) -> None:
        """Hand out as many jobs as NNI is owed; announce the end once the machine is done."""
        hb = self._hb
        if hb is None or self._resume.foreign_live:
            return
        while self._credit > 0:
            if self._resume.resend:
                jid = self._resume.resend.popleft()
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
            if self._resume.cache and self._resume.answer(hb, nxt):
                self._dirty = True
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
        self.send(CommandType.NewTrialJob, _trial_form(job, self._config.resume_info))
        self._credit -= 1
        self._sent_ids.add(job.id)
        self._open[job.id] = job
        self._trials.n_forms += 1
        self._dirty = True

    def _resolved(self) -> None:
        """After a tell or fail: the machine may have promotions or a new bracket ready."""
        self._dirty = True
        self._serve()

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
        # Resolved by the stop: its trial's end changes nothing.
        if jid in self._periodical.stopped:
            return
        try:
            self._hb.fail(jid, reason)
        except UnknownJobError:
            return
        self._open.pop(jid, None)
        _logger.info("HyperbandAdvisor: job %d failed: %s", jid, reason)
        self._resolved()

    def _settle(self) -> None:
        """Fail the jobs that trials which ended without reporting anything took with them.

        See ``_Trials.lost`` for when they are known.
        """
        lost, trials = self._trials.lost(self._open)
        for jid in lost:
            self._fail(jid, f"its trial ended without reporting any metric (one of: {trials})")

    def _save_if_dirty(self) -> None:
        """Save a checkpoint if anything changed since the last one."""
        if not self._dirty:
            return
        try:
            self.save_checkpoint()
        except OSError as exc:
            _logger.error("HyperbandAdvisor: could not write the checkpoint: %s", exc)
