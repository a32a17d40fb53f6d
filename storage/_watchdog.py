"""Bounding PostgreSQL calls that would wait for ever: a server frozen, a network black hole.

A server that is stopped (SIGSTOP), or a link that drops packets silently, never
answers: the kernel keeps the connection up, psycopg waits on its socket, and neither
``statement_timeout`` (the server must run to enforce it) nor TCP keep-alives end the
wait. So a store call is bounded here, in the client:

* :class:`Watchdog` shuts down the socket of a connection whose call overran its
  time; psycopg's wait then ends at once with an error, which the store reports as
  :class:`storage.StoreUnavailableError`, and the connection is thrown away.
* :func:`connect_within` makes a new connection in a helper thread and gives up on it
  after the time left (psycopg's own ``connect_timeout`` is whole seconds, at least 2).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any


class CallTimer:
    """One store call's bound: ``deadline`` on ``time.monotonic``; ``fired`` once the
    watchdog cut its connection."""

    __slots__ = ("deadline", "fired", "limit")

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.deadline = time.monotonic() + limit
        self.fired = False

    def remaining(self) -> float:
        """Seconds left before the deadline (<= 0 once it passed)."""
        return self.deadline - time.monotonic()


CURRENT: ContextVar[CallTimer | None] = ContextVar("outcome_router_store_call", default=None)


@contextlib.contextmanager
def timed_call(limit: float) -> Iterator[CallTimer]:
    """The block is one store call of at most ``limit`` seconds (armed on checkout)."""
    timer = CallTimer(limit)
    token = CURRENT.set(timer)
    try:
        yield timer
    finally:
        CURRENT.reset(token)
        WATCHDOG.disarm(timer)


class Watchdog:
    """One daemon thread that shuts down the socket of every armed call past its deadline.

    Example:
        >>> dog = Watchdog()
        >>> left, right = socket.socketpair()
        >>> timer = CallTimer(0.01)
        >>> dog.arm(timer, left.fileno())
        >>> right.settimeout(5.0)
        >>> right.recv(1)  # the watchdog shut the other end at its deadline
        b''
        >>> timer.fired, dog.disarm(timer)
        (True, True)
        >>> left.close(); right.close()
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[CallTimer, int]] = {}
        self._thread: threading.Thread | None = None

    def arm(self, timer: CallTimer, fileno: int) -> None:
        """Watch the connection on ``fileno`` until ``timer`` is disarmed."""
        with self._cond:
            self._armed[id(timer)] = (timer, fileno)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._watch, name="outcome-router-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def disarm(self, timer: CallTimer) -> bool:
        """Stop watching for ``timer``; True if it fired (its connection is cut)."""
        with self._cond:
            self._armed.pop(id(timer), None)
            return timer.fired

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for key, (timer, fileno) in list(self._armed.items()):
                    if timer.deadline <= now:
                        del self._armed[key]
                        timer.fired = True
                        _cut(fileno)  # under the lock: the caller cannot hand it back meanwhile
                soonest = min((t.deadline for t, _ in self._armed.values()), default=None)
                self._cond.wait(None if soonest is None else max(0.0, soonest - now))


def _cut(fileno: int) -> None:
    """Shut down the socket behind ``fileno`` (both ways), leaving the descriptor open: the
    connection's own reads and writes then fail at once."""
    with contextlib.suppress(OSError):
        duplicate = os.dup(fileno)
        try:
            sock = socket.socket(fileno=duplicate)
        except OSError:
            os.close(duplicate)
            raise
        with sock:
            sock.shutdown(socket.SHUT_RDWR)


WATCHDOG = Watchdog()


def connect_within(connect: Callable[[], Any], limit: float, error: type[Exception]) -> Any:
    """``connect()``, or ``error`` if it has not answered within ``limit`` seconds (the late
    connection, if it comes, is closed).

    Example:
        >>> connect_within(lambda: "connection", 1.0, OSError)
        'connection'
        >>> connect_within(lambda: time.sleep(0.5), 0.01, OSError)
        Traceback (most recent call last):
        ...
        OSError: the database did not accept a connection within 0.01 s
    """
    if limit <= 0:
        raise error("no time was left to connect to the database")
    done = threading.Event()
    outcome: dict[str, Any] = {}
    lock = threading.Lock()

    def attempt() -> None:
        try:
            made = connect()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc
        else:
            with lock:
                late = outcome.get("abandoned", False)
                outcome["connection"] = made
            if late:
                with contextlib.suppress(Exception):
                    made.close()
        done.set()

    threading.Thread(target=attempt, name="outcome-router-connect", daemon=True).start()
    if not done.wait(limit):
        with lock:
            outcome["abandoned"] = True
            made = outcome.get("connection")
        if made is None:
            raise error(f"the database did not accept a connection within {limit:.3g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["connection"]
