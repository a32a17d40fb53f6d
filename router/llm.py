"""Model paths and judges through litellm (``pip install 'outcome-router[llm]'``).

``import router`` does not import this module, and importing it does not import
litellm: litellm (3 s of import time) is loaded on the first call of a path or judge.
Before loading it, ``LITELLM_LOCAL_MODEL_COST_MAP`` is set to ``True`` (unless you set
it yourself), so litellm prices calls from its bundled cost map instead of fetching one
from GitHub: no network is used besides the provider you call.

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

import contextlib
import importlib
import importlib.util
import json
import math
import os
import re
import string
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bandits import ConfigError, RouterError
from router._budget import Metered, MeteredScore
from router._names import check_name
from router._path import Path
from router._validation import InvalidOutput, validate_output

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "AsyncLLMCall",
    "AsyncLLMPath",
    "Judge",
    "JudgeError",
    "LLMCall",
    "LLMPath",
    "llm_judge",
]

COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"
# The router retries and falls back itself (with a fake clock in tests): litellm and
# the openai SDK must not retry, nor sleep, behind its back. Pass either to override.
NO_SDK_RETRIES: Mapping[str, int] = {"num_retries": 0, "max_retries": 0}
_RESERVED = frozenset({"model", "messages", "timeout", "stream"})

Message = dict[str, Any]
Prompt = str | Callable[[Any], str | Sequence[Mapping[str, Any]]]


class JudgeError(RouterError):
    """The judge model failed or did not answer with a grade (and there is no cheap_check)."""


_MISSING = "router.llm needs litellm; install it with: pip install 'outcome-router[llm]'"


def _load_litellm() -> Any:
    """litellm, imported offline: the bundled cost map, never a download."""
    os.environ.setdefault(COST_MAP_ENV, "True")
    try:
        return importlib.import_module("litellm")
    except ImportError as exc:  # pragma: no cover - checked when paths are built
        raise ConfigError(_MISSING) from exc


def _require_litellm() -> None:
    try:
        found = importlib.util.find_spec("litellm") is not None
    except ValueError:  # sys.modules["litellm"] is None: import blocked on purpose
        found = False
    if not found:
        raise ConfigError(_MISSING)


# -- building a request ------------------------------------------------------------------


def _check_prompt(prompt: Prompt) -> Prompt:
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


def _render_prompt(prompt: Prompt, request_input: Any) -> list[Message]:
    """The chat messages for one input.

    A template is formatted with ``input=`` the input, and with the input's keys when it
    is a mapping; a function's string result becomes a user message.

    Example:
        >>> _render_prompt("Order: {input}", "2 pens")
        [{'role': 'user', 'content': 'Order: 2 pens'}]
        >>> _render_prompt("{name} wants {item}", {"name": "Ann", "item": "pens"})
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


def _schema_message(output: type) -> Message:
    schema = getattr(output, "model_json_schema", None)
    shape = json.dumps(schema()) if callable(schema) else output.__name__
    return {
        "role": "system",
        "content": f"Reply with only a JSON object that fits this JSON schema: {shape}",
    }


def _is_model(value: object) -> bool:
    from pydantic import BaseModel

    return isinstance(value, type) and issubclass(value, BaseModel)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_price(price: tuple[float, float] | None) -> tuple[float, float] | None:
    if price is None:
        return None
    if (
        not isinstance(price, tuple)
        or len(price) != 2
        or not all(_is_number(p) and math.isfinite(p) and p >= 0 for p in price)
    ):
        raise ConfigError(
            "price_per_1k_tokens must be a pair (input, output) of dollars per 1000 tokens, "
            f"e.g. (0.15, 0.6), got {price!r}"
        )
    return (float(price[0]), float(price[1]))


def _check_kwargs(
    litellm_kwargs: Mapping[str, Any], reserved: frozenset[str] = _RESERVED
) -> dict[str, Any]:
    taken = sorted(reserved & set(litellm_kwargs))
    if taken:
        raise ConfigError(
            f"{taken} are set by the path or judge itself; pass the model and prompt as "
            "arguments (and a path's timeout as timeout=...)"
        )
    return {**NO_SDK_RETRIES, **litellm_kwargs}


