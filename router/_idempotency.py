"""Idempotency keys: a repeated request gets the first one's result, computed once."""

from __future__ import annotations

import concurrent.futures
import math
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bandits import ConfigError
from router._clock import Clock
from router._names import shown

T = TypeVar("T")

MAX_KEYS = 100_000
HANDED_OVER: Any = object()
"""What a waiting duplicate gets when the first caller was cancelled (or interrupted)
instead of failing: it claims the key again and, first in line, runs the request."""


class IdempotencyCache:
    """Results of completed requests by key for ``window`` seconds, and requests in flight.

    The first caller with a key runs the request; concurrent callers with the same key
    wait for its result (or its error) instead of calling a path again. If the first
    caller is cancelled, the callers waiting are not: they get :data:`HANDED_OVER`,
    claim again, and one of them runs the request. Per process; failed requests are not
    remembered, so a retry runs again.

    Example:
        >>> cache = IdempotencyCache(window=60)
        >>> owner, future = cache.claim("k", now=0.0)
        >>> owner
        True
        >>> cache.finish("k", future, "result", now=1.0)
        >>> cache.claim("k", now=2.0)[1].result()
        'result'
    """

    def __init__(self, window: float) -> None:
        if not (
            isinstance(window, int | float)
            and not isinstance(window, bool)
            and math.isfinite(window)
            and window > 0
        ):
            raise ConfigError(
                f"idempotency_window must be a number of seconds > 0, got {shown(window)}"
            )
        self.window = window
        self._done: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._running: dict[str, concurrent.futures.Future[Any]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, now: float) -> tuple[bool, concurrent.futures.Future[Any]]:
        """(True, future to fill) for the first caller; else (False, future to wait on)."""
        with self._lock:
            stored = self._done.get(key)
            if stored is not None:
                if stored[0] > now:
                    ready: concurrent.futures.Future[Any] = concurrent.futures.Future()
                    ready.set_result(stored[1])
                    return False, ready
                del self._done[key]
            running = self._running.get(key)
            if running is not None:
                return False, running
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            self._running[key] = future
            return True, future

    def finish(
        self, key: str, future: concurrent.futures.Future[Any], result: Any, now: float
    ) -> None:
        """Remember ``result`` for the window and wake the waiting callers."""
        with self._lock:
            self._running.pop(key, None)
            self._done[key] = (now + self.window, result)
            while len(self._done) > MAX_KEYS:
                self._done.popitem(last=False)
        future.set_result(result)

    def fail(self, key: str, future: concurrent.futures.Future[Any], error: BaseException) -> None:
        """Wake the waiting callers with ``error``; nothing is remembered.

        A cancellation or an interrupt (not an ``Exception``) is the first caller's own:
        the waiting callers get :data:`HANDED_OVER` instead, and claim the key again.
        """
        with self._lock:
            self._running.pop(key, None)
        if isinstance(error, Exception):
            future.set_exception(error)
        else:
            future.set_result(HANDED_OVER)

    def once(self, key: str, clock: Clock, serve: Callable[[], T], replay: Callable[[T], T]) -> T:
        """``serve()`` for the first caller of ``key``; the others get its result replayed.

        Example:
            >>> cache = IdempotencyCache(window=60)
            >>> cache.once("k", lambda: 0.0, lambda: "first", lambda r: f"{r} again")
            'first'
            >>> cache.once("k", lambda: 1.0, lambda: "second", lambda r: f"{r} again")
            'first again'
        """
        while True:
            owner, future = self.claim(key, clock())
            if owner:
                break
            first = future.result()
            if first is not HANDED_OVER:  # else the first caller was cancelled: claim again
                return replay(first)
        try:
            result = serve()
        except BaseException as exc:
            self.fail(key, future, exc)
            raise
        self.finish(key, future, result, clock())
        return result

    async def aonce(
        self,
        key: str,
        clock: Clock,
        serve: Callable[[], Awaitable[T]],
        replay: Callable[[T], T],
    ) -> T:
        """:meth:`once` for async callers: waiting never blocks the event loop."""
        from router._calls import wait_for_future

        while True:
            owner, future = self.claim(key, clock())
            if owner:
                break
            # Never asyncio.wrap_future: a waiter cancelled would cancel the shared future.
            first = await wait_for_future(future)
            if first is not HANDED_OVER:  # else the first caller was cancelled: claim again
                return replay(first)
        try:
            result = await serve()
        except BaseException as exc:
            self.fail(key, future, exc)
            raise
        self.finish(key, future, result, clock())
        return result
