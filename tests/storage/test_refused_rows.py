"""A row the store cannot hold is refused alone: no store stops writing, none enters
degraded mode, and the rest of a batch is written (issue 16, item 1).
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import sqlalchemy as sa

from router import FakeClock
from storage import (
    BatchingStore,
    InvalidRecordError,
    Outcome,
    ResilientStore,
    SQLStore,
    Store,
    UnknownRequestError,
)
from tests.storage.proxy import TcpProxy
from tests.storage.test_processes import expected_sums, stored_sums

pytestmark = pytest.mark.usefixtures("clean_shared_postgres")


def good(task: str, index: int, **fields: object) -> Outcome:
    row = Outcome(f"{task}:{index}", 1, task, "a", 0.5, created_at=1_767_225_600.0 + index)
    return replace(row, **fields)  # type: ignore[arg-type]


BAD_ROWS = {
    "nan score": {"score": math.nan},
    "infinite cost": {"cost": math.inf},
    "negative cost": {"cost": -1000.0},
    "nan latency": {"latency_ms": math.nan},
    "fractional tokens": {"tokens_in": 1.5},
    "NUL in the customer": {"customer": "ali\x00ce"},
    "lone surrogate in the path": {"path": "gpt-\ud800"},
    "lone surrogate in the request id": {"request_id": "r-\udfff"},
    "request id too long": {"request_id": "r" * 65},
    "metadata not JSON": {"metadata": {"when": object()}},
}


@pytest.mark.parametrize("fields", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_every_store_refuses_the_same_bad_rows_and_keeps_writing(
    store: Store, task: str, fields: dict[str, object]
) -> None:
    store.ensure_paths(task, ["a"])
    before = store.posteriors(task)
    with pytest.raises(InvalidRecordError, match=r"cannot be stored|is not JSON"):
        store.record(good(task, 0, **fields))
    with pytest.raises(InvalidRecordError):
        store.record_many([good(task, 1), good(task, 2, **fields)])
    assert store.posteriors(task) == before
    assert store.outcomes(task) == []
    assert store.record(good(task, 3))  # the store is as usable as before
    assert store.posteriors(task)["a"].n == 1


def test_nan_and_infinities_in_metadata_are_written_as_null(store: Store, task: str) -> None:
    row = good(task, 0, metadata={"judge_cost": math.nan, "spent": [1.0, -math.inf]})
    assert store.record(row)
    (stored,) = store.outcomes(task)
    assert stored.metadata == {"judge_cost": None, "spent": [1.0, None]}


@pytest.mark.parametrize("request_id", ["ab\x00c", "r-\ud800", "r" * 65, 42])
def test_a_report_of_an_id_no_store_can_hold_is_unknown(
    store: Store, task: str, request_id: object
) -> None:
    store.record(good(task, 0))
    with pytest.raises(UnknownRequestError, match="can have request id"):
        store.report(task, request_id, 1.0, at=0.0)  # type: ignore[arg-type]
    assert store.posteriors(task)["a"].n == 1


def test_spending_that_is_not_a_finite_amount_is_refused(store: Store, task: str) -> None:
    scope = f"task:{task}"
    for tokens, cost in ((0, math.nan), (0, math.inf), (1.5, 0.0)):
        with pytest.raises(InvalidRecordError, match="spending of"):
            store.add_spend(scope, 1, tokens, cost)  # type: ignore[arg-type]
        with pytest.raises(InvalidRecordError, match="spending of"):
            store.reserve_spend(scope, 1, tokens, cost, (10.0, None))  # type: ignore[arg-type]
    assert store.spend(scope, 1).cost == 0.0


def test_resilient_store_refuses_a_bad_row_without_going_degraded(
    fresh_url: str, task: str
) -> None:
    store = ResilientStore(SQLStore(fresh_url), retry_interval=60.0)
    try:
        with pytest.raises(InvalidRecordError):
            store.record(good(task, 0, customer="ali\x00ce"))  # PostgreSQL refuses NUL
        with pytest.raises(UnknownRequestError):
            store.report(task, "ab\x00c", 1.0, at=0.0)
        assert not store.degraded
        rows = [good(task, i) for i in range(1, 11)]
        assert all(store.record(o) for o in rows)
        assert (store.degraded, store.pending) == (False, 0)  # written, not queued
        assert stored_sums(store.inner.posteriors(task)) == expected_sums(rows)
    finally:
        store.close()


@pytest.fixture
def poisoned_url(fresh_url: str) -> str:
    """A store whose database refuses every outcome with 'poison' in its request id."""
    return poison(fresh_url)


def poison(url: str) -> str:
    """Create the store at ``url`` with a trigger refusing outcomes whose id says 'poison':
    a row that passes every check of ours but that the database will not take."""
    SQLStore(url).close()  # the schema
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON outcomes "
                "WHEN NEW.request_id LIKE '%poison%' "
                "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
                "IF NEW.request_id LIKE '%%poison%%' THEN "
                "RAISE EXCEPTION 'poisoned row' USING ERRCODE = '22023'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON outcomes "
                "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
    engine.dispose()
    return url


def test_a_row_the_database_refuses_is_not_an_outage(poisoned_url: str, task: str) -> None:
    store = ResilientStore(SQLStore(poisoned_url), retry_interval=60.0)
    try:
        with pytest.raises(InvalidRecordError, match="refused a value"):
            store.record(good(task, 0, request_id=f"{task}:poison"))
        assert not store.degraded
        assert store.record(good(task, 1))
        assert store.pending == 0
    finally:
        store.close()


def test_batching_sets_a_refused_row_aside_and_writes_the_rest(
    poisoned_url: str, task: str
) -> None:
    inner = SQLStore(poisoned_url)
    store = BatchingStore(inner, flush_every=10, flush_interval=3600.0)
    rows = [good(task, i) for i in range(9)]
    poisoned = good(task, 99, request_id=f"{task}:poison")
    for row in [*rows[:4], poisoned, *rows[4:]]:
        store.record(row)  # the 10th record writes the queue
    assert (store.pending, store.rejected, store.set_aside) == (0, 1, [poisoned])
    assert stored_sums(inner.posteriors(task)) == expected_sums(rows)
    store.close()


def test_a_queued_row_the_database_refuses_is_set_aside_when_the_store_is_back(
    proxied_url: str, proxy: TcpProxy, task: str
) -> None:
    # PostgreSQL through a proxy that goes away: outcomes queue, then the flush meets a
    # row the database refuses. Before: that flush failed for ever, the store stayed
    # degraded, and every later outcome was lost at close().
    clock = FakeClock()
    inner = SQLStore(poison(proxied_url))
    store = ResilientStore(inner, retry_interval=5.0, flush_batch=4, clock=clock)
    try:
        store.ensure_paths(task, ["a"])
        proxy.stop()
        rows = [good(task, i) for i in range(10)]
        poisoned = good(task, 99, request_id=f"{task}:poison")
        for row in [*rows[:5], poisoned, *rows[5:]]:
            assert store.record(row)
        assert (store.degraded, store.pending) == (True, 11)
        proxy.start()
        clock.advance(5.0)
        assert store.posteriors(task)["a"].n == 10  # the flush ran first
        assert (store.degraded, store.pending, store.rejected) == (False, 0, 1)
        assert store.set_aside == [poisoned]
        assert stored_sums(inner.posteriors(task)) == expected_sums(rows)
        assert store.record(good(task, 10)) and store.pending == 0
    finally:
        store.close()
