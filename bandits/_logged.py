"""Checks of logged bandit data, shared by the off-policy estimators and the reward
models: path indices, propensities, rewards, target probabilities, equal lengths.

Example:
    >>> check_actions([0, 1, 1], 2).tolist()
    [0, 1, 1]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bandits._errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from numpy.typing import ArrayLike

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.intp]

ROW_SUM_TOLERANCE = 1e-6


def check_actions(actions: ArrayLike, k: int) -> IntArray:
    import numpy as np

    a = np.asarray(actions)
    if a.ndim != 1 or a.size == 0:
        raise ConfigError("actions must be a non-empty 1-D sequence, one path index per request")
    if a.dtype.kind not in "iu":
        raise ConfigError(f"actions must be integer path indices, got dtype {a.dtype}")
    reject_rows((a < 0) | (a >= k), a, f"actions must be path indices in [0, {k})")
    return a.astype(np.intp)


def check_vector(values: ArrayLike, name: str) -> FloatArray:
    """A non-empty 1-D float array."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ConfigError(f"{name} must be a non-empty 1-D sequence, one entry per request")
    return v


def check_propensities(values: ArrayLike) -> FloatArray:
    """Probabilities in (0, 1]; NaN is rejected."""
    p = check_vector(values, "propensities")
    reject_rows(~((p > 0) & (p <= 1)), p, "propensities must be in (0, 1]")
    return p


def check_rewards(values: ArrayLike) -> FloatArray:
    """Finite rewards: scores in [0, 1], or any other scale (revenue, latency saved)."""
    import numpy as np

    r = check_vector(values, "rewards")
    reject_rows(~np.isfinite(r), r, "rewards must be finite numbers")
    return r


def check_policy(target_probs: ArrayLike) -> FloatArray:
    import numpy as np

    pi = np.asarray(target_probs, dtype=float)
    if pi.ndim == 3:
        raise ConfigError(
            f"target_probs has shape {pi.shape}, an (n, K, positions) action distribution "
            "as Open Bandit Pipeline gives for slates; the router logs one choice per "
            "request, so pick the position its rewards were logged for, e.g. "
            "target_probs[:, :, 0] for the first"
        )
    if pi.ndim != 2 or pi.size == 0:
        raise ConfigError(f"target_probs must be a non-empty (n, K) array, got shape {pi.shape}")
    ok = np.all(pi >= 0, axis=1) & (np.abs(pi.sum(axis=1) - 1.0) <= ROW_SUM_TOLERANCE)
    reject_rows(~ok, pi, "target_probs rows must be probabilities >= 0 that sum to 1")
    return pi


def reject_rows(bad: npt.NDArray[np.bool_], values: npt.NDArray[np.generic], rule: str) -> None:
    import numpy as np

    if bad.any():
        i = int(np.argmax(bad))
        raise ConfigError(f"{rule}; row {i} is {values[i].tolist()} ({bad.sum()} bad rows)")


def check_same_length(**arrays: npt.NDArray[np.generic]) -> None:
    if len({len(a) for a in arrays.values()}) > 1:
        sizes = ", ".join(f"{len(a)} {name}" for name, a in arrays.items())
        raise ConfigError(f"lengths differ ({sizes}); pass one entry per logged request")
