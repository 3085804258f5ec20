"""XGBoost: boosting rounds as the budget (the ``xgboost`` extra).

Inside an objective that takes a context (see `hyperband.run`), ``XGBoostCallback(context)``
goes into ``xgboost.train(..., callbacks=[cb])``, with ``num_boost_round=cb.num_boost_round``
and ``xgb_model=cb.xgb_model``. Each boosting round is one unit of budget: the callback
reports the validation metric after every round (``context.report(round, value)``, rounds
counted across the configuration's rungs), ends training when the stopping rule stops the
job (``after_iteration`` returns ``True``, so ``xgboost.train`` returns normally and the job
is recorded as stopped), and saves the booster after the job's last round so that a
promotion continues it with only the missing rounds.

XGBoost's scikit-learn estimators (``XGBClassifier``, ``XGBRegressor``, ``XGBRanker``) take
the callback in their constructor (``callbacks=[cb]``; XGBoost 3 has no ``fit(callbacks=)``),
the rounds as ``n_estimators=cb.num_boost_round``, and the model to continue as
``fit(..., xgb_model=cb.xgb_model)``; the metric comes from ``fit(..., eval_set=[...])``.

The rules for rounds, checkpoints and promotions are those of the LightGBM callback (see
`hyperband.integrations.boosting`): budgets are rounded down to whole rounds, at least 1.
XGBoost is imported when a callback is made, not when this module is.

Examples:
    >>> from hyperband.integrations.xgboost import rounds
    >>> rounds(27), rounds(0.5)
    (27, 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperband.core.errors import ConfigurationError
from hyperband.integrations.boosting import RoundsCallback, no_such_metric, rounds

__all__ = ["XGBoostCallback", "rounds"]


class XGBoostCallback(RoundsCallback):
    """A training callback for ``xgboost.train``: per-round reports, clean stops, resumes.

    Made, it registers itself as an ``xgboost.callback.TrainingCallback`` (a virtual
    subclass: this module does not import XGBoost).

    Args:
        context: the `hyperband.Context` the objective received.
        metric: which metric to report, an ``eval_metric`` name (``"logloss"``,
            ``"auc"``, ``"rmse"``, ...). By default the last one, the metric XGBoost's own
            early stopping watches. The study's ``mode`` must match (``"minimize"`` for a
            loss).
        dataset: the name of the evaluation set in ``evals`` to report on; by default the
            last one (again as XGBoost's early stopping).
        save: whether to write the booster to the checkpoint directory after the job's
            last round; without it a promoted configuration boosts from scratch.

    Attributes:
        xgb_model: pass it as ``xgboost.train(xgb_model=...)``: the path of the booster
            that the configuration's previous rung saved, or ``None`` (first rung, or no
            saved booster, then training starts from scratch).
        num_boost_round: pass it as ``xgboost.train(num_boost_round=...)``: the rounds
            missing to reach the job's budget.
        value: the metric last reported, what the objective returns (``None`` before
            the first round).
        stopped: ``True`` once the stopping rule has stopped the job.

    Raises:
        ModuleNotFoundError: no XGBoost installed (the message names the extra).
        ArgumentTypeError: ``context`` is not a Context, or ``metric`` or ``dataset`` not
            a str.
        ConfigurationError: (during training) no metric to report, a booster that does not
            start from ``xgb_model``, or one that boosts past the job's budget.

    Examples:
        >>> def objective(config, budget, context):
        ...     import xgboost as xgb
        ...     cb = XGBoostCallback(context, "logloss")
        ...     xgb.train({**config, "objective": "binary:logistic"}, TRAIN,
        ...               num_boost_round=cb.num_boost_round, xgb_model=cb.xgb_model,
        ...               evals=[(VALID, "valid")], verbose_eval=False, callbacks=[cb])
        ...     return cb.value

        The same with XGBoost's scikit-learn API:

        >>> def objective(config, budget, context):
        ...     import xgboost as xgb
        ...     cb = XGBoostCallback(context, "logloss")
        ...     model = xgb.XGBClassifier(**config, n_estimators=cb.num_boost_round,
        ...                               eval_metric="logloss", callbacks=[cb])
        ...     model.fit(X_TRAIN, Y_TRAIN, eval_set=[(X_VALID, Y_VALID)],
        ...               xgb_model=cb.xgb_model, verbose=False)
        ...     return cb.value
    """

    owner = "XGBoostCallback"
    template = "xgboost_{}_rounds.ubj"  # UBJSON: XGBoost's binary format, exact
    module = "xgboost"

    def _adopt(self) -> None:
        # xgboost.train takes only TrainingCallback instances; a virtual subclass keeps
        # XGBoost out of this module's imports.
        self._engine.callback.TrainingCallback.register(XGBoostCallback)

    @property
    def xgb_model(self) -> str | None:
        """The model to pass to ``xgboost.train(xgb_model=...)``, or None."""
        return self._resume

    def before_training(self, model: Any) -> Any:
        """Check that training starts from ``xgb_model``: otherwise the rounds would not
        be the budget's."""
        if not isinstance(model, self._engine.Booster):
            raise ConfigurationError(
                f"{self.owner} works with xgboost.train only, not xgboost.cv (got a "
                f"{type(model).__name__} to train)"
            )
        held = model.num_boosted_rounds()
        if held != self._start:
            raise ConfigurationError(
                f"{self.owner}: the booster starts with {held} rounds, expected "
                f"{self._start}: pass xgb_model=cb.xgb_model and "
                "num_boost_round=cb.num_boost_round to xgboost.train (with XGBClassifier "
                "or XGBRegressor: n_estimators=cb.num_boost_round, and "
                "fit(..., xgb_model=cb.xgb_model))"
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
        if step > self._target:
            raise ConfigurationError(
                f"{self.owner}: round {step} is past the job's {self._target} rounds: "
                "pass num_boost_round=cb.num_boost_round to xgboost.train (with "
                "XGBClassifier or XGBRegressor: n_estimators=cb.num_boost_round)"
            )
        if self._report(step, self._pick(evals_log)):
            return True
        self._save(step, model.save_model)
        return False

    def _pick(self, evals_log: Mapping[str, Mapping[str, Any]]) -> float:
        """This round's value of the chosen metric on the chosen dataset."""
        if not evals_log:
            raise ConfigurationError(
                f"{self.owner}: xgboost.train evaluated no metric: pass "
                "evals=[(dvalid, 'valid')] (with XGBClassifier or XGBRegressor: "
                "fit(..., eval_set=[(X_valid, y_valid)])) so that each round has one to report"
            )
        name = list(evals_log)[-1] if self.dataset is None else self.dataset
        metrics = evals_log.get(name, {})
        metric = self.metric
        if metric is None and metrics:
            metric = list(metrics)[-1]
        if metric is None or metric not in metrics:
            shown = ", ".join(f"{d}/{m}" for d, ms in evals_log.items() for m in ms)
            raise no_such_metric(self.owner, self.metric, self.dataset, shown)
        return float(metrics[metric][-1])
