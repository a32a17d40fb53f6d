"""Escalation (a human, a ticket, an apology) and the alerts the router raises."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from router._names import shown
from router._result import Attempt

if TYPE_CHECKING:
    from router._calls import PathCaller

logger = logging.getLogger("outcome_router")


@dataclass(frozen=True, slots=True)
class Escalation:
    """Where a request goes when no path can serve it well enough.

    Args:
        handler: ``handler(input, attempts)`` returns the output to serve (say, after
            queueing the request for a person); it runs with ``timeout``.
        timeout: seconds the handler may take.
        unstaffed: ``unstaffed(input)`` is served when the handler raises or times out
            (nobody is on shift); without it, the run raises ``AllPathsFailed``.
        below: also escalate an output whose score is below this confidence.

    Example:
        >>> Escalation(lambda request, attempts: "queued for a person", below=0.5).below
        0.5
    """

    handler: Callable[[Any, Sequence[Attempt]], Any]
    timeout: float | None = 30.0
    unstaffed: Callable[[Any], Any] | None = None
    below: float | None = None

    def __post_init__(self) -> None:
        if not callable(self.handler):
            raise ConfigError(f"escalation handler must be callable, got {shown(self.handler)}")
        if self.unstaffed is not None and not callable(self.unstaffed):
            raise ConfigError(f"unstaffed fallback must be callable, got {shown(self.unstaffed)}")
        if self.timeout is not None and not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ConfigError(f"escalation timeout must be > 0 seconds, got {shown(self.timeout)}")
        if self.below is not None and not 0.0 <= self.below <= 1.0:
            raise ConfigError(f"escalation threshold must be in [0, 1], got {shown(self.below)}")


@dataclass(frozen=True, slots=True)
class Alert:
    """Something an operator should hear about: ``auth`` (a path's credentials were
    refused and it was disabled), ``escalation``, ``budget`` ..."""

    kind: str
    task: str
    path: str | None
    message: str
    at: float


def escalate(
    escalation: Escalation, caller: PathCaller, request_input: Any, attempts: Sequence[Attempt]
) -> Any:
    """Run the escalation handler within its timeout; the unstaffed fallback if it fails.

    Raises what the handler raised (or ``PathTimeout``) when there is no fallback.

    Example:
        >>> import time
        >>> from router._calls import PathCaller
        >>> staffed = Escalation(lambda request, attempts: f"ticket for {request}")
        >>> escalate(staffed, PathCaller(time.time), "order 7", [])
        'ticket for order 7'
    """
    from router._calls import timeout_error
    from router._path import Path

    def hand_over(value: Any) -> Any:
        return escalation.handler(value, list(attempts))

    handler = Path(hand_over, name="escalation", timeout=escalation.timeout)
    called = caller.call(handler, request_input)
    error = called.error
    overran = escalation.timeout is not None and called.ended - called.started > escalation.timeout
    if error is None and overran:
        error = timeout_error(handler)
    if error is None:
        return called.output
    if escalation.unstaffed is None:
        raise error
    from router._redact import error_text

    logger.warning(
        "escalation failed (%s: %s); serving the unstaffed fallback",
        type(error).__name__,
        error_text(error),
    )
    return escalation.unstaffed(request_input)
