"""The router's exceptions, and the whole tree re-exported in one place.

::

    RouterError
    ├── ConfigError (ValueError)           bad argument or configuration: fix the call
    │   └── InvalidScoreError              success_fn or report() gave a non-score
    │       └── InvalidCostError           a path or judge reported NaN, infinite or
    │                                      negative cost, or tokens that are not whole
    ├── ScoringError                       success_fn raised while scoring an output
    ├── PathTimeout (TimeoutError)         a path ran past its timeout
    ├── InvalidOutput (ValueError)         a path's output did not fit its model
    ├── RateLimitExceeded                  a customer is over its rate limit
    ├── AllPathsFailed                     every path tried in a run failed
    ├── StreamInterrupted                  a streamed reply failed after chunks went out
    └── StoreError                         the store could not do what was asked
        ├── StoreUnavailableError          cannot reach or open the store
        ├── CorruptStoreError              the file is not a usable database
        ├── InvalidRecordError (ValueError) a value no store can hold (NaN, NUL...)
        └── UnknownRequestError (KeyError) report() for an id the store does not hold
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bandits import ConfigError, InvalidScoreError, RouterError
from storage import (
    CorruptStoreError,
    InvalidRecordError,
    StoreError,
    StoreUnavailableError,
    UnknownRequestError,
)

if TYPE_CHECKING:
    from router._result import Attempt

__all__ = [
    "AllPathsFailed",
    "ConfigError",
    "CorruptStoreError",
    "InvalidCostError",
    "InvalidRecordError",
    "InvalidScoreError",
    "PathTimeout",
    "RateLimitExceeded",
    "RouterError",
    "ScoringError",
    "StoreError",
    "StoreUnavailableError",
    "StreamInterrupted",
    "UnknownRequestError",
]


class InvalidCostError(InvalidScoreError):
    """A path (``Metered``) or a judge (``MeteredScore``) reported a cost that is NaN,
    infinite or negative, or token counts that are not whole numbers >= 0.

    Like an invalid score it is a bug in user code: the run stops with it (nothing is
    counted against a budget), instead of being learned as the path's failure.
    """


class ScoringError(RouterError):
    """``success_fn`` raised; the attempt was recorded as unscored and the run stopped.

    Make ``success_fn`` total: return False for outputs it cannot judge.
    """


class PathTimeout(RouterError, TimeoutError):
    """A path did not return within its timeout (the attempt scores 0)."""


class RateLimitExceeded(RouterError):
    """The request's customer is over its rate limit; ``retry_after`` says when to come back."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StreamInterrupted(RouterError):
    """A path failed after its first chunks were streamed to the caller.

    What was sent cannot be taken back, so there is no fallback: the attempt is recorded
    as failed and this is raised, caused by the path's error. ``chunks`` holds what was
    sent; ``request_id`` and ``path`` say which request and path.

    Example:
        >>> StreamInterrupted("r1", "gpt", ["Hel"], ConnectionError("reset")).chunks
        ['Hel']
    """

    def __init__(
        self, request_id: str, path: str, chunks: Sequence[object], error: BaseException
    ) -> None:
        self.request_id = request_id
        self.path = path
        self.chunks = list(chunks)
        super().__init__(
            f"request {request_id}: path {path!r} failed after streaming {len(self.chunks)} "
            f"chunk(s) ({type(error).__name__}: {error}); the chunks sent cannot be taken "
            "back, so no fallback was tried: retry the request if you need a whole reply"
        )


class AllPathsFailed(RouterError):
    """Every path tried for a request raised; ``attempts`` holds each one in order.

    The message quotes each attempt's error through the default redaction (API keys,
    e-mails, card numbers... masked); the attempts keep the exceptions themselves.

    Example:
        >>> AllPathsFailed("extract", "r1", []).attempts
        []
    """

    def __init__(
        self,
        task: str,
        request_id: str,
        attempts: Sequence[Attempt],
        reason: str = "every path failed",
    ) -> None:
        self.task = task
        self.request_id = request_id
        self.attempts = list(attempts)
        self.reason = reason
        from router._redact import error_text  # providers' error texts may hold keys, e-mails

        lines = "; ".join(
            f"{a.path} (attempt {a.number}): {a.error_class}: {error_text(a.error)}"
            for a in self.attempts
        )
        super().__init__(
            f"request {request_id} of task {task!r} failed ({reason}) after "
            f"{len(self.attempts)} attempt(s): {lines or 'no path was called'}"
        )
