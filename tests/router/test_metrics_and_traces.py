"""PrometheusMetrics and OpenTelemetryTracer observers, and that ``import router`` loads neither."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any

import pytest

from router import (
    AllPathsFailed,
    ConfigError,
    Escalation,
    FakeClock,
    OpenTelemetryTracer,
    Path,
    PrometheusMetrics,
    Router,
)
from tests.conftest import fresh_python
from tests.optional import require

ROOT = FilePath(__file__).resolve().parents[2]


def down(text: str) -> str:
    raise ConnectionError("down")


def make_router(clock: FakeClock, observer: Any, *paths: Any, **kwargs: Any) -> Router:
    return Router(
        list(paths),
        lambda out: out is not None,
        task="orders",
        store="memory://",
        clock=clock,
        observers=[observer],
        seed=0,
        **kwargs,
    )


# --- Prometheus -----------------------------------------------------------------------


@pytest.fixture
def registry() -> Any:
    prom = require("prometheus_client")
    return prom.CollectorRegistry()


def sample(registry: Any, name: str, **labels: str) -> float:
    value = registry.get_sample_value(f"outcome_router_{name}", labels)
    return 0.0 if value is None else float(value)


def test_counters_follow_served_escalated_and_failed_runs(registry: Any, clock: FakeClock) -> None:
    def answer(text: str) -> str:
        clock.sleep(0.3)
        return text.upper()

    metrics = PrometheusMetrics(registry)
    served = make_router(clock, metrics, down, Path(answer, last_resort=True, price=0.2))
    served.run("a")
    served.run("b")
    escalating = make_router(
        clock, metrics, down, escalation=Escalation(lambda text, attempts: "queued")
    )
    escalating.run("c")
    with pytest.raises(AllPathsFailed):
        make_router(clock, metrics, down).run("d")

    assert sample(registry, "requests_total", task="orders", outcome="served") == 2
    assert sample(registry, "requests_total", task="orders", outcome="escalated") == 1
    assert sample(registry, "requests_total", task="orders", outcome="failed") == 1
    assert sample(registry, "successes_total", task="orders") == 2.0
    assert sample(registry, "fallbacks_total", task="orders") == 2
    assert sample(registry, "escalations_total", task="orders") == 1
    assert sample(registry, "cost_dollars_total", task="orders", path="answer") == pytest.approx(
        0.4
    )
    assert (
        sample(registry, "attempts_total", task="orders", path="down", error_class="transient") == 4
    )
    assert sample(registry, "attempts_total", task="orders", path="answer", error_class="none") == 2
    assert sample(registry, "latency_seconds_count", task="orders", path="answer") == 2
    assert sample(registry, "latency_seconds_sum", task="orders", path="answer") == pytest.approx(
        0.6
    )
    assert sample(registry, "latency_seconds_bucket", task="orders", path="answer", le="0.25") == 0
    assert sample(registry, "latency_seconds_bucket", task="orders", path="answer", le="0.5") == 2


def test_the_namespace_and_buckets_are_configurable(registry: Any, clock: FakeClock) -> None:
    metrics = PrometheusMetrics(registry, namespace="shop", buckets=[1.0, 5.0])
    make_router(clock, metrics, str.upper).run("x")
    labels = {"task": "orders", "path": "upper"}
    assert registry.get_sample_value("shop_latency_seconds_bucket", {**labels, "le": "5.0"}) == 1
    assert (
        registry.get_sample_value("shop_latency_seconds_bucket", {**labels, "le": "10.0"}) is None
    )


def test_a_second_instance_on_one_registry_is_refused_with_advice(registry: Any) -> None:
    PrometheusMetrics(registry)
    with pytest.raises(ConfigError, match="share one instance"):
        PrometheusMetrics(registry)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"registry": "default"},
        {"namespace": 3},
        {"buckets": []},
        {"buckets": [5.0, 1.0]},
        {"buckets": [0.0, 1.0]},
        {"buckets": ["fast"]},
    ],
)
def test_bad_prometheus_arguments_are_refused(registry: Any, kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("registry", registry)
    with pytest.raises(ConfigError):
        PrometheusMetrics(**kwargs)


# --- OpenTelemetry ---------------------------------------------------------------------


@pytest.fixture
def traced() -> tuple[Any, Any]:
    """A tracer provider exporting finished spans to memory: (provider, exporter)."""
    require("opentelemetry.sdk.trace")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider, exporter = TracerProvider(), InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_a_run_span_holds_a_child_span_per_attempt_on_the_router_clock(
    traced: tuple[Any, Any], clock: FakeClock
) -> None:
    from opentelemetry.trace import StatusCode

    provider, exporter = traced

    def slow_down(text: str) -> str:
        clock.sleep(2.0)
        raise TimeoutError("slow")

    def answer(text: str) -> str:
        clock.sleep(0.5)
        return text

    tracer = OpenTelemetryTracer(provider.get_tracer("test"))
    start = clock()
    make_router(clock, tracer, slow_down, Path(answer, last_resort=True, price=0.1)).route(
        "2 pens bob@example.com", customer="bob@example.com"
    )
    first, second, run = exporter.get_finished_spans()
    assert (first.name, second.name, run.name) == (
        "outcome_router.attempt",
        "outcome_router.attempt",
        "outcome_router.run",
    )
    assert run.parent is None
    assert first.parent.span_id == second.parent.span_id == run.context.span_id
    assert first.context.trace_id == run.context.trace_id
    ns = 1_000_000_000
    assert (run.start_time, run.end_time) == (round(start * ns), round((start + 2.5) * ns))
    assert (first.start_time, first.end_time) == (round(start * ns), round((start + 2) * ns))
    assert (second.start_time, second.end_time) == (round((start + 2) * ns), run.end_time)
    assert first.status.status_code is StatusCode.ERROR and second.status.is_ok
    assert dict(second.attributes) == {
        "outcome_router.task": "orders",
        "outcome_router.request_id": run.attributes["outcome_router.request_id"],
        "outcome_router.attempt": 2,
        "outcome_router.path": "answer",
        "outcome_router.score": 1.0,
        "outcome_router.latency_ms": 500.0,
        "outcome_router.tokens": 0,
        "outcome_router.cost": 0.1,
    }
    assert run.attributes["outcome_router.decision"] == ("slow_down", "answer")
    assert run.attributes["outcome_router.path"] == "answer"
    assert run.attributes["outcome_router.fallbacks"] == 1
    assert run.attributes["outcome_router.customer"] == "[REDACTED:email]"
    everything = repr([dict(s.attributes) for s in (first, second, run)])
    assert "2 pens" not in everything and "bob@example.com" not in everything


def test_a_failed_run_has_an_error_status_and_nests_in_the_callers_span(
    traced: tuple[Any, Any], clock: FakeClock
) -> None:
    provider, exporter = traced
    tracer = provider.get_tracer("test")
    router = make_router(clock, OpenTelemetryTracer(tracer), down)
    with tracer.start_as_current_span("handle-request") as outer, pytest.raises(AllPathsFailed):
        router.run("x")
    attempt, run, caller = exporter.get_finished_spans()
    assert caller is not None and run.parent.span_id == outer.get_span_context().span_id
    assert attempt.parent.span_id == run.context.span_id
    assert not run.status.is_ok and "AllPathsFailed" in (run.status.description or "")
    assert "outcome_router.path" not in run.attributes  # nothing served


def test_the_default_tracer_follows_the_global_provider(
    traced: tuple[Any, Any], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry import trace

    provider, exporter = traced
    monkeypatch.setattr(trace, "get_tracer", provider.get_tracer)
    make_router(clock, OpenTelemetryTracer(), str.upper).run("x")
    assert [span.name for span in exporter.get_finished_spans()] == [
        "outcome_router.attempt",
        "outcome_router.run",
    ]


def test_attempts_of_runs_that_never_end_are_bounded(
    traced: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from router import AttemptEvent, _otel

    provider, exporter = traced
    monkeypatch.setattr(_otel, "MAX_PENDING", 3)
    tracer = OpenTelemetryTracer(provider.get_tracer("test"))
    for i in range(5):
        tracer.on_attempt(
            AttemptEvent("t", f"r{i}", 1, "a", 1.0, None, 1.0, 0, None, None, None, 0.0)
        )
    assert [request for _, request in tracer._pending] == ["r2", "r3", "r4"]
    assert exporter.get_finished_spans() == ()


def test_a_tracer_that_is_not_one_is_refused(traced: tuple[Any, Any]) -> None:
    with pytest.raises(ConfigError, match="OpenTelemetry Tracer"):
        OpenTelemetryTracer("tracer")  # type: ignore[arg-type]


# --- import side effects ---------------------------------------------------------------


def test_import_router_loads_no_optional_dependency_and_prints_nothing(tmp_path: FilePath) -> None:
    code = (
        "import router; import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'structlog','prometheus_client','opentelemetry','pandas','sqlalchemy','litellm'}))"
    )
    done = fresh_python(code, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
