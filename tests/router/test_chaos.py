"""Chaos: 10,000 requests over 4 threads through paths that fail in every way we know."""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
from collections import Counter
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from router import (
    AllPathsFailed,
    Attempt,
    Breaker,
    Budget,
    BudgetExceeded,
    FakeClock,
    InvalidCostError,
    Metered,
    Path,
    RateLimit,
    Retry,
    Router,
    RouterError,
)
from storage import MemoryStore, ResilientStore, Store, open_store
from tests.pg_server import PgServer

REQUESTS = 10_000
THREADS = 4
PRICES = {"model_a": 0.002, "model_b": 0.001, "model_c": 0.003}
DAILY_COST = 20.0  # runs out part-way: the rest of the day is refused


class Answer(BaseModel):
    value: int


class HTTPError(Exception):
    def __init__(self, status_code: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.headers = {"Retry-After": retry_after} if retry_after else {}


class ChaoticPath:
    """Fails at random in every way a provider can; each thread has its own generator."""

    def __init__(self, name: str, clock: FakeClock, health: float) -> None:
        self.__name__ = name
        self.clock = clock
        self.health = health
        self.local = threading.local()
        self.release = threading.Event()

    def __call__(self, x: int) -> str:
        rng = getattr(self.local, "rng", None)
        if rng is None:
            rng = self.local.rng = np.random.default_rng(abs(hash((self.__name__, x))))
        roll = rng.random()
        self.clock.advance(0.001)
        if roll < self.health:
            return f'```json\n{{"value": {x}}}\n```'
        kind = int(rng.integers(0, 9))
        if kind == 0:
            raise HTTPError(503)
        if kind == 1:
            raise HTTPError(429, retry_after="0.5")
        if kind == 2:
            raise HTTPError(400)
        if kind == 3:
            raise ConnectionResetError("connection reset by peer")
        if kind == 4:
            self.clock.advance(5.0)  # slower than its timeout on the router's clock
            return f'{{"value": {x}}}'
        if kind == 5 and roll > 0.999:
            self.release.wait(0.2)  # really hangs: the caller must come back at the timeout
            return f'{{"value": {x}}}'
        if kind == 6:
            return "I am sorry, as an AI model I cannot"  # invalid output
        if kind == 7 and self.__name__ == "model_b":  # its key is revoked: benched for good
            raise HTTPError(401)
        raise RuntimeError("unexpected provider bug")


def test_chaos_loses_nothing_and_fails_only_clearly(tmp_path: FilePath) -> None:
    url = f"sqlite:///{tmp_path / 'chaos.db'}"
    store = open_store(url)
    clock = FakeClock(start=1_767_225_600.0)
    health = {"model_a": 0.7, "model_b": 0.5, "model_c": 0.85}
    paths = [
        Path(
            ChaoticPath(name, clock, health[name]),
            name=name,
            timeout=2.0 if name != "model_b" else 0.05,
            output=Answer,
            price=PRICES[name],
            rate_limit=RateLimit(per_second=200) if name == "model_c" else None,
        )
        for name in PRICES
    ]
    paths.append(Path(lambda x: Answer(value=x), name="regex", last_resort=True, price=0.0))
    router = Router(
        paths,
        lambda x, out: out.value == x,
        task="chaos",
        store=store,
        clock=clock,
        seed=7,
        retry=Retry(attempts=2, base=0.1, cap=1.0),
        breaker=Breaker(failures=20, recovery=5.0),
        budget=Budget(daily_cost=DAILY_COST, run_cost=0.01),
        on_alert=lambda alert: None,
    )
    attempts: list[tuple[str, Attempt]] = []
    endings: Counter[str] = Counter()
    lock = threading.Lock()

    def serve(first: int) -> None:
        for x in range(first, REQUESTS, THREADS):
            try:
                result = router.route(x)
            except (AllPathsFailed, BudgetExceeded) as exc:
                made = [
                    (exc.request_id if isinstance(exc, AllPathsFailed) else "", a)
                    for a in exc.attempts
                ]
                ending = type(exc).__name__
            except RouterError as exc:  # any other error of ours is a clear one too
                made, ending = [], type(exc).__name__
            else:
                assert result.output == Answer(value=x)
                made = [(result.request_id, a) for a in result.attempts]
                ending = "served"
            with lock:
                attempts.extend(made)
                endings[ending] += 1

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    router.close()
    for path in paths:
        fn = path.fn
        if isinstance(fn, ChaoticPath):
            fn.release.set()

    assert sum(endings.values()) == REQUESTS
    assert endings["served"] > REQUESTS // 3 and endings["BudgetExceeded"] > 0
    assert set(endings) <= {"served", "AllPathsFailed", "BudgetExceeded"}

    check_store(store, attempts)
    store.close()


def check_store(store: Store, attempts: list[tuple[str, Attempt]]) -> None:
    """One row per attempt, posteriors equal to the scores, the budget kept."""
    rows = store.outcomes("chaos")
    assert len(rows) == len({(o.request_id, o.attempt) for o in rows}), "one row per attempt"
    assert len(rows) == len(attempts)
    classes = Counter(o.error_class for o in rows)
    for kind in ("transient", "rate_limited", "client_error", "timeout", "invalid_output", "auth"):
        assert classes[kind] > 0, kind
    posteriors = store.posteriors("chaos")
    for name, row in posteriors.items():
        scored = [o.score for o in rows if o.path == name and o.score is not None]
        assert row.n == len(scored)
        assert row.alpha - row.prior_alpha == pytest.approx(sum(scored))
        assert row.beta - row.prior_beta == pytest.approx(len(scored) - sum(scored))
    spent = store.spend("task:chaos", 20454)
    assert DAILY_COST <= spent.cost <= DAILY_COST + max(PRICES.values()) + 1e-9
    answered = sum(o.cost or 0.0 for o in rows)
    assert spent.cost == pytest.approx(answered)


# Issue 16: the faults the first chaos run never tried, so that they stay fixed.


class Collect:
    """An observer keeping (request id, attempt) of every attempt the router recorded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: set[tuple[str, int]] = set()

    def on_attempt(self, event: Any) -> None:
        with self.lock:
            self.attempts.add((event.request_id, event.attempt))

    def on_run(self, event: Any) -> None:
        pass


class Flaky:
    """A sync path that answers, fails, hangs past its timeout, or reports a NaN cost."""

    def __init__(self, name: str, release: threading.Event) -> None:
        self.__name__ = name
        self.release = release
        self.local = threading.local()

    def __call__(self, x: int) -> Metered:
        rng = getattr(self.local, "rng", None)
        if rng is None:
            rng = self.local.rng = np.random.default_rng(abs(hash((self.__name__, x))))
        roll = rng.random()
        if roll < 0.6:
            return Metered(f'{{"value": {x}}}', tokens_in=10, cost=0.001)
        if roll < 0.75:
            raise ConnectionResetError("connection reset by peer")
        if roll < 0.8:
            self.release.wait(0.2)  # really hangs past its timeout
            return Metered(f'{{"value": {x}}}')
        if roll < 0.81:
            return Metered(f'{{"value": {x}}}', cost=float("nan"))  # a bug: InvalidCostError
        raise HTTPError(503)


def test_chaos_through_a_frozen_and_restarted_postgres(own_pg: PgServer) -> None:
    # 4 threads route through PostgreSQL while it is frozen (SIGSTOP) for a second and
    # then crashes and restarts; paths fail, hang and report NaN costs. Every request
    # ends with an output or an error of ours, no store wait is charged to a path, and
    # once the server is back every recorded attempt is stored exactly once.
    task = f"chaos-{uuid.uuid4().hex[:8]}"
    release = threading.Event()
    collect = Collect()
    paths = [
        Path(Flaky(name, release), name=name, timeout=0.05, output=Answer, price=0.001)
        for name in ("model_a", "model_b")
    ]
    paths.append(Path(lambda x: Answer(value=x), name="regex", last_resort=True, price=0.0))
    router = Router(
        paths,
        lambda x, out: out.value == x,
        task=task,
        store=own_pg.url,
        seed=3,
        deadline=1.0,
        store_timeout=0.2,
        budget=Budget(daily_cost=1000.0),
        observers=[collect],
        on_alert=lambda alert: None,
    )
    store = router.store
    assert isinstance(store, ResilientStore)
    endings: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def serve(first: int) -> None:
        x = first
        while not stop.is_set():
            try:
                result = router.route(x)
            except (AllPathsFailed, InvalidCostError) as exc:
                ending = type(exc).__name__
            else:
                assert result.output == Answer(value=x)
                assert all(
                    a.error_class != "timeout" or a.latency_ms >= 40 for a in result.attempts
                )
                ending = "served"
            with lock:
                endings[ending] += 1
            x += THREADS

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        freeze_then_crash(own_pg)
    finally:
        stop.set()
        own_pg.thaw()
        for thread in threads:
            thread.join(timeout=30)
        release.set()
    assert not any(thread.is_alive() for thread in threads)
    assert set(endings) <= {"served", "AllPathsFailed", "InvalidCostError"}
    assert endings["served"] > 50
    store.flush()
    router.close()
    assert (router.unrecorded, store.rejected, store.dropped, store.pending) == (0, 0, 0, 0)
    check_stored_once(own_pg.url, task, collect.attempts)


def freeze_then_crash(server: PgServer) -> None:
    """Half a second healthy, a second frozen, a crash and 0.3 s down, then back."""
    time.sleep(0.5)
    server.freeze()
    time.sleep(1.0)
    server.thaw()
    time.sleep(0.3)
    server.stop("immediate")
    time.sleep(0.3)
    server.start()
    time.sleep(0.5)


def check_stored_once(url: str, task: str, attempts: set[tuple[str, int]]) -> None:
    """Every attempt the router recorded is stored once, and the posteriors are their sums."""
    check = open_store(url)
    rows = check.outcomes(task)
    assert {(o.request_id, o.attempt) for o in rows} == attempts
    assert len(rows) == len(attempts)  # none twice
    for name, row in check.posteriors(task).items():
        scored = [o.score for o in rows if o.path == name and o.score is not None]
        assert row.n == len(scored) and row.alpha - row.prior_alpha == pytest.approx(sum(scored))
    check.close()


def test_async_chaos_with_cancellations_and_hanging_paths() -> None:
    # 300 concurrent aroute calls, a third of them cancelled at random moments, through a
    # sync path that hangs past its timeout, an async one, rate limits, in-flight caps, a
    # budget and duplicated idempotency keys. Afterwards no reservation, slot or thread
    # is left behind, and the spend is what the recorded outcomes cost.
    task = f"achaos-{uuid.uuid4().hex[:8]}"
    release = threading.Event()
    clock = FakeClock(start=1_767_225_600.0)
    store = MemoryStore()

    def hangs(x: int) -> str:
        if x % 4 == 0:
            release.wait(5)
        return f'{{"value": {x}}}'

    async def answers(x: int) -> str:
        await asyncio.sleep(0.001 * (x % 3))
        if x % 7 == 0:
            raise ConnectionError("503")
        return f'{{"value": {x}}}'

    router = Router(
        [
            Path(hangs, timeout=0.05, output=Answer, price=0.01, max_in_flight=6),
            Path(answers, output=Answer, price=0.02, rate_limit=RateLimit(per_second=1000)),
            Path(lambda x: Answer(value=x), name="regex", last_resort=True, price=0.0),
        ],
        lambda x, out: out.value == x,
        task=task,
        store=store,
        clock=clock,
        seed=5,
        budget=Budget(daily_cost=1000.0),
        on_alert=lambda alert: None,
    )
    before = set(threading.enumerate())

    async def main() -> Counter[str]:
        rng = np.random.default_rng(11)
        calls = [
            asyncio.create_task(router.aroute(i, idempotency_key=f"k{i // 2}")) for i in range(300)
        ]
        for call in calls:
            if rng.random() < 0.33:
                await asyncio.sleep(float(rng.random()) * 0.01)
                call.cancel()
        endings: Counter[str] = Counter()
        for outcome in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(outcome, BaseException):
                assert isinstance(outcome, asyncio.CancelledError | RouterError), outcome
            endings[type(outcome).__name__] += 1
        return endings

    endings = asyncio.run(main())
    assert endings["RunResult"] > 100 and endings["CancelledError"] > 0
    release.set()
    give_up = time.monotonic() + 10
    while router.abandoned_calls() and time.monotonic() < give_up:
        time.sleep(0.01)
    assert router.abandoned_calls() == {}
    assert router._limiter._in_flight.get("hangs", 0) == 0  # every slot came back
    rows = store.outcomes(task)
    assert len(rows) == len({(o.request_id, o.attempt) for o in rows})
    spent = store.spend(f"task:{task}", math.floor(clock() / 86_400)).cost
    assert spent == pytest.approx(sum(o.cost or 0.0 for o in rows))  # nothing left reserved
    router.close()
    give_up = time.monotonic() + 10
    while any(
        t.is_alive() and t.name.startswith("outcome-router-")
        for t in set(threading.enumerate()) - before
    ):
        assert time.monotonic() < give_up, "threads outlived close()"
        time.sleep(0.01)
