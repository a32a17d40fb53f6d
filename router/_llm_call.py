"""The function of an LLM path: one attempt of a model call through litellm."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bandits import ConfigError
from router._budget import Metered
from router._litellm import LITELLM, require_litellm
from router._llm_request import (
    Message,
    Prompt,
    Usage,
    check_kwargs,
    check_price,
    check_prompt,
    content_of,
    is_model,
    message_of,
    render_prompt,
    schema_message,
    usage_of,
)
from router._validation import InvalidOutput, validate_output

_USAGE_LAST = {"include_usage": True}
# Left out of a warm-up request: it asks for one token of plain text.
_NOT_WARMED = frozenset({"tools", "tool_choice", "response_format", "max_tokens", "stream"})


@dataclass(slots=True)
class _Exchange:
    """One attempt's conversation with the model, and what it has cost so far."""

    messages: list[Message]
    spent: Usage = field(default_factory=Usage)
    calls: int = 0

    @contextlib.contextmanager
    def charging(self) -> Iterator[None]:
        """An error raised inside carries what the replies taken so far cost (if any)."""
        try:
            yield
        except Exception as exc:
            if self.calls:
                self.spent.metered(None).attach_to(exc)
            raise


def model_priced(model: str) -> bool | None:
    """Does litellm's cost map price ``model``? None while litellm is still loading."""
    litellm = LITELLM.loaded()
    if litellm is None:
        return None
    try:
        litellm.cost_per_token(model=model, prompt_tokens=1, completion_tokens=1)
    except Exception:  # litellm raises its own errors (or plain ones) for unknown models
        return False
    return True


class LLMCall:
    """The function of an :func:`LLMPath`: one attempt, ``litellm.completion`` underneath.

    Called with the request input (and, when the router re-asks after a client error,
    ``feedback=<the error>``), it returns :class:`router.Metered`. With an output model,
    an answer that does not fit is re-asked once with the validation error; a second
    misfit is returned as it is, and the path's own ``output`` check fails the attempt
    with ``invalid_output`` (so both calls' tokens and cost are still recorded).
    """

    def __init__(
        self,
        model: str,
        prompt: Prompt,
        *,
        parse: Callable[[str], Any] | None = None,
        output: type | None = None,
        timeout: float | None = None,
        price_per_1k_tokens: tuple[float, float] | None = None,
        reask: bool | None = None,
        litellm_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        require_litellm()
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(
                f"model must be a litellm model string such as 'openai/gpt-4o-mini', got {model!r}"
            )
        if parse is not None and not callable(parse):
            raise ConfigError(f"parse must be a function from the reply text, got {parse!r}")
        if output is not None and not is_model(output):
            raise ConfigError(
                f"output must be a pydantic model class (class Order(BaseModel): ...), "
                f"got {output!r}"
            )
        if reask is not None and not isinstance(reask, bool):
            raise ConfigError(f"reask must be True, False or None, got {reask!r}")
        self.tools = bool((litellm_kwargs or {}).get("tools"))
        if self.tools and output is not None:
            raise ConfigError(
                "output= validates a text reply, but with tools= the output is the model's "
                "message (its .content and .tool_calls); check it in parse= or success_fn"
            )
        self.model = model
        self.prompt = check_prompt(prompt)
        self.parse = parse
        self.output = output
        self.timeout = timeout
        self.price_per_1k_tokens = check_price(price_per_1k_tokens)
        self.reask = output is not None if reask is None else reask
        self.litellm_kwargs = check_kwargs(litellm_kwargs or {})
        LITELLM.start()  # here, or off the event loop: never inside a timed call

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    @property
    def priced(self) -> bool | None:
        """Are this model's calls priced (``price_per_1k_tokens``, or litellm's cost map
        knows the model)? None while litellm is still loading."""
        return True if self.price_per_1k_tokens is not None else model_priced(self.model)

    def complete(self, litellm: Any, request: Mapping[str, Any]) -> Any:
        """One ``litellm.completion`` call (a model group's goes through its router)."""
        return litellm.completion(**request)

    async def acomplete(self, litellm: Any, request: Mapping[str, Any]) -> Any:
        """One ``litellm.acompletion`` call."""
        return await litellm.acompletion(**request)

    def prepare(self) -> None:
        """Wait until litellm is loaded (the router calls this before a call's timeout starts)."""
        LITELLM.get()

    async def aprepare(self) -> None:
        """:meth:`prepare` for async code: awaits the load without blocking the event loop."""
        await LITELLM.aget()

    def warm_request(self) -> dict[str, Any]:
        """The smallest request to this model: one word in, at most one token out.

        The path's own settings (``api_base``, keys, ...) go with it; tools and
        response formats do not.
        """
        kwargs = {k: v for k, v in self.litellm_kwargs.items() if k not in _NOT_WARMED}
        timeout = {} if self.timeout is None else {"timeout": self.timeout}
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": "ping"}],
            **timeout,
            **kwargs,
            "max_tokens": 1,
        }

    def warm_up(self) -> None:
        """Load litellm and send :meth:`warm_request`, so that the first request finds its
        modules loaded and its connection open (costs one minimal call)."""
        self.complete(LITELLM.get(), self.warm_request())

    def start(self, request_input: Any, feedback: BaseException | None = None) -> _Exchange:
        """The first request's messages."""
        messages = render_prompt(self.prompt, request_input)
        if self.output is not None:
            messages.insert(0, schema_message(self.output))
        if feedback is not None:
            messages.append({"role": "user", "content": f"Your last answer failed: {feedback}"})
        return _Exchange(messages)

    def request(self, exchange: _Exchange, timeout: float | None = None) -> dict[str, Any]:
        """The keyword arguments of the next ``completion`` call (``timeout``: what is
        left of the attempt's, else the path's own)."""
        limit = self.timeout if timeout is None else timeout
        timeout_kw = {} if limit is None else {"timeout": limit}
        return {
            "model": self.model,
            "messages": exchange.messages,
            **timeout_kw,
            **self.litellm_kwargs,
        }

    def stream(self, request_input: Any) -> LLMStream:
        """Ask for the reply as a stream (``Router.run_stream``): its text chunks."""
        litellm = LITELLM.get()
        exchange = self.start(request_input)
        return LLMStream(self, litellm, exchange, self.complete(litellm, self.streamed(exchange)))

    def streamed(self, exchange: _Exchange) -> dict[str, Any]:
        """The keyword arguments of a streamed call: usage comes in the last chunk."""
        return {**self.request(exchange), "stream": True, "stream_options": _USAGE_LAST}

    def step(
        self, litellm: Any, exchange: _Exchange, response: Any, *, reask: bool = True
    ) -> Metered | None:
        """Take one response: the attempt's result, or None to ask again (``exchange`` updated).

        ``reask=False`` (a streamed reply, already sent) never asks again."""
        exchange.calls += 1
        exchange.spent += usage_of(litellm, response, self.price_per_1k_tokens)
        if self.tools:  # the whole message: its tool calls are the answer
            message = message_of(response)
            return exchange.spent.metered(message if self.parse is None else self.parse(message))
        content = content_of(response)
        answer = content if self.parse is None else self.parse(content)
        if self.output is None:
            return exchange.spent.metered(answer)
        try:
            return exchange.spent.metered(validate_output(self.output, answer))
        except InvalidOutput as exc:
            if not (self.reask and reask) or exchange.calls > 1:
                return exchange.spent.metered(answer)  # the path's output check rejects it
            exchange.messages = [
                *exchange.messages,
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": f"That answer could not be used: {exc}. Reply again with only "
                    "a JSON object that fits the schema.",
                },
            ]
            return None

    times_itself = True
    """The router passes a sync call its timeout (``timeout=``) instead of running it in
    a worker thread: litellm's HTTP client enforces it, with no thread hop per call."""

    def __call__(
        self,
        request_input: Any,
        feedback: BaseException | None = None,
        timeout: float | None = None,
    ) -> Metered:
        litellm = LITELLM.get()
        exchange = self.start(request_input, feedback)
        # A re-ask gets what is left of the attempt's timeout (real time: it is HTTP).
        ends = None if timeout is None else time.monotonic() + timeout
        with exchange.charging():
            while True:
                left = timeout
                if ends is not None and exchange.calls:
                    left = max(ends - time.monotonic(), 0.001)
                response = self.complete(litellm, self.request(exchange, left))
                result = self.step(litellm, exchange, response)
                if result is not None:
                    return result


