"""``RouterConfig``: every option of a :class:`Router`, checked once and frozen.

``Router(paths, success_fn, **options)`` builds one from its keyword arguments before
it opens anything: a wrong option is refused with a message that says what to pass,
and no store or thread is left behind.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bandits import ConfigError
from bandits._policy import Policy
from bandits._shrinkage import check_strength
from router._breaker import Breaker
from router._budget import Budget, warn_unpriced
from router._canary import Canary
from router._clock import Clock
from router._context import ContextFn
from router._escalation import Escalation
from router._events import Observer
from router._limits import RateLimit
from router._names import check_name, shown
from router._path import Path
from router._recorder import AlertHandler
from router._retry import Retry
from router._settings import (
    Sleep,
    check_clock,
    check_observers,
    check_paths,
    check_positive_int,
    check_retry,
    check_seed,
    check_store,
    check_store_timeout,
    classifier,
    rules,
)
from router._taxonomy import Classifier, Classify
from storage import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterConfig:
    """The options of one router, as given, each checked (``ConfigError`` if wrong).

    Attributes:
        paths: callables (sync or async, one argument) or :class:`Path` objects.
        success_fn: ``success_fn(output)`` or ``success_fn(input, output)`` returning a
            bool or a float in [0, 1]; an ``async def`` one is awaited (on the caller's
            event loop under ``arun``, on the router's own loop under ``run``).
        task: the name posteriors are kept under; routers sharing a task and a store
            share what they learn.
        store: a :class:`storage.Store`, a store URL, a file path (``str`` or
            ``pathlib.Path``), or None for the default SQLite file
            (``$OUTCOME_ROUTER_DB`` or ``./outcome-router.db``).
            A database the router opens from a URL is wrapped in
            :class:`storage.ResilientStore`: while it is unreachable the router routes
            from the last posteriors it read and queues up to 10,000 outcomes.
        seed: seed of the router's ``numpy.random.Generator``.
        clock: zero-argument callable returning seconds (default ``time.time``).
        sleep: how to wait before a retry (default: ``clock.sleep`` when the clock has
            one, as :class:`FakeClock` does, else ``time.sleep``).
        fallback: try the next path when one raises.
        policy: how paths are ordered (default :class:`AdaptiveThompson`).
        retry: how failed calls are retried (default: never; the next path is the
            retry). A path's own ``Path(retry=...)`` takes precedence.
        deadline: seconds one run may take, retries and fallbacks included.
        fallback_below: also fall back when an output scores below this; with no
            path left, the best output is served (or escalated).
        escalation: where requests go when no path serves them (see :class:`Escalation`).
        classify: a rule ``error -> ErrorClass | None`` (or a :class:`Classifier`)
            checked before the default classification of path exceptions.
        on_alert: called with an :class:`Alert` when a path's credentials are refused
            or a request is escalated (default: a logged warning).
        customer_limit: a :class:`RateLimit` applied to each customer of ``run(...,
            customer=...)``; over it, ``RateLimitExceeded`` is raised.
        idempotency_window: seconds a result is replayed for a repeated
            ``idempotency_key``.
        store_timeout: seconds any store call of a run may wait (for a lock, a
            connection, an answer), and at most half of what is left of the run's
            deadline; a store that does not answer in time is unreachable: a store the
            router opened goes to degraded mode (see :class:`storage.ResilientStore`).
            The time store calls take is not counted against the deadline of the run's
            path calls.
        breaker: a :class:`Breaker` per path, shared through the store (default: none).
        budget: a :class:`Budget` on tokens and cost per run, task-day and customer-day.
        observers: receive an event per attempt and per run (logs, metrics, traces;
            see :class:`Observer`).
        max_input_size: inputs larger than this (characters of a string, else of its
            JSON form) are refused with ``InputTooLarge`` before any path is called.
        loop_limit: a run that would attempt one path, or call one tool (see
            :func:`note_tool_call`), more than this many times stops with ``LoopDetected``.
        context: ``context(input)`` returning a request's context (a dict of str, bool,
            int or float values, or None), used when a call passes no ``context=``. The
            str and bool values name the request's segment, which has its own
            posteriors shrunk toward the task's; every value is stored with the outcome.
        segment_strength: how many observations of the task's evidence a segment's
            prior weighs at most: None (the default) estimates it per path from how
            much the segments differ (empirical Bayes, between 2 and 500); a number
            fixes it (0: segments learn independently).

    Example:
        >>> def echo(x): return x
        >>> config = RouterConfig(paths=[echo], success_fn=bool, task="doc", deadline=5)
        >>> [p.name for p in config.paths], config.task, config.deadline
        (['echo'], 'doc', 5)
        >>> try:
        ...     RouterConfig(paths=[echo], success_fn=bool, deadline=-1)
        ... except ConfigError as exc:
        ...     print(exc)
        deadline must be a positive number of seconds, got -1
    """

    paths: tuple[Path, ...]
    success_fn: Callable[..., Any]
    task: str = "default"
    store: Store | str | os.PathLike[str] | None = None
    seed: int | None = None
    clock: Clock | None = None
    sleep: Sleep | None = None
    fallback: bool = True
    policy: Policy | None = None
    retry: Retry | None = None
    deadline: float | None = None
    fallback_below: float | None = None
    escalation: Escalation | None = None
    classify: Classify | Classifier | None = None
    on_alert: AlertHandler | None = None
    customer_limit: RateLimit | None = None
    idempotency_window: float = 3600.0
    store_timeout: float = 2.0
    breaker: Breaker | None = None
    budget: Budget | None = None
    observers: tuple[Observer, ...] = ()
    max_input_size: int | None = None
    loop_limit: int | None = None
    context: ContextFn | None = None
    segment_strength: float | None = None

    def __post_init__(self) -> None:
        checked = check_paths(self.paths)  # a list given directly becomes a tuple
        object.__setattr__(self, "paths", checked)
        check_name("task", self.task)
        check_seed(self.seed)
        check_clock(self.clock)
        if self.sleep is not None and not callable(self.sleep):
            raise ConfigError(f"sleep must be callable with seconds, got {shown(self.sleep)}")
        check_store(self.store)
        check_store_timeout(self.store_timeout)
        if self.policy is not None and not isinstance(self.policy, Policy):
            raise ConfigError(
                "policy must have choose() and observe() (see router.Policy), got "
                f"{shown(self.policy)}"
            )
        rules(self.fallback, self.deadline, self.fallback_below, self.escalation)
        if self.on_alert is not None and not callable(self.on_alert):
            raise ConfigError(
                f"on_alert must be callable with an Alert, got {shown(self.on_alert)}"
            )
        _check_type("customer_limit", self.customer_limit, RateLimit, "a RateLimit(...)")
        _check_window(self.idempotency_window)
        object.__setattr__(self, "observers", check_observers(self.observers))
        check_positive_int("max_input_size", self.max_input_size)
        check_positive_int("loop_limit", self.loop_limit)
        _check_type("breaker", self.breaker, Breaker, "a Breaker(...) or None")
        _check_type("budget", self.budget, Budget, "a Budget(...) or None")
        if self.context is not None and not callable(self.context):
            raise ConfigError(
                "context must be a function of the input returning a dict (e.g. "
                f"context=lambda text: {{'length': len(text)}}), got {shown(self.context)}"
            )
        object.__setattr__(self, "segment_strength", check_strength(self.segment_strength))
        if self.budget is not None:
            _check_budget(self.budget, self.escalation)
        if not callable(self.success_fn):
            raise ConfigError(
                f"success_fn must be callable, got {type(self.success_fn).__name__} "
                f"{shown(self.success_fn)}; e.g. success_fn=lambda output: output is not None"
            )
        classifier(self.classify)
        check_retry(self.retry)


def check_rollout(
    canary: bool | Canary, shadow: float | None
) -> tuple[Canary | None, float | None]:
    """The rollout of a path added with ``add_path(path, canary=..., shadow=...)``.

    Example:
        >>> check_rollout(False, 0.5)
        (None, 0.5)
    """
    rollout = Canary() if canary is True else canary or None
    if rollout is not None and not isinstance(rollout, Canary):
        raise ConfigError(f"canary must be True, False or a Canary(...), got {shown(canary)}")
    if shadow is not None and not (
        isinstance(shadow, int | float) and not isinstance(shadow, bool) and 0 < shadow <= 1
    ):
        raise ConfigError(f"shadow must be a share of requests in (0, 1], got {shown(shadow)}")
    if rollout is not None and shadow is not None:
        raise ConfigError("a path is either a canary or a shadow, not both")
    return rollout, None if shadow is None else float(shadow)


def _check_type(name: str, value: object, kind: type, wanted: str) -> None:
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"{name} must be {wanted}, got {shown(value)}")


def _check_window(window: float) -> None:
    if not (
        isinstance(window, int | float)
        and not isinstance(window, bool)
        and math.isfinite(window)
        and window > 0
    ):
        raise ConfigError(
            f"idempotency_window must be a number of seconds > 0, got {shown(window)}"
        )


def _check_budget(budget: Budget, escalation: Escalation | None) -> None:
    """Refuse ``when_exceeded="escalate"`` with no handler."""
    if budget.when_exceeded == "escalate" and escalation is None:
        raise ConfigError(
            "Budget(when_exceeded='escalate') needs an escalation handler: "
            "Router(..., escalation=Escalation(handler))"
        )


def warn_unpriced_paths(config: RouterConfig) -> None:
    """Warn once, when a router is built, of paths its cost budget cannot price."""
    if config.budget is not None:
        warn_unpriced(config.budget, config.paths)  # stacklevel: the caller of Router(...)
