"""A study run in a child process by the kill -9 and Ctrl-C tests.

    python -m tests.journal_child JOURNAL EXECUTOR WORKERS [model | curve | adaptive EXEC_MODE]

With ``model``: a KDE sampler and the rung stopping rule, in serial exec mode, the objective
reporting its learning curve (``runner_helpers.gated_reporting``); with ``curve``, the same
with the curve rule. With ``adaptive``: ``runner_helpers.ADAPTIVE_STUDY`` in exec mode
EXEC_MODE.

Prints the result as one JSON line; exits 130 on KeyboardInterrupt. The objective is
``runner_helpers.gated``: with $HYPERBAND_TEST_GATE set, the test decides how far it may go.
"""

from __future__ import annotations

import json
import signal
import sys

import hyperband

from .runner_helpers import (
    ADAPTIVE_STUDY,
    CURVE_STUDY,
    MODEL_STUDY,
    SPACE,
    STUDY,
    gated,
    gated_reporting,
)


def main() -> int:
    # The Ctrl-C test sends SIGINT, which Python ignores if it started ignored (the suite run
    # as a background job of a script, and so this child): take it as a terminal would.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    journal, executor, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    studies = {"model": MODEL_STUDY, "curve": CURVE_STUDY}
    study = studies.get(sys.argv[4] if sys.argv[4:] else "", STUDY)
    reporting = study is not STUDY
    if sys.argv[4:5] == ["adaptive"]:
        study = {**ADAPTIVE_STUDY, "exec_mode": sys.argv[5]}
    try:
        result = hyperband.run(
            gated_reporting if reporting else gated,
            SPACE,
            **study,
            executor=executor,
            workers=workers,
            journal=journal,
            progress=False,
        )
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        return 130
    best = None if result.best is None else result.best.to_dict()
    print(json.dumps({"best": best, "records": len(result.history)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
