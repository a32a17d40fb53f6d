"""The ``Policy`` protocol: how a router orders its paths for one request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bandits._path_posterior import PathPosterior

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Reset:
    """A change point the policy detected: restart ``path`` at its last ``keep_count`` scores
    (fresh evidence as of ``tick``; None: the store's tick when it resets)."""

    path: str
    keep_successes: float
    keep_count: int
    seen_resets: int
    tick: int | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """A policy's decision for one request.

    ``order`` lists the candidate paths, first choice first (the rest is the fallback
    order); ``propensities`` gives each candidate's probability of having been chosen
    first; ``resets`` asks the router to restart paths whose scores changed.
    """

    order: list[str]
    propensities: Mapping[str, float]
    resets: Sequence[Reset] = field(default_factory=tuple)


@runtime_checkable
class Policy(Protocol):
    """Orders paths for each request and learns from what happened.

    ``candidates`` are the paths eligible now (they can change between calls);
    ``posteriors`` are the store's rows for the task (shared by every router on the
    store); ``tick`` is the task's count of scored attempts, a clock that runs at the
    speed of traffic rather than of time.
    """

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Order ``candidates`` for one request."""
        ...

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Learn from one of this router's scored attempts.

        ``tick`` is the task's tick when the request was planned (so a policy can tell
        answers to calls made before some event from those made after it);
        ``errored`` is True when the call raised or timed out (no output, score 0).
        """
        ...
