"""Judged success: a ``success_fn`` that has a model grade each output."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from bandits._errors import JudgeError as JudgeError  # noqa: PLC0414 (old home)
from router._budget import MeteredScore
from router._litellm import LITELLM, require_litellm
from router._llm_request import (
    RESERVED,
    Message,
    check_kwargs,
    check_price,
    content_of,
    is_number,
    usage_of,
)

if TYPE_CHECKING:
    import numpy as np


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
        if threshold is not None and not (is_number(threshold) and 0.0 <= threshold <= 1.0):
            raise ConfigError(f"threshold must be in [0, 1] or None, got {threshold!r}")
        if not (is_number(sample) and 0.0 < sample <= 1.0):
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
        self.price_per_1k_tokens = check_price(price_per_1k_tokens)
        self.litellm_kwargs = check_kwargs(litellm_kwargs, RESERVED - {"timeout"})
        if rng is None and sample < 1.0:
            import numpy as np

            rng = np.random.default_rng()
        LITELLM.start()  # here, or off the event loop: never inside a timed call
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
        litellm = LITELLM.get()
        messages = self.messages(request_input, output)
        response = litellm.completion(model=self.model, messages=messages, **self.litellm_kwargs)
        usage = usage_of(litellm, response, self.price_per_1k_tokens)
        with self._lock:
            self.calls += 1
            self.spent_tokens += usage.tokens_in + usage.tokens_out
            if usage.cost is None:
                self.unpriced_calls += 1
            else:
                self.spent_cost += usage.cost
        grade = _parse_grade(content_of(response))
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
    require_litellm()
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
