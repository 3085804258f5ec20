"""LightGBM: boosting rounds as the budget (the ``lightgbm`` extra).

``LightGBMCallback(context)`` goes into ``lightgbm.train(..., callbacks=[...])`` inside an
objective that takes a context (see `hyperband.run`). It

- reports the chosen validation metric after every boosting round through
  ``context.report(round, value)``, the round counted from the first of the configuration's
  rungs, so the budget is the number of boosting rounds;
- stops training cleanly when the stopping rule stops the job (``run(early_stop=...)``): it
  turns `hyperband.EarlyStopped` into LightGBM's own ``EarlyStopException``, so
  ``lightgbm.train`` returns the booster as it is, and the objective returns as usual;
- saves the booster into the configuration's checkpoint directory after its last round, and
  on a promotion hands ``lightgbm.train`` that model as ``init_model`` with only the rounds
  that are missing (``num_boost_round``), so a promoted configuration continues its trees
  instead of boosting from scratch.

Budgets are whole rounds: a budget is rounded down (at least 1 round); choose ``max_budget``,
``min_budget`` and ``eta`` with integral budgets (27, 1, 3) to train exactly the budget.

This module imports LightGBM only when a callback is made, so it imports without it.

Examples:
    >>> from hyperband.integrations.lightgbm import rounds
    >>> rounds(9), rounds(3.5), rounds(0.5)
    (9, 3, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.jobs import EarlyStopped
from hyperband.drivers.context import Context

__all__ = ["LightGBMCallback", "rounds"]

_TRAINING = "training"  # LightGBM's name for the training set among the valid_sets


def rounds(budget: float) -> int:
    """The boosting rounds a budget allows: rounded down, at least 1."""
    return max(1, math.floor(budget + 1e-9))


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError:
        raise ModuleNotFoundError(
            "LightGBMCallback needs lightgbm: pip install 'hyperband[lightgbm]'",
            name="lightgbm",
        ) from None
    return lightgbm


class LightGBMCallback:
    """A ``lightgbm.train`` callback that reports each round, stops, saves and resumes.

    Args:
        context: the objective's `hyperband.Context`.
        metric: the metric to report (``"binary_logloss"``, ``"auc"``, ...); ``None``: the
            first metric LightGBM computes on the first validation set. Run the study with
            the matching ``mode`` (``"minimize"`` for a loss).
        dataset: the validation set's name (``valid_names``); ``None``: the first that is
            not the training set.
        save: keep the booster in the checkpoint directory after its last round, for a
            promotion to continue (``False``: every rung trains from scratch).

    Attributes:
        init_model: what to pass to ``lightgbm.train(init_model=...)``: the path of the
            model the configuration's previous rung saved, or ``None`` (a first rung, or no
            such model: then it trains from scratch).
        num_boost_round: the rounds to pass to ``lightgbm.train``: the job's budget minus
            what ``init_model`` already holds.
        value: the last reported value (what the objective returns), ``None`` before any.
        stopped: whether the stopping rule stopped the job.

    Raises:
        ModuleNotFoundError: LightGBM is not installed (the message names the extra).
        ArgumentTypeError: ``context`` is not a Context, ``metric`` or ``dataset`` not a str.

    Examples:
        >>> def objective(config, budget, context):
        ...     import lightgbm as lgb
        ...     cb = LightGBMCallback(context, "binary_logloss")
        ...     lgb.train({**config, "objective": "binary", "verbose": -1}, TRAIN,
        ...               num_boost_round=cb.num_boost_round, init_model=cb.init_model,
        ...               valid_sets=[VALID], callbacks=[cb])
        ...     return cb.value
    """

    # After LightGBM's own record_evaluation (order 20) and early_stopping (30) callbacks.
    order = 40
    before_iteration = False

    def __init__(
        self,
        context: Context,
        metric: str | None = None,
        *,
        dataset: str | None = None,
        save: bool = True,
    ) -> None:
        self._lgb = _lightgbm()
        if not isinstance(context, Context):
            raise ArgumentTypeError(
                "context must be the objective's hyperband Context (declare a third "
                f"parameter: objective(config, budget, context)), got {describe(context)}"
            )
        for name, value in (("metric", metric), ("dataset", dataset)):
            if value is not None and not isinstance(value, str):
                raise ArgumentTypeError(f"{name} must be a str or None, got {describe(value)}")
        self.context = context
        self.metric = metric
        self.dataset = dataset
        self.save = bool(save)
        job = context.job
        self._target = rounds(job.budget)
        self._previous = 0.0 if job.previous_budget is None else float(job.previous_budget)
        done = 0 if job.previous_budget is None else rounds(job.previous_budget)
        saved = self._path(done)
        if done and done < self._target and saved.exists():
            self.init_model: str | None = str(saved)
            self.num_boost_round = self._target - done
        else:
            self.init_model = None
            self.num_boost_round = self._target
        self.value: float | None = None
        self.stopped = False

    def _path(self, n_rounds: int) -> Path:
        return self.context.checkpoint_dir / f"lightgbm_{n_rounds}_rounds.txt"

    def _pick(self, results: Sequence[Any] | None) -> Any:
        """The evaluation result to report (``(dataset, metric, value, higher_better)``)."""
        if not results:
            raise ConfigurationError(
                "LightGBMCallback: lightgbm.train computed no metric: pass valid_sets=[...] "
                "(and a metric in the parameters) so that each round has one to report"
            )
        if self.dataset is not None:
            candidates = [r for r in results if r[0] == self.dataset]
        else:  # the training set only when it is all there is
            candidates = [r for r in results if r[0] != _TRAINING] or list(results)
        if self.metric is not None:
            candidates = [r for r in candidates if r[1] == self.metric]
        if not candidates:
            shown = ", ".join(f"{r[0]}/{r[1]}" for r in results)
            raise ConfigurationError(
                f"LightGBMCallback: no metric {self.metric!r} on dataset {self.dataset!r}; "
                f"this training computes {shown}"
            )
        return candidates[0]

    def __call__(self, env: Any) -> None:
        """Report this round's metric; stop training when the job is stopped; save the
        booster after the job's last round."""
        result = self._pick(env.evaluation_result_list)
        step = env.iteration + 1  # rounds boosted so far, the earlier rungs' included
        self.value = float(result[2])
        if step > self._previous:  # a rung trained from scratch re-trains earlier rounds
            try:
                self.context.report(step, self.value)
            except EarlyStopped:
                self.stopped = True
                raise self._lgb.callback.EarlyStopException(
                    env.iteration, list(env.evaluation_result_list)
                ) from None
        if self.save and step == env.end_iteration:
            scratch = self._path(step).with_suffix(".tmp")
            env.model.save_model(str(scratch))
            scratch.replace(self._path(step))  # whole or not at all
