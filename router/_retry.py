"""``Retry``: when to call a failed path again, and after how long."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bandits import ConfigError
from router._names import shown
from router._taxonomy import RETRYABLE, ErrorClass

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Retry:
    """Retries of one path within a run: full-jitter exponential backoff with a cap.

    The wait before retry ``k`` (1, 2, ...) is uniform in ``[0, min(cap, base * 2**(k-1))]``
    (AWS's "full jitter": retrying clients spread out instead of stampeding), drawn from
    the router's seeded generator. A ``rate_limited`` failure whose provider sent
    Retry-After waits exactly that long, if it is at most ``max_retry_after``; longer, the
    router moves on to the next path instead. Retries never outlast the run's deadline.

    tenacity's ``wait_random_exponential`` computes the same backoff, but draws from the
    global ``random`` module (so runs could not be replayed from a seed), and its loop
    owns the call, while ours must interleave retries with fallbacks across paths,
    sync and async, under one deadline; hence these few lines.

    Args:
        attempts: calls of the path per run, the first included (1: never retry).
        base: seconds; the first retry waits up to this.
        cap: longest wait between two calls.
        on: error classes worth retrying (default: transient, timeout, rate_limited).
        max_retry_after: longest Retry-After the router will wait for.

    Example:
        >>> import numpy as np
        >>> retry = Retry(attempts=3, base=0.5, cap=4.0)
        >>> 0 <= retry.wait(1, ErrorClass.TRANSIENT, None, np.random.default_rng(0)) <= 0.5
        True
        >>> retry.wait(1, ErrorClass.RATE_LIMITED, 2.0, np.random.default_rng(0))
        2.0
        >>> retry.wait(3, ErrorClass.TRANSIENT, None, np.random.default_rng(0)) is None
        True
    """

    attempts: int = 2
    base: float = 0.25
    cap: float = 4.0
    on: frozenset[ErrorClass] = field(default=RETRYABLE)
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or self.attempts < 1:
            raise ConfigError(f"Retry attempts must be an int >= 1, got {shown(self.attempts)}")
        for name in ("base", "cap", "max_retry_after"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"Retry {name} must be a finite number >= 0, got {shown(value)}")
        object.__setattr__(self, "on", frozenset(ErrorClass(c) for c in self.on))

    def wait(
        self,
        tries: int,
        error_class: ErrorClass,
        retry_after: float | None,
        rng: np.random.Generator,
    ) -> float | None:
        """Seconds to wait before calling again after ``tries`` calls, or None to move on."""
        if tries >= self.attempts or error_class not in self.on:
            return None
        if error_class is ErrorClass.RATE_LIMITED and retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return float(rng.uniform(0.0, min(self.cap, self.base * 2.0 ** (tries - 1))))


NO_RETRY = Retry(attempts=1)
