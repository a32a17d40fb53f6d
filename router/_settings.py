"""Checking the Router's constructor arguments, and small helpers of its run loop."""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from bandits import ConfigError
from router._clock import Clock
from router._escalation import Escalation
from router._events import Observer
from router._flow import RunRules
from router._names import shown
from router._path import Path
from router._result import RunResult
from router._retry import Retry
from router._taxonomy import Classifier, Classify
from storage import ControlStore, EvidenceStore, SpendStore, Store, open_store

PathLike = Path | Callable[[Any], Any]
Sleep = Callable[[float], None]
ESCALATION = "escalation"
"""The pseudo-path of escalated requests: in results and outcome rows, never a real path."""


class RealSleep:
    """``time.sleep``, marked so async runs can await ``asyncio.sleep`` instead."""

    def __call__(self, seconds: float) -> None:
        time.sleep(seconds)


def never_waits(store: Store) -> bool:
    """Does ``store`` never wait for a database: memory://, alone or wrapped (its store
    calls then need no bound, and the run loop skips the bookkeeping)?"""
    from storage import MemoryStore

    for _ in range(8):  # wrappers of wrappers, within reason
        if isinstance(store, MemoryStore):
            return True
        inner = getattr(store, "inner", None)
        if inner is None:
            return False
        store = inner
    return False


def never_blocks(sleep: Sleep) -> bool:
    """Is ``sleep`` a :class:`FakeClock`'s, which takes no real time (safe on an event loop)?"""
    from router._clock import FakeClock

    return isinstance(getattr(sleep, "__self__", None), FakeClock)


def replayed(result: RunResult) -> RunResult:
    from dataclasses import replace

    return replace(result, replayed=True)


def check_paths(paths: Sequence[PathLike]) -> tuple[Path, ...]:
    if callable(paths) or isinstance(paths, str | bytes) or not isinstance(paths, Sequence):
        raise ConfigError(
            f"paths must be a list of callables or Path objects, got {type(paths).__name__}; "
            "wrap a single path in a list: Router([extract], ...)"
        )
    if not paths:
        raise ConfigError("paths is empty; give the router at least one path to call")
    checked = tuple(Path.of(p) for p in paths)
    if any(p.name == ESCALATION for p in checked):
        raise ConfigError(
            f"the path name {ESCALATION!r} is reserved for escalated requests; rename the path "
            "with Path(fn, name=...)"
        )
    names = [p.name for p in checked]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"duplicate path names {duplicates}; give each path a distinct name with "
            "Path(fn, name=...)"
        )
    return checked


def check_observers(observers: Sequence[Observer]) -> tuple[Observer, ...]:
    if isinstance(observers, Observer) or not isinstance(observers, Sequence):
        raise ConfigError(f"observers must be a list of observers, got {shown(observers)}")
    for observer in observers:
        if not isinstance(observer, Observer):
            raise ConfigError(
                f"observer {shown(observer)} needs on_attempt(event) and on_run(event) methods"
            )
    return tuple(observers)


def check_positive_int(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{name} must be an int >= 1 or None, got {shown(value)}")
    return value


def check_seed(seed: int | None) -> int | None:
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
    ):
        raise ConfigError(f"seed must be a non-negative int or None, got {shown(seed)}")
    return seed


def check_clock(clock: Clock | None) -> Clock | None:
    if clock is not None and not callable(clock):
        raise ConfigError(
            f"clock must be a zero-argument callable like time.time, got {shown(clock)}"
        )
    return clock


def check_sleep(sleep: Sleep | None, clock: Clock) -> Sleep:
    if sleep is not None:
        if not callable(sleep):
            raise ConfigError(f"sleep must be callable with seconds, got {shown(sleep)}")
        return sleep
    clock_sleep = getattr(clock, "sleep", None)
    return clock_sleep if callable(clock_sleep) else RealSleep()


def check_retry(retry: Retry | None) -> Retry | None:
    if retry is not None and not isinstance(retry, Retry):
        raise ConfigError(f"retry must be a Retry(...) or None, got {shown(retry)}")
    return retry


