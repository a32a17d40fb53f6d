"""LLMPath and AsyncLLMPath against the fake provider: usage, cost, faults, structured output."""

from __future__ import annotations

import asyncio
import json
import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel

from router import Budget, ConfigError, Path, Retry, Router, UnpricedPathWarning
from router.llm import AsyncLLMPath, LLMCall, LLMPath
from storage import MemoryStore, Outcome
from tests.fakes import FakeProvider, Fault

MakeRouter = Callable[..., Router]


class Order(BaseModel):
    """The structured output of the order-extraction tests."""

    item: str
    quantity: int


def regex_last_resort(text: str) -> str:
    """A deterministic fallback that always answers."""
    return "regex"


def llm(provider: FakeProvider, model: str = "openai/gpt-4o-mini", **kw: Any) -> Path:
    """An LLMPath pointed at the fake provider."""
    kw.setdefault("timeout", 5.0)
    return LLMPath(model, "Extract: {input}", api_base=provider.base_url, api_key="test", **kw)


def outcomes(store: MemoryStore, router: Router) -> list[Outcome]:
    """The router's outcome rows, in attempt order."""
    return sorted(store.outcomes(router.task), key=lambda o: (o.request_id, o.attempt))


# -- normal completions --------------------------------------------------------------------


def test_a_completion_records_tokens_and_cost_from_the_cost_map(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    router = make_router([llm(provider, temperature=0)])
    assert router.run("two red pens") == "This is a fake reply."
    (row,) = outcomes(store, router)
    # the fake counts words: "Extract: two red pens" -> 4 in, "This is a fake reply." -> 5 out
    expected_in, expected_out = litellm.cost_per_token(
        model="gpt-4o-mini", prompt_tokens=4, completion_tokens=5
    )
    assert (row.path, row.score, row.tokens_in, row.tokens_out) == ("openai/gpt-4o-mini", 1, 4, 5)
    assert row.cost == pytest.approx(expected_in + expected_out) and row.cost > 0
    (request,) = provider.requests
    assert request.messages == [{"role": "user", "content": "Extract: two red pens"}]
    assert request.json["temperature"] == 0  # litellm kwargs pass through
    assert request.headers["x-stainless-read-timeout"] == "5.0"  # the path's timeout too


def test_an_unknown_model_records_no_cost_but_its_tokens(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    router = make_router([llm(provider, "openai/my-local-model")])
    router.run("pens")
    (row,) = outcomes(store, router)
    assert (row.tokens_in, row.tokens_out, row.cost) == (2, 5, None)


def test_an_unknown_models_cost_stays_unknown_in_stats_and_budgets(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    known = llm(provider)
    unknown = llm(provider, "openai/my-local-model")
    with pytest.warns(UnpricedPathWarning, match=r"paths \['openai/my-local-model'\]"):
        router = make_router([known, unknown], budget=Budget(daily_cost=5.0))
    for _ in range(6):
        router.run("pens")
    stats = router.stats()
    n = stats.loc["openai/my-local-model", "n"]
    assert n > 0 and stats.loc["openai/my-local-model", "unpriced"] == n
    assert pd.isna(stats.loc["openai/my-local-model", "cost"])  # unknown, not 0.0 ("free")
    assert stats.loc["openai/gpt-4o-mini", "unpriced"] == 0
    assert stats.loc["openai/gpt-4o-mini", "cost"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # priced by the override: nothing to say
        make_router(
            [llm(provider, "openai/my-local-model", price_per_1k_tokens=(0.1, 0.2))],
            budget=Budget(daily_cost=5.0),
        )


def test_a_price_per_1k_tokens_overrides_the_cost_map(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.usage = (1000, 500)
    router = make_router([llm(provider, "openai/my-local-model", price_per_1k_tokens=(0.5, 2.0))])
    router.run("pens")
    assert outcomes(store, router)[0].cost == pytest.approx(0.5 + 1.0)


def test_a_per_call_price_is_the_cost_of_an_unknown_model(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    router = make_router([llm(provider, "openai/my-local-model", price=0.003)])
    router.run("pens")
    assert outcomes(store, router)[0].cost == 0.003


def test_dict_inputs_fill_the_template_and_functions_make_messages(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    base = {"api_base": provider.base_url, "api_key": "test"}
    by_key = LLMPath("openai/gpt-4o-mini", "{customer} ordered: {text}", **base)
    by_key.fn({"customer": "Ann", "text": "2 pens"})

    def chat(text: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": "Be terse."}, {"role": "user", "content": text}]

    LLMPath("openai/gpt-4o-mini", chat, name="terse", **base).fn("hi")
    assert [r.messages for r in provider.requests] == [
        [{"role": "user", "content": "Ann ordered: 2 pens"}],
        [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}],
    ]


def test_parse_turns_the_reply_into_the_output(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    router = make_router([llm(provider, parse=str.split)])
    assert router.run("pens") == ["This", "is", "a", "fake", "reply."]


def test_router_feedback_is_added_to_the_conversation(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    llm(provider).fn("pens", feedback=ValueError("too long"))
    assert provider.requests[0].messages[-1] == {
        "role": "user",
        "content": "Your last answer failed: too long",
    }


# -- faults ----------------------------------------------------------------------------------

FAULT_CLASSES = {
    Fault.SERVER_ERROR: "transient",
    Fault.MALFORMED: "transient",
    Fault.DROP: "transient",
    Fault.RATE_LIMIT: "rate_limited",
    Fault.BAD_REQUEST: "client_error",
    Fault.AUTH: "auth",
    Fault.CONTEXT_LENGTH: "client_error",
    Fault.CONTENT_POLICY: "client_error",
}


@pytest.mark.parametrize("fault", list(FAULT_CLASSES))
def test_each_fault_fails_over_to_the_last_resort_with_its_error_class(
    litellm: ModuleType,
    provider: FakeProvider,
    make_router: MakeRouter,
    store: MemoryStore,
    fault: Fault,
) -> None:
    provider.mode = fault
    router = make_router([llm(provider), Path(regex_last_resort, last_resort=True)])
    result = router.route("pens")
    assert result.output == "regex" and provider.hits == 1  # no SDK or litellm retries
    first, second = outcomes(store, router)
    assert (first.path, first.error_class, first.errored, first.score) == (
        "openai/gpt-4o-mini",
        FAULT_CLASSES[fault],
        True,
        0.0,
    )
    assert (second.path, second.error_class) == ("regex_last_resort", None)


def test_a_500_is_retried_with_backoff(
    litellm: ModuleType,
    provider: FakeProvider,
    make_router: MakeRouter,
    store: MemoryStore,
    sleeps: list[float],
) -> None:
    provider.script(["500", "ok"])
    router = make_router([llm(provider)], retry=Retry(attempts=2, base=0.5))
    assert router.run("pens") == "This is a fake reply."
    assert [o.error_class for o in outcomes(store, router)] == ["transient", None]
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= 0.5


def test_a_429_is_retried_after_exactly_its_retry_after(
    litellm: ModuleType,
    provider: FakeProvider,
    make_router: MakeRouter,
    store: MemoryStore,
    sleeps: list[float],
) -> None:
    provider.retry_after = 7
    provider.script(["429", "ok"])
    router = make_router([llm(provider)], retry=Retry(attempts=3))
    assert router.run("pens") == "This is a fake reply."
    assert sleeps == [7.0] and provider.hits == 2
    rows = outcomes(store, router)
    assert [o.error_class for o in rows] == ["rate_limited", None] and rows[1].tokens_out == 5


def test_a_slow_reply_times_out_and_falls_back(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    router = make_router(
        [llm(provider, "openai/fake/slow", timeout=0.3), Path(regex_last_resort, last_resort=True)]
    )
    assert router.run("pens") == "regex"
    assert outcomes(store, router)[0].error_class == "timeout"
    assert provider.wait_for_hits(1)  # the fixture releases the slow request afterwards


# -- tools ---------------------------------------------------------------------------------

LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by its id.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}


def test_tools_pass_through_and_the_output_carries_the_tool_calls(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.tool_calls = (("lookup_order", {"order_id": "A-17"}),)
    path = llm(provider, tools=[LOOKUP], tool_choice="auto")
    router = make_router([path], success_fn=lambda message: bool(message.tool_calls))
    message = router.run("Where is order A-17?")
    (call,) = message.tool_calls
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == {"order_id": "A-17"}
    assert message.content is None  # the message itself: append it to the conversation
    sent = provider.requests[0].json
    assert (sent["tools"], sent["tool_choice"]) == ([LOOKUP], "auto")
    (row,) = outcomes(store, router)
    assert row.score == 1.0 and row.tokens_in is not None


def test_an_output_model_with_tools_is_a_config_error(litellm: ModuleType) -> None:
    with pytest.raises(ConfigError, match="with tools= the output is the model's message"):
        LLMPath("openai/gpt-4o-mini", "{input}", output=Order, tools=[LOOKUP])


def test_a_timed_llm_path_is_called_in_the_callers_thread_with_its_timeout(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    path = llm(provider, timeout=4.0)
    seen: list[tuple[str, float]] = []
    complete = path.fn.complete

    def spy(module: Any, request: dict[str, Any]) -> Any:
        seen.append((threading.current_thread().name, request["timeout"]))
        return complete(module, request)

    path.fn.complete = spy
    router = make_router([path], deadline=2.5)
    assert router.run("pens") == "This is a fake reply."
    ((thread, timeout),) = seen
    # litellm's HTTP client enforces the timeout, cut to the run's deadline: no worker.
    assert thread == threading.main_thread().name and 0 < timeout <= 2.5


# -- structured output --------------------------------------------------------------------


def test_a_fenced_json_reply_is_validated_into_the_model(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    provider.reply = '```json\n{"item": "pen", "quantity": 2}\n```'
    router = make_router([llm(provider, output=Order)])
    assert router.run("two pens") == Order(item="pen", quantity=2)
    system = provider.requests[0].messages[0]
    assert system["role"] == "system" and '"quantity"' in system["content"]  # the schema


def replies(*contents: str) -> Callable[[dict[str, Any]], str]:
    """A reply callable that answers ``contents`` in turn."""
    queue = list(contents)
    return lambda request: queue.pop(0)


def test_a_misfit_is_reasked_once_with_the_error(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.reply = replies('{"item": "pen"}', '{"item": "pen", "quantity": 2}')
    provider.usage = (10, 3)
    router = make_router([llm(provider, output=Order)])
    assert router.run("two pens") == Order(item="pen", quantity=2)
    first, second = provider.requests
    assert second.messages[: len(first.messages)] == first.messages
    assistant, feedback = second.messages[len(first.messages) :]
    assert assistant == {"role": "assistant", "content": '{"item": "pen"}'}
    assert feedback["role"] == "user" and "quantity: Field required" in feedback["content"]
    (row,) = outcomes(store, router)
    assert (row.score, row.tokens_in, row.tokens_out) == (1.0, 20, 6)  # both calls counted


def test_a_second_misfit_fails_the_attempt_as_invalid_output(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.mode, provider.usage = Fault.BAD_OUTPUT, (10, 3)
    router = make_router([llm(provider, output=Order), Path(regex_last_resort, last_resort=True)])
    result = router.route("two pens")
    assert result.output == "regex" and provider.hits == 2
    failed = result.attempts[0]
    assert failed.error_class == "invalid_output" and "not JSON" in str(failed.error)
    row = outcomes(store, router)[0]
    assert (row.errored, row.tokens_in, row.tokens_out) == (False, 20, 6)  # it did answer
    assert row.cost is not None and row.cost > 0


def test_reask_false_fails_at_the_first_misfit(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    provider.mode = Fault.BAD_OUTPUT
    router = make_router(
        [llm(provider, output=Order, reask=False), Path(regex_last_resort, last_resort=True)]
    )
    assert router.run("pens") == "regex" and provider.hits == 1


# -- async --------------------------------------------------------------------------------


def test_an_async_path_is_awaited_by_arun(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.reply = replies("no json here", json.dumps({"item": "pen", "quantity": 3}))
    path = AsyncLLMPath(
        "openai/gpt-4o-mini",
        "Extract: {input}",
        output=Order,
        timeout=5.0,
        api_base=provider.base_url,
        api_key="test",
    )
    router = make_router([path])
    assert path.is_async
    assert asyncio.run(router.arun("three pens")) == Order(item="pen", quantity=3)
    assert all(r.headers["x-stainless-async"].startswith("async") for r in provider.requests)
    (row,) = outcomes(store, router)
    assert provider.hits == 2 and row.tokens_in is not None and row.cost is not None


def test_an_async_path_times_out_under_arun(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    path = AsyncLLMPath(
        "openai/fake/slow", "{input}", timeout=0.3, api_base=provider.base_url, api_key="t"
    )
    router = make_router([path, Path(regex_last_resort, last_resort=True)])
    assert asyncio.run(router.arun("pens")) == "regex"
    assert outcomes(store, router)[0].error_class == "timeout"
    assert provider.wait_for_hits(1)


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": "no fields"}, "needs named fields"),
        ({"prompt": "{0}"}, "needs named fields"),
        ({"prompt": "{input"}, "not a valid str.format template"),
        ({"prompt": "{input!x}"}, "conversion !x"),
        ({"prompt": 42}, "template string"),
        ({"model": ""}, "litellm model string"),
        ({"messages": []}, "set by the path"),
        ({"stream": True}, r"call router.run_stream\(x\)"),
        ({"price_per_1k_tokens": (0.1,)}, "pair"),
        ({"price_per_1k_tokens": (0.1, -1.0)}, "pair"),
        ({"reask": "yes"}, "reask"),
        ({"parse": "json"}, "parse"),
        ({"output": dict}, "pydantic model class"),
        ({"timeout": -1.0}, "timeout"),
    ],
)
def test_bad_arguments_are_config_errors(
    litellm: ModuleType, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"model": "openai/gpt-4o-mini", "prompt": "{input}", **kwargs}
    with pytest.raises(ConfigError, match=message):
        LLMPath(**arguments)


def test_a_template_field_the_input_lacks_is_a_clear_error(litellm: ModuleType) -> None:
    path = LLMPath("openai/gpt-4o-mini", "{customer}: {text}")
    with pytest.raises(ConfigError, match="needs 'customer'"):
        path.fn({"text": "pens"})


def test_a_template_the_input_cannot_fill_stops_the_run_instead_of_falling_back(
    litellm: ModuleType, provider: FakeProvider, store: MemoryStore
) -> None:
    # A configuration bug: learning it as the model's failure and serving the fallback
    # would hide it.
    llm = LLMPath("openai/gpt-4o-mini", "{customer}: {text}", api_base=provider.base_url)
    router = Router(
        [llm, Path(lambda x: "regex", name="regex", last_resort=True)], bool, store=store
    )
    with pytest.raises(ConfigError, match="needs 'customer'"):
        router.run({"text": "pens"})
    with pytest.raises(ConfigError, match="cannot format"):
        Router([LLMPath("openai/gpt-4o-mini", "{input:d}")], bool, store=MemoryStore()).run("x")


def test_sdk_retries_are_off_unless_asked_for(litellm: ModuleType) -> None:
    assert isinstance(LLMPath("m/x", "{input}").fn, LLMCall)
    assert LLMPath("m/x", "{input}").fn.litellm_kwargs == {"num_retries": 0, "max_retries": 0}
    assert LLMPath("m/x", "{input}", num_retries=2).fn.litellm_kwargs["num_retries"] == 2


def test_an_async_path_also_serves_sync_runs(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    path = AsyncLLMPath("openai/gpt-4o-mini", "{input}", api_base=provider.base_url, api_key="t")
    router = make_router([path])
    assert router.run("pens") == "This is a fake reply."  # on the router's private loop
    assert outcomes(store, router)[0].tokens_out == 5
    router.close()


# -- spending of attempts that failed after a reply ------------------------------------------


def test_a_reply_the_parser_rejects_still_records_its_tokens_and_cost(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    def strict(text: str) -> str:
        raise ValueError(f"cannot parse {text!r}")

    provider.usage = (10, 3)
    router = make_router([llm(provider, parse=strict), Path(regex_last_resort, last_resort=True)])
    assert router.run("pens") == "regex"
    failed = outcomes(store, router)[0]
    assert (failed.errored, failed.tokens_in, failed.tokens_out) == (True, 10, 3)
    assert failed.cost is not None and failed.cost > 0


def test_a_reask_that_raises_still_records_the_first_reply(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.script([Fault.OK, Fault.SERVER_ERROR])  # a misfit reply, then a 500 on the re-ask
    provider.reply, provider.usage = '{"item": "pen"}', (10, 3)
    router = make_router([llm(provider, output=Order), Path(regex_last_resort, last_resort=True)])
    assert router.run("two pens") == "regex" and provider.hits == 2
    failed = outcomes(store, router)[0]
    assert (failed.error_class, failed.tokens_in, failed.tokens_out) == ("transient", 10, 3)
    assert failed.cost is not None and failed.cost > 0


def test_an_error_raised_before_any_reply_carries_no_spending(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.mode = Fault.SERVER_ERROR
    router = make_router([llm(provider), Path(regex_last_resort, last_resort=True)])
    assert router.run("pens") == "regex"
    failed = outcomes(store, router)[0]
    assert (failed.tokens_in, failed.tokens_out, failed.cost) == (None, None, None)
