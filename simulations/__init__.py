"""Replay degradation scenarios through the real Router on a simulated clock.

Example:
    >>> from simulations import load_scenario, replay
    >>> rows = list(replay(load_scenario("outage").with_options(requests=30), seed=0))
    >>> len(rows), sorted(rows[0])[:3]
    (30, ['attempts', 'best_expected', 'cost'])
"""

from router import FakeClock
from simulations._delay import DelayedPolicy, DelayedStore, SimClock
from simulations._environment import Environment, RateLimited, ServerError, SimOutput
from simulations._policies import ALL_POLICIES, POLICIES, Oracle
from simulations._replay import replay
from simulations._scenario import (
    BUILTIN,
    PathSpec,
    Scenario,
    builtin_scenarios,
    load_scenario,
)

__all__ = [
    "ALL_POLICIES",
    "BUILTIN",
    "POLICIES",
    "DelayedPolicy",
    "DelayedStore",
    "Environment",
    "FakeClock",
    "Oracle",
    "PathSpec",
    "RateLimited",
    "Scenario",
    "ServerError",
    "SimClock",
    "SimOutput",
    "builtin_scenarios",
    "load_scenario",
    "replay",
]
