"""Change detection on a path's score stream: a Bernoulli GLR test on recent windows."""

from __future__ import annotations

import bisect
import math

from bandits._errors import ConfigError

_EPS = 1e-9


def bernoulli_kl(p: float, q: float) -> float:
    """KL divergence between Bernoulli(p) and Bernoulli(q), clipped away from 0 and 1.

    Example:
        >>> round(bernoulli_kl(0.9, 0.5), 4)
        0.3681
    """
    p = min(max(p, _EPS), 1.0 - _EPS)
    q = min(max(q, _EPS), 1.0 - _EPS)
    return p * math.log(p / q) + (1.0 - p) * math.log((1.0 - p) / (1.0 - q))


def _window_grid(longest: int) -> tuple[int, ...]:
    # Windows shorter than 4 can never pass the threshold (4 kl(0, 0.95) ~ 12).
    grid: list[int] = []
    w = 4.0
    while w <= longest:
        if not grid or int(w) != grid[-1]:
            grid.append(int(w))
        w *= math.sqrt(2.0)
    return tuple(grid)


class ChangeDetector:
    """Sequential Bernoulli GLR test for a change in the mean of a [0, 1] score stream.

    After each batch of observations it asks, for recent windows ``w`` on a geometric
    grid (4, 5.7, 8, 11, 16, ... up to ``max_window``): do the last ``w`` scores and
    the scores before them look like two different means? The statistic is the
    generalised likelihood ratio ``n1 kl(m1, m) + n2 kl(m2, m)`` against the
    threshold ``log(3 n^1.5 / delta)`` of Besson & Kaufmann (2019). A window of length
    ``w`` is tested every ``w / 16`` to ``w / 8`` observations, so the cost per observation stays
    constant while the extra detection delay is at most an eighth of the window.

    Batches (``count`` observations summing to ``total``) let it follow an aggregate
    stream, such as the increments other processes wrote to a shared store.

    Example:
        >>> detector = ChangeDetector(delta=0.01)
        >>> [detector.add(1, 1.0) for _ in range(200)][-1] is None
        True
        >>> hits = [detector.add(1, 0.0) for _ in range(12)]
        >>> next(h for h in hits if h is not None) <= 12
        True
    """

    __slots__ = ("_cum_n", "_cum_s", "_delta", "_grid", "_max_window", "_n", "_s", "_seen")
    _grid: tuple[tuple[int, int], ...]

    def __init__(self, *, delta: float = 0.005, max_window: int = 2048) -> None:
        if not 0.0 < delta < 1.0:
            raise ConfigError(f"delta (false-alarm level) must be in (0, 1), got {delta!r}")
        if max_window < 4:
            raise ConfigError(f"max_window must be >= 4, got {max_window!r}")
        self._delta = delta
        self._max_window = max_window
        # Each window with the step between its tests: a power of two from w/16 to w/8.
        self._grid = tuple((w, 1 << max(0, w.bit_length() - 4)) for w in _window_grid(max_window))
        self._cum_n: list[int] = [0]  # cumulative counts at each batch boundary
        self._cum_s: list[float] = [0.0]
        self._n = 0
        self._s = 0.0
        self._seen = 0

    @property
    def count(self) -> int:
        """Observations since the last restart."""
        return self._n

    def add(self, count: int, total: float) -> int | None:
        """Add ``count`` observations summing to ``total``.

        Returns the length of the recent window that looks changed (the post-change
        observations) when a change is detected, else None.
        """
        if count <= 0:
            return None
        self._n += count
        self._s += total
        self._cum_n.append(self._n)
        self._cum_s.append(self._s)
        if len(self._cum_n) > 4 * self._max_window:
            self._trim()
        before, self._seen = self._seen, self._n
        return self._test(before)

    def window(self, length: int) -> tuple[float, int]:
        """Sum and count of (about) the last ``length`` observations, on batch boundaries.

        Example:
            >>> detector = ChangeDetector()
            >>> for score in (1.0, 0.0, 1.0, 1.0):
            ...     _ = detector.add(1, score)
            >>> detector.window(3)
            (2.0, 3)
        """
        start = bisect.bisect_left(self._cum_n, self._n - max(0, length))
        return self._s - self._cum_s[start], self._n - self._cum_n[start]

    def restart(self, keep: int = 0) -> None:
        """Forget everything but the last ``keep`` observations (the new regime)."""
        keep = max(0, min(keep, self._n))
        if keep == 0:
            cum_n, cum_s = [0], [0.0]
        else:
            start = bisect.bisect_left(self._cum_n, self._n - keep)
            base_n, base_s = self._cum_n[start], self._cum_s[start]
            cum_n = [c - base_n for c in self._cum_n[start:]]
            cum_s = [c - base_s for c in self._cum_s[start:]]
            if cum_n[0] != 0:
                cum_n.insert(0, 0)
                cum_s.insert(0, 0.0)
        self._cum_n, self._cum_s = cum_n, cum_s
        self._n, self._s = cum_n[-1], cum_s[-1]
        self._seen = self._n

    def _test(self, before: int) -> int | None:
        n, s = self._n, self._s
        if n < 4:
            return None
        mean = s / n
        spread = mean * (1.0 - mean)
        if spread <= 0.0:
            return None  # every score identical: nothing can have changed
        threshold = math.log(3.0 * n**1.5 / self._delta)
        # kl(p, q) <= (p - q)^2 / (q (1 - q)) bounds the GLR by a chi-square term;
        # windows whose bound is below the threshold need no logarithms.
        screen = threshold * spread * n
        cum_n, cum_s = self._cum_n, self._cum_s
        for w, step in self._grid:
            if w >= n:
                break
            if before // step == n // step:
                break  # not its turn, nor that of any longer window (their steps are multiples)
            index = len(cum_n) - 1 - w  # exact when the last w batches were single scores
            if index < 0 or cum_n[index] != n - w:
                index = bisect.bisect_left(cum_n, n - w)
            n1 = cum_n[index]
            if n1 in (0, n):
                continue
            s1 = cum_s[index]
            n2 = n - n1
            gap = s1 / n1 - (s - s1) / n2
            if n1 * n2 * gap * gap < screen:
                continue
            glr = n1 * bernoulli_kl(s1 / n1, mean) + n2 * bernoulli_kl((s - s1) / n2, mean)
            if glr > threshold:
                return n2
        return None

    def _trim(self) -> None:
        # Keep the checkpoints of the last 2 * max_window observations (and the start).
        cut = bisect.bisect_left(self._cum_n, self._n - 2 * self._max_window)
        if cut > 1:
            del self._cum_n[1:cut]
            del self._cum_s[1:cut]
