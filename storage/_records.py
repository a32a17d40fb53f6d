"""Plain records that cross the store boundary."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bandits import BetaPosterior
from bandits._fading import DEFAULT_HORIZON
from bandits._fading import scale as fade_scale


@dataclass(slots=True)  # not frozen: built on every attempt, and frozen init costs 3x
class Outcome:
    """One attempt of one request: which path ran, how it scored, what it cost.

    ``score`` is ``None`` when the attempt could not be scored (the success function
    raised or returned a non-score): such a row is kept for the record and leaves the
    posterior untouched. ``errored`` marks an attempt whose call raised or timed out, so
    there was no output to judge (it scores 0); the store counts these separately so a
    policy can tell an unavailable path from a poor one. ``tick`` is the task's count
    of scored attempts when the request was planned: the age the outcome's evidence
    fades from (None: the store's count when it is recorded).

    Example:
        >>> Outcome("r1", 1, "extract", "regex", score=1.0, created_at=0.0).is_scored
        True
    """

    request_id: str
    attempt: int
    task: str
    path: str
    score: float | None
    created_at: float
    error_class: str | None = None
    errored: bool = False
    latency_ms: float = 0.0
    propensity: float | None = None
    customer: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tick: int | None = None

    @property
    def is_scored(self) -> bool:
        """True when the score updates the posterior."""
        return self.score is not None


SERVED_ATTEMPT = "served_attempt"
"""Metadata key of a run's last outcome row when an earlier attempt's output was served
(``fallback_below`` found no output good enough and served the best): a report scores
that attempt, not the last one."""


def served_attempt(last: Outcome) -> int | None:
    """The attempt a report of ``last``'s request must score, when it is not ``last``.

    Example:
        >>> row = Outcome("r1", 2, "t", "b", 0.2, created_at=0.0, metadata={SERVED_ATTEMPT: 1})
        >>> served_attempt(row), served_attempt(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
        (1, None)
    """
    return served_attempt_of(last.metadata)


def served_attempt_of(metadata: Mapping[str, Any] | None) -> int | None:
    """:func:`served_attempt` from a row's metadata (None: the last attempt was served)."""
    if not metadata:
        return None
    number = metadata.get(SERVED_ATTEMPT)
    return number if isinstance(number, int) and not isinstance(number, bool) else None


@dataclass(frozen=True, slots=True)
class PathPosterior:
    """A path's stored posterior: Beta(alpha, beta) including its prior, and n scored attempts.

    ``alpha``, ``beta`` and ``n`` hold every score ever recorded, and ``errors`` the
    attempts among them that raised (score 0, no output). A change-point reset moves
    ``base_alpha``, ``base_beta``, ``base_n`` and ``base_errors`` instead of rewriting
    the sums, so "since the last reset" is a subtraction; ``resets`` counts the resets.

    The ``faded_*`` sums hold the same evidence weighted by its age (see
    :mod:`bandits._fading`), kept in epoch ``fade_epoch`` of a fading with ``horizon``
    ticks: ``faded_successes`` and ``faded_failures`` (outputs judged, since the last
    reset), ``faded_answers`` and ``faded_errors`` (calls that answered or raised).
    :meth:`faded` reads them at a tick. A row built without them (None) has its
    recent evidence read unfaded.

    Example:
        >>> row = PathPosterior("a", alpha=3.0, beta=3.0, n=4, errors=1)
        >>> row.posterior.mean, row.recent_successes, row.recent_failures
        (0.5, 2.0, 2.0)
        >>> row.quality_failures  # failures of outputs, errors left out
        1.0
    """

    path: str
    alpha: float
    beta: float
    n: int
    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    base_alpha: float | None = None
    base_beta: float | None = None
    base_n: int = 0
    resets: int = 0
    updated_at: float | None = None
    errors: int = 0
    base_errors: int = 0
    horizon: float = DEFAULT_HORIZON
    fade_epoch: int = 0
    faded_successes: float | None = None
    faded_failures: float | None = None
    faded_answers: float | None = None
    faded_errors: float | None = None

    def __post_init__(self) -> None:
        if self.base_alpha is None:
            object.__setattr__(self, "base_alpha", self.prior_alpha)
        if self.base_beta is None:
            object.__setattr__(self, "base_beta", self.prior_beta)

    @property
    def posterior(self) -> BetaPosterior:
        """The Beta posterior over every recorded score."""
        return BetaPosterior(self.alpha, self.beta)

    @property
    def recent_successes(self) -> float:
        """Sum of scores since the last reset."""
        return self.alpha - (self.base_alpha or 0.0)

    @property
    def recent_failures(self) -> float:
        """Sum of (1 - score) since the last reset."""
        return self.beta - (self.base_beta or 0.0)

    @property
    def recent_n(self) -> int:
        """Scored attempts since the last reset."""
        return self.n - self.base_n

    @property
    def recent_errors(self) -> int:
        """Attempts that raised since the last reset."""
        return self.errors - self.base_errors

    @property
    def recent_parameters(self) -> tuple[float, float]:
        """Beta parameters of the evidence since the last reset, on the prior (each >= 1e-3).

        Example:
            >>> PathPosterior("a", alpha=3.0, beta=2.0, n=3).recent_parameters
            (3.0, 2.0)
        """
        return (
            max(self.prior_alpha + self.recent_successes, 1e-3),
            max(self.prior_beta + self.recent_failures, 1e-3),
        )

    @property
    def quality_failures(self) -> float:
        """Sum of (1 - score) over outputs since the last reset (errors left out)."""
        return self.recent_failures - self.recent_errors

    def faded(self, tick: int) -> tuple[float, float, float, float]:
        """(successes, failures, answers, errors), each weighed by its age at ``tick``.

        Successes and failures are those of outputs since the last reset; answers and
        errors count calls. A row without faded sums gives its recent evidence unfaded.

        Example:
            >>> row = PathPosterior("a", 3.0, 2.0, 3, faded_successes=2.0, faded_failures=1.0,
            ...                     faded_answers=3.0, faded_errors=0.0, horizon=100.0)
            >>> [round(v, 3) for v in row.faded(100)]  # recorded at tick 0, read 100 later
            [0.736, 0.368, 1.104, 0.0]
        """
        if self.faded_successes is None:
            errors = float(self.recent_errors)
            return (
                self.recent_successes,
                self.quality_failures,
                self.recent_n - errors,
                errors,
            )
        scale = fade_scale(self.fade_epoch, tick, self.horizon)
        return (
            self.faded_successes * scale,
            (self.faded_failures or 0.0) * scale,
            (self.faded_answers or 0.0) * scale,
            (self.faded_errors or 0.0) * scale,
        )


@dataclass(frozen=True, slots=True)
class Report:
    """What a delayed report changed: the scored attempt and its score before and after."""

    request_id: str
    task: str
    path: str
    attempt: int
    previous_score: float | None
    score: float

    @property
    def changed(self) -> bool:
        """False when the report repeated the score already stored (a no-op)."""
        return self.previous_score != self.score


@dataclass(frozen=True, slots=True)
class DailyAggregate:
    """One path's attempts on one UTC day: what ``prune`` keeps of the outcomes it deletes.

    ``attempts`` counts every outcome row (scored or not), ``scored`` those with a
    score, ``successes`` sums the scores, ``errors`` counts attempts that raised.
    ``cost`` and the token counts sum the known values; ``unpriced`` counts the answered
    attempts whose cost is unknown (an attempt that raised before any reply cost nothing
    known: it is not counted). The day's cost is known only when ``unpriced`` is 0.

    Example:
        >>> import datetime
        >>> row = DailyAggregate("a", datetime.date(2026, 1, 1), 4, 4, 3.0, 1, 0.02, 10, 20)
        >>> row.success_rate
        0.75
    """

    path: str
    day: datetime.date
    attempts: int
    scored: int
    successes: float
    errors: int
    cost: float
    tokens_in: int
    tokens_out: int
    unpriced: int = 0

    @property
    def success_rate(self) -> float | None:
        """Mean score of the scored attempts; None when none was scored."""
        return self.successes / self.scored if self.scored else None
