"""Samplers: where the machine's new configurations come from.

A sampler is anything with ``sample(rng, n) -> list[dict]`` (``Sampler``). A *model-based*
sampler (``ModelSampler``) also has ``observe(config, budget, loss)`` and accepts
``sample(rng, n, *, pending=...)``; the machine then draws its configurations one at a time,
lazily, so the model learns from every result told before each draw.
``RandomSampler`` draws from an NNI-format search space. It turns the validated space once
into a tree of vectorised drawers (one numpy call per parameter for all ``n`` configurations)
because sampling sits on the machine's per-job hot path.
"""

from __future__ import annotations

import decimal
import importlib
import inspect
import math
import numbers
import operator
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hyperband.core.configspace import CSSpace, is_configspace_like
from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe
from hyperband.core.space import validate_space

__all__ = [
    "SAMPLERS",
    "ModelSampler",
    "RandomSampler",
    "Sampler",
    "is_model_based",
    "is_sampler",
    "make_sampler",
    "sampler_from_spec",
    "sampler_spec",
    "space_or_sampler",
]

Number = int | float

# Draws the values of one parameter for n configurations, as plain Python objects.
_Drawer = Callable[[np.random.Generator, int], list[Any]]

# Below this magnitude every multiple of 10**-d is a distinct float, so snapping a q-rounded
# value to d decimals removes only binary noise (0.30000000000000004 -> 0.3), never information.
_EXACT_INTS = 2.0**53

# rng.integers costs ~4 us a call whatever n; scaling rng.random costs ~1.5 us. Up to 2**32
# values, floor(u * k) is uniform to within k / 2**53 per value (u has 53 random bits), far
# below anything measurable, and stays < k: u <= 1 - 2**-53, and k * u rounds down from k.
_FAST_INDEX_MAX = 2**32


