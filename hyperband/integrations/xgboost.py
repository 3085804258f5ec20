"""XGBoost: boosting rounds as the budget (the ``xgboost`` extra).

``XGBoostCallback(context)`` goes into ``xgboost.train(..., callbacks=[...])`` inside an
objective that takes a context (see `hyperband.run`). It

- reports the chosen validation metric after every boosting round through
  ``context.report(round, value)``, the round counted from the first of the configuration's
  rungs, so the budget is the number of boosting rounds;
- stops training cleanly when the stopping rule stops the job (``run(early_stop=...)``):
  its ``after_iteration`` returns ``True``, XGBoost's own way to end training, so
  ``xgboost.train`` returns the booster as it is, and the objective returns as usual;
- saves the booster into the configuration's checkpoint directory after its last round, and
  on a promotion hands ``xgboost.train`` that model as ``xgb_model`` with only the rounds
  that are missing (``num_boost_round``), so a promoted configuration continues its trees
  instead of boosting from scratch.

Budgets are whole rounds: a budget is rounded down (at least 1 round); choose ``max_budget``,
``min_budget`` and ``eta`` with integral budgets (27, 1, 3) to train exactly the budget.

This module imports XGBoost only when a callback is made, so it imports without it.

Examples:
    >>> from hyperband.integrations.xgboost import rounds
    >>> rounds(27), rounds(0.5)
    (27, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperband.core.errors import ConfigurationError
from hyperband.drivers.context import Context
from hyperband.integrations.boosting import RoundPlan, check_arguments, engine, rounds

__all__ = ["XGBoostCallback", "rounds"]

_OWNER = "XGBoostCallback"


class XGBoostCallback:
    """An ``xgboost.train`` callback that reports each round, stops, saves and resumes.

    It is an ``xgboost.callback.TrainingCallback`` (registered as one when it is made, so
    that this module imports without XGBoost).

    Args:
        context: the objective's `hyperband.Context`.
        metric: the metric to report (``"logloss"``, ``"auc"``, ``"rmse"``, ...);
            ``None``: the last of ``eval_metric``, as XGBoost's own early stopping. Run the
            study with the matching ``mode`` (``"minimize"`` for a loss).
        dataset: the validation set's name (its name in ``evals``); ``None``: the last of
            ``evals``, as XGBoost's own early stopping.
        save: keep the booster in the checkpoint directory after its last round, for a
            promotion to continue (``False``: every rung trains from scratch).

    Attributes:
        xgb_model: what to pass to ``xgboost.train(xgb_model=...)``: the path of the model
            the configuration's previous rung saved, or ``None`` (a first rung, or no such
            model: then it trains from scratch).
        num_boost_round: the rounds to pass to ``xgboost.train``: the job's budget minus
            what ``xgb_model`` already holds.
        value: the last reported value (what the objective returns), ``None`` before any.
        stopped: whether the stopping rule stopped the job.

    Raises:
        ModuleNotFoundError: XGBoost is not installed (the message names the extra).
        ArgumentTypeError: ``context`` is not a Context, ``metric`` or ``dataset`` not a str.

    Examples:
        >>> def objective(config, budget, context):
        ...     import xgboost as xgb
        ...     cb = XGBoostCallback(context, "logloss")
        ...     xgb.train({**config, "objective": "binary:logistic"}, TRAIN,
        ...               num_boost_round=cb.num_boost_round, xgb_model=cb.xgb_model,
        ...               evals=[(VALID, "valid")], verbose_eval=False, callbacks=[cb])
        ...     return cb.value
    """

    def __init__(
        self,
        context: Context,
        metric: str | None = None,
        *,
        dataset: str | None = None,
        save: bool = True,
    ) -> None:
        xgb = engine("xgboost", _OWNER)
        # xgboost.train accepts only TrainingCallback instances; registering this class as
        # a virtual subclass keeps XGBoost out of this module's imports.
        xgb.callback.TrainingCallback.register(XGBoostCallback)
        self._booster_type = xgb.Booster
        self.context = check_arguments(_OWNER, context, metric=metric, dataset=dataset)
        self.metric = metric
        self.dataset = dataset
        self.save = bool(save)
        self._plan = RoundPlan(context, "xgboost_{}_rounds.ubj")
        resume = self._plan.resume
        self.xgb_model: str | None = None if resume is None else str(resume)
        self.num_boost_round = self._plan.missing
        self.value: float | None = None

    @property
    def stopped(self) -> bool:
        """Whether the stopping rule stopped the job."""
        return self._plan.stopped

    def before_training(self, model: Any) -> Any:
        """Check that training starts from ``xgb_model``: otherwise the rounds would not
        be the budget's."""
        if not isinstance(model, self._booster_type):
            raise ConfigurationError(
                f"{_OWNER} works with xgboost.train only, not xgboost.cv (got a "
                f"{type(model).__name__} to train)"
            )
        held = model.num_boosted_rounds()
        if held != self._plan.start:
            raise ConfigurationError(
                f"{_OWNER}: the booster starts with {held} rounds, expected "
                f"{self._plan.start}: pass xgb_model=cb.xgb_model and "
                "num_boost_round=cb.num_boost_round to xgboost.train"
            )
        return model

    def after_training(self, model: Any) -> Any:
        """Nothing to do: the model was saved after its last round."""
        return model

    def before_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        """Nothing to do before a round: never stops training."""
        return False

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        """Report this round's metric and save the booster after the job's last round;
        ``True`` (stop training) when the stopping rule stopped the job."""
        step = model.num_boosted_rounds()  # the earlier rungs' rounds included
        if step > self._plan.target:
            raise ConfigurationError(
                f"{_OWNER}: round {step} is past the job's {self._plan.target} rounds: "
                "pass num_boost_round=cb.num_boost_round to xgboost.train"
            )
        self.value = self._pick(evals_log)
        if self._plan.report(step, self.value):
            return True
        if self.save:
            self._plan.save(step, model.save_model)
        return False

    def _pick(self, evals_log: Mapping[str, Mapping[str, Any]]) -> float:
        """This round's value of the chosen metric on the chosen dataset."""
        if not evals_log:
            raise ConfigurationError(
                f"{_OWNER}: xgboost.train evaluated no metric: pass "
                "evals=[(dvalid, 'valid')] so that each round has one to report"
            )
        name = list(evals_log)[-1] if self.dataset is None else self.dataset
        metrics = evals_log.get(name, {})
        metric = self.metric
        if metric is None and metrics:
            metric = list(metrics)[-1]
        if metric is None or metric not in metrics:
            shown = ", ".join(f"{d}/{m}" for d, ms in evals_log.items() for m in ms)
            raise ConfigurationError(
                f"{_OWNER}: no metric {self.metric!r} on dataset {self.dataset!r}; "
                f"this training computes {shown}"
            )
        return float(metrics[metric][-1])
