"""BatchingStore: write-behind batches, their loss bound, and bounded-staleness reads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bandits import ConfigError
from router import FakeClock
from storage import BatchingStore, MemoryStore, Outcome, SQLStore, Store, open_store
from tests.storage.test_processes import expected_sums, stored_sums

SCORES = (0.0, 0.25, 0.5, 0.75, 1.0)  # dyadic: sums are exact in any order
NEVER = 1e9  # a flush interval that never comes on the fake clock


def make(task: str, index: int, path: str = "a") -> Outcome:
    return Outcome(
        f"{task}:{index}",
        1,
        task,
        path,
        SCORES[index % len(SCORES)],
        created_at=1_767_225_600.0 + index,
        errored=index % 10 == 0,
    )


@pytest.fixture
def second(store_url: str, store: Store) -> Iterator[Store]:
    """Another handle on the same store, as another process would have (memory: the same)."""
    if store_url in {"memory://", "sqlite:///:memory:"}:
        yield store
        return
    other = open_store(store_url)
    yield other
    other.close()


def test_outcomes_are_written_every_flush_every(store: Store, task: str, clock: FakeClock) -> None:
    batching = BatchingStore(store, flush_every=5, flush_interval=NEVER, clock=clock)
    written = [make(task, i) for i in range(12)]
    for outcome in written[:4]:
        assert batching.record(outcome)
    assert store.posteriors(task) == {}
    assert batching.pending == 4
    assert stored_sums(batching.posteriors(task)) == expected_sums(written[:4])  # its own
    for outcome in written[4:]:
        batching.record(outcome)
    assert batching.pending == 2
    assert stored_sums(store.posteriors(task)) == expected_sums(written[:10])
    assert stored_sums(batching.posteriors(task)) == expected_sums(written)


def test_outcomes_are_written_after_flush_interval(
    store: Store, task: str, clock: FakeClock
) -> None:
    batching = BatchingStore(store, flush_every=1000, flush_interval=0.5, clock=clock)
    batching.record(make(task, 1))
    clock.advance(0.25)
    batching.record(make(task, 2))
    assert batching.pending == 2
    clock.advance(0.25)  # the oldest is 0.5 s old: the next call writes the queue
    batching.posteriors(task)
    assert batching.pending == 0
    assert store.posteriors(task)["a"].n == 2


def test_a_crash_loses_at_most_the_queue(fresh_url: str, task: str, clock: FakeClock) -> None:
    flush_every = 100
    inner = SQLStore(fresh_url)
    batching = BatchingStore(inner, flush_every=flush_every, flush_interval=NEVER, clock=clock)
    written = [make(task, i) for i in range(250)]
    for outcome in written:
        batching.record(outcome)
    inner.close()  # the process dies: the BatchingStore is never closed
    reopened = SQLStore(fresh_url)
    kept = reopened.outcomes(task)
    assert len(written) - len(kept) == batching.pending == 50 < flush_every
    assert stored_sums(reopened.posteriors(task)) == expected_sums(kept)
    reopened.close()


def test_close_writes_the_queue(fresh_url: str, task: str) -> None:
    batching = BatchingStore(SQLStore(fresh_url), flush_every=100, flush_interval=NEVER)
    written = [make(task, i) for i in range(7)]
    for outcome in written:
        batching.record(outcome)
    batching.close()
    reopened = SQLStore(fresh_url)
    assert stored_sums(reopened.posteriors(task)) == expected_sums(written)
    reopened.close()


def test_replays_are_counted_once(store: Store, task: str, clock: FakeClock) -> None:
    batching = BatchingStore(store, flush_every=3, flush_interval=NEVER, clock=clock)
    store.record(make(task, 0))  # already stored when it is queued again
    assert batching.record(make(task, 1)) is True
    assert batching.record(make(task, 1)) is False  # already queued
    assert batching.record(make(task, 0)) is True
    assert batching.record(make(task, 2)) is True  # the 3rd queued: written
    assert batching.pending == 0
    expected = expected_sums([make(task, i) for i in range(3)])
    assert stored_sums(store.posteriors(task)) == expected
    assert batching.record_many([make(task, 2), make(task, 3), make(task, 3)]) == 1
    assert stored_sums(batching.posteriors(task)) == expected_sums(
        [make(task, i) for i in range(4)]
    )


def test_record_many_writes_the_queue_and_the_batch(
    store: Store, task: str, clock: FakeClock
) -> None:
    batching = BatchingStore(store, flush_every=100, flush_interval=NEVER, clock=clock)
    batching.record(make(task, 0))
    assert batching.record_many(make(task, i) for i in range(1, 4)) == 4
    assert (batching.pending, store.posteriors(task)["a"].n) == (0, 4)
    assert batching.record_many([]) == 0


def test_report_reset_and_outcomes_see_the_queue(store: Store, task: str, clock: FakeClock) -> None:
    batching = BatchingStore(store, flush_every=100, flush_interval=NEVER, clock=clock)
    batching.ensure_paths(task, ["a"])
    batching.record(make(task, 1))  # score 0.25
    report = batching.report(task, f"{task}:1", 1.0, at=0.0)
    assert (report.previous_score, report.score) == (0.25, 1.0)
    batching.record(make(task, 2))
    assert [o.request_id for o in batching.outcomes(task)] == [f"{task}:1", f"{task}:2"]
    batching.record(make(task, 3))
    row = batching.posteriors(task)["a"]
    assert batching.reset(task, "a", keep_successes=0.0, keep_count=0, seen_resets=row.resets)
    assert batching.pending == 0
    assert batching.posteriors(task)["a"].resets == 1


def test_reads_are_reused_for_max_staleness(
    store: Store, second: Store, task: str, clock: FakeClock
) -> None:
    mine = BatchingStore(
        store, flush_every=2, flush_interval=NEVER, max_staleness=10.0, clock=clock
    )
    theirs = BatchingStore(second, flush_every=1, flush_interval=NEVER, clock=clock)
    mine.ensure_paths(task, ["a", "b"])
    assert mine.posteriors(task)["b"].n == 0  # read and cached
    theirs.record(make(task, 100, path="b"))  # another process's outcome
    own = [make(task, i) for i in range(3)]
    for outcome in own:
        mine.record(outcome)  # two written, one queued
    clock.advance(9.9)
    rows = mine.posteriors(task)
    assert rows["b"].n == 0  # not read again: theirs is not seen yet
    assert stored_sums({"a": rows["a"]}) == expected_sums(own)  # its own are, written or not
    clock.advance(0.1)
    rows = mine.posteriors(task)
    assert rows["b"].n == 1
    assert stored_sums({"a": rows["a"]}) == expected_sums(own)


def test_without_max_staleness_every_read_goes_to_the_store(
    store: Store, second: Store, task: str, clock: FakeClock
) -> None:
    mine = BatchingStore(store, flush_interval=NEVER, clock=clock)
    mine.posteriors(task)
    second.record(make(task, 1))
    assert mine.posteriors(task)["a"].n == 1


def test_other_attributes_and_the_protocol_pass_through(task: str) -> None:
    batching = BatchingStore(MemoryStore())
    assert isinstance(batching, Store)
    assert batching.url == "memory://"
    batching.record(make(task, 1))
    batching.flush()
    assert batching.prune(older_than=2e9) == 1  # MemoryStore.prune, through __getattr__
    assert "flush_every=100" in repr(batching)
    with pytest.raises(AttributeError):
        batching.no_such_method  # noqa: B018


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"flush_every": 0}, "flush_every must be an int >= 1"),
        ({"flush_every": True}, "flush_every must be an int >= 1"),
        ({"flush_interval": -0.1}, "flush_interval must be >= 0"),
        ({"max_staleness": float("inf")}, "max_staleness must be a finite number"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BatchingStore(MemoryStore(), **options)  # type: ignore[arg-type]
