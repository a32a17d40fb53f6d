"""ResilientStore: degraded mode while PostgreSQL is unreachable, and the flush when it is back.

The server "goes away" by stopping a TCP proxy that the store connects through: its
port closes and every pooled connection is cut, as when a server or network fails.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from bandits import ConfigError
from router import FakeClock, Router
from storage import (
    SERVED_ATTEMPT,
    BatchingStore,
    MemoryStore,
    Outcome,
    ResilientStore,
    SQLStore,
    Store,
    StoreUnavailableError,
    UnknownRequestError,
    open_store,
)
from tests.storage.proxy import TcpProxy
from tests.storage.test_processes import expected_sums, stored_sums

SCORES = (0.0, 0.25, 0.5, 0.75, 1.0)  # dyadic: sums are exact in any order
RETRY = 5.0


@pytest.fixture
def resilient(proxied_url: str, clock: FakeClock) -> Iterator[ResilientStore]:
    """A ResilientStore over PostgreSQL through the proxy, retrying every RETRY fake seconds."""
    store = ResilientStore(
        SQLStore(proxied_url), max_pending=100, retry_interval=RETRY, clock=clock
    )
    yield store
    store.close()


def make(task: str, index: int, path: str = "a", attempt: int = 1) -> Outcome:
    return Outcome(
        f"{task}:{index}",
        attempt,
        task,
        path,
        SCORES[index % len(SCORES)],
        created_at=1_767_225_600.0 + index,
        errored=index % 10 == 0,
    )


def test_outage_routes_from_known_posteriors_and_flushes_once_back(
    resilient: ResilientStore, proxy: TcpProxy, clock: FakeClock, task: str
) -> None:
    before = [make(task, i, path="ab"[i % 2]) for i in range(10)]
    during = [make(task, i, path="abc"[i % 3]) for i in range(10, 40)]
    resilient.ensure_paths(task, ["a", "b"])
    assert all(resilient.record(o) for o in before)
    assert stored_sums(resilient.posteriors(task)) == expected_sums(before)

    proxy.stop()
    assert all(resilient.record(o) for o in during[:20])
    assert resilient.record_many(during[20:]) == 10
    assert (resilient.degraded, resilient.pending, resilient.dropped) == (True, 30, 0)
    assert stored_sums(resilient.posteriors(task)) == expected_sums(before + during)

    proxy.start()
    assert resilient.posteriors(task)["c"].n == 10  # still backing off: nothing was tried
    assert resilient.pending == 30
    clock.advance(RETRY)
    rows = resilient.posteriors(task)  # flushes first, then reads the store
    assert (resilient.degraded, resilient.pending) == (False, 0)
    assert stored_sums(rows) == expected_sums(before + during)
    assert stored_sums(resilient.inner.posteriors(task)) == expected_sums(before + during)
    assert len(resilient.outcomes(task)) == 40


def test_flushing_outcomes_already_stored_counts_them_once(
    resilient: ResilientStore, proxy: TcpProxy, clock: FakeClock, task: str
) -> None:
    # As after a flush whose commit reached the server but whose answer did not.
    stored = [make(task, i) for i in range(5)]
    resilient.inner.record_many(stored)
    resilient.posteriors(task)
    proxy.stop()
    assert all(resilient.record(o) for o in [*stored, make(task, 5)])
    assert resilient.record(make(task, 5)) is False  # queued already
    proxy.start()
    assert resilient.flush() == 1  # explicit: ignores the back-off
    assert stored_sums(resilient.posteriors(task)) == expected_sums([*stored, make(task, 5)])
    assert resilient.flush() == 0


def test_full_queue_drops_the_oldest_and_logs(
    proxied_url: str, proxy: TcpProxy, clock: FakeClock, task: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = ResilientStore(SQLStore(proxied_url), max_pending=5, retry_interval=RETRY, clock=clock)
    proxy.stop()
    with caplog.at_level(logging.WARNING, logger="outcome_router"):
        assert all(store.record(make(task, i)) for i in range(8))
    assert (store.pending, store.dropped) == (5, 3)
    messages = [r.getMessage() for r in caplog.records if r.name == "outcome_router"]
    assert any("is unreachable, routing from the last known posteriors" in m for m in messages)
    assert any("dropped the oldest, 1 so far; raise max_pending" in m for m in messages)
    proxy.start()
    assert store.flush() == 5
    assert [o.request_id for o in store.outcomes(task)] == [f"{task}:{i}" for i in range(3, 8)]
    assert store.posteriors(task)["a"].n == 5
    store.close()


def test_drops_are_logged_at_each_power_of_ten(
    proxied_url: str, proxy: TcpProxy, clock: FakeClock, task: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = ResilientStore(SQLStore(proxied_url), max_pending=1, retry_interval=RETRY, clock=clock)
    proxy.stop()
    with caplog.at_level(logging.WARNING, logger="outcome_router"):
        store.record_many(make(task, i) for i in range(101))
        for i in range(101, 111):
            store.record(make(task, i))
    drops = [r for r in caplog.records if "dropped the oldest" in r.getMessage()]
    assert store.dropped == 110
    assert [r.getMessage().split(", ")[1] for r in drops] == [
        "100 so far; raise max_pending to keep more"
    ]
    proxy.start()
    store.close()


def test_paths_created_during_an_outage_are_created_on_return(
    resilient: ResilientStore, proxy: TcpProxy, clock: FakeClock, task: str
) -> None:
    proxy.stop()
    resilient.ensure_paths(task, ["x", "y"], prior=(2.0, 3.0))
    assert sorted(resilient.posteriors(task)) == ["x", "y"]
    assert resilient.posteriors(task)["x"].alpha == 2.0
    proxy.start()
    clock.advance(RETRY)
    resilient.posteriors(task)
    assert resilient.inner.posteriors(task)["y"].beta == 3.0


def test_report_of_a_queued_outcome_rescores_it(
    resilient: ResilientStore, proxy: TcpProxy, clock: FakeClock, task: str
) -> None:
    proxy.stop()
    resilient.record(make(task, 1))  # score 0.25
    report = resilient.report(task, f"{task}:1", 1.0, at=0.0)
    assert (report.previous_score, report.score, report.path) == (0.25, 1.0, "a")
    assert resilient.posteriors(task)["a"].alpha == 2.0
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        resilient.report(task, f"{task}:other", 1.0, at=0.0)
    proxy.start()
    clock.advance(RETRY)
    assert resilient.inner.posteriors(task) == {}
    assert resilient.posteriors(task)["a"].alpha == 2.0
    with pytest.raises(UnknownRequestError):
        resilient.report(task, f"{task}:other", 1.0, at=0.0)


def test_report_of_a_queued_request_scores_the_attempt_it_served(
    resilient: ResilientStore, proxy: TcpProxy, clock: FakeClock, task: str
) -> None:
    # fallback_below served attempt 1 (the best): the run's last row says so.
    proxy.stop()
    first = replace(make(task, 1), score=0.4)
    last = replace(make(task, 1, path="b", attempt=2), score=0.2, metadata={SERVED_ATTEMPT: 1})
    assert resilient.record_many([first, last]) == 2
    report = resilient.report(task, f"{task}:1", 1.0, at=0.0)
    assert (report.path, report.attempt, report.previous_score) == ("a", 1, 0.4)
    proxy.start()
    clock.advance(RETRY)
    rows = resilient.posteriors(task)
    assert (rows["a"].alpha, rows["b"].alpha) == (2.0, 1.2)
    again = resilient.report(task, f"{task}:1", 0.0, at=0.0)  # now from the store
    assert (again.path, again.attempt, again.previous_score) == ("a", 1, 1.0)


def test_reset_and_outcomes_raise_while_the_store_is_down(
    resilient: ResilientStore, proxy: TcpProxy, task: str
) -> None:
    resilient.ensure_paths(task, ["a"])
    proxy.stop()
    assert resilient.record(make(task, 1))
    with pytest.raises(StoreUnavailableError, match="1 outcomes queued"):
        resilient.outcomes(task)
    with pytest.raises(StoreUnavailableError):
        resilient.reset(task, "a", keep_successes=0.0, keep_count=0, seen_resets=0)


def test_an_empty_flush_does_not_end_the_outage(
    resilient: ResilientStore, proxy: TcpProxy, task: str
) -> None:
    proxy.stop()
    resilient.posteriors(task)
    assert (resilient.flush(), resilient.degraded) == (0, True)
    resilient.record(make(task, 1))
    with pytest.raises(StoreUnavailableError):
        resilient.flush()
    proxy.start()
    assert (resilient.flush(), resilient.degraded, resilient.pending) == (1, False, 0)


def test_close_during_an_outage_logs_what_is_lost(
    proxied_url: str, proxy: TcpProxy, clock: FakeClock, task: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = ResilientStore(SQLStore(proxied_url), retry_interval=RETRY, clock=clock)
    proxy.stop()
    store.record(make(task, 1))
    with caplog.at_level(logging.WARNING, logger="outcome_router"):
        store.close()
    assert any("with 1 queued outcomes not written" in r.getMessage() for r in caplog.records)


def test_threads_recording_through_an_outage_lose_nothing(
    resilient: ResilientStore, proxy: TcpProxy, clock: FakeClock, task: str
) -> None:
    threads, per_thread = 8, 10  # 80 outcomes: the queue of 100 never fills
    written = [make(task, i, path="ab"[i % 2]) for i in range(threads * per_thread)]
    resilient.ensure_paths(task, ["a", "b"])
    half = threading.Barrier(threads, action=proxy.stop)  # the store goes away mid-run

    def write(number: int) -> None:
        mine = written[number::threads]
        for index, outcome in enumerate(mine):
            if index == len(mine) // 2:
                half.wait()
            resilient.record(outcome)
            resilient.posteriors(task)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # The proxy cuts connections a moment after the barrier: a write or two may still
    # reach the server, the rest queue. The local view may briefly count an outcome twice
    # (documented), never less than once.
    assert resilient.degraded
    assert 0 < resilient.pending <= threads * per_thread // 2
    local = resilient.posteriors(task)
    assert sum(row.n for row in local.values()) >= len(written)
    proxy.start()
    resilient.flush()
    assert resilient.pending == 0
    assert stored_sums(resilient.inner.posteriors(task)) == expected_sums(written)


def test_router_keeps_serving_through_an_outage(
    proxied_url: str, proxy: TcpProxy, clock: FakeClock
) -> None:
    task = f"outage-{uuid.uuid4().hex[:8]}"
    store = ResilientStore(SQLStore(proxied_url), retry_interval=RETRY, clock=clock)

    def good(text: str) -> str:
        return text

    router = Router([good], success_fn=lambda out: True, task=task, store=store, seed=1)
    router.run("before")
    proxy.stop()
    assert [router.run(f"r{i}") for i in range(5)] == [f"r{i}" for i in range(5)]
    assert router.unrecorded == 0
    assert store.pending == 5
    proxy.start()
    clock.advance(RETRY)
    router.run("after")
    assert store.inner.posteriors(task)["good"].n == 7
    router.close()
    store.close()


def test_other_attributes_and_the_protocol_pass_through(task: str) -> None:
    inner = MemoryStore()
    store = ResilientStore(inner)
    assert isinstance(store, Store)
    assert store.url == "memory://"
    store.record(make(task, 1))
    assert store.prune(older_than=2e9) == 1  # MemoryStore.prune, through __getattr__
    assert "pending=0" in repr(store)
    with pytest.raises(AttributeError):
        store.no_such_method  # noqa: B018


def test_unreachable_url_cannot_be_opened_at_all() -> None:
    # A ResilientStore wraps an open store: a server down at start-up is reported at once.
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        open_store("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_pending": 0}, "max_pending must be an int >= 1"),
        ({"max_pending": 1.5}, "max_pending must be an int >= 1"),
        ({"retry_interval": -1.0}, "retry_interval must be >= 0"),
        ({"retry_interval": float("nan")}, "retry_interval must be a number"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ResilientStore(MemoryStore(), **options)  # type: ignore[arg-type]


def test_batching_over_resilient_writes_through_an_outage(
    proxied_url: str, proxy: TcpProxy, clock: FakeClock, task: str
) -> None:
    resilient = ResilientStore(SQLStore(proxied_url), retry_interval=RETRY, clock=clock)
    store = BatchingStore(resilient, flush_every=4, flush_interval=1e9, clock=clock)
    written = [make(task, i, path="ab"[i % 2]) for i in range(10)]
    store.ensure_paths(task, ["a", "b"])  # as Router does: the posteriors are known from here
    for outcome in written[:4]:
        store.record(outcome)
    proxy.stop()
    for outcome in written[4:]:
        assert store.record(outcome)  # flushes into the resilient queue: no error
    assert (store.pending, resilient.pending) == (2, 4)
    assert stored_sums(store.posteriors(task)) == expected_sums(written)
    proxy.start()
    clock.advance(RETRY)
    store.close()
    reopened = SQLStore(proxied_url)
    assert stored_sums(reopened.posteriors(task)) == expected_sums(written)
    reopened.close()
