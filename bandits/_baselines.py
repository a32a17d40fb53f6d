"""Textbook policies, for comparison with the default (and for users who want them).

``Thompson``, ``EpsilonGreedy``, ``UCB1`` and ``StaticOrder`` decide from the store's
rows, so every router on a store shares them. ``DiscountedThompson``,
``SlidingWindowThompson`` and ``RoundRobin`` keep their state in the policy object:
one process's view.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bandits._errors import ConfigError
from bandits._matching import PropensityCache
from bandits._names import shown
from bandits._path_posterior import PathPosterior
from bandits._policy import Choice
from bandits._thompson import rank_by_draws, thompson_draws

if TYPE_CHECKING:
    import numpy as np


def _deterministic(order: list[str]) -> Choice:
    return Choice(order, {name: float(i == 0) for i, name in enumerate(order)})


def _mean(row: PathPosterior | None) -> float | None:
    """Average recorded score, or None for a path never scored."""
    if row is None or row.n == 0:
        return None
    return (row.alpha - row.prior_alpha) / row.n


class _SampledThompson:
    """Shared tail of the Thompson policies: sample, rank, attach propensities."""

    def __init__(self) -> None:
        self._propensities = PropensityCache()

    def _choice(
        self,
        candidates: Sequence[str],
        alpha: list[float],
        beta: list[float],
        rng: np.random.Generator,
    ) -> Choice:
        order = [candidates[i] for i in rank_by_draws(thompson_draws(alpha, beta, rng))]
        names = tuple(candidates)
        return Choice(
            order, dict(zip(names, self._propensities.get(names, alpha, beta), strict=True))
        )

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Stateless: the store's rows are the state."""


class Thompson(_SampledThompson):
    """Stationary Thompson sampling on every score ever recorded (the textbook policy).

    Example:
        >>> import numpy as np
        >>> rows = {"a": PathPosterior("a", 90, 10, 98), "b": PathPosterior("b", 10, 90, 98)}
        >>> Thompson().choose(["a", "b"], rows, 196, np.random.default_rng(0)).order
        ['a', 'b']
    """

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Sample Beta(alpha, beta) of each candidate once; highest draw first."""
        rows = [posteriors.get(name) for name in candidates]
        alpha = [r.alpha if r else 1.0 for r in rows]
        beta = [r.beta if r else 1.0 for r in rows]
        return self._choice(candidates, alpha, beta, rng)


class DiscountedThompson(_SampledThompson):
    """Discounted Thompson sampling (Raj & Kalyani 2017): every step, old evidence x ``gamma``.

    Example:
        >>> DiscountedThompson(gamma=0.99)
        DiscountedThompson(gamma=0.99)
    """

    def __init__(self, gamma: float = 0.99) -> None:
        if not 0.0 < gamma < 1.0:
            raise ConfigError(f"gamma must be in (0, 1), got {shown(gamma)}")
        super().__init__()
        self.gamma = gamma
        self._sums: dict[str, list[float]] = {}  # path -> [successes, failures, tick]

    def __repr__(self) -> str:
        return f"DiscountedThompson(gamma={self.gamma!r})"

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Sample the discounted posteriors."""
        alpha, beta = [], []
        for name in candidates:
            s, f, at = self._sums.get(name, (0.0, 0.0, tick))
            decay = self.gamma ** max(0, tick - at)
            alpha.append(1.0 + s * decay)
            beta.append(1.0 + f * decay)
        return self._choice(candidates, alpha, beta, rng)

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Decay the path's sums to ``tick`` and add the score."""
        s, f, at = self._sums.get(path, (0.0, 0.0, tick))
        decay = self.gamma ** max(0, tick - at)  # late feedback is not decayed backwards
        self._sums[path] = [s * decay + score, f * decay + 1.0 - score, max(at, tick)]


