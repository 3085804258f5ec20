"""An NNI trial for the end-to-end tests: reads TRIAL_BUDGET, reports per epoch and at the end.

Usage: ``python trial.py RECORD_DIR [--fail-above X] [--client nni|http] [--epoch-seconds S]``.

It writes one JSON record per trial into RECORD_DIR: the parameter id NNI really handed it (NNI
3.0 may swap the parameters of trials started together, so the tests join on this id), the
parameters, and what it reported. A configuration with ``x > X`` fails: in the upper half of
``(X, 1]`` before reporting anything, in the lower half after one intermediate result, so both
of the advisor's ways to find a failed trial's job are exercised.

It reports ``objective(params, epoch)`` after each of its ``ceil(TRIAL_BUDGET)`` epochs (each
``--epoch-seconds`` long), a learning curve whose value at a given epoch ranks configurations as
their final results do, so an early-stopping rule has something to judge. A trial killed by NNI
(``KillTrialJob`` sends SIGINT) records ``"killed"`` with the epoch it reached, and dies of the
signal, so that NNI shows it ``EARLY_STOPPED``.

Before its first report, a trial waits until NNI's manager lists it, and before it exits, until
NNI has stored every metric it sent. NNI 3.0's manager starts a trial before it records it
(nnimanager.js, manageTrials: it awaits a database write in between) and drops the metrics of a
trial it has not recorded yet ("received non-existent trial job metrics"); and it stores a metric
before it hands it to the advisor, while a trial's end can overtake that write, so the advisor
could hear of the end, and hand the free slot a new configuration, before the result. Real
trials run for minutes; these run for milliseconds, so on a loaded machine both happened.

``--client nni`` uses NNI's own trial API (``nni.get_next_parameter``, ``nni.report_*``).
``--client http`` (the default) makes the same two HTTP calls that API makes to NNI 3.0's
trial command channel, with the standard library: ``import nni`` costs 1.3 s or more of CPU
per trial (it imports scipy.stats), which would take most of a test's time on two cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


def objective(params: dict[str, Any], budget: float) -> float:
    """Deterministic in (configuration, budget); the end-to-end tests recompute it."""
    x = float(params["x"])
    lr = float(params["lr"])
    bonus = 0.05 if params["act"] == "relu" else 0.0
    return -((x - 0.3) ** 2) - 0.01 * abs(math.log10(lr) + 2) + bonus + 0.01 * math.log1p(budget)


WAIT_SECONDS = 240.0  # for NNI's manager to list this trial or store its metrics


class Manager:
    """NNI's REST API, found from the trial's command channel (the same web server)."""

    def __init__(self) -> None:
        url = urllib.parse.urlsplit(os.environ["NNI_TRIAL_COMMAND_CHANNEL"])
        self.api = f"{url.scheme}://{url.netloc}/api/v1/nni"
        self.trial = os.environ["NNI_TRIAL_JOB_ID"]

    def _get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(f"{self.api}/{path}", timeout=30) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, ValueError):
            return None

    def _until(self, what: str, ready: Any) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        pause = 0.02  # doubling up to 0.5 s: each ask is a request and a query for the manager
        while not ready():
            if time.monotonic() > deadline:
                raise SystemExit(f"NNI's manager did not {what} in {WAIT_SECONDS:g} s")
            time.sleep(pause)
            pause = min(2 * pause, 0.5)

    def wait_listed(self) -> None:
        """Until the manager has recorded this trial: only then does it keep its metrics."""
        self._until("list this trial", lambda: self._get(f"trial-jobs/{self.trial}") is not None)

    def wait_stored(self, n_metrics: int) -> None:
        """Until the manager has stored (and so handed to the advisor) all ``n_metrics``."""

        def stored() -> bool:
            metrics = self._get(f"metric-data/{self.trial}")
            return isinstance(metrics, list) and len(metrics) >= n_metrics

        self._until(f"store this trial's {n_metrics} metrics", stored)


class HttpClient:
    """NNI 3.0's trial protocol (nni/runtime/trial_command_channel/v3.py) over urllib."""

    def __init__(self) -> None:
        self.url = os.environ["NNI_TRIAL_COMMAND_CHANNEL"]
        self.trial = os.environ["NNI_TRIAL_JOB_ID"]
        self.parameter_id: int | None = None
        self.sequence = 0

    def _put(self, command: dict[str, Any]) -> None:
        data = json.dumps(command).encode()
        request = urllib.request.Request(
            self.url, data=data, method="PUT", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30):
            pass

    def get_next_parameter(self) -> dict[str, Any]:
        self._put({"type": "request_parameter"})
        while True:
            try:
                with urllib.request.urlopen(self.url, timeout=60) as response:
                    command = json.loads(response.read())
                    break
            except urllib.error.HTTPError as exc:
                if exc.code != 408:  # 408: the long poll timed out, ask again
                    raise
        record = json.loads(command["parameter"])
        self.parameter_id = record["parameter_id"]
        return dict(record["parameters"])

    def _metric(self, kind: str, value: float) -> None:
        metric = {
            "parameter_id": self.parameter_id,
            "trial_job_id": self.trial,
            "type": kind,
            "sequence": self.sequence,
            "value": json.dumps(value),
        }
        self._put({"type": "metric", "metric": json.dumps(metric)})

    def report_intermediate_result(self, value: float) -> None:
        self._metric("PERIODICAL", value)
        self.sequence += 1

    def report_final_result(self, value: float) -> None:
        self._metric("FINAL", value)


