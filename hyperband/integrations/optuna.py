"""Optuna's samplers drawing Hyperband's configurations (the ``optuna`` extra).

``OptunaSampler`` puts any Optuna sampler (TPE, CMA-ES, GP, QMC, random, ...) behind the
model-based sampler protocol of ``hyperband.ModelSampler``: Hyperband decides budgets and
promotions, the Optuna sampler decides which configurations to start.

How a draw works. The results that count are finished trials of an in-memory Optuna study
(``optuna.trial.create_trial`` / ``Study.add_trials``); the pending configurations join it as
running trials, one trial is asked and every parameter of the space suggested with the matching
``suggest_*``; then the asked and the running trials are marked failed (or dropped, below).
Each draw gets a fresh copy of the Optuna sampler (or the study's own, seeded afresh), seeded
from the machine's ``rng``: that is what makes the draws depend only on ``rng``, ``pending``
and the ``observe`` calls (Optuna's samplers carry a random state that advances with every
call, and a restored machine replays the ``observe`` calls but not the earlier draws).

For TPE, random and QMC, whose draws ignore failed trials, one study per budget is kept and
each observation is added to it once, and what a draw added (its asked trial, the running ones)
is dropped again after it: a draw costs what the sampler computes, not a rebuild (about 1,000
trial copies at 600 results before) nor a walk through every earlier draw's trials. For named
TPE and random samplers the study keeps its sampler too, seeded for each draw as a new one
would be. For the others (CMA-ES keeps state in its trials) the study is built afresh for each
draw. No Optuna storage is needed; Optuna's log lines and warnings are silenced while it runs.

Which results count (as BOHB decides for its model): the results at the largest budget with at
least ``min_trials`` finished results; before any budget has that many, the budget with the
most (the larger on a tie). When that budget changes, the next study is simply built from the
new budget's results. Failed jobs are failed trials (Optuna's samplers skip them).

Parameters as Optuna sees them:

- NNI spaces: ``choice`` is a categorical over the option indices (its options may be lists or
  dicts), nested options' sub-parameters are suggested only when their option is chosen (named
  by their path, ``"optimizer/_value[1]/lr"``); ``randint`` is ``suggest_int(lower, upper - 1)``;
  ``uniform``/``loguniform`` are ``suggest_float`` (log for the latter); the ``q`` types are
  suggested continuous and then rounded exactly as ``hyperband.RandomSampler`` rounds them;
  the normal families are suggested as their quantile ``u`` in ``(0, 1)``, so that a uniform
  ``u`` is the prior.
- ConfigSpace spaces: floats and integers with their bounds and ``log``; categoricals with their
  choices (indices when a choice is not a plain scalar); ordinals as the index of their value
  (``suggest_int``, so their order is kept); constants are not suggested. A conditional
  hyperparameter is suggested only when ConfigSpace's condition holds for the values suggested
  before it; a forbidden configuration is asked again (up to 20 times, then drawn at random).
  Optuna has no priors: normal, beta and weighted hyperparameters are searched over their
  bounds and choices.

Pending configurations (jobs running now) are running trials: TPE's ``constant_liar`` (on in
the default sampler) treats them as bad, so concurrent draws spread out.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import logging
import math
import numbers
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

import numpy as np

from hyperband.core.configspace import (
    CATEGORICAL,
    CONSTANT,
    FLOAT,
    INT,
    CSSpace,
    is_configspace_like,
)
from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.sampling import (
    _copy_json,
    _finisher,
    check_observe_args,
    check_pending,
    check_sample_args,
    shown_names,
)
from hyperband.core.space import validate_space
from hyperband.samplers.kde.encoding import _choice_key
from hyperband.samplers.kde.kernels import _norm_cdf, _norm_ppf

__all__ = ["SAMPLER_NAMES", "OptunaSampler"]

Number = int | float

SAMPLER_NAMES: Final = ("tpe", "random", "qmc", "cmaes", "gp")
"""The Optuna samplers ``OptunaSampler`` builds by name (each seeded per draw)."""

# The normal families are suggested as a quantile u in [_U, 1 - _U]: z stays within ~7 sigma.
_U: Final = 1e-12
_FORBIDDEN_TRIES: Final = 20
_STUDY: Final = "hyperband"
# Samplers whose draws depend only on a study's finished and running trials, so that one study
# per budget can be kept (the failed trials earlier draws leave behind change nothing).
_KEPT: Final = ("tpe", "random", "qmc")
_KEPT_CLASSES: Final = ("TPESampler", "RandomSampler", "QMCSampler")
# Named samplers whose kept study keeps its sampler too, seeded for each draw (``_seed_as_new``).
_RESEEDED: Final = ("tpe", "random")


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ConfigurationError(
            "OptunaSampler needs Optuna: pip install 'hyperband[optuna]'"
        ) from None
    return optuna


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Optuna's log lines and (experimental feature) warnings off, for one draw."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _named_sampler(optuna: Any, name: str, seed: int) -> Any:
    samplers = optuna.samplers
    if name == "tpe":
        return samplers.TPESampler(
            seed=seed,
            multivariate=True,
            group=True,
            constant_liar=True,
            warn_independent_sampling=False,
        )
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    if name == "qmc":
        # The scramble stays fixed (seed 0): one low-discrepancy sequence per study, indexed by
        # how many configurations the study has seen; random draws outside it use ``seed``.
        return samplers.QMCSampler(
            seed=0,
            independent_sampler=samplers.RandomSampler(seed=seed),
            warn_independent_sampling=False,
            warn_asynchronous_seeding=False,
        )
    if name == "cmaes":
        return samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return samplers.GPSampler(seed=seed)


def _seed_as_new(sampler: Any, seed: int) -> None:
    """Seed the random states of a named TPE or random sampler as its constructor does."""
    for state in (sampler._rng, getattr(sampler, "_random_sampler", sampler)._rng):
        state.rng.seed(seed)


def _reseed(obj: Any, rng: np.random.Generator, seen: set[int]) -> None:
    """Give every random state inside an Optuna sampler a seed drawn from ``rng``."""
    from optuna.samplers import BaseSampler
    from optuna.samplers._lazy_random_state import LazyRandomState

    if id(obj) in seen:
        return
    seen.add(id(obj))
    for name, value in list(vars(obj).items()):
        if isinstance(value, np.random.RandomState):
            setattr(obj, name, np.random.RandomState(int(rng.integers(2**32))))
        elif isinstance(value, np.random.Generator):
            setattr(obj, name, np.random.default_rng(int(rng.integers(2**63))))
        elif isinstance(value, LazyRandomState):
            value._rng = np.random.RandomState(int(rng.integers(2**32)))
        elif isinstance(value, BaseSampler):
            _reseed(value, rng, seen)


def _key(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=repr)


class OptunaSampler:
    """Any Optuna sampler as Hyperband's configuration generator (a model-based sampler).

    Args:
        space: an NNI-format search space, a ``ConfigSpace.ConfigurationSpace`` or its JSON.
        sampler: ``None`` or ``"tpe"`` (the default: ``TPESampler(multivariate=True,
            group=True, constant_liar=True)``), ``"random"``, ``"qmc"``, ``"cmaes"`` (needs
            ``cmaes``), ``"gp"`` (needs ``torch``); or an Optuna sampler object, copied on
            every draw with each of its random states reseeded from the machine's ``rng``. A
            study with a sampler object is a custom sampler for snapshots and journals: pass
            ``OptunaSampler(space, sampler)`` again to restore it.
        min_trials: the fewest finished results at a budget for it to be the one the study
            is built from (the largest such budget wins), ``>= 1``.

    Raises:
        SearchSpaceError: a malformed space.
        ConfigurationError: Optuna is not installed, an unknown sampler name, a sampler
            whose package is missing, or ``min_trials < 1``.
        ArgumentTypeError: ``sampler`` is neither a name nor an Optuna sampler.

    Examples:
        >>> import hyperband
        >>> from hyperband.integrations.optuna import OptunaSampler
        >>> space = {"x": {"_type": "uniform", "_value": [-1, 1]}}
        >>> hb = hyperband.Hyperband(OptunaSampler(space), max_budget=9, seed=0)
        >>> while not hb.done:
        ...     job = hb.ask()
        ...     _ = hb.tell(job.id, -job.config["x"] ** 2)
        >>> hb.best.budget
        9
    """

    def __init__(self, space: Any, sampler: Any = None, *, min_trials: int = 10) -> None:
        optuna = _optuna()
        self._cs: CSSpace | None = None
        if is_configspace_like(space):
            self._cs = CSSpace(space)
            self._space: dict[str, Any] = self._cs.json
        else:
            self._space = validate_space(space)
        self._min_trials = _min_trials(min_trials)
        self._name: str | None
        self._keep: bool
        self._pristine: Any = None
        if sampler is None or isinstance(sampler, str):
            name = "tpe" if sampler is None else sampler
            if name not in SAMPLER_NAMES:
                raise ConfigurationError(
                    f"OptunaSampler: sampler must be one of {', '.join(map(repr, SAMPLER_NAMES))}"
                    f" or an Optuna sampler object, got {describe(sampler)}"
                )
            needs = {"cmaes": "cmaes", "gp": "torch"}.get(name)
            if needs is not None and importlib.util.find_spec(needs) is None:
                raise ConfigurationError(
                    f"OptunaSampler: sampler {name!r} needs the package {needs!r} "
                    f"(pip install {needs})"
                )
            self._name = name
            self._keep = name in _KEPT
        elif isinstance(sampler, optuna.samplers.BaseSampler):
            self._name = None
            self._pristine = copy.deepcopy(sampler)
            self._keep = type(sampler).__name__ in _KEPT_CLASSES and type(
                sampler
            ).__module__.startswith("optuna.")
        else:
            raise ArgumentTypeError(
                "OptunaSampler: sampler must be a name or an optuna.samplers.BaseSampler, got "
                f"{describe(sampler)}"
            )
        self._dists: dict[str, Any] = {}
        self._trials: dict[float, list[Any]] = {}  # budget -> frozen trials, in observe order
        self._finished: dict[float, int] = {}  # budget -> finished (not failed) trials
        self._seen: set[str] = set()  # configurations observed (QMC's sequence index)
        self._running: dict[str, Any] = {}  # pending configurations' frozen trials, by key
        self._studies: dict[float | None, list[Any]] = {}  # budget -> [study, trials it holds]

    # ------------------------------------------------------------------ public API

    @property
    def space(self) -> dict[str, Any]:
        """The validated search space (a fresh copy); ConfigSpace's JSON for a ConfigSpace one."""
        if self._cs is not None:
            return self._cs.space
        return validate_space(self._space)

    @property
    def options(self) -> dict[str, Any] | None:
        """The constructor's keyword arguments; ``None`` around an Optuna sampler object."""
        if self._name is None:
            return None
        return {"sampler": self._name, "min_trials": self._min_trials}

    @property
    def model_budget(self) -> Number | None:
        """The budget whose results the next study is built from, or None."""
        b = self._budget()
        if b is None:
            return None
        return int(b) if b.is_integer() else b

    def observe(self, config: Mapping[str, Any], budget: Number, loss: float | None) -> None:
        """Record one result: ``config`` at ``budget`` had ``loss`` (lower is better, None:
        failed). Values the space cannot hold are left out of the trial.

        Raises:
            ArgumentTypeError: ``config`` is not a dict, or ``budget``/``loss`` not numbers.
            ConfigurationError: ``budget`` is not positive and finite, or ``loss`` not finite.
        """
        b, value = check_observe_args(config, budget, loss, "OptunaSampler.observe")
        optuna = _optuna()
        state = optuna.trial.TrialState
        params = self._params(config)
        with _quiet():
            trial = optuna.trial.create_trial(
                params=params,
                distributions={name: self._dists[name] for name in params},
                value=value,
                state=state.COMPLETE if value is not None else state.FAIL,
            )
        self._trials.setdefault(b, []).append(trial)
        if value is not None:
            self._finished[b] = self._finished.get(b, 0) + 1
        self._seen.add(_key(config))

    def sample(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        pending: Sequence[tuple[Mapping[str, Any], Number]] = (),
    ) -> list[dict[str, Any]]:
        """Draw ``n`` configurations (each asked of a fresh study; see the module docs).

        Raises:
            ArgumentTypeError: ``rng`` is not a ``numpy.random.Generator``, ``n`` not an int,
                or ``pending`` not a sequence of ``(config, budget)`` pairs.
            ConfigurationError: ``n`` is negative.
        """
        n = check_sample_args(rng, n, "OptunaSampler.sample")
        running = check_pending(pending, "OptunaSampler.sample")
        out: list[dict[str, Any]] = []
        for _ in range(n):
            config = self._draw(rng, running)
            out.append(config)
            running.append(config)
        return out

    def __repr__(self) -> str:
        names = self._cs.names if self._cs is not None else list(self._space)
        which = self._name or type(self._pristine).__name__
        n = sum(len(t) for t in self._trials.values())
        return f"OptunaSampler({shown_names(names)}; {which}, {n} observations)"

    # ------------------------------------------------------------------ drawing

    def _budget(self) -> float | None:
        enough = [b for b, k in self._finished.items() if k >= self._min_trials]
        if enough:
            return max(enough)
        if not self._finished:
            return None
        return max(self._finished, key=lambda b: (self._finished[b], b))

    def _fresh(self, optuna: Any, rng: np.random.Generator, seen: int) -> Any:
        if self._name is not None:
            sampler = _named_sampler(optuna, self._name, int(rng.integers(2**32)))
        else:
            sampler = copy.deepcopy(self._pristine)
            _reseed(sampler, rng, set())
        if isinstance(sampler, optuna.samplers.QMCSampler):
            # Its index in the sequence is normally a counter in the study; here the number
            # of configurations seen (observed or running), which replays.
            sampler._find_sample_id = lambda study, search_space: seen
        return sampler

    def _draw(self, rng: np.random.Generator, running: list[Mapping[str, Any]]) -> dict[str, Any]:
        optuna = _optuna()
        keys = [_key(c) for c in running]
        seen = len(self._seen) + sum(k not in self._seen for k in set(keys))
        failed = optuna.trial.TrialState.FAIL
        with _quiet():
            study, held = self._study(optuna, rng, seen)
            storage, sid = study._storage, study._study_id
            templates = [
                self._running_trial(optuna, k, c) for k, c in zip(keys, running, strict=True)
            ]
            # A kept study is put back as the observations alone make it after the draw; it
            # could be by failing what the draw added, but then every later draw would wade
            # through the failed trials of all the earlier ones (nine per draw with eight
            # pending), and each running trial would be a deep copy.
            scratch = _Scratch.of(storage, sid) if self._keep else None
            if scratch is not None:
                scratch.add(templates)
                lies: list[int] = []
            else:
                lies = [storage.create_new_trial(sid, template_trial=t) for t in templates]
            try:
                for _ in range(_FORBIDDEN_TRIES):
                    trial = study.ask()
                    config = self._suggest(trial)
                    # Failed trials are invisible to Optuna's samplers: the study is again
                    # what the observations alone make it, whatever was drawn before.
                    study.tell(trial, state=failed)
                    if config is not None:
                        return config
            finally:
                if scratch is not None:
                    scratch.truncate(held)
                for trial_id in lies:
                    storage.set_trial_state_values(trial_id, state=failed)
        assert self._cs is not None  # only ConfigSpace spaces forbid configurations
        (config,) = self._cs.draw(rng, 1)
        return config

    def _study(self, optuna: Any, rng: np.random.Generator, seen: int) -> tuple[Any, int]:
        """The study of the results that count now (see the module docs), brought up to date
        and with its sampler seeded from ``rng``, and how many trials it holds: one study per
        budget, kept, each observation added once, for the samplers known to ignore failed
        trials (TPE, random, QMC); a fresh study each draw for the others (CMA-ES keeps state
        in its trials)."""
        b = self._budget()
        entry = self._studies.get(b) if self._keep else None
        if entry is not None and self._name in _RESEEDED:
            # A kept study's sampler, seeded as a new one is: a new TPE costs more to build
            # (its random states) than to seed, and holds nothing else a draw changes.
            _seed_as_new(entry[0].sampler, int(rng.integers(2**32)))
        else:
            sampler = self._fresh(optuna, rng, seen)
            if entry is None:
                study = optuna.create_study(
                    storage=optuna.storages.InMemoryStorage(),
                    sampler=sampler,
                    direction="minimize",
                    study_name=_STUDY,
                )
                entry = self._studies[b] = [study, 0]
            entry[0].sampler = sampler
        study, held = entry
        trials = self._trials.get(b, []) if b is not None else []
        if held < len(trials):
            study.add_trials(trials[held:])
            entry[1] = len(trials)
        return study, entry[1]

    def _running_trial(self, optuna: Any, key: str, config: Mapping[str, Any]) -> Any:
        """The running trial of ``config`` (whose ``_key`` is ``key``), made once."""
        trial = self._running.get(key)
        if trial is None:
            params = self._params(config)
            trial = self._running[key] = optuna.trial.create_trial(
                params=params,
                distributions={name: self._dists[name] for name in params},
                state=optuna.trial.TrialState.RUNNING,
            )
        return trial

    def _suggest(self, trial: Any) -> dict[str, Any] | None:
        if self._cs is None:
            return _suggest_block(trial, self._space, "")
        return _suggest_cs(trial, self._cs)

    # ------------------------------------------------------------------ encoding

    def _params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` as Optuna parameters (and their distributions, kept in ``_dists``)."""
        from optuna import distributions as d

        params: dict[str, Any] = {}
        if self._cs is not None:
            for hp in self._cs.hps:
                if hp.name in config and hp.kind != CONSTANT:
                    dist, value = _cs_param(d, hp, config[hp.name])
                    if value is not None:
                        params[hp.name] = value
                        self._dists[hp.name] = dist
        else:
            _encode_block(d, self._space, config, "", params, self._dists)
        return params


class _Scratch:
    """An in-memory Optuna study's trials, changed directly: a draw's running trials added
    without a deep copy, and everything after the observations dropped when it is over.

    Optuna has no API for either: this reaches into ``InMemoryStorage`` (``optuna==5.0.0``,
    the pinned version), and ``of`` answers None, for the public and slower way, when the
    storage is not as this class knows it. ``tests/test_optuna_sampler.py`` checks that it
    still takes effect.
    """

    __slots__ = ("index", "storage", "study_id", "trials")

    def __init__(self, storage: Any, study_id: int, trials: list[Any], index: dict[int, Any]):
        self.storage = storage
        self.study_id = study_id
        self.trials = trials
        self.index = index

    @classmethod
    def of(cls, storage: Any, study_id: int) -> _Scratch | None:
        from optuna.storages import InMemoryStorage

        if type(storage) is not InMemoryStorage:
            return None
        studies = getattr(storage, "_studies", None)
        index = getattr(storage, "_trial_id_to_study_id_and_number", None)
        info = studies.get(study_id) if isinstance(studies, dict) else None
        trials = getattr(info, "trials", None)
        if not (
            isinstance(trials, list)
            and isinstance(index, dict)
            and isinstance(getattr(storage, "_max_trial_id", None), int)
            and isinstance(getattr(storage, "_prev_waiting_trial_number", None), dict)
        ):
            return None
        return cls(storage, study_id, trials, index)

    def add(self, running: Sequence[Any]) -> None:
        """Add shallow copies of ``running`` (RUNNING trials, which nothing changes before
        `truncate` drops them), numbered as ``create_new_trial`` numbers them."""
        storage = self.storage
        with storage._lock:
            for template in running:
                trial = copy.copy(template)
                storage._max_trial_id += 1
                trial.number = len(self.trials)
                trial._trial_id = storage._max_trial_id
                self.index[trial._trial_id] = (self.study_id, trial.number)
                self.trials.append(trial)

    def truncate(self, n: int) -> None:
        """Drop the trials numbered ``n`` and above."""
        storage = self.storage
        with storage._lock:
            for trial in self.trials[n:]:
                del self.index[trial._trial_id]
            del self.trials[n:]
            waiting = storage._prev_waiting_trial_number
            waiting[self.study_id] = min(waiting.get(self.study_id, 0), n)


def _min_trials(value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"OptunaSampler: min_trials must be an int, got {describe(value)}")
    if int(value) < 1:
        raise ConfigurationError(f"OptunaSampler: min_trials must be >= 1, got {describe(value)}")
    return int(value)


# ---------------------------------------------------------------------- NNI spaces


def _path(prefix: str, name: str) -> str:
    return f"{prefix}{name}"


def _suggest_block(trial: Any, params: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, spec in params.items():
        path = _path(prefix, name)
        kind, value = spec["_type"], spec["_value"]
        if kind == "choice":
            i = trial.suggest_categorical(path, list(range(len(value))))
            option = value[i]
            if isinstance(option, dict) and "_name" in option:
                subs = {k: v for k, v in option.items() if k != "_name"}
                config[name] = {
                    "_name": option["_name"],
                    **_suggest_block(trial, subs, f"{path}/_value[{i}]/"),
                }
            else:
                config[name] = _copy_json(option)
        elif kind == "randint":
            config[name] = int(trial.suggest_int(path, int(value[0]), int(value[1]) - 1))
        else:
            x = _suggest_continuous(trial, path, kind, value)
            config[name] = _finisher(kind, value)(np.array([x]))[0]
    return config


def _suggest_continuous(trial: Any, path: str, kind: str, value: list[Any]) -> float:
    a, b = float(value[0]), float(value[1])
    if kind in ("uniform", "quniform"):
        return float(trial.suggest_float(path, a, b))
    if kind in ("loguniform", "qloguniform"):
        return float(trial.suggest_float(path, a, b, log=True))
    u = float(trial.suggest_float(path, _U, 1.0 - _U))
    z = a + b * float(_norm_ppf(np.array([u]))[0])
    return math.exp(z) if kind in ("lognormal", "qlognormal") else z


def _nni_dist(d: Any, kind: str, value: list[Any]) -> Any:
    if kind == "choice":
        return d.CategoricalDistribution(list(range(len(value))))
    if kind == "randint":
        return d.IntDistribution(int(value[0]), int(value[1]) - 1)
    if kind in ("uniform", "quniform"):
        return d.FloatDistribution(float(value[0]), float(value[1]))
    if kind in ("loguniform", "qloguniform"):
        return d.FloatDistribution(float(value[0]), float(value[1]), log=True)
    return d.FloatDistribution(_U, 1.0 - _U)


def _nni_param(kind: str, value: list[Any], x: Any) -> Any:
    """The Optuna value of ``x``, or None when the parameter cannot hold it."""
    if kind == "choice":
        key = _choice_key(x)
        for i, option in enumerate(value):
            if key is not None and _choice_key(option) == key:
                return i
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        return None
    v = float(x)
    if not math.isfinite(v):
        return None
    a, b = float(value[0]), float(value[1])
    if kind == "randint":
        return int(min(max(math.floor(v), a), b - 1))
    if kind in ("uniform", "quniform", "loguniform", "qloguniform"):
        return min(max(v, a), b)
    if kind in ("lognormal", "qlognormal"):
        if v <= 0:
            return _U
        v = math.log(v)
    u = float(_norm_cdf(np.array([(v - a) / b]))[0])
    return min(max(u, _U), 1.0 - _U)


def _encode_block(
    d: Any,
    params: Mapping[str, Any],
    config: Mapping[str, Any],
    prefix: str,
    out: dict[str, Any],
    dists: dict[str, Any],
) -> None:
    for name, spec in params.items():
        if name not in config:
            continue
        path = _path(prefix, name)
        kind, value = spec["_type"], spec["_value"]
        x = _nni_param(kind, value, config[name])
        if x is None:
            continue
        out[path] = x
        dists[path] = _nni_dist(d, kind, value)
        option = value[x] if kind == "choice" else None
        if isinstance(option, dict) and "_name" in option and isinstance(config[name], Mapping):
            subs = {k: v for k, v in option.items() if k != "_name"}
            _encode_block(d, subs, config[name], f"{path}/_value[{x}]/", out, dists)


# ---------------------------------------------------------------------- ConfigSpace spaces


def _scalar_choices(options: tuple[Any, ...]) -> bool:
    return all(o is None or isinstance(o, (bool, int, float, str)) for o in options)


def _cs_dist(d: Any, hp: Any) -> Any:
    if hp.kind == FLOAT:
        return d.FloatDistribution(hp.lower, hp.upper, log=hp.log)
    if hp.kind == INT:
        return d.IntDistribution(int(hp.lower), int(hp.upper), log=hp.log)
    if hp.kind == CATEGORICAL and _scalar_choices(hp.options):
        return d.CategoricalDistribution(list(hp.options))
    if hp.kind == CATEGORICAL:
        return d.CategoricalDistribution(list(range(hp.levels)))
    return d.IntDistribution(0, hp.levels - 1)  # an ordinal: its values' indices


def _cs_param(d: Any, hp: Any, x: Any) -> tuple[Any, Any]:
    dist = _cs_dist(d, hp)
    u = hp.unit_of(x)
    if math.isnan(u):
        return dist, None
    if hp.kind == FLOAT:
        return dist, min(max(float(x), hp.lower), hp.upper)
    if hp.kind == INT:
        return dist, int(x)
    if hp.kind == CATEGORICAL and _scalar_choices(hp.options):
        return dist, hp.options[int(u)]
    return dist, int(u)


def _suggest_cs(trial: Any, space: CSSpace) -> dict[str, Any] | None:
    n = len(space)
    vectors = np.full((n, 1), np.nan)
    groups = {int(i): conditions for children, conditions in space.conditional for i in children}
    values: list[list[Any]] = [[None] for _ in range(n)]
    for hp in space.hps:
        conditions = groups.get(hp.index, ())
        # Parents come first: the values suggested so far settle this one's conditions.
        if not all(bool(c.satisfied_by_vector_array(vectors)[0]) for c in conditions):
            continue
        if hp.kind == CONSTANT:
            value = hp.options[0]
        elif hp.kind == FLOAT:
            x = trial.suggest_float(hp.name, hp.lower, hp.upper, log=hp.log)
            value = hp.plain_floats(np.array([float(x)]))[0]
        elif hp.kind == INT:
            value = int(trial.suggest_int(hp.name, int(hp.lower), int(hp.upper), log=hp.log))
        elif hp.kind == CATEGORICAL and _scalar_choices(hp.options):
            value = trial.suggest_categorical(hp.name, list(hp.options))
        elif hp.kind == CATEGORICAL:
            value = hp.options[trial.suggest_categorical(hp.name, list(range(hp.levels)))]
        else:
            value = hp.options[trial.suggest_int(hp.name, 0, hp.levels - 1)]
        values[hp.index] = [value]
        vectors[hp.index, 0] = hp.vectors_of_values([value])[0]
    if not space.settle(vectors)[0]:
        return None
    return space.configs(values, vectors, [0])[0]
