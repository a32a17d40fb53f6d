"""Adapting ``success_fn`` and turning what it returns into a score in [0, 1]."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from bandits import ConfigError, InvalidScoreError, check_score
from router._budget import check_cost, check_tokens
from router._calls import awaited
from router._errors import ScoringError
from router._names import shown

_NOTHING: tuple[int, float | None] = (0, None)


class Scorer:
    """Calls ``success_fn(output)`` or ``success_fn(input, output)`` and validates the score.

    The arity is read once from the signature: two required positional parameters
    mean ``(input, output)``, anything else ``(output)``. An async ``success_fn`` (or
    one returning an awaitable) is awaited: by :meth:`ameasure` on the caller's event
    loop, by :meth:`measure` through ``run_coroutine`` (the router's private loop).

    Example:
        >>> Scorer(lambda order: order is not None).score("text", {"item": "pen"})
        1.0
        >>> Scorer(lambda text, order: len(order) / 4).score("text", "ab")
        0.5
        >>> async def graded(order): return 0.25
        >>> Scorer(graded).score("text", "ab")
        0.25
    """

    __slots__ = ("_fn", "_run_coroutine", "_wants_input")

    def __init__(
        self,
        success_fn: Callable[..., Any],
        run_coroutine: Callable[[Awaitable[Any]], Any] | None = None,
    ) -> None:
        if not callable(success_fn):
            raise ConfigError(
                f"success_fn must be callable, got {type(success_fn).__name__} "
                f"{shown(success_fn)}; "
                "e.g. success_fn=lambda output: output is not None"
            )
        self._fn = success_fn
        self._wants_input = _required_positional(success_fn) == 2
        self._run_coroutine = run_coroutine or _run_to_completion

    def score(self, request_input: Any, output: Any) -> float:
        """Score one output. Raises InvalidScoreError or ScoringError (a bug in success_fn)."""
        return self.measure(request_input, output)[0]

    def measure(self, request_input: Any, output: Any) -> tuple[float, tuple[int, float | None]]:
        """The score, and the (tokens, cost) scoring spent (``MeteredScore``; else (0, None))."""
        raw = self._call(request_input, output)
        if not isinstance(raw, _PLAIN) and inspect.isawaitable(raw):
            try:
                raw = self._run_coroutine(raw)
            except Exception as exc:
                raise _scoring_error(exc) from exc
        return _measured(raw)

    async def ameasure(
        self, request_input: Any, output: Any
    ) -> tuple[float, tuple[int, float | None]]:
        """:meth:`measure` from async code: an awaitable score is awaited here."""
        raw = self._call(request_input, output)
        if not isinstance(raw, _PLAIN) and inspect.isawaitable(raw):
            try:
                raw = await raw
            except Exception as exc:
                raise _scoring_error(exc) from exc
        return _measured(raw)

    def _call(self, request_input: Any, output: Any) -> Any:
        try:
            return self._fn(request_input, output) if self._wants_input else self._fn(output)
        except InvalidScoreError:
            raise  # e.g. a MeteredScore with a NaN cost: the score itself is the bug
        except Exception as exc:
            raise _scoring_error(exc) from exc


_PLAIN = (bool, int, float)  # what success_fn usually returns: not awaitable, no check


def _measured(raw: Any) -> tuple[float, tuple[int, float | None]]:
    score = check_score(raw)
    if not isinstance(raw, float) or raw.__class__ is float:
        return score, _NOTHING
    # A MeteredScore (or a float subclass that says what scoring cost): checked here
    # too, since its attributes can be set after it was made.
    tokens = check_tokens("the score's tokens", getattr(raw, "tokens", 0)) or 0
    return score, (tokens, check_cost("the score's cost", getattr(raw, "cost", None)))


def _scoring_error(exc: Exception) -> ScoringError:
    from router._redact import error_text  # its text may quote the output it judged

    return ScoringError(
        f"success_fn raised {type(exc).__name__}: {error_text(exc)}; make it return False "
        "for outputs it cannot judge"
    )


def _run_to_completion(awaitable: Awaitable[Any]) -> Any:
    """Await ``awaitable`` from sync code without a router (a fresh event loop)."""
    import asyncio

    return asyncio.run(awaited(awaitable))


def _required_positional(fn: Callable[..., Any]) -> int:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins such as bool have no signature
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in parameters if p.kind in kinds and p.default is inspect.Parameter.empty)
