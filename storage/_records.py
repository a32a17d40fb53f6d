"""Plain records that cross the store boundary."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bandits._path_posterior import PathPosterior as PathPosterior  # noqa: PLC0414 (old home)


@dataclass(slots=True)  # not frozen: built on every attempt, and frozen init costs 3x
class Outcome:
    """One attempt of one request: which path ran, how it scored, what it cost.

    ``score`` is ``None`` when the attempt could not be scored (the success function
    raised or returned a non-score): such a row is kept for the record and leaves the
    posterior untouched. ``errored`` marks an attempt whose call raised or timed out, so
    there was no output to judge (it scores 0); the store counts these separately so a
    policy can tell an unavailable path from a poor one. ``tick`` is the task's count
    of scored attempts when the request was planned: the age the outcome's evidence
    fades from (None: the store's count when it is recorded). ``context`` is the
    request's context as the caller gave it (kept for analysis); ``segment`` the
    request's segment, whose evidence the score also adds to (see
    :mod:`storage._segments`), at ``segment_tick``, the segment's count of scored
    attempts when the request was planned.

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
    segment: str | None = None
    segment_tick: int | None = None
    context: Mapping[str, str | bool | int | float] | None = None

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
