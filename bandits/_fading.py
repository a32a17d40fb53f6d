"""Evidence that fades by its age, kept as additive sums.

An observation made at tick ``t`` should count ``exp(-(T - t) / horizon)`` at a later
tick ``T``. Scaling every stored sum by that factor on each tick would be a
read-modify-write of every row. Instead each observation is *added* with the weight
``exp(t / horizon)``, measured from the start of its *epoch* (a stretch of
``EPOCH_HORIZONS`` horizons), and a reader multiplies the sum by
``exp(-T / horizon)`` once. So concurrent writers only ever add, and nothing is lost.

Weights grow within an epoch up to ``exp(EPOCH_HORIZONS)`` (about 9e6), far from any
float limit. When the first observation of a new epoch is added, the row's sums are
rescaled once by ``SHRINK`` (``exp(-EPOCH_HORIZONS)``, the weight of a whole epoch); a
writer one epoch behind adds its weight times ``SHRINK``; evidence two or more epochs
older than the newest is dropped (each such observation is at least ``EPOCH_HORIZONS``
horizons old and weighs at most ``SHRINK``, about 1e-7, of a fresh one). Ticks are a task's count
of scored attempts, so evidence fades at the speed of traffic, not of the wall clock.

Example:
    >>> epoch, added = weight(50, horizon=100.0)
    >>> epoch, round(added * scale(epoch, 150, horizon=100.0), 4)  # 100 ticks later: 1/e
    (0, 0.3679)
"""

from __future__ import annotations

import math

from bandits._errors import ConfigError

EPOCH_HORIZONS = 16.0
SHRINK = math.exp(-EPOCH_HORIZONS)  # what a sum in one epoch weighs in the next
DEFAULT_HORIZON = 3000.0


def check_horizon(horizon: object) -> float:
    """``horizon`` as a float, if it is a number of ticks >= 1.

    Raises:
        ConfigError: for anything else.

    Example:
        >>> check_horizon(500)
        500.0
    """
    if (
        isinstance(horizon, int | float)
        and not isinstance(horizon, bool)
        and math.isfinite(horizon)
        and horizon >= 1.0
    ):
        return float(horizon)
    raise ConfigError(f"a fading horizon must be a number of ticks >= 1, got {horizon!r}")


def weight(tick: int, horizon: float) -> tuple[int, float]:
    """(epoch, weight) with which an observation made at ``tick`` is added.

    Example:
        >>> weight(165, horizon=10.0)  # epoch 1 starts at tick 160
        (1, 1.6487212707001282)
    """
    epoch = max(0, int(tick // (EPOCH_HORIZONS * horizon)))
    return epoch, math.exp(max(0.0, tick / horizon - EPOCH_HORIZONS * epoch))


def scale(epoch: int, tick: int, horizon: float) -> float:
    """Factor turning sums kept in ``epoch`` into their faded value at ``tick``.

    Example:
        >>> scale(0, 0, horizon=10.0)
        1.0
    """
    return math.exp(min(0.0, EPOCH_HORIZONS * epoch - tick / horizon))


def add_in_epoch(total: float, total_epoch: int, amount: float, epoch: int) -> float:
    """``total`` (kept in ``total_epoch``) plus ``amount`` (weighted in ``epoch``), in
    the later of the two epochs: the rule every store applies in one atomic update.

    Example:
        >>> add_in_epoch(1.0, 0, 1.0, 0)
        2.0
        >>> add_in_epoch(1.0, 0, 1.0, 1) == 1.0 * SHRINK + 1.0
        True
        >>> add_in_epoch(1.0, 0, 1.0, 5)  # the old sum is negligible
        1.0
    """
    if epoch == total_epoch:
        return total + amount
    if epoch == total_epoch + 1:
        return total * SHRINK + amount
    if epoch > total_epoch:
        return amount
    if epoch == total_epoch - 1:
        return total + amount * SHRINK
    return total
