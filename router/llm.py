"""Model paths and judges through litellm (``pip install 'outcome-router[llm]'``).

``import router`` does not import this module, and importing it does not import
litellm: litellm (seconds of import time) is loaded when the first path or judge is
built, off the event loop when one is running, and never inside a timed call (see
``router._litellm``). Before loading it, ``LITELLM_LOCAL_MODEL_COST_MAP`` is set to
``True`` (unless you set it yourself), so litellm prices calls from its bundled cost map
instead of fetching one: no network is used besides the provider you call. After it,
``litellm.suppress_debug_info`` is set (no banner on stdout for each handled error).

* :func:`LLMPath` / :func:`AsyncLLMPath`: a :class:`router.Path` that calls
  ``litellm.completion`` / ``litellm.acompletion`` and returns :class:`router.Metered`
  (tokens and cost of every attempt are recorded on its outcome).
* :func:`llm_judge`: a ``success_fn(input, output)`` that asks a model to grade outputs.

Example:
    >>> from router.llm import LLMPath
    >>> LLMPath("openai/gpt-4o-mini", "Extract the order from: {input}", timeout=10.0)
    Path(name='openai/gpt-4o-mini', timeout=10.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router._litellm import COST_MAP_ENV
from router._llm_call import AsyncLLMCall, LLMCall
from router._llm_judge import Judge, JudgeError, llm_judge
from router._llm_request import NO_SDK_RETRIES, Prompt
from router._names import check_name
from router._path import Path

__all__ = [
    "COST_MAP_ENV",
    "NO_SDK_RETRIES",
    "AsyncLLMCall",
    "AsyncLLMPath",
    "Judge",
    "JudgeError",
    "LLMCall",
    "LLMPath",
    "llm_judge",
]


def LLMPath(  # noqa: N802 - a factory named like the Path it builds
    model: str,
    prompt: Prompt,
    *,
    parse: Callable[[str], Any] | None = None,
    output: type | None = None,
    timeout: float | None = None,
    name: str | None = None,
    price: float | None = None,
    price_per_1k_tokens: tuple[float, float] | None = None,
    reask: bool | None = None,
    **litellm_kwargs: Any,
) -> Path:
    """A path that asks ``model`` through ``litellm.completion`` (sync).

    Args:
        model: a litellm model string, e.g. ``"openai/gpt-4o-mini"`` or
            ``"anthropic/claude-3-5-haiku-20241022"``.
        prompt: a ``str.format`` template (``{input}`` is the input; a dict input also
            gives its keys), or a function from the input to a string or chat messages.
        parse: turns the reply text into the output (default: the text itself); what
            it raises fails the attempt like any exception of a path.
        output: a pydantic model: the reply (after ``parse``) is stripped of code fences,
            parsed as JSON and validated; the schema is sent as a system message.
        timeout: seconds, for the router and for litellm alike.
        name: the path's name (default: ``model``).
        price: dollars per call, recorded when the cost is otherwise unknown.
        price_per_1k_tokens: ``(input, output)`` dollars per 1000 tokens; overrides
            litellm's cost map (for models it does not know).
        reask: re-ask once with the validation error when the output does not fit
            (default: True when ``output`` is given).
        **litellm_kwargs: passed to litellm (``api_base``, ``api_key``, ``temperature``...).
            litellm's and the SDK's own retries are off unless you pass ``num_retries``
            or ``max_retries``: give the router a ``Retry`` instead. With ``tools=``
            (and ``tool_choice=``), the output is the model's message, litellm's
            ``Message`` with its ``.content`` and ``.tool_calls`` (``parse`` receives
            it); ``output=`` does not go with ``tools=``.

    Returns:
        A :class:`router.Path` whose function (an :class:`LLMCall`) returns
        :class:`router.Metered` with the output, the tokens and the cost.

    Raises:
        ConfigError: a bad argument, or litellm is not installed.

    Example:
        >>> from pydantic import BaseModel
        >>> class Order(BaseModel):
        ...     item: str
        ...     quantity: int
        >>> path = LLMPath("openai/gpt-4o-mini", "Extract the order: {input}", output=Order,
        ...                timeout=20.0, temperature=0)
        >>> path.name, path.output is Order, path.fn.litellm_kwargs["temperature"]
        ('openai/gpt-4o-mini', True, 0)
    """
    call = LLMCall(
        model,
        prompt,
        parse=parse,
        output=output,
        timeout=timeout,
        price_per_1k_tokens=price_per_1k_tokens,
        reask=reask,
        litellm_kwargs=litellm_kwargs,
    )
    return _path(call, name, price)


def AsyncLLMPath(  # noqa: N802 - a factory named like the Path it builds
    model: str,
    prompt: Prompt,
    *,
    parse: Callable[[str], Any] | None = None,
    output: type | None = None,
    timeout: float | None = None,
    name: str | None = None,
    price: float | None = None,
    price_per_1k_tokens: tuple[float, float] | None = None,
    reask: bool | None = None,
    **litellm_kwargs: Any,
) -> Path:
    """Like :func:`LLMPath`, awaiting ``litellm.acompletion``: for ``Router.arun``.

    (``Router.run`` can call it too, on the router's private event loop.)

    Example:
        >>> path = AsyncLLMPath("openai/gpt-4o-mini", "Summarise: {input}", name="summary")
        >>> path.name, path.is_async
        ('summary', True)
    """
    call = AsyncLLMCall(
        model,
        prompt,
        parse=parse,
        output=output,
        timeout=timeout,
        price_per_1k_tokens=price_per_1k_tokens,
        reask=reask,
        litellm_kwargs=litellm_kwargs,
    )
    return _path(call, name, price)


def _path(call: LLMCall, name: str | None, price: float | None) -> Path:
    """The Path of a model call: named after the model unless ``name`` is given."""
    return Path(
        call, name=_name(name, call.model), timeout=call.timeout, output=call.output, price=price
    )


def _name(name: str | None, model: str) -> str:
    return check_name("path", name if name is not None else str(model).strip())
