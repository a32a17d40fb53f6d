"""Every litellm exception lands in the right ErrorClass (router/_taxonomy.py's defaults)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from router import ErrorClass
from router._taxonomy import default_classify, retry_after_of
from tests.fakes import FakeProvider, Fault

# fault -> (what the pinned litellm (1.110) raises for it, our class)
FROM_THE_SERVER = {
    Fault.SERVER_ERROR: ("InternalServerError", ErrorClass.TRANSIENT),
    Fault.MALFORMED: ("InternalServerError", ErrorClass.TRANSIENT),
    Fault.DROP: ("InternalServerError", ErrorClass.TRANSIENT),
    Fault.RATE_LIMIT: ("RateLimitError", ErrorClass.RATE_LIMITED),
    Fault.SLOW: ("Timeout", ErrorClass.TIMEOUT),
    Fault.BAD_REQUEST: ("BadRequestError", ErrorClass.CLIENT),
    Fault.AUTH: ("AuthenticationError", ErrorClass.AUTH),
    Fault.CONTEXT_LENGTH: ("ContextWindowExceededError", ErrorClass.CLIENT),
    # litellm 1.110 maps OpenAI's content_policy_violation to a plain BadRequestError
    # (its text match wants "the safety system"); the class is CLIENT either way.
    Fault.CONTENT_POLICY: ("BadRequestError", ErrorClass.CLIENT),
}


@pytest.mark.parametrize("fault", list(FROM_THE_SERVER))
def test_litellm_errors_from_the_fake_are_classified(
    litellm: ModuleType, provider: FakeProvider, fault: Fault
) -> None:
    provider.mode = fault
    name, error_class = FROM_THE_SERVER[fault]
    with pytest.raises(getattr(litellm, name)) as caught:
        litellm.completion(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            api_base=provider.base_url,
            api_key="test",
            timeout=0.3 if fault is Fault.SLOW else 5.0,
            num_retries=0,
            max_retries=0,
        )
    assert (type(caught.value).__name__, default_classify(caught.value)) == (name, error_class)
    assert provider.wait_for_hits(1)


def test_the_retry_after_of_a_litellm_429_is_read(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    provider.mode, provider.retry_after = Fault.RATE_LIMIT, 2.5
    with pytest.raises(litellm.RateLimitError) as caught:
        litellm.completion(
            model="openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            api_base=provider.base_url,
            api_key="test",
            num_retries=0,
            max_retries=0,
        )
    assert retry_after_of(caught.value, now=0.0) == 2.5


# litellm exceptions the fake provider does not produce, built as litellm builds them
# (with the HTTP status of the response some of them require).
BUILT: list[tuple[str, int | None, ErrorClass]] = [
    ("APIConnectionError", None, ErrorClass.TRANSIENT),
    ("ServiceUnavailableError", None, ErrorClass.TRANSIENT),
    ("BadGatewayError", None, ErrorClass.TRANSIENT),
    ("InternalServerError", None, ErrorClass.TRANSIENT),
    ("Timeout", None, ErrorClass.TIMEOUT),
    ("RateLimitError", None, ErrorClass.RATE_LIMITED),
    ("NotFoundError", None, ErrorClass.CLIENT),
    ("BadRequestError", None, ErrorClass.CLIENT),
    ("ContextWindowExceededError", None, ErrorClass.CLIENT),
    ("ContentPolicyViolationError", None, ErrorClass.CLIENT),
    ("UnprocessableEntityError", 422, ErrorClass.CLIENT),
    ("AuthenticationError", None, ErrorClass.AUTH),
    ("PermissionDeniedError", 403, ErrorClass.AUTH),
]


@pytest.mark.parametrize(("name", "status", "error_class"), BUILT, ids=[b[0] for b in BUILT])
def test_every_litellm_exception_class_is_classified(
    litellm: ModuleType, name: str, status: int | None, error_class: ErrorClass
) -> None:
    import httpx  # litellm's dependency: imported only when litellm is there

    extra: dict[str, Any] = {}
    if status is not None:
        request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
        extra["response"] = httpx.Response(status, request=request)
    error = getattr(litellm, name)(message="m", model="gpt-4o-mini", llm_provider="openai", **extra)
    assert default_classify(error) is error_class
