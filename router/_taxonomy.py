"""What an exception from a path means: retry it, wait, give up on the path, or raise the alarm."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import StrEnum

from bandits import ConfigError
from router._names import shown


class ErrorClass(StrEnum):
    """The kinds of failure the router treats differently (the outcome's ``error_class``).

    * ``transient``: 5xx, connection errors: retried with backoff.
    * ``timeout``: the call overran its timeout (or the run's deadline): retried.
    * ``rate_limited``: 429: retried after Retry-After when the provider sent one.
    * ``client_error``: 400, 404, 422, a context window exceeded, a content policy: not
      retried (optionally re-asked once with the error as context).
    * ``auth``: 401, 403: never retried; the path is marked unhealthy and an alert fires.
    * ``invalid_output``: the path answered, but its output failed validation.
    * ``error``: anything else: not retried; the next path is tried.
    * ``cancelled``: the caller cancelled its ``arun`` during the call (recorded
      unscored; the path is not blamed).
    """

    TRANSIENT = "transient"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    CLIENT = "client_error"
    AUTH = "auth"
    INVALID_OUTPUT = "invalid_output"
    OTHER = "error"
    CANCELLED = "cancelled"


RETRYABLE = frozenset({ErrorClass.TRANSIENT, ErrorClass.TIMEOUT, ErrorClass.RATE_LIMITED})

Classify = Callable[[BaseException], "ErrorClass | None"]
"""A user rule: an ErrorClass for exceptions it recognises, None to defer to the defaults."""

_BY_STATUS = {
    401: ErrorClass.AUTH,
    403: ErrorClass.AUTH,
    408: ErrorClass.TIMEOUT,
    429: ErrorClass.RATE_LIMITED,
}
# Class names used by openai, anthropic, litellm, httpx and requests.
_BY_NAME = (
    ("ratelimit", ErrorClass.RATE_LIMITED),
    ("timeout", ErrorClass.TIMEOUT),
    ("authentication", ErrorClass.AUTH),
    ("permissiondenied", ErrorClass.AUTH),
    ("contextwindow", ErrorClass.CLIENT),
    ("contentpolicy", ErrorClass.CLIENT),
    ("badrequest", ErrorClass.CLIENT),
    ("unprocessable", ErrorClass.CLIENT),
    ("notfound", ErrorClass.CLIENT),
    ("serviceunavailable", ErrorClass.TRANSIENT),
    ("internalserver", ErrorClass.TRANSIENT),
    ("apiconnection", ErrorClass.TRANSIENT),
    ("connecterror", ErrorClass.TRANSIENT),
    ("remoteprotocol", ErrorClass.TRANSIENT),
)


def status_code_of(error: BaseException) -> int | None:
    """The HTTP status an exception carries (``status_code``, ``status`` or ``response``)."""
    for holder in (error, getattr(error, "response", None)):
        for attribute in ("status_code", "status"):
            value = getattr(holder, attribute, None)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
    return None


def default_classify(error: BaseException) -> ErrorClass:
    """Classify by HTTP status, then by well-known exception class names, then by type.

    Example:
        >>> class ProviderError(Exception):
        ...     status_code = 503
        >>> default_classify(ProviderError()).value, default_classify(TimeoutError()).value
        ('transient', 'timeout')
    """
    status = status_code_of(error)
    if status is not None and status >= 400:
        return _BY_STATUS.get(status, ErrorClass.TRANSIENT if status >= 500 else ErrorClass.CLIENT)
    for kind in type(error).__mro__:
        name = kind.__name__.lower().replace("_", "")
        for needle, error_class in _BY_NAME:
            if needle in name:
                return error_class
    if isinstance(error, TimeoutError):
        return ErrorClass.TIMEOUT
    if isinstance(error, ConnectionError):
        return ErrorClass.TRANSIENT
    return ErrorClass.OTHER


class Classifier:
    """Default classification, overridden by the user's rules (checked first, in order).

    Example:
        >>> class QuotaExceeded(Exception): ...
        >>> classifier = Classifier().register(QuotaExceeded, ErrorClass.RATE_LIMITED)
        >>> classifier(QuotaExceeded()).value
        'rate_limited'
    """

    def __init__(self, *rules: Classify) -> None:
        for rule in rules:
            if not callable(rule):
                raise ConfigError(f"a classification rule must be callable, got {shown(rule)}")
        self._rules: list[Classify] = list(rules)

    def register(self, kind: type[BaseException], error_class: ErrorClass | str) -> Classifier:
        """Classify ``kind`` (and its subclasses) as ``error_class``; returns self."""
        target = ErrorClass(error_class)
        self._rules.insert(0, lambda error: target if isinstance(error, kind) else None)
        return self

    def __call__(self, error: BaseException) -> ErrorClass:
        for rule in self._rules:
            found = rule(error)
            if found is not None:
                return ErrorClass(found)
        return default_classify(error)


def retry_after_of(error: BaseException, now: float | None = None) -> float | None:
    """Seconds the provider asked us to wait (Retry-After), if the exception carries it.

    Looks at ``retry_after``, then at the response headers (``headers``,
    ``response.headers``, litellm's ``litellm_response_headers``); accepts seconds or an
    HTTP date.

    Example:
        >>> class Limited(Exception):
        ...     headers = {"Retry-After": "2"}
        >>> retry_after_of(Limited())
        2.0
    """
    value = getattr(error, "retry_after", None)
    if value is None:
        for holder in (error, getattr(error, "response", None)):
            for attribute in ("litellm_response_headers", "headers"):
                headers = getattr(holder, attribute, None)
                value = _header(headers, "retry-after")
                if value is not None:
                    break
            if value is not None:
                break
    return _seconds(value, time.time() if now is None else now)


def _header(headers: object, name: str) -> object:
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    for key in (name, name.title(), name.upper()):
        found = getter(key)
        if found is not None:
            return found
    return None


def _seconds(value: object, now: float) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            import email.utils  # HTTP dates are rare; email.utils costs `import router` ms

            try:
                seconds = email.utils.parsedate_to_datetime(text).timestamp() - now
            except (TypeError, ValueError):
                return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
