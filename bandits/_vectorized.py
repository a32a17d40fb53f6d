"""Many independent Bernoulli bandit runs at once, as numpy arrays of shape (runs, K).

The Router serves one request at a time; these functions exist to reproduce textbook
experiments (Chapelle & Li 2011: 10**6 steps x 100 runs) that would take hours through it.
Each step is a handful of numpy calls on preallocated arrays, shared by every run, so the
Python overhead per step is paid once for all runs. Regret is the pseudo-regret
``sum_t (mu* - mu[chosen_t])``, read off the pull counts only at the checkpoints.

Each run sees the arms in its own random order, so ``argmax`` breaking ties towards the
lowest index favours no particular arm (UCB1 ties often in its first rounds).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from bandits._errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.intp]

DEFAULT_CHECKPOINTS = 100
"""How many log-spaced checkpoints a curve has when none are given (fewer for short runs)."""


@dataclass(frozen=True, slots=True, repr=False)
class RegretCurve:
    """Mean cumulative pseudo-regret over independent runs, at increasing step counts.

    Attributes:
        checkpoints: the step counts ``t`` (1-based, increasing) at which regret was read.
        regret: mean over runs of ``sum_{s<=t} (mu* - mu[chosen_s])`` at each checkpoint.
        stderr: standard error of that mean (sample std / sqrt(runs)); NaN when runs == 1.
        runs: how many independent runs were averaged.

    Example:
        >>> curve = RegretCurve(checkpoints=(1, 10), regret=(0.1, 0.5), stderr=(0.0, 0.1),
        ...                     runs=4)
        >>> curve
        RegretCurve(runs=4, t=1..10 (2 checkpoints), final regret=0.5 +- 0.1)
        >>> next(curve.rows())
        {'t': 1, 'regret': 0.1, 'stderr': 0.0}
    """

    checkpoints: tuple[int, ...]
    regret: tuple[float, ...]
    stderr: tuple[float, ...]
    runs: int

    def __post_init__(self) -> None:
        if not self.checkpoints:
            raise ConfigError("a RegretCurve needs at least one checkpoint")
        if not len(self.checkpoints) == len(self.regret) == len(self.stderr):
            raise ConfigError(
                "checkpoints, regret and stderr must have one entry per checkpoint, got "
                f"{len(self.checkpoints)}, {len(self.regret)} and {len(self.stderr)}"
            )
        if self.runs < 1:
            raise ConfigError(f"runs must be >= 1, got {self.runs!r}")

    def rows(self) -> Iterator[dict[str, float]]:
        """Yield one plain ``{'t', 'regret', 'stderr'}`` row per checkpoint (for tables)."""
        for t, mean, se in zip(self.checkpoints, self.regret, self.stderr, strict=True):
            yield {"t": t, "regret": mean, "stderr": se}

    def __repr__(self) -> str:
        return (
            f"RegretCurve(runs={self.runs}, t={self.checkpoints[0]}..{self.checkpoints[-1]} "
            f"({len(self.checkpoints)} checkpoints), "
            f"final regret={self.regret[-1]:.4g} +- {self.stderr[-1]:.2g})"
        )


def lai_robbins_bound(means: Sequence[float], horizon: int) -> float:
    """Lai & Robbins' asymptotic lower bound on Bernoulli regret after ``horizon`` steps.

    ``sum over suboptimal arms i of (mu* - mu_i) / KL(mu_i, mu*) * ln(horizon)``, with
    ``KL`` the Bernoulli Kullback-Leibler divergence. Any uniformly good policy has
    regret at least ``(constant + o(1)) * ln(horizon)``; because of the ``o(1)``, real
    regret at a finite horizon may sit well above or below the line (Thompson sampling
    stays below it up to 10**6 steps in Chapelle & Li's 10-arm problems). Arms tied with
    the best add nothing; when ``mu* == 1`` every divergence is infinite and the bound is 0.

    Args:
        means: the arms' success probabilities, each in [0, 1].
        horizon: the step count ``t`` (>= 1).

    Returns:
        The bound, in units of expected successes lost.

    Raises:
        ConfigError: a mean is outside [0, 1] or the horizon is not a positive integer.

    Example:
        >>> round(lai_robbins_bound([0.5, 0.4], horizon=1000), 2)
        34.31
        >>> lai_robbins_bound([0.5, 0.5], horizon=1000)
        0.0
    """
    mu = _check_means(means)
    t = _positive_int("horizon", horizon)
    best = max(mu)
    constant = sum((best - m) / _bernoulli_kl(m, best) for m in mu if m < best)
    return constant * math.log(t)


def simulate_thompson(
    means: Sequence[float],
    horizon: int,
    runs: int,
    rng: np.random.Generator,
    *,
    checkpoints: Sequence[int] | None = None,
) -> RegretCurve:
    """Beta(1, 1) Thompson sampling on Bernoulli arms, ``runs`` independent runs at once.

    Every step draws ``theta ~ Beta(successes + 1, failures + 1)`` for all runs x arms,
    plays the argmax in each run, draws a reward for the chosen arms only and updates
    their posteriors. The Beta draws are ``G_a / (G_a + G_b)`` from one
    ``rng.standard_gamma`` call into a preallocated (2, runs, K) array: the construction
    ``rng.beta`` itself uses once a shape exceeds 1, at the same speed, without
    allocating a (runs, K) array per step (``benchmarks/chapelle_li.py`` times the alternatives).
    Those gamma draws are most of the cost once runs x K reaches a few hundred.

    Args:
        means: each arm's success probability, in [0, 1].
        horizon: steps per run (>= 1).
        runs: independent runs (>= 1), simulated side by side.
        rng: the only source of randomness.
        checkpoints: increasing step counts in [1, horizon] at which to read regret;
            by default about 100 log-spaced ones from 1 to ``horizon``.

    Returns:
        The mean cumulative pseudo-regret curve over the runs.

    Raises:
        ConfigError: an argument is out of range or ``rng`` is not a numpy Generator.

    Example:
        >>> import numpy as np
        >>> curve = simulate_thompson([0.7, 0.3], horizon=500, runs=16,
        ...                           rng=np.random.default_rng(0))
        >>> curve.checkpoints[-1], curve.runs
        (500, 16)
        >>> 0.0 < curve.regret[-1] < 20.0
        True
    """
    import numpy as np

    problem = _Problem(means, horizon, runs, rng, checkpoints)
    k, plane = problem.arms, runs * problem.arms
    shapes = np.ones((2, runs, k))  # [0]: successes + 1, [1]: failures + 1
    flat_shapes = shapes.reshape(-1)  # a view: flat index = lost * plane + run * k + arm
    draws = np.empty_like(shapes)
    theta, total = draws[0], draws[1]
    choice = np.empty(runs, dtype=np.intp)
    target = np.empty(runs, dtype=np.intp)
    lost = np.empty(runs, dtype=np.bool_)
    offset = np.empty(runs, dtype=np.intp)
    u = np.empty(runs)
    row = problem.row_offsets
    # Bound methods and ufuncs as locals: at 10**6 steps, attribute lookups add up.
    gamma, uniform, pick, mean_of = (
        rng.standard_gamma,
        rng.random,
        theta.argmax,
        problem.flat_means.take,
    )
    add, divide, greater_equal, multiply = np.add, np.divide, np.greater_equal, np.multiply
    recorder = problem.recorder()
    mark = recorder.next_mark
    for t in range(1, horizon + 1):
        gamma(shapes, out=draws)
        add(theta, total, out=total)
        divide(theta, total, out=theta)  # theta ~ Beta(successes + 1, failures + 1)
        pick(1, out=choice)
        add(choice, row, out=target)
        uniform(out=u)
        greater_equal(u, mean_of(target), out=lost)
        multiply(lost, plane, out=offset)
        add(target, offset, out=target)
        flat_shapes[target] += 1.0
        if t == mark:
            mark = recorder.record(shapes[0] + shapes[1] - 2.0)
    return recorder.curve()


def simulate_ucb1(
    means: Sequence[float],
    horizon: int,
    runs: int,
    rng: np.random.Generator,
    *,
    checkpoints: Sequence[int] | None = None,
) -> RegretCurve:
    """UCB1 (Auer, Cesa-Bianchi & Fischer 2002) on Bernoulli arms, ``runs`` runs at once.

    Plays each arm once, then at step ``t`` the arm maximising
    ``mean_i + sqrt(2 ln(t - 1) / n_i)``, where ``t - 1`` plays have been made so far
    and ``n_i`` of them were arm ``i``.

    Args:
        means: each arm's success probability, in [0, 1].
        horizon: steps per run (>= 1).
        runs: independent runs (>= 1), simulated side by side.
        rng: the only source of randomness (rewards and each run's arm order).
        checkpoints: increasing step counts in [1, horizon] at which to read regret;
            by default about 100 log-spaced ones from 1 to ``horizon``.

    Returns:
        The mean cumulative pseudo-regret curve over the runs.

    Raises:
        ConfigError: an argument is out of range or ``rng`` is not a numpy Generator.

    Example:
        >>> import numpy as np
        >>> curve = simulate_ucb1([0.7, 0.3], horizon=500, runs=16,
        ...                       rng=np.random.default_rng(0))
        >>> curve.checkpoints[-1], curve.runs
        (500, 16)
        >>> 0.0 < curve.regret[-1] < 60.0
        True
    """
    import numpy as np

    problem = _Problem(means, horizon, runs, rng, checkpoints)
    k = problem.arms
    counts = np.zeros((runs, k))
    flat_counts = counts.reshape(-1)  # flat index = run * k + arm
    flat_sums = np.zeros(runs * k)
    mean = np.zeros((runs, k))
    flat_mean = mean.reshape(-1)
    spread = np.zeros((runs, k))  # 1 / sqrt(n_i): the bonus is sqrt(2 ln n) * spread
    flat_spread = spread.reshape(-1)
    index = np.empty((runs, k))
    choice = np.empty(runs, dtype=np.intp)
    target = np.empty(runs, dtype=np.intp)
    win = np.empty(runs, dtype=np.bool_)
    u = np.empty(runs)
    row = problem.row_offsets
    # Bound methods and ufuncs as locals: at 10**6 steps, attribute lookups add up.
    uniform, pick, mu_of = rng.random, index.argmax, problem.flat_means.take
    counts_of, sums_of = flat_counts.take, flat_sums.take
    add, multiply, less, sqrt, reciprocal = np.add, np.multiply, np.less, np.sqrt, np.reciprocal
    log, root = math.log, math.sqrt
    recorder = problem.recorder()
    mark = recorder.next_mark
    for t in range(1, horizon + 1):
        if t <= k:  # initialisation: every run plays its arm t - 1
            choice.fill(t - 1)
        else:
            multiply(spread, root(2.0 * log(t - 1)), out=index)
            add(index, mean, out=index)
            pick(1, out=choice)
        add(choice, row, out=target)
        uniform(out=u)
        less(u, mu_of(target), out=win)
        n = counts_of(target)
        n += 1.0
        flat_counts[target] = n
        s = sums_of(target)
        s += win
        flat_sums[target] = s
        s /= n
        flat_mean[target] = s
        sqrt(n, out=n)
        reciprocal(n, out=n)
        flat_spread[target] = n
        if t == mark:
            mark = recorder.record(counts)
    return recorder.curve()


class _Problem:
    """The validated inputs of one simulation, with each run's random arm order applied."""

    __slots__ = ("arms", "flat_means", "gaps", "marks", "row_offsets", "runs")

    def __init__(
        self,
        means: Sequence[float],
        horizon: int,
        runs: int,
        rng: np.random.Generator,
        checkpoints: Sequence[int] | None,
    ) -> None:
        import numpy as np

        mu = np.asarray(_check_means(means), dtype=np.float64)
        horizon = _positive_int("horizon", horizon)
        self.runs = _positive_int("runs", runs)
        if not isinstance(rng, np.random.Generator):
            raise ConfigError(
                f"rng must be a numpy.random.Generator such as numpy.random.default_rng(seed), "
                f"got {type(rng).__name__}"
            )
        self.marks = _check_checkpoints(checkpoints, horizon)
        self.arms = mu.size
        order = rng.permuted(np.tile(np.arange(self.arms), (self.runs, 1)), axis=1)
        self.flat_means: FloatArray = mu[order].reshape(-1)
        self.gaps: FloatArray = (mu.max() - mu)[order]  # (runs, K): mu* - mu per run and arm
        self.row_offsets: IntArray = np.arange(self.runs, dtype=np.intp) * self.arms

    def recorder(self) -> _Recorder:
        return _Recorder(self.marks, self.gaps)


class _Recorder:
    """Mean and standard error of cumulative regret over runs, filled in at checkpoints."""

    __slots__ = ("_gaps", "_i", "_marks", "_means", "_stderrs", "next_mark")

    def __init__(self, marks: tuple[int, ...], gaps: FloatArray) -> None:
        self._marks = marks
        self._gaps = gaps
        self._means: list[float] = []
        self._stderrs: list[float] = []
        self._i = 0
        self.next_mark = marks[0]

    def record(self, pulls: FloatArray) -> int:
        """Record regret from each run's pull counts (runs, K); return the next mark (or 0)."""
        regret = (pulls * self._gaps).sum(axis=1)
        runs = regret.size
        self._means.append(float(regret.mean()))
        self._stderrs.append(float(regret.std(ddof=1)) / math.sqrt(runs) if runs > 1 else math.nan)
        self._i += 1
        self.next_mark = self._marks[self._i] if self._i < len(self._marks) else 0
        return self.next_mark

    def curve(self) -> RegretCurve:
        return RegretCurve(
            checkpoints=self._marks,
            regret=tuple(self._means),
            stderr=tuple(self._stderrs),
            runs=self._gaps.shape[0],
        )


def _bernoulli_kl(p: float, q: float) -> float:
    """KL(Bernoulli(p) || Bernoulli(q)) with 0 log 0 = 0; infinite where q is 0 or 1 and p != q."""
    total = 0.0
    for a, b in ((p, q), (1.0 - p, 1.0 - q)):
        if a > 0.0:
            if b <= 0.0:
                return math.inf
            total += a * math.log(a / b)
    return total


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ConfigError(f"{name} must be >= 1, got {number}")
    return number


def _check_means(means: Sequence[float]) -> list[float]:
    try:
        values = [float(m) for m in means]
    except (TypeError, ValueError):
        raise ConfigError(
            f"means must be a sequence of success probabilities in [0, 1], got {means!r}"
        ) from None
    if not values:
        raise ConfigError("means is empty; give one success probability per arm")
    bad = [m for m in values if not 0.0 <= m <= 1.0]  # also catches NaN
    if bad:
        raise ConfigError(
            f"means must be Bernoulli success probabilities in [0, 1]; {bad[0]!r} is not"
        )
    return values


def _check_checkpoints(checkpoints: Sequence[int] | None, horizon: int) -> tuple[int, ...]:
    if checkpoints is None:
        return log_checkpoints(horizon)
    marks = tuple(_positive_int("each checkpoint", t) for t in checkpoints)
    if not marks:
        raise ConfigError("checkpoints is empty; pass None for log-spaced defaults")
    if any(b <= a for a, b in pairwise(marks)):
        raise ConfigError(f"checkpoints must be strictly increasing, got {marks!r}")
    if marks[-1] > horizon:
        raise ConfigError(f"checkpoint {marks[-1]} is past the horizon {horizon}; drop it")
    return marks


def log_checkpoints(horizon: int, points: int = DEFAULT_CHECKPOINTS) -> tuple[int, ...]:
    """About ``points`` distinct step counts spaced evenly in log t, from 1 to ``horizon``.

    Example:
        >>> log_checkpoints(1000, points=4)
        (1, 10, 100, 1000)
    """
    horizon = _positive_int("horizon", horizon)
    points = _positive_int("points", points)
    if points == 1 or horizon == 1:
        return (horizon,)
    step = math.log(horizon) / (points - 1)
    marks = {min(horizon, round(math.exp(i * step))) for i in range(points)}
    return tuple(sorted(marks | {1, horizon}))
