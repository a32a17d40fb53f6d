"""Every policy orders every candidate, states its propensities, and learns as it should."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bandits._matching import ProbabilityMatching
from router import (
    UCB1,
    AdaptiveThompson,
    ConfigError,
    DiscountedThompson,
    EpsilonGreedy,
    Policy,
    RoundRobin,
    Router,
    SlidingWindowThompson,
    StaticOrder,
    Thompson,
)
from storage import PathPosterior

ALL = [
    AdaptiveThompson,
    Thompson,
    DiscountedThompson,
    SlidingWindowThompson,
    EpsilonGreedy,
    UCB1,
    RoundRobin,
    StaticOrder,
]


def rows(**means: float) -> dict[str, PathPosterior]:
    return {
        name: PathPosterior(name, 1 + 200 * m, 1 + 200 * (1 - m), 200) for name, m in means.items()
    }


@pytest.mark.parametrize("make", ALL)
def test_every_policy_orders_all_candidates_with_propensities(make: type[Any]) -> None:
    policy = make()
    assert isinstance(policy, Policy)
    rng = np.random.default_rng(0)
    for _ in range(20):
        choice = policy.choose(["a", "b", "c"], rows(a=0.9, b=0.5, c=0.1), 600, rng)
        assert sorted(choice.order) == ["a", "b", "c"]
        assert set(choice.propensities) == {"a", "b", "c"}
        assert sum(choice.propensities.values()) == pytest.approx(1.0)
        assert choice.propensities[choice.order[0]] > 0
        policy.observe(choice.order[0], 1.0, 600)


@pytest.mark.parametrize("make", [AdaptiveThompson, Thompson, EpsilonGreedy, UCB1])
def test_learning_policies_prefer_the_clearly_better_path(make: type[Any]) -> None:
    policy = make(epsilon=0.0) if make is EpsilonGreedy else make()
    rng = np.random.default_rng(1)
    firsts = [policy.choose(["a", "b"], rows(a=0.3, b=0.9), 400, rng).order[0] for _ in range(50)]
    assert firsts.count("b") >= 45


def test_probability_matching_draws_with_the_logged_propensities() -> None:
    matching = ProbabilityMatching()
    p = matching.probabilities(("a", "b", "c"), [30.0, 20.0, 5.0], [10.0, 12.0, 5.0], tick=0)
    rng = np.random.default_rng(2)
    picks = np.bincount([matching.pick(p, rng) for _ in range(40_000)], minlength=3) / 40_000
    assert picks == pytest.approx(p, abs=0.01)


def test_probability_matching_refreshes_when_posteriors_move() -> None:
    matching = ProbabilityMatching(refresh=1000)
    before = matching.probabilities(("a", "b"), [10.0, 10.0], [10.0, 10.0], tick=0)
    same = matching.probabilities(("a", "b"), [10.1, 10.0], [10.0, 10.0], tick=1)
    moved = matching.probabilities(("a", "b"), [30.0, 10.0], [10.0, 10.0], tick=2)
    assert same == before and moved[0] > 0.8


def test_stateful_baselines_forget() -> None:
    rng = np.random.default_rng(3)
    window = SlidingWindowThompson(window=50)
    discounted = DiscountedThompson(gamma=0.9)
    for tick in range(200):
        for policy in (window, discounted):
            policy.observe("a", 0.0 if tick > 150 else 1.0, tick)
            policy.observe("b", 0.5, tick)
    for policy in (window, discounted):
        firsts = [policy.choose(["a", "b"], {}, 200, rng).order[0] for _ in range(50)]
        assert firsts.count("b") >= 45, policy


def test_round_robin_and_static_order_are_deterministic() -> None:
    rng = np.random.default_rng(0)
    robin = RoundRobin()
    assert [robin.choose(["a", "b"], {}, 0, rng).order for _ in range(3)] == [
        ["a", "b"],
        ["b", "a"],
        ["a", "b"],
    ]
    assert StaticOrder().choose(["x", "y"], {}, 0, rng).propensities == {"x": 1.0, "y": 0.0}


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (AdaptiveThompson, {"delta": 0.0}),
        (AdaptiveThompson, {"horizon": -1}),
        (AdaptiveThompson, {"horizon_per_path": 0.5}),
        (AdaptiveThompson, {"horizon_per_path": "x"}),
        (AdaptiveThompson, {"availability_horizon": 0}),
        (AdaptiveThompson, {"probe_every": 64, "max_probe_every": 8}),
        (AdaptiveThompson, {"rescue_share": 1.5}),
        (AdaptiveThompson, {"rescue_share": "all"}),
        (DiscountedThompson, {"gamma": 1.0}),
        (SlidingWindowThompson, {"window": 0}),
        (EpsilonGreedy, {"epsilon": 1.5}),
    ],
)
def test_bad_settings_are_config_errors(make: type[Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        make(**kwargs)


def test_router_refuses_an_object_that_is_not_a_policy() -> None:
    def a(x: Any) -> Any:
        return x

    with pytest.raises(ConfigError, match="policy must have choose"):
        Router([a], lambda out: True, store="memory://", policy=object())  # type: ignore[arg-type]
