"""Many processes on one store: no lost update, no duplicate, no deadlock, and crash safety.

The workers live in tests/storage/workers.py and start with ``spawn``, as separate
interpreters like separate services would be. Each test gets a new store of its own
(SQLite file, or a throwaway PostgreSQL database), which the children open at once,
so these tests also race the migrations that create it.
"""

from __future__ import annotations

import collections
import itertools
import math
import multiprocessing
import os
import random
import signal
import time
import uuid
from collections.abc import Callable, Iterable
from multiprocessing.process import BaseProcess

import pytest
import sqlalchemy as sa

from storage import Outcome, PathPosterior, Spend
from storage._migrate import HEAD
from storage._schema import VERSION_TABLE
from storage._sql import SQLStore
from tests.storage import workers

PROCESSES, THREADS, PER_THREAD = 8, 4, 40
JOIN_TIMEOUT = 120.0  # seconds for everything; a few seconds is normal


def join_all(processes: list[BaseProcess], timeout: float) -> None:
    """Wait for every process; fail (after killing them) if any is still running."""
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    hung = [p.name for p in processes if p.is_alive()]
    for process in processes:
        if process.is_alive():
            process.kill()
            process.join()
    if hung:
        pytest.fail(f"{hung} still running after {timeout:.0f} s: deadlock or hang")


def expected_sums(outcomes: Iterable[Outcome]) -> dict[str, tuple[float, int, int]]:
    """Per path: (sum of scores, scored attempts, errored attempts)."""
    sums: dict[str, tuple[float, int, int]] = {}
    for outcome in outcomes:
        if outcome.score is None:
            continue
        total, count, errors = sums.get(outcome.path, (0.0, 0, 0))
        sums[outcome.path] = (total + outcome.score, count + 1, errors + int(outcome.errored))
    return sums


def faded_sums(outcomes: Iterable[Outcome], tick: int, horizon: float) -> list[float]:
    """(successes, failures, answers, errors), each outcome weighed by its age at ``tick``."""
    sums = [0.0, 0.0, 0.0, 0.0]
    for outcome in outcomes:
        assert outcome.score is not None and outcome.tick is not None
        weight = math.exp(-(tick - outcome.tick) / horizon)
        if outcome.errored:
            sums[3] += weight
        else:
            sums[0] += weight * outcome.score
            sums[1] += weight * (1.0 - outcome.score)
            sums[2] += weight
    return sums


def stored_sums(rows: dict[str, PathPosterior]) -> dict[str, tuple[float, int, int]]:
    return {
        path: (row.alpha - row.prior_alpha, row.n, row.errors)
        for path, row in rows.items()
        if row.n or row.errors
    }


def test_many_processes_and_threads_lose_no_update(fresh_url: str) -> None:
    task = f"crowd-{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    processes = [
        context.Process(
            target=workers.hammer,
            args=(fresh_url, task, number, THREADS, PER_THREAD, start),
            name=f"writer-{number}",
        )
        for number in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    join_all(processes, JOIN_TIMEOUT)
    assert [p.exitcode for p in processes] == [0] * PROCESSES, "a writer failed (see stderr)"

    store = SQLStore(fresh_url)
    assert store.found_revision == HEAD  # the children's race created it exactly once
    expected = list(workers.final_scores(task, PROCESSES, THREADS, PER_THREAD))
    stored = store.outcomes(task)
    keys = collections.Counter((o.request_id, o.attempt) for o in stored)
    assert len(stored) == len(expected) == PROCESSES * THREADS * PER_THREAD
    assert max(keys.values()) == 1
    assert {o.request_id: o.score for o in stored} == {o.request_id: o.score for o in expected}
    rows = store.posteriors(task)
    assert stored_sums(rows) == expected_sums(expected)
    for path, row in rows.items():  # faded sums: every attempt at its own age, none lost
        mine = [o for o in expected if o.path == path and o.score is not None]
        assert row.faded(PER_THREAD) == pytest.approx(faded_sums(mine, PER_THREAD, row.horizon))
    writes = PROCESSES * THREADS * PER_THREAD
    assert store.spend(f"task:{task}", 1) == Spend(writes, 0.25 * writes)
    assert store.spend(f"budget:{task}", 1) == Spend(0, workers.BUDGET_LIMIT)  # not a cent over
    assert store.path_states(task)["breaker"].failures == writes
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").all() == [(HEAD,)]
    store.close()


def poll(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Ask ``check`` until it says yes; fail after ``timeout`` seconds (no sleeping)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout:.0f} s")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_writer_killed_mid_flight_leaves_a_consistent_store(fresh_url: str, seed: int) -> None:
    task = f"crash-{uuid.uuid4().hex[:8]}"
    SQLStore(fresh_url).close()  # created here, so the child starts writing at once
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=workers.scribble, args=(fresh_url, task), name="scribbler")
    child.start()
    watcher = SQLStore(fresh_url)
    count = sa.text("SELECT count(*) FROM outcomes WHERE task = :task")
    polls = itertools.count()

    def written(at_least: int) -> bool:
        next(polls)
        with watcher.engine.connect() as conn:
            return bool(conn.execute(count, {"task": task}).scalar_one() >= at_least)

    try:
        poll(lambda: written(300), timeout=60, what="300 outcomes from the writer")
        # A few more reads (a seeded number), so the kill does not land right after the
        # commit that made the 300th outcome visible, but anywhere in the writer's loop.
        stop = next(polls) + random.Random(seed).randrange(200)
        poll(lambda: written(0) and next(polls) >= stop, timeout=60, what="extra reads")
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
    finally:
        join_all([child], 30)
        watcher.close()
    assert child.exitcode == -signal.SIGKILL

    reopened = SQLStore(fresh_url)
    outcomes = reopened.outcomes(task)
    assert len(outcomes) >= 300
    assert stored_sums(reopened.posteriors(task)) == expected_sums(outcomes)
    assert reopened.record(Outcome(f"{task}:after", 1, task, "a", 1.0, created_at=0.0))
    reopened.close()
