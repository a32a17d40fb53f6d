"""Health rules over simulated traffic: each default rule breaches on its own, and healthy
traffic passes all of them, on every store backend."""

from __future__ import annotations

from typing import Any

import pytest

from router import (
    DEFAULT_HEALTH_RULES,
    Alert,
    ConfigError,
    Escalation,
    FakeClock,
    HealthRule,
    Router,
    evaluate_health,
)
from storage import Outcome, Store, open_store

MINUTE = 60.0


def request(
    request_id: str,
    task: str,
    at: float,
    *,
    score: float | None = 1.0,
    latency_ms: float = 500.0,
    cost: float = 0.01,
    errors: int = 0,
    escalated: bool = False,
) -> list[Outcome]:
    """One request's outcome rows: ``errors`` attempts that raised, then the served one
    (or, when ``escalated``, a poor answer and the router's escalation row)."""
    rows = [
        Outcome(
            request_id, n + 1, task, "flaky", 0.0, at, "transient", errored=True, latency_ms=100.0
        )
        for n in range(errors)
    ]
    attempt = errors + 1
    rows.append(
        Outcome(request_id, attempt, task, "good", score, at, latency_ms=latency_ms, cost=cost)
    )
    if escalated:
        rows.append(
            Outcome(
                request_id,
                attempt + 1,
                task,
                "escalation",
                None,
                at,
                error_class="escalated",
                latency_ms=latency_ms + 2000.0,
                metadata={"reason": "every path failed", "handled": True},
            )
        )
    return rows


def traffic(task: str, now: float, **changes: dict[int, dict[str, Any]]) -> list[Outcome]:
    """100 healthy requests over the last 10 minutes (one every 6 s, the last at ``now``);
    ``changes[kind]`` maps request numbers to keyword arguments of :func:`request`."""
    rows: list[Outcome] = []
    for i in range(100):
        kwargs: dict[str, Any] = {}
        for overrides in changes.values():
            kwargs |= overrides.get(i, {})
        rows += request(f"{task}-r{i}", task, now - 594.0 + 6.0 * i, **kwargs)
    return rows


def statuses(store: Store, task: str, now: float) -> dict[str, str]:
    return {r.rule.name: r.status for r in evaluate_health(store, task, now=now)}


def test_healthy_traffic_passes_every_rule(store: Store, task: str, clock: FakeClock) -> None:
    now = clock()
    store.record_many(traffic(task, now))
    results = evaluate_health(store, task, now=now)
    assert [(r.rule.name, r.status, r.samples) for r in results] == [
        ("completion", "ok", 100),
        ("escalations", "ok", 100),
        ("cost", "ok", 100),
        ("latency", "ok", 100),
        ("errors", "ok", 50),  # the last 5 minutes: t = now - 294 ... now
    ]
    values = [r.value for r in results]
    assert values == [1.0, 0.0, pytest.approx(0.01), pytest.approx(0.5), 0.0]


Changes = dict[str, dict[int, dict[str, Any]]]

BREACHES: dict[str, tuple[Changes, set[str]]] = {
    # 20 answers judged wrong: completion 80% < 85%.
    "completion": ({"scores": {i: {"score": 0.0} for i in range(0, 100, 5)}}, {"completion"}),
    # 35 escalations: 35% > 30%; escalated requests do not complete either.
    "escalations": (
        {"escalated": {i: {"escalated": True, "score": 0.2} for i in range(35)}},
        {"escalations", "completion"},
    ),
    # $0.80 per request > $0.75.
    "cost": ({"costs": {i: {"cost": 0.8} for i in range(100)}}, {"cost"}),
    # 2 requests in 100 take 12 s: the p99 is 12 s > 10 s.
    "latency": ({"slow": {3: {"latency_ms": 12_000.0}, 97: {"latency_ms": 12_000.0}}}, {"latency"}),
    # 10 of the last 50 requests needed a retry: 10 errors in 60 attempts > 5%.
    "errors": ({"retries": {i: {"errors": 1} for i in range(90, 100)}}, {"errors"}),
}


