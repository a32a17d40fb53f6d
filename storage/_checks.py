"""What every store accepts, checked at the boundary so that all stores refuse the same rows.

A value the database would refuse (PostgreSQL: a NUL in a text, NaN in JSON, a name
longer than its column; both SQL stores: a lone surrogate; SQLite: NaN where a number
is required) is refused here, before any SQL runs, with :class:`InvalidRecordError`:
so a bad row is never mistaken for an outage, and ``memory://`` refuses what the SQL
stores refuse. NaN and infinities in an outcome's metadata are not refused but
cleaned (written as JSON ``null``): standard JSON has neither.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from storage._errors import InvalidRecordError, UnknownRequestError
from storage._records import Outcome

NAME_LENGTH = 200  # task, path and customer names (the columns' length)
REQUEST_ID_LENGTH = 64
ERROR_CLASS_LENGTH = 100
SCOPE_LENGTH = 2 * NAME_LENGTH + 16
SEGMENT_LENGTH = 200
MAX_CONTEXT_KEYS = 32
_MAX_DEPTH = 32


def text_problem(value: object, limit: int = NAME_LENGTH) -> str | None:
    """Why ``value`` cannot be stored as a text of at most ``limit`` characters, or None.

    Example:
        >>> text_problem("order-extraction"), text_problem("a\\x00b")
        (None, 'contains a NUL character')
        >>> text_problem("\\ud800")
        'contains a lone surrogate, which is not valid Unicode text'
    """
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    if len(value) > limit:
        return f"has {len(value)} characters, more than {limit}"
    if "\x00" in value:
        return "contains a NUL character"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate, which is not valid Unicode text"
    return None


def check_text(kind: str, value: object, limit: int = NAME_LENGTH) -> str:
    """``value`` if a store can hold it as ``kind``, else InvalidRecordError.

    Example:
        >>> check_text("task", "t\\x00")
        Traceback (most recent call last):
        ...
        storage.InvalidRecordError: task 't\\x00' contains a NUL character; ...
    """
    problem = text_problem(value, limit)
    if problem is not None:
        raise InvalidRecordError(
            f"{kind} {shown(value)} {problem}; stores hold printable text of at most "
            f"{limit} characters"
        )
    assert isinstance(value, str)
    return value


def check_request_id(task: str, request_id: object) -> str:
    """``request_id`` if an outcome can have it, else UnknownRequestError (for reports).

    Example:
        >>> check_request_id("t", "a" * 65)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        storage.UnknownRequestError: no outcome of task 't' can have request id ...
    """
    problem = text_problem(request_id, REQUEST_ID_LENGTH)
    if problem is not None:
        raise UnknownRequestError(
            f"no outcome of task {task!r} can have request id {shown(request_id)}: it "
            f"{problem}; report ids returned by Router.route() (RunResult.request_id)"
        )
    assert isinstance(request_id, str)
    return request_id


def check_outcome(outcome: Outcome) -> Outcome:
    """``outcome`` if every store can hold it (with NaN in its metadata made ``null``).

    Raises:
        InvalidRecordError: a text, number or metadata value no store can hold.

    Example:
        >>> row = Outcome("r1", 1, "t", "a", 1.0, created_at=0.0, metadata={"c": float("nan")})
        >>> check_outcome(row).metadata
        {'c': None}
        >>> check_outcome(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0, cost=-1.0))
        Traceback (most recent call last):
        ...
        storage.InvalidRecordError: outcome ('r1', 1) of task 't' cannot be stored: ...
    """
    problem = None if _plainly_fine(outcome) else _problem(outcome)
    if problem is not None:
        raise InvalidRecordError(
            f"outcome ({shown(outcome.request_id)}, {shown(outcome.attempt)}) of task "
            f"{shown(outcome.task)} cannot be stored: {problem}; nothing was written"
        )
    metadata = outcome.metadata
    if metadata:
        cleaned = json_metadata(metadata)
        if cleaned is not metadata:
            return replace(outcome, metadata=cleaned)
    return outcome


def check_outcomes(outcomes: list[Outcome]) -> list[Outcome]:
    """:func:`check_outcome` of each (a batch is refused whole if one row is bad)."""
    return [check_outcome(outcome) for outcome in outcomes]


def check_spend(scope: str, tokens: object, cost: object) -> None:
    """Raise InvalidRecordError unless a spend change is a whole token count and a
    finite dollar amount (either may be negative: a reservation given back).

    Example:
        >>> check_spend("task:t", 10, 0.5)
        >>> check_spend("task:t", 10, float("nan"))
        Traceback (most recent call last):
        ...
        storage.InvalidRecordError: spending of 'task:t' cannot be stored: cost is nan...
    """
    check_text("spend scope", scope, SCOPE_LENGTH)
    problem = None
    if not _is_int(tokens):
        problem = f"tokens are {shown(tokens)}, not a whole number"
    elif not (_is_number(cost) and math.isfinite(cost)):  # type: ignore[arg-type]
        problem = f"cost is {shown(cost)}, not a finite number of dollars"
    if problem is not None:
        raise InvalidRecordError(
            f"spending of {scope!r} cannot be stored: {problem}; nothing was added"
        )


def json_metadata(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    """``metadata`` if it is JSON, or a copy with NaN and infinities as None.

    Raises:
        InvalidRecordError: keys that are not strings, or values that are not JSON.

    Example:
        >>> json_metadata({"cost": float("inf"), "n": [1, float("nan")]})
        {'cost': None, 'n': [1, None]}
    """
    try:
        metadata_text(metadata)
    except InvalidRecordError:
        cleaned = _finite(metadata, 0)
        metadata_text(cleaned)  # still refused: not JSON for another reason
        assert isinstance(cleaned, Mapping)
        return cleaned
    return metadata


def metadata_text(metadata: Mapping[str, Any]) -> str:
    """The standard JSON text of ``metadata`` (InvalidRecordError if it has none).

    Example:
        >>> metadata_text({"error": "ConnectionError"})
        '{"error": "ConnectionError"}'
    """
    import json  # here, not at top: `import router` stays free of json (cold start)

    try:
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
            raise TypeError("metadata must be a mapping with string keys")
        return json.dumps(dict(metadata), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidRecordError(
            f"outcome metadata {shown(metadata)} is not JSON ({exc}); use strings, "
            "numbers, booleans, None, lists and dicts with string keys"
        ) from None


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)``, shortened, and never raising (a broken ``__repr__`` included).

    Example:
        >>> class Broken:
        ...     def __repr__(self): raise RuntimeError("no repr")
        >>> shown(Broken())
        '<Broken object (repr failed)>'
    """
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} object (repr failed)>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


