"""record_many: one transaction per batch, idempotent per (request_id, attempt), every backend."""

from __future__ import annotations

import pytest

from storage import InvalidRecordError, Store
from tests.storage.test_store import outcome, rid


def test_batch_counts_only_the_new_outcomes(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a", "b"])
    assert store.record(outcome("r0", task, "a", 1.0))
    batch = [
        outcome("r1", task, "a", 0.25),
        outcome("r0", task, "a", 1.0),  # already stored
        outcome("r2", task, "b", 0.0, error_class="timeout", errored=True),
        outcome("r1", task, "a", 0.25),  # twice in the batch
        outcome("r3", task, "b", None, error_class="invalid_score"),
        outcome("r2", task, "b", 1.0, attempt=2),
    ]
    assert store.record_many(batch) == 4
    rows = store.posteriors(task)
    assert (rows["a"].alpha, rows["a"].beta, rows["a"].n, rows["a"].errors) == (2.25, 1.75, 2, 0)
    assert (rows["b"].alpha, rows["b"].beta, rows["b"].n, rows["b"].errors) == (2.0, 2.0, 2, 1)
    assert len(store.outcomes(task)) == 5


def test_replayed_batch_changes_nothing(store: Store, task: str) -> None:
    batch = [outcome(f"r{i}", task, "a", 0.5) for i in range(10)]
    assert store.record_many(batch) == 10
    before = store.posteriors(task)
    assert store.record_many(reversed(batch)) == 0
    assert store.posteriors(task) == before
    assert len(store.outcomes(task)) == 10


def test_batch_is_stored_in_request_order(store: Store, task: str) -> None:
    names = ["r3", "r1", "r2"]
    store.record_many(outcome(name, task) for name in names)
    assert [o.request_id for o in store.outcomes(task)] == [rid(task, n) for n in sorted(names)]


def test_empty_batch_does_nothing(store: Store, task: str) -> None:
    assert store.record_many([]) == 0
    assert store.posteriors(task) == {}


def test_batch_starts_unknown_paths_at_the_default_prior(store: Store, task: str) -> None:
    store.record_many([outcome("r1", task, "new", 1.0), outcome("r2", task, "new", 0.0)])
    row = store.posteriors(task)["new"]
    assert (row.alpha, row.beta, row.n) == (2.0, 2.0, 2)


def test_batch_fields_round_trip(store: Store, task: str) -> None:
    original = outcome(
        "r9", task, "a", 0.5, attempt=2, error_class="timeout", latency_ms=12.5,
        propensity=0.25, customer="acme", tokens_in=10, tokens_out=20, cost=0.002,
        metadata={"model": "m"},
    )  # fmt: skip
    store.record_many([original])
    assert store.outcomes(task) == [original]


def test_a_batch_with_a_row_no_store_can_hold_stores_nothing(store: Store, task: str) -> None:
    # Every backend refuses it alike, before any SQL runs (memory:// too).
    store.ensure_paths(task, ["a"])
    before = store.posteriors(task)
    unserialisable = outcome("r2", task, "a", 1.0, metadata={"x": object()})
    with pytest.raises(InvalidRecordError, match="is not JSON"):
        store.record_many([outcome("r1", task, "a", 1.0), unserialisable])
    assert store.outcomes(task) == []
    assert store.posteriors(task) == before
