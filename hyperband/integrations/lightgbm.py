"""LightGBM: boosting rounds as the budget (the ``lightgbm`` extra).

``LightGBMCallback(context)`` goes into ``lightgbm.train(..., callbacks=[...])``, or into
``fit(..., callbacks=[...])`` of LightGBM's scikit-learn estimators (``LGBMClassifier``,
``LGBMRegressor``, ``LGBMRanker``), inside an objective that takes a context (see
`hyperband.run`). It

- reports the chosen validation metric after every boosting round through
  ``context.report(round, value)``, the round counted from the first of the configuration's
  rungs, so the budget is the number of boosting rounds;
- stops training cleanly when the stopping rule stops the job (``run(early_stop=...)``): it
  turns `hyperband.EarlyStopped` into LightGBM's own ``EarlyStopException``, so
  ``lightgbm.train`` returns the booster as it is, and the objective returns as usual;
- saves the booster into the configuration's checkpoint directory after its last round, and
  on a promotion hands ``lightgbm.train`` that model as ``init_model`` with only the rounds
  that are missing (``num_boost_round``), so a promoted configuration continues its trees
  instead of boosting from scratch. With a scikit-learn estimator, pass the rounds as
  ``n_estimators=cb.num_boost_round`` and the model as ``fit(..., init_model=cb.init_model)``.

Budgets are whole rounds: a budget is rounded down (at least 1 round); choose ``max_budget``,
``min_budget`` and ``eta`` with integral budgets (27, 1, 3) to train exactly the budget.

This module imports LightGBM only when a callback is made, so it imports without it.

Examples:
    >>> from hyperband.integrations.lightgbm import rounds
    >>> rounds(9), rounds(3.5), rounds(0.5)
    (9, 3, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperband.core.errors import ConfigurationError
from hyperband.integrations.boosting import RoundsCallback, no_such_metric, rounds

__all__ = ["LightGBMCallback", "rounds"]

_TRAINING = "training"  # LightGBM's name for the training set among the valid_sets


class LightGBMCallback(RoundsCallback):
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
        ConfigurationError: (during training) no metric to report, or a training that does
            not start from ``init_model`` or does not end at the job's budget.

    Examples:
        >>> def objective(config, budget, context):
        ...     import lightgbm as lgb
        ...     cb = LightGBMCallback(context, "binary_logloss")
        ...     lgb.train({**config, "objective": "binary", "verbose": -1}, TRAIN,
        ...               num_boost_round=cb.num_boost_round, init_model=cb.init_model,
        ...               valid_sets=[VALID], callbacks=[cb])
        ...     return cb.value

        The same with LightGBM's scikit-learn API:

        >>> def objective(config, budget, context):
        ...     import lightgbm as lgb
        ...     cb = LightGBMCallback(context, "binary_logloss")
        ...     model = lgb.LGBMClassifier(**config, n_estimators=cb.num_boost_round)
        ...     model.fit(X_TRAIN, Y_TRAIN, eval_X=X_VALID, eval_y=Y_VALID,
        ...               init_model=cb.init_model, callbacks=[cb])
        ...     return cb.value
    """

    owner = "LightGBMCallback"
    template = "lightgbm_{}_rounds.txt"
    module = "lightgbm"
    # After LightGBM's own record_evaluation (order 20) and early_stopping (30) callbacks.
    order = 40
    before_iteration = False

    @property
    def init_model(self) -> str | None:
        """The model to pass to ``lightgbm.train(init_model=...)``, or None."""
        return self._resume

    def _check_rounds(self, begin: int, end: int) -> None:
        """Training goes from the rounds ``init_model`` holds to the job's budget: otherwise
        the rounds would not be the budget's."""
        if begin != self._start:
            raise ConfigurationError(
                f"{self.owner}: the booster starts with {begin} rounds, expected "
                f"{self._start}: pass init_model=cb.init_model to lightgbm.train (or to "
                "LGBMClassifier.fit / LGBMRegressor.fit)"
            )
        if end != self._target:
            raise ConfigurationError(
                f"{self.owner}: training ends after round {end}, the job's budget is "
                f"{self._target} rounds: pass num_boost_round=cb.num_boost_round to "
                "lightgbm.train (with LGBMClassifier or LGBMRegressor: "
                "n_estimators=cb.num_boost_round)"
            )

    def _pick(self, results: Sequence[Any] | None) -> Any:
        """The evaluation result to report (``(dataset, metric, value, higher_better)``)."""
        if not results:
            raise ConfigurationError(
                "LightGBMCallback: lightgbm.train computed no metric: pass valid_sets=[...] "
                "(with LGBMClassifier or LGBMRegressor: fit(..., eval_X=..., eval_y=...)) "
                "and a metric in the parameters, so that each round has one to report"
            )
        if self.dataset is not None:
            candidates = [r for r in results if r[0] == self.dataset]
        else:  # the training set only when it is all there is
            candidates = [r for r in results if r[0] != _TRAINING] or list(results)
        if self.metric is not None:
            candidates = [r for r in candidates if r[1] == self.metric]
        if not candidates:
            shown = ", ".join(f"{r[0]}/{r[1]}" for r in results)
            raise no_such_metric(self.owner, self.metric, self.dataset, shown)
        return candidates[0]

    def __call__(self, env: Any) -> None:
        """Report this round's metric; stop training when the job is stopped; save the
        booster after the job's last round."""
        if env.iteration == env.begin_iteration:
            self._check_rounds(env.begin_iteration, env.end_iteration)
        result = self._pick(env.evaluation_result_list)
        step = env.iteration + 1  # rounds boosted so far, the earlier rungs' included
        if self._report(step, float(result[2])):
            raise self._engine.callback.EarlyStopException(
                env.iteration, list(env.evaluation_result_list)
            )
        if step == env.end_iteration:
            self._save(step, env.model.save_model)
