"""One log line when a store operation starts failing and one when it works again.

A router calls the store on every request (and refreshes path modes twice a second),
so logging each failure during an outage floods the log with the same line. An
:class:`OutageLog` logs the first failure of a streak, counts the rest, and logs the
recovery with that count.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("outcome_router")


class OutageLog:
    """Logs the start and the end of a streak of failures of one store operation.

    Example:
        >>> log = OutageLog("path modes of 'extract' not refreshed")
        >>> for _ in range(3):
        ...     log.failed(ConnectionError("down"), now=10.0)
        >>> log.failures
        3
        >>> log.succeeded(now=12.0)
        >>> log.failures
        0
    """

    __slots__ = ("_lock", "_since", "_what", "failures")

    def __init__(self, what: str) -> None:
        self._what = what
        self._lock = threading.Lock()
        self._since: float | None = None
        self.failures = 0
        """Failures in the current streak (0: the operation works)."""

    def failed(self, error: BaseException, now: float) -> None:
        """One more failure: logged as a warning if it is the first of a streak."""
        with self._lock:
            first = self._since is None
            if first:
                self._since = now
            self.failures += 1
        if first:
            logger.warning("%s: %s (logged once until it works again)", self._what, _text(error))

    def succeeded(self, now: float) -> None:
        """The operation worked: log the end of a streak, if there was one."""
        if self._since is None:  # the common case, read without the lock
            return
        with self._lock:
            since, failures = self._since, self.failures
            self._since, self.failures = None, 0
        if since is not None:
            logger.warning(
                "%s: works again after %.1f s and %d failures", self._what, now - since, failures
            )


def _text(error: BaseException) -> str:
    from router._redact import error_text

    return error_text(error)