_NUMBER = (int, float)
_GOOD: dict[int, set[str]] = {NAME_LENGTH: set(), ERROR_CLASS_LENGTH: set()}
_GOOD_KEPT = 4_096  # names remembered per length limit (then forgotten, and checked again)


def known_good(text: object, limit: int = NAME_LENGTH) -> bool:
    """A fast yes for a plain ASCII name a store can hold (names recur on every request,
    so each is checked once and remembered); False means "check it closely".

    Example:
        >>> known_good("order-extraction"), known_good("a\\x00b"), known_good(7)
        (True, False, False)
    """
    if type(text) is not str:
        return False
    good = _GOOD[limit]
    if text in good:
        return True
    if len(text) > limit or not text.isascii() or "\x00" in text:
        return False
    if len(good) >= _GOOD_KEPT:
        good.clear()
    good.add(text)
    return True


def _plainly_fine(o: Outcome) -> bool:  # noqa: PLR0911 - the hot path, one test per field
    """The common case, checked fast: ASCII names, plain finite numbers in range. False
    only means "look closer" (:func:`_problem` decides, and gives the reason)."""
    request_id = o.request_id
    if not (
        type(request_id) is str
        and len(request_id) <= REQUEST_ID_LENGTH
        and request_id.isascii()
        and "\x00" not in request_id
    ):
        return False
    if not (known_good(o.task) and known_good(o.path)):
        return False
    if o.customer is not None and not known_good(o.customer):
        return False
    if o.error_class is not None and not known_good(o.error_class, ERROR_CLASS_LENGTH):
        return False
    if type(o.attempt) is not int or type(o.errored) is not bool:
        return False
    score, propensity, cost, latency = o.score, o.propensity, o.cost, o.latency_ms
    if score is not None and not (type(score) in _NUMBER and 0.0 <= score <= 1.0):
        return False
    if propensity is not None and not (type(propensity) in _NUMBER and 0.0 <= propensity <= 1.0):
        return False
    if cost is not None and not (type(cost) in _NUMBER and 0.0 <= cost < math.inf):
        return False
    if not (type(latency) in _NUMBER and 0.0 <= latency < math.inf):
        return False
    if not (type(o.created_at) in _NUMBER and -math.inf < o.created_at < math.inf):
        return False
    for count in (o.tokens_in, o.tokens_out, o.tick):
        if count is not None and not (type(count) is int and count >= 0):
            return False
    return (o.segment is None and o.context is None) or _plain_request(o)


