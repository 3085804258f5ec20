"""Search spaces for ``HyperbandSearchCV``: ours, or scikit-learn's ``param_distributions``.

Three kinds of ``param_distributions`` are accepted:

- an NNI-format search space (every value a dict with ``"_type"`` and ``"_value"``), or a
  ``ConfigSpace.ConfigurationSpace``: passed to ``hyperband.run`` as they are, so the
  ``sampler`` argument (``"kde"``, ...) applies;
- scikit-learn's format, as ``RandomizedSearchCV`` takes it: a dict mapping each parameter
  to a list of values (drawn uniformly, with replacement) or to a distribution with an
  ``rvs(random_state=...)`` method (``scipy.stats``), or a list of such dicts (one drawn
  uniformly per configuration). ``DistributionSampler`` draws from it with the machine's
  RNG only, so the draws are reproducible from ``random_state``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hyperband.core.errors import ArgumentTypeError, ConfigurationError, describe

__all__ = ["DistributionSampler", "check_names", "is_nni_space", "space_names"]


def is_nni_space(space: object) -> bool:
    """True for a dict in NNI's format: every value a dict with ``"_type"``."""
    return (
        isinstance(space, Mapping)
        and bool(space)
        and all(isinstance(v, Mapping) and "_type" in v for v in space.values())
    )


def _is_values(value: object) -> bool:
    """A list of values or a distribution, as scikit-learn's searches take them."""
    if callable(getattr(value, "rvs", None)):
        return True
    return isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes)


def _check_grid(grid: object, where: str) -> dict[str, Any]:
    if not isinstance(grid, Mapping) or not grid:
        raise ArgumentTypeError(
            f"{where} must be a non-empty dict of parameter names to lists or distributions, "
            f"got {describe(grid)}"
        )
    checked = {}
    for name, values in grid.items():
        if not isinstance(name, str):
            raise ArgumentTypeError(f"{where}: parameter names must be str, got {describe(name)}")
        if not _is_values(values):
            raise ArgumentTypeError(
                f"{where}[{name!r}] must be a list of values or a distribution with an rvs() "
                f"method (scipy.stats), got {describe(values)}"
            )
        if not callable(getattr(values, "rvs", None)) and len(values) == 0:
            raise ConfigurationError(f"{where}[{name!r}] must not be an empty list, got []")
        checked[name] = values
    return checked


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (what set_params and JSON expect)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class DistributionSampler:
    """Draws configurations from scikit-learn style ``param_distributions``.

    A batch sampler (``sample(rng, n)``; see `hyperband.Sampler`): each configuration
    first picks one of the dicts (when given a list of them), then each parameter in name
    order, a list's value by a uniform index, a distribution's by ``rvs(random_state=rng)``.

    Args:
        param_distributions: a dict, or a non-empty list of dicts, of parameter names to
            lists of values or distributions with ``rvs``.

    Raises:
        ArgumentTypeError: not such a dict or list, a name that is not a str, or a value
            that is neither a list nor a distribution.
        ConfigurationError: an empty list of values or of dicts.

    Examples:
        >>> import numpy as np
        >>> sampler = DistributionSampler({"C": [0.1, 1.0, 10.0]})
        >>> [c["C"] in (0.1, 1.0, 10.0) for c in sampler.sample(np.random.default_rng(0), 2)]
        [True, True]
    """

    def __init__(self, param_distributions: Any) -> None:
        where = "param_distributions"
        if isinstance(param_distributions, Mapping):
            grids = [_check_grid(param_distributions, where)]
        elif isinstance(param_distributions, Sequence) and not isinstance(
            param_distributions, str | bytes
        ):
            if not param_distributions:
                raise ConfigurationError(f"{where} must not be an empty list, got []")
            grids = [_check_grid(g, f"{where}[{i}]") for i, g in enumerate(param_distributions)]
        else:
            raise ArgumentTypeError(
                f"{where} must be a search space (NNI's format or a ConfigSpace space), or "
                f"scikit-learn's: a dict or list of dicts, got {describe(param_distributions)}"
            )
        self.grids = grids

    def sample(self, rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
        """Return ``n`` configurations drawn with ``rng`` only."""
        out = []
        for _ in range(n):
            grid = self.grids[int(rng.integers(len(self.grids)))]
            config = {}
            for name in sorted(grid):
                values = grid[name]
                if callable(getattr(values, "rvs", None)):
                    config[name] = _plain(values.rvs(random_state=rng))
                else:
                    config[name] = _plain(values[int(rng.integers(len(values)))])
            out.append(config)
        return out


def space_names(space: object) -> list[str] | None:
    """The top-level parameter names of a space, or None when they cannot be read."""
    if isinstance(space, DistributionSampler):
        return sorted({name for grid in space.grids for name in grid})
    if isinstance(space, Mapping):
        return [str(k) for k in space]
    names = getattr(space, "keys", None)  # a ConfigurationSpace
    if callable(names):
        try:
            return [str(k) for k in names()]
        except Exception:  # not a ConfigurationSpace after all: leave it to run() to judge
            return None
    return None


def check_names(names: Sequence[str], valid: Mapping[str, Any], resource: str, what: str) -> None:
    """Every searched name is a parameter of the estimator, and the resource is not one.

    Raises:
        ConfigurationError: naming the offending parameter.
    """
    for name in names:
        if name == resource:
            raise ConfigurationError(
                f"param_distributions must not search the resource parameter {resource!r}: "
                "HyperbandSearchCV sets it to each job's budget"
            )
        if name not in valid:
            shown = ", ".join(sorted(valid)[:12])
            raise ConfigurationError(
                f"param_distributions: {name!r} is not a parameter of {what} "
                f"(its parameters: {shown}{', ...' if len(valid) > 12 else ''})"
            )
