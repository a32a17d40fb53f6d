"""Behaviour every Store backend shares (memory, SQLite file, SQLite memory, PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import Outcome, Store, UnknownRequestError
from tests.strategies import scores


def rid(task: str, name: str) -> str:
    """Request ids are global in a store: scope the test's ids by its unique task."""
    return f"{task}:{name}"


def outcome(
    request_id: str,
    task: str,
    path: str = "a",
    score: float | None = 1.0,
    attempt: int = 1,
    **extra: object,
) -> Outcome:
    return Outcome(
        rid(task, request_id), attempt, task, path, score, created_at=1_767_225_600.0, **extra
    )  # type: ignore[arg-type]


def test_ensure_paths_creates_priors_once(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a", "b"], prior=(2.0, 3.0))
    store.record(outcome("r1", task, "a", 1.0))
    store.ensure_paths(task, ["a", "b", "c"])
    rows = store.posteriors(task)
    assert sorted(rows) == ["a", "b", "c"]
    assert (rows["a"].alpha, rows["a"].beta, rows["a"].n) == (3.0, 3.0, 1)
    assert (rows["b"].alpha, rows["b"].beta, rows["b"].prior_alpha) == (2.0, 3.0, 2.0)
    assert (rows["c"].alpha, rows["c"].beta) == (1.0, 1.0)


def test_record_adds_fractional_scores(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"])
    for i, s in enumerate([1.0, 0.0, 0.25]):
        assert store.record(outcome(f"r{i}", task, "a", s))
    row = store.posteriors(task)["a"]
    assert (row.alpha, row.beta, row.n) == (2.25, 2.75, 3)


def test_record_of_an_unknown_path_starts_it_at_the_default_prior(store: Store, task: str) -> None:
    store.record(outcome("r1", task, "new", 1.0))
    assert store.posteriors(task)["new"].alpha == 2.0


def test_replayed_outcome_is_not_counted_twice(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"])
    assert store.record(outcome("r1", task, "a", 1.0)) is True
    assert store.record(outcome("r1", task, "a", 1.0)) is False
    assert store.posteriors(task)["a"].n == 1
    assert len(store.outcomes(task)) == 1


def test_unscored_outcome_is_kept_without_touching_the_posterior(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"])
    store.record(outcome("r1", task, "a", None, error_class="invalid_score"))
    row = store.posteriors(task)["a"]
    assert (row.alpha, row.beta, row.n) == (1.0, 1.0, 0)
    (kept,) = store.outcomes(task)
    assert kept.score is None and kept.error_class == "invalid_score"


def test_outcome_round_trips_every_field(store: Store, task: str) -> None:
    original = outcome(
        "r9",
        task,
        "a",
        0.5,
        attempt=2,
        error_class="timeout",
        latency_ms=12.5,
        propensity=0.25,
        customer="acme",
        tokens_in=10,
        tokens_out=20,
        cost=0.002,
        metadata={"model": "m", "n": 3},
    )
    store.record(original)
    assert store.outcomes(task) == [original]


def test_report_overrides_the_last_attempt_and_is_idempotent(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a", "b"])
    store.record(outcome("r1", task, "a", 0.0, attempt=1, error_class="RuntimeError"))
    store.record(outcome("r1", task, "b", 1.0, attempt=2))
    first = store.report(task, rid(task, "r1"), 0.0, at=5.0)
    assert (first.path, first.attempt, first.previous_score, first.changed) == ("b", 2, 1.0, True)
    before = store.posteriors(task)
    again = store.report(task, rid(task, "r1"), 0.0, at=6.0)
    assert again.changed is False
    assert store.posteriors(task) == before
    b = before["b"]
    assert (b.alpha, b.beta, b.n) == (1.0, 2.0, 1)
    assert [o.score for o in store.outcomes(task)] == [0.0, 0.0]


def test_report_scores_an_unscored_attempt(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"])
    store.record(outcome("r1", task, "a", None, error_class="invalid_score"))
    store.report(task, rid(task, "r1"), 0.75, at=2.0)
    row = store.posteriors(task)["a"]
    assert (row.alpha, row.beta, row.n) == (1.75, 1.25, 1)


def test_report_of_unknown_request_raises_and_changes_nothing(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"])
    store.record(outcome("r1", task, "a", 1.0))
    before = store.posteriors(task)
    with pytest.raises(UnknownRequestError, match="request id 'nope'"):
        store.report(task, "nope", 1.0, at=1.0)
    with pytest.raises(UnknownRequestError):
        store.report(task + "-other", rid(task, "r1"), 0.0, at=1.0)  # ids are per task
    assert store.posteriors(task) == before


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), scores), max_size=25),
    st.lists(st.tuples(st.integers(min_value=0, max_value=24), scores), max_size=10),
)
def test_posteriors_equal_the_aggregate_of_outcomes(
    store: Store, records: list[tuple[str, float]], reports: list[tuple[int, float]]
) -> None:
    import uuid

    task = f"prop-{uuid.uuid4().hex[:10]}"
    store.ensure_paths(task, ["a", "b", "c"])
    ids = []
    for path, s in records:
        ids.append(uuid.uuid4().hex)
        store.record(outcome(ids[-1], task, path, float(s)))
    for index, s in reports:
        if index < len(ids):
            store.report(task, rid(task, ids[index]), float(s), at=2.0)
    rows = store.posteriors(task)
    for path in "abc":
        kept = [o.score for o in store.outcomes(task) if o.path == path]
        assert rows[path].alpha == pytest.approx(1.0 + sum(kept))
        assert rows[path].beta == pytest.approx(1.0 + len(kept) - sum(kept))
        assert rows[path].n == len(kept)


def test_concurrent_writers_lose_no_update(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"])
    threads, per_thread = 4, 50

    def write(worker: int) -> None:
        for i in range(per_thread):
            store.record(outcome(f"w{worker}-{i}", task, "a", 0.5))

    pool = [threading.Thread(target=write, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    row = store.posteriors(task)["a"]
    assert row.n == threads * per_thread
    assert row.alpha == pytest.approx(1.0 + 0.5 * threads * per_thread)
    assert len(store.outcomes(task)) == threads * per_thread