@runtime_checkable
class Sampler(Protocol):
    """Anything that proposes configurations for the machine.

    A sampler without ``observe`` is a *batch* sampler: when a bracket starts, the machine
    calls ``sample(rng, n)`` once for all its ``n`` configurations, with an RNG derived from
    ``(seed, iteration, bracket)``. A sampler with ``observe`` is model-based: see
    [`ModelSampler`][hyperband.ModelSampler].

    Examples:
        >>> isinstance(RandomSampler({"x": {"_type": "uniform", "_value": [0, 1]}}), Sampler)
        True
    """

    def sample(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        """Return ``n`` new configurations, drawn with ``rng`` only."""
        ...


@runtime_checkable
class ModelSampler(Protocol):
    """A sampler that learns from results: the machine draws its configurations lazily.

    The machine calls:

    - ``sample(rng, 1, pending=...)`` once per new configuration, at the ``ask()`` that hands
      out that configuration's first job, with an RNG derived from
      ``(seed, iteration, bracket, k)`` (``k``: the configuration's index in its bracket).
      ``pending`` holds one ``(config, budget)`` pair per job handed out and not yet resolved,
      oldest first, so that draws made while others run need not pile up on one point.
    - ``observe(config, budget, loss)`` after every result: ``loss`` is the value turned so
      that lower is better (``value`` when minimizing, ``-value`` when maximizing), ``None``
      for a failed job; a job stopped early is observed at the budget it reached (its last
      report's step) with its last reported value.

    The contract that makes studies replayable: what ``sample`` returns depends only on
    ``rng``, ``n``, ``pending`` and the sequence of ``observe`` calls made before it. A
    snapshot or a journal then rebuilds the sampler by replaying those calls into a fresh one;
    a sampler is never pickled. To be rebuilt without the user's help, a sampler also exposes
    ``space`` and ``options`` such that ``type(s)(s.space, **s.options)`` is a fresh copy (see
    ``sampler_spec``).

    Examples:
        >>> import numpy as np
        >>> class BestSoFar:
        ...     # Draws near the best configuration seen so far, else uniformly.
        ...     def __init__(self):
        ...         self.best = None  # (loss, x)
        ...     def observe(self, config, budget, loss):
        ...         if loss is not None and (self.best is None or loss < self.best[0]):
        ...             self.best = (loss, config["x"])
        ...     def sample(self, rng, n, *, pending=()):
        ...         if self.best is None:
        ...             return [{"x": float(rng.uniform(0, 1))} for _ in range(n)]
        ...         x = self.best[1]
        ...         return [{"x": float(np.clip(rng.normal(x, 0.1), 0, 1))} for _ in range(n)]
        >>> isinstance(BestSoFar(), ModelSampler)
        True
    """

    def sample(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        pending: Sequence[tuple[dict[str, Any], Number]] = (),
    ) -> list[dict[str, Any]]:
        """Return ``n`` new configurations, drawn with ``rng``, given what is running."""
        ...

    def observe(self, config: dict[str, Any], budget: Number, loss: float | None) -> None:
        """Learn from one result (``loss``: lower is better; ``None``: the job failed)."""
        ...


def is_model_based(sampler: object) -> bool:
    """True when the machine draws from ``sampler`` lazily (it has a callable ``observe``).

    Raises:
        ArgumentTypeError: it has ``observe`` but its ``sample`` does not accept ``pending``.
    """
    if not callable(getattr(sampler, "observe", None)):
        return False
    try:
        params = inspect.signature(sampler.sample).parameters.values()  # type: ignore[attr-defined]
    except (TypeError, ValueError):  # no signature to read: trust the protocol
        return True
    if not any(p.name == "pending" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        raise ArgumentTypeError(
            "a sampler with observe() is model-based and is drawn lazily: its sample() must "
            "accept a keyword argument pending (the (config, budget) pairs running now), "
            f"got sample{inspect.signature(sampler.sample)} on {describe(sampler)}"  # type: ignore[attr-defined]
        )
    return True


# The samplers a study can name (run(sampler=...), the CLI, NNI classArgs, journals): name ->
# "module:class". Loaded on first use so `import hyperband` does not import them.
SAMPLERS: dict[str, str] = {
    "random": "hyperband.core.sampling:RandomSampler",
    "kde": "hyperband.samplers.kde:KDESampler",
    "optuna": "hyperband.integrations.optuna:OptunaSampler",
}


def _sampler_class(name: str) -> type[Any]:
    module, _, cls = SAMPLERS[name].partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def make_sampler(name: object, space: Mapping[str, Any], **options: Any) -> Any:
    """Build a named sampler (``"random"``, ``"kde"``, ``"optuna"``) over ``space``.

    Raises:
        ConfigurationError: an unknown name.
    """
    if not isinstance(name, str) or name not in SAMPLERS:
        raise ConfigurationError(
            f"sampler must be one of {', '.join(map(repr, SAMPLERS))} or a sampler object, "
            f"got {describe(name)}"
        )
    cls = _sampler_class(name)
    params = list(inspect.signature(cls).parameters.values())[1:]  # after the space
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    known = [p.name for p in params if p.kind in named]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigurationError(
            f"sampler {name!r} takes the options {known or 'none'}, got unknown {unknown}"
        )
    return cls(space, **options)


def is_sampler(obj: object) -> bool:
    """Whether ``obj`` is a sampler (it has ``sample(rng, n)``), not a search space."""
    return callable(getattr(obj, "sample", None))


def space_or_sampler(
    space: Any, sampler: Any, sampler_options: Mapping[str, Any] | None
) -> Callable[[], Any]:
    """What builds a machine's space or sampler from a driver's ``space``, ``sampler`` and
    ``sampler_options`` arguments (``run``, ``simulate``): fresh each time for a named one.

    Raises:
        ConfigurationError: an unknown sampler name or option, or a sampler given twice.
        ArgumentTypeError: arguments of the wrong kind.
    """
    if sampler_options is not None and not isinstance(sampler_options, Mapping):
        raise ArgumentTypeError(
            f"sampler_options must be a dict of keyword arguments, got {describe(sampler_options)}"
        )
    if sampler is None:
        if sampler_options:
            raise ConfigurationError(
                "sampler_options needs a named sampler (sampler='kde', ...), got sampler=None"
            )
        if space is None:
            raise ArgumentTypeError("space must be a search space or a sampler, got None")
        return lambda: space
    if isinstance(sampler, str):
        if space is None or is_sampler(space):
            raise ArgumentTypeError(
                f"sampler={sampler!r} draws from a search space: space must be one, got "
                f"{describe(space)}"
            )
        options = dict(sampler_options or {})
        make_sampler(sampler, space, **options)  # validates the name, the space, the options
        return lambda: make_sampler(sampler, space, **options)
    if not is_sampler(sampler):
        raise ArgumentTypeError(
            "sampler must be 'random', 'kde', 'optuna' (a name of hyperband's samplers) or an "
            f"object with sample(rng, n), got {describe(sampler)}"
        )
    if sampler_options:
        raise ConfigurationError(
            "sampler_options applies to a named sampler; configure a sampler object yourself"
        )
    if space is not None and space is not sampler:
        raise ConfigurationError(
            "give the sampler once: run(objective, sampler_object) or run(objective, None, "
            "sampler=sampler_object); the sampler holds its own search space"
        )
    return lambda: sampler


def sampler_spec(sampler: object) -> dict[str, Any] | None:
    """A JSON description that rebuilds ``sampler`` (``None`` for a custom sampler).

    ``{"name": "kde", "space": {...}, "options": {...}}`` for the samplers in ``SAMPLERS``
    (the space in its JSON form: NNI's, or ConfigSpace's for a ConfigSpace space). A sampler of
    such a class whose ``options`` is ``None`` cannot be rebuilt from JSON (an
    ``OptunaSampler`` around an Optuna sampler object): custom.
    """
    for name in SAMPLERS:
        module, _, cls = SAMPLERS[name].partition(":")
        if type(sampler).__module__ == module and type(sampler).__name__ == cls:
            options = getattr(sampler, "options", {})
            if options is None:
                return None
            return {"name": name, "space": sampler.space, "options": dict(options)}  # type: ignore[attr-defined]
    return None


def sampler_from_spec(spec: Mapping[str, Any]) -> Any:
    """The fresh sampler a ``sampler_spec`` describes."""
    return make_sampler(spec["name"], spec["space"], **(spec.get("options") or {}))


class RandomSampler:
    """Draws configurations uniformly at random (per the NNI type semantics) from a search space.

    Values follow NNI's definitions: ``randint`` in ``[lower, upper)`` as ``int``; ``uniform``
    in ``[low, high]``; ``quniform`` is ``clip(round(uniform / q) * q, low, high)``;
    ``loguniform`` is ``exp(uniform(log low, log high))`` kept within ``[low, high]``;
    ``qloguniform`` is ``clip(round(loguniform / q) * q, low, high)``; ``normal``,
    ``lognormal = exp(normal)``, and ``qnormal``/``qlognormal`` as ``round(x / q) * q``.
    Rounding is half-to-even, like Python's ``round``. A q-rounded value is then snapped to the
    number of decimals ``q`` is written with (so ``quniform(0, 1, 0.1)`` gives ``0.3``, not
    ``0.30000000000000004``) and ``-0.0`` becomes ``0.0``. Every continuous type yields
    ``float``; ``choice`` yields one of its options (a fresh copy when it is a list or dict), or
    for a nested option ``{"_name": name, sub: value, ...}``.

    Configurations are plain Python objects (never numpy scalars), JSON-serialisable, with the
    parameters in the space's order. The result depends only on the state of ``rng`` and ``n``.

    A ConfigSpace space (a ``ConfigurationSpace`` or its JSON; extra ``configspace``) is drawn
    from its hyperparameters' own distributions (weights and priors included) through
    ConfigSpace, seeded from ``rng``; a configuration holds its active hyperparameters only,
    and forbidden configurations are drawn again.

    Args:
        space: an NNI-format search space; it is validated (see ``validate_space``) and copied.
            Or a ConfigSpace space, kept in its JSON form.

    Raises:
        SearchSpaceError: when ``space`` is malformed.

    Examples:
        >>> import numpy as np
        >>> sampler = RandomSampler({
        ...     "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
        ...     "layers": {"_type": "randint", "_value": [1, 4]},
        ... })
        >>> configs = sampler.sample(np.random.default_rng(0), 2)
        >>> [list(config) for config in configs]
        [['lr', 'layers'], ['lr', 'layers']]
        >>> all(1 <= config["layers"] < 4 for config in configs)
        True
    """

    __slots__ = ("_block", "_space")

    def __init__(self, space: Mapping[str, Any]) -> None:
        self._block: _Block | CSSpace
        if is_configspace_like(space):
            self._block = CSSpace(space)
            self._space = self._block.json
        else:
            self._space = validate_space(space)
            self._block = _Block.compile(self._space)

    @property
    def space(self) -> dict[str, Any]:
        """The validated search space (a fresh copy on every access).

        For a ConfigSpace space: its JSON form (``ConfigurationSpace.to_serialized_dict()``).
        """
        if isinstance(self._block, CSSpace):
            return self._block.space
        return validate_space(self._space)

    @property
    def options(self) -> dict[str, Any]:
        """The constructor's keyword arguments (none): see ``sampler_spec``."""
        return {}

    def sample(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        """Draw ``n`` configurations.

        Draw a whole batch in one call where you can: the cost is mostly per call, not per
        configuration (about 0.7 us per configuration at ``n=81`` for a three-parameter space,
        but about 10 us for ``n=1``).

        Args:
            rng: the only source of randomness.
            n: how many configurations, ``>= 0``.

        Returns:
            ``n`` new dicts; ``[]`` when ``n == 0``.

        Raises:
            ArgumentTypeError: ``rng`` is not a ``numpy.random.Generator`` or ``n`` not an int.
            ConfigurationError: ``n`` is negative.
        """
        n = check_sample_args(rng, n, "RandomSampler.sample")
        if n == 0:
            return []
        return self._block.draw(rng, n)

    def __repr__(self) -> str:
        return f"RandomSampler({shown_names(self._block.names)})"


def shown_names(names: Sequence[str]) -> str:
    """The first parameter names of a space, for a sampler's repr."""
    return ", ".join(names[:4]) + (f", ... ({len(names)} parameters)" if len(names) > 4 else "")


def check_sample_args(rng: object, n: object, who: str) -> int:
    """``n`` as an int after checking the arguments of a ``sample(rng, n)`` call.

    Raises:
        ArgumentTypeError: ``rng`` is not a ``numpy.random.Generator`` or ``n`` not an int.
        ConfigurationError: ``n`` is negative.
    """
    if not isinstance(rng, np.random.Generator):
        raise ArgumentTypeError(f"{who}: rng must be a numpy.random.Generator, got {describe(rng)}")
    if type(n) is not int:
        if isinstance(n, (bool, np.bool_)):
            raise ArgumentTypeError(f"{who}: n must be an int, got {describe(n)}")
        try:
            n = operator.index(n)  # type: ignore[arg-type]
        except TypeError:
            raise ArgumentTypeError(f"{who}: n must be an int, got {describe(n)}") from None
    assert isinstance(n, int)
    if n < 0:
        raise ConfigurationError(f"{who}: n must be >= 0, got {describe(n)}")
    return n


def as_real(value: object) -> float | None:
    """``value`` as a float (inf when it overflows), or None when it is not a real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]


def check_observe_args(
    config: object, budget: object, loss: object, who: str
) -> tuple[float, float | None]:
    """``(budget, loss)`` as floats after checking the arguments of an ``observe`` call.

    Raises:
        ArgumentTypeError: ``config`` is not a dict, or ``budget``/``loss`` not numbers.
        ConfigurationError: ``budget`` is not positive and finite, or ``loss`` not finite.
    """
    if not isinstance(config, Mapping):
        raise ArgumentTypeError(f"{who}: config must be a dict, got {describe(config)}")
    b = as_real(budget)
    if b is None:
        raise ArgumentTypeError(f"{who}: budget must be a real number, got {describe(budget)}")
    if not (math.isfinite(b) and b > 0):
        raise ConfigurationError(f"{who}: budget must be finite and > 0, got {describe(budget)}")
    if loss is None:
        return b, None
    value = as_real(loss)
    if value is None:
        raise ArgumentTypeError(f"{who}: loss must be a real number or None, got {describe(loss)}")
    if not math.isfinite(value):
        raise ConfigurationError(
            f"{who}: loss must be finite (None for a failure), got {describe(loss)}"
        )
    return b, value


def check_pending(pending: object, who: str) -> list[Mapping[str, Any]]:
    """The configurations of ``pending``, a sequence of ``(config, budget)`` pairs."""
    rule = f"{who}: pending must be a sequence of (config, budget) pairs"
    if isinstance(pending, (str, bytes, Mapping)) or not isinstance(pending, Sequence):
        raise ArgumentTypeError(f"{rule}, got {describe(pending)}")
    configs: list[Mapping[str, Any]] = []
    for item in pending:
        if not (
            isinstance(item, Sequence)
            and not isinstance(item, (str, bytes))
            and len(item) == 2
            and isinstance(item[0], Mapping)
        ):
            raise ArgumentTypeError(f"{rule}, got an item {describe(item)}")
        configs.append(item[0])
    return configs


class _Block:
    """A set of named parameters drawn together into dicts: the space, or a nested option."""

    __slots__ = ("drawers", "names")

    def __init__(self, names: tuple[str, ...], drawers: tuple[_Drawer, ...]) -> None:
        self.names = names
        self.drawers = drawers

    @classmethod
    def compile(cls, params: Mapping[str, Any], option_name: str | None = None) -> _Block:
        names: list[str] = []
        drawers: list[_Drawer] = []
        if option_name is not None:
            names.append("_name")
            drawers.append(_constant(option_name))
        for name, spec in params.items():
            names.append(name)
            drawers.append(_compile_spec(spec["_type"], spec["_value"]))
        return cls(tuple(names), tuple(drawers))

    def draw(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        columns = [drawer(rng, n) for drawer in self.drawers]
        if any(len(column) != n for column in columns):  # pragma: no cover - a drawer's bug
            raise AssertionError(f"a drawer returned other than {n} values")
        # map and zip, without strict=True (the lengths are checked above), build the dicts in
        # half the time of a comprehension: the random sampler draws one per configuration.
        return list(map(dict, map(zip, repeat(self.names), zip(*columns, strict=False))))


def _indices(rng: np.random.Generator, k: int, n: int) -> npt.NDArray[np.int64]:
    """``n`` integers uniform in ``[0, k)``."""
    if k <= _FAST_INDEX_MAX:
        return (rng.random(n) * k).astype(np.int64)
    return rng.integers(0, k, n)


def _constant(value: Any) -> _Drawer:
    def draw(rng: np.random.Generator, n: int) -> list[Any]:
        return [value] * n

    return draw


def _decimals(q: float, extent: float) -> int | None:
    """How many decimals a multiple of ``q`` has, when snapping to them is exact and safe."""
    if q.is_integer():
        return None  # integer multiples of an integral q are exact already
    exponent = decimal.Decimal(repr(q)).as_tuple().exponent
    assert isinstance(exponent, int)  # q is finite
    digits = -exponent
    # Only powers of ten up to 1e22 are exact floats, and np.round multiplies by 10**digits.
    if digits <= 0 or digits > 22 or extent * 10.0**digits >= _EXACT_INTS:
        return None
    return digits


def _quantiser(
    q: float, extent: float, low: float | None, high: float | None
) -> Callable[[npt.NDArray[np.float64]], None]:
    """``f(x)``: round ``x`` to a multiple of ``q`` in place, then clip to ``[low, high]``."""
    digits = _decimals(q, extent)

    def quantise(x: npt.NDArray[np.float64]) -> None:
        x /= q
        np.rint(x, out=x)
        x *= q
        if digits is not None:
            np.round(x, digits, out=x)
        if low is not None and high is not None:
            np.maximum(x, low, out=x)
            np.minimum(x, high, out=x)
        # -0.0 + 0.0 is 0.0: a config should not carry a signed zero.
        x += 0.0

    return quantise


def _compile_spec(kind: str, value: list[Any]) -> _Drawer:
    if kind == "choice":
        return _compile_choice(value)
    if kind == "randint":
        lower, upper = int(value[0]), int(value[1])
        span = upper - lower
        if span > _FAST_INDEX_MAX:

            def draw_wide_randint(rng: np.random.Generator, n: int) -> list[Any]:
                return rng.integers(lower, upper, n).tolist()  # type: ignore[no-any-return]

            return draw_wide_randint

        def draw_randint(rng: np.random.Generator, n: int) -> list[Any]:
            return (_indices(rng, span, n) + lower).tolist()  # type: ignore[no-any-return]

        return draw_randint

    finish = _finisher(kind, value)
    a, b = float(value[0]), float(value[1])

    if kind in ("uniform", "quniform"):
        low, high = a, b

        def draw_uniform(rng: np.random.Generator, n: int) -> list[Any]:
            return finish(rng.uniform(low, high, n))

        return draw_uniform

    if kind in ("loguniform", "qloguniform"):
        log_low, log_high = float(np.log(a)), float(np.log(b))

        def draw_loguniform(rng: np.random.Generator, n: int) -> list[Any]:
            x = rng.uniform(log_low, log_high, n)
            np.exp(x, out=x)
            return finish(x)

        return draw_loguniform

    mu, sigma = a, b
    if kind in ("normal", "qnormal"):

        def draw_normal(rng: np.random.Generator, n: int) -> list[Any]:
            return finish(rng.normal(mu, sigma, n))

        return draw_normal

    def draw_lognormal(rng: np.random.Generator, n: int) -> list[Any]:
        return finish(rng.lognormal(mu, sigma, n))

    return draw_lognormal


def _finisher(kind: str, value: list[Any]) -> Callable[[npt.NDArray[np.float64]], list[Any]]:
    """``f(x)``: a continuous parameter's values from raw draws ``x`` in its own units.

    ``x`` (modified in place) holds values of the underlying distribution: in ``[low, high]``
    up to rounding for the uniform types, ``exp`` of a point of ``[log low, log high]`` for the
    log-uniform ones, any float for the normal families. ``f`` clips to the bounds, q-rounds and
    snaps, and returns plain floats: every sampler shares it, so that a value means the same
    whichever sampler drew it.
    """
    a, b = float(value[0]), float(value[1])
    q = float(value[2]) if len(value) == 3 else None

    if kind in ("uniform", "quniform"):
        low, high = a, b
        quantise = _quantiser(q, max(abs(low), abs(high)), low, high) if q else None

        def finish_uniform(x: npt.NDArray[np.float64]) -> list[Any]:
            # low + (high - low) * u can round up to just past high.
            np.minimum(x, high, out=x)
            if quantise is not None:
                quantise(x)
            return x.tolist()  # type: ignore[no-any-return]

        return finish_uniform

    if kind in ("loguniform", "qloguniform"):
        low, high = a, b
        quantise = _quantiser(q, high, low, high) if q else None

        def finish_loguniform(x: npt.NDArray[np.float64]) -> list[Any]:
            # exp(log(low)) need not be low exactly.
            np.maximum(x, low, out=x)
            np.minimum(x, high, out=x)
            if quantise is not None:
                quantise(x)
            return x.tolist()  # type: ignore[no-any-return]

        return finish_loguniform

    mu, sigma = a, b
    if kind in ("normal", "qnormal"):
        extent = abs(mu) + 10.0 * sigma
    else:
        extent = float(np.exp(mu + 10.0 * sigma))
    quantise = _quantiser(q, extent, None, None) if q else None

    def finish_normal(x: npt.NDArray[np.float64]) -> list[Any]:
        if quantise is not None:
            quantise(x)
        return x.tolist()  # type: ignore[no-any-return]

    return finish_normal


def _copy_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    return value


def _compile_choice(options: list[Any]) -> _Drawer:
    k = len(options)
    nested = [
        (
            i,
            _Block.compile(
                {key: spec for key, spec in option.items() if key != "_name"}, option["_name"]
            ),
        )
        for i, option in enumerate(options)
        if isinstance(option, dict) and "_name" in option
    ]
    nested_at = {i for i, _ in nested}
    # Nested options get a None placeholder, filled in per draw.
    plain = tuple(None if i in nested_at else option for i, option in enumerate(options))
    mutable = any(isinstance(option, (list, dict)) for option in plain)

    if not nested and not mutable:
        if k == 1:
            return _constant(plain[0])

        def draw_plain(rng: np.random.Generator, n: int) -> list[Any]:
            return list(map(plain.__getitem__, _indices(rng, k, n).tolist()))

        return draw_plain

    def draw_choice(rng: np.random.Generator, n: int) -> list[Any]:
        index = _indices(rng, k, n)
        # A plain list or dict option is copied so that configurations never share (or alias
        # the space's) objects.
        chosen = index.tolist()
        values = [_copy_json(plain[i]) for i in chosen] if mutable else [plain[i] for i in chosen]
        for i, block in nested:
            rows = np.flatnonzero(index == i)
            if rows.size:
                for row, config in zip(rows.tolist(), block.draw(rng, rows.size), strict=True):
                    values[row] = config
        return values

    return draw_choice
