"""What a run returns: the served output and every attempt it made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call of one path within a run.

    ``score`` is None when the attempt could not be scored; ``error`` holds the
    exception a failed attempt raised and ``error_class`` its kind.
    """

    path: str
    number: int
    score: float | None
    latency_ms: float
    error: BaseException | None = field(default=None, repr=False, compare=False)
    error_class: str | None = None

    @property
    def ok(self) -> bool:
        """True when the path returned an output (whatever its score)."""
        return self.error is None and self.error_class is None

    @property
    def error_text(self) -> str:
        """``str(error)`` through the default redaction (API keys, e-mails... masked)."""
        from router._redact import error_text  # providers' error texts may hold keys, e-mails

        return error_text(self.error)


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of ``Router.route``: the served output and how it was obtained.

    ``escalated``: the output came from the escalation handler (``path`` is
    ``"escalation"``). ``replayed``: the result of an earlier request with the same
    idempotency key, returned without calling a path.

    Example:
        >>> r = RunResult(output=42, path="fast", request_id="r1", score=1.0,
        ...               attempts=(), latency_ms=0.5)
        >>> r.output, r.path
        (42, 'fast')
    """

    output: Any
    path: str
    request_id: str
    score: float
    attempts: tuple[Attempt, ...]
    latency_ms: float
    escalated: bool = False
    replayed: bool = False

    @property
    def fallbacks(self) -> int:
        """How many paths failed before the one that served."""
        return len(self.attempts) - 1