@dataclass(frozen=True, slots=True)
class _Usage:
    """Tokens and dollars spent by one or more model calls (cost None: unknown price).

    Example:
        >>> _Usage(10, 5, 0.001) + _Usage(20, 5, None)
        _Usage(tokens_in=30, tokens_out=10, cost=None)
    """

    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = 0.0

    def __add__(self, other: _Usage) -> _Usage:
        cost = None if self.cost is None or other.cost is None else self.cost + other.cost
        return _Usage(self.tokens_in + other.tokens_in, self.tokens_out + other.tokens_out, cost)

    def metered(self, output: Any) -> Metered:
        """``output`` with this spending attached."""
        return Metered(output, self.tokens_in, self.tokens_out, self.cost)


def _usage_of(
    litellm: Any, response: Any, price_per_1k_tokens: tuple[float, float] | None
) -> _Usage:
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
        try:
            cost = float(litellm.completion_cost(completion_response=response))
        except Exception:  # litellm raises plain Exceptions for models it cannot price
            cost = None
    return _Usage(tokens_in, tokens_out, cost)


def _content_of(response: Any) -> str:
    """The text of the first choice of a chat completion ('' when there is none)."""
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    return str(getattr(message, "content", None) or "")


# -- one path ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Exchange:
    """One attempt's conversation with the model, and what it has cost so far."""

    messages: list[Message]
    spent: _Usage = field(default_factory=_Usage)
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
        _require_litellm()
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(
                f"model must be a litellm model string such as 'openai/gpt-4o-mini', got {model!r}"
            )
        if parse is not None and not callable(parse):
            raise ConfigError(f"parse must be a function from the reply text, got {parse!r}")
        if output is not None and not _is_model(output):
            raise ConfigError(
                f"output must be a pydantic model class (class Order(BaseModel): ...), "
                f"got {output!r}"
            )
        if reask is not None and not isinstance(reask, bool):
            raise ConfigError(f"reask must be True, False or None, got {reask!r}")
        self.model = model
        self.prompt = _check_prompt(prompt)
        self.parse = parse
        self.output = output
        self.timeout = timeout
        self.price_per_1k_tokens = _check_price(price_per_1k_tokens)
        self.reask = output is not None if reask is None else reask
        self.litellm_kwargs = _check_kwargs(litellm_kwargs or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"

    def start(self, request_input: Any, feedback: BaseException | None = None) -> _Exchange:
        """The first request's messages."""
        messages = _render_prompt(self.prompt, request_input)
        if self.output is not None:
            messages.insert(0, _schema_message(self.output))
        if feedback is not None:
            messages.append({"role": "user", "content": f"Your last answer failed: {feedback}"})
        return _Exchange(messages)

    def request(self, exchange: _Exchange) -> dict[str, Any]:
        """The keyword arguments of the next ``completion`` call."""
        timeout = {} if self.timeout is None else {"timeout": self.timeout}
        return {
            "model": self.model,
            "messages": exchange.messages,
            **timeout,
            **self.litellm_kwargs,
        }

    def step(self, litellm: Any, exchange: _Exchange, response: Any) -> Metered | None:
        """Take one response: the attempt's result, or None to ask again (``exchange`` updated)."""
        exchange.calls += 1
        exchange.spent += _usage_of(litellm, response, self.price_per_1k_tokens)
        content = _content_of(response)
        answer = content if self.parse is None else self.parse(content)
        if self.output is None:
            return exchange.spent.metered(answer)
        try:
            return exchange.spent.metered(validate_output(self.output, answer))
        except InvalidOutput as exc:
            if not self.reask or exchange.calls > 1:
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

    def __call__(self, request_input: Any, feedback: BaseException | None = None) -> Metered:
        litellm = _load_litellm()
        exchange = self.start(request_input, feedback)
        with exchange.charging():
            while True:
                response = litellm.completion(**self.request(exchange))
                result = self.step(litellm, exchange, response)
                if result is not None:
                    return result


class AsyncLLMCall(LLMCall):
    """The function of an :func:`AsyncLLMPath`: like :class:`LLMCall`, awaiting
    ``litellm.acompletion``."""

    async def __call__(  # type: ignore[override]
        self, request_input: Any, feedback: BaseException | None = None
    ) -> Metered:
        litellm = _load_litellm()
        exchange = self.start(request_input, feedback)
        with exchange.charging():
            while True:
                response = await litellm.acompletion(**self.request(exchange))
                result = self.step(litellm, exchange, response)
                if result is not None:
                    return result


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
            or ``max_retries``: give the router a ``Retry`` instead.

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


# -- judged success ----------------------------------------------------------------------

JUDGE_INSTRUCTIONS = (
    "You grade the OUTPUT a system gave for an INPUT against a RUBRIC. Reply with only a "
    "number between 0 and 1: 1 fully meets the rubric, 0 does not meet it at all."
)
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def _parse_grade(text: str) -> float:
    """The grade in a judge's reply: its first number, which must be in [0, 1].

    Example:
        >>> _parse_grade("Score: 0.75")
        0.75

    Raises:
        JudgeError: no number, or one outside [0, 1].
    """
    match = _NUMBER.search(text)
    grade = float(match.group()) if match else math.nan
    if not 0.0 <= grade <= 1.0:
        raise JudgeError(f"the judge answered {text[:80]!r}, not a grade between 0 and 1")
    return grade


def _shown(value: Any) -> str:
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):
        return str(dump())
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


