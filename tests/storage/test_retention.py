"""prune() and daily_aggregates(): old outcomes go, their daily sums and the posteriors stay.

prune() works on the whole store, so these tests use stores of their own (``own_store``),
never the PostgreSQL database other tests share.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import MemoryStore, Outcome, SQLStore, UnknownRequestError

DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z

Retaining = MemoryStore | SQLStore


def at(task: str, name: str, created_at: float, path: str = "a", **extra: object) -> Outcome:
    return Outcome(f"{task}:{name}", 1, task, path, created_at=created_at, **extra)  # type: ignore[arg-type]


def test_prune_deletes_old_outcomes_and_keeps_posteriors_and_days(
    own_store: Retaining, task: str
) -> None:
    rows = [
        at(task, "d0-a", START + 10, score=1.0, cost=0.5, tokens_in=3, tokens_out=4),
        at(task, "d0-b", START + 20, score=0.0, error_class="timeout", errored=True),
        at(task, "d0-c", START + 30, path="b", score=None, error_class="invalid_score"),
        at(task, "d1-a", START + DAY + 5, score=0.25, cost=0.25),
        at(task, "d1-b", START + DAY + 50_000, score=0.75),
        at(task, "d2-a", START + 2 * DAY, score=1.0, tokens_in=1),
    ]
    own_store.record_many(rows)
    posteriors = own_store.posteriors(task)
    days = own_store.daily_aggregates(task)
    assert own_store.prune(older_than=START + DAY + 10) == 4  # day 0 and half of day 1
    assert [o.request_id for o in own_store.outcomes(task)] == [f"{task}:d1-b", f"{task}:d2-a"]
    assert own_store.posteriors(task) == posteriors
    assert own_store.daily_aggregates(task) == days
    assert own_store.prune(older_than=START + DAY + 10) == 0
    assert own_store.daily_aggregates(task) == days
    first = datetime.date(2026, 1, 1)
    assert [(d.day, d.path, d.attempts, d.scored, d.successes, d.errors) for d in days] == [
        (first, "a", 2, 2, 1.0, 1),
        (first, "b", 1, 0, 0.0, 0),
        (first + datetime.timedelta(days=1), "a", 2, 2, 1.0, 0),
        (first + datetime.timedelta(days=2), "a", 1, 1, 1.0, 0),
    ]
    assert (days[0].cost, days[0].tokens_in, days[0].tokens_out) == (0.5, 3, 4)
    assert (days[2].cost, days[2].success_rate) == (0.25, 0.5)


def test_pruned_outcome_can_no_longer_be_reported(own_store: Retaining, task: str) -> None:
    own_store.record(at(task, "old", START, score=1.0))
    own_store.prune(older_than=START + 1)
    with pytest.raises(UnknownRequestError):
        own_store.report(task, f"{task}:old", 0.0, at=START + 2)


def test_daily_aggregates_of_an_unknown_task_are_empty(own_store: Retaining) -> None:
    assert own_store.daily_aggregates(f"none-{uuid.uuid4().hex}") == []


def test_prune_leaves_other_tasks_days_apart(own_store: Retaining, task: str) -> None:
    other = f"{task}-other"
    own_store.record_many([at(task, "x", START, score=1.0), at(other, "y", START, score=0.0)])
    own_store.prune(older_than=START + DAY)
    assert [d.successes for d in own_store.daily_aggregates(task)] == [1.0]
    assert [d.successes for d in own_store.daily_aggregates(other)] == [0.0]


dyadic = st.sampled_from([None, 0.0, 0.25, 0.5, 0.75, 1.0])  # sums exact in any order


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            dyadic,
            st.floats(min_value=0.0, max_value=4 * DAY, allow_nan=False),
        ),
        max_size=20,
    ),
    st.lists(st.floats(min_value=0.0, max_value=5 * DAY), max_size=3),
)
def test_daily_aggregates_are_the_same_before_and_after_pruning(
    own_store: Retaining, rows: list[tuple[str, float | None, float]], cuts: list[float]
) -> None:
    task = f"prune-{uuid.uuid4().hex[:10]}"
    own_store.record_many(
        at(task, str(i), START + offset, path=path, score=score, cost=0.5, tokens_in=i)
        for i, (path, score, offset) in enumerate(rows)
    )
    days = own_store.daily_aggregates(task)
    assert sum(d.attempts for d in days) == len(rows)
    posteriors = own_store.posteriors(task)
    for cut in sorted(cuts):
        own_store.prune(older_than=START + cut)
        assert own_store.daily_aggregates(task) == days
        assert all(o.created_at >= START + cut for o in own_store.outcomes(task))
    assert own_store.posteriors(task) == posteriors
