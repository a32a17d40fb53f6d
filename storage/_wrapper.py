"""``StoreWrapper``: a :class:`storage.Store` that forwards every method to another one.

Each method is written out (no ``__getattr__``), so a wrapper offers exactly the store
protocol and type checkers see every call. A wrapper subclasses it and overrides only
what it changes; :class:`storage.BatchingStore` and the simulator's ``DelayedStore``
hold outcomes back, so they override :meth:`StoreWrapper.flush`, which the reads of
every outcome, ``report`` and ``close`` call first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from bandits._fading import DEFAULT_HORIZON
from storage._controls import PathState, Spend
from storage._protocol import Store
from storage._reads import OutcomeFilter, Row
from storage._records import DailyAggregate, Outcome, PathPosterior, Report


class StoreWrapper:
    """Forward every method of :class:`storage.Store` to ``inner``; subclass to change some.

    Path controls and spending (breakers, the kill switch, budgets) go straight through:
    they are shared by every process and must act at once. Reads of outcomes, ``prune``,
    ``report`` and ``close`` call :meth:`flush` first, so whatever a subclass holds back
    is written before they look.

    Example:
        >>> from storage import MemoryStore
        >>> class Counting(StoreWrapper):
        ...     recorded = 0
        ...     def record(self, outcome):
        ...         self.recorded += 1
        ...         return super().record(outcome)
        >>> store = Counting(MemoryStore())
        >>> store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0)), store.recorded
        (True, 1)
        >>> store.posteriors("t")["a"].alpha
        2.0
    """

    def __init__(self, inner: Store) -> None:
        self._inner = inner

    @property
    def inner(self) -> Store:
        """The wrapped store."""
        return self._inner

    @property
    def url(self) -> str:
        """The wrapped store's URL."""
        return self._inner.url

    def flush(self) -> int | None:
        """Write what this wrapper holds back (a plain wrapper holds nothing back)."""
        return None

    # Evidence: what routing records and learns from.

    def ensure_paths(
        self,
        task: str,
        paths: Sequence[str],
        prior: tuple[float, float] = (1.0, 1.0),
        horizon: float = DEFAULT_HORIZON,
    ) -> None:
        """Create the posteriors in the wrapped store."""
        self._inner.ensure_paths(task, paths, prior, horizon)

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """The wrapped store's posteriors."""
        return self._inner.posteriors(task)

    def record(self, outcome: Outcome) -> bool:
        """Record in the wrapped store."""
        return self._inner.record(outcome)

    def record_many(self, outcomes: Iterable[Outcome]) -> int:
        """Record a batch in the wrapped store."""
        return self._inner.record_many(outcomes)

    def reset(
        self,
        task: str,
        path: str,
        *,
        keep_successes: float,
        keep_count: int,
        seen_resets: int,
        tick: int | None = None,
    ) -> bool:
        """Reset the path in the wrapped store."""
        return self._inner.reset(
            task,
            path,
            keep_successes=keep_successes,
            keep_count=keep_count,
            seen_resets=seen_resets,
            tick=tick,
        )

    def report(self, task: str, request_id: str, score: float, at: float) -> Report:
        """Flush (what is held back may hold the request), then report to the wrapped store."""
        self.flush()
        return self._inner.report(task, request_id, score, at)

    def prune(self, older_than: float) -> int:
        """Flush, then prune the wrapped store's old outcomes."""
        self.flush()
        return self._inner.prune(older_than)

    # Reads: exports, analysis and the operators' CLI.

    def outcomes(self, task: str) -> list[Outcome]:
        """Flush, then every stored outcome of ``task``."""
        self.flush()
        return self._inner.outcomes(task)

    def daily_aggregates(self, task: str) -> list[DailyAggregate]:
        """Flush, then the wrapped store's daily sums of ``task``."""
        self.flush()
        return self._inner.daily_aggregates(task)

    def tasks(self) -> list[str]:
        """Flush, then the wrapped store's tasks."""
        self.flush()
        return self._inner.tasks()

    def outcome_chunks(self, keep: OutcomeFilter, chunksize: int) -> Iterator[list[Row]]:
        """Flush, then the wrapped store's kept outcomes in chunks."""
        self.flush()
        return self._inner.outcome_chunks(keep, chunksize)

    # Controls and spending: straight through.

    def path_states(self, task: str) -> dict[str, PathState]:
        """The wrapped store's path states."""
        return self._inner.path_states(task)

    def set_path_mode(self, task: str, path: str, mode: str, at: float) -> None:
        """Set a path's mode in the wrapped store."""
        self._inner.set_path_mode(task, path, mode, at)

    def count_failure(self, task: str, path: str, at: float, threshold: int) -> PathState:
        """Count a breaker failure in the wrapped store."""
        return self._inner.count_failure(task, path, at, threshold)

    def count_success(self, task: str, path: str, at: float) -> None:
        """Close the path's breaker in the wrapped store."""
        self._inner.count_success(task, path, at)

    def claim_trial(self, task: str, path: str, at: float, recovery: float) -> bool:
        """Claim a breaker's trial call in the wrapped store."""
        return self._inner.claim_trial(task, path, at, recovery)

    def add_spend(self, scope: str, day: int, tokens: int, cost: float) -> Spend:
        """Add spending in the wrapped store."""
        return self._inner.add_spend(scope, day, tokens, cost)

    def reserve_spend(
        self,
        scope: str,
        day: int,
        tokens: int,
        cost: float,
        limits: tuple[float | None, int | None],
    ) -> Spend | None:
        """Reserve spending in the wrapped store."""
        return self._inner.reserve_spend(scope, day, tokens, cost, limits)

    def spend(self, scope: str, day: int) -> Spend:
        """A scope's spending in the wrapped store."""
        return self._inner.spend(scope, day)

    def close(self) -> None:
        """Flush, then close the wrapped store (even if the flush failed)."""
        try:
            self.flush()
        finally:
            self._inner.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inner!r})"