def _plain_request(o: Outcome) -> bool:
    """A plain segment name and context (see :func:`_plain_context`)."""
    segment, context = o.segment, o.context
    if segment is not None and not known_good(segment, SEGMENT_LENGTH):
        return False
    return context is None or _plain_context(context)


def _plain_context(context: object) -> bool:
    """The common context, checked fast: a small dict of ASCII keys to plain values."""
    if type(context) is not dict or len(context) > MAX_CONTEXT_KEYS:
        return False
    for key, value in context.items():
        if not (type(key) is str and known_good(key)):
            return False
        kind = type(value)
        if kind is str:
            if not known_good(value):
                return False
        elif kind is float:
            if not -math.inf < value < math.inf:
                return False
        elif kind is not int and kind is not bool:
            return False
    return True


def _problem(outcome: Outcome) -> str | None:  # noqa: PLR0911 - one check per field
    texts: tuple[tuple[str, object, int], ...] = (
        ("request id", outcome.request_id, REQUEST_ID_LENGTH),
        ("task", outcome.task, NAME_LENGTH),
        ("path", outcome.path, NAME_LENGTH),
        ("customer", outcome.customer or "", NAME_LENGTH),
        ("error class", outcome.error_class or "", ERROR_CLASS_LENGTH),
        ("segment", outcome.segment or "", SEGMENT_LENGTH),
    )
    for kind, text, limit in texts:
        problem = text_problem(text, limit)
        if problem is not None:
            return f"its {kind} {shown(text)} {problem}"
    if not _is_int(outcome.attempt):
        return f"attempt {shown(outcome.attempt)} is not a whole number"
    if not isinstance(outcome.errored, bool):
        return f"errored {shown(outcome.errored)} is not a bool"
    numbers: tuple[tuple[str, object, float], ...] = (
        ("score", outcome.score, 1.0),
        ("propensity", outcome.propensity, 1.0),
        ("cost", outcome.cost, math.inf),
        ("latency_ms", outcome.latency_ms, math.inf),
    )
    for kind, number, high in numbers:
        if number is not None and not _within(number, high):
            bound = "in [0, 1]" if high == 1.0 else ">= 0"
            return f"{kind} {shown(number)} is not a finite number {bound}"
    if not (_is_number(outcome.created_at) and math.isfinite(outcome.created_at)):
        return f"created_at {shown(outcome.created_at)} is not a finite time"
    counts = (
        ("tokens_in", outcome.tokens_in),
        ("tokens_out", outcome.tokens_out),
        ("tick", outcome.tick),
        ("segment_tick", outcome.segment_tick),
    )
    for kind, count in counts:
        if count is not None and not (_is_int(count) and count >= 0):
            return f"{kind} {shown(count)} is not a whole number >= 0"
    return context_problem(outcome.context)


def context_problem(context: object) -> str | None:
    """Why a request's context cannot be stored, or None: it must be a dict of at most
    ``MAX_CONTEXT_KEYS`` string keys to str, bool, int or finite float values.

    Example:
        >>> context_problem({"lang": "de", "length": 1840}) is None
        True
        >>> context_problem({"length": float("nan")})
        "context value of 'length' is nan, not a finite number"
    """
    if context is None or _plain_context(context):
        return None
    if not isinstance(context, Mapping):
        return f"context {shown(context)} is not a dict"
    if len(context) > MAX_CONTEXT_KEYS:
        return f"context has {len(context)} keys, more than {MAX_CONTEXT_KEYS}"
    for key, value in context.items():
        problem = _context_item_problem(key, value)
        if problem is not None:
            return problem
    return None


def _context_item_problem(key: object, value: object) -> str | None:
    problem = text_problem(key, NAME_LENGTH)
    if problem is not None:
        return f"context key {shown(key)} {problem}"
    if isinstance(value, str):
        problem = text_problem(value, NAME_LENGTH)
        return None if problem is None else f"context value of {key!r} {problem}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"context value of {key!r} is {value!r}, not a finite number"
    if not isinstance(value, bool | int | float):
        return (
            f"context value of {key!r} is a {type(value).__name__} {shown(value)}; "
            "use a str, bool, int or float"
        )
    return None


def _within(value: object, high: float) -> bool:
    """Is ``value`` a finite number in [0, high]?"""
    return isinstance(value, int | float) and math.isfinite(value) and 0.0 <= value <= high


def _is_number(value: object) -> bool:
    return isinstance(value, int | float)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any, depth: int) -> Any:
    """``value`` with every NaN or infinite float replaced by None (nested, bounded depth)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {key: _finite(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item, depth + 1) for item in value]
    return value
