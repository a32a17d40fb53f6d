"""A path's posterior as the store keeps it: full sums, reset bases and faded sums."""

from __future__ import annotations

from dataclasses import dataclass

from bandits._fading import DEFAULT_HORIZON
from bandits._fading import scale as fade_scale
from bandits._posterior import BetaPosterior


@dataclass(frozen=True, slots=True)
class PathPosterior:
    """A path's stored posterior: Beta(alpha, beta) including its prior, and n scored attempts.

    ``alpha``, ``beta`` and ``n`` hold every score ever recorded, and ``errors`` the
    attempts among them that raised (score 0, no output). A change-point reset moves
    ``base_alpha``, ``base_beta``, ``base_n`` and ``base_errors`` instead of rewriting
    the sums, so "since the last reset" is a subtraction; ``resets`` counts the resets.

    The ``faded_*`` sums hold the same evidence weighted by its age (see
    :mod:`bandits._fading`), kept in epoch ``fade_epoch`` of a fading with ``horizon``
    ticks: ``faded_successes`` and ``faded_failures`` (outputs judged, since the last
    reset), ``faded_answers`` and ``faded_errors`` (calls that answered or raised).
    :meth:`faded` reads them at a tick. A row built without them (None) has its
    recent evidence read unfaded.

    Example:
        >>> row = PathPosterior("a", alpha=3.0, beta=3.0, n=4, errors=1)
        >>> row.posterior.mean, row.recent_successes, row.recent_failures
        (0.5, 2.0, 2.0)
        >>> row.quality_failures  # failures of outputs, errors left out
        1.0
    """

    path: str
    alpha: float
    beta: float
    n: int
    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    base_alpha: float | None = None
    base_beta: float | None = None
    base_n: int = 0
    resets: int = 0
    updated_at: float | None = None
    errors: int = 0
    base_errors: int = 0
    horizon: float = DEFAULT_HORIZON
    fade_epoch: int = 0
    faded_successes: float | None = None
    faded_failures: float | None = None
    faded_answers: float | None = None
    faded_errors: float | None = None

    def __post_init__(self) -> None:
        if self.base_alpha is None:
            object.__setattr__(self, "base_alpha", self.prior_alpha)
        if self.base_beta is None:
            object.__setattr__(self, "base_beta", self.prior_beta)

    @property
    def posterior(self) -> BetaPosterior:
        """The Beta posterior over every recorded score."""
        return BetaPosterior(self.alpha, self.beta)

    @property
    def recent_successes(self) -> float:
        """Sum of scores since the last reset."""
        return self.alpha - (self.base_alpha or 0.0)

    @property
    def recent_failures(self) -> float:
        """Sum of (1 - score) since the last reset."""
        return self.beta - (self.base_beta or 0.0)

    @property
    def recent_n(self) -> int:
        """Scored attempts since the last reset."""
        return self.n - self.base_n

    @property
    def recent_errors(self) -> int:
        """Attempts that raised since the last reset."""
        return self.errors - self.base_errors

    @property
    def recent_parameters(self) -> tuple[float, float]:
        """Beta parameters of the evidence since the last reset, on the prior (each >= 1e-3).

        Example:
            >>> PathPosterior("a", alpha=3.0, beta=2.0, n=3).recent_parameters
            (3.0, 2.0)
        """
        return (
            max(self.prior_alpha + self.recent_successes, 1e-3),
            max(self.prior_beta + self.recent_failures, 1e-3),
        )

    @property
    def quality_failures(self) -> float:
        """Sum of (1 - score) over outputs since the last reset (errors left out)."""
        return self.recent_failures - self.recent_errors

    def faded(self, tick: int) -> tuple[float, float, float, float]:
        """(successes, failures, answers, errors), each weighed by its age at ``tick``.

        Successes and failures are those of outputs since the last reset; answers and
        errors count calls. A row without faded sums gives its recent evidence unfaded.

        Example:
            >>> row = PathPosterior("a", 3.0, 2.0, 3, faded_successes=2.0, faded_failures=1.0,
            ...                     faded_answers=3.0, faded_errors=0.0, horizon=100.0)
            >>> [round(v, 3) for v in row.faded(100)]  # recorded at tick 0, read 100 later
            [0.736, 0.368, 1.104, 0.0]
        """
        if self.faded_successes is None:
            errors = float(self.recent_errors)
            return (
                self.recent_successes,
                self.quality_failures,
                self.recent_n - errors,
                errors,
            )
        scale = fade_scale(self.fade_epoch, tick, self.horizon)
        return (
            self.faded_successes * scale,
            (self.faded_failures or 0.0) * scale,
            (self.faded_answers or 0.0) * scale,
            (self.faded_errors or 0.0) * scale,
        )
