"""Every exception outcome-router raises on purpose, in one tree.

It lives in ``bandits`` because that is the lowest layer: every package imports it and
it imports nothing of ours. Each class names the public package that re-exports it as
its ``__module__``, so a traceback reads ``router.ConfigError`` or
``storage.StoreUnavailableError``, not this module's path. ``router`` re-exports the
whole tree, ``storage`` the store errors, ``bandits`` the three at the top. The tree
(a test checks this drawing against the classes)::

    RouterError
    ├── ConfigError (ValueError)            bad argument or configuration: fix the call
    │   └── InvalidScoreError               success_fn or report() gave a non-score
    │       └── InvalidCostError            a path or judge reported a cost that is not one
    ├── ScoringError                        success_fn raised while scoring an output
    ├── PathTimeout (TimeoutError)          a path ran past its timeout
    ├── InvalidOutput (ValueError)          a path's output did not fit its model
    ├── InputTooLarge (ValueError)          a request's input is over max_input_size
    ├── LoopDetected                        a run looped on one path or tool call
    ├── RateLimitExceeded                   a customer is over its rate limit
    ├── BudgetExceeded                      a daily budget is spent and its action blocks
    ├── AllPathsFailed                      every path tried in a run failed
    ├── StreamInterrupted                   a streamed reply failed after chunks went out
    ├── JudgeError                          the judge model gave no grade
    └── StoreError                          the store could not do what was asked
        ├── StoreUnavailableError           cannot reach or open the store
        ├── CorruptStoreError               the file or database is not a usable store
        ├── SchemaTooNewError               a newer outcome-router migrated the store
        ├── InvalidRecordError (ValueError) a value no store can hold (NaN, NUL...)
        └── UnknownRequestError (KeyError)  report() for an id the store does not hold
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class FailedAttempt(Protocol):
    """What the errors read of an attempt (``router.Attempt`` is one)."""

    @property
    def path(self) -> str:
        """The path called."""
        ...

    @property
    def number(self) -> int:
        """The attempt's number within its run, from 1."""
        ...

    @property
    def score(self) -> float | None:
        """Its score, or None when it could not be scored."""
        ...

    @property
    def latency_ms(self) -> float:
        """How long the call took."""
        ...

    @property
    def error(self) -> BaseException | None:
        """What the call raised, if it did."""
        ...

    @property
    def error_class(self) -> str | None:
        """The kind of failure (``timeout``, ``server_error``...)."""
        ...

    @property
    def error_text(self) -> str:
        """``str(error)``, redacted (keys, e-mails, card numbers masked)."""
        ...


class RouterError(Exception):
    """Base class of every error outcome-router raises on purpose."""

    __module__ = "router"


class ConfigError(RouterError, ValueError):
    """An argument or setting is invalid; the message names it and what to use instead."""

    __module__ = "router"


class InvalidScoreError(ConfigError):
    """A success function or report gave something that is not a score in [0, 1]."""

    __module__ = "router"


class InvalidCostError(InvalidScoreError):
    """A path (``Metered``) or a judge (``MeteredScore``) reported a cost that is NaN,
    infinite or negative, or token counts that are not whole numbers >= 0.

    Like an invalid score it is a bug in user code: the run stops with it (nothing is
    counted against a budget), instead of being learned as the path's failure.
    """

    __module__ = "router"


class ScoringError(RouterError):
    """``success_fn`` raised; the attempt was recorded as unscored and the run stopped.

    Make ``success_fn`` total: return False for outputs it cannot judge.
    """

    __module__ = "router"


class PathTimeout(RouterError, TimeoutError):
    """A path did not return within its timeout (the attempt scores 0)."""

    __module__ = "router"


class InvalidOutput(RouterError, ValueError):
    """A path answered, but its output does not fit the expected model (error class
    ``invalid_output``: the attempt scores 0 and the next path is tried)."""

    __module__ = "router"


class InputTooLarge(RouterError, ValueError):
    """The request input is larger than the router's ``max_input_size``; no path was called."""

    __module__ = "router"


class LoopDetected(RouterError):
    """A run attempted the same path, or called the same tool, more than ``loop_limit`` times.

    The run stops at once (no fallback): an agent stuck in a loop only burns money.
    """

    __module__ = "router"


class RateLimitExceeded(RouterError):
    """The request's customer is over its rate limit; ``retry_after`` says when to come back."""

    __module__ = "router"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BudgetExceeded(RouterError):
    """A task's or customer's daily budget is spent and the budget's action is ``block``.

    ``scope`` names what is over (``task:<t>`` or ``customer:<t>:<c>``); ``attempts``
    holds the attempts the run made before the budget stopped it (often none).
    """

    __module__ = "router"

    def __init__(self, message: str, scope: str, attempts: Sequence[FailedAttempt] = ()) -> None:
        super().__init__(message)
        self.scope = scope
        self.attempts = list(attempts)


class AllPathsFailed(RouterError):
    """Every path tried for a request raised; ``attempts`` holds each one in order.

    The message quotes each attempt's error through the default redaction (API keys,
    e-mails, card numbers... masked); the attempts keep the exceptions themselves.

    Example:
        >>> AllPathsFailed("extract", "r1", []).attempts
        []
    """

    __module__ = "router"

    def __init__(
        self,
        task: str,
        request_id: str,
        attempts: Sequence[FailedAttempt],
        reason: str = "every path failed",
    ) -> None:
        self.task = task
        self.request_id = request_id
        self.attempts = list(attempts)
        self.reason = reason
        lines = "; ".join(
            f"{a.path} (attempt {a.number}): {a.error_class}: {a.error_text}" for a in self.attempts
        )
        super().__init__(
            f"request {request_id} of task {task!r} failed ({reason}) after "
            f"{len(self.attempts)} attempt(s): {lines or 'no path was called'}"
        )


class StreamInterrupted(RouterError):
    """A path failed after its first chunks were streamed to the caller.

    What was sent cannot be taken back, so there is no fallback: the attempt is recorded
    as failed and this is raised, caused by the path's error. ``chunks`` holds what was
    sent; ``request_id`` and ``path`` say which request and path.

    Example:
        >>> StreamInterrupted("r1", "gpt", ["Hel"], ConnectionError("reset")).chunks
        ['Hel']
    """

    __module__ = "router"

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


class JudgeError(RouterError):
    """The judge model failed or did not answer with a grade (and there is no cheap_check)."""

    __module__ = "router"


class StoreError(RouterError):
    """The store could not do what was asked; nothing already stored was changed."""

    __module__ = "storage"


class StoreUnavailableError(StoreError):
    """The store cannot be reached or opened (server down, bad host, missing directory)."""

    __module__ = "storage"


class CorruptStoreError(StoreError):
    """The file or database is not a usable outcome-router store."""

    __module__ = "storage"


class SchemaTooNewError(StoreError):
    """The store's schema revision is newer than this outcome-router knows; upgrade it."""

    __module__ = "storage"


class InvalidRecordError(StoreError, ValueError):
    """A value the store cannot hold: NaN or an infinity in a number, a negative cost,
    tokens that are not whole, a NUL character or a lone surrogate in a text, a name
    longer than its column, metadata that is not JSON. Nothing was written, and the
    store is as reachable as before (this is not an outage)."""

    __module__ = "storage"


class UnknownRequestError(StoreError, KeyError):
    """A report names a request id that the store holds no outcome for, or one that no
    path served (its last attempt raised, timed out or was escalated)."""

    __module__ = "storage"

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
