"""Observers get one event per attempt and per run, and can never fail a request."""

from __future__ import annotations

from typing import Any

import pytest

from router import (
    AllPathsFailed,
    AttemptEvent,
    ConfigError,
    FakeClock,
    InputTooLarge,
    Path,
    RateLimit,
    RateLimitExceeded,
    Router,
    RunEvent,
)


class Recorder:
    def __init__(self) -> None:
        self.attempts: list[AttemptEvent] = []
        self.runs: list[RunEvent] = []

    def on_attempt(self, event: AttemptEvent) -> None:
        self.attempts.append(event)

    def on_run(self, event: RunEvent) -> None:
        self.runs.append(event)


class Broken:
    def on_attempt(self, event: AttemptEvent) -> None:
        raise RuntimeError("metrics backend down")

    def on_run(self, event: RunEvent) -> None:
        raise RuntimeError("metrics backend down")


def down(x: Any) -> str:
    raise ConnectionError("down")


def answer(x: Any) -> str:
    return f"answer:{x}"


def test_events_describe_attempts_and_runs(clock: FakeClock) -> None:
    recorder = Recorder()
    router = Router(
        [down, Path(answer, last_resort=True, price=0.5)],
        lambda out: True,
        store="memory://",
        clock=clock,
        observers=[recorder, Broken()],
    )
    result = router.route("x", customer="acme")
    assert [(e.path, e.error_class, e.score) for e in recorder.attempts] == [
        ("down", "transient", 0.0),
        ("answer", None, 1.0),
    ]
    assert recorder.attempts[1].cost == 0.5 and recorder.attempts[1].output == "answer:x"
    (run,) = recorder.runs
    assert (run.request_id, run.served_by, run.attempts, run.fallbacks, run.error) == (
        result.request_id,
        "answer",
        2,
        1,
        None,
    )
    assert run.decision == ("down", "answer") and run.customer == "acme"


def test_a_failed_run_is_reported_with_its_error(clock: FakeClock) -> None:
    recorder = Recorder()
    router = Router([down], lambda out: True, store="memory://", observers=[recorder])
    with pytest.raises(AllPathsFailed):
        router.run(1)
    (run,) = recorder.runs
    assert run.served_by is None and run.error is not None and "AllPathsFailed" in run.error


def test_requests_refused_before_any_call_are_reported_too(clock: FakeClock) -> None:
    # Dashboards fed by observers must see refused traffic, not a quiet healthy service.
    recorder = Recorder()
    router = Router(
        [answer],
        lambda out: True,
        store="memory://",
        clock=clock,
        customer_limit=RateLimit(per_minute=1),
        max_input_size=10,
        observers=[recorder],
    )
    router.run("q", customer="c")
    with pytest.raises(RateLimitExceeded):
        router.run("q", customer="c")
    with pytest.raises(InputTooLarge):
        router.run("x" * 50)
    assert [run.served_by for run in recorder.runs] == ["answer", None, None]
    refused = recorder.runs[1:]
    assert [run.error.split(":")[0] for run in refused if run.error] == [
        "RateLimitExceeded",
        "InputTooLarge",
    ]
    assert all(run.attempts == 0 and run.decision == () for run in refused)
    assert len(recorder.attempts) == 1


@pytest.mark.parametrize("observers", [Recorder(), [object()], "log"])
def test_bad_observers_are_refused(observers: Any) -> None:
    with pytest.raises(ConfigError):
        Router([answer], lambda out: True, store="memory://", observers=observers)
