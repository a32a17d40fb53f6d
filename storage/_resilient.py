"""ResilientStore: keep routing and recording while the store is unreachable (degraded mode)."""

from __future__ import annotations

import functools
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TypeVar

from bandits import ConfigError
from bandits._fading import DEFAULT_HORIZON
from storage._checks import check_outcome, check_outcomes, check_request_id
from storage._controls import PathState, Spend
from storage._errors import (
    StoreError,
    StoreUnavailableError,
    check_served,
)
from storage._pending import with_outcomes, with_paths
from storage._protocol import Store
from storage._reads import OutcomeFilter, Row
from storage._records import DailyAggregate, Outcome, PathPosterior, Report, served_attempt
from storage._segments import evidence_for, evidence_tasks
from storage._set_aside import SetAside, write_batch

logger = logging.getLogger("outcome_router")

_T = TypeVar("_T")
_PathsCall = tuple[str, tuple[str, ...], tuple[float, float], float]


class ResilientStore:
    """A :class:`storage.Store` that keeps working while the store behind it is unreachable.

    While ``inner`` raises :class:`storage.StoreUnavailableError` (server down, port
    closed, network cut, a call that did not answer in time), ``posteriors()`` returns
    the last posteriors read plus this process's outcomes stored or queued since, and
    ``record()`` / ``record_many()`` queue outcomes in memory and return as if stored,
    so routing never fails because of the store. (The local view is approximate: a
    read racing a write in another thread may count that outcome twice until the store
    is back; the store itself never counts it twice.) The store is
    tried again at most every ``retry_interval`` seconds (so a dead server does not cost
    a connection attempt per request); on the first call that reaches it, or an explicit
    :meth:`flush`, the queue is written with ``record_many``, in batches of
    ``flush_batch``. Outcomes are idempotent by (request_id, attempt), so a flush that is
    retried after a failure that happened past the commit counts nothing twice.

    Only an unreachable store is an outage. A row the store refuses is not: ``record()``
    of an outcome no store can hold (NaN, a NUL in a text...) raises
    :class:`storage.InvalidRecordError` at once, and an outcome already queued that the
    store refuses when the queue is written is set aside (counted in :attr:`rejected`,
    the last ones kept in :attr:`set_aside`) while the rest are written. Other store
    errors (a corrupt file) are raised as they are, without entering degraded mode.

    At most ``max_pending`` outcomes are queued: past that the oldest are dropped,
    counted in :attr:`dropped` and logged as warnings on the ``outcome_router`` logger.
    Queued outcomes live in this process only: they are lost if it exits before the
    store comes back (:meth:`close` tries a last flush and logs what it could not write).

    ``report()``, ``reset()``, the reads (``outcomes()``, ``daily_aggregates()``,
    ``tasks()``, ``outcome_chunks()``), ``prune()`` and the path controls and spending
    (``path_states()``, ``reserve_spend()``...) raise :class:`storage.StoreUnavailableError`
    while the store is down, at once, without calling it (a report of an outcome still
    queued is applied to the queue instead); the reads write the queue first. It
    offers the methods of :class:`storage.Store` and nothing else of ``inner``
    (``inner`` itself is there for the rest). Safe to share between threads.

    Example:
        >>> from storage import MemoryStore
        >>> store = ResilientStore(MemoryStore(), max_pending=1_000)
        >>> store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
        True
        >>> store.posteriors("t")["a"].alpha, store.pending, store.dropped, store.degraded
        (2.0, 0, 0, False)
        >>> store.rejected  # outcomes the store refused when the queue was written
        0
    """

    def __init__(
        self,
        inner: Store,
        *,
        max_pending: int = 10_000,
        retry_interval: float = 1.0,
        flush_batch: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise ConfigError(f"max_pending must be an int >= 1, got {max_pending!r}")
        if not (isinstance(retry_interval, int | float) and math.isfinite(retry_interval)):
            raise ConfigError(f"retry_interval must be a number of seconds, got {retry_interval!r}")
        if retry_interval < 0:
            raise ConfigError(f"retry_interval must be >= 0 seconds, got {retry_interval!r}")
        if isinstance(flush_batch, bool) or not isinstance(flush_batch, int) or flush_batch < 1:
            raise ConfigError(f"flush_batch must be an int >= 1, got {flush_batch!r}")
        self._inner = inner
        self._flush_batch = flush_batch
        self._max_pending = max_pending
        self._retry_interval = float(retry_interval)
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below; never held during I/O
        self._flush_lock = threading.Lock()  # one flush at a time
        self._pending: deque[Outcome] = deque()
        self._pending_keys: set[tuple[str, int]] = set()
        self._taken = 0  # outcomes ever taken off the left of _pending (stored or dropped)
        self._paths: list[_PathsCall] = []  # ensure_paths calls to replay
        self._known: dict[str, dict[str, PathPosterior]] = {}
        self._stored = 0  # outcomes stored through this wrapper so far
        self._recent: deque[tuple[int, Outcome]] = deque(maxlen=10_000)  # the last ones
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._aside = SetAside()
        self.dropped = 0
        """Queued outcomes dropped (oldest first) because the queue was full."""

    @property
    def url(self) -> str:
        """The inner store's URL."""
        return self._inner.url

    @property
    def inner(self) -> Store:
        """The wrapped store."""
        return self._inner

    @property
    def pending(self) -> int:
        """Outcomes queued and not yet written to the store."""
        return len(self._pending)

    @property
    def degraded(self) -> bool:
        """True from a failed store call until the next successful one."""
        return self._down_since is not None

    @property
    def rejected(self) -> int:
        """Queued outcomes the store refused when the queue was written (set aside)."""
        return self._aside.count

    @property
    def set_aside(self) -> list[Outcome]:
        """The last outcomes (up to 1,000) the store refused, oldest first."""
        return self._aside.outcomes

    def ensure_paths(
        self,
        task: str,
        paths: Sequence[str],
        prior: tuple[float, float] = (1.0, 1.0),
        horizon: float = DEFAULT_HORIZON,
    ) -> None:
        """Create the posteriors in the store, or locally (replayed later) while it is down."""
        if self._ready():
            try:
                self._inner.ensure_paths(task, paths, prior, horizon)
            except StoreUnavailableError as exc:
                self._mark_down(exc)
            else:
                with self._lock:
                    known = self._known.get(task, {})
                    self._known[task] = with_paths(known, paths, prior, horizon)
                return
        with self._lock:
            self._paths.append((task, tuple(paths), prior, horizon))
            self._known[task] = with_paths(self._known.get(task, {}), paths, prior, horizon)

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """The store's posteriors, or the last ones read plus queued outcomes while it is down."""
        if self._ready():
            started = self._stored  # outcomes stored from now on may miss this read
            try:
                rows = self._inner.posteriors(task)
            except StoreUnavailableError as exc:
                self._mark_down(exc)
            else:
                with self._lock:
                    late = self._stored_since(started, task)
                    # Kept for an outage, with what other threads stored meanwhile (the
                    # read may hold them already: counted twice, never missed).
                    self._known[task] = with_outcomes(rows, late) if late else rows
                    queued = evidence_for(self._pending, task)
                return with_outcomes(rows, queued) if queued else rows
        with self._lock:
            known = self._known.get(task, {})
            queued = evidence_for(self._pending, task)
        return with_outcomes(known, queued)

    def record(self, outcome: Outcome) -> bool:
        """Store the outcome, or queue it while the store is down (then True unless queued).

        Raises:
            InvalidRecordError: no store can hold the outcome (nothing is queued).
        """
        outcome = check_outcome(outcome)
        if self._ready():
            try:
                stored = self._inner.record(outcome)
            except StoreUnavailableError as exc:
                self._mark_down(exc)
            else:
                if stored:
                    self._remember([outcome])
                return stored
        return self._queue([outcome]) == 1

    def record_many(self, outcomes: Iterable[Outcome]) -> int:
        """Store the batch, or queue it while the store is down; count new (or newly queued)."""
        batch = check_outcomes(list(outcomes))
        if self._ready():
            try:
                stored = self._inner.record_many(batch)
            except StoreUnavailableError as exc:
                self._mark_down(exc)
            else:
                if stored == len({_key(o) for o in batch}):  # else: which ones is unknown
                    self._remember(batch)
                return stored
        return self._queue(batch)

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
        """Reset the path in the store. Raises StoreUnavailableError while it is down."""
        self._require_store()
        return self._call(
            lambda: self._inner.reset(
                task,
                path,
                keep_successes=keep_successes,
                keep_count=keep_count,
                seen_resets=seen_resets,
                tick=tick,
            )
        )

    def report(self, task: str, request_id: str, score: float, at: float) -> Report:
        """Report to the store, or to the queued outcome while the store is down.

        Raises:
            UnknownRequestError: the store holds no such request, or no path served it.
            StoreUnavailableError: the store is down and the request is not queued.
        """
        check_request_id(task, request_id)
        if not self._ready():
            with self._lock:
                queued = self._last_queued(task, request_id)
                if queued is not None:
                    index, stored = queued
                    check_served(task, request_id, stored.path, stored.error_class)
                    self._pending[index] = replace(stored, score=score)
                    return Report(
                        request_id, task, stored.path, stored.attempt, stored.score, score
                    )
            self._require_store()
        return self._call(lambda: self._inner.report(task, request_id, score, at))

    def outcomes(self, task: str) -> list[Outcome]:
        """Stored outcomes, then queued ones. Raises StoreUnavailableError while it is down."""
        self._require_store()
        stored = self._call(lambda: self._inner.outcomes(task))
        with self._lock:
            return stored + [o for o in self._pending if o.task == task]

    def flush(self) -> int:
        """Write the queued outcomes now (whatever the retry interval); return how many were new.

        The queue is written in batches of ``flush_batch``; each batch written leaves
        the queue at once, so a store that fails part-way keeps only what is left.
        Outcomes the store refuses are set aside (see :attr:`rejected`).

        Raises:
            StoreError: the store is still unreachable; the outcomes stay queued.
        """
        with self._flush_lock:
            with self._lock:
                total, paths = len(self._pending), list(self._paths)
            if not (total or paths):
                return 0  # nothing to write: says nothing about the store either
            for task, names, prior, horizon in paths:
                ensure = functools.partial(self._inner.ensure_paths, task, names, prior, horizon)
                self._call(ensure)
            with self._lock:
                del self._paths[: len(paths)]
            stored = written = 0
            while written < total:  # only what was queued when the flush began
                with self._lock:
                    size = min(self._flush_batch, total - written)
                    batch = list(itertools.islice(self._pending, size))
                    start = self._taken
                if not batch:
                    break
                write = functools.partial(write_batch, self._inner, batch, self._aside)
                stored += self._call(write)
                written += len(batch)
                with self._lock:
                    for _ in range(start + len(batch) - self._taken):  # < 0: others dropped
                        self._pending_keys.discard(_key(self._pending.popleft()))
                        self._taken += 1
            with self._lock:
                was_down, self._down_since = self._down_since, None
            if was_down is not None:
                logger.warning(
                    "store %s is reachable again after %.1f s: wrote %d queued outcomes "
                    "(%d new, %d dropped while it was down, %d set aside)",
                    self.url,
                    max(0.0, self._clock() - was_down),
                    written,
                    stored,
                    self.dropped,
                    self.rejected,
                )
            return stored

    def path_states(self, task: str) -> dict[str, PathState]:
        """The store's path states (StoreUnavailableError at once while it is down)."""
        return self._live(lambda: self._inner.path_states(task))

    def set_path_mode(self, task: str, path: str, mode: str, at: float) -> None:
        """Set a path's mode in the store (StoreUnavailableError at once while it is down)."""
        self._live(lambda: self._inner.set_path_mode(task, path, mode, at))

    def count_failure(self, task: str, path: str, at: float, threshold: int) -> PathState:
        """Count a breaker failure in the store (StoreUnavailableError while it is down)."""
        return self._live(lambda: self._inner.count_failure(task, path, at, threshold))

    def count_success(self, task: str, path: str, at: float) -> None:
        """Close the path's breaker in the store (StoreUnavailableError while it is down)."""
        self._live(lambda: self._inner.count_success(task, path, at))

    def claim_trial(self, task: str, path: str, at: float, recovery: float) -> bool:
        """Claim a breaker's trial in the store (StoreUnavailableError while it is down)."""
        return self._live(lambda: self._inner.claim_trial(task, path, at, recovery))

    def add_spend(self, scope: str, day: int, tokens: int, cost: float) -> Spend:
        """Add spending in the store (StoreUnavailableError at once while it is down)."""
        return self._live(lambda: self._inner.add_spend(scope, day, tokens, cost))

    def reserve_spend(
        self,
        scope: str,
        day: int,
        tokens: int,
        cost: float,
        limits: tuple[float | None, int | None],
    ) -> Spend | None:
        """Reserve spending in the store (StoreUnavailableError at once while it is down)."""
        return self._live(lambda: self._inner.reserve_spend(scope, day, tokens, cost, limits))

    def spend(self, scope: str, day: int) -> Spend:
        """A scope's spending (StoreUnavailableError at once while the store is down)."""
        return self._live(lambda: self._inner.spend(scope, day))

    def prune(self, older_than: float) -> int:
        """Prune the store's old outcomes (StoreUnavailableError at once while it is down)."""
        return self._live(lambda: self._inner.prune(older_than))

    def daily_aggregates(self, task: str) -> list[DailyAggregate]:
        """The store's daily sums, once the queue is written (StoreUnavailableError while
        the store is down)."""
        self._require_store()
        return self._call(lambda: self._inner.daily_aggregates(task))

    def tasks(self) -> list[str]:
        """The store's tasks, once the queue is written (StoreUnavailableError while down)."""
        self._require_store()
        return self._call(self._inner.tasks)

    def outcome_chunks(self, keep: OutcomeFilter, chunksize: int) -> Iterator[list[Row]]:
        """The store's kept outcomes in chunks, once the queue is written
        (StoreUnavailableError while the store is down)."""
        self._require_store()
        return self._call(lambda: self._inner.outcome_chunks(keep, chunksize))

    def close(self) -> None:
        """Try a last flush (logging what it could not write), then close the inner store."""
        try:
            self.flush()
        except StoreError as exc:
            logger.warning(
                "closing store %s with %d queued outcomes not written: %s",
                self.url,
                self.pending,
                exc,
            )
        finally:
            self._inner.close()

    def __repr__(self) -> str:
        return f"ResilientStore({self._inner!r}, pending={self.pending}, dropped={self.dropped})"

    def _ready(self) -> bool:
        """True when the store may be called now: not in back-off, and nothing left queued."""
        if self._backing_off():
            return False
        if not (self._pending or self._paths):
            return True
        try:
            self.flush()
        except StoreUnavailableError:
            return False
        return True

    def _backing_off(self) -> bool:
        return self._down_since is not None and self._clock() < self._retry_at

    def _require_store(self) -> None:
        if not self._ready():
            raise self._unreachable()

    def _unreachable(self) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"store {self.url} is unreachable (retrying at most every "
            f"{self._retry_interval:g} s; {self.pending} outcomes queued); try again later"
        )

    def _live(self, call: Callable[[], _T]) -> _T:
        """Call the store now, unless it is in back-off (then StoreUnavailableError at once)."""
        if self._backing_off():
            raise self._unreachable()
        return self._call(call)

    def _call(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except StoreUnavailableError as exc:  # only an unreachable store is an outage
            self._mark_down(exc)
            raise

    def _mark_down(self, exc: StoreUnavailableError) -> None:
        now = self._clock()
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = now
            self._retry_at = now + self._retry_interval
        if first:
            logger.warning(
                "store %s is unreachable, routing from the last known posteriors and queueing "
                "up to %d outcomes: %s",
                self.url,
                self._max_pending,
                exc,
            )

    def _queue(self, outcomes: Iterable[Outcome]) -> int:
        with self._lock:
            added = 0
            for outcome in outcomes:
                key = _key(outcome)
                if key not in self._pending_keys:
                    self._pending.append(outcome)
                    self._pending_keys.add(key)
                    added += 1
            overflow = len(self._pending) - self._max_pending
            for _ in range(overflow):
                self._pending_keys.discard(_key(self._pending.popleft()))
                self._taken += 1
            before, self.dropped = self.dropped, self.dropped + max(overflow, 0)
        if overflow > 0 and _magnitude(self.dropped) > _magnitude(before):
            logger.warning(
                "store %s is unreachable and %d outcomes are queued: dropped the oldest, "
                "%d so far; raise max_pending to keep more",
                self.url,
                self._max_pending,
                self.dropped,
            )
        return added

    def _remember(self, stored: list[Outcome]) -> None:
        """Add newly stored outcomes to the last posteriors read, should the store go down next."""
        with self._lock:
            for outcome in stored:
                self._stored += 1
                self._recent.append((self._stored, outcome))
            touched = {task for o in stored for task, _ in evidence_tasks(o)}
            for task in touched & self._known.keys():  # a task's read, or a segment's
                self._known[task] = with_outcomes(self._known[task], evidence_for(stored, task))

    def _stored_since(self, count: int, task: str) -> list[Outcome]:
        """Outcomes of ``task`` stored after the first ``count`` (under the lock)."""
        late = []
        for number, outcome in reversed(self._recent):
            if number <= count:
                break
            late.append(outcome)
        return evidence_for(late, task)

    def _last_queued(self, task: str, request_id: str) -> tuple[int, Outcome] | None:
        """The queued attempt a report of the request scores: its last one, or the
        earlier one whose output was served (see ``storage.served_attempt``)."""
        mine = {
            outcome.attempt: (index, outcome)
            for index, outcome in enumerate(self._pending)
            if outcome.request_id == request_id and outcome.task == task
        }
        if not mine:
            return None
        last = mine[max(mine)]
        served = served_attempt(last[1])
        return last if served is None else mine.get(served)


def _key(outcome: Outcome) -> tuple[str, int]:
    return (outcome.request_id, outcome.attempt)


def _magnitude(count: int) -> int:
    """Digits of ``count``: drops are logged at 1, 10, 100, ... so an outage cannot flood logs."""
    return len(str(count)) if count else 0
