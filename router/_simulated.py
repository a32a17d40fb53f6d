"""Telling simulated outcomes apart: the tasks ``outcome-router simulate`` writes.

Replays name their tasks ``simulate/<scenario>/<policy>/seed-<n>`` and stamp outcomes
with the simulated clock (from 2026-01-01T00:00:00Z), so on a store that also serves
live traffic, or in ``health`` (which looks at the last minutes of real time), they must
be named for what they are.
"""

from __future__ import annotations

from collections.abc import Sequence

PREFIX = "simulate/"


def is_simulated(task: str) -> bool:
    """Was ``task`` written by the simulator?

    Example:
        >>> is_simulated("simulate/outage/router/seed-0"), is_simulated("order-extraction")
        (True, False)
    """
    return task.startswith(PREFIX)


def simulated_note(tasks: Sequence[str]) -> str | None:
    """A sentence saying which of ``tasks`` hold simulated outcomes, or None if none do.

    Example:
        >>> print(simulated_note(["simulate/outage/router/seed-0", "live"]))
        1 task holds simulated outcomes (simulate/..., written by `outcome-router simulate` on a fake clock that starts at 2026-01-01T00:00:00Z), not live traffic
    """  # noqa: E501
    simulated = [task for task in tasks if is_simulated(task)]
    if not simulated:
        return None
    count = (
        f"{len(simulated)} task holds" if len(simulated) == 1 else f"{len(simulated)} tasks hold"
    )
    return (
        f"{count} simulated outcomes ({PREFIX}..., written by `outcome-router simulate` on a "
        "fake clock that starts at 2026-01-01T00:00:00Z), not live traffic"
    )
