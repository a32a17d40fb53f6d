"""Propensities: each path's probability of being ranked first by Thompson sampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bandits._errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

_SPREAD = (-7.0, 7.0)  # standard deviations covered around each path's logit mean


def first_place_probabilities(
    alpha: Sequence[float], beta: Sequence[float], *, nodes: int = 21, exact: bool = False
) -> np.ndarray:
    """Probability that each path's Thompson draw is the highest.

    ``P(i first) = integral of prod_{j != i} F_j dF_i``, evaluated on one grid that is
    fine wherever any posterior has mass.

    * Default: the grid is in logit space, where Beta densities are smooth and nearly
      Gaussian (``nodes`` points per path within 7 standard deviations); the CDFs are
      integrated densities. About 80 us for a few paths; typical error 1e-3.
    * ``exact=True``: the grid is made of ``3 * nodes`` quantiles of every path and the
      CDFs are incomplete beta functions: error about 1e-4, several times slower.

    The result sums to 1.

    Example:
        >>> p = first_place_probabilities([1, 1], [1, 1])
        >>> [round(float(v), 3) for v in p]
        [0.5, 0.5]
    """
    import numpy as np

    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ConfigError("alpha and beta must be equal-length, non-empty 1-D sequences")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and a.min() > 0 and b.min() > 0):
        raise ConfigError("alpha and beta must be finite and > 0")
    if nodes < 2:
        raise ConfigError(f"nodes must be >= 2, got {nodes}")
    if a.size == 1:
        return np.ones(1)
    cdf = _exact_cdfs(a, b, 3 * nodes) if exact else _logit_cdfs(a, b, nodes)
    # prod_{j != i} F_j on the grid, without dividing by F_i (which may be 0).
    others = np.ones_like(cdf)
    prefix = np.ones(cdf.shape[1])
    for i in range(a.size):
        others[i] *= prefix
        prefix = prefix * cdf[i]
    suffix = np.ones(cdf.shape[1])
    for i in range(a.size - 1, -1, -1):
        others[i] *= suffix
        suffix = suffix * cdf[i]
    mid_others = 0.5 * (others[:, 1:] + others[:, :-1])
    p = np.clip(np.sum(np.diff(cdf, axis=1) * mid_others, axis=1), 0.0, None)
    normalised: np.ndarray = p / p.sum()
    return normalised


def _logit_cdfs(a: np.ndarray, b: np.ndarray, nodes: int) -> np.ndarray:
    """CDFs of every Beta on a shared grid in logit space, by trapezoid integration."""
    import numpy as np
    from scipy.special import betaln

    centre = np.log(a / b)  # logit of a Beta is close to N(log(a/b), 1/a + 1/b)
    spread = np.sqrt(1.0 / a + 1.0 / b)
    z = np.linspace(*_SPREAD, nodes)
    y = np.sort((centre[:, None] + spread[:, None] * z).ravel())
    log_x = -np.logaddexp(0.0, -y)
    log_rest = -np.logaddexp(0.0, y)
    density = np.exp(a[:, None] * log_x + b[:, None] * log_rest - betaln(a, b)[:, None])
    cdf = np.zeros_like(density)
    np.cumsum(0.5 * (density[:, 1:] + density[:, :-1]) * np.diff(y), axis=1, out=cdf[:, 1:])
    total = cdf[:, -1:]
    normalised: np.ndarray = cdf / np.where(total > 0, total, 1.0)
    return normalised


def _exact_cdfs(a: np.ndarray, b: np.ndarray, nodes: int) -> np.ndarray:
    """CDFs of every Beta at the union of every Beta's quantiles (incomplete beta)."""
    import numpy as np
    from scipy.special import betainc, betaincinv

    quantiles = (np.arange(nodes) + 0.5) / nodes
    grid = np.unique(
        np.concatenate([[0.0, 1.0], betaincinv(a[:, None], b[:, None], quantiles).ravel()])
    )
    cdf: np.ndarray = betainc(a[:, None], b[:, None], grid[None, :])
    return cdf
