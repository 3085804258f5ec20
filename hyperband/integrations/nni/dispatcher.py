"""The dispatcher's plumbing: NNI's commands on one worker thread, in NNI's order.

NNI runs an advisor's handlers on the worker threads of ``MsgDispatcherBase``; ``_Dispatcher``
keeps them on one, pings itself (NNI 3.0 sends no pings) and keeps a handler's unexpected error
from stopping the worker.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Final

from nni.runtime.msg_dispatcher_base import MsgDispatcherBase
from nni.runtime.tuner_command_channel import CommandType

_logger = logging.getLogger("hyperband.integrations.nni")

# NNI 3.0's manager drops its own pings (nni_node/core/tuner_command_channel.js ignores 'PI'),
# so the dispatcher pings itself at this interval, through the command queue.
PING_SECONDS: Final = 0.5


# The commands served, by the name of their handler (MsgDispatcherBase's names); any other
# command is logged and ignored.
_HANDLERS: Final = {
    CommandType.Initialize: "handle_initialize",
    CommandType.RequestTrialJobs: "handle_request_trial_jobs",
    CommandType.UpdateSearchSpace: "handle_update_search_space",
    CommandType.ImportData: "handle_import_data",
    CommandType.AddCustomizedTrialJob: "handle_add_customized_trial",
    CommandType.ReportMetricData: "handle_report_metric_data",
    CommandType.TrialEnd: "handle_trial_end",
    CommandType.Ping: "handle_ping",
}


class _Dispatcher(MsgDispatcherBase):  # type: ignore[misc]  # nni ships no type hints
    """A ``MsgDispatcherBase`` serving ``_HANDLERS`` on one thread; ``_save_if_dirty`` on exit."""

    def __init__(self, command_channel_url: str | None = None) -> None:
        super().__init__(command_channel_url)
        # Bound once: a lookup by name on every command is a measurable share of a metric's
        # handling (issue 18 item 10).
        self._handlers = {command: getattr(self, name) for command, name in _HANDLERS.items()}

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

    def _save_if_dirty(self) -> None:
        """Save the subclass's state if it changed; called at every ping and on exit."""
