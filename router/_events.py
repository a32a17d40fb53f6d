"""What a router tells its observers (logs, metrics, traces): one event per attempt and run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from bandits import RouterError
    from router._attempts import Judged
    from router._flow import RunPlan
    from router._result import RunResult

logger = logging.getLogger("outcome_router")


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


def attempt_event(  # noqa: PLR0917 - the router's view of one attempt, in one place
    task: str,
    plan: RunPlan,
    request_input: Any,
    judged: Judged,
    customer: str | None,
    at: float,
) -> AttemptEvent:
    """The event of one judged attempt of ``plan``."""
    attempt = judged.attempt
    return AttemptEvent(
        task=task,
        request_id=plan.request_id,
        attempt=attempt.number,
        path=attempt.path,
        score=attempt.score,
        error_class=attempt.error_class,
        latency_ms=attempt.latency_ms,
        tokens=judged.tokens,
        cost=judged.cost,
        customer=customer,
        propensity=plan.propensities.get(attempt.path),
        at=at,
        input=request_input,
        output=judged.output,
    )


def run_event(  # noqa: PLR0917 - the router's view of one run, in one place
    task: str,
    plan: RunPlan,
    request_input: Any,
    customer: str | None,
    result: RunResult | None,
    error: RouterError | None,
    at: float,
) -> RunEvent:
    """The event of a run that ended with ``result`` or raised ``error``."""
    return RunEvent(
        task=task,
        request_id=plan.request_id,
        decision=tuple(p.name for p in plan.ranking),
        served_by=None if result is None else result.path,
        score=None if result is None else result.score,
        attempts=len(plan.attempts),
        fallbacks=max(0, len({a.path for a in plan.attempts}) - 1),
        escalated=result is not None and result.escalated,
        latency_ms=(at - plan.started_at) * 1000.0,
        cost=plan.spent_cost,
        customer=customer,
        error=None if error is None else f"{type(error).__name__}: {error}",
        at=at,
        input=request_input,
        output=None if result is None else result.output,
    )


def notify(observers: Sequence[Observer], method: str, event: AttemptEvent | RunEvent) -> None:
    """Call ``method`` of each observer with ``event``; an observer's error is only logged."""
    for observer in observers:
        try:
            getattr(observer, method)(event)
        except Exception:  # an observer must never fail the request
            logger.exception("observer %r failed on %s", observer, method)
