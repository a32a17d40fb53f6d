"""Store errors (drawn with the whole tree in ``bandits._errors``) and the served check."""

from __future__ import annotations

from bandits._errors import (
    CorruptStoreError,
    InvalidRecordError,
    SchemaTooNewError,
    StoreError,
    StoreUnavailableError,
    UnknownRequestError,
)

__all__ = [
    "SCORABLE_ERROR_CLASSES",
    "CorruptStoreError",
    "InvalidRecordError",
    "SchemaTooNewError",
    "StoreError",
    "StoreUnavailableError",
    "UnknownRequestError",
    "check_served",
]


# A last attempt with one of these (or no) error class returned the output the caller
# got (the score alone failed): a report may score it. Other classes mean the call
# failed, or the request was escalated: no path's output was served to score.
SCORABLE_ERROR_CLASSES = frozenset({"invalid_score", "scoring_error"})


def check_served(task: str, request_id: str, path: str, error_class: str | None) -> None:
    """Raise UnknownRequestError unless the request's last attempt served an output.

    Example:
        >>> check_served("t", "r1", "a", None)  # answered: may be scored
        >>> check_served("t", "r1", "a", "timeout")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        storage.UnknownRequestError: request 'r1' of task 't' was not served ...
    """
    if error_class is None or error_class in SCORABLE_ERROR_CLASSES:
        return
    raise UnknownRequestError(
        f"request {request_id!r} of task {task!r} was not served by a path: its last "
        f"attempt (path {path!r}) ended with {error_class!r}, so there is no output to "
        "score; report only requests that a path answered"
    )
