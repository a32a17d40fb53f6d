"""Canary rollout, shadow paths and guardrails."""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import numpy as np
import pytest

from router import (
    Breaker,
    Budget,
    BudgetExceeded,
    Canary,
    ConfigError,
    FakeClock,
    InputTooLarge,
    LoopDetected,
    Path,
    RateLimit,
    Router,
    note_tool_call,
)
from simulations import load_scenario, replay
from storage import MemoryStore


def coin(name: str, p: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    return Path(lambda x: bool(rng.random() < p), name=name)


def test_a_good_canary_climbs_every_stage_to_all_traffic() -> None:
    router = Router([coin("old", 0.8, 1)], lambda out: out, store=MemoryStore(), seed=3)
    router.add_path(coin("new", 0.95, 2), canary=Canary(stages=(0.05, 0.25, 1.0), min_scores=40))
    firsts: list[str] = []
    seen_states = set()
    for i in range(6000):
        firsts.append(router.route(i).attempts[0].path)
        seen_states.add(router.rollouts()["new"])
    assert seen_states >= {"canary at 5%", "canary at 25%", "promoted"}
    assert 0.02 < firsts[:400].count("new") / 400 < 0.10, "held at its first stage's cap"
    assert Counter(firsts[-1000:])["new"] > 800


def test_a_bad_canary_is_rolled_back_after_little_traffic() -> None:
    alerts: list[str] = []
    router = Router(
        [coin("old", 0.9, 1)],
        lambda out: out,
        store=MemoryStore(),
        seed=5,
        on_alert=lambda alert: alerts.append(alert.kind),
    )
    router.add_path(coin("new", 0.3, 2), canary=True)
    firsts = [router.route(i).attempts[0].path for i in range(8000)]
    assert router.rollouts() == {"new": "rolled back"}
    assert firsts.count("new") < 120
    assert "new" not in firsts[-3000:]
    assert alerts == ["canary"]


def test_a_canary_as_good_as_a_near_perfect_incumbent_is_promoted() -> None:
    # 30 perfect scores cannot prove a path is 99.99% good; with no margin the canary
    # would be "credibly worse" than an incumbent with 5,000 perfect scores and rolled back.
    router = Router([Path(lambda x: x, name="old")], lambda out: True, store=MemoryStore())
    for i in range(5000):
        router.route(i)
    router.add_path(Path(lambda x: x, name="new"), canary=True)
    for i in range(20_000):
        router.route(i)
    assert router.rollouts() == {"new": "promoted"}


def test_canaries_reviewed_from_many_threads_at_once_move_one_stage_at_a_time() -> None:
    from concurrent.futures import ThreadPoolExecutor

    failures: list[BaseException] = []
    for seed in range(12):
        router = Router([Path(lambda x: x, name="old")], lambda out: True, seed=seed)
        router.add_path(
            Path(lambda x: x, name="new"), canary=Canary(min_scores=1, stages=(0.3, 0.6, 1.0))
        )

        def serve(i: int, router: Router = router) -> None:
            try:
                router.route(i)
            except Exception as exc:  # collected: the assertion below names them
                failures.append(exc)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(serve, range(300)))
        assert router.rollouts() == {"new": "promoted"}
    assert failures == []


def test_propensities_include_the_canarys_cap() -> None:
    store = MemoryStore()
    router = Router([coin("old", 0.9, 1), coin("other", 0.9, 4)], lambda out: out, store=store)
    router.add_path(coin("new", 0.9, 2), canary=Canary(stages=(0.2, 1.0), min_scores=10_000))
    for i in range(300):
        router.run(i)
    firsts = [o for o in store.outcomes("default") if o.attempt == 1]
    for outcome in firsts:
        assert outcome.propensity is not None
        if outcome.path == "new":
            assert outcome.propensity == pytest.approx(0.2)
        else:
            assert outcome.propensity <= 0.8 + 1e-9
    share = sum(o.path == "new" for o in firsts) / len(firsts)
    assert 0.12 < share < 0.28


def test_the_canary_scenario_rolls_back_the_bad_model_and_promotes_the_good_one() -> None:
    scenario = load_scenario("canary-rollout").with_options(requests=12_000)
    rows = list(replay(scenario, "router", seed=2))
    firsts = Counter(str(r["first"]) for r in rows)
    assert firsts["ft-broken"] < 100, "the bad canary saw little traffic"
    late = Counter(str(r["first"]) for r in rows[-3000:])
    assert late["gpt-5"] > 2700, "the good canary was promoted and took the traffic"


def test_a_shadow_path_is_learned_but_never_served(clock: FakeClock) -> None:
    store = MemoryStore()
    live = Path(lambda x: "live", name="live")
    router = Router([live], lambda out: out == "live", store=store, clock=clock)
    calls: list[int] = []

    def candidate(x: int) -> str:
        calls.append(x)
        return "live" if x % 2 else "wrong"

    router.add_path(Path(candidate, name="candidate"), shadow=0.5)
    outputs = [router.run(i) for i in range(200)]
    router.wait_for_shadows()
    assert outputs == ["live"] * 200
    shadow_rows = [o for o in store.outcomes("default") if o.path == "candidate"]
    assert 60 < len(shadow_rows) == len(calls) < 140
    assert all(o.attempt == -1 and o.metadata["shadow"] is True for o in shadow_rows)
    row = store.posteriors("default")["candidate"]
    assert row.n == len(calls)
    assert row.alpha - 1 == sum(1 for x in calls if x % 2)
    router.close()


