"""Router.run_stream / arun_stream: chunks from the chosen path, scored at the end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from router import FakeClock, Path, Router, StreamInterrupted
from storage import MemoryStore


def words(text: str) -> Iterator[str]:
    yield from (w + " " for w in text.split())


def broken_before(text: str) -> Iterator[str]:
    raise ConnectionError("503 Service Unavailable")
    yield ""  # pragma: no cover - makes this a generator


def broken_after_two(text: str) -> Iterator[str]:
    yield "one "
    yield "two "
    raise ConnectionError("connection reset mid-stream")


async def async_words(text: str) -> AsyncIterator[str]:
    for w in text.split():
        await asyncio.sleep(0)
        yield w + " "


def whole(text: str) -> str:
    """A last resort that does not stream: one chunk, its whole output."""
    return text.upper()


def router_for(paths: list[Any], store: MemoryStore, **kw: Any) -> Router:
    return Router(paths, bool, task="stream", store=store, seed=0, **kw)


def test_chunks_come_as_the_path_yields_them_and_the_whole_is_scored() -> None:
    store = MemoryStore()
    scored: list[Any] = []
    router = Router([words], lambda out: scored.append(out) or True, task="stream", store=store)
    stream = router.run_stream("a b c")
    assert stream.result is None
    assert list(stream) == ["a ", "b ", "c "]
    assert scored == ["a b c "]  # once, on the assembled output, at the end
    assert (stream.output, stream.path, stream.result.score) == ("a b c ", "words", 1.0)
    (row,) = store.outcomes("stream")
    assert (row.path, row.score, row.request_id) == ("words", 1.0, stream.request_id)
    assert store.posteriors("stream")["words"].n == 1


def test_a_path_that_fails_before_its_first_chunk_falls_back() -> None:
    store = MemoryStore()
    router = router_for([Path(broken_before), Path(words, last_resort=True)], store)
    stream = router.run_stream("x y")
    assert list(stream) == ["x ", "y "]
    first, second = sorted(store.outcomes("stream"), key=lambda o: o.attempt)
    assert (first.path, first.error_class, first.errored) == ("broken_before", "transient", True)
    assert (second.path, second.score) == ("words", 1.0)


def test_a_path_that_fails_mid_stream_is_recorded_and_raises_without_fallback() -> None:
    store = MemoryStore()
    router = router_for([Path(broken_after_two), Path(whole, last_resort=True)], store)
    stream = router.run_stream("x")
    got = []
    with pytest.raises(StreamInterrupted, match="after streaming 2 chunk") as caught:
        got.extend(stream)
    assert got == ["one ", "two "] and caught.value.chunks == got
    assert isinstance(caught.value.__cause__, ConnectionError)
    (row,) = store.outcomes("stream")  # no fallback: what was sent cannot be taken back
    assert (row.path, row.errored, row.error_class) == ("broken_after_two", True, "transient")


def test_a_path_that_does_not_stream_serves_one_chunk() -> None:
    router = router_for([whole], MemoryStore())
    assert list(router.run_stream("abc")) == ["ABC"]


def test_a_first_chunk_later_than_the_timeout_falls_back(clock: FakeClock) -> None:
    def slow_start(text: str) -> Iterator[str]:
        clock.advance(5.0)
        yield "late"

    store = MemoryStore()
    router = router_for(
        [Path(slow_start, timeout=1.0), Path(words, last_resort=True)], store, clock=clock
    )
    assert list(router.run_stream("on time")) == ["on ", "time "]
    rows = sorted(store.outcomes("stream"), key=lambda o: o.attempt)
    assert [(r.path, r.error_class) for r in rows] == [("slow_start", "timeout"), ("words", None)]


def test_a_long_stream_is_not_cut_by_the_timeout_once_it_started(clock: FakeClock) -> None:
    def steady(text: str) -> Iterator[str]:
        for word in text.split():
            clock.advance(0.6)  # 0.6 s per chunk, 3 s in all, timeout 1 s
            yield word

    router = router_for([Path(steady, timeout=1.0)], MemoryStore(), clock=clock)
    stream = router.run_stream("a b c d e")
    assert list(stream) == list("abcde") and stream.result.score == 1.0


def test_stopping_early_records_an_unscored_attempt_and_learns_nothing() -> None:
    store = MemoryStore()
    router = router_for([words], store)
    stream = router.run_stream("a b c")
    assert next(iter(stream)) == "a "
    stream.close()
    (row,) = store.outcomes("stream")
    assert (row.score, row.error_class, row.metadata["streamed_chunks"]) == (None, "abandoned", 1)
    assert store.posteriors("stream")["words"].n == 0


def test_arun_stream_streams_async_and_sync_paths() -> None:
    store = MemoryStore()
    router = router_for([Path(broken_before), Path(async_words, last_resort=True)], store)

    async def read(stream: Any) -> list[str]:
        return [chunk async for chunk in stream]

    assert asyncio.run(read(router.arun_stream("p q"))) == ["p ", "q "]
    sync_router = router_for([words], store)
    assert asyncio.run(read(sync_router.arun_stream("r s"))) == ["r ", "s "]


def test_run_stream_reads_an_async_path_on_the_routers_own_loop() -> None:
    router = router_for([async_words], MemoryStore())
    stream = router.run_stream("u v")
    assert list(stream) == ["u ", "v "] and stream.result.path == "async_words"


def test_arun_stream_raises_stream_interrupted_mid_stream() -> None:
    async def cut(text: str) -> AsyncIterator[str]:
        yield "half"
        raise ConnectionError("reset")

    router = router_for([cut], MemoryStore())

    async def read() -> list[str]:
        return [chunk async for chunk in router.arun_stream("x")]

    with pytest.raises(StreamInterrupted):
        asyncio.run(read())
