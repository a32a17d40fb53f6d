"""Replay degradation scenarios through the real Router on a simulated clock.

Example:
    >>> from simulations import load_scenario, replay
    >>> rows = list(replay(load_scenario("outage").with_options(requests=30), seed=0))
    >>> len(rows), sorted(rows[0])[:3]
    (30, ['attempts', 'best_expected', 'cost'])
"""

from router import FakeClock
from router._analysis_plots import (  # their home is router (production analysis)
    change_point_times,
    plot_change_points,
    plot_cost_per_success,
    plot_latency_percentiles,
    plot_path_dashboard,
    plot_posteriors,
    plot_rolling_success,
    plot_traffic_share,
)
from simulations._contextual import (
    CONTEXTUAL_BUILTIN,
    ContextualPath,
    ContextualScenario,
    Draw,
    Kind,
    Quality,
    builtin_contextual_scenarios,
    load_contextual_scenario,
)
from simulations._contextual_environment import ContextualEnvironment, ContextualOracle
from simulations._contextual_experiment import (
    ContenderRun,
    ContextualComparison,
    compare_contextual,
)
from simulations._contextual_random import (
    random_contextual_scenario,
    random_contextual_scenarios,
)
from simulations._contextual_replay import CONTENDERS, feature_matrix, replay_contextual
from simulations._delay import DelayedPolicy, DelayedStore, SimClock
from simulations._environment import Environment, RateLimited, ServerError, SimOutput
from simulations._policies import ALL_POLICIES, POLICIES, Oracle
from simulations._random import random_scenario, random_scenarios
from simulations._replay import replay
from simulations._sample import analysis_store
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
    "CONTENDERS",
    "CONTEXTUAL_BUILTIN",
    "POLICIES",
    "ContenderRun",
    "ContextualComparison",
    "ContextualEnvironment",
    "ContextualOracle",
    "ContextualPath",
    "ContextualScenario",
    "DelayedPolicy",
    "DelayedStore",
    "Draw",
    "Environment",
    "FakeClock",
    "Kind",
    "Oracle",
    "PathSpec",
    "Quality",
    "RateLimited",
    "Scenario",
    "ServerError",
    "SimClock",
    "SimOutput",
    "analysis_store",
    "builtin_contextual_scenarios",
    "builtin_scenarios",
    "change_point_times",
    "compare_contextual",
    "feature_matrix",
    "load_contextual_scenario",
    "load_scenario",
    "plot_change_points",
    "plot_cost_per_success",
    "plot_latency_percentiles",
    "plot_path_dashboard",
    "plot_posteriors",
    "plot_rolling_success",
    "plot_traffic_share",
    "random_contextual_scenario",
    "random_contextual_scenarios",
    "random_scenario",
    "random_scenarios",
    "replay",
    "replay_contextual",
]
