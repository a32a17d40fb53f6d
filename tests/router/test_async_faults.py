"""Cancelled runs, calls that never return, rate-limit waits and duplicates under arun
(issue 16, items 6, 7, 8, 9 and 16).

Paths that hang block on a ``threading.Event`` the test sets at the end; the router
must come back at their timeouts (real seconds, kept short: a hung thread is the point).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from router import Budget, FakeClock, Path, RateLimit, Retry, Router, StaticOrder
from storage import MemoryStore, StoreUnavailableError

HANG = 0.05  # seconds: the timeout of the paths that hang


class Hanging:
    """A sync path that blocks until released, counting the calls running at once."""

    __name__ = "hangs"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.calls = 0

    def __call__(self, x: Any) -> str:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.release.wait(30)  # the test releases it; the router must not wait
            return "late"
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def hanging() -> Iterator[Hanging]:
    path = Hanging()
    yield path
    path.release.set()


def quick(x: Any) -> str:
    return "quick"


def new_router_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """The router's threads started since ``before`` and still alive."""
    return [
        t for t in threading.enumerate() if t.name.startswith("outcome-router-") and t not in before
    ]


# Item 6: a cancelled arun gives back what it took.


def test_cancelled_aruns_give_back_their_reservations_and_slots(task: str) -> None:
    # Before: 80 cancelled calls of a $0.50 path left $40 reserved for the day.
    entered = 0
    all_in = asyncio.Event()

    async def slow(x: Any) -> str:
        nonlocal entered
        entered += 1
        if entered == 80:
            all_in.set()
        await asyncio.Event().wait()  # never answers: the caller gives up
        return "never"

    clock = FakeClock(start=1_767_225_600.0)
    store = MemoryStore()
    router = Router(
        [Path(slow, price=0.5, max_in_flight=80)],
        lambda out: True,
        task=task,
        store=store,
        clock=clock,
        budget=Budget(daily_cost=100.0),
    )

    async def main() -> None:
        calls = [asyncio.create_task(router.aroute(i)) for i in range(80)]
        await asyncio.wait_for(all_in.wait(), 5.0)
        for call in calls:
            call.cancel()
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)

    asyncio.run(main())
    day = math.floor(clock() / 86_400)
    assert store.spend(f"task:{task}", day).cost == pytest.approx(0.0)
    rows = store.outcomes(task)
    assert len(rows) == 80
    assert {(o.score, o.error_class, o.errored) for o in rows} == {(None, "cancelled", False)}
    assert store.posteriors(task)["slow"].n == 0  # the path is not blamed
    assert router._limiter._in_flight.get("slow", 0) == 0  # every slot was given back
    router.close()


def test_a_run_cancelled_while_waiting_for_a_rate_limit_gives_back_its_price(task: str) -> None:
    clock = FakeClock(start=1_767_225_600.0)
    store = MemoryStore()

    async def never_wake(seconds: float) -> None:
        await asyncio.Event().wait()

    router = Router(
        [Path(quick, price=0.5, rate_limit=RateLimit(per_second=1))],
        lambda out: True,
        task=task,
        store=store,
        clock=clock,
        sleep=never_wake,
        budget=Budget(daily_cost=100.0),
    )

    async def main() -> None:
        await router.aroute(1)  # takes the only token of this second
        waiting = asyncio.create_task(router.aroute(2))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(main())
    day = math.floor(clock() / 86_400)
    assert store.spend(f"task:{task}", day).cost == pytest.approx(0.5)  # the served call only
    assert len(store.outcomes(task)) == 1  # no call was made for the cancelled run
    router.close()


