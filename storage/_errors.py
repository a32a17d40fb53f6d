"""Store errors; they extend the tree drawn in ``bandits._errors``::

StoreError                        the store could not do what was asked
├── StoreUnavailableError         cannot reach or open the store
├── CorruptStoreError             the file or database is not a usable store
├── SchemaTooNewError             a newer outcome-router migrated the store
├── InvalidRecordError (ValueError) a value no store can hold (NaN, NUL, a lone
│                                 surrogate, a name too long, metadata not JSON)
└── UnknownRequestError (KeyError) report() for an id the store does not hold,
                                  or for a request no path served
"""

from __future__ import annotations

from bandits import RouterError


class StoreError(RouterError):
    """The store could not do what was asked; nothing already stored was changed."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or opened (server down, bad host, missing directory)."""


class CorruptStoreError(StoreError):
    """The file or database is not a usable outcome-router store."""


class SchemaTooNewError(StoreError):
    """The store's schema revision is newer than this outcome-router knows; upgrade it."""


class InvalidRecordError(StoreError, ValueError):
    """A value the store cannot hold: NaN or an infinity in a number, a negative cost,
    tokens that are not whole, a NUL character or a lone surrogate in a text, a name
    longer than its column, metadata that is not JSON. Nothing was written, and the
    store is as reachable as before (this is not an outage)."""


class UnknownRequestError(StoreError, KeyError):
    """A report names a request id that the store holds no outcome for, or one that no
    path served (its last attempt raised, timed out or was escalated)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


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
        storage._errors.UnknownRequestError: request 'r1' of task 't' was not served ...
    """
    if error_class is None or error_class in SCORABLE_ERROR_CLASSES:
        return
    raise UnknownRequestError(
        f"request {request_id!r} of task {task!r} was not served by a path: its last "
        f"attempt (path {path!r}) ended with {error_class!r}, so there is no output to "
        "score; report only requests that a path answered"
    )
