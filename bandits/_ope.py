"""Off-policy evaluation: a target policy's mean reward estimated from logged bandit data.

Each logged row is one request's first attempt: the path index taken ``a_i``, the
logging policy's propensity ``p_i`` of taking it, and the reward ``r_i`` (a score in
[0, 1], or any finite number such as revenue). The target policy is an ``(n, K)`` array
``pi`` of choice probabilities per request (one-hot rows for a deterministic policy).
Importance weights are ``w_i = pi[i, a_i] / p_i``.

IPS, SNIPS and DR agree with Open Bandit Pipeline 0.5.7's estimators to floating-point
precision (``tests/bandits/test_ope.py``, values from ``tests/bandits/obp_reference.py``);
obp's ``(n, K, positions)`` action distributions take one position: ``dist[:, :, 0]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bandits._errors import ConfigError
from bandits._logged import (
    check_actions,
    check_policy,
    check_propensities,
    check_rewards,
    check_same_length,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from numpy.typing import ArrayLike

    from bandits._reward_model import Context

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.intp]

Method = Literal["ips", "snips", "dr"]
_BOOTSTRAP_CELLS = 1 << 22  # indices resampled per chunk: ~32 MB of int64


@dataclass(frozen=True, slots=True)
class OffPolicyEstimate:
    """A policy value estimate with its percentile-bootstrap confidence interval.

    ``effective_sample_size`` is ``(sum w)^2 / sum w^2`` of the importance weights: far
    below ``n`` means a few rows dominate and the estimate is not to be trusted.
    ``std_error`` is the standard deviation of the bootstrap replicates.
    """

    value: float
    ci_low: float
    ci_high: float
    std_error: float
    n: int
    effective_sample_size: float
    method: Method
    level: float


def importance_weights(
    actions: ArrayLike, propensities: ArrayLike, target_probs: ArrayLike
) -> FloatArray:
    """The importance weight ``pi[i, a_i] / p_i`` of every logged row (all >= 0).

    Example:
        >>> importance_weights([0, 1], [0.5, 0.25], [[1.0, 0.0], [0.5, 0.5]]).tolist()
        [2.0, 2.0]
    """
    import numpy as np

    pi = check_policy(target_probs)
    a, p = check_actions(actions, pi.shape[1]), check_propensities(propensities)
    check_same_length(actions=a, propensities=p, target_probs=pi)
    weights: FloatArray = pi[np.arange(a.size), a] / p
    return weights


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 when every weight is 0).

    Example:
        >>> effective_sample_size([1.0, 1.0, 1.0, 1.0]), effective_sample_size([4.0, 0, 0, 0])
        (4.0, 1.0)
    """
    import numpy as np

    w = np.asarray(weights, dtype=float)
    squares = float(np.sum(w * w))
    return float(np.sum(w)) ** 2 / squares if squares > 0 else 0.0


def ips_estimate(
    actions: ArrayLike, propensities: ArrayLike, rewards: ArrayLike, target_probs: ArrayLike
) -> float:
    """Inverse propensity scoring: ``mean(w_i * r_i)``; unbiased, high variance.

    Example:
        >>> ips_estimate([0, 1, 0, 1], [0.5] * 4, [1, 0, 1, 1], [[1.0, 0.0]] * 4)
        1.0
    """
    return _point(_terms("ips", actions, propensities, rewards, target_probs, None))


def snips_estimate(
    actions: ArrayLike, propensities: ArrayLike, rewards: ArrayLike, target_probs: ArrayLike
) -> float:
    """Self-normalised IPS: ``sum(w_i r_i) / sum(w_i)``; slightly biased, lower variance.

    Example:
        >>> snips_estimate([0, 1, 0], [0.5, 0.5, 0.25], [1, 0, 0], [[1.0, 0.0]] * 3)
        0.3333333333333333
    """
    return _point(_terms("snips", actions, propensities, rewards, target_probs, None))


def doubly_robust_estimate(
    actions: ArrayLike,
    propensities: ArrayLike,
    rewards: ArrayLike,
    target_probs: ArrayLike,
    reward_model: ArrayLike,
) -> float:
    """Doubly robust: ``mean(sum_k pi[i,k] q[i,k] + w_i (r_i - q[i, a_i]))``.

    Unbiased when either the propensities or the reward model ``q`` (an ``(n, K)``
    array of predicted rewards) is right; low variance when ``q`` is good.

    Example:
        >>> q = [[0.9, 0.1]] * 2
        >>> round(doubly_robust_estimate([0, 1], [0.5, 0.5], [1, 0], [[1.0, 0.0]] * 2, q), 6)
        1.0
    """
    return _point(_terms("dr", actions, propensities, rewards, target_probs, reward_model))


def fit_reward_model(actions: ArrayLike, rewards: ArrayLike, n_actions: int) -> FloatArray:
    """Direct-method reward model: each path's mean logged reward, as an ``(n, K)`` array.

    A path never taken in the log gets the overall mean reward.

    Example:
        >>> fit_reward_model([0, 0, 1], [1.0, 0.0, 1.0], 3).tolist()[0]
        [0.5, 1.0, 0.6666666666666666]
    """
    import numpy as np

    if n_actions < 1:
        raise ConfigError(f"n_actions must be >= 1 (the number of paths), got {n_actions}")
    a, r = check_actions(actions, n_actions), check_rewards(rewards)
    check_same_length(actions=a, rewards=r)
    counts = np.bincount(a, minlength=n_actions)
    sums = np.bincount(a, weights=r, minlength=n_actions)
    means = np.full(n_actions, r.mean())
    np.divide(sums, counts, out=means, where=counts > 0)
    model: FloatArray = np.tile(means, (a.size, 1))
    return model


