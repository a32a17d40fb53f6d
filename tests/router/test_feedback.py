"""Delayed feedback with Router.report."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router import AllPathsFailed, InvalidScoreError, Router, StaticOrder, UnknownRequestError
from storage import Store
from tests.strategies import scores


def answer(x: Any) -> str:
    return "answer"


def test_report_overrides_the_score_and_updates_the_posterior(store: Store, task: str) -> None:
    router = Router([answer], lambda out: True, task=task, store=store)
    result = router.route("q")
    report = router.report(result.request_id, False)
    assert (report.previous_score, report.score, report.path) == (1.0, 0.0, "answer")
    row = router.stats().loc["answer"]
    assert (row["alpha"], row["beta"], row["n"]) == (1.0, 2.0, 1)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(scores, min_size=1, max_size=6))
def test_report_is_idempotent_and_the_last_one_wins(store: Store, reports: list[float]) -> None:
    import uuid

    task = f"fb-{uuid.uuid4().hex[:10]}"
    router = Router([answer], lambda out: True, task=task, store=store)
    request_id = router.route("q").request_id
    for s in reports:
        router.report(request_id, s)
        once = router.stats()
        router.report(request_id, s)
        assert router.stats().equals(once)
    final = float(reports[-1])
    row = router.stats().loc["answer"]
    assert row["alpha"] == pytest.approx(1.0 + final)
    assert row["beta"] == pytest.approx(2.0 - final)
    assert row["n"] == 1


@pytest.mark.parametrize("then_broken", [False, True], ids=["lowB last", "an error last"])
def test_with_fallback_below_report_scores_the_output_that_was_served(
    store: Store, task: str, then_broken: bool
) -> None:
    # No output scores 0.5: the best one (lowA, 0.4) is served, after lowB (0.2) was
    # tried (and a path that raised, last). The report must score lowA; before, it
    # scored the last attempt, lowB (or refused: the last attempt raised).
    def low_a(x: Any) -> str:
        return "lowA"

    def low_b(x: Any) -> str:
        return "lowB"

    def broken(x: Any) -> str:
        raise ConnectionError("down")

    scores = {"lowA": 0.4, "lowB": 0.2}
    router = Router(
        [low_a, low_b, broken] if then_broken else [low_a, low_b],
        lambda out: scores[out],
        task=task,
        store=store,
        policy=StaticOrder(),  # the paths in the order given
        fallback_below=0.5,
    )
    result = router.route("q")
    tried = ["low_a", "low_b", "broken"] if then_broken else ["low_a", "low_b"]
    assert (result.output, result.path, [a.path for a in result.attempts]) == (
        "lowA",
        "low_a",
        tried,
    )
    before = router.stats()
    report = router.report(result.request_id, 1.0)
    assert (report.path, report.attempt, report.previous_score) == ("low_a", 1, 0.4)
    after = router.stats()
    assert after.loc["low_a", "alpha"] == pytest.approx(before.loc["low_a", "alpha"] + 0.6)
    assert after.loc["low_b", "alpha"] == before.loc["low_b", "alpha"]
    assert router.report(result.request_id, 1.0).changed is False  # idempotent


def test_report_applies_to_the_attempt_that_served(store: Store, task: str) -> None:
    def broken(x: Any) -> str:
        raise RuntimeError("down")

    router = Router([broken, answer], lambda out: True, task=task, store=store, seed=0)
    result = next(r for r in (router.route(i) for i in range(50)) if r.fallbacks)
    report = router.report(result.request_id, 0.0)
    assert (report.path, report.attempt) == ("answer", 2)


@pytest.mark.parametrize("bad", [2, float("nan"), None, "yes", -1, 10**400])
def test_invalid_report_is_refused_and_changes_nothing(
    store: Store, task: str, bad: object
) -> None:
    router = Router([answer], lambda out: True, task=task, store=store)
    request_id = router.route("q").request_id
    before = router.stats()
    with pytest.raises(InvalidScoreError):
        router.report(request_id, bad)
    assert router.stats().equals(before)


def test_report_of_an_unknown_request_is_refused(store: Store, task: str) -> None:
    router = Router([answer], lambda out: True, task=task, store=store)
    router.run("q")
    before = router.stats()
    with pytest.raises(UnknownRequestError, match="no outcome"):
        router.report("0" * 32, 1.0)
    assert router.stats().equals(before)


def test_report_of_a_request_no_path_served_is_refused(store: Store, task: str) -> None:
    def broken(x: Any) -> str:
        raise ConnectionError("503 Service Unavailable")

    router = Router([broken], lambda out: True, task=task, store=store)
    with pytest.raises(AllPathsFailed) as failed:
        router.run("q")
    before = router.stats()
    with pytest.raises(UnknownRequestError, match="was not served"):
        router.report(failed.value.request_id, 1.0)
    assert router.stats().equals(before)