def test_a_stream_cancelled_while_waiting_for_a_rate_limit_gives_back_its_price(
    task: str,
) -> None:
    clock = FakeClock(start=1_767_225_600.0)
    store = MemoryStore()

    async def never_wake(seconds: float) -> None:
        await asyncio.Event().wait()

    async def words(x: Any) -> Any:
        yield "one"

    router = Router(
        [Path(words, price=0.5, rate_limit=RateLimit(per_second=1))],
        lambda out: True,
        task=task,
        store=store,
        clock=clock,
        sleep=never_wake,
        budget=Budget(daily_cost=100.0),
    )

    async def read(x: int) -> list[Any]:
        return [chunk async for chunk in router.arun_stream(x)]

    async def main() -> None:
        assert await read(1) == ["one"]  # takes the only token of this second
        waiting = asyncio.create_task(read(2))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(main())
    day = math.floor(clock() / 86_400)
    assert store.spend(f"task:{task}", day).cost == pytest.approx(0.5)  # the served call only
    assert len(store.outcomes(task)) == 1  # no call was made for the cancelled stream
    router.close()


def test_a_stream_cancelled_before_its_first_chunk_gives_back_its_price(task: str) -> None:
    clock = FakeClock(start=1_767_225_600.0)
    store = MemoryStore()
    opened = asyncio.Event()

    async def silent(x: Any) -> Any:
        opened.set()
        await asyncio.Event().wait()  # never sends a chunk
        yield "never"

    router = Router(
        [Path(silent, price=0.5)],
        lambda out: True,
        task=task,
        store=store,
        clock=clock,
        budget=Budget(daily_cost=100.0),
    )

    async def main() -> None:
        reading = asyncio.create_task(anext(aiter(router.arun_stream(1))))
        await asyncio.wait_for(opened.wait(), 5.0)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    asyncio.run(main())
    day = math.floor(clock() / 86_400)
    assert store.spend(f"task:{task}", day).cost == pytest.approx(0.0)
    rows = store.outcomes(task)
    assert [(o.path, o.score, o.error_class) for o in rows] == [("silent", None, "cancelled")]
    assert store.posteriors(task)["silent"].n == 0  # the path is not blamed
    router.close()


# Item 7: an in-flight slot is held until the worker really ends.


def test_max_in_flight_counts_a_call_until_its_worker_ends(hanging: Hanging, task: str) -> None:
    # Before: the slot was given back at the timeout, while the call still ran, so
    # max_in_flight=2 let 5 run at once.
    router = Router(
        [Path(hanging, timeout=HANG, max_in_flight=2), Path(quick, last_resort=True)],
        lambda out: True,
        task=task,
        store="memory://",
        policy=StaticOrder(),
    )
    results = [router.route(i) for i in range(5)]
    assert hanging.most == 2 and hanging.calls == 2
    assert [r.path for r in results] == ["quick"] * 5
    assert router.abandoned_calls() == {"hangs": 2}
    hanging.release.set()
    deadline = time.monotonic() + 5
    while router.abandoned_calls() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert router.abandoned_calls() == {}
    hanging.release.clear()
    router.route(5)  # the slots are back: the path is called again
    assert hanging.calls == 3
    hanging.release.set()
    router.close()


# Item 8: sync paths that never return cannot exhaust anybody's threads.


def test_a_hanging_sync_path_cannot_exhaust_the_workers(hanging: Hanging, task: str) -> None:
    # Before: sync paths ran on asyncio's default executor (a handful of threads on two
    # cores): 15 of 20 requests failed though the second path answers at once, the
    # application's own asyncio.to_thread stalled, and the threads outlived close().
    before = set(threading.enumerate())
    router = Router(
        [Path(hanging, timeout=HANG), Path(quick, name="quick")],
        lambda out: True,
        task=task,
        store="memory://",
        policy=StaticOrder(),  # the hanging path first, every time it is offered
        deadline=2.0,
    )

    async def main() -> None:
        first = await asyncio.gather(*(router.aroute(i) for i in range(20)))
        assert [r.path for r in first] == ["quick"] * 20
        own = await asyncio.wait_for(asyncio.to_thread(lambda: "mine"), timeout=1.0)
        assert own == "mine"  # the application's default executor is free
        called = hanging.calls
        assert router.abandoned_calls() == {"hangs": called}
        second = await asyncio.gather(*(router.aroute(i) for i in range(20)))
        assert [r.path for r in second] == ["quick"] * 20
        assert [a.path for r in second for a in r.attempts] == ["quick"] * 20  # not offered
        assert hanging.calls == called
        router.close()
        left = [t for t in threading.enumerate() if t not in before]
        mine = [t for t in left if not t.name.startswith("asyncio_")]  # to_thread's are ours
        assert mine and all(t.daemon for t in mine)  # cannot keep the process from exiting
        give_up = time.monotonic() + 5
        while len(new_router_threads(before)) > called and time.monotonic() < give_up:
            await asyncio.sleep(0.01)  # the idle workers leave at once, the hung ones cannot
        assert len(new_router_threads(before)) == called

    try:
        asyncio.run(main())
    finally:
        hanging.release.set()
    for thread in new_router_threads(before):
        thread.join(timeout=5)
    assert new_router_threads(before) == []  # released, they have all left


