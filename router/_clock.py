"""Clocks: a zero-argument callable returning seconds, and a fake one for tests."""

from __future__ import annotations

import math
import threading
from typing import Protocol

from bandits import ConfigError
from router._names import shown


class Clock(Protocol):
    """A zero-argument callable returning seconds since the epoch, like ``time.time``.

    Example:
        >>> import time
        >>> clocks: list[Clock] = [time.time, FakeClock()]
    """

    def __call__(self) -> float: ...


class FakeClock:
    """A clock that moves only when told: ``advance`` or ``sleep`` (which never blocks).

    Pass it as ``Router(..., clock=clock)``; paths can call ``clock.sleep`` to "take" time.

    Example:
        >>> clock = FakeClock(start=100.0)
        >>> clock.sleep(2.5)
        >>> clock()
        102.5
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = _seconds(start, "start")
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (>= 0)."""
        step = _seconds(seconds, "seconds")
        if step < 0:
            raise ConfigError(f"a clock cannot go backwards; got advance({shown(seconds)})")
        with self._lock:
            self._now += step

    def sleep(self, seconds: float) -> None:
        """Same as :meth:`advance`: sleeping on a fake clock takes no real time."""
        self.advance(seconds)

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r})"


def _seconds(value: float, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be a finite number of seconds, got {shown(value)}")
    return number
