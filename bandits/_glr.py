"""``GLRklUCB``: the change-detection baseline of the non-stationary bandit literature."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bandits._changepoint import ChangeDetector, bernoulli_kl
from bandits._errors import ConfigError
from bandits._path_posterior import PathPosterior
from bandits._policy import Choice

if TYPE_CHECKING:
    import numpy as np


def kl_ucb(mean: float, count: float, level: float) -> float:
    """The largest q >= mean with ``count * kl(mean, q) <= level`` (Bernoulli kl-UCB).

    Example:
        >>> round(kl_ucb(0.5, 100, math.log(100)), 3)
        0.648
        >>> kl_ucb(0.5, 0, 1.0)
        1.0
    """
    if count <= 0:
        return 1.0
    bound = level / count
    low, high = mean, 1.0
    for _ in range(20):  # 2^-20 of the interval: far finer than any ranking needs
        middle = (low + high) / 2.0
        if bernoulli_kl(mean, middle) > bound:
            high = middle
        else:
            low = middle
    return low


class _Arm:
    __slots__ = ("count", "detector", "start", "total")

    def __init__(self, tick: int, delta: float) -> None:
        self.count = 0
        self.total = 0.0
        self.start = tick  # the tick of its last restart
        self.detector = ChangeDetector(delta=delta)


class GLRklUCB:
    """GLR-klUCB with local restarts and forced exploration (Besson et al., 2020).

    Each path keeps the scores seen since its last restart; the first choice is the
    path with the highest kl-UCB index on them. A Bernoulli GLR test
    (:class:`bandits.ChangeDetector`) watches each path's scores and restarts that
    path alone when it detects a change. So that changes on paths nobody serves are
    found, the task's ticks are cut into rounds of ``K / alpha``, and the first K
    ticks of each round try each path in turn (an ``alpha`` share of the traffic).
    Errors score 0 like failed outputs: the literature's policies know one stream.
    State is kept in the policy object: one process's view.

    Args:
        alpha: share of ticks spent on forced exploration, in (0, 1).
        delta: false-alarm level of the change detectors.

    Example:
        >>> import numpy as np
        >>> policy = GLRklUCB(alpha=0.05)
        >>> for tick in range(200):
        ...     policy.observe("a", 1.0, tick)
        ...     policy.observe("b", float(tick % 2), tick)
        >>> tick = 205  # 205 % (K / alpha) >= K: not a forced turn
        >>> policy.choose(["a", "b"], {}, tick, np.random.default_rng(0)).order
        ['a', 'b']
    """

    def __init__(self, alpha: float = 0.01, delta: float = 0.005) -> None:
        if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
            raise ConfigError(f"alpha (forced exploration share) must be in (0, 1), got {alpha!r}")
        ChangeDetector(delta=delta)  # validates delta
        self.alpha = float(alpha)
        self.delta = delta
        self._arms: dict[str, _Arm] = {}
        self._now = 0

    def __repr__(self) -> str:
        return f"GLRklUCB(alpha={self.alpha!r}, delta={self.delta!r})"

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """A forced exploration turn if it is one, else highest kl-UCB index first."""
        self._now = max(self._now, tick)
        k = len(candidates)
        period = max(k, math.floor(k / self.alpha))
        turn = tick % period
        index = []
        for name in candidates:
            arm = self._arms.get(name)
            if arm is None:
                arm = self._arms[name] = _Arm(tick, self.delta)
            if arm.count == 0:
                index.append(math.inf)
                continue
            level = math.log(max(tick - arm.start, 2))
            index.append(kl_ucb(arm.total / arm.count, arm.count, level))
        ranked = sorted(range(k), key=lambda i: (-index[i], i))
        if turn < k:
            ranked.remove(turn)
            ranked.insert(0, turn)
        order = [candidates[i] for i in ranked]
        return Choice(order, {name: float(name == order[0]) for name in candidates})

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Add the score to the path's record; restart the path on a detected change."""
        arm = self._arms.get(path)
        if arm is None:
            arm = self._arms[path] = _Arm(tick, self.delta)
        arm.count += 1
        arm.total += score
        if arm.detector.add(1, score) is not None:
            arm.count, arm.total, arm.start = 0, 0.0, self._now
            arm.detector.restart(0)
