"""Replaying scenarios through the real Router: rows, delays, metrics, experiments."""

from __future__ import annotations

from pathlib import Path

import pytest

from router import AdaptiveThompson
from simulations import DelayedStore, SimClock, load_scenario, replay
from simulations._experiment import run_experiment
from simulations._metrics import recoveries, run_metrics
from storage import MemoryStore, Outcome, open_store


def test_rows_describe_every_request() -> None:
    rows = list(replay(load_scenario("outage").with_options(requests=300), "router", seed=0))
    assert [r["request"] for r in rows] == list(range(300))
    for row in rows:
        assert row["first"] in {"gpt-4o", "claude-sonnet", "gpt-4o-mini", "regex"}
        assert row["attempts"] >= 1 and 0.0 <= row["success"] <= 1.0
        assert row["latency_ms"] >= 0 and row["cost"] >= 0


def test_the_same_seed_replays_identically() -> None:
    scenario = load_scenario("silent-drift").with_options(requests=400)
    assert list(replay(scenario, "router", seed=5)) == list(replay(scenario, "router", seed=5))


def test_replay_writes_to_any_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    scenario = load_scenario("outage").with_options(requests=120)
    rows = list(replay(scenario, "router", seed=0, store=url, task="sim"))
    store = open_store(url)
    outcomes = store.outcomes("sim")
    assert len(outcomes) == sum(r["attempts"] for r in rows)
    assert sum(row.n for row in store.posteriors("sim").values()) == len(outcomes)
    store.close()


def test_outcomes_land_only_when_their_call_has_finished() -> None:
    clock = SimClock(0.0)
    store = DelayedStore(MemoryStore(), clock)
    clock.advance(2.0)  # a call that took two seconds
    store.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
    clock.set(1.0)
    assert store.posteriors("t") == {}
    clock.set(2.0)
    assert store.posteriors("t")["a"].n == 1


def test_the_router_leaves_a_failing_path_and_returns_when_it_recovers() -> None:
    rows = list(replay(load_scenario("outage").with_options(requests=3000), "router", seed=1))
    during = rows[1000:1800]
    after = rows[2400:]
    assert sum(r["first"] == "gpt-4o" for r in during) / len(during) < 0.1
    assert sum(r["first"] == "gpt-4o" for r in after) / len(after) > 0.8


TIMEOUT_STORM = """
name = "timeout-storm"
description = "the best path times out on 35% of its calls from 30% to 60% of the run"
requests = 6000

[[paths]]
name = "slow-best"
success = 0.98
error_rate = { steps = [[0.0, 0.05], [0.3, 0.35], [0.6, 0.05]] }
error_kind = "timeout"
latency = { median = 3.0, sigma = 0.4 }
timeout = 8.0

[[paths]]
name = "fast"
success = 0.91
latency = { median = 1.2, sigma = 0.35 }
"""


def test_a_path_wins_its_traffic_back_once_its_timeout_storm_has_passed(tmp_path: Path) -> None:
    # A third of the storm's calls time out: not an outage, so the path never goes
    # down, and after the storm it is tried only now and then. Its storm-era errors
    # must fade even so (they once stayed, and the path never came back).
    file = tmp_path / "timeout-storm.toml"
    file.write_text(TIMEOUT_STORM)
    for seed in (0, 1):
        rows = list(replay(load_scenario(file), "router", seed=seed))
        late = rows[-1000:]
        assert sum(r["first"] == "slow-best" for r in late) / len(late) > 0.6


@pytest.mark.parametrize("rate", [1.0, 50.0])
def test_router_beats_stationary_thompson_through_an_outage(rate: float) -> None:
    scenario = load_scenario("outage").with_options(requests=4000, rate=rate)
    experiment = run_experiment(scenario, ["router", "thompson"], seeds=2)
    router = experiment.policies["router"]
    thompson = experiment.policies["thompson"]
    assert router.spread("regret").mean < thompson.spread("regret").mean
    assert router.percent_of_oracle.mean > 98.0


def test_recovery_counts_requests_until_the_new_best_holds_80_percent() -> None:
    firsts = ["a"] * 200 + ["a"] * 10 + ["b"] * 190
    best = ["a"] * 200 + ["b"] * 200
    assert recoveries(firsts, [200], best) == [90]
    assert recoveries(["a"] * 400, [200], best) == [None]


def test_run_metrics_summarise_success_cost_latency_and_fallbacks() -> None:
    rows = [
        {
            "success": 1.0,
            "cost": 0.2,
            "latency_ms": 100.0,
            "attempts": 2,
            "served": "b",
            "first": "a",
            "expected": 0.0,
            "best_expected": 0.9,
        },
        {
            "success": 0.0,
            "cost": 0.0,
            "latency_ms": 300.0,
            "attempts": 1,
            "served": None,
            "first": "a",
            "expected": 0.0,
            "best_expected": 0.9,
        },
    ]
    metrics = run_metrics(rows, [], ["b", "b"])
    assert metrics.success_rate == 0.5
    assert metrics.regret == pytest.approx(1.8)
    assert metrics.cost_per_success == pytest.approx(0.2)
    assert metrics.fallback_rate == 0.5 and metrics.failure_rate == 0.5
    assert metrics.latency_p50_ms == pytest.approx(200.0)


def test_experiment_compares_policies_against_the_oracle() -> None:
    scenario = load_scenario("stationary").with_options(requests=500)
    experiment = run_experiment(scenario, ["router", "static-chain"], seeds=2, jobs=2)
    assert set(experiment.policies) == {"router", "static-chain", "oracle"}
    assert experiment.policies["oracle"].percent_of_oracle.mean == 100.0
    data = experiment.as_dict()
    assert data["policies"]["router"]["success_rate"]["mean"] > 0.8
    assert data["change_points"] == []


def test_default_policy_is_adaptive_thompson() -> None:
    from simulations import POLICIES

    assert isinstance(POLICIES["router"](), AdaptiveThompson)


def test_reading_path_states_does_not_land_outcomes_in_flight() -> None:
    from simulations._delay import DelayedStore, SimClock
    from storage import MemoryStore, Outcome

    clock = SimClock(0.0)
    store = DelayedStore(MemoryStore(), clock)
    clock.advance(2.0)  # the call takes 2 s
    store.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
    clock.set(1.0)  # the next request arrives while it is in flight
    assert store.path_states("t") == {}
    assert store.posteriors("t") == {}, "the kill-switch read must not land the outcome early"
    clock.set(2.0)
    assert store.posteriors("t")["a"].n == 1