class Judge:
    """A ``success_fn(input, output)`` that asks a model to grade outputs; see :func:`llm_judge`.

    A model-graded score is a :class:`router.MeteredScore`: as a router's success_fn,
    the judge's tokens and cost go on the judged attempt's outcome row (metadata
    ``judge_tokens``, ``judge_cost``) and count against the router's budgets.
    Spending is also kept on the judge (thread-safe): ``calls`` (model calls), ``spent_tokens``,
    ``spent_cost`` (dollars of the calls whose price is known), ``unpriced_calls``,
    ``judged`` and ``cheap`` (outputs scored by the model and by ``cheap_check``) and
    ``failures`` (judge calls that failed or gave no grade).
    """

    def __init__(
        self,
        model: str,
        rubric: str,
        *,
        threshold: float | None,
        sample: float,
        cheap_check: Callable[[Any, Any], Any] | None,
        rng: np.random.Generator | None,
        price_per_1k_tokens: tuple[float, float] | None,
        litellm_kwargs: Mapping[str, Any],
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigError(f"judge model must be a litellm model string, got {model!r}")
        if not isinstance(rubric, str) or not rubric.strip():
            raise ConfigError("rubric must be a non-empty string saying what a good output is")
        if threshold is not None and not (_is_number(threshold) and 0.0 <= threshold <= 1.0):
            raise ConfigError(f"threshold must be in [0, 1] or None, got {threshold!r}")
        if not (_is_number(sample) and 0.0 < sample <= 1.0):
            raise ConfigError(f"sample must be a fraction in (0, 1], got {sample!r}")
        if cheap_check is not None and not callable(cheap_check):
            raise ConfigError(
                f"cheap_check must be a function (input, output), got {cheap_check!r}"
            )
        if sample < 1.0 and cheap_check is None:
            raise ConfigError(
                f"sample={sample} judges only some outputs: give cheap_check=(input, output) "
                "-> score for the others"
            )
        self.model = model
        self.rubric = rubric
        self.threshold = threshold
        self.sample = float(sample)
        self.cheap_check = cheap_check
        self.price_per_1k_tokens = _check_price(price_per_1k_tokens)
        self.litellm_kwargs = _check_kwargs(litellm_kwargs, _RESERVED - {"timeout"})
        if rng is None and sample < 1.0:
            import numpy as np

            rng = np.random.default_rng()
        self._rng = rng
        self._lock = threading.Lock()
        self.calls = 0
        self.spent_tokens = 0
        self.spent_cost = 0.0
        self.unpriced_calls = 0
        self.judged = 0
        self.cheap = 0
        self.failures = 0

    def __repr__(self) -> str:
        return f"Judge(model={self.model!r}, sample={self.sample}, calls={self.calls})"

    def messages(self, request_input: Any, output: Any) -> list[Message]:
        """What the judge model is asked."""
        question = (
            f"RUBRIC:\n{self.rubric}\n\nINPUT:\n{_shown(request_input)}\n\n"
            f"OUTPUT:\n{_shown(output)}\n\nGrade (a number between 0 and 1):"
        )
        return [
            {"role": "system", "content": JUDGE_INSTRUCTIONS},
            {"role": "user", "content": question},
        ]

    def __call__(self, request_input: Any, output: Any) -> float:
        with self._lock:
            cheap = (
                self.sample < 1.0 and self._rng is not None and self._rng.random() >= self.sample
            )
        if cheap:
            return self._cheap(request_input, output)
        try:
            grade = self._ask(request_input, output)
        except Exception as exc:
            with self._lock:
                self.failures += 1
            if self.cheap_check is None:
                if isinstance(exc, JudgeError):
                    raise
                raise JudgeError(
                    f"the judge {self.model!r} failed ({type(exc).__name__}: {exc}); give "
                    "llm_judge a cheap_check to score outputs while it is down"
                ) from exc
            return self._cheap(request_input, output)
        value = grade if self.threshold is None else float(grade >= self.threshold)
        return MeteredScore(value, tokens=grade.tokens, cost=grade.cost)

    def _ask(self, request_input: Any, output: Any) -> MeteredScore:
        litellm = _load_litellm()
        messages = self.messages(request_input, output)
        response = litellm.completion(model=self.model, messages=messages, **self.litellm_kwargs)
        usage = _usage_of(litellm, response, self.price_per_1k_tokens)
        with self._lock:
            self.calls += 1
            self.spent_tokens += usage.tokens_in + usage.tokens_out
            if usage.cost is None:
                self.unpriced_calls += 1
            else:
                self.spent_cost += usage.cost
        grade = _parse_grade(_content_of(response))
        with self._lock:
            self.judged += 1
        return MeteredScore(grade, tokens=usage.tokens_in + usage.tokens_out, cost=usage.cost)

    def _cheap(self, request_input: Any, output: Any) -> float:
        assert self.cheap_check is not None  # checked in __init__ whenever it can be needed
        with self._lock:
            self.cheap += 1
        return float(self.cheap_check(request_input, output))


def llm_judge(
    model: str,
    rubric: str,
    *,
    threshold: float | None = None,
    sample: float = 1.0,
    cheap_check: Callable[[Any, Any], Any] | None = None,
    rng: np.random.Generator | None = None,
    price_per_1k_tokens: tuple[float, float] | None = None,
    **litellm_kwargs: Any,
) -> Judge:
    """A success function that has ``model`` grade each output against ``rubric``.

    Args:
        model: the judge's litellm model string.
        rubric: what a good output is, in plain words.
        threshold: score 1 when the grade is at least this, else 0 (default: the
            grade itself, a fraction in [0, 1]).
        sample: the fraction of outputs the model grades; the others get
            ``cheap_check(input, output)`` (required when ``sample < 1``), drawn from ``rng``.
        cheap_check: a cheap score for unsampled outputs, also used when the judge
            fails; without it a judge failure raises :class:`JudgeError` (which the
            router reports as a ``ScoringError``).
        rng: a seeded ``numpy.random.Generator`` for reproducible sampling.
        price_per_1k_tokens: ``(input, output)`` dollars per 1000 tokens for a model
            litellm's cost map does not know.
        **litellm_kwargs: passed to litellm (``api_base``, ``api_key``, ``timeout``...).

    The judge's own spending is on the returned :class:`Judge` (``spent_cost``,
    ``spent_tokens``, ``calls``); the router does not record it on outcomes.

    Example:
        >>> import numpy as np
        >>> judge = llm_judge("openai/gpt-4o-mini", "Is the order complete?", sample=0.1,
        ...                   cheap_check=lambda text, order: order is not None,
        ...                   rng=np.random.default_rng(0))
        >>> judge("2 pens", None), judge.calls, judge.cheap
        (0.0, 0, 1)
    """
    if cheap_check is not None and not callable(cheap_check):
        raise ConfigError(f"cheap_check must be a function (input, output), got {cheap_check!r}")
    _require_litellm()
    return Judge(
        model,
        rubric,
        threshold=threshold,
        sample=sample,
        cheap_check=cheap_check,
        rng=rng,
        price_per_1k_tokens=price_per_1k_tokens,
        litellm_kwargs=litellm_kwargs,
    )
