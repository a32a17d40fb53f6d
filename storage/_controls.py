"""Path controls and spending shared through the store: kill switch, breakers, budgets.

Every router on a store reads the same rows, so an operator's ``disable`` or a circuit
breaker opened by one process applies to all of them, and a budget is spent once
across processes. The in-memory store keeps them in :class:`MemoryControls`; the SQL
stores in the ``path_state`` and ``spend`` tables (``storage/_controls_sql.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from bandits import ConfigError
from storage._checks import check_spend, check_text

MODES = ("auto", "disabled", "forced")
"""``auto``: the policy decides; ``disabled``: never routed to; ``forced``: always first."""


@dataclass(frozen=True, slots=True)
class PathState:
    """A path's operator mode and circuit-breaker counters for one task.

    ``failures`` counts consecutive failed calls; ``opened_at`` is when the breaker
    opened (None: closed); ``trial_at`` when a router last claimed the half-open trial.

    Example:
        >>> PathState("gpt").mode, PathState("gpt", opened_at=5.0).is_open
        ('auto', True)
    """

    path: str
    mode: str = "auto"
    failures: int = 0
    opened_at: float | None = None
    trial_at: float | None = None
    updated_at: float | None = None

    @property
    def is_open(self) -> bool:
        """The circuit breaker is open (or half-open): calls fail fast."""
        return self.opened_at is not None


@dataclass(frozen=True, slots=True)
class Spend:
    """Tokens and dollars spent by one scope (``task:<t>`` or ``customer:<t>:<c>``) on one day.

    Example:
        >>> Spend(tokens=1200, cost=0.03).cost
        0.03
    """

    tokens: int = 0
    cost: float = 0.0


def check_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`MODES`, else a ConfigError saying which are."""
    if mode not in MODES:
        raise ConfigError(f"path mode must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


class MemoryControls:
    """Path states and spending in this process's memory (the ``memory://`` store's).

    Example:
        >>> controls = MemoryControls()
        >>> controls.count_failure("t", "a", at=1.0, threshold=1).opened_at
        1.0
        >>> controls.claim_trial("t", "a", at=20.0, recovery=10.0)
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # task -> path -> state, replaced (never changed in place) so reads need no lock
        self._by_task: dict[str, dict[str, PathState]] = {}
        self._spend: dict[tuple[str, int], Spend] = {}

    def path_states(self, task: str) -> dict[str, PathState]:
        """Every path of ``task`` with a mode or breaker state."""
        found = self._by_task.get(task)  # read on every request: no lock, no scan
        return dict(found) if found else {}

    def set_path_mode(self, task: str, path: str, mode: str, at: float) -> None:
        """Set a path's operator mode; forcing a path un-forces the task's others."""
        check_mode(mode)
        check_text("task", task)
        check_text("path", path)
        with self._lock:
            if mode == "forced":
                for state in list(self._by_task.get(task, {}).values()):
                    if state.mode == "forced":
                        self._put(task, replace(state, mode="auto", updated_at=at))
            self._put(task, replace(self._get(task, path), mode=mode, updated_at=at))

    def count_failure(self, task: str, path: str, at: float, threshold: int) -> PathState:
        """One more consecutive failure; the breaker opens (again) at ``threshold``."""
        check_text("path", path)
        with self._lock:
            state = self._get(task, path)
            failures = state.failures + 1
            opened_at = at if failures >= threshold else state.opened_at
            state = replace(state, failures=failures, opened_at=opened_at, updated_at=at)
            self._put(task, state)
            return state

    def count_success(self, task: str, path: str, at: float) -> None:
        """A call answered: close the breaker and clear the failure count."""
        with self._lock:
            state = self._get(task, path)
            if state.failures or state.opened_at is not None:
                cleared = replace(state, failures=0, opened_at=None, trial_at=None, updated_at=at)
                self._put(task, cleared)

    def claim_trial(self, task: str, path: str, at: float, recovery: float) -> bool:
        """Claim the half-open trial call of an open breaker, once per ``recovery`` seconds."""
        with self._lock:
            state = self._get(task, path)
            if not _trial_due(state, at, recovery):
                return False
            self._put(task, replace(state, trial_at=at, updated_at=at))
            return True

    def add_spend(self, scope: str, day: int, tokens: int, cost: float) -> Spend:
        """Add to a scope's spending of ``day``; returns the new totals."""
        added = self.reserve_spend(scope, day, tokens, cost, (None, None))  # no limit
        assert added is not None
        return added

    def reserve_spend(
        self,
        scope: str,
        day: int,
        tokens: int,
        cost: float,
        limits: tuple[float | None, int | None],
    ) -> Spend | None:
        """Add to a scope's spending only while it is under ``limits`` (cost, tokens).

        Returns the new totals, or None (and adds nothing) when a limit is already
        reached: concurrent reservations overshoot a limit by at most one of them.
        """
        check_spend(scope, tokens, cost)
        with self._lock:
            old = self._spend.get((scope, day), Spend())
            if under(old, limits):
                new = Spend(old.tokens + tokens, old.cost + cost)
                self._spend[scope, day] = new
                return new
            return None

    def spend(self, scope: str, day: int) -> Spend:
        """A scope's spending of ``day``."""
        with self._lock:
            return self._spend.get((scope, day), Spend())

    def _put(self, task: str, state: PathState) -> None:
        self._by_task[task] = {**self._by_task.get(task, {}), state.path: state}

    def _get(self, task: str, path: str) -> PathState:
        return self._by_task.get(task, {}).get(path) or PathState(path)


def under(spent: Spend, limits: tuple[float | None, int | None]) -> bool:
    """Is ``spent`` below both limits (None: no limit)?

    Example:
        >>> under(Spend(10, 0.5), (1.0, None)), under(Spend(10, 0.5), (None, 10))
        (True, False)
    """
    cost, tokens = limits
    return (cost is None or spent.cost < cost) and (tokens is None or spent.tokens < tokens)


def _trial_due(state: PathState, at: float, recovery: float) -> bool:
    if state.opened_at is None or at - state.opened_at < recovery:
        return False
    return (
        state.trial_at is None
        or state.trial_at < state.opened_at
        or (at - state.trial_at >= recovery)
    )
