"""What the read protocol's exports ask for: the exported columns and a row filter."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bandits import ConfigError
from storage._records import Outcome

# The columns of an outcome export, in order (``storage.outcomes_frame``).
COLUMNS = (
    "request_id",
    "attempt",
    "task",
    "path",
    "score",
    "error_class",
    "errored",
    "latency_ms",
    "propensity",
    "customer",
    "tokens_in",
    "tokens_out",
    "cost",
    "created_at",
    "reported_at",
    "context",
)

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class OutcomeFilter:
    """The outcomes an export keeps; times are seconds since the epoch (since <= t < until).

    Example:
        >>> keep = OutcomeFilter("t", paths=("a",), since=10.0)
        >>> keep.keeps(Outcome("r1", 1, "t", "a", 1.0, created_at=12.0))
        True
    """

    task: str | None
    paths: tuple[str, ...] | None = None
    since: float | None = None
    until: float | None = None
    customer: str | None = None

    def keeps(self, row: Any) -> bool:
        """True when ``row`` (an outcome, or a row with its columns) passes the filter."""
        return (
            (self.task is None or row.task == self.task)
            and (self.paths is None or row.path in self.paths)
            and (self.since is None or row.created_at >= self.since)
            and (self.until is None or row.created_at < self.until)
            and (self.customer is None or row.customer == self.customer)
        )


def chunks_of(
    url: str, outcomes: Iterable[Outcome], keep: OutcomeFilter, chunksize: int
) -> Iterator[list[Row]]:
    """The kept outcomes of one task, oldest first, as rows of :data:`COLUMNS` in chunks.

    For stores read one task at a time (``memory://``): ConfigError without a task.

    Example:
        >>> rows = [Outcome(f"r{i}", 1, "t", "a", 1.0, created_at=-i) for i in range(3)]
        >>> [[row[0] for row in chunk] for chunk in chunks_of("memory://", rows,
        ...                                                   OutcomeFilter("t"), 2)]
        [['r2', 'r1'], ['r0']]
    """
    if keep.task is None:
        raise ConfigError(f"store {url} can only be exported one task at a time; pass task=...")
    kept = sorted((o for o in outcomes if keep.keeps(o)), key=_created)
    rows = [tuple(getattr(outcome, name, None) for name in COLUMNS) for outcome in kept]
    return iter([rows[start : start + chunksize] for start in range(0, len(rows), chunksize)])


def _created(outcome: Outcome) -> float:
    return outcome.created_at
