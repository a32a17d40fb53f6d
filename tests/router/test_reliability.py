"""The reliability layer on the fake clock: taxonomy, retries, deadlines, limits, escalation."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from pydantic import BaseModel

from router import (
    Alert,
    AllPathsFailed,
    ConfigError,
    ErrorClass,
    Escalation,
    FakeClock,
    Path,
    RateLimit,
    RateLimitExceeded,
    Retry,
    Router,
)
from storage import MemoryStore


class ProviderError(Exception):
    """An SDK-style error carrying an HTTP status and headers."""

    def __init__(self, status_code: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.headers = {} if retry_after is None else {"Retry-After": retry_after}


class Flaky:
    """Raises the given errors in turn, then answers."""

    def __init__(self, *errors: BaseException, clock: FakeClock | None = None) -> None:
        self.errors = list(errors)
        self.calls: list[float] = []
        self.clock = clock
        self.__name__ = "flaky"

    def __call__(self, x: Any) -> str:
        self.calls.append(self.clock() if self.clock else 0.0)
        if self.errors:
            raise self.errors.pop(0)
        return f"ok:{x}"


def answer(x: Any) -> str:
    return f"answer:{x}"


def router_for(paths: list[Any], clock: FakeClock, **options: Any) -> Router:
    options.setdefault("store", MemoryStore())
    options.setdefault("seed", 0)
    return Router(paths, lambda out: out is not None, task="t", clock=clock, **options)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ProviderError(503), "transient"),
        (ProviderError(500), "transient"),
        (ConnectionResetError("reset"), "transient"),
        (TimeoutError("slow"), "timeout"),
        (ProviderError(429), "rate_limited"),
        (ProviderError(400), "client_error"),
        (ProviderError(422), "client_error"),
        (ProviderError(401), "auth"),
        (ProviderError(403), "auth"),
        (KeyError("bug"), "error"),
    ],
)
def test_every_attempt_is_recorded_with_its_error_class(
    error: BaseException, expected: str, clock: FakeClock
) -> None:
    store = MemoryStore()
    router = router_for([Flaky(error), Path(answer, last_resort=True)], clock, store=store)
    result = router.route(1)
    assert result.output == "answer:1"
    first, second = store.outcomes("t")
    assert (first.path, first.score, first.error_class, first.errored) == (
        "flaky",
        0.0,
        expected,
        True,
    )
    assert first.metadata == {"error": type(error).__name__}
    assert (second.path, second.score, second.error_class) == ("answer", 1.0, None)


def test_transient_errors_are_retried_with_capped_full_jitter_backoff(clock: FakeClock) -> None:
    flaky = Flaky(ProviderError(503), ProviderError(502), ProviderError(500), clock=clock)
    router = router_for([flaky], clock, retry=Retry(attempts=4, base=1.0, cap=1.5))
    assert router.run("x") == "ok:x"
    waits = [b - a for a, b in zip(flaky.calls, flaky.calls[1:], strict=False)]
    assert len(waits) == 3
    assert 0 <= waits[0] <= 1.0 and 0 <= waits[1] <= 1.5 and 0 <= waits[2] <= 1.5
    assert len(set(waits)) == 3, "jittered waits differ"


def test_retry_after_is_honoured_exactly(clock: FakeClock) -> None:
    flaky = Flaky(ProviderError(429, retry_after="7"), clock=clock)
    router = router_for([flaky], clock, retry=Retry(attempts=2))
    result = router.route("x")
    assert result.output == "ok:x"
    assert flaky.calls[1] - flaky.calls[0] == 7.0
    assert [a.error_class for a in result.attempts] == ["rate_limited", None]


def test_a_retry_after_longer_than_allowed_moves_to_the_next_path(clock: FakeClock) -> None:
    flaky = Flaky(ProviderError(429, retry_after="120"), clock=clock)
    router = router_for(
        [flaky, Path(answer, last_resort=True)], clock, retry=Retry(max_retry_after=30)
    )
    result = router.route("x")
    assert (result.path, len(flaky.calls), clock() - 1_767_225_600.0) == ("answer", 1, 0.0)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_and_auth_errors_are_never_retried(status: int, clock: FakeClock) -> None:
    flaky = Flaky(ProviderError(status), clock=clock)
    router = router_for([flaky], clock, retry=Retry(attempts=5), on_alert=lambda alert: None)
    with pytest.raises(AllPathsFailed):
        router.run("x")
    assert len(flaky.calls) == 1


def test_a_path_retry_overrides_the_routers(clock: FakeClock) -> None:
    flaky = Flaky(ProviderError(503), ProviderError(503), clock=clock)
    path = Path(flaky, name="flaky", retry=Retry(attempts=3, base=0.0))
    router = router_for([path], clock, retry=Retry(attempts=1))
    assert router.run(1) == "ok:1"
    assert len(flaky.calls) == 3


def test_auth_failure_benches_the_path_and_alerts(clock: FakeClock) -> None:
    alerts: list[Alert] = []
    refused = Flaky(*(ProviderError(401) for _ in range(100)), clock=clock)
    rescue = Path(answer, last_resort=True)
    router = router_for([refused, rescue], clock, on_alert=alerts.append)
    outputs = [router.run(i) for i in range(30)]
    assert outputs == [f"answer:{i}" for i in range(30)]
    assert len(refused.calls) == 1
    assert [(a.kind, a.path) for a in alerts] == [("auth", "flaky")]
    assert "credentials" in alerts[0].message


def test_an_auth_benched_path_returns_after_its_cooldown(clock: FakeClock) -> None:
    refused = Flaky(ProviderError(403), clock=clock)
    router = router_for([refused], clock, on_alert=lambda alert: None)
    with pytest.raises(AllPathsFailed):
        router.run(1)
    with pytest.raises(AllPathsFailed, match="no path is eligible"):
        router.run(2)
    clock.advance(301)
    assert router.run(3) == "ok:3"


def test_user_classification_comes_first(clock: FakeClock) -> None:
    class QuotaExceeded(Exception):
        pass

    flaky = Flaky(QuotaExceeded("daily quota"), clock=clock)

    def classify(error: BaseException) -> ErrorClass | None:
        return ErrorClass.RATE_LIMITED if isinstance(error, QuotaExceeded) else None

    router = router_for([flaky], clock, classify=classify, retry=Retry(attempts=2, base=0))
    result = router.route(1)
    assert [a.error_class for a in result.attempts] == ["rate_limited", None]


def test_the_deadline_stops_retries_and_fallbacks(clock: FakeClock) -> None:
    def slow_failure(x: Any) -> str:
        clock.advance(4.0)
        raise ProviderError(503)

    router = router_for(
        [
            Path(slow_failure, name="a"),
            Path(slow_failure, name="b"),
            Path(answer, last_resort=True),
        ],
        clock,
        deadline=6.0,
        retry=Retry(attempts=3, base=0.0),
    )
    with pytest.raises(AllPathsFailed) as info:
        router.run(1)
    assert info.value.reason == "the run's deadline passed"
    assert len(info.value.attempts) == 2 and clock() - 1_767_225_600.0 == 8.0


def test_the_deadline_shortens_a_paths_timeout(clock: FakeClock) -> None:
    def slow(x: Any) -> str:
        clock.advance(3.0)
        return "late"

    router = router_for([Path(slow, timeout=10.0)], clock)
    with pytest.raises(AllPathsFailed) as info:
        router.run(1, deadline=2.0)
    (attempt,) = info.value.attempts
    assert attempt.error_class == "timeout" and "deadline" in str(attempt.error)


def test_a_sync_path_cannot_hang_the_caller_past_its_timeout() -> None:
    release = threading.Event()

    def hung(x: Any) -> str:
        release.wait(30)
        return "too late"

    router = Router(
        [Path(hung, timeout=0.05), Path(answer, last_resort=True)],
        lambda out: True,
        store="memory://",
    )
    try:
        assert router.run(1) == "answer:1"
    finally:
        release.set()
        router.close()


def test_fallback_on_a_failed_score_and_the_best_output_when_none_pass(clock: FakeClock) -> None:
    def weak(x: Any) -> float:
        return 0.3

    def weaker(x: Any) -> float:
        return 0.1

    router = Router(
        [weak, weaker],
        lambda out: out,
        task="t",
        store="memory://",
        clock=clock,
        fallback_below=0.5,
    )
    result = router.route(1)
    assert [a.path for a in result.attempts] in (["weak", "weaker"], ["weaker", "weak"])
    assert (result.path, result.output) == ("weak", 0.3)


def test_the_last_resort_is_tried_last_and_never_chosen_first(clock: FakeClock) -> None:
    store = MemoryStore()
    rescue = Path(answer, name="regex", last_resort=True)
    router = router_for(
        [rescue, Flaky(*(ProviderError(503) for _ in range(500)))], clock, store=store
    )
    results = [router.route(i) for i in range(200)]
    assert results[0].attempts[0].path == "flaky"
    assert all(r.path == "regex" and r.attempts[-1].path == "regex" for r in results)
    assert all([a.path for a in r.attempts].count("regex") == 1 for r in results)
    assert all(o.propensity is None for o in store.outcomes("t") if o.path == "regex")


def test_escalation_serves_the_handlers_answer_and_alerts(clock: FakeClock) -> None:
    alerts: list[Alert] = []
    seen: list[int] = []

    def human(request: Any, attempts: Any) -> str:
        seen.append(len(attempts))
        return f"queued:{request}"

    router = router_for(
        [Flaky(ProviderError(503))], clock, escalation=Escalation(human), on_alert=alerts.append
    )
    result = router.route(9)
    assert (result.output, result.path, result.escalated) == ("queued:9", "escalation", True)
    assert seen == [1] and [a.kind for a in alerts] == ["escalation"]


def test_escalation_when_the_score_is_below_the_confidence_threshold(clock: FakeClock) -> None:
    def unsure(x: Any) -> float:
        return 0.4

    router = Router(
        [unsure],
        lambda out: out,
        task="t",
        store="memory://",
        clock=clock,
        escalation=Escalation(lambda request, attempts: "human", below=0.6),
        on_alert=lambda alert: None,
    )
    assert router.route(1).output == "human"
    sure = Router(
        [Path(lambda x: 0.9, name="sure")],
        lambda out: out,
        task="u",
        store="memory://",
        escalation=Escalation(lambda request, attempts: "human", below=0.6),
    )
    assert sure.route(1).output == 0.9


def test_an_unstaffed_escalation_serves_the_fallback(clock: FakeClock) -> None:
    def nobody(request: Any, attempts: Any) -> str:
        raise RuntimeError("queue closed")

    escalation = Escalation(nobody, unstaffed=lambda request: "we will get back to you")
    router = router_for(
        [Flaky(ProviderError(503))], clock, escalation=escalation, on_alert=lambda alert: None
    )
    assert router.run(1) == "we will get back to you"
    bare = router_for(
        [Flaky(ProviderError(503))],
        clock,
        escalation=Escalation(nobody),
        on_alert=lambda alert: None,
    )
    with pytest.raises(AllPathsFailed, match="escalation failed"):
        bare.run(1)


def test_a_rate_limited_path_is_skipped_when_another_is_available(clock: FakeClock) -> None:
    limited = Path(answer, name="limited", rate_limit=RateLimit(per_second=2))

    def other(x: Any) -> str:
        return "other"

    router = router_for([limited, other], clock, seed=1)
    served = [router.route(i).path for i in range(50)]  # no time passes
    assert served.count("limited") <= 2
    assert served.count("other") >= 48
    clock.advance(1.0)
    assert sum(router.route(i).path == "limited" for i in range(50)) <= 2


def test_a_lone_rate_limited_path_is_waited_for_within_the_deadline(clock: FakeClock) -> None:
    limited = Path(answer, name="limited", rate_limit=RateLimit(per_second=1))
    router = router_for([limited], clock)
    router.run(1)
    assert router.run(2) == "answer:2"
    assert clock() - 1_767_225_600.0 == pytest.approx(1.0)
    with pytest.raises(AllPathsFailed):
        router.run(3, deadline=0.5)


def test_customers_over_their_limit_are_refused(clock: FakeClock) -> None:
    router = router_for([answer], clock, customer_limit=RateLimit(per_minute=3))
    for i in range(3):
        router.run(i, customer="acme")
    with pytest.raises(RateLimitExceeded) as info:
        router.run(4, customer="acme")
    assert info.value.retry_after == pytest.approx(20.0)
    assert router.run(5, customer="globex") == "answer:5"
    assert {o.customer for o in router.store.outcomes("t")} == {"acme", "globex"}


def test_the_in_flight_cap_skips_a_busy_path() -> None:
    entered, release = threading.Event(), threading.Event()

    def busy(x: Any) -> str:
        entered.set()
        release.wait(10)
        return "busy"

    capped = Path(busy, name="busy", max_in_flight=1)
    router = Router(
        [capped, Path(answer, last_resort=True)], lambda out: True, store="memory://", seed=0
    )
    first = threading.Thread(target=router.run, args=(1,))
    first.start()
    try:
        assert entered.wait(10)
        assert router.route(2).path == "answer"
    finally:
        release.set()
        first.join()


def test_an_idempotency_key_replays_the_completed_result(clock: FakeClock) -> None:
    calls: list[Any] = []

    def counted(x: Any) -> str:
        calls.append(x)
        return f"done:{x}"

    router = router_for([counted], clock, idempotency_window=60)
    first = router.route("a", idempotency_key="order-1")
    again = router.route("a", idempotency_key="order-1")
    assert (again.output, again.request_id, again.replayed, first.replayed) == (
        "done:a",
        first.request_id,
        True,
        False,
    )
    assert calls == ["a"] and len(router.store.outcomes("t")) == 1
    clock.advance(61)
    assert not router.route("a", idempotency_key="order-1").replayed
    assert calls == ["a", "a"]


def test_concurrent_duplicates_call_a_path_once() -> None:
    calls: list[Any] = []
    called, release = threading.Event(), threading.Event()

    def slow(x: Any) -> str:
        calls.append(x)
        called.set()
        release.wait(10)
        return "once"

    router = Router([slow], lambda out: True, store="memory://")
    outputs: list[str] = []
    threads = [
        threading.Thread(target=lambda: outputs.append(router.run(1, idempotency_key="k")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    assert called.wait(10)
    release.set()
    for thread in threads:
        thread.join()
    assert outputs == ["once"] * 8 and calls == [1]


def test_a_failed_request_is_not_remembered(clock: FakeClock) -> None:
    flaky = Flaky(ProviderError(503), clock=clock)
    router = router_for([flaky], clock)
    with pytest.raises(AllPathsFailed):
        router.run(1, idempotency_key="k")
    assert router.run(1, idempotency_key="k") == "ok:1"


def test_async_idempotency_and_retries(clock: FakeClock) -> None:
    flaky = Flaky(ProviderError(503), clock=clock)
    router = router_for([flaky], clock, retry=Retry(attempts=2, base=0.5))

    async def twice() -> tuple[Any, Any]:
        first = await router.aroute(1, idempotency_key="k")
        return first, await router.aroute(1, idempotency_key="k")

    first, again = asyncio.run(twice())
    assert (first.output, again.output, again.replayed, len(flaky.calls)) == (
        "ok:1",
        "ok:1",
        True,
        2,
    )


class Order(BaseModel):
    item: str
    quantity: int


def test_outputs_are_validated_against_the_model(clock: FakeClock) -> None:
    def fenced(x: Any) -> str:
        return '```json\n{"item": "pen", "quantity": 2}\n```'

    router = router_for([Path(fenced, output=Order)], clock)
    assert router.run(1) == Order(item="pen", quantity=2)


def test_an_invalid_output_scores_zero_with_its_class_and_can_be_reasked(clock: FakeClock) -> None:
    feedback_seen: list[str] = []

    def sloppy(x: Any) -> str:
        return '{"item": "pen"}'

    def learns(x: Any, feedback: BaseException | None = None) -> str:
        if feedback is None:
            return '{"item": "pen"}'
        feedback_seen.append(str(feedback))
        return '{"item": "pen", "quantity": 1}'

    store = MemoryStore()
    router = router_for(
        [Path(sloppy, output=Order), Path(answer, last_resort=True)], clock, store=store
    )
    result = router.route(1)
    assert result.path == "answer"
    first = store.outcomes("t")[0]
    assert (first.score, first.error_class, first.errored) == (0.0, "invalid_output", False)

    reasking = router_for([Path(learns, output=Order, reask=True)], clock, store=MemoryStore())
    result = reasking.route(1)
    assert result.output == Order(item="pen", quantity=1)
    assert [a.error_class for a in result.attempts] == ["invalid_output", None]
    assert feedback_seen and "quantity" in feedback_seen[0]


@pytest.mark.parametrize(
    "options",
    [
        {"retry": 3},
        {"deadline": 0},
        {"deadline": -1.0},
        {"fallback_below": 1.5},
        {"escalation": "human"},
        {"classify": "strict"},
        {"on_alert": 5},
        {"customer_limit": 10},
        {"sleep": "no"},
        {"idempotency_window": 0},
    ],
)
def test_bad_reliability_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Router([answer], lambda out: True, store="memory://", **options)


def test_bad_run_arguments_are_refused() -> None:
    router = Router([answer], lambda out: True, store="memory://")
    with pytest.raises(ConfigError):
        router.run(1, deadline=-2)
    with pytest.raises(ConfigError):
        router.run(1, idempotency_key="")


def test_an_escalation_is_recorded_as_an_unscored_row(clock: FakeClock) -> None:
    store = MemoryStore()
    router = router_for(
        [Flaky(ProviderError(503))],
        clock,
        store=store,
        escalation=Escalation(lambda request, attempts: "queued"),
        on_alert=lambda alert: None,
    )
    result = router.route(1)
    failed, escalated = store.outcomes("t")
    assert (failed.attempt, escalated.attempt) == (1, 2)
    assert (escalated.path, escalated.score, escalated.error_class) == (
        "escalation",
        None,
        "escalated",
    )
    assert escalated.request_id == result.request_id
    assert escalated.metadata["handled"] is True
    assert "escalation" not in store.posteriors("t")


def test_the_escalation_path_name_is_reserved() -> None:
    with pytest.raises(ConfigError, match="reserved"):
        Router([Path(answer, name="escalation")], lambda out: True, store="memory://")
