"""scikit-learn: ``HyperbandSearchCV``, a drop-in for scikit-learn's searches (the
``sklearn`` extra).

Importing this package imports scikit-learn (``import hyperband`` does not); without it, the
import fails with the install line.

Examples:
    >>> from hyperband.integrations.sklearn import HyperbandSearchCV
    >>> HyperbandSearchCV.__name__
    'HyperbandSearchCV'
"""

from __future__ import annotations

try:
    import sklearn  # noqa: F401  (only to say which extra installs it)
except ImportError:
    raise ModuleNotFoundError(
        "HyperbandSearchCV needs scikit-learn: pip install 'hyperband[sklearn]'",
        name="sklearn",
    ) from None

from hyperband.integrations.sklearn.params import DistributionSampler
from hyperband.integrations.sklearn.search import HyperbandSearchCV

__all__ = ["DistributionSampler", "HyperbandSearchCV"]
