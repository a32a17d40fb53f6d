"""How long a store call may wait for the database, and how long a caller's calls waited.

A SQL store bounds every call (the wait for a lock, a connection, an answer) by its own
``timeout``. A caller with a deadline bounds them further: it sets a
:class:`StoreWaits` around its store calls with :func:`store_waits`, and every SQL
store call made in that context waits at most ``StoreWaits.limit()`` seconds, then
raises :class:`storage.StoreUnavailableError`. The router does this for each run: its
store calls wait at most ``store_timeout`` seconds, and at most half of what is left
of the run's deadline, and the time they took is added back to the deadline of its
path calls (a slow store is never charged to a path).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

MIN_WAIT = 0.1
"""Seconds any store call may wait, however little of a deadline is left (a healthy
store answers in milliseconds; less would flap between working and degraded)."""

WAITS: ContextVar[StoreWaits | None] = ContextVar("outcome_router_store_waits", default=None)


class StoreWaits:
    """The bound on store calls made in one context, and the time they took.

    ``cap``: seconds any one call may wait. ``deadline_at``: the caller's deadline, on
    ``clock``; each call then waits at most half of what is left of it (and at least
    :data:`MIN_WAIT`). ``spent``: seconds the calls took, on ``clock``.

    Example:
        >>> clock = lambda: 100.0
        >>> waits = StoreWaits(cap=2.0, deadline_at=101.0, clock=clock)
        >>> waits.limit()
        0.5
        >>> StoreWaits(cap=2.0, deadline_at=None, clock=clock).limit()
        2.0
    """

    __slots__ = ("cap", "clock", "deadline_at", "spent")

    def __init__(self, cap: float, deadline_at: float | None, clock: Callable[[], float]) -> None:
        self.cap = cap
        self.deadline_at = deadline_at
        self.clock = clock
        self.spent = 0.0

    def limit(self) -> float:
        """Seconds the next store call may wait."""
        if self.deadline_at is None:
            return self.cap
        return min(self.cap, max(MIN_WAIT, (self.deadline_at - self.clock()) / 2.0))

    def take(self) -> float:
        """The seconds store calls took since the last take (and reset the count)."""
        spent, self.spent = self.spent, 0.0
        return spent


@contextlib.contextmanager
def store_waits(waits: StoreWaits | None) -> Iterator[StoreWaits | None]:
    """Bound the store calls made inside the block by ``waits`` (None: no bound of ours).

    Example:
        >>> import time
        >>> with store_waits(StoreWaits(1.0, None, time.monotonic)) as waits:
        ...     wait_limit(30.0)
        1.0
        >>> wait_limit(30.0)
        30.0
    """
    token = WAITS.set(waits)
    try:
        yield waits
    finally:
        WAITS.reset(token)


def wait_limit(default: float) -> float:
    """Seconds a store call made now may wait: ``default`` (the store's own timeout), or
    less when the caller said so."""
    waits = WAITS.get()
    return default if waits is None else min(default, waits.limit())
