"""Requests in flight: the simulator's clock, and feedback that arrives when calls finish.

The simulator serves requests one at a time in arrival order. At 50 requests per
second with one-second calls, fifty requests are in flight at once, and each one was
routed without knowing how the previous fifty went. ``DelayedStore`` and
``DelayedPolicy`` reproduce that: an outcome reaches the store (and a policy's own
state) only when the simulated clock passes the moment its call finished.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from router import Choice, Policy
from storage import (
    Outcome,
    PathPosterior,
    Store,
    StoreWrapper,
)

if TYPE_CHECKING:
    import numpy as np


class SimClock:
    """Simulated seconds. Unlike ``FakeClock`` it can be set back: the simulator moves it to
    each request's arrival time, and the paths of that request advance it by their latency.

    Example:
        >>> clock = SimClock(10.0)
        >>> clock.advance(2.0)
        >>> clock.set(11.0)
        >>> clock()
        11.0
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def reader(self) -> Callable[[], float]:
        """A callable returning the time, for the router: it reads the clock several times
        per request, and this one runs no Python frame (``getattr(clock, "now")``).

        Example:
            >>> clock = SimClock(3.0)
            >>> read = clock.reader()
            >>> clock.advance(1.0)
            >>> read()
            4.0
        """
        return functools.partial(getattr, self, "now")

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``."""
        self.now += seconds

    sleep = advance  # a router that waits (retries, rate limits) waits in simulated time

    def set(self, now: float) -> None:
        """Jump to ``now`` (forwards or back)."""
        self.now = now


class _Pending:
    """A time-ordered queue of deferred calls: ``action(*arguments)`` once the clock has
    passed the time it was deferred at (no closure per call: this runs per request)."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._order = itertools.count()

    def defer(self, action: Callable[..., Any], *arguments: Any) -> None:
        heapq.heappush(self._heap, (self._clock.now, next(self._order), action, arguments))

    def release(self, *, everything: bool = False) -> None:
        heap = self._heap
        if not heap:
            return
        now = self._clock.now
        pop = heapq.heappop
        while heap and (everything or heap[0][0] <= now):
            _, _, action, arguments = pop(heap)
            action(*arguments)


class DelayedStore(StoreWrapper):
    """A store whose ``record`` lands only when the simulated call has finished.

    Example:
        >>> from storage import MemoryStore
        >>> clock = SimClock(0.0)
        >>> store = DelayedStore(MemoryStore(), clock)
        >>> clock.advance(1.5)  # the call took 1.5 s
        >>> store.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
        True
        >>> clock.set(1.0)  # the next request arrives before that call finished
        >>> store.posteriors("t")
        {}
    """

    def __init__(self, inner: Store, clock: SimClock) -> None:
        super().__init__(inner)
        self._pending = _Pending(clock)

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """What the store holds once every call finished by now has been recorded."""
        self._pending.release()
        return self._inner.posteriors(task)

    def record(self, outcome: Outcome) -> bool:
        """Deferred until the simulated clock passes the current time."""
        self._pending.defer(self._inner.record, outcome)
        return True

    def record_many(self, outcomes: Iterable[Outcome]) -> int:
        """Each deferred until the simulated clock passes the current time."""
        batch = list(outcomes)
        self._pending.defer(self._inner.record_many, batch)
        return len(batch)

    def flush(self) -> None:
        """Record every pending outcome now."""
        self._pending.release(everything=True)


class DelayedPolicy:
    """A policy whose ``observe`` calls arrive when the simulated call has finished."""

    def __init__(self, inner: Policy, clock: SimClock) -> None:
        self.inner = inner
        self._clock = clock
        self._pending = _Pending(clock)
        self._observe_cost = getattr(inner, "observe_cost", None)

    def __repr__(self) -> str:
        return repr(self.inner)

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Deliver the observations due by now, then ask the wrapped policy."""
        self._pending.release()
        return self.inner.choose(candidates, posteriors, tick, rng)

    def fresh(self) -> DelayedPolicy:
        """A fresh copy of the wrapped policy (one per segment), on the same clock."""
        import copy

        inner = getattr(self.inner, "fresh", None)
        return DelayedPolicy(inner() if callable(inner) else copy.deepcopy(self.inner), self._clock)

    def fading_horizon(self, paths: int) -> float | None:
        """The wrapped policy's horizon for a task's evidence (None: the store's default)."""
        inner = getattr(self.inner, "fading_horizon", None)
        return None if inner is None else inner(paths)

    def observe_cost(self, path: str, cost: float) -> None:
        """Passed on at once to a cost-aware policy (a price is known when the call ends)."""
        if self._observe_cost is not None:
            self._observe_cost(path, cost)

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Deferred until the simulated clock passes the current time."""
        self._pending.defer(self.inner.observe, path, score, tick, errored)

    @property
    def contextual(self) -> bool:
        """Whether the wrapped policy reads each request's context."""
        return bool(getattr(self.inner, "contextual", False))

    def choose_with(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
        context: Mapping[str, Any],
    ) -> Choice:
        """Deliver the observations due by now, then ask the wrapped contextual policy."""
        self._pending.release()
        chosen: Choice = self.inner.choose_with(  # type: ignore[attr-defined]
            candidates, posteriors, tick, rng, context
        )
        return chosen

    def observe_with(
        self, path: str, score: float, tick: int, errored: bool, context: Mapping[str, Any]
    ) -> None:
        """Deferred until the simulated clock passes the current time."""
        self._pending.defer(
            self.inner.observe_with,  # type: ignore[attr-defined]
            path,
            score,
            tick,
            errored,
            context,
        )
