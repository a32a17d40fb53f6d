"""Idempotency keys: a repeated request gets the first one's result, computed once."""

from __future__ import annotations

import concurrent.futures
import threading
from collections import OrderedDict
from typing import Any

from bandits import ConfigError

MAX_KEYS = 100_000


class IdempotencyCache:
    """Results of completed requests by key for ``window`` seconds, and requests in flight.

    The first caller with a key runs the request; concurrent callers with the same key
    wait for its result (or its error) instead of calling a path again. Per process;
    failed requests are not remembered, so a retry runs again.

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
        if not window > 0:
            raise ConfigError(f"idempotency window must be > 0 seconds, got {window!r}")
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
        """Wake the waiting callers with ``error``; nothing is remembered."""
        with self._lock:
            self._running.pop(key, None)
        future.set_exception(error)
