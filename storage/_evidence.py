"""What one outcome adds to its path's faded sums: the rule every store applies."""

from __future__ import annotations

from dataclasses import dataclass

from bandits._fading import add_in_epoch, weight


@dataclass(frozen=True, slots=True)
class FadedAdd:
    """Weighted amounts to add to a row's faded sums, kept in ``epoch``.

    Example:
        >>> FadedAdd.of(0.75, errored=False, tick=0, horizon=100.0)
        FadedAdd(epoch=0, successes=0.75, failures=0.25, answers=1.0, errors=0.0)
        >>> FadedAdd.of(0.0, errored=True, tick=0, horizon=100.0).errors
        1.0
    """

    epoch: int
    successes: float
    failures: float
    answers: float
    errors: float

    @classmethod
    def of(cls, score: float, *, errored: bool, tick: int, horizon: float) -> FadedAdd:
        """One scored attempt: an output judged ``score``, or a call that raised."""
        epoch, w = weight(tick, horizon)
        if errored:
            return cls(epoch, 0.0, 0.0, 0.0, w)
        return cls(epoch, w * score, w * (1.0 - score), w, 0.0)

    @classmethod
    def rescored(cls, change: float, *, tick: int, horizon: float) -> FadedAdd:
        """A delayed report moving an answered attempt's score by ``change``."""
        epoch, w = weight(tick, horizon)
        return cls(epoch, w * change, -w * change, 0.0, 0.0)

    def plus(self, other: FadedAdd) -> FadedAdd:
        """Both amounts, in the later epoch (for a batch of one path's outcomes)."""
        mine, theirs = self.epoch, other.epoch
        return FadedAdd(
            max(mine, theirs),
            add_in_epoch(self.successes, mine, other.successes, theirs),
            add_in_epoch(self.failures, mine, other.failures, theirs),
            add_in_epoch(self.answers, mine, other.answers, theirs),
            add_in_epoch(self.errors, mine, other.errors, theirs),
        )