def test_a_path_stops_being_offered_at_the_abandoned_limit(hanging: Hanging, task: str) -> None:
    router = Router(
        [Path(hanging, timeout=HANG), Path(quick, name="quick")],
        lambda out: True,
        task=task,
        store="memory://",
        policy=StaticOrder(),
    )
    for i in range(10):
        router.route(i)
    assert hanging.calls == 4  # ABANDON_LIMIT: from then on it is not offered
    hanging.release.set()
    deadline = time.monotonic() + 5
    while router.abandoned_calls() and time.monotonic() < deadline:
        time.sleep(0.01)
    router.route(10)  # its calls have returned: offered again
    assert hanging.calls == 5
    router.close()


# Item 9: arun never blocks the event loop.


def test_a_rate_limit_wait_under_arun_leaves_the_event_loop_free(task: str) -> None:
    # Before: the wait was a time.sleep on the loop: every coroutine stalled with it.
    router = Router(
        [Path(quick, rate_limit=RateLimit(per_second=20))],
        lambda out: True,
        task=task,
        store="memory://",
    )
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    async def main() -> None:
        beat = asyncio.create_task(ticker())
        for i in range(20):  # the bucket's burst of 20: the 21st call waits ~0.05 s
            await router.aroute(i)
        before = ticks
        await router.aroute(20)
        during = ticks - before
        beat.cancel()
        assert during >= 3

    asyncio.run(main())


def test_a_blocking_sleep_is_run_off_the_event_loop(task: str) -> None:
    clock = FakeClock()
    where: list[int] = []

    def blocking_sleep(seconds: float) -> None:  # e.g. time.sleep, with a fake clock
        where.append(threading.get_ident())
        clock.advance(seconds)

    class Flaky:
        __name__ = "flaky"

        def __init__(self) -> None:
            self.calls = 0

        def __call__(self, x: Any) -> str:
            self.calls += 1
            if self.calls % 2:
                raise ConnectionError("503")
            return "ok"

    router = Router(
        [Path(Flaky(), rate_limit=RateLimit(per_second=1))],
        lambda out: True,
        task=task,
        store="memory://",
        clock=clock,
        sleep=blocking_sleep,
        retry=Retry(attempts=2, base=0.5),
        seed=1,
    )

    async def main() -> int:
        for i in range(3):
            await router.aroute(i)
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert where and loop_thread not in where  # retry and rate-limit waits, all off the loop
    router.close()


def test_an_async_sleep_is_awaited(task: str) -> None:
    clock = FakeClock()
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    router = Router(
        [Path(quick, rate_limit=RateLimit(per_second=1))],
        lambda out: True,
        task=task,
        store="memory://",
        clock=clock,
        sleep=asleep,
    )

    async def main() -> list[str]:
        return [(await router.aroute(i)).path for i in range(3)]

    assert asyncio.run(main()) == ["quick"] * 3
    assert len(slept) == 2 and all(s > 0 for s in slept)


# Item 16: duplicates and log lines.


