"""Kill switch, shared circuit breakers and budgets, on the fake clock."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from router import (
    Alert,
    Breaker,
    Budget,
    BudgetExceeded,
    ConfigError,
    Escalation,
    FakeClock,
    Metered,
    Path,
    RateLimit,
    Router,
    UnpricedPathWarning,
)
from storage import MemoryStore, Store


def alpha(x: Any) -> str:
    return "alpha"


def beta(x: Any) -> str:
    return "beta"


def down(x: Any) -> str:
    raise ConnectionError("provider down")


def make(paths: list[Any], store: Store, task: str, clock: FakeClock, **options: Any) -> Router:
    options.setdefault("seed", 0)
    return Router(paths, lambda out: True, task=task, store=store, clock=clock, **options)


def test_disable_and_force_reach_every_router_on_the_store_within_a_second(
    store: Store, task: str, clock: FakeClock
) -> None:
    first = make([alpha, beta], store, task, clock)
    second = make([alpha, beta], store, task, clock, seed=1)
    assert {second.run(i) for i in range(30)} == {"alpha", "beta"}
    first.disable_path("alpha")
    assert {first.run(i) for i in range(10)} == {"beta"}  # at once in the router that set it
    clock.advance(1.0)
    assert {second.run(i) for i in range(30)} == {"beta"}
    first.force_path("alpha")
    clock.advance(1.0)
    assert {second.run(i) for i in range(30)} == {"alpha"}
    assert second.path_modes() == {"alpha": "forced", "beta": "auto"}
    first.enable_path("alpha")
    clock.advance(1.0)
    assert {second.run(i) for i in range(60)} == {"alpha", "beta"}


def test_the_kill_switch_refuses_unknown_paths(task: str, clock: FakeClock) -> None:
    router = make([alpha], MemoryStore(), task, clock)
    with pytest.raises(ConfigError, match="no path 'gamma'"):
        router.disable_path("gamma")


def test_an_open_breaker_is_skipped_and_shared(store: Store, task: str, clock: FakeClock) -> None:
    calls: list[int] = []

    def failing(x: Any) -> str:
        calls.append(x)
        raise ConnectionError("down")

    breaker = Breaker(failures=3, recovery=30.0)
    rescue = Path(beta, last_resort=True)
    first = make([failing, rescue], store, task, clock, breaker=breaker)
    for i in range(3):
        assert first.run(i) == "beta"
    assert calls == [0, 1, 2]
    assert store.path_states(task)["failing"].is_open
    other = make([failing, rescue], store, task, clock, breaker=breaker, seed=4)
    for i in range(20):
        result = other.route(i)
        assert [a.path for a in result.attempts] == ["beta"]
    assert calls == [0, 1, 2]
    rows = [o for o in store.outcomes(task) if o.path == "failing"]
    assert len(rows) == 3, "skipping an open path records no extra failure"


def test_a_half_open_trial_closes_the_breaker_when_the_path_answers(
    store: Store, task: str, clock: FakeClock
) -> None:
    healthy = {"now": False}

    def flaky(x: Any) -> str:
        if not healthy["now"]:
            raise ConnectionError("down")
        return "flaky"

    rescue = Path(beta, last_resort=True)
    router = make([flaky, rescue], store, task, clock, breaker=Breaker(failures=2, recovery=10))
    router.run(0)
    router.run(1)
    assert store.path_states(task)["flaky"].is_open
    clock.advance(10.0)
    first_trial = router.route(2)
    assert [a.path for a in first_trial.attempts] == ["flaky", "beta"]  # the trial failed
    assert store.path_states(task)["flaky"].is_open
    clock.advance(5.0)
    assert [a.path for a in router.route(3).attempts] == ["beta"]  # open again: no call
    healthy["now"] = True
    clock.advance(10.0)
    assert router.route(4).path == "flaky"
    assert not store.path_states(task)["flaky"].is_open


def test_a_half_open_trial_is_logged_as_chosen_for_certain(
    store: Store, task: str, clock: FakeClock
) -> None:
    def flaky(x: Any) -> str:
        raise ConnectionError("down")

    router = make([flaky, alpha], store, task, clock, breaker=Breaker(failures=2, recovery=10))
    for i in range(200):  # until the policy has tried flaky twice (each time alpha rescues)
        router.run(i)
        if store.path_states(task).get("flaky") and store.path_states(task)["flaky"].is_open:
            break
    assert store.path_states(task)["flaky"].is_open
    clock.advance(10.0)
    trial = router.route("trial")
    assert [a.path for a in trial.attempts] == ["flaky", "alpha"]
    rows = [o for o in store.outcomes(task) if o.request_id == trial.request_id]
    # placed first by the breaker, not drawn: propensity 1 (off-policy estimates rely on it)
    assert [(o.path, o.propensity) for o in rows] == [("flaky", 1.0), ("alpha", 0.0)]


def test_client_errors_do_not_open_the_breaker(task: str, clock: FakeClock) -> None:
    class BadRequest(Exception):
        status_code = 400

    def picky(x: Any) -> str:
        raise BadRequest("prompt too long")

    store = MemoryStore()
    router = make(
        [picky, Path(beta, last_resort=True)], store, task, clock, breaker=Breaker(failures=1)
    )
    for i in range(5):
        router.run(i)
    assert store.path_states(task) == {}


def test_spending_is_recorded_per_outcome(task: str, clock: FakeClock) -> None:
    def metered(x: Any) -> Metered:
        return Metered("answer", tokens_in=100, tokens_out=20, cost=0.002)

    store = MemoryStore()
    router = make([metered, Path(alpha, price=0.01)], store, task, clock)
    for i in range(20):
        router.run(i)
    costs = {(o.path, o.cost, o.tokens_in, o.tokens_out) for o in store.outcomes(task)}
    assert costs <= {("metered", 0.002, 100, 20), ("alpha", 0.01, None, None)}
    assert router.run(99) in ("answer", "alpha")


def test_the_daily_budget_alerts_at_80_percent_and_blocks_at_100(
    store: Store, task: str, clock: FakeClock
) -> None:
    alerts: list[Alert] = []
    priced = Path(alpha, price=0.1)
    router = make(
        [priced], store, task, clock, budget=Budget(daily_cost=1.0), on_alert=alerts.append
    )
    for i in range(8):
        router.run(i)
    assert [a.kind for a in alerts] == ["budget"] and "80%" in alerts[0].message
    router.run(8)
    router.run(9)
    assert "100%" in alerts[-1].message
    with pytest.raises(BudgetExceeded) as info:
        router.run(10)
    assert info.value.scope == f"task:{task}"
    clock.advance(86_400)  # a new UTC day
    assert router.run(11) == "alpha"


def test_a_second_router_sees_the_first_ones_spending(task: str, clock: FakeClock) -> None:
    store = MemoryStore()
    budget = Budget(daily_cost=0.5)
    one = make([Path(alpha, price=0.25)], store, task, clock, budget=budget)
    two = make([Path(alpha, price=0.25)], store, task, clock, budget=budget)
    one.run(1)
    two.run(2)
    with pytest.raises(BudgetExceeded):
        one.run(3)


def test_an_exhausted_budget_routes_to_the_cheapest_path(task: str, clock: FakeClock) -> None:
    budget = Budget(daily_cost=0.3, when_exceeded="cheapest")
    router = make(
        [Path(alpha, price=0.2), Path(beta, price=0.01)],
        MemoryStore(),
        task,
        clock,
        budget=budget,
    )
    for i in range(10):
        router.run(i)
    assert {router.run(i) for i in range(20)} == {"beta"}


def test_an_exhausted_budget_can_escalate(task: str, clock: FakeClock) -> None:
    budget = Budget(customer_daily_tokens=100, when_exceeded="escalate")

    def wordy(x: Any) -> Metered:
        return Metered("words", tokens_in=80, tokens_out=40)

    router = make(
        [wordy],
        MemoryStore(),
        task,
        clock,
        budget=budget,
        escalation=Escalation(lambda request, attempts: "queued"),
        on_alert=lambda a: None,
    )
    assert router.run(1, customer="acme") == "words"
    result = router.route(2, customer="acme")
    assert (result.escalated, result.output, result.attempts) == (True, "queued", ())
    assert router.run(3, customer="globex") == "words"


def test_the_run_budget_stops_further_fallbacks(task: str, clock: FakeClock) -> None:
    def costly_failure(x: Any) -> Metered:
        return Metered(None, cost=0.6)

    def costly_other(x: Any) -> Metered:
        return Metered(None, cost=0.6)

    router = Router(
        [
            Path(costly_failure, price=0.6),
            Path(costly_other, price=0.6),
            Path(alpha, last_resort=True, price=0.0),
        ],
        lambda out: out is not None,
        task=task,
        store=MemoryStore(),
        clock=clock,
        fallback_below=0.5,
        budget=Budget(run_cost=1.0),
    )
    result = router.route(1)
    assert len(result.attempts) == 2 and result.output is None


@pytest.mark.parametrize(
    "options",
    [
        {"breaker": "on"},
        {"budget": {"daily_cost": 1}},
        {"budget": Budget(when_exceeded="escalate")},
    ],
)
def test_bad_control_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Router([alpha], lambda out: True, store="memory://", **options)


@pytest.mark.parametrize(
    "options",
    [
        {"failures": 0},
        {"recovery": 0},
        {"recovery": float("inf")},
    ],
)
def test_bad_breakers_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Breaker(**options)


@pytest.mark.parametrize(
    "options",
    [{"daily_cost": -1}, {"run_tokens": 0}, {"when_exceeded": "panic"}, {"alert_at": 1.5}],
)
def test_bad_budgets_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Budget(**options)


def test_stats_show_tokens_and_cost_per_path(store: Store, task: str, clock: FakeClock) -> None:
    def metered(x: Any) -> Metered:
        return Metered("answer", tokens_in=100, tokens_out=20, cost=0.002)

    router = make([metered, Path(alpha, price=0.01)], store, task, clock)
    for i in range(40):
        router.run(i)
    stats = router.stats()
    rows = store.outcomes(task)
    for name in ("metered", "alpha"):
        mine = [o for o in rows if o.path == name]
        assert stats.loc[name, "cost"] == pytest.approx(sum(o.cost or 0 for o in mine))
        assert stats.loc[name, "tokens"] == sum(
            (o.tokens_in or 0) + (o.tokens_out or 0) for o in mine
        )
        if mine:
            assert stats.loc[name, "cost_per_success"] == pytest.approx(
                stats.loc[name, "cost"] / sum(o.score or 0 for o in mine)
            )


def test_a_cost_budget_with_unpriced_paths_says_so_when_the_router_is_built() -> None:
    free = Path(beta, name="free", price=0.0)
    with pytest.warns(UnpricedPathWarning, match=r"paths \['alpha'\] have no known price") as seen:
        Router([alpha, free], lambda out: True, store="memory://", budget=Budget(daily_cost=1))
    assert len(seen) == 1
    assert seen[0].filename == __file__  # it points at the Router(...) call
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # priced paths, or a budget on tokens: nothing to say
        Router([free], lambda out: True, store="memory://", budget=Budget(daily_cost=1))
        Router([alpha], lambda out: True, store="memory://", budget=Budget(daily_tokens=10))


def test_a_shared_rate_limit_is_counted_in_the_store_for_every_router(
    store: Store, task: str, clock: FakeClock
) -> None:
    limited = Path(alpha, rate_limit=RateLimit(per_minute=3, shared=True))
    one = make([limited, Path(beta, last_resort=True)], store, task, clock)
    two = make([limited, Path(beta, last_resort=True)], store, task, clock)
    served = [router.run(i) for i in range(3) for router in (one, two)]
    assert served.count("alpha") == 3  # three calls a minute between both routers, not each
    clock.advance(60.0)
    assert one.run(0) == "alpha"  # a new minute


def test_tokens_per_minute_are_counted_from_usage(
    store: Store, task: str, clock: FakeClock
) -> None:
    def wordy(x: Any) -> Metered:
        return Metered("a", tokens_in=400, tokens_out=200)

    limited = Path(wordy, rate_limit=RateLimit(tokens_per_minute=1000, shared=True))
    router = make([limited, Path(beta, last_resort=True)], store, task, clock)
    assert [router.run(i) for i in range(3)] == ["a", "a", "beta"]  # 1,200 tokens by then
    clock.advance(60.0)
    assert router.run(0) == "a"
