"""BOHB's configuration generator: kernel density estimates of good and bad configurations.

``KDESampler`` is the model of Falkner, Klein and Hutter, "BOHB: Robust and Efficient
Hyperparameter Optimization at Scale" (ICML 2018), written for numpy alone and for the
model-based sampler protocol of ``ModelSampler``.

How a configuration becomes a vector. Every parameter of the space, sub-parameters of nested
``choice`` options included, is one *dimension*:

- ``uniform``/``quniform``, ``loguniform``/``qloguniform`` (in log space) and ``randint`` map
  onto ``[0, 1]`` (an integer ``i`` owns the cell ``[(i - lower) / span, (i - lower + 1) /
  span)``, stored at its centre); their kernel is a Gaussian truncated to ``[0, 1]``.
- ``normal``/``qnormal`` and ``lognormal``/``qlognormal`` (in log space) map to
  ``z = (x - mu) / sigma``, the prior's own scale, clipped to ``[-10, 10]``; their kernel is a
  plain Gaussian.
- ``choice`` is categorical (the Aitchison-Aitken kernel), or ordinal when its options are all
  numbers (the Wang-van Ryzin kernel over the options sorted by value). A choice with a single
  option, and a ``randint`` with a single value, are constants: not modelled.

A sub-parameter of a nested option is *active* when its option is chosen; otherwise its entry
is NaN. The densities are defined over active dimensions only: a kernel centred on an
observation multiplies, over the dimensions active in the point evaluated, either the
dimension's kernel (when the observation has that dimension active too) or the dimension's
prior density (when it does not: the observation says nothing about it). Each kernel is then a
proper density over the tree-shaped space, no value is ever imputed, and an inactive dimension
never pulls the model anywhere. Sampling a candidate follows the same rule: a dimension the
chosen centre lacks is drawn from its prior.

The log kernel of every continuous or small discrete dimension is an inner product of a few
features of the point with a few features of the centre, so the log densities of all candidates
at all centres are one matrix product (plus a log-sum-exp); the features of the observations are
computed once per model and cached until an observation changes the model.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from hyperband.core.configspace import CATEGORICAL, CONSTANT, ORDINAL, CSSpace, is_configspace_like
from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.sampling import (
    _Block,
    _copy_json,
    _finisher,
    as_real,
    check_observe_args,
    check_pending,
    check_sample_args,
    shown_names,
)
from hyperband.core.space import validate_space

__all__ = ["KDESampler"]

FloatArray = npt.NDArray[np.float64]
Number = int | float

# Dimension families.
_UNIT: Final = 0  # continuous on [0, 1]: truncated Gaussian kernel
_REAL: Final = 1  # continuous on the prior's z scale: Gaussian kernel
_CAT: Final = 2  # unordered options: Aitchison-Aitken kernel
_ORD: Final = 3  # numbers in order: Wang-van Ryzin kernel
_CONST: Final = 4  # one possible value: not modelled

# z of the normal families is clipped here: the validator guarantees that mu + 10 sigma (and its
# exp for the lognormal types) is a finite float, so a decoded value never overflows.
_Z_MAX: Final = 10.0
# Discrete dimensions with at most this many options get one feature column per option (a
# matrix product); larger ones are compared directly, so memory stays linear in the options.
_MAX_ONEHOT: Final = 64
_LOG_2PI: Final = math.log(2.0 * math.pi)
_SQRT2: Final = math.sqrt(2.0)
# Pending configurations ("liars") get the good density's continuous bandwidths times this.
_LIAR_SHRINK: Final = 0.5
# The normal-reference rule: h = 1.06 sd n^(-1/(4+d)) (Silverman; statsmodels' default).
_NORMAL_REFERENCE: Final = 1.06

_FAILURES: Final = ("bad", "ignore")
_PENDING: Final = ("bad", "ignore")

_DEFAULTS: Final[dict[str, Any]] = {
    "top_fraction": 0.15,
    "n_candidates": 24,
    "bandwidth_factor": 3.0,
    "min_bandwidth": 1e-3,
    "random_fraction": 0.2,
    "min_points": None,
    "failures": "bad",
    "pending": "bad",
}


class KDESampler:
    """BOHB's model-based sampler: draws where good configurations are dense and bad ones are not.

    Per budget it keeps the observations ``(config, loss)`` it is told (lower loss is better). To
    draw a configuration it takes the largest budget that has enough observations, splits them
    by loss into *good* (the best ``top_fraction``, at least ``min_points``) and *bad* (the rest,
    at least ``min_points``), and fits a kernel density estimate to each. It draws
    ``n_candidates`` candidates from the good density with every continuous bandwidth multiplied
    by ``bandwidth_factor`` and returns the one with the largest ratio good density / bad
    density. A ``random_fraction`` of the configurations, and every configuration while no
    budget has enough observations, is drawn at random exactly as
    [`RandomSampler`][hyperband.RandomSampler] draws (the paper's guarantee that the search
    never stops exploring).

    Bandwidths follow the normal-reference rule ``1.06 sd n^(-1/(4+d))`` per dimension (the
    rule statsmodels' ``KDEMultivariate`` applies by default, which BOHB uses), computed over
    the observations where the dimension is active, floored at ``min_bandwidth``. For a
    categorical dimension ``sd`` is ``sqrt(sum p_k (1 - p_k) / 2)`` over the options'
    frequencies (statsmodels' value for two options, and independent of the options' order for
    more), capped at ``(c - 1) / c`` (a uniform kernel); for an ordinal one ``sd`` is that of
    the options' ranks, capped at 1. See the module documentation for how each parameter type
    is encoded and how the sub-parameters of nested choices (conditional parameters) are
    handled: kernels over active dimensions only, no imputation.

    The defaults are BOHB's except two, chosen by measurement (``benchmarks/bench_kde.py``;
    the samplers page has the tables): 24 candidates instead of 64 and a random fraction of
    0.2 instead of 1/3: a model draw is the best of fewer candidates by the density ratio, so
    less greedy, and more draws come from the model. BOHB's own values are
    ``n_candidates=64, random_fraction=1/3``.

    Pending configurations (``sample(..., pending=...)``, jobs running now) are "liars" with
    ``pending="bad"``: each joins the bad density as an extra centre with the good density's
    bandwidths (continuous ones halved), so that configurations drawn while others run do not
    nearly duplicate them. Configurations drawn by one ``sample(rng, n)`` call are pending for
    the rest of that call. Failed jobs (``loss=None``) are observations with an
    infinite loss with ``failures="bad"`` (as HpBandSter does), or are dropped with
    ``"ignore"``.

    Determinism: what [`sample`][hyperband.KDESampler.sample] returns depends only on ``rng``,
    ``n``, ``pending`` and the sequence of [`observe`][hyperband.KDESampler.observe] calls made
    before it, so a fresh sampler fed the same calls draws the same configurations. Memory
    grows linearly with the observations.

    Args:
        space: an NNI-format search space; it is validated (see ``validate_space``) and copied.
        top_fraction: the share of a budget's observations that are *good*, in ``(0, 1)``.
        n_candidates: how many candidates each model-based draw scores, ``>= 1``.
        bandwidth_factor: widens the continuous kernels candidates are drawn from, in
            ``(0, 100]``.
        min_bandwidth: the smallest bandwidth of any dimension, in ``[1e-6, 1)`` (in units of
            ``[0, 1]`` for bounded types, of the prior's sigma for the normal families, of the
            kernel's own parameter for choices). Below 1e-6 the log kernels, computed as one
            matrix product, would lose their precision.
        random_fraction: the share of configurations drawn at random, in ``[0, 1]``.
        min_points: the fewest observations in each of the good and bad densities; a budget
            gets a model once both have that many. ``None`` means ``d + 1``, with ``d`` the
            number of modelled dimensions (BOHB's default), so a model needs ``2 (d + 1)``
            observations at one budget.
        failures: ``"bad"`` (a failure is the worst observation) or ``"ignore"``.
        pending: ``"bad"`` (pending configurations are bad observations) or ``"ignore"``.

    Raises:
        SearchSpaceError: when ``space`` is malformed.
        ConfigurationError: an option is out of range or not one of its allowed values.
        ArgumentTypeError: an option has the wrong type.

    Examples:
        >>> import numpy as np
        >>> sampler = KDESampler({"x": {"_type": "uniform", "_value": [0, 1]}}, min_points=3)
        >>> rng = np.random.default_rng(0)
        >>> for config in sampler.sample(rng, 20):
        ...     sampler.observe(config, 1, (config["x"] - 0.2) ** 2)
        >>> sampler.model_budget
        1
        >>> draws = [sampler.sample(rng, 1)[0]["x"] for _ in range(30)]
        >>> sum(abs(x - 0.2) < 0.1 for x in draws) > 15
        True
    """

    __slots__ = (
        "_cs",
        "_d",
        "_layout",
        "_model",
        "_model_budget",
        "_needed",
        "_opts",
        "_params",
        "_random",
        "_space",
        "_stores",
    )

    def __init__(
        self,
        space: Mapping[str, Any],
        *,
        top_fraction: float = 0.15,
        n_candidates: int = 24,
        bandwidth_factor: float = 3.0,
        min_bandwidth: float = 1e-3,
        random_fraction: float = 0.2,
        min_points: int | None = None,
        failures: str = "bad",
        pending: str = "bad",
    ) -> None:
        opts: dict[str, Any] = {
            "top_fraction": _real_option("top_fraction", top_fraction, 0.0, 1.0, "0 < x < 1"),
            "n_candidates": _int_option("n_candidates", n_candidates, 1),
            "bandwidth_factor": _real_option(
                "bandwidth_factor", bandwidth_factor, 0.0, 100.0, "0 < x <= 100", high_closed=True
            ),
            "min_bandwidth": _real_option(
                "min_bandwidth", min_bandwidth, 1e-6, 1.0, "1e-6 <= x < 1", low_closed=True
            ),
            "random_fraction": _real_option(
                "random_fraction",
                random_fraction,
                0.0,
                1.0,
                "0 <= x <= 1",
                low_closed=True,
                high_closed=True,
            ),
            "min_points": None if min_points is None else _int_option("min_points", min_points, 1),
            "failures": _word_option("failures", failures, _FAILURES),
            "pending": _word_option("pending", pending, _PENDING),
        }
        self._opts = opts
        dims: list[Any] = []
        self._cs: CSSpace | None = None
        if is_configspace_like(space):
            self._cs = CSSpace(space)
            self._space = self._cs.json
            self._params: list[_Param] = []
            dims.extend(_cs_dim(hp) for hp in self._cs.hps)
        else:
            self._space = validate_space(space)
            self._params = _compile(self._space, dims, -1, -1)
        # The uniform draws, exactly RandomSampler's (the space compiled once, not again).
        self._random: _Block | CSSpace = (
            self._cs if self._cs is not None else _Block.compile(self._space)
        )
        self._layout = _Layout(dims)
        self._d = self._layout.d
        mp = self._d + 1 if opts["min_points"] is None else opts["min_points"]
        self._needed = _needed(mp, opts["top_fraction"])
        self._stores: dict[float, _Store] = {}
        self._model_budget: float | None = None
        self._model: _Model | None = None

    # ------------------------------------------------------------------ public API

    @property
    def space(self) -> dict[str, Any]:
        """The validated search space (a fresh copy on every access); ConfigSpace's JSON for a
        ConfigSpace space."""
        if self._cs is not None:
            return self._cs.space
        return validate_space(self._space)

    @property
    def options(self) -> dict[str, Any]:
        """The constructor's keyword arguments: ``KDESampler(s.space, **s.options)`` is a copy."""
        return dict(self._opts)

    @property
    def min_points(self) -> int:
        """The fewest observations in each density (``d + 1`` unless given)."""
        mp = self._opts["min_points"]
        return self._d + 1 if mp is None else int(mp)

    @property
    def model_budget(self) -> Number | None:
        """The budget the model is fitted on (the largest with enough observations), or None."""
        b = self._model_budget
        if b is None or self._d == 0:
            return None
        return int(b) if b.is_integer() else b

    @property
    def n_observations(self) -> int:
        """How many observations are kept (failures too, unless ``failures="ignore"``)."""
        return sum(store.n for store in self._stores.values())

    def observe(self, config: Mapping[str, Any], budget: Number, loss: float | None) -> None:
        """Record one result: ``config`` evaluated at ``budget`` had ``loss`` (lower is better).

        Values of ``config`` that the space cannot hold (an unknown option, a wrong type) are
        treated like an inactive parameter: the observation says nothing about that dimension.

        Args:
            config: the configuration, as [`sample`][hyperband.KDESampler.sample] returned it.
            budget: the budget it was evaluated at, a positive number.
            loss: its loss, a finite number; ``None`` for a failed job.

        Raises:
            ArgumentTypeError: ``config`` is not a dict, or ``budget``/``loss`` not numbers.
            ConfigurationError: ``budget`` is not positive and finite, or ``loss`` not finite.
        """
        b, lv = check_observe_args(config, budget, loss, "KDESampler.observe")
        if lv is None:
            if self._opts["failures"] == "ignore":
                return
            lv = math.inf
        row = self._encode(config)
        store = self._stores.get(b)
        if store is None:
            store = self._stores[b] = _Store(self._layout.n_dims)
        store.add(row, lv)
        if store.n >= self._needed and (self._model_budget is None or b > self._model_budget):
            self._model_budget = b

    def sample(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        pending: Sequence[tuple[Mapping[str, Any], Number]] = (),
    ) -> list[dict[str, Any]]:
        """Draw ``n`` configurations.

        Args:
            rng: the only source of randomness.
            n: how many configurations, ``>= 0``.
            pending: ``(config, budget)`` pairs of the jobs running now.

        Returns:
            ``n`` new dicts, shaped exactly as [`RandomSampler`][hyperband.RandomSampler] shapes
            them.

        Raises:
            ArgumentTypeError: ``rng`` is not a ``numpy.random.Generator``, ``n`` not an int,
                or ``pending`` not a sequence of ``(dict, budget)`` pairs.
            ConfigurationError: ``n`` is negative.
        """
        n = check_sample_args(rng, n, "KDESampler.sample")
        running = check_pending(pending, "KDESampler.sample")
        if n == 0:
            return []
        model = self._current_model()
        if model is None:
            return self._random.draw(rng, n)
        lie = self._opts["pending"] == "bad"
        liars = [self._encode(config) for config in running] if lie else []
        out: list[dict[str, Any]] = []
        for i in range(n):
            if rng.random() < self._opts["random_fraction"]:
                (config,) = self._random.draw(rng, 1)
                row = self._encode(config) if lie and i + 1 < n else None
            else:
                proposed = self._propose(rng, model, liars)
                if proposed is None:  # every candidate forbidden: a random, allowed draw
                    (config,) = self._random.draw(rng, 1)
                    row = self._encode(config)
                else:
                    config, row = proposed
            out.append(config)
            if lie and i + 1 < n and row is not None:
                liars.append(row)
        return out

    def __repr__(self) -> str:
        shown = shown_names(self._random.names)
        changed = [f"{k}={v!r}" for k, v in self._opts.items() if v != _DEFAULTS[k]]
        mb = self.model_budget
        state = f"{self.n_observations} observations, " + (
            "no model yet" if mb is None else f"model at budget {mb}"
        )
        return f"KDESampler({', '.join([shown, *changed])}; {state})"

    # ------------------------------------------------------------------ the model

    def _current_model(self) -> _Model | None:
        b = self._model_budget
        if b is None or self._d == 0:
            return None
        store = self._stores[b]
        model = self._model
        if model is None or model.budget != b or model.n != store.n:
            model = self._model = self._fit(b, store)
        return model

    def _fit(self, budget: float, store: _Store) -> _Model:
        n = store.n
        codes, losses = store.codes[:n], store.losses[:n]
        order = np.argsort(losses, kind="stable")
        n_good = _n_good(n, self.min_points, self._opts["top_fraction"])
        good = self._density(codes[order[:n_good]])
        bad = self._density(codes[order[n_good:]])
        return _Model(budget, n, good, bad)

    def _density(self, data: FloatArray) -> _Density:
        lay = self._layout
        bw = lay.bandwidths(data, self._opts["min_bandwidth"])
        return _Density(data, bw, lay.features_of_centres(data, bw))

    def _propose(
        self, rng: np.random.Generator, model: _Model, liars: list[FloatArray]
    ) -> tuple[dict[str, Any], FloatArray] | None:
        lay = self._layout
        codes = lay.candidates(
            rng, model.good, self._opts["n_candidates"], self._opts["bandwidth_factor"]
        )
        decoded: list[dict[str, Any]] | None = None
        allowed = None
        if self._cs is not None:
            # ConfigSpace's conditions settle which entries are active, its forbidden clauses
            # which candidates may be proposed at all.
            decoded, allowed = self._cs.decode(codes)
            if not allowed.any():
                return None
        f = lay.features_of_points(codes)
        log_good = _log_mean_exp(lay.log_kernels(f, codes, model.good))
        log_bad = _log_mean_exp(lay.log_kernels(f, codes, model.bad))
        if liars:
            # The liars join the bad density as extra centres, weighted like its own, with
            # half the good density's continuous bandwidths (its discrete ones as they are): a
            # liar then marks as taken only what would nearly duplicate it. Wider liars (the
            # good or bad density's own bandwidths) outweigh a small bad density and drag
            # every draw away from the good region: see benchmarks/bench_kde.py.
            data = np.array(liars)
            bw = model.good.bw.copy()
            bw[lay.cont] = np.maximum(_LIAR_SHRINK * bw[lay.cont], self._opts["min_bandwidth"])
            extra = _Density(data, bw, lay.features_of_centres(data, bw))
            log_liars = _log_mean_exp(lay.log_kernels(f, codes, extra))
            n_bad, n_liars = model.bad.data.shape[0], data.shape[0]
            log_bad = np.logaddexp(
                log_bad + math.log(n_bad), log_liars + math.log(n_liars)
            ) - math.log(n_bad + n_liars)
        score = log_good - log_bad
        if allowed is not None:
            score = np.where(allowed, score, -np.inf)
        best = int(np.argmax(score))
        row = codes[best]
        if decoded is not None:
            return decoded[best], row
        return self._decode(row), row

    # ------------------------------------------------------------------ encoding

    def _encode(self, config: Mapping[str, Any]) -> FloatArray:
        if self._cs is not None:
            return self._cs.encode(config)
        row = np.full(self._layout.n_dims, np.nan)
        _encode_block(self._params, config, row)
        return row

    def _decode(self, row: FloatArray) -> dict[str, Any]:
        return _decode_block(self._params, row.tolist())


# ---------------------------------------------------------------------- the space as dimensions


class _Dim:
    """One dimension: a parameter of the space or of a nested option."""

    __slots__ = (
        "family",
        "finish",
        "key_to_code",
        "kind",
        "levels",
        "option",
        "options",
        "parent",
        "prior_sd",
        "value",
    )

    def __init__(self, kind: str, value: list[Any], parent: int, option: int) -> None:
        self.kind = kind
        self.value = value
        self.parent = parent  # the choice dimension this one hangs under, -1 at the top
        self.option = option  # the code of the parent's option that activates it
        self.levels = 1
        self.options: list[Any] = []  # choice: the options in code order
        self.key_to_code: dict[Any, int] = {}
        self.finish: Any = None
        if kind == "choice":
            self.levels = len(value)
            numeric = all(_is_number(option) for option in value)
            if self.levels == 1:
                self.family = _CONST
                order = [0]
            elif numeric:
                self.family = _ORD
                order = sorted(range(self.levels), key=lambda i: (float(value[i]), i))
            else:
                self.family = _CAT
                order = list(range(self.levels))
            self.options = [value[i] for i in order]
            for code, option in enumerate(self.options):
                self.key_to_code.setdefault(_choice_key(option), code)
            self.prior_sd = (
                math.sqrt((self.levels**2 - 1) / 12.0)
                if self.family == _ORD
                else math.sqrt((1.0 - 1.0 / self.levels) / 2.0)
            )
        elif kind == "randint":
            self.levels = int(value[1]) - int(value[0])
            self.family = _CONST if self.levels == 1 else _UNIT
            self.prior_sd = math.sqrt(1.0 / 12.0)
        elif kind in ("normal", "qnormal", "lognormal", "qlognormal"):
            self.family = _REAL
            self.prior_sd = 1.0
            self.finish = _finisher(kind, value)
        else:
            self.family = _UNIT
            self.prior_sd = math.sqrt(1.0 / 12.0)
            self.finish = _finisher(kind, value)

    def encode(self, x: Any) -> float:
        """The code of value ``x``, NaN when the space cannot hold it."""
        kind = self.kind
        if kind == "choice":
            key = _choice_key(x)
            code = None if key is None else self.key_to_code.get(key)
            return math.nan if code is None else float(code)
        if kind == "randint":
            return self._encode_int(x)
        v = as_real(x)
        if v is None or math.isnan(v):
            return math.nan
        a, b = float(self.value[0]), float(self.value[1])
        if kind in ("uniform", "quniform"):
            u = (v - a) / (b - a)
        elif kind in ("loguniform", "qloguniform"):
            u = (math.log(v) - math.log(a)) / (math.log(b) - math.log(a)) if v > 0 else 0.0
        else:
            if kind in ("lognormal", "qlognormal"):
                if v <= 0:
                    return -_Z_MAX
                v = math.log(v)
            z = (v - a) / b
            return min(max(z, -_Z_MAX), _Z_MAX)
        return min(max(u, 0.0), 1.0)

    def _encode_int(self, x: Any) -> float:
        if isinstance(x, np.integer):
            x = int(x)
        if isinstance(x, bool):
            return math.nan
        if not isinstance(x, int):
            v = as_real(x)
            if v is None or not math.isfinite(v):
                return math.nan
            x = math.floor(v)
        if self.levels == 1:
            return 0.0
        # Exact integer arithmetic first: bounds may be as wide as int64.
        offset = x - int(self.value[0])
        return float(min(max((offset + 0.5) / self.levels, 0.0), 1.0))

    def decode(self, code: float) -> Any:
        """The value of code ``code`` (a plain Python object, as RandomSampler makes it)."""
        kind = self.kind
        a, b = self.value[0], self.value[1]
        if kind == "randint":
            lower, span = int(a), self.levels
            offset = 0 if span == 1 else min(max(int(code * span), 0), span - 1)
            return lower + offset
        if kind in ("uniform", "quniform"):
            x = a + code * (b - a)
        elif kind in ("loguniform", "qloguniform"):
            log_a = math.log(a)
            x = math.exp(log_a + code * (math.log(b) - log_a))
        elif kind in ("normal", "qnormal"):
            x = a + b * code
        else:
            x = math.exp(a + b * code)
        return self.finish(np.array([float(x)]))[0]


class _Layout:
    """The dimensions grouped by family, and the kernel computations vectorised over them.

    The features (see ``features_of_centres``) come in this order: for the ``k``
    continuous dimensions, ``k`` columns of each of their four features; then, for each
    discrete dimension with at most ``_MAX_ONEHOT`` options, one column per option.
    """

    def __init__(self, dims: list[_Dim]) -> None:
        self.dims = dims
        self.n_dims = len(dims)
        family = np.array([dim.family for dim in dims], dtype=np.int64)
        self.levels = np.array([dim.levels for dim in dims], dtype=np.float64)
        self.prior_sd = np.array([dim.prior_sd for dim in dims], dtype=np.float64)
        self.unit = np.flatnonzero(family == _UNIT)
        self.real = np.flatnonzero(family == _REAL)
        self.cat = np.flatnonzero(family == _CAT)
        self.ord = np.flatnonzero(family == _ORD)
        self.const = np.flatnonzero(family == _CONST)
        self.cont = np.flatnonzero((family == _UNIT) | (family == _REAL))
        self.is_unit = family[self.cont] == _UNIT
        # Dimensions whose spread is the standard deviation of their codes.
        self.spread = np.flatnonzero((family == _UNIT) | (family == _REAL) | (family == _ORD))
        self.d = self.n_dims - self.const.size
        k = self.cont.size
        offset = 4 * k
        onehot: list[int] = []
        offsets: list[int] = []
        self.direct: list[int] = []
        for j in np.flatnonzero((family == _CAT) | (family == _ORD)).tolist():
            if dims[j].levels <= _MAX_ONEHOT:
                onehot.append(j)
                offsets.append(offset)
                offset += dims[j].levels
            else:
                self.direct.append(j)
        self.onehot = np.array(onehot, dtype=np.int64)
        self.onehot_offsets = np.array(offsets, dtype=np.int64)
        self.n_features = offset
        self.conditional = [
            (j, dim.parent, float(dim.option)) for j, dim in enumerate(dims) if dim.parent >= 0
        ]

    def bandwidths(self, data: FloatArray, floor: float) -> FloatArray:
        """The normal-reference bandwidth of every modelled dimension (NaN for constants)."""
        bw = np.full(self.n_dims, np.nan)
        exponent = -1.0 / (4.0 + self.d)
        idx = self.spread
        if idx.size:
            x = data[:, idx]
            active = ~np.isnan(x)
            count = active.sum(axis=0)
            k = np.maximum(count, 1)
            mean = np.where(active, x, 0.0).sum(axis=0) / k
            dev = np.where(active, x - mean, 0.0)
            sd = np.sqrt((dev * dev).sum(axis=0) / k)
            sd = np.where(count >= 2, sd, self.prior_sd[idx])
            bw[idx] = np.maximum(_NORMAL_REFERENCE * sd * k**exponent, floor)
        if self.ord.size:
            bw[self.ord] = np.minimum(bw[self.ord], 1.0)
        for j in self.cat.tolist():
            column = data[:, j]
            values = column[~np.isnan(column)]
            n, levels = values.size, self.dims[j].levels
            if n < 2:
                sd = self.dims[j].prior_sd
            else:
                p = np.bincount(values.astype(np.int64), minlength=levels) / n
                sd = math.sqrt(float(np.dot(p, 1.0 - p)) / 2.0)
            h = max(_NORMAL_REFERENCE * sd * max(n, 1) ** exponent, floor)
            bw[j] = min(h, (levels - 1) / levels)
        return bw

    def features_of_centres(self, data: FloatArray, bw: FloatArray) -> FloatArray:
        """``G`` (features x centres): ``F @ G`` is the log kernel of every point at every centre.

        For a continuous dimension with bandwidth ``h``, a point with value ``x`` (active: ``a``)
        has the features ``(a x^2, a x, a, a log prior(x))`` and a centre ``m`` (active: ``b``)
        has ``(-b / 2h^2, b m / h^2, b (-m^2 / 2h^2 - log h - log(2 pi) / 2 - log Z(m)), 1 - b)``:
        their product is the log of the Gaussian kernel (truncated to ``[0, 1]``: ``Z``) when
        both are active, the log prior density when only the point is, 0 when the point is
        inactive. A discrete dimension: the point's one-hot row picks the centre's log kernel.
        """
        n = data.shape[0]
        g = np.empty((self.n_features, n))
        k = self.cont.size
        if k:
            x = data[:, self.cont]
            active = ~np.isnan(x)
            m = np.where(active, x, 0.0)
            h = bw[self.cont]
            inv = 1.0 / (h * h)
            const = -0.5 * inv * m * m - np.log(h) - 0.5 * _LOG_2PI
            if self.is_unit.any():
                const[:, self.is_unit] -= _log_truncation(m[:, self.is_unit], h[self.is_unit])
            g[:k] = np.where(active, -0.5 * inv, 0.0).T
            g[k : 2 * k] = (m * inv).T
            g[2 * k : 3 * k] = np.where(active, const, 0.0).T
            g[3 * k : 4 * k] = (~active).T
        for j, o in zip(self.onehot.tolist(), self.onehot_offsets.tolist(), strict=True):
            dim = self.dims[j]
            column = data[:, j]
            active = ~np.isnan(column)
            table = _log_kernel_table(dim.family, dim.levels, float(bw[j]))
            block = table[:, np.where(active, column, 0.0).astype(np.int64)]
            block[:, ~active] = -math.log(dim.levels)
            g[o : o + dim.levels] = block
        return g

    def features_of_points(self, codes: FloatArray) -> FloatArray:
        """``F`` (points x features), the points' side of ``features_of_centres``."""
        f = np.zeros((codes.shape[0], self.n_features))
        k = self.cont.size
        if k:
            x = codes[:, self.cont]
            active = ~np.isnan(x)
            xv = np.where(active, x, 0.0)
            f[:, :k] = xv * xv
            f[:, k : 2 * k] = xv
            f[:, 2 * k : 3 * k] = active
            real = ~self.is_unit
            if real.any():
                xr = xv[:, real]
                f[:, 3 * k + np.flatnonzero(real)] = np.where(
                    active[:, real], -0.5 * xr * xr - 0.5 * _LOG_2PI, 0.0
                )
        if self.onehot.size:
            x = codes[:, self.onehot]
            rows, cols = np.nonzero(~np.isnan(x))
            f[rows, self.onehot_offsets[cols] + x[rows, cols].astype(np.int64)] = 1.0
        return f

    def log_kernels(self, f: FloatArray, codes: FloatArray, dens: _Density) -> FloatArray:
        """The log kernel of every point (rows of ``f``/``codes``) at every centre of ``dens``."""
        k: FloatArray = f @ dens.features
        for j in self.direct:
            k += _direct_log_kernel(self.dims[j], codes[:, j], dens.data[:, j], float(dens.bw[j]))
        return k

    def candidates(
        self, rng: np.random.Generator, good: _Density, size: int, factor: float
    ) -> FloatArray:
        """``size`` points drawn from the good density with widened continuous bandwidths.

        Each candidate picks a centre at random; per dimension it draws from that centre's
        kernel (continuous bandwidths times ``factor``, as BOHB does), or from the dimension's
        prior when the centre has the dimension inactive. A sub-parameter whose option the
        candidate did not choose is then made inactive. The random draws made do not depend
        on their outcomes.
        """
        n_centres = good.data.shape[0]
        centres = good.data[(rng.random(size) * n_centres).astype(np.int64)]
        codes = np.zeros((size, self.n_dims))
        if self.unit.size:
            m = centres[:, self.unit]
            has = ~np.isnan(m)
            r = rng.random((size, self.unit.size))
            drawn = _truncated_normal(np.where(has, m, 0.5), factor * good.bw[self.unit], r)
            codes[:, self.unit] = np.where(has, drawn, r)
        if self.real.size:
            m = centres[:, self.real]
            has = ~np.isnan(m)
            z = rng.standard_normal((size, self.real.size))
            drawn = np.where(has, np.where(has, m, 0.0) + factor * good.bw[self.real] * z, z)
            codes[:, self.real] = np.clip(drawn, -_Z_MAX, _Z_MAX)
        for idx, kernel in (
            (self.cat, _sample_aitchison_aitken),
            (self.ord, _sample_wang_van_ryzin),
        ):
            if idx.size:
                m = centres[:, idx]
                has = ~np.isnan(m)
                r1 = rng.random((size, idx.size))
                r2 = rng.random((size, idx.size))
                levels = self.levels[idx]
                prior = np.minimum(np.floor(r1 * levels), levels - 1.0)
                drawn = kernel(np.where(has, m, 0.0), levels, good.bw[idx], r1, r2)
                codes[:, idx] = np.where(has, drawn, prior)
        # Parents come before their sub-parameters, so one pass settles nested conditions.
        for j, parent, option in self.conditional:
            codes[:, j] = np.where(codes[:, parent] == option, codes[:, j], np.nan)
        return codes


class _CSDim:
    """A dimension of a ConfigSpace space: what the layout needs of a ``_Dim``."""

    __slots__ = ("family", "levels", "option", "parent", "prior_sd")

    def __init__(self, family: int, levels: int, prior_sd: float) -> None:
        self.family = family
        self.levels = levels
        self.prior_sd = prior_sd
        # ConfigSpace's conditions are settled on decoding (CSSpace.decode), not by the layout.
        self.parent = -1
        self.option = -1


def _cs_dim(hp: Any) -> _CSDim:
    """The dimension of a ConfigSpace hyperparameter (see ``hyperband.core.configspace``)."""
    levels = hp.levels
    if hp.kind == CONSTANT or (hp.kind in (CATEGORICAL, ORDINAL) and levels == 1):
        return _CSDim(_CONST, 1, 0.0)
    if hp.kind == CATEGORICAL:
        return _CSDim(_CAT, levels, math.sqrt((1.0 - 1.0 / levels) / 2.0))
    if hp.kind == ORDINAL:
        return _CSDim(_ORD, levels, math.sqrt((levels**2 - 1) / 12.0))
    # Floats and integers: unit codes (integers as cells), as randint and uniform are.
    return _CSDim(_UNIT, levels, math.sqrt(1.0 / 12.0))


class _Param:
    """A named parameter: its dimension and, for a choice, its nested options' parameters."""

    __slots__ = ("dim", "index", "name", "nested")

    def __init__(
        self, name: str, index: int, dim: _Dim, nested: dict[int, tuple[str, list[_Param]]]
    ) -> None:
        self.name = name
        self.index = index
        self.dim = dim
        self.nested = nested  # option code -> (option name, sub-parameters)


def _compile(params: Mapping[str, Any], dims: list[_Dim], parent: int, option: int) -> list[_Param]:
    """The parameters of a block as a tree; ``dims`` gets every dimension, parents first."""
    out: list[_Param] = []
    for name, spec in params.items():
        index = len(dims)
        dim = _Dim(spec["_type"], spec["_value"], parent, option)
        dims.append(dim)
        nested: dict[int, tuple[str, list[_Param]]] = {}
        for code, opt in enumerate(dim.options):
            if isinstance(opt, dict) and "_name" in opt:
                subs = {key: sub for key, sub in opt.items() if key != "_name"}
                nested[code] = (opt["_name"], _compile(subs, dims, index, code))
        out.append(_Param(name, index, dim, nested))
    return out


def _encode_block(params: list[_Param], values: Mapping[str, Any], row: FloatArray) -> None:
    for p in params:
        if p.name not in values:
            continue  # left NaN, with everything under it
        x = values[p.name]
        code = p.dim.encode(x)
        row[p.index] = code
        if p.nested and not math.isnan(code) and isinstance(x, Mapping):
            sub = p.nested.get(int(code))
            if sub is not None:
                _encode_block(sub[1], x, row)


def _decode_block(params: list[_Param], row: list[float]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for p in params:
        code = row[p.index]
        dim = p.dim
        if dim.kind != "choice":
            config[p.name] = dim.decode(code)
            continue
        c = int(code)
        sub = p.nested.get(c)
        if sub is None:
            config[p.name] = _copy_json(dim.options[c])
        else:
            # '_name' first, then the sub-parameters in the space's order, as RandomSampler.
            config[p.name] = {"_name": sub[0], **_decode_block(sub[1], row)}
    return config


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choice_key(value: object) -> Any:
    """A hashable key telling apart what JSON tells apart (1, 1.0 and True are three keys)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value).__name__, value)
    if isinstance(value, Mapping) and "_name" in value:
        name = value["_name"]
        return ("_name", name) if isinstance(name, str) else None
    try:
        return ("json", json.dumps(value, sort_keys=True, allow_nan=False))
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------- options and state


def _real_option(
    name: str,
    value: object,
    low: float,
    high: float,
    rule: str,
    *,
    low_closed: bool = False,
    high_closed: bool = False,
) -> float:
    v = as_real(value)
    if v is None:
        raise ArgumentTypeError(f"KDESampler: {name} must be a real number, got {describe(value)}")
    above = v >= low if low_closed else v > low
    below = v <= high if high_closed else v < high
    if not (above and below):  # NaN fails both
        raise ConfigurationError(f"KDESampler: {name} must satisfy {rule}, got {describe(value)}")
    return v


def _int_option(name: str, value: object, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"KDESampler: {name} must be an int, got {describe(value)}")
    if value < low:
        raise ConfigurationError(f"KDESampler: {name} must be >= {low}, got {describe(value)}")
    return int(value)


def _word_option(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigurationError(
            f"KDESampler: {name} must be one of {', '.join(map(repr, allowed))}, "
            f"got {describe(value)}"
        )
    return value


def _n_good(n: int, min_points: int, top_fraction: float) -> int:
    # The epsilon keeps floor(0.15 * 20) at 3 whatever the float rounding of the product.
    return max(min_points, math.floor(top_fraction * n + 1e-9))


def _needed(min_points: int, top_fraction: float) -> int:
    """The fewest observations that leave ``min_points`` in each of the good and bad sets."""
    # n - n_good(n) never decreases as n grows, and holds at hi: binary search.
    lo, hi = 2 * min_points, 2 * min_points + math.ceil(min_points / (1.0 - top_fraction)) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if mid - _n_good(mid, min_points, top_fraction) >= min_points:
            hi = mid
        else:
            lo = mid + 1
    return lo


class _Store:
    """The observations at one budget: encoded rows and losses, in arrays that grow by doubling."""

    __slots__ = ("codes", "losses", "n")

    def __init__(self, width: int) -> None:
        self.codes = np.empty((8, width))
        self.losses = np.empty(8)
        self.n = 0

    def add(self, row: FloatArray, loss: float) -> None:
        if self.n == self.losses.size:
            self.codes = np.concatenate([self.codes, np.empty_like(self.codes)])
            self.losses = np.concatenate([self.losses, np.empty_like(self.losses)])
        self.codes[self.n] = row
        self.losses[self.n] = loss
        self.n += 1


class _Density:
    """A fitted kernel density: its centres, bandwidths and the centres' features."""

    __slots__ = ("bw", "data", "features")

    def __init__(self, data: FloatArray, bw: FloatArray, features: FloatArray) -> None:
        self.data = data
        self.bw = bw
        self.features = features


class _Model:
    """The good and bad densities fitted on the ``n`` observations at ``budget``."""

    __slots__ = ("bad", "budget", "good", "n")

    def __init__(self, budget: float, n: int, good: _Density, bad: _Density) -> None:
        self.budget = budget
        self.n = n
        self.good = good
        self.bad = bad


# ---------------------------------------------------------------------- kernels


def _log_mean_exp(k: FloatArray) -> FloatArray:
    """``log(mean(exp(k), axis=1))``, computed stably; ``k`` is overwritten."""
    top = k.max(axis=1)
    k -= top[:, None]
    np.exp(k, out=k)
    return np.log(k.mean(axis=1)) + top  # type: ignore[no-any-return]


def _geometric(h: Any, t: FloatArray) -> FloatArray:
    """``sum_{k=1}^{t} h^k`` elementwise (``h`` broadcasts against ``t``)."""
    flat = np.asarray(h) >= 1.0 - 1e-12
    hh = np.where(flat, 0.5, h)
    return np.where(flat, t, hh * (1.0 - hh**t) / (1.0 - hh))


def _log_kernel_table(family: int, levels: int, h: float) -> FloatArray:
    """``T[x, m]``: the log kernel at level ``x`` of a discrete kernel centred on level ``m``."""
    if family == _CAT:
        # Aitchison-Aitken: 1 - h on the centre, h / (c - 1) on every other option.
        table = np.full((levels, levels), math.log(h / (levels - 1)))
        np.fill_diagonal(table, math.log1p(-h))
        return table
    # Wang-van Ryzin, (1 - h) on the centre and (1 - h) h^|x - m| / 2 elsewhere, normalised
    # over the finite set of levels so that it is a density there.
    distance = np.abs(np.subtract.outer(np.arange(levels), np.arange(levels))).astype(np.float64)
    log_w = np.where(distance == 0, 0.0, math.log(0.5) + distance * math.log(h))
    return log_w - np.log(np.exp(log_w).sum(axis=0))  # type: ignore[no-any-return]


def _direct_log_kernel(dim: _Dim, x: FloatArray, m: FloatArray, h: float) -> FloatArray:
    """The log kernel of points ``x`` at centres ``m`` of a discrete dimension with many levels."""
    levels = dim.levels
    xa, ma = ~np.isnan(x), ~np.isnan(m)
    xv, mv = np.where(xa, x, 0.0), np.where(ma, m, 0.0)
    if dim.family == _CAT:
        k = np.where(xv[:, None] == mv[None, :], math.log1p(-h), math.log(h / (levels - 1)))
    else:
        distance = np.abs(xv[:, None] - mv[None, :])
        total = 1.0 + 0.5 * (_geometric(h, mv) + _geometric(h, levels - 1 - mv))
        k = np.where(distance == 0, 0.0, math.log(0.5) + distance * math.log(h))
        k -= np.log(total)[None, :]
    k = np.where(ma[None, :], k, -math.log(levels))
    return np.where(xa[:, None], k, 0.0)


def _sample_aitchison_aitken(
    m: FloatArray, levels: FloatArray, h: FloatArray, r1: FloatArray, r2: FloatArray
) -> FloatArray:
    """Options drawn from Aitchison-Aitken kernels centred on ``m``: ``m`` with probability
    ``1 - h``, else one of the others uniformly."""
    other = np.minimum(np.floor(r2 * (levels - 1.0)), levels - 2.0)
    other += other >= m  # skip the centre
    return np.where(r1 < h, other, m)


def _sample_wang_van_ryzin(
    m: FloatArray, levels: FloatArray, h: FloatArray, r1: FloatArray, r2: FloatArray
) -> FloatArray:
    """Levels drawn from the normalised Wang-van Ryzin kernels centred on ``m``."""
    left, right = m, levels - 1.0 - m
    g_left, g_right = _geometric(h, left), _geometric(h, right)
    u = r1 * (1.0 + 0.5 * (g_left + g_right))
    side = np.where(u < 1.0, 0.0, np.where(u < 1.0 + 0.5 * g_left, -1.0, 1.0))
    span = np.where(side < 0, left, right)
    # The offset d in 1..span has probability proportional to h^d: invert its distribution.
    flat = np.broadcast_to(h >= 1.0 - 1e-12, m.shape)
    hh = np.where(flat, 0.5, h)
    geometric = np.ceil(np.log1p(-r2 * (1.0 - hh**span)) / np.log(hh))
    offset = np.where(flat, np.ceil(r2 * span), geometric)
    offset = np.clip(offset, 1.0, np.maximum(span, 1.0))
    return np.clip(np.where(side == 0, m, m + side * offset), 0.0, levels - 1.0)


def _erfc(x: FloatArray) -> FloatArray:
    """The complementary error function, relative error < 1.2e-7 (Numerical Recipes' erfcc)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t
                    * (
                        0.27886807
                        + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                    )
                )
            )
        )
    )
    r = t * np.exp(-z * z + poly)
    return np.where(x >= 0, r, 2.0 - r)


def _norm_cdf(x: FloatArray) -> FloatArray:
    return 0.5 * _erfc(-x / _SQRT2)


# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_PPF_A: Final = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_PPF_B: Final = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_PPF_C: Final = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_PPF_D: Final = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
)
_PPF_LOW: Final = 0.02425


def _polyval(coefficients: tuple[float, ...], x: FloatArray) -> FloatArray:
    out = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        out = out * x + c
    return out


def _norm_ppf(p: FloatArray) -> FloatArray:
    """The standard normal quantile of ``p`` in ``(0, 1)``."""
    q = p - 0.5
    r = q * q
    central = _polyval(_PPF_A, r) * q / (_polyval(_PPF_B, r) * r + 1.0)
    tail_p = np.minimum(p, 1.0 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(-2.0 * np.log(tail_p))
        tail = _polyval(_PPF_C, s) / (_polyval(_PPF_D, s) * s + 1.0)
    tail = np.where(p < 0.5, tail, -tail)
    return np.where(tail_p < _PPF_LOW, tail, central)


def _log_truncation(m: FloatArray, h: FloatArray) -> FloatArray:
    """``log P(0 <= N(m, h^2) <= 1)`` for centres ``m`` in ``[0, 1]``."""
    # Both tails are computed from their own side, so the sum stays accurate when it is tiny.
    tails = _norm_cdf(-m / h) + _norm_cdf((m - 1.0) / h)
    return np.log1p(-np.minimum(tails, 1.0 - 1e-16))


def _truncated_normal(m: FloatArray, s: FloatArray, r: FloatArray) -> FloatArray:
    """``N(m, s^2)`` truncated to ``[0, 1]``, by inverting its distribution at ``r``."""
    lo = _norm_cdf(-m / s)
    hi = _norm_cdf((1.0 - m) / s)
    u = np.clip(lo + r * (hi - lo), 1e-300, 1.0 - 1e-16)
    return np.clip(m + s * _norm_ppf(u), 0.0, 1.0)
