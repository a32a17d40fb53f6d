"""LLMPath.from_model_list: a litellm.Router model_list becomes one path per model group."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from router import ConfigError, FakeClock, Path, RateLimit, Router
from router.llm import AsyncLLMPath, LLMPath
from storage import MemoryStore
from tests.fakes import FakeProvider

MakeRouter = Callable[..., Router]


def model_list(provider: FakeProvider) -> list[dict[str, Any]]:
    base = {"api_base": provider.base_url, "api_key": "t"}
    return [
        {
            "model_name": "fast",
            "litellm_params": {"model": "openai/gpt-4o-mini", **base, "rpm": 2, "tpm": 50_000},
        },
        {"model_name": "smart", "litellm_params": {"model": "openai/gpt-4o", **base}, "rpm": 3},
        {
            "model_name": "smart",
            "litellm_params": {"model": "openai/gpt-4o-2024-08-06", **base, "rpm": 4},
        },
    ]


def test_one_path_per_model_group_with_its_deployments_limits(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    fast, smart = LLMPath.from_model_list(model_list(provider), "Extract: {input}", timeout=5.0)
    assert (fast.name, smart.name) == ("fast", "smart")
    assert fast.rate_limit == RateLimit(per_minute=2, tokens_per_minute=50_000, shared=True)
    assert smart.rate_limit == RateLimit(per_minute=7, shared=True)  # the group's sum
    assert (fast.timeout, smart.timeout) == (5.0, 5.0)
    assert fast.fn("pens").output == "This is a fake reply."
    assert provider.requests[-1].model == "gpt-4o-mini"


def test_a_group_of_several_deployments_is_served_by_litellms_router(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    (_, smart) = LLMPath.from_model_list(model_list(provider), "{input}", timeout=5.0)
    router = make_router([smart])
    for _ in range(7):  # the group's rpm (3 + 4): the fake clock stays in one minute
        assert router.run("pens") == "This is a fake reply."
    models = {r.model for r in provider.requests}
    assert models <= {"gpt-4o", "gpt-4o-2024-08-06"} and len(provider.requests) == 7
    rows = store.outcomes(router.task)
    assert {r.path for r in rows} == {"smart"} and all(r.cost and r.cost > 0 for r in rows)


def test_the_deployments_rpm_is_shared_through_the_store(
    litellm: ModuleType, provider: FakeProvider, clock: FakeClock
) -> None:
    store = MemoryStore()
    routers = [
        Router(
            [
                LLMPath.from_model_list(model_list(provider)[:1], "{input}", timeout=5.0)[0],
                Path(lambda text: "regex", name="regex", last_resort=True),
            ],
            success_fn=lambda out: out is not None,
            task="shared-rpm",
            store=store,
            clock=clock,
        )
        for _ in range(2)
    ]
    served = [router.run("pens") for _ in range(3) for router in routers]
    assert served.count("This is a fake reply.") == 2  # rpm 2 across both routers
    assert provider.hits == 2


def test_async_paths_from_a_model_list(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    paths = AsyncLLMPath.from_model_list(model_list(provider), "{input}", timeout=5.0)
    assert all(path.is_async for path in paths)
    router = make_router(paths)

    async def serve() -> list[Any]:
        return [await router.arun("pens") for _ in range(4)]

    assert asyncio.run(serve()) == ["This is a fake reply."] * 4


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"model_name": "x"}, "list of deployments"),
        ([{"litellm_params": {"model": "openai/x"}}], "needs a model_name"),
        ([{"model_name": "x", "litellm_params": {}}], "needs litellm_params with a model"),
        ([], "empty"),
        ([{"model_name": "x", "litellm_params": {"model": "openai/x", "rpm": 0}}], "positive"),
    ],
)
def test_a_model_list_not_in_litellms_format_is_a_config_error(
    litellm: ModuleType, entries: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        LLMPath.from_model_list(entries, "{input}")
