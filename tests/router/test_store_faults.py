"""A router over a store that refuses a row, hangs or is locked keeps serving and blames no
path (issue 16, items 1 and 2)."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Any

import pytest

from router import (
    InvalidCostError,
    MeteredScore,
    Router,
    StoreUnavailableError,
    UnknownRequestError,
)
from storage import ResilientStore, SQLStore, StoreWaits, open_store, store_waits
from tests.conftest import forget_task, postgres_url
from tests.pg_server import PgServer


@pytest.fixture
def pg_task(task: str) -> Iterator[str]:
    """A task on the shared PostgreSQL database, deleted afterwards."""
    url = postgres_url()
    yield task
    forget_task(url, task)


def test_a_judge_with_a_nan_cost_does_not_stop_every_write(pg_task: str) -> None:
    # Before: the NaN went into the outcome's JSON metadata, PostgreSQL refused the row,
    # ResilientStore took that for an outage and retried the batch for ever: requests
    # were served, almost nothing was stored, and close() lost the rest.
    calls = itertools.count()

    def judge(out: str) -> MeteredScore:
        cost = math.nan if next(calls) % 3 == 0 else 0.001
        return MeteredScore(1.0, tokens=20, cost=cost)

    def answer(text: str) -> str:
        return text

    router = Router([answer], judge, task=pg_task, store=postgres_url(), seed=1)
    store = router.store
    assert isinstance(store, ResilientStore)
    served = refused = 0
    for i in range(60):
        try:
            router.run(i)
        except InvalidCostError:
            refused += 1
        else:
            served += 1
        assert not store.degraded and store.pending == 0
    with pytest.raises(UnknownRequestError):
        router.report("ab\x00c", 1)  # a NUL: PostgreSQL cannot hold it; before: degraded mode
    assert not store.degraded
    router.close()
    assert (served, refused) == (40, 20)
    check = open_store(postgres_url())
    rows = check.outcomes(pg_task)
    assert len(rows) == 60 and router.unrecorded == 0
    assert sum(o.score is None and o.error_class == "invalid_score" for o in rows) == 20
    assert check.posteriors(pg_task)["answer"].n == 40
    check.close()


# Item 2: a store that hangs, is locked, or restarts cannot hang requests or blame paths.


@pytest.fixture
def thaw_soon(own_pg: PgServer) -> Iterator[PgServer]:
    """The own server, thawed after SAFETY seconds whatever happens: a test of a frozen
    server ends even when the code under test would wait for it for ever."""
    timer = threading.Timer(SAFETY, own_pg.thaw)
    timer.start()
    yield own_pg
    timer.cancel()


SAFETY = 20.0


def echo(x: Any) -> Any:
    return x


def test_a_frozen_postgres_cannot_hang_a_request_or_blame_its_path(
    thaw_soon: PgServer, task: str
) -> None:
    # Before: with PostgreSQL frozen (SIGSTOP) each request blocked for the whole freeze,
    # deadline=0.5 blocked 31 s, then raised AllPathsFailed and recorded the 0.15 ms path
    # as a timeout with score 0.
    router = Router([echo], lambda out: True, task=task, store=thaw_soon.url, deadline=0.5)
    router.run("warm")  # connected, pooled
    thaw_soon.freeze()
    took = []
    for i in range(5):
        started = time.monotonic()
        result = router.route(i)
        took.append(time.monotonic() - started)
        assert result.output == i and [a.error_class for a in result.attempts] == [None]
    store = router.store
    assert isinstance(store, ResilientStore) and store.degraded
    assert max(took) < 0.5 + 1.0  # bounded by the deadline (half of it for the store)
    thaw_soon.thaw()
    assert store.flush() == 5  # the queue, once the server answers again
    check = open_store(thaw_soon.url)
    rows = check.outcomes(task)
    assert len(rows) == 6 and {(o.score, o.error_class) for o in rows} == {(1.0, None)}
    assert check.posteriors(task)["echo"].n == 6
    check.close()
    router.close()


def test_without_a_deadline_store_calls_wait_at_most_store_timeout(
    thaw_soon: PgServer, task: str
) -> None:
    router = Router([echo], lambda out: True, task=task, store=thaw_soon.url, store_timeout=0.3)
    router.run("warm")
    thaw_soon.freeze()
    started = time.monotonic()
    assert router.run("frozen") == "frozen"
    assert time.monotonic() - started < 0.3 * 2 + 1.0  # a read and a write at most
    assert router.store.degraded  # type: ignore[attr-defined]
    thaw_soon.thaw()
    router.close()


def test_a_router_on_a_frozen_postgres_fails_fast(thaw_soon: PgServer) -> None:
    # Before: Router(store=url) blocked 31 s before failing.
    thaw_soon.freeze()
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="did not accept a connection within 1 s"):
        Router([echo], lambda out: True, store=f"{thaw_soon.url}?connect_timeout=1")
    assert time.monotonic() - started < 1.0 + 1.0


def test_a_store_call_on_a_frozen_server_is_cut_at_its_limit(
    thaw_soon: PgServer, task: str
) -> None:
    store = SQLStore(thaw_soon.url)
    store.ensure_paths(task, ["a"])
    thaw_soon.freeze()
    with (
        store_waits(StoreWaits(0.3, None, time.monotonic)),
        pytest.raises(StoreUnavailableError, match=r"did not answer within 0\.3 s"),
    ):
        store.posteriors(task)
    thaw_soon.thaw()
    assert store.posteriors(task)["a"].n == 0  # a new connection replaced the cut one
    store.close()


def test_a_restarted_postgres_loses_and_doubles_nothing(own_pg: PgServer, task: str) -> None:
    router = Router([echo], lambda out: True, task=task, store=own_pg.url, seed=1)
    store = router.store
    assert isinstance(store, ResilientStore)
    served = 0
    for phase in ("before", "down", "after"):
        if phase == "down":
            own_pg.stop("immediate")  # a crash: every connection is cut
        elif phase == "after":
            own_pg.start()
            store.flush()
        for i in range(20):
            assert router.run(f"{phase}-{i}") == f"{phase}-{i}"
            served += 1
        assert store.degraded == (phase == "down")
    router.close()
    check = open_store(own_pg.url)
    assert len(check.outcomes(task)) == served == 60
    assert check.posteriors(task)["echo"].n == 60
    check.close()


def test_a_locked_sqlite_file_cannot_hang_a_request(tmp_path: FilePath, task: str) -> None:
    # Before: with another process holding the write lock, each request blocked for
    # SQLite's 30 s busy timeout, under deadline=2.0, and false timeouts were recorded.
    file = tmp_path / "routes.db"
    router = Router([echo], lambda out: True, task=task, store=file, deadline=2.0)
    router.run("warm")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        took = []
        for i in range(5):
            started = time.monotonic()
            result = router.route(i)
            took.append(time.monotonic() - started)
            assert [a.error_class for a in result.attempts] == [None]
        assert max(took) < 2.0
        assert router.store.degraded  # type: ignore[attr-defined]
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()  # the other process commits and lets go
        holder.wait(timeout=30)
        holder.stdout.close()
    router.close()  # writes the queue
    check = open_store(file)
    rows = check.outcomes(task)
    assert len(rows) == 6 and {o.error_class for o in rows} == {None}
    check.close()


LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("COMMIT")
"""
