"""The fake OpenAI-compatible provider, over plain HTTP and through litellm (sync and async)."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tests.fakes import FakeProvider, Fault
from tests.fakes.fixtures import external_network_blocked

MESSAGES = [{"role": "user", "content": "hello there friend"}]


def post(
    server: FakeProvider,
    payload: Any,
    path: str = "/v1/chat/completions",
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], bytes]:
    """POST JSON (or raw bytes) with http.client; the status, lower-cased headers and body."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Authorization": "Bearer raw-key"}
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def chat(model: str = "gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    """A chat completion request body."""
    return {"model": model, "messages": MESSAGES, **extra}


def error_of(body: bytes) -> dict[str, Any]:
    """The ``error`` object of an OpenAI error body."""
    parsed = json.loads(body)
    assert set(parsed) == {"error"}
    assert set(parsed["error"]) == {"message", "type", "param", "code"}
    return dict(parsed["error"])


# -- plain HTTP ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/chat/completions"])
def test_completion_has_the_openai_shape(provider: FakeProvider, path: str) -> None:
    status, headers, body = post(provider, chat(), path)
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "This is a fake reply."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }


def test_models_are_listed(provider: FakeProvider) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", provider.port, timeout=5)
    conn.request("GET", "/v1/models")
    listing = json.loads(conn.getresponse().read())
    conn.close()
    ids = [m["id"] for m in listing["data"]]
    assert listing["object"] == "list" and ids[:2] == ["gpt-4o-mini", "gpt-4o"]
    assert "fake/429" in ids and provider.hits == 0  # listings do not count as completions


def test_reply_can_be_a_callable_and_usage_fixed(provider: FakeProvider) -> None:
    provider.reply = lambda request: request["messages"][-1]["content"].upper()
    provider.usage = (100, 20)
    body = json.loads(post(provider, chat())[2])
    assert body["choices"][0]["message"]["content"] == "HELLO THERE FRIEND"
    assert body["usage"] == {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}


def test_a_failing_reply_callable_is_a_500_and_is_reported(provider: FakeProvider) -> None:
    provider.reply = lambda request: request["missing"]
    status, _, body = post(provider, chat())
    assert status == 500 and "KeyError" in error_of(body)["message"]
    assert [type(e) for e in provider.errors] == [KeyError]
    provider.errors.clear()  # else the fixture fails the test, as it should


# (status, error type, error code) per error fault, as OpenAI sends them.
ERROR_FAULTS = {
    Fault.SERVER_ERROR: (500, "server_error", None),
    Fault.RATE_LIMIT: (429, "requests", "rate_limit_exceeded"),
    Fault.BAD_REQUEST: (400, "invalid_request_error", None),
    Fault.AUTH: (401, "invalid_request_error", "invalid_api_key"),
    Fault.CONTEXT_LENGTH: (400, "invalid_request_error", "context_length_exceeded"),
    Fault.CONTENT_POLICY: (400, "invalid_request_error", "content_policy_violation"),
}


@pytest.mark.parametrize("fault", list(ERROR_FAULTS))
def test_error_faults_send_openai_error_bodies(provider: FakeProvider, fault: Fault) -> None:
    provider.mode = fault
    status, _, body = post(provider, chat())
    error = error_of(body)
    assert (status, error["type"], error["code"]) == ERROR_FAULTS[fault]
    assert provider.requests[-1].fault is fault


def test_rate_limit_sends_retry_after(provider: FakeProvider) -> None:
    provider.retry_after = 2.5
    status, headers, _ = post(provider, chat("fake/429"))
    assert status == 429 and headers["retry-after"] == "2.5"


def test_malformed_is_a_200_with_invalid_json(provider: FakeProvider) -> None:
    provider.mode = "malformed"
    status, _, body = post(provider, chat())
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_drop_closes_without_a_response(provider: FakeProvider) -> None:
    provider.mode = Fault.DROP
    with pytest.raises(http.client.RemoteDisconnected):
        post(provider, chat())
    assert provider.hits == 1


def test_slow_outlasts_the_client_timeout(provider: FakeProvider) -> None:
    provider.mode = Fault.SLOW
    with pytest.raises(TimeoutError):
        post(provider, chat(), timeout=0.2)
    assert provider.wait_for_hits(1)  # the fixture releases the waiting request at teardown


def test_slow_answers_once_its_delay_passed(provider: FakeProvider) -> None:
    provider.slow_seconds = 0.05
    status, _, body = post(provider, chat("fake/slow"))
    assert status == 200 and json.loads(body)["choices"][0]["message"]["content"]


def test_close_releases_a_slow_request_at_once() -> None:
    server = FakeProvider(mode=Fault.SLOW, slow_seconds=60).start()
    with pytest.raises(TimeoutError):
        post(server, chat(), timeout=0.1)
    started = time.perf_counter()
    server.close()
    assert time.perf_counter() - started < 2 and not server.errors


def test_bad_output_is_a_200_with_unusable_content(provider: FakeProvider) -> None:
    provider.bad_output = '{"answer": "no score"}'
    body = json.loads(post(provider, chat("fake/bad-output"))[2])
    assert body["choices"][0]["message"]["content"] == '{"answer": "no score"}'


def events(body: bytes) -> list[Any]:
    """The JSON payloads of a server-sent events body (``[DONE]`` as the string)."""
    found = []
    for line in body.decode().splitlines():
        if line.startswith("data: "):
            data = line.removeprefix("data: ")
            found.append(data if data == "[DONE]" else json.loads(data))
    return found


def test_stream_sends_a_word_a_chunk_then_usage_and_done(provider: FakeProvider) -> None:
    status, headers, body = post(
        provider, chat(stream=True, stream_options={"include_usage": True})
    )
    assert status == 200 and headers["content-type"] == "text/event-stream"
    *chunks, usage, done = events(body)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "This is a fake reply." and done == "[DONE]"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert usage["usage"]["completion_tokens"] == 5 and usage["choices"] == []


def test_a_cut_stream_stops_after_two_words(provider: FakeProvider) -> None:
    provider.mode = Fault.CUT
    status, _, body = post(provider, chat(stream=True))
    chunks = events(body)
    assert status == 200 and "[DONE]" not in chunks
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "This is "


def test_a_streamed_request_still_gets_error_faults(provider: FakeProvider) -> None:
    provider.mode = Fault.RATE_LIMIT
    status, _, body = post(provider, chat(stream=True))
    assert status == 429 and error_of(body)["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("payload", "path", "status"),
    [(b"not json", "/v1/chat/completions", 400), (chat(), "/v1/embeddings", 404)],
)
def test_bad_requests_to_the_fake(
    provider: FakeProvider, payload: Any, path: str, status: int
) -> None:
    assert post(provider, payload, path)[0] == status


def test_unknown_fake_model_is_a_400(provider: FakeProvider) -> None:
    status, _, body = post(provider, chat("fake/fail-500"))
    assert status == 400 and error_of(body)["code"] == "unknown_fault"


def test_script_then_model_name_then_mode(provider: FakeProvider) -> None:
    provider.mode = "500"
    provider.script(["429", "ok"])
    provider.script(["401"], model="gpt-4o")
    statuses = [
        post(provider, chat(model))[0]
        for model in ["gpt-4o-mini", "gpt-4o", "gpt-4o", "fake/ok", "fake/400", "gpt-4o-mini"]
    ]
    # gpt-4o's own script first, then the shared script, then names, then the mode
    assert statuses == [429, 401, 200, 200, 400, 500]


def test_requests_are_recorded(provider: FakeProvider) -> None:
    post(provider, chat(temperature=0))
    (request,) = provider.requests
    assert (request.method, request.path, request.model) == (
        "POST",
        "/v1/chat/completions",
        "gpt-4o-mini",
    )
    assert request.messages == MESSAGES and request.json["temperature"] == 0
    assert request.headers["authorization"] == "Bearer raw-key"


# -- through litellm ----------------------------------------------------------------------

OFF = {"num_retries": 0, "max_retries": 0}  # one call, one request: no SDK or litellm retries

# The litellm exception each fault surfaces as (all subclasses of openai's errors).
LITELLM_ERRORS = {
    Fault.SERVER_ERROR: "InternalServerError",
    Fault.RATE_LIMIT: "RateLimitError",
    Fault.SLOW: "Timeout",
    Fault.MALFORMED: "InternalServerError",
    Fault.DROP: "InternalServerError",
    Fault.BAD_REQUEST: "BadRequestError",
    Fault.AUTH: "AuthenticationError",
    Fault.CONTEXT_LENGTH: "ContextWindowExceededError",
    # litellm 1.110 no longer sees OpenAI's content_policy_violation code in the message
    # it matches on (it looks for "the safety system"; OpenAI says "our"): a BadRequestError.
    Fault.CONTENT_POLICY: "BadRequestError",
}


def timeout_for(fault: Fault) -> float:
    """A short client timeout for SLOW, a roomy one otherwise (a busy CI box is slow)."""
    return 0.3 if fault is Fault.SLOW else 5.0


def complete(litellm: ModuleType, server: FakeProvider, **extra: Any) -> Any:
    """``litellm.completion`` against the fake provider."""
    kwargs = {"model": "openai/gpt-4o-mini", "messages": MESSAGES, "timeout": 5, **OFF}
    return litellm.completion(api_base=server.base_url, api_key="test-key", **{**kwargs, **extra})


async def acomplete(litellm: ModuleType, server: FakeProvider, **extra: Any) -> Any:
    """``litellm.acompletion`` against the fake provider."""
    kwargs = {"model": "openai/gpt-4o-mini", "messages": MESSAGES, "timeout": 5, **OFF}
    return await litellm.acompletion(
        api_base=server.base_url, api_key="test-key", **{**kwargs, **extra}
    )


def test_litellm_completion(litellm: ModuleType, provider: FakeProvider) -> None:
    response = complete(litellm, provider, timeout=7)
    assert response.choices[0].message.content == "This is a fake reply."
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (3, 5)
    # gpt-4o-mini's price comes from the bundled cost map, offline
    cost = litellm.completion_cost(completion_response=response)
    assert cost > 0 and response._hidden_params["response_cost"] == pytest.approx(cost)
    (request,) = provider.requests
    assert request.model == "gpt-4o-mini" and request.messages == MESSAGES
    assert request.headers["authorization"] == "Bearer test-key"
    assert request.headers["x-stainless-read-timeout"] == "7.0"


@pytest.mark.parametrize("fault", list(LITELLM_ERRORS))
def test_litellm_raises_per_fault(
    litellm: ModuleType, provider: FakeProvider, fault: Fault
) -> None:
    provider.mode = fault
    with pytest.raises(getattr(litellm, LITELLM_ERRORS[fault])) as caught:
        complete(litellm, provider, timeout=timeout_for(fault))
    assert type(caught.value).__name__ == LITELLM_ERRORS[fault]
    assert provider.wait_for_hits(1) and provider.hits == 1  # SLOW: the client may be first


@pytest.mark.parametrize("fault", list(LITELLM_ERRORS))
def test_litellm_async_raises_per_fault(
    litellm: ModuleType, provider: FakeProvider, fault: Fault
) -> None:
    provider.mode = fault
    with pytest.raises(getattr(litellm, LITELLM_ERRORS[fault])) as caught:
        asyncio.run(acomplete(litellm, provider, timeout=timeout_for(fault)))
    assert type(caught.value).__name__ == LITELLM_ERRORS[fault]
    assert provider.wait_for_hits(1) and provider.hits == 1  # SLOW: the client may be first


def test_litellm_async_completion(litellm: ModuleType, provider: FakeProvider) -> None:
    provider.reply = lambda request: f"echo: {request['messages'][0]['content']}"
    response = asyncio.run(acomplete(litellm, provider))
    assert response.choices[0].message.content == "echo: hello there friend"
    assert response.usage.total_tokens == 7 and provider.hits == 1
    assert provider.requests[0].headers["x-stainless-async"].startswith("async")


def test_litellm_model_name_picks_the_fault(litellm: ModuleType, provider: FakeProvider) -> None:
    with pytest.raises(litellm.RateLimitError):
        complete(litellm, provider, model="openai/fake/429")
    assert provider.requests[0].model == "fake/429"  # litellm strips the "openai/" prefix


def test_litellm_retry_after_is_on_the_response_headers(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    provider.mode, provider.retry_after = Fault.RATE_LIMIT, 7
    with pytest.raises(litellm.RateLimitError) as caught:
        complete(litellm, provider)
    assert caught.value.litellm_response_headers["retry-after"] == "7"
    assert caught.value.response.headers["retry-after"] == "7"  # the provider's own response


@pytest.mark.parametrize(
    ("retries", "hits"),
    [
        ({}, 3),  # openai SDK default: max_retries=2
        ({"max_retries": 0}, 1),
        ({"num_retries": 0}, 1),
        ({"max_retries": 1}, 2),
        ({"num_retries": 1}, 3),  # SDK max_retries=1, then litellm retries the call once
        ({"num_retries": 1, "max_retries": 0}, 3),  # num_retries overrides max_retries
    ],
    ids=str,
)
def test_litellm_retry_knobs(
    litellm: ModuleType, provider: FakeProvider, retries: dict[str, int], hits: int
) -> None:
    provider.mode, provider.retry_after = Fault.RATE_LIMIT, 0.01  # the SDK honours Retry-After
    kwargs = {"model": "openai/gpt-4o-mini", "messages": MESSAGES, "timeout": 5, **retries}
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(api_base=provider.base_url, api_key="test-key", **kwargs)
    assert provider.hits == hits


def test_litellm_recovers_through_a_script(litellm: ModuleType, provider: FakeProvider) -> None:
    provider.script(["500", "429"])
    provider.retry_after = 0.01
    for expected in (litellm.InternalServerError, litellm.RateLimitError):
        with pytest.raises(expected):
            complete(litellm, provider)
    assert complete(litellm, provider).choices[0].message.content and provider.hits == 3


class Answer(BaseModel):
    """A structured output the client expects."""

    answer: str
    score: int


@pytest.mark.parametrize("content", ["Sorry, I cannot answer in JSON.", '{"answer": "x"}'])
def test_litellm_bad_output_fails_the_output_model(
    litellm: ModuleType, provider: FakeProvider, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    provider.mode, provider.bad_output = Fault.BAD_OUTPUT, content
    response = complete(litellm, provider, response_format=Answer)
    assert provider.requests[0].json["response_format"]["type"] == "json_schema"
    with pytest.raises(ValidationError):
        Answer.model_validate_json(response.choices[0].message.content)
    monkeypatch.setattr(litellm, "enable_json_schema_validation", True)
    with pytest.raises(litellm.JSONSchemaValidationError):
        complete(litellm, provider, response_format=Answer)


# -- the network guard --------------------------------------------------------------------


def test_the_guard_refuses_all_but_loopback() -> None:
    with external_network_blocked() as attempts:
        socket.getaddrinfo("127.0.0.1", 80)
        socket.getaddrinfo("localhost", 80)
        with pytest.raises(ConnectionRefusedError, match=r"only 127\.0\.0\.1 is allowed"):
            socket.getaddrinfo("api.openai.com", 443)
        with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("203.0.113.7", 443))
    assert attempts == ["socket.getaddrinfo 'api.openai.com'", "socket.connect '203.0.113.7'"]
    socket.getaddrinfo("127.0.0.1", 80)  # and nothing is refused once the guard is off


def test_litellm_cannot_reach_a_real_provider(litellm: ModuleType) -> None:
    with external_network_blocked() as attempts, pytest.raises(litellm.InternalServerError):
        litellm.completion(
            model="openai/gpt-4o-mini", api_key="sk-not-real", messages=MESSAGES, **OFF
        )
    assert attempts == ["socket.getaddrinfo 'api.openai.com'"]
