"""Hyperband for Microsoft NNI 3.0: an advisor that drives the `Hyperband` machine.

NNI runs an *advisor* (a ``nni.runtime.msg_dispatcher_base.MsgDispatcherBase`` subclass) in
its dispatcher process and talks to it with commands: it asks for trial jobs, reports metrics
and trial ends. ``HyperbandAdvisor`` translates those commands into ``ask``/``tell``/``fail``
calls on the machine and adds no scheduling logic of its own: which configuration runs at which
budget, what gets promoted, when a bracket starts and when the study is over is all the machine's.

This package is the only place that imports ``nni`` (the ``nni`` extra); importing ``hyperband``
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

from hyperband.integrations.nni.advisor import HyperbandAdvisor
from hyperband.integrations.nni.messages import BUDGET_KEY, RESUME_KEYS

__all__ = ["BUDGET_KEY", "RESUME_KEYS", "HyperbandAdvisor"]
