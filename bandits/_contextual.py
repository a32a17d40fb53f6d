"""``ContextualThompson``: Bayesian linear Thompson sampling on a request's features.

Each path's expected score is a linear function of the request's features: its numeric
context values (standardised) and an indicator per categorical value, plus an
intercept. The policy keeps, per path, the sufficient statistics of a ridge regression,
``A = sum x x^T`` and ``b = sum r x`` over raw features ``x = [1, values...]``: additive,
so two routers' statistics add up to what one would have learned from both (this
version keeps them in the router's process). Each request it draws a coefficient vector
per path from the Gaussian posterior ``N(P^-1 b_z, noise^2 P^-1)``, with ``P = A_z +
ridge I`` in standardised coordinates (``A_z = M A M^T`` for the affine map ``M`` from raw
to standardised features: exact, so the statistics never need rewriting as the feature
scales are learned), and orders the paths by their drawn scores. Old evidence fades
with ``horizon`` observations (every statistic is discounted by ``exp(-1 / horizon)``
per observation), so the policy follows drift.

The propensity of each path is estimated as the share of ``propensity_draws`` posterior
draws in which it scores highest (the first of which is the one that routes).

Memory per path: ``(d + 1)^2 + (d + 1)`` floats for ``d`` features, at most
``max_features`` (default 16: 306 floats, about 2.4 KB per path).

Example:
    >>> import numpy as np
    >>> policy = ContextualThompson(propensity_draws=8)
    >>> rng = np.random.default_rng(0)
    >>> for i in range(400):  # "long" requests want b, short ones a
    ...     length = float(i % 100)
    ...     best = "b" if length > 50 else "a"
    ...     for path in ("a", "b"):
    ...         policy.observe_with(path, float(path == best), i, False, {"length": length})
    >>> policy.choose_with(["a", "b"], {}, 400, rng, {"length": 90.0}).order[0]
    'b'
    >>> policy.choose_with(["a", "b"], {}, 400, rng, {"length": 5.0}).order[0]
    'a'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bandits._errors import ConfigError
from bandits._path_posterior import PathPosterior
from bandits._policy import Choice

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAX_FEATURES = 16


class ContextualThompson:
    """Thompson sampling on a linear model of each path's score given the request's
    features (numeric context values, and an indicator per categorical value).

    Args:
        ridge: prior precision of each standardised coefficient (larger: slower to
            trust a feature).
        noise: scale of the score's noise around the linear model (the spread of the
            draws; 0.25 was best of 0.1, 0.25 and 0.5 on tuning seeds 100-119 of
            ``simulations.random_contextual_scenarios``).
        horizon: observations after which one counts 1/e (None: never forgotten).
        max_features: features kept at most (the first ones seen; more are ignored).
        propensity_draws: posterior draws that estimate each path's propensity.
        cost_weight: successes one dollar is worth: paths are ranked by drawn score
            minus ``cost_weight`` x their recent mean cost per call (as
            :class:`CostAware` does; 0: cost is ignored).
        cost_halflife: calls over which a path's mean cost halves its memory.

    Raises:
        ConfigError: a setting out of range.
    """

    contextual = True  # the router passes each request's context (choose_with)

    def __init__(
        self,
        *,
        ridge: float = 1.0,
        noise: float = 0.25,
        horizon: float | None = 3000.0,
        max_features: int = MAX_FEATURES,
        propensity_draws: int = 32,
        cost_weight: float = 0.0,
        cost_halflife: float = 200.0,
    ) -> None:
        for name, value in (("ridge", ridge), ("noise", noise)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number, got {value!r}")
        if horizon is not None and not (
            isinstance(horizon, int | float) and math.isfinite(horizon) and horizon >= 1
        ):
            raise ConfigError(f"horizon must be None or a number >= 1, got {horizon!r}")
        if not (isinstance(max_features, int) and 1 <= max_features <= 64):
            raise ConfigError(f"max_features must be an int in [1, 64], got {max_features!r}")
        for name, value in (("cost_weight", cost_weight), ("cost_halflife", cost_halflife)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        draws = propensity_draws
        if not (isinstance(draws, int) and 1 <= draws <= 10_000):
            raise ConfigError(f"propensity_draws must be an int in [1, 10000], got {draws!r}")

        self.ridge, self.noise, self.horizon = float(ridge), float(noise), horizon
        self.max_features, self.draws = max_features, draws
        self._keep = 1.0 if horizon is None else math.exp(-1.0 / horizon)
        self._names: dict[str, int] = {}  # feature -> column (0 is the intercept)
        size = max_features + 1
        self._a: dict[str, npt.NDArray[np.float64]] = {}
        self._b: dict[str, npt.NDArray[np.float64]] = {}
        self._size = size
        self.cost_weight, self.cost_halflife = float(cost_weight), float(cost_halflife)
        self._cost_keep = 0.5 ** (1.0 / cost_halflife) if cost_halflife > 0 else 0.0
        self._costs: dict[str, float] = {}  # recent mean cost per call, per path

    def __repr__(self) -> str:
        return (
            f"ContextualThompson(ridge={self.ridge!r}, noise={self.noise!r}, "
            f"horizon={self.horizon!r}, max_features={self.max_features!r}, "
            f"cost_weight={self.cost_weight!r})"
        )

    def fresh(self) -> ContextualThompson:
        """A new policy of the same settings that has seen nothing."""
        return ContextualThompson(
            ridge=self.ridge,
            noise=self.noise,
            horizon=self.horizon,
            max_features=self.max_features,
            propensity_draws=self.draws,
            cost_weight=self.cost_weight,
            cost_halflife=self.cost_halflife,
        )

    @property
    def features(self) -> list[str]:
        """The features learned on, in column order (``lang=de``: an indicator)."""
        return sorted(self._names, key=self._names.__getitem__)

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Without a context: every request has the same (empty) features."""
        return self.choose_with(candidates, posteriors, tick, rng, {})

    def choose_with(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
        context: Mapping[str, Any],
    ) -> Choice:
        """Order ``candidates`` by one posterior draw of their scores for ``context``."""
        import numpy as np

        if not candidates:
            return Choice([], {})
        d = len(self._names) + 1
        x = self._raw(context, grow=False)[:d]
        scale = self._scaling(d)
        z = scale @ x
        scores = np.empty((self.draws, len(candidates)))
        for j, name in enumerate(candidates):
            mean, cholesky = self._posterior(name, d, scale)
            draws = rng.standard_normal((self.draws, d))
            scores[:, j] = (mean + self.noise * draws @ cholesky.T) @ z
            if self.cost_weight:
                scores[:, j] -= self.cost_weight * self._costs.get(name, 0.0)
        winners = np.argmax(scores, axis=1)
        counts = np.bincount(winners, minlength=len(candidates)) / self.draws
        first = int(winners[0])
        rest = np.argsort(-scores[0], kind="stable")
        order = [candidates[first], *(candidates[int(i)] for i in rest if int(i) != first)]
        return Choice(order, {name: float(counts[j]) for j, name in enumerate(candidates)})

    def observe_cost(self, path: str, cost: float) -> None:
        """Follow what a call of ``path`` costs (an exponentially weighted mean)."""
        known = self._costs.get(path)
        keep = self._cost_keep
        self._costs[path] = cost if known is None else keep * known + (1.0 - keep) * cost

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Without a context: learn as if the request had no features."""
        self.observe_with(path, score, tick, errored, {})

    def observe_with(
        self, path: str, score: float, tick: int, errored: bool, context: Mapping[str, Any]
    ) -> None:
        """Add one scored attempt of ``path`` on a request with ``context``."""
        import numpy as np

        x = self._raw(context, grow=True)
        keep = self._keep
        if keep < 1.0:
            for name in self._a:
                self._a[name] *= keep
                self._b[name] *= keep
        a = self._a.get(path)
        if a is None:
            a = self._a[path] = np.zeros((self._size, self._size))
            self._b[path] = np.zeros(self._size)
        a += np.outer(x, x)
        self._b[path] += score * x

    def _raw(self, context: Mapping[str, Any], *, grow: bool) -> npt.NDArray[np.float64]:
        """``[1, values...]`` in column order: numbers as they are, 1 for each
        categorical value present; features never seen are added while there is room."""
        import numpy as np

        x = np.zeros(self._size)
        x[0] = 1.0
        names = self._names
        for key, value in context.items():
            if isinstance(value, bool | str):
                feature, amount = f"{key}={value}", 1.0
            elif isinstance(value, int | float) and math.isfinite(value):
                feature, amount = key, float(value)
            else:
                continue
            column = names.get(feature)
            if column is None:
                if not grow or len(names) >= self.max_features:
                    continue
                column = names[feature] = len(names) + 1
            x[column] = amount
        return x

    def _scaling(self, d: int) -> npt.NDArray[np.float64]:
        """The affine map ``M`` from raw ``[1, x]`` to standardised ``[1, z]``, from the
        means and spreads of every path's statistics together."""
        import numpy as np

        scale = np.eye(d)
        if not self._a:
            return scale
        pooled = np.sum([a[:d, :d] for a in self._a.values()], axis=0)
        count = pooled[0, 0]
        if count <= 1e-9:
            return scale
        mean = pooled[0, 1:] / count
        variance = np.maximum(np.diag(pooled)[1:] / count - mean * mean, 0.0)
        spread = np.where(variance > 1e-12, np.sqrt(variance), 1.0)
        scale[1:, 1:] = np.diag(1.0 / spread)
        scale[1:, 0] = -mean / spread
        return scale

    def _posterior(
        self, name: str, d: int, scale: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Mean and Cholesky factor of the covariance (over noise^2) of ``name``'s
        standardised coefficients; the intercept's prior is 0.5 with precision 1."""
        import numpy as np

        precision = self.ridge * np.eye(d)
        precision[0, 0] = 1.0
        target = np.zeros(d)
        target[0] = 0.5
        a = self._a.get(name)
        if a is not None:
            precision += scale @ a[:d, :d] @ scale.T
            target += scale @ self._b[name][:d]
        covariance = np.linalg.inv(precision)
        covariance = (covariance + covariance.T) / 2.0
        factor = np.asarray(np.linalg.cholesky(covariance), dtype=np.float64)
        return covariance @ target, factor
