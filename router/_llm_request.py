"""Building one litellm request and reading its reply: prompts, kwargs, usage, cost."""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bandits import ConfigError
from router._budget import Metered

# The router retries and falls back itself (with a fake clock in tests): litellm and
# the openai SDK must not retry, nor sleep, behind its back. Pass either to override.
NO_SDK_RETRIES: Mapping[str, int] = {"num_retries": 0, "max_retries": 0}
RESERVED = frozenset({"model", "messages", "timeout", "stream"})

Message = dict[str, Any]
Prompt = str | Callable[[Any], str | Sequence[Mapping[str, Any]]]


def check_prompt(prompt: Prompt) -> Prompt:
    if callable(prompt):
        return prompt
    if not isinstance(prompt, str):
        raise ConfigError(
            f"prompt must be a template string such as 'Extract: {{input}}' or a function "
            f"from the input to chat messages, got {type(prompt).__name__} {prompt!r}"
        )
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(prompt) if f is not None]
    except ValueError as exc:
        raise ConfigError(
            f"prompt template {prompt!r} is not a valid str.format template ({exc}); "
            "double literal braces: {{ and }}"
        ) from exc
    if not fields or any(f == "" or f.isdigit() for f in fields):
        raise ConfigError(
            f"prompt template {prompt!r} needs named fields: {{input}} for the whole input, "
            "or {key} for each key of a dict input"
        )
    bad = [c for _, _, _, c in string.Formatter().parse(prompt) if c not in (None, "r", "s", "a")]
    if bad:
        raise ConfigError(
            f"prompt template {prompt!r} uses the conversion !{bad[0]}; str.format knows "
            "!r, !s and !a"
        )
    return prompt


def render_prompt(prompt: Prompt, request_input: Any) -> list[Message]:
    """The chat messages for one input.

    A template is formatted with ``input=`` the input, and with the input's keys when it
    is a mapping; a function's string result becomes a user message.

    Example:
        >>> render_prompt("Order: {input}", "2 pens")
        [{'role': 'user', 'content': 'Order: 2 pens'}]
        >>> render_prompt("{name} wants {item}", {"name": "Ann", "item": "pens"})
        [{'role': 'user', 'content': 'Ann wants pens'}]
    """
    if isinstance(prompt, str):
        fields = {"input": request_input}
        if isinstance(request_input, Mapping):
            fields.update({str(k): v for k, v in request_input.items()})
        try:
            return [{"role": "user", "content": prompt.format_map(fields)}]
        except (KeyError, AttributeError, IndexError) as exc:
            raise ConfigError(
                f"prompt template {prompt!r} needs {exc} but the input "
                f"({type(request_input).__name__}) does not provide it"
            ) from exc
        except ValueError as exc:  # a format spec the value does not take: {input:d}
            raise ConfigError(
                f"prompt template {prompt!r} cannot format the input "
                f"({type(request_input).__name__}): {exc}"
            ) from exc
    made = prompt(request_input)
    if isinstance(made, str):
        return [{"role": "user", "content": made}]
    return [dict(m) for m in made]


def schema_message(output: type) -> Message:
    schema = getattr(output, "model_json_schema", None)
    shape = json.dumps(schema()) if callable(schema) else output.__name__
    return {
        "role": "system",
        "content": f"Reply with only a JSON object that fits this JSON schema: {shape}",
    }


def is_model(value: object) -> bool:
    from pydantic import BaseModel

    return isinstance(value, type) and issubclass(value, BaseModel)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_price(price: tuple[float, float] | None) -> tuple[float, float] | None:
    if price is None:
        return None
    if (
        not isinstance(price, tuple)
        or len(price) != 2
        or not all(is_number(p) and math.isfinite(p) and p >= 0 for p in price)
    ):
        raise ConfigError(
            "price_per_1k_tokens must be a pair (input, output) of dollars per 1000 tokens, "
            f"e.g. (0.15, 0.6), got {price!r}"
        )
    return (float(price[0]), float(price[1]))


def check_kwargs(
    litellm_kwargs: Mapping[str, Any], reserved: frozenset[str] = RESERVED
) -> dict[str, Any]:
    if "stream" in litellm_kwargs or "stream_options" in litellm_kwargs:
        raise ConfigError(
            "stream is not a path setting: call router.run_stream(x) (or arun_stream) and "
            "the model path streams its reply; router.run(x) asks for the whole reply"
        )
    taken = sorted(reserved & set(litellm_kwargs))
    if taken:
        raise ConfigError(
            f"{taken} are set by the path or judge itself; pass the model and prompt as "
            "arguments (and a path's timeout as timeout=...)"
        )
    return {**NO_SDK_RETRIES, **litellm_kwargs}


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and dollars spent by one or more model calls (cost None: unknown price).

    Example:
        >>> Usage(10, 5, 0.001) + Usage(20, 5, None)
        Usage(tokens_in=30, tokens_out=10, cost=None)
    """

    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = 0.0

    def __add__(self, other: Usage) -> Usage:
        cost = None if self.cost is None or other.cost is None else self.cost + other.cost
        return Usage(self.tokens_in + other.tokens_in, self.tokens_out + other.tokens_out, cost)

    def metered(self, output: Any) -> Metered:
        """``output`` with this spending attached."""
        return Metered(output, self.tokens_in, self.tokens_out, self.cost)


def usage_of(litellm: Any, response: Any, price_per_1k_tokens: tuple[float, float] | None) -> Usage:
    """Tokens from the response's usage; cost from the override, else litellm's cost map.

    A model the cost map does not know, with no override, costs None (not an error).
    """
    usage = getattr(response, "usage", None)
    tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
    tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
    if price_per_1k_tokens is not None:
        cost: float | None = (
            tokens_in * price_per_1k_tokens[0] + tokens_out * price_per_1k_tokens[1]
        ) / 1000.0
    else:
        cost = _priced_by_litellm(litellm, response)
    return Usage(tokens_in, tokens_out, cost)


def _priced_by_litellm(litellm: Any, response: Any) -> float | None:
    """The cost litellm put on the response when it made it (``response_cost``; None: a
    model its cost map does not know), else ``litellm.completion_cost`` (a streamed reply
    rebuilt from its chunks). Reading it saves recomputing it, half a millisecond a call.
    """
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict) and "response_cost" in hidden:
        known = hidden["response_cost"]
        return float(known) if isinstance(known, int | float) and math.isfinite(known) else None
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:  # litellm raises plain Exceptions for models it cannot price
        return None


def message_of(response: Any) -> Any:
    """The message of the first choice (litellm's ``Message``: ``.content``,
    ``.tool_calls``), or None when there is none."""
    choices = getattr(response, "choices", None) or []
    return getattr(choices[0], "message", None) if choices else None


def content_of(response: Any) -> str:
    """The text of the first choice of a chat completion ('' when there is none)."""
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    return str(getattr(message, "content", None) or "")
