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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from router._limits import RateLimit
from router._litellm import COST_MAP_ENV
from router._llm_call import AsyncLLMCall, LLMCall
from router._llm_judge import Judge, JudgeError, llm_judge
from router._llm_request import NO_SDK_RETRIES, Prompt
from router._model_list import AsyncGroupCall, GroupCall
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


class _PathMaker:
    """Builds LLM paths of one kind (sync or async): ``LLMPath(...)`` and
    ``LLMPath.from_model_list(...)``."""

    _single: type[LLMCall] = LLMCall
    _group: type[LLMCall] = GroupCall

    def __call__(
        self,
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
        rate_limit: RateLimit | None = None,
        **litellm_kwargs: Any,
    ) -> Path:
        return _build(
            self._single,
            model,
            prompt,
            parse=parse,
            output=output,
            timeout=timeout,
            name=name,
            price=price,
            price_per_1k_tokens=price_per_1k_tokens,
            reask=reask,
            rate_limit=rate_limit,
            **litellm_kwargs,
        )

    def from_model_list(
        self, model_list: Sequence[Mapping[str, Any]], prompt: Prompt, **options: Any
    ) -> list[Path]:
        """One path per model group of a ``litellm.Router`` ``model_list``.

        A group of one deployment is an LLM path of its ``litellm_params``; a group of
        several calls them through a ``litellm.Router`` over that group (litellm's
        load balancing, no retries of its own). Each path is named after its group;
        its deployments' ``rpm`` / ``tpm`` become a shared ``RateLimit`` (counted in
        the store, tokens from usage). ``options`` are this factory's arguments
        (``timeout``, ``output``, ...) and litellm kwargs, for every path.

        Raises:
            ConfigError: the list is not in litellm.Router's format.

        Example:
            >>> model_list = [
            ...     {"model_name": "fast", "litellm_params": {"model": "openai/gpt-4o-mini",
            ...                                               "rpm": 500, "tpm": 200000}},
            ...     {"model_name": "smart", "litellm_params": {"model": "openai/gpt-4o"}},
            ...     {"model_name": "smart", "litellm_params": {"model": "azure/gpt-4o-eu"}},
            ... ]
            >>> [(p.name, p.rate_limit) for p in LLMPath.from_model_list(model_list, "{input}")]
            [('fast', RateLimit(per_second=None, per_minute=500.0, tokens_per_minute=200000.0, shared=True)), ('smart', None)]
        """  # noqa: E501
        from router._model_list import model_list_paths

        return model_list_paths(model_list, prompt, _build, (self._single, self._group), options)


class _LLMPath(_PathMaker):
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
        ``rate_limit`` is the path's :class:`router.RateLimit`. ``LLMPath.from_model_list``
        builds paths from a ``litellm.Router`` model list.

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


class _AsyncLLMPath(_PathMaker):
    """Like :data:`LLMPath`, awaiting ``litellm.acompletion``: for ``Router.arun``.

    (``Router.run`` can call it too, on the router's private event loop.)

    Example:
        >>> path = AsyncLLMPath("openai/gpt-4o-mini", "Summarise: {input}", name="summary")
        >>> path.name, path.is_async
        ('summary', True)
    """

    _single = AsyncLLMCall
    _group = AsyncGroupCall


LLMPath = _LLMPath()
"""A path that asks a model through ``litellm.completion``; see :class:`_LLMPath`."""
AsyncLLMPath = _AsyncLLMPath()
"""A path that awaits ``litellm.acompletion``; see :class:`_AsyncLLMPath`."""


def _build(
    call_type: Callable[..., LLMCall],
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
    rate_limit: RateLimit | None = None,
    **litellm_kwargs: Any,
) -> Path:
    call = call_type(
        model,
        prompt,
        parse=parse,
        output=output,
        timeout=timeout,
        price_per_1k_tokens=price_per_1k_tokens,
        reask=reask,
        litellm_kwargs=litellm_kwargs,
    )
    return _path(call, name, price, rate_limit)


def _path(
    call: LLMCall, name: str | None, price: float | None, rate_limit: RateLimit | None
) -> Path:
    """The Path of a model call: named after the model unless ``name`` is given."""
    return Path(
        call,
        name=_name(name, call.model),
        timeout=call.timeout,
        output=call.output,
        price=price,
        rate_limit=rate_limit,
    )


def _name(name: str | None, model: str) -> str:
    return check_name("path", name if name is not None else str(model).strip())
