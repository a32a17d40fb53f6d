"""The Beta posterior of one path's success probability."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bandits._errors import ConfigError, InvalidScoreError

if TYPE_CHECKING:
    import numpy as np


def check_score(score: object) -> float:
    """Return ``score`` as a float if it is a bool or a finite number in [0, 1], else raise.

    Raises:
        InvalidScoreError: for anything else (None, strings, NaN, 2, -0.1, ...).

    Example:
        >>> check_score(True), check_score(0.25)
        (1.0, 0.25)
    """
    if isinstance(score, bool) or _is_numpy_bool(score):
        return 1.0 if score else 0.0
    if isinstance(score, numbers.Real):
        try:
            value = float(score)
        except (OverflowError, ValueError):  # an int too large for a float, say
            value = math.nan
        if 0.0 <= value <= 1.0:  # False for NaN and infinities
            return value
    raise InvalidScoreError(
        f"a score must be a bool or a finite number in [0, 1], got {score!r} "
        f"({type(score).__name__}); make success_fn return True/False or a fraction"
    )


def _is_numpy_bool(value: object) -> bool:
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    return kind == "b" and getattr(value, "ndim", None) == 0


@dataclass(frozen=True, slots=True)
class BetaPosterior:
    """Beta(alpha, beta) belief about a success probability; updates return new objects.

    A fractional score ``s`` counts as ``s`` of a success and ``1 - s`` of a failure.

    Example:
        >>> p = BetaPosterior().update(1).update(0.5)
        >>> p
        BetaPosterior(alpha=2.5, beta=1.5)
        >>> round(p.mean, 3)
        0.625
    """

    alpha: float = 1.0
    beta: float = 1.0

    def __post_init__(self) -> None:
        for name in ("alpha", "beta"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(
                    f"BetaPosterior {name} must be a finite number > 0, got {value!r}"
                )

    def update(self, score: float) -> BetaPosterior:
        """Add one observation with score in [0, 1]."""
        s = check_score(score)
        return BetaPosterior(self.alpha + s, self.beta + (1.0 - s))

    def revert(self, score: float) -> BetaPosterior:
        """Remove one observation previously added with :meth:`update`."""
        s = check_score(score)
        return BetaPosterior(self.alpha - s, self.beta - (1.0 - s))

    @property
    def mean(self) -> float:
        """Posterior mean success probability."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def variance(self) -> float:
        """Posterior variance."""
        total = self.alpha + self.beta
        return self.alpha * self.beta / (total * total * (total + 1.0))

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one success probability from the posterior."""
        return float(rng.beta(self.alpha, self.beta))

    def credible_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed credible interval holding ``level`` of the posterior mass.

        Example:
            >>> low, high = BetaPosterior(50, 50).credible_interval()
            >>> round(low, 2), round(high, 2)
            (0.4, 0.6)
        """
        if not 0.0 < level < 1.0:
            raise ConfigError(f"credible level must be in (0, 1), got {level!r}")
        from scipy.special import betaincinv

        tail = (1.0 - level) / 2.0
        low = float(betaincinv(self.alpha, self.beta, tail))
        high = float(betaincinv(self.alpha, self.beta, 1.0 - tail))
        return low, high
