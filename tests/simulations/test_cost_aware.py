"""Cost-aware routing on the price-change scenario: cheaper when equal, better when not."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from router import ConfigError, CostAware, Metered, Path, Router
from simulations import load_scenario, replay
from storage import PathPosterior

REQUESTS = 6000


def late_traffic(policy: str) -> tuple[Counter[str], float, float]:
    scenario = load_scenario("price-change").with_options(requests=REQUESTS)
    rows = list(replay(scenario, policy, seed=1))[-1500:]
    served = Counter(str(r["served"]) for r in rows)
    success = sum(r["success"] for r in rows) / len(rows)
    return served, success, sum(r["cost"] for r in rows)


def test_the_price_rise_moves_traffic_to_the_equal_cheaper_path_not_the_worse_one() -> None:
    plain, plain_success, plain_cost = late_traffic("router")
    aware, aware_success, aware_cost = late_traffic("cost-aware(weight=20.0)")
    assert plain["gpt-4o"] > 750, "without a cost objective the dear path keeps its traffic"
    assert aware["gpt-4o"] < 75, "with one, traffic leaves the path whose price rose tenfold"
    assert aware["claude-sonnet"] > 1100, "...for the path of equal quality"
    assert aware["gpt-4o-mini"] < 300, "...not for the cheaper but worse one"
    assert aware_success > plain_success - 0.02
    assert aware_cost < plain_cost / 3


def test_a_cost_ceiling_keeps_only_paths_within_it() -> None:
    served, success, _ = late_traffic("cost-aware(max_cost_per_success=0.01)")
    assert served["claude-sonnet"] > 1400 and served["gpt-4o"] < 30
    assert success > 0.9


def test_equal_paths_go_to_the_cheaper_one() -> None:
    policy = CostAware(weight=20.0)
    rows = {n: PathPosterior(n, 901.0, 101.0, 1000) for n in ("dear", "cheap")}
    policy.observe_cost("dear", 0.02)
    policy.observe_cost("cheap", 0.002)
    rng = np.random.default_rng(0)
    firsts = Counter(policy.choose(["dear", "cheap"], rows, 2000, rng).order[0] for _ in range(200))
    assert firsts["cheap"] > 190
    choice = policy.choose(["dear", "cheap"], rows, 2000, rng)
    assert sum(choice.propensities.values()) == pytest.approx(1.0)
    assert choice.propensities["cheap"] > 0.9


def test_the_router_feeds_recorded_costs_to_the_policy() -> None:
    def dear(x: int) -> Metered:
        return Metered(x, cost=0.05)

    cheap = Path(lambda x: x, name="cheap", price=0.001)
    policy = CostAware(weight=20.0, halflife=1)
    router = Router([dear, cheap], lambda out: True, store="memory://", policy=policy, seed=0)
    for i in range(200):
        router.run(i)
    assert policy.cost_of("dear") == pytest.approx(0.05)
    assert policy.cost_of("cheap") == pytest.approx(0.001)
    assert router.stats().loc["cheap", "n"] > 150


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight": 1.0, "max_cost_per_success": 1.0},
        {"weight": -1.0},
        {"weight": 1.0, "halflife": 0},
        {"weight": 1.0, "draws": 2},
        {"weight": 1.0, "policy": "router"},
    ],
)
def test_bad_settings_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        CostAware(**options)  # type: ignore[arg-type]