class AsyncLLMCall(LLMCall):
    """The function of an :func:`AsyncLLMPath`: like :class:`LLMCall`, awaiting
    ``litellm.acompletion``."""

    times_itself = False  # awaited within asyncio.wait_for, no thread to save

    async def astream(self, request_input: Any) -> AsyncLLMStream:
        """:meth:`LLMCall.stream`, awaiting ``litellm.acompletion``."""
        litellm = await LITELLM.aget()
        exchange = self.start(request_input)
        response = await self.acomplete(litellm, self.streamed(exchange))
        return AsyncLLMStream(self, litellm, exchange, response)

    async def awarm_up(self) -> None:
        """:meth:`LLMCall.warm_up` through ``litellm.acompletion`` (the async client)."""
        await self.acomplete(await LITELLM.aget(), self.warm_request())

    async def __call__(  # type: ignore[override]
        self, request_input: Any, feedback: BaseException | None = None
    ) -> Metered:
        litellm = await LITELLM.aget()
        exchange = self.start(request_input, feedback)
        with exchange.charging():
            while True:
                response = await self.acomplete(litellm, self.request(exchange))
                result = self.step(litellm, exchange, response)
                if result is not None:
                    return result


def _text_of(chunk: Any) -> str:
    """The text a streamed chunk adds ('' for role, tool-call, usage or final chunks)."""
    choices = getattr(chunk, "choices", None) or []
    delta = getattr(choices[0], "delta", None) if choices else None
    return str(getattr(delta, "content", None) or "")


class _Streamed:
    """A streamed reply: its raw chunks, and the attempt's output made from them."""

    def __init__(self, call: LLMCall, litellm: Any, exchange: _Exchange, response: Any) -> None:
        self._call, self._litellm, self._exchange = call, litellm, exchange
        self._response = response
        self._raw: list[Any] = []

    def finish(self, chunks: list[Any]) -> Metered:
        """The output, as :meth:`LLMCall.step` makes it from the whole reply (no re-ask:
        what was streamed was sent), with the tokens and cost of the last chunk's usage."""
        whole = self._litellm.stream_chunk_builder(self._raw, messages=self._exchange.messages)
        result = self._call.step(self._litellm, self._exchange, whole, reask=False)
        assert result is not None  # step never asks again with reask=False
        return result


class LLMStream(_Streamed):
    """The text chunks of :meth:`LLMCall.stream` (empty ones are skipped)."""

    def __iter__(self) -> Iterator[str]:
        for chunk in self._response:
            self._raw.append(chunk)
            text = _text_of(chunk)
            if text:
                yield text


class AsyncLLMStream(_Streamed):
    """The text chunks of :meth:`AsyncLLMCall.astream` (empty ones are skipped)."""

    async def __aiter__(self) -> AsyncIterator[str]:
        async for chunk in self._response:
            self._raw.append(chunk)
            text = _text_of(chunk)
            if text:
                yield text
