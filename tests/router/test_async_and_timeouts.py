"""Async use, sync/async path mixing, and timeouts (real and simulated)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from router import FakeClock, Path, PathTimeout, Router


async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def sync_triple(x: int) -> int:
    return 3 * x


def test_arun_awaits_async_paths(task: str) -> None:
    router = Router([async_double], lambda out: True, task=task, store="memory://")
    assert asyncio.run(router.arun(4)) == 8


def test_arun_runs_sync_paths_in_a_worker_thread(task: str) -> None:
    seen: list[str] = []

    def where(x: Any) -> str:
        seen.append(threading.current_thread().name)
        return "ok"

    router = Router([where], lambda out: True, task=task, store="memory://")
    result = asyncio.run(router.aroute(1))
    assert result.output == "ok"
    assert seen and seen[0] != threading.main_thread().name


def test_a_sync_path_raising_stop_iteration_falls_back_under_arun(task: str) -> None:
    # next() on an empty iterator: asyncio cannot put StopIteration on a future, so a
    # bare asyncio.to_thread call would never finish.
    def first_match(x: int) -> int:
        return next(v for v in () if v)

    router = Router(
        [first_match, sync_triple], lambda out: True, task=task, store="memory://", seed=1
    )

    async def bounded() -> list[Any]:
        return [await asyncio.wait_for(router.aroute(2), timeout=5.0) for _ in range(10)]

    results = asyncio.run(bounded())
    assert [r.output for r in results] == [6] * 10
    tried = [a for r in results for a in r.attempts if a.path == "first_match"]
    assert tried and {a.error_class for a in tried} == {"error"}


def test_run_calls_async_paths_from_sync_code(task: str) -> None:
    router = Router([async_double], lambda out: True, task=task, store="memory://")
    assert router.run(5) == 10
    router.close()


def test_async_fallback_and_learning(task: str) -> None:
    async def broken(x: int) -> int:
        raise ConnectionResetError("reset")

    router = Router([broken, sync_triple], lambda out: True, task=task, store="memory://", seed=3)

    async def many() -> list[int]:
        return [await router.arun(i) for i in range(30)]

    assert asyncio.run(many()) == [3 * i for i in range(30)]
    assert router.stats().loc["broken", "alpha"] == 1.0


def test_concurrent_async_runs_lose_no_outcome(task: str) -> None:
    router = Router([async_double, sync_triple], lambda out: True, task=task, store="memory://")

    async def burst() -> list[Any]:
        return await asyncio.gather(*(router.aroute(i) for i in range(100)))

    results = asyncio.run(burst())
    assert len({r.request_id for r in results}) == 100
    assert router.stats()["n"].sum() == 100


def test_sync_path_past_its_timeout_fails_fast_and_falls_back(task: str) -> None:
    release = threading.Event()

    def hangs(x: Any) -> str:
        release.wait(5)  # the test releases it; the router must not wait for it
        return "late"

    router = Router(
        [Path(hangs, timeout=0.01), Path(sync_triple, name="backup")],
        lambda out: True,
        task=task,
        store="memory://",
        seed=0,
    )
    try:
        results = [router.route(i) for i in range(6)]
    finally:
        release.set()
    timed_out = [a for r in results for a in r.attempts if a.path == "hangs"]
    assert timed_out, "seed 0 samples the hanging path first at least once"
    assert all(a.error_class == "timeout" and isinstance(a.error, PathTimeout) for a in timed_out)
    assert all(r.path == "backup" for r in results)
    router.close()


def test_async_path_past_its_timeout(task: str) -> None:
    async def hangs(x: Any) -> str:
        await asyncio.Event().wait()
        return "never"

    router = Router(
        [Path(hangs, timeout=0.01)], lambda out: True, task=task, store="memory://", fallback=False
    )
    from router import AllPathsFailed

    with pytest.raises(AllPathsFailed) as info:
        asyncio.run(router.arun(1))
    assert info.value.attempts[0].error_class == "timeout"
    with pytest.raises(AllPathsFailed):
        router.run(1)  # the sync entry point enforces it too
    router.close()


def test_simulated_latency_past_the_timeout_counts_as_a_timeout(task: str) -> None:
    clock = FakeClock()

    def slow(x: Any) -> str:
        clock.advance(3.0)  # "takes" 3 s of simulated time
        return "late"

    router = Router(
        [Path(slow, timeout=2.0), Path(sync_triple, name="fast")],
        lambda out: True,
        task=task,
        store="memory://",
        clock=clock,
        seed=0,
    )
    results = [router.route(i) for i in range(10)]
    slow_attempts = [a for r in results for a in r.attempts if a.path == "slow"]
    assert slow_attempts and all(a.error_class == "timeout" for a in slow_attempts)
    assert all(a.latency_ms == pytest.approx(3000.0) for a in slow_attempts)
    assert all(r.path == "fast" for r in results)


def test_callable_objects_and_async_callable_objects_are_paths(task: str) -> None:
    class Model:
        def __call__(self, x: int) -> int:
            return x + 1

    class AsyncModel:
        async def __call__(self, x: int) -> int:
            return x + 2

    assert Path(Model()).name == "Model" and not Path(Model()).is_async
    assert Path(AsyncModel()).is_async
    router = Router([AsyncModel()], lambda out: True, task=task, store="memory://")
    assert router.run(1) == 3
    router.close()


# An async success_fn (an async model judge, say) is awaited, sync or async.


async def graded(output: int) -> float:
    await asyncio.sleep(0)
    return 0.25 if output % 2 else 1.0


def test_async_success_fn_is_awaited_under_arun(task: str) -> None:
    router = Router([sync_triple], graded, task=task, store="memory://")

    async def both() -> list[float]:
        return [(await router.aroute(i)).score for i in (1, 2)]

    assert asyncio.run(both()) == [0.25, 1.0]
    assert router.stats().loc["sync_triple", "alpha"] == 1.0 + 0.25 + 1.0
    router.close()


def test_async_success_fn_is_awaited_under_run_even_inside_an_event_loop(task: str) -> None:
    router = Router([async_double], graded, task=task, store="memory://")
    assert router.route(3).score == 1.0  # 6 is even
    called_inside: list[float] = []

    async def from_async_code() -> None:  # run() from a coroutine: no nested-loop error
        called_inside.append(router.route(2).score)

    asyncio.run(from_async_code())
    assert called_inside == [1.0]
    assert router.stats().loc["async_double", "n"] == 2
    router.close()


@pytest.mark.parametrize("arun", [False, True])
def test_a_failing_async_success_fn_stops_the_run_with_a_scoring_error(
    task: str, arun: bool
) -> None:
    from router import ScoringError

    async def broken_judge(output: int) -> float:
        raise ValueError("judge unavailable")

    from storage import MemoryStore

    store = MemoryStore()
    router = Router([sync_triple], broken_judge, task=task, store=store)
    with pytest.raises(ScoringError, match="judge unavailable"):
        asyncio.run(router.arun(1)) if arun else router.run(1)
    rows = store.outcomes(task)
    assert [(o.score, o.error_class) for o in rows] == [(None, "scoring_error")]
    router.close()


@pytest.mark.parametrize("arun", [False, True])
def test_an_async_success_fn_returning_a_bad_score_is_refused(task: str, arun: bool) -> None:
    from router import InvalidScoreError

    async def too_high(output: int) -> float:
        return 7.0

    router = Router([sync_triple], too_high, task=task, store="memory://")
    with pytest.raises(InvalidScoreError):
        asyncio.run(router.arun(1)) if arun else router.run(1)
    assert router.stats().loc["sync_triple", "n"] == 0
    router.close()


class Loading:
    """A path that loads what it needs in ``prepare()`` (on the fake clock: 5 s)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.prepared = 0

    def prepare(self) -> None:
        self.clock.advance(5.0)
        self.prepared += 1

    async def aprepare(self) -> None:
        self.prepare()

    def __call__(self, x: int) -> int:
        assert self.prepared, "called before prepare()"
        self.clock.advance(0.1)
        return x