def check_store_timeout(seconds: float) -> float:
    if isinstance(seconds, bool) or not (
        isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0
    ):
        raise ConfigError(f"store_timeout must be a number of seconds > 0, got {shown(seconds)}")
    return float(seconds)


def check_deadline(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, int | float) or not deadline > 0:
        raise ConfigError(f"deadline must be a positive number of seconds, got {shown(deadline)}")
    return float(deadline)


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > 200:
        raise ConfigError(f"idempotency_key must be a non-empty string (<= 200), got {shown(key)}")
    return key


def check_request_id(request_id: object) -> str:
    """``request_id`` if it is a string, the type of ``RunResult.request_id``."""
    if not isinstance(request_id, str):
        raise ConfigError(
            f"request_id must be the string RunResult.request_id, got "
            f"{type(request_id).__name__} {shown(request_id)}"
        )
    return request_id


def classifier(classify: Classify | Classifier | None) -> Classifier:
    if classify is None:
        return Classifier()
    if isinstance(classify, Classifier):
        return classify
    if not callable(classify):
        raise ConfigError(
            f"classify must be callable (error -> ErrorClass | None): {shown(classify)}"
        )
    return Classifier(classify)


def rules(
    fallback: bool,
    deadline: float | None,
    fallback_below: float | None,
    escalation: Escalation | None,
) -> RunRules:
    check_deadline(deadline)
    if escalation is not None and not isinstance(escalation, Escalation):
        raise ConfigError(f"escalation must be an Escalation(...), got {shown(escalation)}")
    if fallback_below is not None and not (
        isinstance(fallback_below, int | float) and 0.0 < fallback_below <= 1.0
    ):
        raise ConfigError(f"fallback_below must be a score in (0, 1], got {shown(fallback_below)}")
    return RunRules(
        fallback=bool(fallback),
        fail_below=fallback_below,
        escalate_below=escalation.below if escalation is not None else None,
        can_escalate=escalation is not None,
    )


# What routing calls on a store: evidence, controls and spending (and close). The reads
# (tasks, outcome_chunks...) serve exports and the CLI; a store may leave them out.
ROUTING_ROLES = (EvidenceStore, ControlStore, SpendStore)


def routing_methods() -> list[str]:
    """The members a store given to ``Router(store=...)`` must have.

    Example:
        >>> "record" in routing_methods() and "tasks" not in routing_methods()
        True
    """
    names = {
        name
        for role in ROUTING_ROLES
        for cls in role.__mro__
        if getattr(cls, "_is_protocol", False)
        for name in vars(cls)
        if not name.startswith("_")
    }
    return sorted(names | {"close"})


def check_store(store: object) -> None:
    """Refuse a ``store=`` that is not a store, a store URL, a file path or None.

    A store object needs what routing calls (:func:`routing_methods`); the read
    methods of :class:`storage.ReadStore` only exports and the CLI use.
    """
    if store is None or isinstance(store, str | os.PathLike | Store):
        return
    missing = [name for name in routing_methods() if not hasattr(store, name)]
    if not missing:
        return
    if len(missing) < len(routing_methods()):  # a store, but not a whole one
        raise ConfigError(
            f"store {type(store).__name__} lacks {', '.join(missing)}, which routing "
            "calls; implement them, or subclass storage.StoreWrapper around a store "
            "that has them"
        )
    raise ConfigError(
        f"store must be a Store, a store URL, a file path or None, got "
        f"{type(store).__name__}; e.g. store='sqlite:///routes.db' or store='memory://'"
    )


def open_store_of(store: Store | str | os.PathLike[str] | None) -> tuple[Store, bool]:
    check_store(store)
    if store is None or isinstance(store, str | os.PathLike):
        opened = open_store(store)
        if opened.url == "memory://":
            return opened, True
        # A database can go away: keep routing and queue outcomes until it is back.
        from storage import ResilientStore  # here, not at top: cold start of `import router`

        return ResilientStore(opened), True
    return store, False
