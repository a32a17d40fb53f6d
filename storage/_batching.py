"""BatchingStore: write-behind batching of outcomes and bounded-staleness posterior reads."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from bandits import ConfigError
from bandits._fading import DEFAULT_HORIZON
from storage._checks import check_outcome, check_outcomes
from storage._pending import with_outcomes
from storage._protocol import Store
from storage._records import Outcome, PathPosterior, Report
from storage._segments import evidence_for
from storage._set_aside import SetAside, write_batch
from storage._wrapper import StoreWrapper


class BatchingStore(StoreWrapper):
    """A :class:`storage.Store` that queues ``record()`` and writes with one ``record_many``.

    The queue is written when it holds ``flush_every`` outcomes, or when its oldest
    outcome is ``flush_interval`` seconds old; both are checked on every call (there is
    no background thread), and on :meth:`flush` and :meth:`close`. So an idle process
    holds up to ``flush_every - 1`` outcomes until its next call, and **a crash loses
    at most the queue**: ``flush_every - 1`` outcomes, or those of the last
    ``flush_interval`` seconds of a busy process. ``close()`` (``Router.close()``) writes
    them. ``posteriors()`` includes the queued outcomes, so the process always sees
    its own; other processes see them after the flush.

    With ``max_staleness > 0``, ``posteriors(task)`` reads the store at most once per
    ``max_staleness`` seconds per task and adds this process's outcomes (queued or
    written since) to that read: other processes' outcomes show up at most
    ``max_staleness`` seconds late. ``ensure_paths``, ``reset`` and ``report`` drop
    the task's cached read.

    ``record()`` returns True when it queued the outcome and False for one already
    queued; one already *stored* is skipped at the flush (idempotent by (request_id,
    attempt)), so it is never counted twice. ``record_many()`` writes the queue and the
    batch at once. An outcome no store can hold raises :class:`storage.InvalidRecordError`
    when it is recorded (it is not queued); one the store refuses at the flush is set
    aside (counted in :attr:`rejected`) and the rest are written. If a flush fails
    otherwise, the error propagates and the outcomes stay queued;
    wrap the inner store in :class:`storage.ResilientStore` to keep working through
    outages: ``BatchingStore(ResilientStore(open_store(url)))``. Path controls and
    spending go straight through (not batched); the other reads and ``prune`` write the
    queue first (as every :class:`storage.StoreWrapper` does). It offers the methods of
    :class:`storage.Store` and nothing else of ``inner``. Safe to share between threads.

    Example:
        >>> from storage import MemoryStore
        >>> inner = MemoryStore()
        >>> store = BatchingStore(inner, flush_every=2, flush_interval=60.0)
        >>> store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
        True
        >>> store.pending, store.posteriors("t")["a"].alpha, inner.posteriors("t")
        (1, 2.0, {})
        >>> store.record(Outcome("r2", 1, "t", "a", 1.0, created_at=0.0))  # the 2nd: written
        True
        >>> store.pending, inner.posteriors("t")["a"].alpha
        (0, 3.0)
    """

    def __init__(
        self,
        inner: Store,
        *,
        flush_every: int = 100,
        flush_interval: float = 0.05,
        max_staleness: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(flush_every, bool) or not isinstance(flush_every, int) or flush_every < 1:
            raise ConfigError(f"flush_every must be an int >= 1, got {flush_every!r}")
        _check_seconds("flush_interval", flush_interval)
        _check_seconds("max_staleness", max_staleness)
        super().__init__(inner)
        self._flush_every = flush_every
        self._flush_interval = float(flush_interval)
        self._max_staleness = float(max_staleness)
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below; never held during I/O
        self._flush_lock = threading.Lock()  # one flush at a time, in queue order
        self._pending: list[Outcome] = []
        self._pending_keys: set[tuple[str, int]] = set()
        self._oldest_at = 0.0  # when the oldest queued outcome was queued
        self._cache: dict[str, tuple[float, dict[str, PathPosterior]]] = {}
        self._aside = SetAside()

    @property
    def pending(self) -> int:
        """Outcomes queued and not yet written (what a crash now would lose)."""
        return len(self._pending)

    @property
    def rejected(self) -> int:
        """Queued outcomes the store refused at a flush (set aside, not written)."""
        return self._aside.count

    @property
    def set_aside(self) -> list[Outcome]:
        """The last outcomes (up to 1,000) the store refused at a flush, oldest first."""
        return self._aside.outcomes

    def ensure_paths(
        self,
        task: str,
        paths: Sequence[str],
        prior: tuple[float, float] = (1.0, 1.0),
        horizon: float = DEFAULT_HORIZON,
    ) -> None:
        """Create the posteriors in the store (not batched)."""
        self._inner.ensure_paths(task, paths, prior, horizon)
        self._forget(task)

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """The store's posteriors (read at most every ``max_staleness`` s) plus queued outcomes."""
        self._flush_if_due()
        now = self._clock()
        with self._lock:
            cached = self._cache.get(task)
            fresh = cached is not None and now - cached[0] < self._max_staleness
            if cached is not None and fresh:
                rows = cached[1]
                queued = evidence_for(self._pending, task)
        if not fresh:
            rows = self._inner.posteriors(task)
            with self._lock:
                if self._max_staleness > 0:
                    self._cache[task] = (now, rows)
                queued = evidence_for(self._pending, task)
        return with_outcomes(rows, queued) if queued else rows

    def record(self, outcome: Outcome) -> bool:
        """Queue the outcome (writing the queue if it is due); False if already queued.

        Raises:
            InvalidRecordError: no store can hold the outcome (it is not queued).
        """
        outcome = check_outcome(outcome)
        key = (outcome.request_id, outcome.attempt)
        with self._lock:
            if key in self._pending_keys:
                return False
            if not self._pending:
                self._oldest_at = self._clock()
            self._pending.append(outcome)
            self._pending_keys.add(key)
        self._flush_if_due()
        return True

    def record_many(self, outcomes: Iterable[Outcome]) -> int:
        """Write the queue and ``outcomes`` in one batch now; count the newly stored ones."""
        batch = check_outcomes(list(outcomes))
        with self._lock:
            if batch and not self._pending:
                self._oldest_at = self._clock()
            self._pending.extend(batch)
            self._pending_keys.update((o.request_id, o.attempt) for o in batch)
        return self.flush()

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
        """Write the queue, then reset the path in the store."""
        self.flush()
        self._forget(task)
        return self._inner.reset(
            task,
            path,
            keep_successes=keep_successes,
            keep_count=keep_count,
            seen_resets=seen_resets,
            tick=tick,
        )

    def report(self, task: str, request_id: str, score: float, at: float) -> Report:
        """Write the queue (it may hold the request), then report to the store."""
        self.flush()
        self._forget(task)
        return self._inner.report(task, request_id, score, at)

    def flush(self) -> int:
        """Write every queued outcome now with one ``record_many``; return how many were new."""
        with self._flush_lock:
            with self._lock:
                batch = list(self._pending)
            if not batch:
                return 0
            stored = write_batch(self._inner, batch, self._aside)  # on error: stays queued
            with self._lock:
                del self._pending[: len(batch)]
                self._pending_keys.difference_update((o.request_id, o.attempt) for o in batch)
                if self._pending:
                    self._oldest_at = self._clock()
                for task, (read_at, rows) in list(self._cache.items()):
                    # The cached read predates these outcomes: keep seeing them.
                    mine = evidence_for(batch, task)
                    if mine:
                        self._cache[task] = (read_at, with_outcomes(rows, mine))
            return stored

    def __repr__(self) -> str:
        return (
            f"BatchingStore({self._inner!r}, flush_every={self._flush_every}, "
            f"flush_interval={self._flush_interval:g}, pending={self.pending})"
        )

    def _flush_if_due(self) -> None:
        with self._lock:
            count = len(self._pending)
            due = count >= self._flush_every or (
                count > 0 and self._clock() - self._oldest_at >= self._flush_interval
            )
        if due:
            self.flush()

    def _forget(self, task: str) -> None:
        with self._lock:
            self._cache.pop(task, None)


def _check_seconds(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number of seconds, got {value!r}")
    if value < 0:
        raise ConfigError(f"{name} must be >= 0 seconds, got {value!r}")
