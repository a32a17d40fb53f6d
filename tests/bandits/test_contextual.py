"""ContextualThompson: Bayesian linear Thompson sampling on a request's features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bandits import ConfigError, ContextualThompson
from router import Router
from storage import MemoryStore


def test_it_learns_which_path_serves_long_and_short_requests() -> None:
    rng = np.random.default_rng(3)

    def make(name: str) -> Any:
        def call(length: int) -> bool:
            long = length > 500
            quality = (0.92 if long else 0.5) if name == "strong" else (0.5 if long else 0.95)
            return bool(rng.random() < quality)

        call.__name__ = name
        return call

    store = MemoryStore()
    router = Router(
        [make("cheap"), make("strong")],
        bool,
        task="t",
        store=store,
        seed=1,
        policy=ContextualThompson(),
        context=lambda length: {"length": length},
    )
    lengths = rng.integers(10, 1000, 3000)
    for length in lengths:
        router.run(int(length))
    late = [router.route(900).path for _ in range(40)] + [router.route(50).path for _ in range(40)]
    assert late[:40].count("strong") >= 34 and late[40:].count("cheap") >= 34
    rows = store.outcomes("t")
    assert all(row.context is not None and "length" in row.context for row in rows)
    assert all(row.segment is None for row in rows)  # numeric routing: no segments


def test_its_propensities_are_probabilities_of_the_first_choice() -> None:
    policy = ContextualThompson(propensity_draws=200)
    rng = np.random.default_rng(0)
    choice = policy.choose_with(["a", "b", "c"], {}, 0, rng, {"length": 3.0})
    assert sum(choice.propensities.values()) == pytest.approx(1.0)
    assert all(0.0 <= p <= 1.0 for p in choice.propensities.values())
    assert sorted(choice.order) == ["a", "b", "c"]
    assert choice.propensities[choice.order[0]] > 0.0  # the routed draw is among them


def test_categorical_values_become_indicators_up_to_the_cap() -> None:
    policy = ContextualThompson(max_features=2)
    for lang in ("de", "en", "fr"):
        policy.observe_with("a", 1.0, 0, False, {"lang": lang, "n": 2})
    assert policy.features == ["lang=de", "n"]  # the first two seen; the rest ignored


def test_its_statistics_fade_with_the_horizon() -> None:
    policy = ContextualThompson(horizon=10.0)
    for _ in range(100):
        policy.observe_with("a", 1.0, 0, False, {})
    assert policy._a["a"][0, 0] == pytest.approx(1 / (1 - np.exp(-0.1)), rel=0.01)


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"ridge": 0}, "ridge must be a positive number"),
        ({"noise": float("nan")}, "noise must be a positive number"),
        ({"horizon": 0.5}, "horizon must be None or a number >= 1"),
        ({"max_features": 0}, "max_features must be an int"),
        ({"propensity_draws": 0}, "propensity_draws must be an int"),
    ],
)
def test_bad_settings_are_config_errors(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        ContextualThompson(**settings)


def test_with_a_cost_weight_the_cheaper_of_two_equal_paths_goes_first() -> None:
    policy = ContextualThompson(cost_weight=20.0, propensity_draws=64)
    for i in range(400):
        for path in ("cheap", "dear"):
            policy.observe_with(path, float(i % 5 > 0), i, False, {"n": float(i % 7)})
    policy.observe_cost("dear", 0.01)  # 0.2 successes' worth per call
    policy.observe_cost("cheap", 0.0001)
    rng = np.random.default_rng(2)
    firsts = [
        policy.choose_with(["cheap", "dear"], {}, 0, rng, {"n": 3.0}).order[0] for _ in range(50)
    ]
    assert firsts.count("cheap") >= 48
    plain = ContextualThompson(cost_weight=0.0)
    plain.observe_cost("dear", 0.01)
    assert plain.cost_weight == 0.0 and "cost_weight=0.0" in repr(plain)
