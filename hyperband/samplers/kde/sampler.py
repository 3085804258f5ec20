"""``KDESampler``: the model-based sampler protocol over BOHB's good and bad densities.

It keeps the observations (``budgets``), fits the densities (``densities``) on the encoded
configurations (``encoding``), and draws: at random, or the best of candidates from the good
density by the ratio good / bad, with pending configurations as liars in the bad density.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from hyperband.core.configspace import CSSpace
from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.sampling import (
    _Block,
    as_real,
    check_observe_args,
    check_pending,
    check_sample_args,
    shown_names,
)
from hyperband.core.space import validate_space
from hyperband.samplers.kde.budgets import _Budgets, _Model, _Store
from hyperband.samplers.kde.densities import _Density, _Layout, _needed, _split
from hyperband.samplers.kde.encoding import FloatArray, _Encoder
from hyperband.samplers.kde.kernels import _log_mean_exp

__all__ = ["KDESampler"]

Number = int | float

# Pending configurations ("liars") get the good density's continuous bandwidths times this.
_LIAR_SHRINK: Final = 0.5

_FAILURES: Final = ("bad", "ignore")
_PENDING: Final = ("bad", "ignore")
_TRUST: Final = ("off", "rank")

_DEFAULTS: Final[dict[str, Any]] = {
    "top_fraction": 0.15,
    "n_candidates": 24,
    "bandwidth_factor": 3.0,
    "min_bandwidth": 1e-3,
    "random_fraction": 0.2,
    "min_points": None,
    "failures": "bad",
    "pending": "bad",
    "trust": "off",
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
    the options' ranks, capped at 1. See the documentation of the modules
    ``hyperband.samplers.kde.encoding`` and ``hyperband.samplers.kde.densities`` for how each
    parameter type is encoded and how the sub-parameters of nested choices (conditional
    parameters) are handled: kernels over active dimensions only, no imputation.

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
        trust: ``"off"`` (BOHB's rule: the largest budget with enough observations) or
            ``"rank"``: each budget's rank consistency with the top budget is measured on the
            configurations evaluated at both, and a budget that ranks them worse than chance
            does not carry the model (see ``consistency`` and ``trust_weights``).

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

    # Journals and snapshots name the sampler by its class's module (see ``sampler_spec``), which
    # has always been the package's, where the registry's "hyperband.samplers.kde:KDESampler"
    # finds it.
    __module__ = "hyperband.samplers.kde"
    __slots__ = ("_budgets", "_d", "_enc", "_layout", "_opts", "_random")

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
        trust: str = "off",
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
        # Options added after release 0.1 are recorded only when set, so that the journals of
        # studies that never set them still name the same sampler (JournalMismatchError).
        if _word_option("trust", trust, _TRUST) != "off":
            opts["trust"] = trust
        self._opts = opts
        enc = self._enc = _Encoder(space)
        # The uniform draws, exactly RandomSampler's (the space compiled once, not again).
        self._random: _Block | CSSpace = enc.cs if enc.cs is not None else _Block.compile(enc.space)
        self._layout = _Layout(enc.dims)
        self._d = self._layout.d
        mp = self._d + 1 if opts["min_points"] is None else opts["min_points"]
        self._budgets = _Budgets(
            self._layout.n_dims, _needed(mp, opts["top_fraction"]), opts.get("trust", "off")
        )

    # ------------------------------------------------------------------ public API

    @property
    def space(self) -> dict[str, Any]:
        """The validated search space (a fresh copy on every access); ConfigSpace's JSON for a
        ConfigSpace space."""
        if self._enc.cs is not None:
            return self._enc.cs.space
        return validate_space(self._enc.space)

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
        """The budget the model is fitted on (the largest with enough observations, among the
        budgets that rank as the top does with ``trust="rank"``), or None."""
        b = self._budgets.model_budget
        if b is None or self._d == 0:
            return None
        return _plain(b)

    @property
    def consistency(self) -> dict[Number, float | None]:
        """Each budget's rank consistency ``p`` with the top budget (the largest observed).

        ``p`` is the fraction of pairs of configurations, evaluated at both budgets, that the
        two put in the same order: 1 ranks as the top budget does, 1/2 at random, 0 backwards.
        ``None`` for a budget with fewer than 5 configurations evaluated at both; ``{}`` until
        the top budget has 4 finite results. Measured whatever ``trust`` is; with
        ``trust="rank"`` it also chooses the model's budget.
        """
        return {_plain(b): p for b, p in self._budgets.consistency().items()}

    @property
    def trust_weights(self) -> dict[Number, float]:
        """MFES-HB's weights of the measured budgets, ``∝ p ** 3``, each in ``[0, 1]``, summing
        to 1 (``{}`` while nothing is measured): how far each budget is trusted now."""
        return {_plain(b): w for b, w in self._budgets.weights().items()}

    @property
    def n_observations(self) -> int:
        """How many observations are kept (failures too, unless ``failures="ignore"``)."""
        return self._budgets.n

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
        self._budgets.add(b, self._encode(config), lv)

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
        model = None if self._d == 0 else self._budgets.model(self._fit)
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

    @property
    def _stores(self) -> dict[float, _Store]:
        return self._budgets.stores

    def _fit(self, codes: FloatArray, losses: FloatArray) -> tuple[_Density, _Density]:
        good, bad = _split(codes, losses, self.min_points, self._opts["top_fraction"])
        return self._density(good), self._density(bad)

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
        cs = self._enc.cs
        if cs is not None:
            # ConfigSpace's conditions settle which entries are active, its forbidden clauses
            # which candidates may be proposed at all.
            decoded, allowed = cs.decode(codes)
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
        return self._enc.encode(config)

    def _decode(self, row: FloatArray) -> dict[str, Any]:
        return self._enc.decode(row)


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


def _plain(budget: float) -> Number:
    return int(budget) if budget.is_integer() else budget