def test_shadow_calls_obey_the_kill_switch_the_breaker_rate_limits_and_budgets(
    clock: FakeClock,
) -> None:
    calls: list[str] = []

    def failing(x: int) -> str:
        calls.append("failing")
        raise ConnectionError("503 Service Unavailable")

    router = Router(
        [Path(lambda x: "live", name="live")],
        lambda out: True,
        store=MemoryStore(),
        clock=clock,
        breaker=Breaker(failures=3, recovery=600),
    )
    router.add_path(Path(failing, name="failing"), shadow=1.0)
    for i in range(10):
        router.run(i)
        router.wait_for_shadows()
    assert len(calls) == 3  # the breaker opened after three failures
    router.disable_path("failing")
    clock.advance(700)  # past the breaker's recovery: only the kill switch holds it
    for i in range(5):
        router.run(i)
        router.wait_for_shadows()
    assert len(calls) == 3

    def pricey(x: int) -> str:
        calls.append("pricey")
        return "shadow"

    budgeted = Router(
        [Path(lambda x: "live", name="cheap", price=0.01)],
        lambda out: True,
        store=MemoryStore(),
        clock=clock,
        budget=Budget(daily_cost=0.10, when_exceeded="block"),
    )
    shadow = Path(pricey, name="pricey", price=1.0, rate_limit=RateLimit(per_minute=2))
    budgeted.add_path(shadow, shadow=1.0)
    for i in range(20):
        with contextlib.suppress(BudgetExceeded):
            budgeted.run(i)
        budgeted.wait_for_shadows()
    assert calls.count("pricey") == 1  # its $1 counted against the budget: no more calls
    day = int(clock() // 86_400)
    assert budgeted.store.spend("task:default", day).cost == pytest.approx(1.01)


def test_bad_rollout_options_are_refused() -> None:
    router = Router([Path(lambda x: x, name="live")], lambda out: True, store="memory://")
    with pytest.raises(ConfigError):
        router.add_path(Path(lambda x: x, name="a"), canary="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        router.add_path(Path(lambda x: x, name="b"), shadow=1.5)
    with pytest.raises(ConfigError):
        router.add_path(Path(lambda x: x, name="c"), canary=True, shadow=0.1)
    for bad in ({"stages": (0.5, 0.2, 1.0)}, {"stages": (0.1, 0.5)}, {"confidence": 0.2}):
        with pytest.raises(ConfigError):
            Canary(**bad)  # type: ignore[arg-type]


def test_an_oversized_input_is_refused_before_any_call() -> None:
    calls: list[Any] = []
    router = Router([calls.append], lambda out: True, store="memory://", max_input_size=10)
    router.run("short")
    with pytest.raises(InputTooLarge, match="max_input_size=10"):
        router.run("x" * 11)
    with pytest.raises(InputTooLarge):
        router.run({"question": "a dict is measured as JSON"})
    assert calls == ["short"]


def test_inputs_that_hide_or_defy_their_size_are_refused_before_any_call() -> None:
    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    nested: list[Any] = []
    for _ in range(5000):
        nested = [nested]
    calls: list[Any] = []
    router = Router([calls.append], lambda out: True, store="memory://", max_input_size=1000)
    with pytest.raises(InputTooLarge, match="max_input_size=1000"):
        router.run(np.zeros(1_000_000))  # str() of it is a short summary
    with pytest.raises(InputTooLarge, match="max_input_size=1000"):
        router.run({"pixels": memoryview(bytes(10_000))})
    with pytest.raises(InputTooLarge, match="cannot be measured"):
        router.run(nested)
    with pytest.raises(InputTooLarge, match="cannot be measured"):
        router.run(Unprintable())
    router.run(np.zeros(10))
    assert len(calls) == 1


def test_a_looping_agent_is_stopped(clock: FakeClock) -> None:
    def agent(question: str) -> str:
        for _ in range(100):
            note_tool_call("search")
        return "never"

    def fallback(question: str) -> str:
        return "fallback"

    store = MemoryStore()
    router = Router(
        [Path(agent, timeout=5.0), Path(fallback, last_resort=True)],
        lambda out: True,
        store=store,
        loop_limit=5,
        clock=clock,
    )
    with pytest.raises(LoopDetected, match="'tool:search' was attempted 6 times"):
        router.run("q")
    (row,) = store.outcomes("default")
    assert (row.path, row.error_class) == ("agent", "error")
    note_tool_call("search")  # outside a run: nothing happens


def test_the_loop_limit_caps_attempts_of_one_path(clock: FakeClock) -> None:
    from router import Retry

    def flaky(x: int) -> str:
        raise ConnectionError("down")

    router = Router(
        [flaky],
        lambda out: True,
        store="memory://",
        clock=clock,
        loop_limit=3,
        retry=Retry(attempts=10, base=0.0),
    )
    with pytest.raises(LoopDetected, match="'path:flaky' was attempted 4 times"):
        router.run(1)


@pytest.mark.parametrize("options", [{"max_input_size": 0}, {"loop_limit": "3"}])
def test_bad_guardrails_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Router([Path(lambda x: x, name="p")], lambda out: True, store="memory://", **options)