class SlidingWindowThompson(_SampledThompson):
    """Sliding-window Thompson sampling (Trovo et al. 2020): only the last ``window`` scores count.

    Example:
        >>> SlidingWindowThompson(window=500)
        SlidingWindowThompson(window=500)
    """

    def __init__(self, window: int = 1000) -> None:
        if window < 1:
            raise ConfigError(f"window must be >= 1, got {shown(window)}")
        super().__init__()
        self.window = window
        self._recent: deque[tuple[str, float]] = deque()
        self._sums: dict[str, list[float]] = {}

    def __repr__(self) -> str:
        return f"SlidingWindowThompson(window={self.window!r})"

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Sample posteriors built from the window only."""
        sums = [self._sums.get(name, (0.0, 0.0)) for name in candidates]
        alpha = [1.0 + s for s, _ in sums]
        beta = [1.0 + f for _, f in sums]
        return self._choice(candidates, alpha, beta, rng)

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Add the score to the window, dropping the oldest beyond its length."""
        self._recent.append((path, score))
        self._add(path, score, 1.0)
        if len(self._recent) > self.window:
            old_path, old_score = self._recent.popleft()
            self._add(old_path, old_score, -1.0)

    def _add(self, path: str, score: float, sign: float) -> None:
        sums = self._sums.setdefault(path, [0.0, 0.0])
        sums[0] += sign * score
        sums[1] += sign * (1.0 - score)


class EpsilonGreedy:
    """With probability ``epsilon`` a uniformly random order, else best average score first.

    Example:
        >>> import numpy as np
        >>> rows = {"a": PathPosterior("a", 90, 10, 98), "b": PathPosterior("b", 10, 90, 98)}
        >>> EpsilonGreedy(epsilon=0.0).choose(["a", "b"], rows, 196, np.random.default_rng(0)).order
        ['a', 'b']
    """

    def __init__(self, epsilon: float = 0.1) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ConfigError(f"epsilon must be in [0, 1], got {shown(epsilon)}")
        self.epsilon = epsilon

    def __repr__(self) -> str:
        return f"EpsilonGreedy(epsilon={self.epsilon!r})"

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Explore with probability epsilon; untried paths count as best."""
        k = len(candidates)
        means = [_mean(posteriors.get(name)) for name in candidates]
        keys = [math.inf if m is None else m for m in means]
        greedy = sorted(range(k), key=lambda i: (-keys[i], i))
        explore = rng.random() < self.epsilon
        indices = [int(i) for i in rng.permutation(k)] if explore else greedy
        best = candidates[greedy[0]]
        share = self.epsilon / k
        propensities = {name: share + (1.0 - self.epsilon) * (name == best) for name in candidates}
        return Choice([candidates[i] for i in indices], propensities)

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Stateless: the store's rows are the state."""


class UCB1:
    """UCB1 (Auer et al. 2002): highest ``mean + sqrt(2 ln N / n)`` first; untried paths first.

    Example:
        >>> import numpy as np
        >>> rows = {"a": PathPosterior("a", 2, 1, 1)}
        >>> UCB1().choose(["a", "b"], rows, 1, np.random.default_rng(0)).order
        ['b', 'a']
    """

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Rank by upper confidence bound."""
        total = max(sum(r.n for r in posteriors.values()), 1)
        scores = []
        for name in candidates:
            row = posteriors.get(name)
            mean = _mean(row)
            if row is None or mean is None:
                scores.append(math.inf)
            else:
                scores.append(mean + math.sqrt(2.0 * math.log(total) / row.n))
        return _deterministic([candidates[i] for i in rank_by_draws(scores)])

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Stateless: the store's rows are the state."""


class RoundRobin:
    """Each request starts one path further along the list.

    Example:
        >>> import numpy as np
        >>> policy, rng = RoundRobin(), np.random.default_rng(0)
        >>> [policy.choose(["a", "b", "c"], {}, 0, rng).order[0] for _ in range(4)]
        ['a', 'b', 'c', 'a']
    """

    def __init__(self) -> None:
        self._turn = 0

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Rotate the list by one each call."""
        start = self._turn % len(candidates)
        self._turn += 1
        return _deterministic(list(candidates[start:]) + list(candidates[:start]))

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Nothing learned."""


class StaticOrder:
    """The hand-written fallback chain: always the paths in the order given.

    Example:
        >>> import numpy as np
        >>> StaticOrder().choose(["a", "b"], {}, 0, np.random.default_rng(0)).order
        ['a', 'b']
    """

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """The candidates as given."""
        return _deterministic(list(candidates))

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Nothing learned."""