@pytest.mark.parametrize("mode", ["run", "arun"])
def test_prepare_runs_before_each_call_outside_its_timeout_and_latency(
    task: str, clock: FakeClock, mode: str
) -> None:
    loading = Loading(clock)
    router = Router(
        [Path(loading, name="loading", timeout=1.0)],
        lambda out: True,
        task=task,
        store="memory://",
        clock=clock,
    )
    result = router.route(1) if mode == "run" else asyncio.run(router.aroute(1))
    assert (result.path, result.attempts[0].error_class) == ("loading", None)
    assert result.attempts[0].latency_ms == pytest.approx(100.0)  # the call, not the load
    assert loading.prepared == 1


def test_a_prepare_that_raises_fails_the_attempt_like_the_call_would(
    task: str, clock: FakeClock
) -> None:
    class Broken:
        def prepare(self) -> None:
            raise ConnectionError("cannot load")

        def __call__(self, x: int) -> int:
            raise AssertionError("not called without a successful prepare()")

    router = Router(
        [Path(Broken(), name="broken"), sync_triple],
        lambda out: True,
        task=task,
        store="memory://",
        clock=clock,
        seed=0,
    )
    results = [router.route(1) for _ in range(5)]
    assert {r.output for r in results} == {3}
    tried = [a for r in results for a in r.attempts if a.path == "broken"]
    assert tried and {a.error_class for a in tried} == {"transient"}
