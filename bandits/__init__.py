"""Pure bandit math: Beta posteriors, Thompson sampling and propensities (no I/O).

Example:
    >>> import numpy as np
    >>> from bandits import BetaPosterior, rank_paths
    >>> posteriors = {"a": BetaPosterior().update(1), "b": BetaPosterior().update(0)}
    >>> sorted(rank_paths(posteriors, np.random.default_rng(7)))
    ['a', 'b']
"""

from bandits._changepoint import ChangeDetector, bernoulli_kl
from bandits._errors import ConfigError, InvalidScoreError, RouterError
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
from bandits._posterior import BetaPosterior, check_score
from bandits._propensity import first_place_probabilities
from bandits._thompson import rank_by_draws, rank_paths, thompson_draws, thompson_ranking
from bandits._vectorized import (
    RegretCurve,
    lai_robbins_bound,
    log_checkpoints,
    simulate_thompson,
    simulate_ucb1,
)

__all__ = [
    "BetaPosterior",
    "ChangeDetector",
    "ConfigError",
    "InvalidScoreError",
    "OffPolicyEstimate",
    "RegretCurve",
    "RouterError",
    "bernoulli_kl",
    "check_score",
    "doubly_robust_estimate",
    "effective_sample_size",
    "evaluate_policy",
    "first_place_probabilities",
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
