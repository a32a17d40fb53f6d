"""Guardrails: a ceiling on input size, and loop detection within one run."""

from __future__ import annotations

import contextvars
from collections import Counter
from typing import Any

from bandits import ConfigError
from bandits._errors import InputTooLarge as InputTooLarge  # noqa: PLC0414 (old home)
from bandits._errors import LoopDetected as LoopDetected  # noqa: PLC0414 (old home)


def input_size(value: Any) -> int:
    """Characters of a string, bytes of bytes, else characters of its JSON form; a
    buffer inside it (a numpy array, a memoryview) counts its bytes, not its summary.

    Raises whatever measuring raised (``RecursionError`` for a structure nested too
    deeply, an error from an object's ``repr``): the caller refuses such an input.

    Example:
        >>> input_size("hello"), input_size({"q": "hi"}), input_size(memoryview(bytes(64)))
        (5, 11, 66)
        >>> # the memoryview: its 64 bytes, and the quotes of the "" standing for it
    """
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    import json  # here, not at top: cold start of `import router`

    buffers: list[int] = []

    def summary(item: Any) -> str:
        nbytes = getattr(item, "nbytes", None)
        if isinstance(nbytes, int):  # str() of a large array is a short summary
            buffers.append(nbytes)
            return ""
        return str(item)

    try:
        return len(json.dumps(value, default=summary)) + sum(buffers)
    except (TypeError, ValueError):
        return len(repr(value))


class RunGuard:
    """Counts the path attempts and tool calls of one run against ``limit``.

    Example:
        >>> guard = RunGuard(limit=2)
        >>> guard.count("tool:search"); guard.count("tool:search")
        >>> guard.count("tool:search")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        router._guard.LoopDetected: 'tool:search' was attempted 3 times in one run
    """

    __slots__ = ("_counts", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: Counter[str] = Counter()

    def count(self, key: str) -> None:
        """One more attempt of ``key``; raises LoopDetected past the limit."""
        self._counts[key] += 1
        seen = self._counts[key]
        if seen > self.limit:
            raise LoopDetected(
                f"{key!r} was attempted {seen} times in one run (loop_limit={self.limit}); "
                "the run was stopped: check the agent's stopping condition or raise loop_limit"
            )


CURRENT_GUARD: contextvars.ContextVar[RunGuard | None] = contextvars.ContextVar(
    "outcome_router_run_guard", default=None
)


def note_tool_call(name: str) -> None:
    """Count a tool call of the current run; raises LoopDetected past the router's loop_limit.

    Call it from inside a path (an agent) before each tool call. Outside a run, or on a
    router without ``loop_limit``, it does nothing.

    Example:
        >>> note_tool_call("search")  # not inside a run: nothing happens
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"a tool name must be a non-empty string, got {name!r}")
    guard = CURRENT_GUARD.get()
    if guard is not None:
        guard.count(f"tool:{name}")
