"""A request's context: the features a caller gives (``context={"lang": "de"}``) or a
router derives from the input (``Router(context=fn)``), checked, and its segment.

Values are str, bool, int or float. The categorical ones (str and bool) name the
request's *segment* (``"lang=de&tier=pro"``), which has its own posteriors, shrunk
toward the task's (see :mod:`bandits._shrinkage`). Numeric values are stored with each
outcome (for analysis and off-policy evaluation) and do not split traffic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bandits import ConfigError
from storage._checks import SEGMENT_LENGTH, context_problem

ContextValue = str | bool | int | float
ContextFn = Callable[[Any], Mapping[str, ContextValue] | None]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """One request's checked context, its segment (None: no categorical value), and
    the segment's count of scored attempts when the request was planned."""

    values: Mapping[str, ContextValue]
    segment: str | None
    segment_tick: int | None = None


def check_context(context: object, *, given_by: str = "context=") -> dict[str, ContextValue]:
    """``context`` as a plain dict, if a store can keep it; ConfigError otherwise.

    Example:
        >>> check_context({"lang": "de", "length": 1840})
        {'lang': 'de', 'length': 1840}
        >>> check_context({"length": float("nan")})
        Traceback (most recent call last):
        ...
        router.ConfigError: context= is not usable: context value of 'length' is nan, ...
    """
    problem = context_problem(context)
    if problem is not None:
        raise ConfigError(
            f"{given_by} is not usable: {problem}; pass a dict of at most 32 str keys to "
            "str, bool, int or float values, e.g. {'lang': 'de', 'length': 1840}"
        )
    assert isinstance(context, Mapping)
    return dict(context)


def segment_of(context: Mapping[str, ContextValue]) -> str | None:
    """The segment the categorical values of ``context`` name, in a canonical form (keys
    sorted, URL-encoded); None when it has none. A form too long to store is a digest.

    Example:
        >>> segment_of({"tier": "pro", "lang": "de", "length": 1840})
        'lang=de&tier=pro'
        >>> segment_of({"length": 1840}) is None, segment_of({"beta": True})
        (True, 'beta=true')
    """
    pairs = tuple(
        sorted(
            (key, ("true" if value else "false") if isinstance(value, bool) else value)
            for key, value in context.items()
            if isinstance(value, str | bool)
        )
    )
    if not pairs:
        return None
    known = _SEGMENTS.get(pairs)
    if known is None:
        known = _SEGMENTS[pairs] = _segment_name(pairs)
        if len(_SEGMENTS) > _SEGMENT_CACHE:
            _SEGMENTS.pop(next(iter(_SEGMENTS)))  # the oldest name: computed again if needed
    return known


_SEGMENTS: dict[tuple[tuple[str, str], ...], str] = {}
_SEGMENT_CACHE = 10_000


def _segment_name(pairs: tuple[tuple[str, str], ...]) -> str:
    from urllib.parse import urlencode

    segment = urlencode(pairs)
    if len(segment) <= SEGMENT_LENGTH:
        return segment
    return "sha256:" + hashlib.sha256(segment.encode("utf-8", "surrogatepass")).hexdigest()


def derive_context(derive: ContextFn, request_input: Any) -> dict[str, ContextValue] | None:
    """The context ``Router(context=fn)`` derives from ``request_input`` (None: none).

    Raises:
        ConfigError: ``fn`` raised, or returned something other than a usable dict.

    Example:
        >>> derive_context(lambda text: {"length": len(text)}, "hello")
        {'length': 5}
    """
    try:
        derived = derive(request_input)
    except Exception as exc:
        raise ConfigError(
            f"Router(context=...) raised {type(exc).__name__}: {exc}; make it return a "
            "dict for every input (or None for no context)"
        ) from exc
    if derived is None:
        return None
    return check_context(derived, given_by="the dict Router(context=...) returned")
