"""Shadow calls: run a path on a sample of requests in the background, never serving it."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

from router._workers import WorkerPool

logger = logging.getLogger("outcome_router")

SHADOW_WORKERS = 2
CLOSE_WAIT = 5.0
"""Seconds ``close()`` waits for shadow calls already running (one that hangs is left
behind on its daemon thread: it cannot keep the process from exiting)."""


class ShadowRunner:
    """A small pool that runs shadow calls; their errors are logged, never raised.

    Example:
        >>> runner = ShadowRunner()
        >>> seen = []
        >>> runner.submit(seen.append, 1)
        >>> runner.wait(); seen
        [1]
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: WorkerPool | None = None
        self._pending: set[concurrent.futures.Future[None]] = set()

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` in the background."""
        with self._lock:
            if self._pool is None:
                self._pool = WorkerPool(SHADOW_WORKERS, "outcome-router-shadow")
            future = self._pool.submit(_logged, fn, *args)
            self._pending.add(future)
        future.add_done_callback(self._discard)

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the shadow calls submitted so far."""
        with self._lock:
            pending = list(self._pending)
        concurrent.futures.wait(pending, timeout=timeout)

    def close(self) -> None:
        """Drop the shadow calls not started; wait up to :data:`CLOSE_WAIT` seconds for
        the running ones to finish."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            self.wait(CLOSE_WAIT)

    def _discard(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)


def _logged(fn: Callable[..., None], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        logger.exception("a shadow call failed")
