"""What a router tells its observers (logs, metrics, traces): one event per attempt and run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class AttemptEvent:
    """One call of one path, after it was judged and recorded.

    ``input`` and ``output`` are the raw values; observers must not emit them unless
    their user asked to (and then redacted).
    """

    task: str
    request_id: str
    attempt: int
    path: str
    score: float | None
    error_class: str | None
    latency_ms: float
    tokens: int
    cost: float | None
    customer: str | None
    propensity: float | None
    at: float
    input: Any = None
    output: Any = None


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One request, when it ended: served, escalated, or failed with ``error``.

    ``decision`` is the path order the policy chose; ``served_by`` the path (or
    ``"escalation"``) whose output was returned, None when the run raised.
    """

    task: str
    request_id: str
    decision: Sequence[str]
    served_by: str | None
    score: float | None
    attempts: int
    fallbacks: int
    escalated: bool
    latency_ms: float
    cost: float
    customer: str | None
    error: str | None
    at: float
    input: Any = None
    output: Any = None


@runtime_checkable
class Observer(Protocol):
    """Receives a router's events; must be fast and must not raise (errors are logged).

    Example:
        >>> class Count:
        ...     def __init__(self): self.runs = 0
        ...     def on_attempt(self, event): pass
        ...     def on_run(self, event): self.runs += 1
        >>> isinstance(Count(), Observer)
        True
    """

    def on_attempt(self, event: AttemptEvent) -> None:
        """Called after each attempt is recorded."""
        ...

    def on_run(self, event: RunEvent) -> None:
        """Called when a run ends (served, escalated or raised)."""
        ...