@pytest.mark.parametrize("kind", list(BREACHES))
def test_each_rule_breaches_on_its_own_traffic(
    store: Store, task: str, clock: FakeClock, kind: str
) -> None:
    changes, breached = BREACHES[kind]
    now = clock()
    store.record_many(traffic(task, now, **changes))
    alerts: list[Alert] = []
    results = evaluate_health(store, task, now=now, on_breach=alerts.append)
    assert {r.rule.name for r in results if r.breached} == breached
    assert {r.rule.name for r in results if r.status == "breach"} == breached
    assert sorted(a.message.split(":")[1].split()[0] for a in alerts) == sorted(breached)
    assert all((a.kind, a.task, a.path, a.at) == ("health", task, None, now) for a in alerts)


def test_rule_values_are_what_the_traffic_holds(store: Store, task: str, clock: FakeClock) -> None:
    now = clock()
    store.record_many(traffic(task, now, **BREACHES["escalations"][0], **BREACHES["errors"][0]))
    values = {r.rule.name: r.value for r in evaluate_health(store, task, now=now)}
    assert values["escalations"] == 0.35 and values["completion"] == 0.65
    assert values["errors"] == pytest.approx(10 / 60)


def test_one_slow_request_in_a_hundred_is_below_the_p99(
    store: Store, task: str, clock: FakeClock
) -> None:
    now = clock()
    store.record_many(traffic(task, now, slow={50: {"latency_ms": 30_000.0}}))
    (latency,) = (r for r in evaluate_health(store, task, now=now) if r.rule.name == "latency")
    assert latency.status == "ok" and latency.value == pytest.approx(0.5 + 0.01 * 29.5)


def test_only_outcomes_inside_each_window_count(store: Store, task: str, clock: FakeClock) -> None:
    now = clock()
    # Errors and wrong answers 20-50 minutes ago; healthy traffic in the last 10 minutes.
    old = [
        row
        for i in range(30)
        for row in request(f"{task}-old{i}", task, now - 3000.0 + 60.0 * i, score=0.0, errors=2)
    ]
    future = request(f"{task}-later", task, now + 60.0, score=0.0, errors=3)
    store.record_many([*old, *traffic(task, now), *future])
    assert set(statuses(store, task, now).values()) == {"ok"}
    earlier = statuses(store, task, now - 1500.0)  # when the bad traffic was happening
    assert earlier["completion"] == "breach" and earlier["errors"] == "breach"


def test_unscored_served_attempts_do_not_complete(
    store: Store, task: str, clock: FakeClock
) -> None:
    now = clock()
    store.record_many(traffic(task, now, unscored={i: {"score": None} for i in range(50)}))
    assert statuses(store, task, now)["completion"] == "breach"


def test_a_quiet_task_has_no_data_and_no_alert(store: Store, task: str, clock: FakeClock) -> None:
    alerts: list[Alert] = []
    results = evaluate_health(store, task, now=clock(), on_breach=alerts.append)
    assert [r.status for r in results] == ["no data"] * len(DEFAULT_HEALTH_RULES)
    assert not any(r.breached for r in results) and alerts == []
    assert "no data" in results[0].message


def test_thresholds_and_windows_are_configurable(store: Store, task: str, clock: FakeClock) -> None:
    now = clock()
    store.record_many(traffic(task, now, costs={i: {"cost": 0.05} for i in range(100)}))
    rules = [
        HealthRule("pricey", "cost_per_request", ">", 0.04, window=60.0),
        HealthRule("strict", "completion_rate", "<=", 1.0, window=MINUTE),
        HealthRule("fast", "latency_p99_s", ">=", 0.5, window=1.0),
    ]
    results = evaluate_health(store, task, now=now, rules=rules)
    assert [(r.rule.name, r.status, r.samples) for r in results] == [
        ("pricey", "breach", 10),
        ("strict", "breach", 10),
        ("fast", "breach", 1),
    ]
    assert results[0].message == (
        f"task {task!r}: pricey breached: cost_per_request = $0.05 over 10 requests "
        "(rule: cost_per_request > $0.04 over 1m)"
    )


