"""Propensities for the log, recomputed only when the posteriors have really moved."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bandits._errors import ConfigError
from bandits._names import shown
from bandits._propensity import first_place_probabilities

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class _Entry:
    names: tuple[str, ...]
    alpha: tuple[float, ...]
    beta: tuple[float, ...]
    values: tuple[float, ...]


class PropensityCache:
    """Each path's probability of being ranked first, cached between small posterior moves.

    For policies that draw their own ranking (the textbook Thompson variants), the
    logged propensity is an estimate: the quadrature is reused while every path's
    alpha and beta stay within ``tolerance`` (relative to alpha + beta) of the values
    it was computed at. Thread-safe.

    Example:
        >>> cache = PropensityCache()
        >>> cache.get(("a", "b"), [1.0, 1.0], [1.0, 1.0])
        (0.5, 0.5)
    """

    def __init__(self, tolerance: float = 0.02) -> None:
        if not 0.0 <= tolerance < 1.0:
            raise ConfigError(f"tolerance must be in [0, 1), got {shown(tolerance)}")
        self._tolerance = tolerance
        self._entry: _Entry | None = None
        self._lock = threading.Lock()

    def get(
        self, names: tuple[str, ...], alpha: Sequence[float], beta: Sequence[float]
    ) -> tuple[float, ...]:
        """First-place probability of each of ``names``, in that order."""
        if len(names) == 1:
            return (1.0,)
        entry = self._entry
        if entry is not None and entry.names == names and self._near(entry, alpha, beta):
            return entry.values
        values = tuple(float(v) for v in first_place_probabilities(alpha, beta))
        with self._lock:
            self._entry = _Entry(names, tuple(alpha), tuple(beta), values)
        return values

    def _near(self, entry: _Entry, alpha: Sequence[float], beta: Sequence[float]) -> bool:
        tolerance = self._tolerance
        for a0, b0, a, b in zip(entry.alpha, entry.beta, alpha, beta, strict=True):
            if abs(a - a0) + abs(b - b0) > tolerance * (a0 + b0):
                return False
        return True


@dataclass(frozen=True, slots=True)
class Matched:
    """First-place probabilities of named paths, and what follows from them."""

    names: tuple[str, ...]
    probabilities: tuple[float, ...]
    as_dict: Mapping[str, float]
    bounds: tuple[tuple[float, float, float, float], ...]  # per path: n_low, n_high, mean, slack

    def near(self, alpha: Sequence[float], beta: Sequence[float]) -> bool:
        """Are these posteriors close enough to the ones the probabilities were computed for?"""
        for (n_low, n_high, mean, slack), a, b in zip(self.bounds, alpha, beta, strict=True):
            n = a + b
            if not n_low <= n <= n_high or abs(a / n - mean) > slack:
                return False
        return True


class ProbabilityMatching:
    """Thompson sampling's first choice, drawn from cached first-place probabilities.

    Thompson sampling picks each path with exactly its probability of being the best
    under the posteriors. This draws the first choice from those probabilities
    directly, so the logged propensity is, by construction, the probability the
    choice was made with. They are recomputed (about 80 us) when the candidates
    change, when any path's posterior mean has moved by more than ``sd_tolerance`` of
    its standard deviation or its evidence by more than a quarter, and at least
    every ``refresh`` ticks; in between, a choice costs one uniform draw.

    Example:
        >>> import numpy as np
        >>> matching = ProbabilityMatching()
        >>> p = matching.probabilities(("a", "b"), [1.0, 1.0], [1.0, 1.0], tick=0)
        >>> [round(v, 3) for v in p], matching.pick(p, np.random.default_rng(0)) in (0, 1)
        ([0.5, 0.5], True)
    """

    def __init__(self, *, refresh: int = 128, sd_tolerance: float = 0.5) -> None:
        if refresh < 1:
            raise ConfigError(f"refresh must be >= 1 tick, got {shown(refresh)}")
        if not sd_tolerance > 0:
            raise ConfigError(f"sd_tolerance must be > 0, got {shown(sd_tolerance)}")
        self.refresh = refresh
        self.sd_tolerance = sd_tolerance
        self._cached: tuple[int, Matched] | None = None

    def lookup(
        self, names: tuple[str, ...], alpha: Sequence[float], beta: Sequence[float], tick: int
    ) -> Matched:
        """First-place probabilities of ``names`` under Beta(alpha, beta), cached."""
        cached = self._cached
        if cached is not None:
            at, matched = cached
            if (
                0 <= tick - at < self.refresh
                and matched.names == names
                and matched.near(alpha, beta)
            ):
                return matched
        matched = self._compute(names, alpha, beta)
        self._cached = (tick, matched)
        return matched

    def probabilities(
        self, names: tuple[str, ...], alpha: Sequence[float], beta: Sequence[float], tick: int
    ) -> tuple[float, ...]:
        """First-place probability of each of ``names`` under Beta(alpha, beta)."""
        return self.lookup(names, alpha, beta, tick).probabilities

    @staticmethod
    def pick(probabilities: Sequence[float], rng: np.random.Generator) -> int:
        """Index drawn with the given probabilities."""
        u = rng.random()
        total = 0.0
        for index, p in enumerate(probabilities):
            total += p
            if u < total:
                return index
        return len(probabilities) - 1

    def _compute(
        self, names: tuple[str, ...], alpha: Sequence[float], beta: Sequence[float]
    ) -> Matched:
        if len(names) == 1:
            values: tuple[float, ...] = (1.0,)
        else:
            values = tuple(float(v) for v in first_place_probabilities(alpha, beta))
        means = [a / (a + b) for a, b in zip(alpha, beta, strict=True)]
        bounds = []
        for a, b, mean in zip(alpha, beta, means, strict=True):
            n = a + b
            sd = math.sqrt(a * b / (n * n * (n + 1.0)))
            bounds.append((0.75 * n, 1.25 * n, mean, self.sd_tolerance * sd))
        return Matched(
            names,
            values,
            dict(zip(names, values, strict=True)),
            tuple(bounds),
        )
