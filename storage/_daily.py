"""Daily aggregates in plain Python: UTC day numbers and per-(path, day) sums of outcomes.

``prune`` deletes old outcome rows but keeps what the daily aggregates need (see
``_daily_sql`` for the SQL stores); the in-memory store keeps these sums instead.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass

from storage._records import DailyAggregate, Outcome

SECONDS_PER_DAY = 86_400.0
_EPOCH = datetime.date(1970, 1, 1)
SUMS = (
    "attempts",
    "scored",
    "successes",
    "errors",
    "cost",
    "tokens_in",
    "tokens_out",
    "unpriced",
)


def day_of(created_at: float) -> int:
    """The UTC day number (days since 1970-01-01) of a timestamp, as the SQL stores count it.

    Example:
        >>> day_of(1_767_225_600.0), date_of(day_of(1_767_225_600.0))
        (20454, datetime.date(2026, 1, 1))
    """
    return math.floor(created_at / SECONDS_PER_DAY)


def date_of(day: int) -> datetime.date:
    """The calendar date of a UTC day number."""
    return _EPOCH + datetime.timedelta(days=day)


@dataclass(slots=True)
class DailyTotals:
    """Mutable sums of one (path, day); the in-memory store's ``daily`` row.

    Example:
        >>> totals = DailyTotals()
        >>> totals.add(Outcome("r", 1, "t", "a", 0.5, created_at=0.0, cost=0.25))
        >>> totals.aggregate("a", 0).successes, totals.cost
        (0.5, 0.25)
    """

    attempts: int = 0
    scored: int = 0
    successes: float = 0.0
    errors: int = 0
    cost: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    unpriced: int = 0

    def add(self, outcome: Outcome) -> None:
        """Count one outcome."""
        self.attempts += 1
        if outcome.score is not None:
            self.scored += 1
            self.successes += outcome.score
        self.errors += int(outcome.errored)
        if outcome.cost is not None:
            self.cost += outcome.cost
        elif not outcome.errored:
            self.unpriced += 1  # answered, at a price nobody knows
        self.tokens_in += outcome.tokens_in or 0
        self.tokens_out += outcome.tokens_out or 0

    def merged(self, other: DailyTotals) -> DailyTotals:
        """These sums plus ``other``'s."""
        return DailyTotals(*(getattr(self, name) + getattr(other, name) for name in SUMS))

    def aggregate(self, path: str, day: int) -> DailyAggregate:
        """The public record of these sums."""
        return DailyAggregate(path, date_of(day), *(getattr(self, name) for name in SUMS))


def fold(rows: Iterable[Outcome]) -> dict[tuple[str, str, int], DailyTotals]:
    """Sum outcomes per (task, path, day).

    Example:
        >>> fold([Outcome("r", 1, "t", "a", 1.0, created_at=0.0)])[("t", "a", 0)].scored
        1
    """
    totals: dict[tuple[str, str, int], DailyTotals] = {}
    for outcome in rows:
        key = (outcome.task, outcome.path, day_of(outcome.created_at))
        totals.setdefault(key, DailyTotals()).add(outcome)
    return totals
