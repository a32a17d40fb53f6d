"""Rate limits and concurrency caps, kept per process on the router's clock."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from bandits import ConfigError


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``per_second`` and/or ``per_minute`` calls (token buckets, bursts allowed).

    Example:
        >>> RateLimit(per_second=5, per_minute=100)
        RateLimit(per_second=5, per_minute=100)
    """

    per_second: float | None = None
    per_minute: float | None = None

    def __post_init__(self) -> None:
        if self.per_second is None and self.per_minute is None:
            raise ConfigError("RateLimit needs per_second or per_minute (or both)")
        for name in ("per_second", "per_minute"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, int | float) and math.isfinite(value) and value > 0
            ):
                raise ConfigError(f"RateLimit {name} must be a positive number, got {value!r}")

    def buckets(self) -> list[TokenBucket]:
        """Fresh token buckets enforcing this limit."""
        found = []
        if self.per_second is not None:
            found.append(TokenBucket(self.per_second, 1.0))
        if self.per_minute is not None:
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


class Limiter:
    """The rate limits and in-flight caps of a router's paths (and of its customers)."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[TokenBucket]] = {}
        self._in_flight: dict[str, int] = {}
        self._caps: dict[str, int] = {}
        self._lock = threading.Lock()

    def configure(self, key: str, limit: RateLimit | None, cap: int | None) -> None:
        """Set the limit and cap for ``key`` (a path name, or ``customer:<id>``)."""
        if limit is not None:
            self._buckets[key] = limit.buckets()
        if cap is not None:
            self._caps[key] = cap

    def limited(self, key: str) -> bool:
        """Does ``key`` have any limit or cap at all?"""
        return key in self._buckets or key in self._caps

    def acquire(self, key: str, now: float) -> bool:
        """Take a call slot for ``key`` if its limits allow one now."""
        with self._lock:
            cap = self._caps.get(key)
            if cap is not None and self._in_flight.get(key, 0) >= cap:
                return False
            buckets = self._buckets.get(key, ())
            if any(b.wait(now) > 0 for b in buckets):
                return False
            for bucket in buckets:
                bucket.take(now)
            if cap is not None:
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
            return True

    def release(self, key: str) -> None:
        """A call of ``key`` finished."""
        if key not in self._caps:
            return  # no in-flight cap: nothing to count (and no lock on the hot path)
        with self._lock:
            self._in_flight[key] = max(0, self._in_flight.get(key, 0) - 1)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key``'s rate limits would allow a call (0 if they do now)."""
        return max((b.wait(now) for b in self._buckets.get(key, ())), default=0.0)
