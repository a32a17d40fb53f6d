"""Adapting ``success_fn`` and turning what it returns into a score in [0, 1]."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from bandits import ConfigError, check_score
from router._errors import ScoringError

_NOTHING: tuple[int, float | None] = (0, None)


class Scorer:
    """Calls ``success_fn(output)`` or ``success_fn(input, output)`` and validates the score.

    The arity is read once from the signature: two required positional parameters
    mean ``(input, output)``, anything else ``(output)``.

    Example:
        >>> Scorer(lambda order: order is not None).score("text", {"item": "pen"})
        1.0
        >>> Scorer(lambda text, order: len(order) / 4).score("text", "ab")
        0.5
    """

    __slots__ = ("_fn", "_wants_input")

    def __init__(self, success_fn: Callable[..., Any]) -> None:
        if not callable(success_fn):
            raise ConfigError(
                f"success_fn must be callable, got {type(success_fn).__name__} {success_fn!r}; "
                "e.g. success_fn=lambda output: output is not None"
            )
        self._fn = success_fn
        self._wants_input = _required_positional(success_fn) == 2

    def score(self, request_input: Any, output: Any) -> float:
        """Score one output. Raises InvalidScoreError or ScoringError (a bug in success_fn)."""
        return self.measure(request_input, output)[0]

    def measure(self, request_input: Any, output: Any) -> tuple[float, tuple[int, float | None]]:
        """The score, and the (tokens, cost) scoring spent (``MeteredScore``; else (0, None))."""
        try:
            raw = self._fn(request_input, output) if self._wants_input else self._fn(output)
        except Exception as exc:
            raise ScoringError(
                f"success_fn raised {type(exc).__name__}: {exc}; make it return False for "
                "outputs it cannot judge"
            ) from exc
        spent = (
            (getattr(raw, "tokens", 0), getattr(raw, "cost", None))
            if isinstance(raw, float)
            else _NOTHING
        )
        return check_score(raw), spent


def _required_positional(fn: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins such as bool have no signature
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds and p.default is inspect.Parameter.empty)
