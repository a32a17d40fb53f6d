"""``Path``: one way of doing a task (a sync or async callable) plus its settings."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bandits import ConfigError
from router._limits import RateLimit
from router._names import check_name, shown
from router._retry import Retry


@dataclass(frozen=True, slots=True)
class Path:
    """A named callable that takes the request input and returns an output.

    Args:
        fn: sync or async callable of one argument (the input).
        name: the key the router learns under; defaults to the function's name.
            Keep it stable across deploys: a new name starts from the prior.
        timeout: seconds before the attempt fails with ``PathTimeout`` (scores 0);
            ``None`` waits for ever (within the run's deadline).
        retry: how transient failures of this path are retried (default: the router's).
        last_resort: a deterministic path tried last in every run and never learned
            away (kept out of the policy's choice).
        output: a pydantic model the output must fit (strings are stripped of code
            fences and parsed as JSON); an output that does not fit scores 0 with error
            class ``invalid_output``.
        reask: after a ``client_error`` or ``invalid_output``, call the path once more
            with ``feedback=<the error>`` as a keyword argument.
        rate_limit: ``RateLimit`` on calls of this path; a limited path is skipped.
        max_in_flight: most concurrent calls of this path in this process.
        price: dollars per call, recorded as the cost of each answered attempt unless
            the path returns ``Metered(..., cost=...)``; budgets' ``"cheapest"`` action
            routes to the path with the lowest price.

    Example:
        >>> def regex_extract(text): return None
        >>> Path(regex_extract).name
        'regex_extract'
        >>> Path(lambda text: text.upper(), name="shout", timeout=2.0)
        Path(name='shout', timeout=2.0)
    """

    fn: Callable[..., Any] = field(repr=False)
    name: str = ""
    timeout: float | None = None
    retry: Retry | None = field(default=None, repr=False)
    last_resort: bool = field(default=False, repr=False)
    output: type | None = field(default=None, repr=False)
    reask: bool = field(default=False, repr=False)
    rate_limit: RateLimit | None = field(default=None, repr=False)
    max_in_flight: int | None = field(default=None, repr=False)
    price: float | None = field(default=None, repr=False)
    is_async: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise ConfigError(
                f"a path must be callable, got {type(self.fn).__name__} {shown(self.fn)}; pass the "
                "function itself (extract, not extract())"
            )
        name = self.name or _default_name(self.fn)
        object.__setattr__(self, "name", check_name("path", name))
        if self.timeout is not None and not (
            isinstance(self.timeout, int | float)
            and not isinstance(self.timeout, bool)
            and math.isfinite(self.timeout)
            and self.timeout > 0
        ):
            raise ConfigError(
                f"timeout of path {name!r} must be a positive number of seconds or None, "
                f"got {shown(self.timeout)}"
            )
        object.__setattr__(self, "is_async", _is_async(self.fn))
        if self.retry is not None and not isinstance(self.retry, Retry):
            raise ConfigError(
                f"retry of path {name!r} must be a Retry(...), got {shown(self.retry)}"
            )
        if self.rate_limit is not None and not isinstance(self.rate_limit, RateLimit):
            raise ConfigError(
                f"rate_limit of path {name!r} must be a RateLimit(...), "
                f"got {shown(self.rate_limit)}"
            )
        if self.max_in_flight is not None and not (
            isinstance(self.max_in_flight, int) and self.max_in_flight >= 1
        ):
            raise ConfigError(
                f"max_in_flight of path {name!r} must be an int >= 1, "
                f"got {shown(self.max_in_flight)}"
            )
        if self.price is not None and (
            isinstance(self.price, bool)
            or not isinstance(self.price, int | float)
            or not math.isfinite(self.price)
            or self.price < 0
        ):
            raise ConfigError(
                f"price of path {name!r} must be dollars per call >= 0, got {shown(self.price)}"
            )
        if self.output is not None and not _is_model(self.output):
            raise ConfigError(
                f"output of path {name!r} must be a pydantic model class (a subclass of "
                f"pydantic.BaseModel), got {shown(self.output)}"
            )

    def __repr__(self) -> str:
        settings = [f"name={self.name!r}", f"timeout={self.timeout!r}"]
        for flag in ("last_resort", "reask"):
            if getattr(self, flag):
                settings.append(f"{flag}=True")
        for option in ("retry", "output", "rate_limit", "max_in_flight", "price"):
            value = getattr(self, option)
            if value is not None:
                shown = value.__name__ if isinstance(value, type) else repr(value)
                settings.append(f"{option}={shown}")
        return f"Path({', '.join(settings)})"

    @classmethod
    def of(cls, value: Path | Callable[[Any], Any]) -> Path:
        """``value`` if it is already a Path, else ``Path(value)``."""
        return value if isinstance(value, Path) else cls(value)


def _default_name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", None)
    if name is None and not inspect.isroutine(fn) and not isinstance(fn, functools.partial):
        name = type(fn).__name__  # a callable object: name it after its class
    if not name or name == "<lambda>":
        raise ConfigError(
            f"path {shown(fn)} has no usable name; give it one: Path(fn, name='my-path')"
        )
    return str(name)


def _is_model(output: object) -> bool:
    """Is ``output`` a pydantic model class (what ``validate_output`` validates against)?"""
    if not isinstance(output, type):
        return False
    from pydantic import BaseModel  # only for paths with an output model: cold start

    return issubclass(output, BaseModel)


def _is_async(fn: Callable[..., Any]) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)  # noqa: B004 - callable objects
    return call is not None and not inspect.isroutine(fn) and inspect.iscoroutinefunction(call)
