"""Progressive rollout of a new path: a traffic cap that grows while the path holds up."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bandits import ConfigError
from router._names import shown
from storage import PathPosterior

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger("outcome_router")


@dataclass(frozen=True, slots=True)
class Canary:
    """How a new path is rolled out by ``Router.add_path(path, canary=True)``.

    The path first serves at most ``stages[0]`` of the requests (it goes first on
    those; the rest never see it). After ``min_scores`` scored attempts at a stage it
    is promoted to the next stage if its posterior is not credibly worse than the best
    incumbent's, and rolled back (taken out of routing) as soon as it is:
    credibly worse means ``P(new < best - margin) >= confidence``. The default margin,
    one point of success rate, keeps a canary as good as a near-perfect incumbent from
    being rolled back only because 30 scores cannot prove it is 99.99% good. Past the
    last stage it is an ordinary path, left to the policy.

    Example:
        >>> Canary().stages
        (0.01, 0.05, 0.25, 1.0)
    """

    stages: tuple[float, ...] = (0.01, 0.05, 0.25, 1.0)
    min_scores: int = 30
    confidence: float = 0.95
    margin: float = 0.01
    draws: int = 4000

    def __post_init__(self) -> None:
        stages = tuple(self.stages)
        if not stages or any(not 0 < s <= 1 for s in stages) or list(stages) != sorted(stages):
            raise ConfigError(
                f"canary stages must increase within (0, 1], got {shown(self.stages)}"
            )
        if stages[-1] != 1.0:
            raise ConfigError(f"the last canary stage must be 1.0 (all traffic), got {stages}")
        if not (isinstance(self.min_scores, int) and self.min_scores >= 1):
            raise ConfigError(
                f"canary min_scores must be an int >= 1, got {shown(self.min_scores)}"
            )
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(
                f"canary confidence must be in [0.5, 1), got {shown(self.confidence)}"
            )
        if not (math.isfinite(self.margin) and 0 <= self.margin < 1):
            raise ConfigError(f"canary margin must be in [0, 1), got {shown(self.margin)}")
        object.__setattr__(self, "stages", stages)


@dataclass(slots=True)
class Rollout:
    """One path's progress through its canary stages (this router's view)."""

    path: str
    canary: Canary
    stage: int = 0
    scores_at_stage: int = 0
    seen_n: int | None = None  # the path's n when the stage began
    state: str = "canary"  # canary | promoted | rolled_back
    history: list[str] = field(default_factory=list)

    @property
    def cap(self) -> float:
        """The share of requests the path may serve now."""
        return self.canary.stages[self.stage]


class Rollouts:
    """The canaries of one router: who may go first on this request, and their promotions.

    Example:
        >>> import numpy as np
        >>> rollouts = Rollouts()
        >>> rollouts.start("new", Canary(stages=(0.5, 1.0)))
        >>> rollouts.states()
        {'new': 'canary at 50%'}
    """

    def __init__(self) -> None:
        self._active: dict[str, Rollout] = {}
        self._done: dict[str, Rollout] = {}
        self._lock = threading.Lock()  # requests on several threads review and pick at once

    def start(self, path: str, canary: Canary) -> None:
        """Begin rolling ``path`` out at its first stage."""
        with self._lock:
            self._done.pop(path, None)
            self._active[path] = Rollout(path, canary)

    def __contains__(self, path: str) -> bool:
        return path in self._active

    def held_back(self, path: str) -> bool:
        """Is ``path`` in a canary stage or rolled back (kept out of the policy's choice)?"""
        if path in self._active:
            return True
        done = self._done.get(path)
        return done is not None and done.state == "rolled_back"

    def states(self) -> dict[str, str]:
        """Each canary's state, for ``Router.rollouts()``."""
        with self._lock:
            found = {name: f"canary at {r.cap:.0%}" for name, r in self._active.items()}
            found.update({name: r.state.replace("_", " ") for name, r in self._done.items()})
        return found

    def active(self) -> bool:
        """Is any path in a canary stage?"""
        return bool(self._active)

    def held_back_any(self) -> bool:
        """Is any path held back (in a canary stage or rolled back)?"""
        return bool(self._active) or any(r.state == "rolled_back" for r in self._done.values())

    def pick(
        self,
        candidates: Sequence[str],
        rng: np.random.Generator,
    ) -> tuple[str | None, dict[str, float]]:
        """The canary that goes first on this request (if any), and each canary's cap
        (its propensity: the probability of going first)."""
        caps: dict[str, float] = {}
        with self._lock:
            active = [r for r in map(self._active.get, candidates) if r is not None]
            for rollout in active:  # several canaries at once share what is left
                caps[rollout.path] = min(rollout.cap, 1.0 - sum(caps.values()))
        draw = rng.random()
        for name, cap in caps.items():
            if draw < cap:
                return name, caps
            draw -= cap
        return None, caps

    def review(
        self,
        posteriors: Mapping[str, PathPosterior],
        incumbents: Sequence[str],
        rng: np.random.Generator,
    ) -> list[str]:
        """Promote or roll back canaries with enough new scores; returns what changed."""
        with self._lock:
            changes = self._review(posteriors, incumbents, rng)
        for change in changes:
            logger.info("canary %s", change)
        return changes

    def _review(
        self,
        posteriors: Mapping[str, PathPosterior],
        incumbents: Sequence[str],
        rng: np.random.Generator,
    ) -> list[str]:
        changes: list[str] = []
        for name, rollout in list(self._active.items()):
            row = posteriors.get(name)
            if row is None:
                continue
            if rollout.seen_n is None:
                rollout.seen_n = row.n
            if row.n - rollout.seen_n < rollout.canary.min_scores:
                continue
            best = _best(incumbents, posteriors, name)
            worse = 0.0 if best is None else _p_worse(row, best, rollout.canary, rng)
            if worse >= rollout.canary.confidence:
                rollout.state = "rolled_back"
                changes.append(f"{name}: rolled back at {rollout.cap:.0%} (P(worse)={worse:.2f})")
                self._done[name] = self._active.pop(name)
                continue
            rollout.stage += 1
            rollout.seen_n = row.n
            if rollout.stage == len(rollout.canary.stages) - 1:
                rollout.state = "promoted"
                changes.append(f"{name}: promoted to all traffic (P(worse)={worse:.2f})")
                self._done[name] = self._active.pop(name)
            else:
                changes.append(f"{name}: promoted to {rollout.cap:.0%} (P(worse)={worse:.2f})")
        return changes


def _best(
    incumbents: Sequence[str], posteriors: Mapping[str, PathPosterior], canary: str
) -> PathPosterior | None:
    rows = [posteriors[n] for n in incumbents if n != canary and n in posteriors]
    rows = [r for r in rows if r.recent_n > 0]
    if not rows:
        return None
    return max(rows, key=lambda r: r.recent_parameters[0] / sum(r.recent_parameters))


def _p_worse(
    new: PathPosterior, best: PathPosterior, canary: Canary, rng: np.random.Generator
) -> float:
    """P(theta_new < theta_best - margin) under the two Beta posteriors (recent evidence)."""
    import numpy as np

    def draw(row: PathPosterior) -> np.ndarray:
        return rng.beta(*row.recent_parameters, size=canary.draws)

    return float(np.mean(draw(new) < draw(best) - canary.margin))
