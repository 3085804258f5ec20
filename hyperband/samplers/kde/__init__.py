"""BOHB's configuration generator: kernel density estimates of good and bad configurations.

``KDESampler`` is the model of Falkner, Klein and Hutter, "BOHB: Robust and Efficient
Hyperparameter Optimization at Scale" (ICML 2018), written for numpy alone and for the
model-based sampler protocol of ``ModelSampler``.

The package, from the bottom up:

- ``encoding``: the search space as numeric dimensions, configurations to rows and back;
- ``kernels``: the one-dimensional kernels and the normal distribution functions;
- ``densities``: the kernel density estimates (bandwidths, features, candidates) and the
  split of one budget's observations into good and bad;
- ``budgets``: the observations per budget, and which budget's model a draw uses;
- ``sampler``: ``KDESampler`` itself (observe, pending liars, candidate generation).
"""

from hyperband.samplers.kde.sampler import KDESampler

__all__ = ["KDESampler"]
