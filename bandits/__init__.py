"""Pure bandit math: posteriors, the routing policies, propensities, change detection (no I/O).

Example:
    >>> import numpy as np
    >>> from bandits import BetaPosterior, rank_paths
    >>> posteriors = {"a": BetaPosterior().update(1), "b": BetaPosterior().update(0)}
    >>> sorted(rank_paths(posteriors, np.random.default_rng(7)))
    ['a', 'b']
"""

import typing as _typing

from bandits._adaptive import AdaptiveThompson
from bandits._changepoint import ChangeDetector, bernoulli_kl
from bandits._errors import ConfigError, InvalidScoreError, RouterError
from bandits._lazy import lazy_attributes as _lazy_attributes
from bandits._path_posterior import PathPosterior
from bandits._policy import Choice, Policy, Reset
from bandits._posterior import BetaPosterior, check_score
from bandits._propensity import first_place_probabilities

if _typing.TYPE_CHECKING:  # at run time these load on first use (see __getattr__): cold start
    from bandits._baselines import (
        UCB1,
        DiscountedThompson,
        EpsilonGreedy,
        RoundRobin,
        SlidingWindowThompson,
        StaticOrder,
        Thompson,
    )
    from bandits._contextual import ContextualThompson
    from bandits._cost import CostAware
    from bandits._glr import GLRklUCB
    from bandits._ope import (
        OffPolicyEstimate,
        doubly_robust_estimate,
        effective_sample_size,
        evaluate_policy,
        fit_reward_model,
        importance_weights,
        ips_estimate,
        snips_estimate,
    )
    from bandits._reward_model import ContextualRewardModel, fit_contextual_reward_model
    from bandits._thompson import rank_by_draws, rank_paths, thompson_draws, thompson_ranking
    from bandits._vectorized import (
        RegretCurve,
        lai_robbins_bound,
        log_checkpoints,
        simulate_thompson,
        simulate_ucb1,
    )

# `import router` imports bandits but needs none of these: the baseline policies,
# off-policy evaluation, simulators and Thompson ranking load on first use.
_LAZY = {
    "UCB1": "bandits._baselines",
    "DiscountedThompson": "bandits._baselines",
    "EpsilonGreedy": "bandits._baselines",
    "RoundRobin": "bandits._baselines",
    "SlidingWindowThompson": "bandits._baselines",
    "StaticOrder": "bandits._baselines",
    "Thompson": "bandits._baselines",
    "ContextualThompson": "bandits._contextual",
    "CostAware": "bandits._cost",
    "GLRklUCB": "bandits._glr",
    "OffPolicyEstimate": "bandits._ope",
    "doubly_robust_estimate": "bandits._ope",
    "effective_sample_size": "bandits._ope",
    "evaluate_policy": "bandits._ope",
    "fit_reward_model": "bandits._ope",
    "importance_weights": "bandits._ope",
    "ips_estimate": "bandits._ope",
    "snips_estimate": "bandits._ope",
    "ContextualRewardModel": "bandits._reward_model",
    "fit_contextual_reward_model": "bandits._reward_model",
    "rank_by_draws": "bandits._thompson",
    "rank_paths": "bandits._thompson",
    "thompson_draws": "bandits._thompson",
    "thompson_ranking": "bandits._thompson",
    "RegretCurve": "bandits._vectorized",
    "lai_robbins_bound": "bandits._vectorized",
    "log_checkpoints": "bandits._vectorized",
    "simulate_thompson": "bandits._vectorized",
    "simulate_ucb1": "bandits._vectorized",
}

__all__ = [
    "UCB1",
    "AdaptiveThompson",
    "BetaPosterior",
    "ChangeDetector",
    "Choice",
    "ConfigError",
    "ContextualRewardModel",
    "ContextualThompson",
    "CostAware",
    "DiscountedThompson",
    "EpsilonGreedy",
    "GLRklUCB",
    "InvalidScoreError",
    "OffPolicyEstimate",
    "PathPosterior",
    "Policy",
    "RegretCurve",
    "Reset",
    "RoundRobin",
    "RouterError",
    "SlidingWindowThompson",
    "StaticOrder",
    "Thompson",
    "bernoulli_kl",
    "check_score",
    "doubly_robust_estimate",
    "effective_sample_size",
    "evaluate_policy",
    "first_place_probabilities",
    "fit_contextual_reward_model",
    "fit_reward_model",
    "importance_weights",
    "ips_estimate",
    "lai_robbins_bound",
    "log_checkpoints",
    "rank_by_draws",
    "rank_paths",
    "simulate_thompson",
    "simulate_ucb1",
    "snips_estimate",
    "thompson_draws",
    "thompson_ranking",
]


__getattr__, __dir__ = _lazy_attributes("bandits", _LAZY, globals(), __all__)