class NniClient:
    """NNI's own trial API."""

    def __init__(self) -> None:
        import nni
        import nni.trial

        self.nni = nni
        self.trial = nni.get_trial_id()
        self.parameter_id: int | None = None

    def get_next_parameter(self) -> dict[str, Any]:
        params = dict(self.nni.get_next_parameter())
        # The id of the parameters this trial really received (private, but the only way).
        self.parameter_id = self.nni.trial._params["parameter_id"]
        return params

    def report_intermediate_result(self, value: float) -> None:
        self.nni.report_intermediate_result(value)

    def report_final_result(self, value: float) -> None:
        self.nni.report_final_result(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("record_dir")
    parser.add_argument("--fail-above", type=float, default=math.inf)
    parser.add_argument("--client", choices=("http", "nni"), default="http")
    parser.add_argument("--epoch-seconds", type=float, default=0.02)
    args = parser.parse_args()
    client = NniClient() if args.client == "nni" else HttpClient()
    manager = Manager()
    params = client.get_next_parameter()
    record: dict[str, Any] = {
        "trial": client.trial,
        "parameter_id": client.parameter_id,
        "parameters": params,
        "status": "running",
    }
    path = os.path.join(args.record_dir, f"{client.trial}.json")

    def save(status: str) -> None:
        record["status"] = status
        with open(path, "w", encoding="utf-8") as f:
            json.dump(record, f)

    x = float(params["x"])
    if x > args.fail_above and x > (args.fail_above + 1) / 2:
        save("failed before reporting")
        raise SystemExit("this part of the space fails (before any report)")
    budget = params["TRIAL_BUDGET"]
    value = objective(params, budget)
    record["epochs"] = 0
    manager.wait_listed()
    try:
        for epoch in range(1, math.ceil(budget) + 1):
            time.sleep(args.epoch_seconds)
            client.report_intermediate_result(objective(params, min(epoch, budget)))
            record["epochs"] = epoch
            if x > args.fail_above:
                save("failed after reporting")
                manager.wait_stored(epoch)
                raise SystemExit("this part of the space fails (after a report)")
        client.report_final_result(value)
    except KeyboardInterrupt:
        save("killed")
        raise  # Python then dies of SIGINT itself: NNI sees a signal, not an exit code
    record["value"] = value
    save("succeeded")
    # Killed while it waits (the job was stopped, its FINAL raced the kill): it dies of SIGINT.
    manager.wait_stored(math.ceil(budget) + 1)


if __name__ == "__main__":
    main()
