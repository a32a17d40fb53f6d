"""Segments borrow strength from their task: a segment's prior is what the task knows.

A segment (the requests of one kind: ``lang=de``) has its own posterior per path. A new
or rare segment should not start from ignorance when its task has learned a lot, nor
be ruled by the task once its own evidence says otherwise. So each segment's Beta prior
is the task's faded quality evidence scaled down to at most ``strength``
pseudo-observations (an empirical-Bayes prior with a bounded weight):

    prior = Beta(1 + m * mu, 1 + m * (1 - mu)),   mu = the task's mean,
    m = min(strength, the task's faded quality evidence)

and the segment's own (faded) evidence adds to it. After ``strength`` observations of
its own, a segment weighs its evidence as much as the task's; after ten times that it
has all but left the task behind. ``strength`` 0 makes segments independent.

Example:
    >>> task = PathPosterior("a", 81.0, 21.0, 100)            # the task: 80 of 100
    >>> row = shrunk(None, task, "a", strength=10.0, horizon=1000.0)
    >>> round(row.prior_alpha, 2), round(row.prior_beta, 2), row.n  # 1 + 10 * 0.8, 1 + 10 * 0.2
    (9.0, 3.0, 0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bandits._errors import ConfigError
from bandits._path_posterior import PathPosterior

DEFAULT_STRENGTH = 10.0


def check_strength(strength: object) -> float | None:
    """``strength`` as a float if it is a finite number >= 0, None (estimated from the
    segments, see :func:`pooled_strength`) for None, else ConfigError.

    Example:
        >>> check_strength(10), check_strength(None)
        (10.0, None)
    """
    if strength is None:
        return None
    if (
        isinstance(strength, int | float)
        and not isinstance(strength, bool)
        and math.isfinite(strength)
        and strength >= 0
    ):
        return float(strength)
    raise ConfigError(
        f"segment_strength must be None (estimated from how much segments differ) or a "
        f"number >= 0 (observations a segment borrows from its task; 0: independent "
        f"segments), got {strength!r}"
    )


def task_prior(task_row: PathPosterior | None, tick: int, strength: float) -> tuple[float, float]:
    """The Beta prior a segment's path starts from: the task's faded quality evidence
    at ``tick``, weighing at most ``strength`` observations.

    Example:
        >>> task_prior(None, 0, 10.0)  # the task knows nothing yet
        (1.0, 1.0)
        >>> task_prior(PathPosterior("a", 3.0, 1.0, 2), 2, 10.0)  # 2 of 2: weighs 2
        (3.0, 1.0)
    """
    if task_row is None or strength <= 0.0:
        return 1.0, 1.0
    successes, failures, _, _ = task_row.faded(tick)
    seen = successes + failures
    if seen <= 0.0:
        return 1.0, 1.0
    weight = min(strength, seen)
    mean = successes / seen
    return 1.0 + weight * mean, 1.0 + weight * (1.0 - mean)


def shrunk(
    segment_row: PathPosterior | None,
    task_row: PathPosterior | None,
    path: str,
    *,
    strength: float,
    horizon: float,
    task_tick: int = 0,
) -> PathPosterior:
    """The segment's row of ``path`` on the task's prior (:func:`task_prior`); a path
    the segment has no row for yet has only that prior.

    Only the prior fields change: the stored sums (``alpha``, ``beta``, the bases) stay
    as the store keeps them, so a policy that follows them (the default's change
    detection counts new successes as ``alpha`` grows) sees only real outcomes, while
    one that reads evidence on the prior (``prior_alpha`` + successes, as the default
    does, or :attr:`PathPosterior.recent_parameters`) borrows the task's strength.

    Example:
        >>> task = PathPosterior("a", 11.0, 1.0, 10)
        >>> own = PathPosterior("a", 1.0, 5.0, 4)                  # 0 of 4 in this segment
        >>> row = shrunk(own, task, "a", strength=10.0, horizon=1000.0)
        >>> [round(v, 2) for v in row.recent_parameters], row.recent_successes, row.alpha
        ([11.0, 5.0], 0.0, 1.0)
    """
    prior_alpha, prior_beta = task_prior(task_row, task_tick, strength)
    if segment_row is None:  # as the store creates it (Beta(1, 1), no evidence), on the prior
        return PathPosterior(
            path,
            1.0,
            1.0,
            0,
            prior_alpha,
            prior_beta,
            1.0,
            1.0,
            horizon=horizon,
            faded_successes=0.0,
            faded_failures=0.0,
            faded_answers=0.0,
            faded_errors=0.0,
        )
    row = segment_row
    return PathPosterior(  # not dataclasses.replace: this runs per path on every request
        row.path,
        row.alpha,
        row.beta,
        row.n,
        prior_alpha,
        prior_beta,
        row.base_alpha,
        row.base_beta,
        row.base_n,
        row.resets,
        row.updated_at,
        row.errors,
        row.base_errors,
        row.horizon,
        row.fade_epoch,
        row.faded_successes,
        row.faded_failures,
        row.faded_answers,
        row.faded_errors,
    )


MIN_STRENGTH = 2.0
MAX_STRENGTH = 500.0


def pooled_strength(
    evidence: Sequence[tuple[float, float]],
    *,
    low: float = MIN_STRENGTH,
    high: float = MAX_STRENGTH,
) -> float | None:
    """How many observations the task's evidence is worth to one of its segments, for one
    path, estimated from how much the segments differ (empirical Bayes, by moments).

    ``evidence`` holds each segment's (successes, failures) on the path. If the
    segments' success rates ``p_i`` come from a Beta with mean ``mu`` and variance
    ``tau^2``, the Beta's concentration ``mu (1 - mu) / tau^2 - 1`` is the weight its
    mean deserves against a segment's own evidence. ``tau^2`` is what the spread of the
    ``p_i`` (weighted by their counts ``n_i``) holds beyond binomial noise:
    ``(sum n_i (p_i - mu)^2 - (k - 1) mu (1 - mu)) / (N - sum n_i^2 / N)``. Segments
    that agree give a large weight (clipped to ``high``: the task decides), segments
    that differ a small one (``low``: each learns its own). None when fewer than two
    segments have evidence.

    Example:
        >>> pooled_strength([(50, 50), (48, 52), (51, 49)])  # one rate: trust the task
        500.0
        >>> round(pooled_strength([(90, 10), (10, 90), (50, 50)]), 1)  # they differ
        2.0
    """
    seen = [(s, s + f) for s, f in evidence if s + f >= 1.0]
    if len(seen) < 2:
        return None
    total = sum(n for _, n in seen)
    mean = sum(s for s, _ in seen) / total
    binomial = mean * (1.0 - mean)
    if binomial <= 0.0:  # every segment always (or never) succeeds: they agree
        return high
    spread = sum(n * (s / n - mean) ** 2 for s, n in seen)
    pairs = total - sum(n * n for _, n in seen) / total
    tau_squared = (spread - (len(seen) - 1) * binomial) / pairs if pairs > 0 else 0.0
    if tau_squared <= 0.0:
        return high
    return min(high, max(low, binomial / tau_squared - 1.0))
