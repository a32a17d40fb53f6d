"""Routing a request of one segment: its own policy, on its own evidence, shrunk toward
the task's (see :mod:`bandits._shrinkage` and :mod:`storage._segments`).

Each segment a router meets gets a fresh copy of the router's policy (so change
detection and the hold of broken paths follow that segment's traffic), at most
``MAX_SEGMENTS`` of them per router: the least recently used is dropped past that and
starts afresh if it comes back (its evidence stays in the store).
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bandits import ConfigError
from bandits._fading import DEFAULT_HORIZON
from bandits._policy import Choice, Policy
from bandits._shrinkage import DEFAULT_STRENGTH, pooled_strength, shrunk
from storage import PathPosterior, Store, StoreError
from storage._segments import segment_task

if TYPE_CHECKING:
    import numpy as np

    from router._recorder import Recorder

logger = logging.getLogger("outcome_router")

MAX_SEGMENTS = 10_000
REESTIMATE_EVERY = 64  # requests with a segment between estimates of the pooled weights


class _Segment:
    """What this router keeps of one segment: its policy, store task and last rows."""

    __slots__ = ("ensured", "known", "policy", "task", "tick")

    def __init__(self, task: str, policy: Policy) -> None:
        self.task = task
        self.tick = 0  # the segment's count of scored attempts when last read
        self.policy = policy
        self.known: dict[str, PathPosterior] = {}  # the last rows read (the store may be down)
        self.ensured: set[str] = set()  # paths whose rows this router made sure of


class SegmentRouting:
    """Each segment's policy and evidence, for a router whose requests carry context."""

    def __init__(
        self,
        task: str,
        policy: Policy,
        recorder: Recorder,
        strength: float | None,
        max_segments: int,
    ) -> None:
        self.task = task
        self.strength = strength  # None: estimated per path from the segments
        self._pooled: dict[str, float] = {}
        self._chosen = 0
        self._recorder = recorder
        self._policy = policy
        self._template: Policy | None = None  # made at the first segment
        self._segments: OrderedDict[str, _Segment] = OrderedDict()
        self._max = max_segments

    def choose(
        self,
        segment: str,
        candidates: Sequence[str],
        task_rows: Mapping[str, PathPosterior],
        task_tick: int,
        rng: np.random.Generator,
    ) -> tuple[Choice, int]:
        """The segment policy's choice among ``candidates``, and the segment's tick."""
        state = self._segment(segment)
        horizon = self._horizon(len(candidates))
        rows = self._rows(state, candidates, horizon)
        tick = 0
        for row in rows.values():
            tick += row.n
        state.tick = tick
        fixed = self.strength
        if fixed is None:
            self._chosen += 1
            if self._chosen % REESTIMATE_EVERY == 1:
                self._reestimate(candidates)
        pooled = self._pooled
        shrunk_rows = {
            name: shrunk(
                rows.get(name),
                task_rows.get(name),
                name,
                strength=pooled.get(name, DEFAULT_STRENGTH) if fixed is None else fixed,
                horizon=horizon,
                task_tick=task_tick,
            )
            for name in candidates
        }
        choice = state.policy.choose(candidates, shrunk_rows, tick, rng)
        for reset in choice.resets:
            self._recorder.reset(reset, state.task)
        return choice, tick

    def observe(self, segment: str, path: str, score: float, tick: int, errored: bool) -> None:
        """Tell the segment's policy of one scored attempt."""
        state = self._segments.get(segment)
        if state is not None:
            state.policy.observe(path, score, tick, errored)

    def observe_cost(self, path: str, cost: float) -> None:
        """Tell every segment's cost-aware policy what a call of ``path`` cost."""
        for state in self._segments.values():
            observe_cost = getattr(state.policy, "observe_cost", None)
            if observe_cost is not None:
                observe_cost(path, cost)

    def _reestimate(self, paths: Sequence[str]) -> None:
        """Each path's weight of the task's evidence, from how much the segments this
        router follows differ on it (:func:`bandits._shrinkage.pooled_strength`)."""
        for name in paths:
            evidence = []
            for state in self._segments.values():
                row = state.known.get(name)
                if row is not None:
                    successes, failures, _, _ = row.faded(state.tick)
                    evidence.append((successes, failures))
            strength = pooled_strength(evidence)
            if strength is not None:
                self._pooled[name] = strength

    def _segment(self, segment: str) -> _Segment:
        state = self._segments.get(segment)
        if state is not None:
            self._segments.move_to_end(segment)
            return state
        if self._template is None:
            self._template = _fresh(self._policy)
        state = _Segment(segment_task(self.task, segment), _fresh(self._template))
        self._segments[segment] = state
        if len(self._segments) > self._max:
            self._segments.popitem(last=False)
        return state

    def _rows(
        self, state: _Segment, candidates: Sequence[str], horizon: float
    ) -> dict[str, PathPosterior]:
        """The segment's stored rows (creating those of new paths at ``horizon``); the
        last ones read while the store is unreachable."""
        store: Store = self._recorder.store
        try:
            missing = [name for name in candidates if name not in state.ensured]
            if missing:
                store.ensure_paths(state.task, missing, horizon=horizon)
                state.ensured.update(missing)
            state.known = store.posteriors(state.task)
        except StoreError as exc:  # the task's read logs the outage; routing goes on
            logger.debug("segment %r of task %r not read: %s", state.task, self.task, exc)
        return state.known

    def _horizon(self, paths: int) -> float:
        fading = getattr(self._policy, "fading_horizon", None)
        horizon = None if fading is None else fading(paths)
        return DEFAULT_HORIZON if horizon is None else float(horizon)


def _fresh(policy: Policy) -> Policy:
    """A copy of ``policy`` that has seen nothing, to start a segment from:
    ``policy.fresh()`` (a policy of the same settings), else a deep copy."""
    fresh = getattr(policy, "fresh", None)
    if callable(fresh):
        made: Policy = fresh()
        return made
    try:
        return copy.deepcopy(policy)
    except Exception as exc:
        raise ConfigError(
            f"routing by context needs a policy per segment, and {type(policy).__name__} "
            f"cannot be copied ({type(exc).__name__}: {exc}); give it a fresh() method "
            "that returns a new policy of the same settings"
        ) from exc