def test_a_duplicate_is_not_cancelled_with_the_first_caller(task: str) -> None:
    # Before: the waiting duplicate got the first caller's CancelledError.
    gate = asyncio.Event

    async def main() -> None:
        started, release = gate(), gate()

        async def slow(x: Any) -> str:
            started.set()
            await release.wait()
            return f"done {x}"

        router = Router([slow], lambda out: True, task=task, store="memory://")
        first = asyncio.create_task(router.aroute(1, idempotency_key="order-7"))
        await started.wait()
        second = asyncio.create_task(router.aroute(1, idempotency_key="order-7"))
        await asyncio.sleep(0.01)  # the duplicate is waiting on the key
        first.cancel()
        await asyncio.sleep(0.01)
        release.set()
        result = await asyncio.wait_for(second, 5.0)
        assert result.output == "done 1" and not result.replayed  # it ran the request
        with pytest.raises(asyncio.CancelledError):
            await first
        again = await router.aroute(1, idempotency_key="order-7")
        assert again.replayed and again.request_id == result.request_id

    asyncio.run(main())


def test_a_cancelled_duplicate_does_not_break_the_first_caller(task: str) -> None:
    # Before: cancelling a waiting duplicate cancelled the shared future, and the first
    # caller then failed with InvalidStateError when it stored its result.
    async def main() -> None:
        release = asyncio.Event()

        async def slow(x: Any) -> str:
            await release.wait()
            return "done"

        router = Router([slow], lambda out: True, task=task, store="memory://")
        first = asyncio.create_task(router.aroute(1, idempotency_key="k"))
        await asyncio.sleep(0.01)
        waiter = asyncio.create_task(router.aroute(1, idempotency_key="k"))
        await asyncio.sleep(0.01)
        waiter.cancel()
        release.set()
        assert (await asyncio.wait_for(first, 5.0)).output == "done"
        with pytest.raises(asyncio.CancelledError):
            await waiter

    asyncio.run(main())


class ModesDown(MemoryStore):
    """A store whose path modes cannot be read while ``down`` (the rest works)."""

    down = True

    def path_states(self, task: str) -> dict[str, Any]:
        if self.down:
            raise StoreUnavailableError("store memory:// is unreachable (test)")
        return super().path_states(task)


def test_path_mode_refresh_failures_are_logged_once_per_outage(
    task: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: one warning per refresh, 78 lines in 10 s.
    clock = FakeClock()
    store = ModesDown()
    router = Router([quick], lambda out: True, task=task, store=store, clock=clock)
    with caplog.at_level(logging.WARNING, logger="outcome_router"):
        for i in range(40):  # 10 s of requests, a refresh due every 0.5 s
            router.run(i)
            clock.advance(0.25)
        store.down = False
        for i in range(4):
            router.run(i)
            clock.advance(0.25)
    lines = [r.getMessage() for r in caplog.records if "path modes" in r.getMessage()]
    assert len(lines) == 2, lines
    assert "logged once until it works again" in lines[0]
    assert "works again after 10.0 s and 20 failures" in lines[1]


def test_a_hanging_shadow_call_does_not_hold_close(
    hanging: Hanging, task: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: close() waited for every running shadow call, so one that never returns
    # (no timeout) held it, and its thread kept the process from exiting.
    import router._shadow

    monkeypatch.setattr(router._shadow, "CLOSE_WAIT", 0.05, raising=False)
    before = set(threading.enumerate())
    safety = threading.Timer(10.0, hanging.release.set)  # ends the test on any code
    safety.start()
    try:
        router_ = Router([quick], lambda out: True, task=task, store="memory://")
        router_.add_path(hanging, shadow=1.0)
        router_.run(1)
        give_up = time.monotonic() + 5
        while hanging.calls == 0 and time.monotonic() < give_up:
            time.sleep(0.001)
        assert hanging.calls == 1
        started = time.monotonic()
        router_.close()
        assert time.monotonic() - started < 2.0 and not hanging.release.is_set()
        assert all(t.daemon for t in new_router_threads(before))
    finally:
        safety.cancel()
        hanging.release.set()