def test_every_task_of_a_sql_store_is_checked_when_none_is_named(clock: FakeClock) -> None:
    store = open_store("sqlite:///:memory:")
    now = clock()
    store.record_many(
        traffic("b-task", now, costs={i: {"cost": 2.0} for i in range(100)})
        + traffic("a-task", now)
        + request("stale", "c-task", now - 7200.0)
    )
    results = evaluate_health(store, now=now)
    assert sorted({r.task for r in results}) == ["a-task", "b-task"]  # c-task: nothing recent
    assert [(r.task, r.rule.name) for r in results if r.breached] == [("b-task", "cost")]
    store.close()


def test_a_memory_store_needs_a_task() -> None:
    with pytest.raises(ConfigError, match="name the task"):
        evaluate_health(open_store("memory://"))


def test_escalations_written_by_the_router_count(clock: FakeClock) -> None:
    def down(text: str) -> str:
        raise ConnectionError("down")

    store = open_store("memory://")
    router = Router(
        [down],
        lambda out: True,
        task="orders",
        store=store,
        clock=clock,
        escalation=Escalation(lambda text, attempts: "queued for a person"),
    )
    for i in range(5):
        router.run(i)
        clock.advance(MINUTE)
    values = {r.rule.name: r.value for r in evaluate_health(store, "orders", now=clock())}
    assert (values["escalations"], values["completion"], values["errors"]) == (1.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "error_rate", ">", 0.1, 60.0), "needs a name"),
        (("x", "errors", ">", 0.1, 60.0), "unknown metric"),
        (("x", "error_rate", "!=", 0.1, 60.0), "op must be"),
        (("x", "error_rate", ">", float("nan"), 60.0), "finite number"),
        (("x", "error_rate", ">", 5.0, 60.0), "0.85 for 85%"),
        (("x", "cost_per_request", ">", True, 60.0), "finite number"),
        (("x", "error_rate", ">", 0.1, 0.0), "seconds > 0"),
        (("x", "error_rate", ">", 0.1, "15m"), "seconds > 0"),
    ],
)
def test_bad_rules_are_refused_with_advice(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        HealthRule(*args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": DEFAULT_HEALTH_RULES[0]}, "list of HealthRule"),
        ({"rules": ["completion"]}, "HealthRule"),
        ({"rules": [DEFAULT_HEALTH_RULES[0]] * 2}, "distinct names"),
        ({"on_breach": "page me"}, "function of an Alert"),
        ({"now": float("inf")}, "seconds since the epoch"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        evaluate_health(open_store("memory://"), "t", **kwargs)


def test_a_request_escalated_before_any_attempt_counts_as_escalated(clock: FakeClock) -> None:
    store = open_store("memory://")
    now = clock()
    store.record_many(
        [
            *request("served", "t", now),
            Outcome("queued", 1, "t", "escalation", None, now, error_class="escalated"),
        ]
    )
    values = {r.rule.name: (r.value, r.samples) for r in evaluate_health(store, "t", now=now)}
    assert values["escalations"] == (0.5, 2) and values["completion"] == (0.5, 2)
    assert values["errors"] == (0.0, 1)  # the escalation row is not an attempt of a path


def test_cost_per_request_counts_only_requests_whose_cost_is_known(
    store: Store, task: str, clock: FakeClock
) -> None:
    now = clock()
    rule = [HealthRule("pricey", "cost_per_request", ">", 0.04, window=60.0)]
    priced = [
        Outcome(f"{task}-p{i}", 1, task, "a", 1.0, created_at=now - 1 - i, cost=0.05)
        for i in range(3)
    ]
    unpriced = [
        Outcome(f"{task}-u{i}", 1, task, "b", 1.0, created_at=now - 1 - i) for i in range(5)
    ]
    store.record_many(unpriced)
    (alone,) = evaluate_health(store, task, now=now, rules=rule)
    assert (alone.status, alone.samples) == ("no data", 0)  # unknown, not "$0: ok"
    store.record_many(priced)
    (both,) = evaluate_health(store, task, now=now, rules=rule)
    assert (both.status, both.samples, both.value) == ("breach", 3, pytest.approx(0.05))