def evaluate_policy(
    actions: ArrayLike,
    propensities: ArrayLike,
    rewards: ArrayLike,
    target_probs: ArrayLike,
    *,
    method: Method = "snips",
    reward_model: ArrayLike | None = None,
    contexts: Sequence[Context] | None = None,
    rng: np.random.Generator | None = None,
    n_bootstrap: int = 1000,
    level: float = 0.95,
) -> OffPolicyEstimate:
    """Estimate the target policy's mean reward, with a percentile-bootstrap interval.

    ``method="dr"`` without a ``reward_model`` fits one on the log: each path's mean
    reward (:func:`fit_reward_model`), or, given each row's ``contexts``, a ridge
    regression on them (:func:`bandits.fit_contextual_reward_model`); the model is held
    fixed across bootstrap resamples. ``rng`` defaults to a fixed seed (0), so
    the interval is reproducible. Bootstrap replicates whose SNIPS weights sum to 0 are
    dropped.

    Example:
        >>> est = evaluate_policy([0, 1, 0, 1], [0.5] * 4, [1, 0, 1, 1], [[1.0, 0.0]] * 4,
        ...                       method="ips", n_bootstrap=200)
        >>> est.value, est.n, est.effective_sample_size, est.ci_low <= 1.0 <= est.ci_high
        (1.0, 4, 2.0, True)
    """
    import numpy as np

    if n_bootstrap < 1:
        raise ConfigError(f"n_bootstrap must be >= 1 (1000 is usual), got {n_bootstrap}")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"level must be in (0, 1), e.g. 0.95; got {level}")
    if method == "dr" and reward_model is None:
        k = check_policy(target_probs).shape[1]
        if contexts is None:
            reward_model = fit_reward_model(actions, rewards, k)
        else:
            from bandits._reward_model import fit_contextual_reward_model

            model = fit_contextual_reward_model(actions, rewards, k, contexts)
            reward_model = model.predict(contexts)
    terms = _terms(method, actions, propensities, rewards, target_probs, reward_model)
    num, den, weights = terms
    value = _point(terms)
    generator = np.random.default_rng(0) if rng is None else rng
    replicates = _bootstrap(num, den, generator, n_bootstrap)
    tail = (1.0 - level) / 2.0
    low, high = np.nanquantile(replicates, [tail, 1.0 - tail])
    return OffPolicyEstimate(
        value=value,
        ci_low=float(low),
        ci_high=float(high),
        std_error=float(np.nanstd(replicates)),
        n=int(num.size),
        effective_sample_size=effective_sample_size(weights),
        method=method,
        level=level,
    )


def _terms(  # noqa: PLR0917 (mirrors the public estimators' positional arguments)
    method: str,
    actions: ArrayLike,
    propensities: ArrayLike,
    rewards: ArrayLike,
    target_probs: ArrayLike,
    reward_model: ArrayLike | None,
) -> tuple[FloatArray, FloatArray | None, FloatArray]:
    """Validated per-row numerator and denominator (None: a plain mean), and the weights."""
    import numpy as np

    if method not in ("ips", "snips", "dr"):
        raise ConfigError(f"method must be 'ips', 'snips' or 'dr', got {method!r}")
    w = importance_weights(actions, propensities, target_probs)
    r = check_rewards(rewards)
    check_same_length(actions=w, rewards=r)
    if method == "ips":
        return w * r, None, w
    if method == "snips":
        if not np.any(w > 0):
            raise ConfigError(
                "the target policy gives probability 0 to every logged action, so SNIPS is "
                "undefined; use method='dr' or log data the target policy could produce"
            )
        return w * r, w, w
    pi = check_policy(target_probs)
    q = np.asarray(reward_model, dtype=float)
    if q.shape != pi.shape or not np.all(np.isfinite(q)):
        raise ConfigError(f"reward_model must be a finite {pi.shape} array, got shape {q.shape}")
    a = check_actions(actions, pi.shape[1])
    return np.sum(pi * q, axis=1) + w * (r - q[np.arange(a.size), a]), None, w


def _point(terms: tuple[FloatArray, FloatArray | None, FloatArray]) -> float:
    num, den, _ = terms
    return float(num.mean() if den is None else num.sum() / den.sum())


def _bootstrap(
    num: FloatArray, den: FloatArray | None, rng: np.random.Generator, n_bootstrap: int
) -> FloatArray:
    """The estimator on ``n_bootstrap`` resamples of the rows, in memory-bounded chunks."""
    import numpy as np

    n = num.size
    out = np.empty(n_bootstrap)
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    for start in range(0, n_bootstrap, chunk):
        stop = min(start + chunk, n_bootstrap)
        idx = rng.integers(0, n, size=(stop - start, n))
        if den is None:
            out[start:stop] = num[idx].mean(axis=1)
        else:
            total = den[idx].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[start:stop] = np.where(total > 0, num[idx].sum(axis=1) / total, np.nan)
    return out
