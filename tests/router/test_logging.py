"""StructuredLog: one event per attempt and run; payloads only when asked, and redacted."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from router import (
    AllPathsFailed,
    ConfigError,
    Escalation,
    FakeClock,
    Path,
    Redactor,
    Router,
    StructuredLog,
)
from tests.optional import require

SECRET_INPUT = "ship to bob@example.com, card 4111 1111 1111 1111, key sk-abcdefghijklmnopqrstuv"


@pytest.fixture(autouse=True)
def _structlog() -> None:
    require("structlog")


def echo(text: str) -> dict[str, str]:
    return {"reply": f"done for {text}"}


def down(text: str) -> str:
    raise ConnectionError(f"upstream refused {text}")


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def route(log: StructuredLog, clock: FakeClock, *paths: Any, **kwargs: Any) -> Router:
    return Router(
        list(paths) or [echo],
        lambda out: out is not None,
        task="orders",
        store="memory://",
        clock=clock,
        observers=[log],
        seed=0,
        **kwargs,
    )


def test_json_events_hold_the_fields_of_each_attempt_and_run(clock: FakeClock) -> None:
    out = io.StringIO()
    router = route(
        StructuredLog(stream=out, json=True), clock, down, Path(echo, price=0.25, last_resort=True)
    )
    result = router.route("2 pens", customer="acme")
    first, second, run = lines(out)
    assert first == {
        "timestamp": "2026-01-01T00:00:00+00:00",
        "task": "orders",
        "request_id": result.request_id,
        "attempt": 1,
        "path": "down",
        "score": 0.0,
        "error_class": "transient",
        "latency_ms": 0.0,
        "tokens": 0,
        "cost": None,
        "customer": "acme",
        "propensity": first["propensity"],
        "event": "outcome_router.attempt",
        "level": "warning",
    }
    assert (second["path"], second["score"], second["cost"], second["level"]) == (
        "echo",
        1.0,
        0.25,
        "info",
    )
    assert run == {
        "timestamp": "2026-01-01T00:00:00+00:00",
        "task": "orders",
        "request_id": result.request_id,
        "decision": ["down", "echo"],
        "served_by": "echo",
        "score": 1.0,
        "attempts": 2,
        "fallbacks": 1,
        "escalated": False,
        "latency_ms": 0.0,
        "cost": run["cost"],  # RunEvent.cost: what the run's budget counted
        "customer": "acme",
        "error": None,
        "event": "outcome_router.run",
        "level": "info",
    }


def test_latency_comes_from_the_router_clock(clock: FakeClock) -> None:
    def slow(text: str) -> str:
        clock.sleep(1.5)
        return text

    out = io.StringIO()
    route(StructuredLog(stream=out, json=True), clock, slow).run("x")
    attempt, run = lines(out)
    assert attempt["latency_ms"] == 1500.0 and run["latency_ms"] == 1500.0
    assert run["timestamp"] == "2026-01-01T00:00:01.500000+00:00"


@pytest.mark.parametrize("as_json", [True, False])
def test_payloads_are_never_logged_by_default(clock: FakeClock, as_json: bool) -> None:
    out = io.StringIO()
    route(StructuredLog(stream=out, json=as_json), clock).run(SECRET_INPUT)
    text = out.getvalue()
    assert "outcome_router.run" in text
    for secret in ("bob@example.com", "4111", "sk-abc", "done for", "input", "output"):
        assert secret not in text


def test_payloads_are_logged_redacted_when_enabled(clock: FakeClock) -> None:
    out = io.StringIO()
    route(StructuredLog(stream=out, json=True, log_payloads=True), clock).run(SECRET_INPUT)
    attempt, run = lines(out)
    masked = "ship to [REDACTED:email], card [REDACTED:card], key [REDACTED:api_key]"
    assert attempt["input"] == run["input"] == masked
    assert attempt["output"] == run["output"] == {"reply": f"done for {masked}"}
    for secret in ("bob@example.com", "4111", "sk-abc"):
        assert secret not in out.getvalue()


def test_a_custom_redactor_masks_payloads_customers_and_errors(clock: FakeClock) -> None:
    out = io.StringIO()
    redactor = Redactor(patterns={"order": r"ORD-\d+"})
    log = StructuredLog(stream=out, json=True, log_payloads=True, redactor=redactor)
    router = route(log, clock, down)
    with pytest.raises(AllPathsFailed):
        router.run("ORD-12 for ann@example.org", customer="ann@example.org")
    attempt, run = lines(out)
    assert attempt["input"] == "[REDACTED:order] for [REDACTED:email]"
    assert attempt["customer"] == run["customer"] == "[REDACTED:email]"
    assert run["level"] == "error" and run["served_by"] is None
    assert "AllPathsFailed" in run["error"] and "ann@example.org" not in out.getvalue()


def test_escalated_runs_log_a_warning(clock: FakeClock) -> None:
    out = io.StringIO()
    escalation = Escalation(lambda text, attempts: "queued for a person")
    route(StructuredLog(stream=out, json=True), clock, down, escalation=escalation).run("x")
    run = lines(out)[-1]
    assert (run["level"], run["escalated"], run["served_by"]) == ("warning", True, "escalation")


def test_console_lines_are_readable_not_json(clock: FakeClock) -> None:
    out = io.StringIO()
    route(StructuredLog(stream=out, json=False), clock).run("x")
    attempt, run = out.getvalue().splitlines()
    assert attempt.startswith("2026-01-01T00:00:00+00:00 [info") and "path=echo" in attempt
    assert "outcome_router.run" in run and "served_by=echo" in run
    with pytest.raises(json.JSONDecodeError):
        json.loads(run)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "is_json"), [(io.StringIO(), True), (Terminal(), False)])
def test_json_is_the_default_unless_the_stream_is_a_terminal(
    clock: FakeClock, stream: io.StringIO, is_json: bool
) -> None:
    route(StructuredLog(stream=stream), clock).run("x")
    first = stream.getvalue().splitlines()[0]
    assert first.startswith("{") is is_json


def test_the_default_stream_is_stderr(clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> None:
    route(StructuredLog(), clock).run("x")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert [json.loads(line)["event"] for line in captured.err.splitlines()] == [
        "outcome_router.attempt",
        "outcome_router.run",
    ]


def test_a_stdlib_logger_receives_rendered_lines(clock: FakeClock) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    logger = logging.getLogger("test-ops-structured")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        route(
            StructuredLog(logger=logger, json=True), clock, down, Path(echo, last_resort=True)
        ).run("x")
    finally:
        logger.removeHandler(handler)
    (record,) = records  # the info events are below the logger's level
    assert record.levelno == logging.WARNING
    assert json.loads(record.getMessage())["error_class"] == "transient"


def test_a_structlog_logger_keeps_its_own_processors(clock: FakeClock) -> None:
    import structlog
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        route(StructuredLog(logger=structlog.get_logger()), clock).run("x")
    assert [(e["event"], e["log_level"], e["path"]) for e in logs[:1]] == [
        ("outcome_router.attempt", "info", "echo")
    ]
    assert logs[1]["served_by"] == "echo"


def test_attempts_can_be_left_out(clock: FakeClock) -> None:
    out = io.StringIO()
    route(StructuredLog(stream=out, json=True, attempts=False), clock).run("x")
    assert [line["event"] for line in lines(out)] == ["outcome_router.run"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"logger": logging.getLogger("x"), "stream": io.StringIO()},
        {"redactor": lambda value: value},
        {"json": "yes"},
        {"logger": "outcome_router"},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        StructuredLog(**kwargs)
