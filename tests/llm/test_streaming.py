"""Streaming LLM paths against the fake provider: chunks, usage, faults, validation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

from router import ConfigError, Path, Router, StreamInterrupted
from router.llm import AsyncLLMPath, LLMPath
from storage import MemoryStore, Outcome
from tests.fakes import FakeProvider, Fault

MakeRouter = Callable[..., Router]


class Order(BaseModel):
    item: str
    quantity: int


def llm(provider: FakeProvider, model: str = "openai/gpt-4o-mini", **kw: Any) -> Path:
    kw.setdefault("timeout", 5.0)
    return LLMPath(model, "Extract: {input}", api_base=provider.base_url, api_key="t", **kw)


def rows(store: MemoryStore, router: Router) -> list[Outcome]:
    return sorted(store.outcomes(router.task), key=lambda o: o.attempt)


def test_an_llm_path_streams_its_reply_and_records_the_usage_of_the_last_chunk(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    router = make_router([llm(provider)])
    stream = router.run_stream("two pens")
    assert list(stream) == ["This ", "is ", "a ", "fake ", "reply."]
    assert stream.output == "This is a fake reply."
    (row,) = rows(store, router)
    assert (row.score, row.tokens_in, row.tokens_out) == (1.0, 3, 5)
    assert row.cost is not None and row.cost > 0
    sent = provider.requests[0].json
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}


def test_a_500_before_the_first_chunk_falls_back_to_the_next_model(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    router = make_router(
        [llm(provider, "openai/fake/500"), Path(lambda t: "regex", name="regex", last_resort=True)]
    )
    assert list(router.run_stream("pens")) == ["regex"]
    assert [(r.path, r.error_class) for r in rows(store, router)] == [
        ("openai/fake/500", "transient"),
        ("regex", None),
    ]


def test_a_reply_cut_mid_stream_is_recorded_and_raised(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.mode = Fault.CUT
    fallback = Path(lambda t: "regex", name="regex", last_resort=True)
    router = make_router([llm(provider), fallback])
    got: list[str] = []
    with pytest.raises(StreamInterrupted) as caught:
        got.extend(router.run_stream("pens"))
    assert got == ["This ", "is "] and caught.value.path == "openai/gpt-4o-mini"
    (row,) = rows(store, router)
    assert (row.errored, row.error_class) == (True, "transient")


def test_a_streamed_structured_output_is_validated_at_the_end(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.reply = '{"item": "pen", "quantity": 2}'
    router = make_router([llm(provider, output=Order)])
    stream = router.run_stream("two pens")
    assert "".join(stream) == provider.reply
    assert stream.output == Order(item="pen", quantity=2)
    provider.mode = Fault.BAD_OUTPUT
    misfit = router.run_stream("two pens")
    list(misfit)
    assert misfit.result.score == 0.0 and provider.hits == 2  # no re-ask: it was sent
    assert rows(store, router)[-1].error_class == "invalid_output"


def test_an_async_llm_path_streams_under_arun_stream(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    path = AsyncLLMPath(
        "openai/gpt-4o-mini", "{input}", api_base=provider.base_url, api_key="t", timeout=5.0
    )
    router = make_router([path])

    async def read() -> list[str]:
        return [chunk async for chunk in router.arun_stream("pens")]

    assert "".join(asyncio.run(read())) == "This is a fake reply."
    assert provider.requests[0].headers["x-stainless-async"].startswith("async")


def test_stream_true_says_to_call_run_stream(litellm: ModuleType) -> None:
    with pytest.raises(ConfigError, match=r"call router.run_stream\(x\)"):
        LLMPath("openai/gpt-4o-mini", "{input}", stream=True)
