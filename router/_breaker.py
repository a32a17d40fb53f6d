"""Store-shared path gates: the kill switch and circuit breakers every router obeys."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bandits import ConfigError
from router._clock import Clock
from router._names import shown
from router._outage import OutageLog
from storage import PathState, Store, StoreError

logger = logging.getLogger("outcome_router")

REFRESH_SECONDS = 0.5
"""How often a router re-reads path modes and breakers: an operator's change applies
to every router on the store within this (plus one request)."""


@dataclass(frozen=True, slots=True)
class Breaker:
    """A circuit breaker per (task, path), kept in the store so every router shares it.

    Closed: calls flow. After ``failures`` consecutive failed calls (exceptions and
    timeouts; client errors such as a 400 do not count, they are the request's fault)
    it opens: the path is left out of selection, so it costs neither a call nor a
    second bandit failure. After ``recovery`` seconds it is half-open: one router
    claims one trial call (atomically, in the store); an answer closes it, a failure
    opens it for another ``recovery``.

    Example:
        >>> Breaker(failures=3, recovery=10.0)
        Breaker(failures=3, recovery=10.0)
    """

    failures: int = 5
    recovery: float = 30.0

    def __post_init__(self) -> None:
        if isinstance(self.failures, bool) or not isinstance(self.failures, int):
            raise ConfigError(f"Breaker failures must be an int >= 1, got {shown(self.failures)}")
        if self.failures < 1:
            raise ConfigError(f"Breaker failures must be an int >= 1, got {shown(self.failures)}")
        if not (isinstance(self.recovery, int | float) and math.isfinite(self.recovery)):
            raise ConfigError(f"Breaker recovery must be seconds > 0, got {shown(self.recovery)}")
        if self.recovery <= 0:
            raise ConfigError(f"Breaker recovery must be seconds > 0, got {shown(self.recovery)}")


class PathGate:
    """Which paths a router may call now, by the store's modes and breakers.

    Reads the store at most every :data:`REFRESH_SECONDS`; when the store cannot be
    read it keeps the last states it saw (routing never fails because of the store).

    Example:
        >>> from router import FakeClock
        >>> from storage import MemoryStore
        >>> store, clock = MemoryStore(), FakeClock()
        >>> gate = PathGate(store, "t", clock, None)
        >>> store.set_path_mode("t", "b", "disabled", at=0.0)
        >>> gate.admit(("a", "b"), now=1.0)
        (['a'], None)
    """

    def __init__(self, store: Store, task: str, clock: Clock, breaker: Breaker | None) -> None:
        if breaker is not None and not isinstance(breaker, Breaker):
            raise ConfigError(f"breaker must be a Breaker(...) or None, got {shown(breaker)}")
        self._store = store
        self._read_states = store.path_states  # bound once: read on every refresh
        self._task = task
        self._clock = clock
        self.breaker = breaker
        self._states: dict[str, PathState] = {}
        self._read_at: float | None = None
        # During an outage: one line when reads (or breaker writes) start failing, one
        # when they work again, not one per refresh.
        self._refresh_log = OutageLog(f"path modes of task {task!r} not refreshed")
        self._count_log = OutageLog(f"breakers of task {task!r} not updated")

    def admit(self, names: Sequence[str], now: float) -> tuple[Sequence[str], str | None]:
        """The paths of ``names`` that may be called, and the one claimed for a trial call.

        A forced path is the only one admitted; disabled paths and open breakers are
        left out, except an open breaker whose trial this router just claimed.
        """
        states = self._current(now)
        if not states:
            return names, None  # the same object: the caller's fast path checks for it
        forced = [name for name in names if _mode(states, name) == "forced"]
        if forced:
            return forced[:1], None
        admitted: list[str] = []
        trial = None
        for name in names:
            state = states.get(name)
            if state is None:
                admitted.append(name)
            elif state.mode == "disabled":
                continue
            elif self.breaker is not None and state.is_open:
                if trial is None and self._claim(state, now):
                    trial = name
                    admitted.append(name)
            else:
                admitted.append(name)
        return admitted, trial

    def blocks(self, path: str, now: float) -> bool:
        """Is ``path`` disabled, or its breaker open (no trial claimed)? For calls that
        are never first in line, such as shadow calls.

        Example:
            >>> from router import FakeClock
            >>> from storage import MemoryStore
            >>> store = MemoryStore()
            >>> store.set_path_mode("t", "b", "disabled", at=0.0)
            >>> gate = PathGate(store, "t", FakeClock(), None)
            >>> gate.blocks("a", now=1.0), gate.blocks("b", now=1.0)
            (False, True)
        """
        state = self._current(now).get(path)
        if state is None:
            return False
        return state.mode == "disabled" or (self.breaker is not None and state.is_open)

    def observe(self, path: str, failed: bool, now: float) -> None:
        """Count a call's result towards the path's breaker (if the router has one)."""
        if self.breaker is None:
            return
        state = self._states.get(path)
        try:
            if failed:
                new = self._store.count_failure(self._task, path, now, self.breaker.failures)
                if new.is_open and not (state is not None and state.is_open):
                    logger.warning(
                        "circuit breaker of path %r (task %r) opened after %d failures",
                        path,
                        self._task,
                        new.failures,
                    )
                self._states[path] = new
            elif state is not None and (state.failures or state.is_open):
                self._store.count_success(self._task, path, now)
                self._states[path] = replace(state, failures=0, opened_at=None, trial_at=None)
        except StoreError as exc:
            self._count_log.failed(exc, now)
        else:
            self._count_log.succeeded(now)

    def set_mode(self, path: str, mode: str) -> None:
        """Set a path's mode in the store (for every router) and in this router at once."""
        self._store.set_path_mode(self._task, path, mode, self._clock())
        self._read_at = None

    def states(self) -> dict[str, PathState]:
        """The states last read from the store."""
        return dict(self._current(self._clock()))

    def _current(self, now: float) -> dict[str, PathState]:
        read_at = self._read_at
        if read_at is None or now - read_at >= REFRESH_SECONDS or now < read_at:
            try:
                self._states = self._read_states(self._task)
            except StoreError as exc:
                self._refresh_log.failed(exc, now)
            else:
                self._refresh_log.succeeded(now)
            self._read_at = now
        return self._states

    def _claim(self, state: PathState, now: float) -> bool:
        assert self.breaker is not None
        opened_at = state.opened_at
        if opened_at is None or now - opened_at < self.breaker.recovery:
            return False
        try:
            claimed = self._store.claim_trial(self._task, state.path, now, self.breaker.recovery)
        except StoreError:
            return False
        if claimed:
            self._states[state.path] = replace(state, trial_at=now)
        return claimed


def _mode(states: dict[str, PathState], name: str) -> str:
    state = states.get(name)
    return "auto" if state is None else state.mode
