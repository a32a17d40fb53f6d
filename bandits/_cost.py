"""Cost-aware routing: trade expected success against what each path costs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bandits._errors import ConfigError
from bandits._names import shown
from bandits._path_posterior import PathPosterior
from bandits._policy import Choice, Policy

if TYPE_CHECKING:
    import numpy as np


class CostAware:
    """Wraps a policy so it weighs each path's success against its cost per call.

    Each request draws every path's success rate ``theta`` from its posterior (its
    evidence since the last change point, faded by its age, so drift is followed) and
    ranks paths by:

    * ``weight``: ``theta - weight * cost`` (successes one dollar is worth: with
      ``weight=20``, a path 5 cents dearer must succeed 1 point more often), or
    * ``max_cost_per_success``: ``theta`` among the paths whose ``cost / theta`` is
      within the ceiling; when none is, the lowest cost per success first.

    ``cost`` is the path's recent mean cost per call, an exponentially weighted mean
    of the costs the router records (``Path(price=...)`` or ``Metered(cost=...)``)
    with a half-life of ``halflife`` calls, so a price change is followed. A path
    with no recorded cost counts as free. Change detection, probing of down paths
    and resets still come from the wrapped policy (default :class:`AdaptiveThompson`);
    the logged propensities are Monte Carlo estimates over ``draws`` samples.

    Example:
        >>> import numpy as np
        >>> policy = CostAware(weight=20.0)
        >>> policy.observe_cost("gpt-4o", 0.025)
        >>> policy.observe_cost("claude", 0.003)
        >>> rows = {n: PathPosterior(n, 93.0, 7.0, 98) for n in ("gpt-4o", "claude")}
        >>> policy.choose(["gpt-4o", "claude"], rows, 196, np.random.default_rng(0)).order
        ['claude', 'gpt-4o']
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        weight: float | None = None,
        max_cost_per_success: float | None = None,
        halflife: float = 200.0,
        draws: int = 256,
    ) -> None:
        from bandits._adaptive import AdaptiveThompson

        if (weight is None) == (max_cost_per_success is None):
            raise ConfigError(
                "CostAware needs exactly one of weight= (successes per dollar) or "
                "max_cost_per_success= (dollars)"
            )
        for name, value in (("weight", weight), ("max_cost_per_success", max_cost_per_success)):
            if value is not None and not (
                isinstance(value, int | float) and math.isfinite(value) and value > 0
            ):
                raise ConfigError(f"CostAware {name} must be a positive number, got {shown(value)}")
        if not (isinstance(halflife, int | float) and halflife > 0):
            raise ConfigError(f"CostAware halflife must be > 0 calls, got {shown(halflife)}")
        if not (isinstance(draws, int) and draws >= 16):
            raise ConfigError(f"CostAware draws must be an int >= 16, got {shown(draws)}")
        if policy is not None and not isinstance(policy, Policy):
            raise ConfigError(f"CostAware wraps a Policy, got {shown(policy)}")
        self.inner: Policy = policy if policy is not None else AdaptiveThompson()
        self.weight = weight
        self.max_cost_per_success = max_cost_per_success
        self.halflife = halflife
        self.draws = draws
        self._keep = 0.5 ** (1.0 / halflife)
        self._costs: dict[str, float] = {}

    def __repr__(self) -> str:
        setting = (
            f"weight={self.weight!r}"
            if self.weight is not None
            else f"max_cost_per_success={self.max_cost_per_success!r}"
        )
        return f"CostAware({self.inner!r}, {setting})"

    def observe_cost(self, path: str, cost: float) -> None:
        """Fold one call's cost into the path's recent mean cost per call."""
        if not math.isfinite(cost) or cost < 0:
            return
        old = self._costs.get(path)
        self._costs[path] = cost if old is None else self._keep * old + (1 - self._keep) * cost

    def fading_horizon(self, paths: int) -> float | None:
        """The wrapped policy's horizon for a task's evidence (None: the store's default)."""
        inner = getattr(self.inner, "fading_horizon", None)
        return None if inner is None else inner(paths)

    def cost_of(self, path: str) -> float:
        """The path's recent mean cost per call (0.0 before any was recorded)."""
        return self._costs.get(path, 0.0)

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Passed on to the wrapped policy."""
        self.inner.observe(path, score, tick, errored)

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """The wrapped policy's choice, re-ranked by value for money."""
        import numpy as np

        inner = self.inner.choose(candidates, posteriors, tick, rng)
        offered = [n for n in inner.order if inner.propensities.get(n, 0.0) > 0.0]
        if len(offered) < 2 or max(inner.propensities.values(), default=0.0) >= 1.0:
            return inner  # one path, or a probe of a down path: keep the wrapped choice
        held = [n for n in inner.order if n not in offered]
        alpha, beta = _evidence(offered, posteriors, tick)
        cost = np.array([self.cost_of(n) for n in offered])
        theta = rng.beta(alpha, beta, size=(self.draws + 1, len(offered)))
        value = self._value(theta, cost)
        first = int(np.argmax(value[0]))
        wins = np.bincount(np.argmax(value[1:], axis=1), minlength=len(offered)).astype(float)
        wins[first] += 1.0  # the path actually chosen was possible
        shares = wins / wins.sum()
        mean_value = value.mean(axis=0)
        rest = sorted((i for i in range(len(offered)) if i != first), key=lambda i: -mean_value[i])
        order = [offered[first], *(offered[i] for i in rest), *held]
        propensities = {n: float(p) for n, p in zip(offered, shares, strict=True)}
        propensities.update(dict.fromkeys(held, 0.0))
        return Choice(order, propensities, inner.resets)

    def _value(self, theta: np.ndarray, cost: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.weight is not None:
            return np.asarray(theta - self.weight * cost)
        ceiling = self.max_cost_per_success
        assert ceiling is not None
        per_success = cost / np.maximum(theta, 1e-9)
        return np.asarray(np.where(per_success <= ceiling, theta, -1.0 - per_success))


def _evidence(
    names: Sequence[str], posteriors: Mapping[str, PathPosterior], tick: int
) -> tuple[list[float], list[float]]:
    """Beta parameters of each path's faded evidence (errors count as failures here)."""
    alpha, beta = [], []
    for name in names:
        row = posteriors.get(name)
        if row is None:
            alpha.append(1.0)
            beta.append(1.0)
            continue
        successes, failures, _, errors = row.faded(tick)
        alpha.append(max(row.prior_alpha + successes, 1e-3))
        beta.append(max(row.prior_beta + failures + errors, 1e-3))
    return alpha, beta
