"""Rate limits and concurrency caps on the router's clock: per process, or shared in the store."""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bandits import ConfigError
from router._names import shown
from storage import StoreError

if TYPE_CHECKING:
    from storage import Store

logger = logging.getLogger("outcome_router")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``per_second`` and/or ``per_minute`` calls, and ``tokens_per_minute`` tokens.

    Calls are counted in token buckets (bursts allowed); tokens are counted per UTC
    minute from the usage each call reports (``Metered``), so calls already in flight
    can overshoot a minute's tokens, as a provider's own limit would let them. With
    ``shared=True`` (a provider's limit on one key, shared by every process) the minute
    counts are kept in the store, like breakers, so all routers on it share them;
    ``per_second`` stays a per-process bucket.

    Example:
        >>> RateLimit(per_second=5, per_minute=100)
        RateLimit(per_second=5, per_minute=100)
        >>> RateLimit(per_minute=600, tokens_per_minute=150_000, shared=True)
        RateLimit(per_second=None, per_minute=600, tokens_per_minute=150000, shared=True)
    """

    per_second: float | None = None
    per_minute: float | None = None
    tokens_per_minute: float | None = None
    shared: bool = False

    def __post_init__(self) -> None:
        if self.per_second is None and self.per_minute is None and self.tokens_per_minute is None:
            raise ConfigError(
                "RateLimit needs per_second, per_minute or tokens_per_minute (or several)"
            )
        for name in ("per_second", "per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value > 0
            ):
                raise ConfigError(f"RateLimit {name} must be a positive number, got {shown(value)}")
        if not isinstance(self.shared, bool):
            raise ConfigError(f"RateLimit shared must be True or False, got {self.shared!r}")

    def __repr__(self) -> str:
        parts = [f"per_second={self.per_second!r}", f"per_minute={self.per_minute!r}"]
        if self.tokens_per_minute is not None:
            parts.append(f"tokens_per_minute={self.tokens_per_minute!r}")
        if self.shared:
            parts.append("shared=True")
        return f"RateLimit({', '.join(parts)})"

    def buckets(self) -> list[TokenBucket]:
        """Fresh token buckets enforcing this limit's calls in this process."""
        found = []
        if self.per_second is not None:
            found.append(TokenBucket(self.per_second, 1.0))
        if self.per_minute is not None and not self.shared:
            found.append(TokenBucket(self.per_minute, 60.0))
        return found


class TokenBucket:
    """``capacity`` tokens refilled evenly over ``period`` seconds; a call takes one.

    Example:
        >>> bucket = TokenBucket(2, 1.0)
        >>> [bucket.take(now=0.0) for _ in range(3)], bucket.take(now=0.5)
        ([True, True, False], True)
    """

    __slots__ = ("_at", "_capacity", "_lock", "_rate", "_tokens")

    def __init__(self, capacity: float, period: float) -> None:
        self._capacity = float(capacity)
        self._rate = capacity / period
        self._tokens = float(capacity)
        self._at: float | None = None
        self._lock = threading.Lock()

    def take(self, now: float) -> bool:
        """Take a token if one is there."""
        with self._lock:
            self._refill(now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def wait(self, now: float) -> float:
        """Seconds until a token will be there."""
        with self._lock:
            self._refill(now)
            return max(0.0, (1.0 - self._tokens) / self._rate)

    def _refill(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._rate)
        if self._at is None or now > self._at:
            self._at = now


class MinuteCounts:
    """Calls and tokens of one key per UTC minute: in the store (shared by every router
    on it) or in this process. Atomic where it matters: a call is counted only while
    the minute is under its limit (``Store.reserve_spend``).

    Example:
        >>> counts = MinuteCounts("k", RateLimit(per_minute=2, tokens_per_minute=100))
        >>> [counts.take(now=0.0) for _ in range(3)], counts.wait(now=30.0)
        ([True, True, False], 30.0)
        >>> counts.used(150, now=61.0); counts.take(now=62.0)
        False
    """

    def __init__(self, key: str, limit: RateLimit, store: Store | None = None) -> None:
        self._requests = f"rate:{key}:requests"
        self._tokens = f"rate:{key}:tokens"
        self._calls_limit = None if limit.per_minute is None else int(limit.per_minute)
        self._token_limit = (
            None if limit.tokens_per_minute is None else int(limit.tokens_per_minute)
        )
        if store is None:
            from storage import MemoryStore

            store = MemoryStore()
        self._store = store

    def take(self, now: float) -> bool:
        """Count one call of this minute if its calls and tokens are under their limits."""
        minute = math.floor(now / 60.0)
        try:
            limit = self._token_limit
            if limit is not None and self._store.spend(self._tokens, minute).tokens >= limit:
                return False
            if self._calls_limit is not None:
                limits = (None, self._calls_limit)
                return self._store.reserve_spend(self._requests, minute, 1, 0.0, limits) is not None
        except StoreError as exc:  # routing goes on when the store does not answer
            logger.warning("rate limit of %s not checked: %s", self._requests, exc)
        return True

    def used(self, tokens: int, now: float) -> None:
        """Add the tokens a call of this minute used."""
        if self._token_limit is None or tokens <= 0:
            return
        try:
            self._store.add_spend(self._tokens, math.floor(now / 60.0), tokens, 0.0)
        except StoreError as exc:
            logger.warning("tokens of %s not counted: %s", self._tokens, exc)

    def wait(self, now: float) -> float:
        """Seconds until the next minute (when a limit is reached), else 0."""
        minute = math.floor(now / 60.0)
        try:
            calls = self._store.spend(self._requests, minute).tokens
            tokens = self._store.spend(self._tokens, minute).tokens
        except StoreError:
            return 0.0
        full = (self._calls_limit is not None and calls >= self._calls_limit) or (
            self._token_limit is not None and tokens >= self._token_limit
        )
        return (minute + 1) * 60.0 - now if full else 0.0


class Limiter:
    """The rate limits and in-flight caps of a router's paths (and of its customers).

    ``store`` and ``task`` keep the per-minute counts of ``RateLimit(shared=True)`` in
    the store (keys ``rate:<task>:<path>``), so every router on it shares them.
    """

    def __init__(self, store: Store | None = None, task: str = "") -> None:
        self._store = store
        self._task = task
        self._buckets: dict[str, list[TokenBucket]] = {}
        self._minutes: dict[str, MinuteCounts] = {}
        self._in_flight: dict[str, int] = {}
        self._caps: dict[str, int] = {}
        self._lock = threading.Lock()

    def configure(self, key: str, limit: RateLimit | None, cap: int | None) -> None:
        """Set the limit and cap for ``key`` (a path name, or ``customer:<id>``)."""
        if limit is not None:
            self._buckets[key] = limit.buckets()
            counted = limit.tokens_per_minute is not None or (
                limit.shared and limit.per_minute is not None
            )
            if counted:
                store = self._store if limit.shared else None
                self._minutes[key] = MinuteCounts(f"{self._task}:{key}", limit, store)
        if cap is not None:
            self._caps[key] = cap

    def limited(self, key: str) -> bool:
        """Does ``key`` have any limit or cap at all?"""
        return key in self._buckets or key in self._caps or key in self._minutes

    def acquire(self, key: str, now: float) -> bool:
        """Take a call slot for ``key`` if its limits allow one now."""
        with self._lock:
            cap = self._caps.get(key)
            if cap is not None and self._in_flight.get(key, 0) >= cap:
                return False
            buckets = self._buckets.get(key, ())
            if any(b.wait(now) > 0 for b in buckets):
                return False
            minutes = self._minutes.get(key)
            if minutes is not None and not minutes.take(now):
                return False
            for bucket in buckets:
                bucket.take(now)
            if cap is not None:
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return True

    def used(self, key: str, tokens: int, now: float) -> None:
        """A call of ``key`` used ``tokens`` (counted against ``tokens_per_minute``)."""
        minutes = self._minutes.get(key)
        if minutes is not None:
            minutes.used(tokens, now)

    def release(self, key: str) -> None:
        """A call of ``key`` finished."""
        if key not in self._caps:
            return  # no in-flight cap: nothing to count (and no lock on the hot path)
        with self._lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key``'s rate limits would allow a call (0 if they do now)."""
        waits = [b.wait(now) for b in self._buckets.get(key, ())]
        minutes = self._minutes.get(key)
        if minutes is not None:
            waits.append(minutes.wait(now))
        return max(waits, default=0.0)
