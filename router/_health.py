"""Health and alert rules evaluated over the outcomes in a store.

A :class:`HealthRule` compares one metric of the recent outcomes (a sliding window
ending now) with a threshold; :func:`evaluate_health` measures every rule for a task
(or every task of a SQL store) and calls ``on_breach`` with an :class:`Alert` for each
rule breached. pandas is imported when rules are evaluated, never by ``import router``.

Metrics (escalated requests are the ones with an outcome row on the ``escalation``
pseudo-path, or with error class ``escalated``, which the router writes):

=================== ===========================================================
completion_rate     share of requests whose served (last) attempt scored >= 0.5;
                    escalated requests do not count as completed
escalation_rate     share of requests that were escalated
cost_per_request    dollars spent per request, over the requests whose cost is known
latency_p99_s       99th percentile of request latency, seconds (the sum of its
                    attempts' latencies, or its escalation row's if longer)
error_rate          attempts that raised or timed out / attempts
=================== ===========================================================
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bandits import ConfigError
from router._escalation import Alert
from router._names import shown
from storage import ReadStore, outcomes_frame

if TYPE_CHECKING:
    import pandas as pd

ESCALATION_PATH: Final = "escalation"
ESCALATED: Final = "escalated"
COMPLETED_AT: Final = 0.5
"""A served attempt completes its request when it scored at least this."""

METRICS: Final = {
    "completion_rate": "share of requests served with a score >= 0.5",
    "escalation_rate": "share of requests escalated",
    "cost_per_request": "dollars per request",
    "latency_p99_s": "p99 request latency in seconds",
    "error_rate": "share of attempts that raised",
}
_OPS: Final = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_PERCENT: Final = frozenset({"completion_rate", "escalation_rate", "error_rate"})


@dataclass(frozen=True, slots=True)
class HealthRule:
    """Breached when ``metric`` over the last ``window`` seconds is ``op`` ``threshold``.

    Args:
        name: what the rule is called in reports and alerts.
        metric: one of :data:`METRICS` (``completion_rate``, ``escalation_rate``,
            ``cost_per_request``, ``latency_p99_s``, ``error_rate``).
        op: ``<``, ``<=``, ``>`` or ``>=``.
        threshold: rates are shares in [0, 1], cost in dollars, latency in seconds.
        window: seconds of outcomes (up to now) the metric is measured over.

    Example:
        >>> rule = HealthRule("slow", "latency_p99_s", ">", 5.0, window=600)
        >>> rule.breached_by(7.5), rule.breached_by(2.0)
        (True, False)
    """

    name: str
    metric: str
    op: str
    threshold: float
    window: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a health rule needs a name, got {self.name!r}")
        if self.metric not in METRICS:
            raise ConfigError(
                f"rule {self.name!r}: unknown metric {self.metric!r}; use one of {list(METRICS)}"
            )
        if self.op not in _OPS:
            raise ConfigError(
                f"rule {self.name!r}: op must be one of {list(_OPS)}, got {self.op!r}"
            )
        if (
            isinstance(self.threshold, bool)
            or not isinstance(self.threshold, int | float)
            or not math.isfinite(self.threshold)
        ):
            raise ConfigError(
                f"rule {self.name!r}: threshold must be a finite number, "
                f"got {shown(self.threshold)}"
            )
        if self.metric in _PERCENT and not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(
                f"rule {self.name!r}: {self.metric} is a share in [0, 1] (0.85 for 85%), "
                f"got threshold {shown(self.threshold)}"
            )
        if (
            isinstance(self.window, bool)
            or not isinstance(self.window, int | float)
            or not (math.isfinite(self.window) and self.window > 0)
        ):
            raise ConfigError(
                f"rule {self.name!r}: window must be a number of seconds > 0 (900 for 15 "
                f"minutes), got {shown(self.window)}"
            )

    def breached_by(self, value: float) -> bool:
        """True when ``value`` breaks the rule."""
        return bool(_OPS[self.op](value, self.threshold))

    def describe(self) -> str:
        """The rule as text, such as ``completion_rate < 85% over 15m``.

        Example:
            >>> DEFAULT_RULES[0].describe()
            'completion_rate < 85% over 15m'
        """
        return f"{self.metric} {self.op} {format_value(self.metric, self.threshold)} over " + (
            format_window(self.window)
        )


DEFAULT_RULES: Final = (
    HealthRule("completion", "completion_rate", "<", 0.85, window=15 * 60),
    HealthRule("escalations", "escalation_rate", ">", 0.30, window=30 * 60),
    HealthRule("cost", "cost_per_request", ">", 0.75, window=60 * 60),
    HealthRule("latency", "latency_p99_s", ">", 10.0, window=15 * 60),
    HealthRule("errors", "error_rate", ">", 0.05, window=5 * 60),
)
"""The default rules: completion < 85% (15 min), escalations > 30% (30 min), cost per
request > $0.75 (1 h), p99 latency > 10 s (15 min), errors > 5% of attempts (5 min)."""


@dataclass(frozen=True, slots=True)
class HealthResult:
    """One rule measured on one task: its value, how many samples, and its status.

    ``status`` is ``ok``, ``breach``, or ``no data`` (nothing in the window; never a
    breach). ``samples`` counts requests, or attempts for ``error_rate``.

    Example:
        >>> result = HealthResult(DEFAULT_RULES[4], "extract", value=0.08, samples=50, at=0.0)
        >>> result.status
        'breach'
        >>> print(result.message)  # doctest: +NORMALIZE_WHITESPACE
        task 'extract': errors breached: error_rate = 8% over 50 attempts
        (rule: error_rate > 5% over 5m)
    """

    rule: HealthRule
    task: str
    value: float | None
    samples: int
    at: float

    @property
    def breached(self) -> bool:
        """True when the rule is broken."""
        return self.value is not None and self.rule.breached_by(self.value)

    @property
    def status(self) -> str:
        """``ok``, ``breach`` or ``no data``."""
        if self.value is None:
            return "no data"
        return "breach" if self.breached else "ok"

    @property
    def message(self) -> str:
        """One line for people, such as ``task 'x': completion breached: 60% (rule ...)``."""
        if self.value is None:
            return f"task {self.task!r}: {self.rule.name}: no data ({self.rule.describe()})"
        state = "breached" if self.breached else "ok"
        return (
            f"task {self.task!r}: {self.rule.name} {state}: "
            f"{self.rule.metric} = {format_value(self.rule.metric, self.value)} over "
            f"{self.samples} {'attempts' if self.rule.metric == 'error_rate' else 'requests'} "
            f"(rule: {self.rule.describe()})"
        )


def evaluate_health(
    store: ReadStore,
    task: str | None = None,
    *,
    now: float | None = None,
    rules: Sequence[HealthRule] = DEFAULT_RULES,
    on_breach: Callable[[Alert], object] | None = None,
) -> list[HealthResult]:
    """Measure every rule over the store's recent outcomes of ``task``.

    Args:
        store: any store; ``memory://`` (and other non-SQL stores) need ``task``.
        task: the task to check; None: every task with outcomes in the longest window
            of a SQL store.
        now: the end of the windows, seconds since the epoch (default: ``time.time()``).
        rules: the rules to evaluate (default :data:`DEFAULT_RULES`).
        on_breach: called with ``Alert("health", task, None, message, now)`` for each
            breached rule (page someone, post to a channel ...).

    Returns:
        One result per task and rule, tasks sorted, rules in the given order.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i in range(10):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "a", score=float(i < 7),
        ...                              created_at=100.0 + i, latency_ms=800.0, cost=0.01))
        >>> results = evaluate_health(store, "t", now=120.0, on_breach=print)
        Alert(kind='health', task='t', path=None, message="task 't': completion breached: ...
        >>> [(r.rule.name, r.status) for r in results]  # doctest: +NORMALIZE_WHITESPACE
        [('completion', 'breach'), ('escalations', 'ok'), ('cost', 'ok'), ('latency', 'ok'),
         ('errors', 'ok')]
    """
    rules = _check_rules(rules)
    if on_breach is not None and not callable(on_breach):
        raise ConfigError(f"on_breach must be a function of an Alert, got {shown(on_breach)}")
    at = time.time() if now is None else _check_now(now)
    if not rules:
        return []
    longest = max(rule.window for rule in rules)
    try:
        frame = outcomes_frame(store, task, since=at - longest)
    except ConfigError as exc:
        if task is not None:
            raise
        raise ConfigError(
            f"store {store.url} cannot list its tasks: name the task "
            "(evaluate_health(store, task) or outcome-router health --task TASK)"
        ) from exc
    seconds = frame["created_at"].astype("int64") / 1e9
    frame = frame[seconds <= at].assign(seconds=seconds)
    tasks = [task] if task is not None else sorted({str(t) for t in frame["task"].unique()})
    results = []
    for name in tasks:
        rows = frame[frame["task"].astype(str) == name]
        for rule in rules:
            recent = rows[rows["seconds"] > at - rule.window]  # (now - window, now]
            value, samples = measure(recent, rule.metric)
            results.append(HealthResult(rule, name, value, samples, at))
    if on_breach is not None:
        for result in results:
            if result.breached:
                on_breach(Alert("health", result.task, None, result.message, at))
    return results


def measure(frame: pd.DataFrame, metric: str) -> tuple[float | None, int]:
    """One metric of a frame of outcomes (as from ``outcomes_frame``), and its sample count.

    Returns ``(None, 0)`` when the frame has no request (or no attempt, for ``error_rate``).

    Example:
        >>> from storage import MemoryStore, Outcome, outcomes_frame
        >>> store = MemoryStore()
        >>> _ = store.record(Outcome("r1", 1, "t", "a", score=0.0, created_at=0.0, errored=True))
        >>> _ = store.record(Outcome("r1", 2, "t", "b", score=1.0, created_at=1.0))
        >>> measure(outcomes_frame(store, "t"), "error_rate")
        (0.5, 2)
        >>> measure(outcomes_frame(store, "t"), "completion_rate")
        (1.0, 1)
    """
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; use one of {list(METRICS)}")
    escalation = (frame["path"].astype(object) == ESCALATION_PATH) | (
        frame["error_class"].astype(object) == ESCALATED
    )
    calls = frame[~escalation]
    if metric == "error_rate":
        return (float(calls["errored"].mean()), len(calls)) if len(calls) else (None, 0)
    requests = frame["request_id"].unique()
    if len(requests) == 0:
        return None, 0
    if metric == "cost_per_request":  # over the requests whose cost is known
        unpriced = frame["cost"].isna() & ~frame["errored"] & ~escalation
        unknown = set(frame.loc[unpriced, "request_id"])
        priced = frame[~frame["request_id"].isin(list(unknown))]
        count = len(requests) - len(unknown)
        return (float(priced["cost"].fillna(0.0).sum()) / count, count) if count else (None, 0)
    escalated = set(frame.loc[escalation, "request_id"])
    if metric == "escalation_rate":
        return len(escalated) / len(requests), len(requests)
    if metric == "completion_rate":
        last = calls.sort_values("attempt").groupby("request_id", sort=False).tail(1)
        served = last.set_index("request_id")["score"]
        # An unscored (NaN) served attempt does not complete its request.
        completed = (served >= COMPLETED_AT) & ~served.index.isin(list(escalated))
        return int(completed.sum()) / len(requests), len(requests)
    import numpy as np
    import pandas as pd

    spent = pd.concat(
        [
            calls.groupby("request_id")["latency_ms"].sum(),
            frame[escalation].groupby("request_id")["latency_ms"].max(),
        ]
    )
    latency = spent.groupby(level=0).max().to_numpy(float) / 1000.0
    return float(np.percentile(latency, 99)), len(requests)


def format_value(metric: str, value: float) -> str:
    """A metric's value for people: ``85%``, ``$0.75``, ``10 s``.

    Example:
        >>> format_value("completion_rate", 0.853), format_value("cost_per_request", 0.75)
        ('85.3%', '$0.75')
    """
    if metric in _PERCENT:
        return f"{value * 100:.3g}%"
    if metric == "cost_per_request":
        return f"${value:.4g}"
    return f"{value:.3g} s"


def format_window(seconds: float) -> str:
    """A window for people: ``90s``, ``15m``, ``1h``, ``1.5h``.

    Example:
        >>> format_window(900), format_window(3600), format_window(45)
        ('15m', '1h', '45s')
    """
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 6 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def _check_rules(rules: Sequence[HealthRule]) -> tuple[HealthRule, ...]:
    if isinstance(rules, HealthRule) or not isinstance(rules, Sequence):
        raise ConfigError(f"rules must be a list of HealthRule(...), got {shown(rules)}")
    for rule in rules:
        if not isinstance(rule, HealthRule):
            raise ConfigError(f"each rule must be a HealthRule(...), got {shown(rule)}")
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ConfigError(f"health rules need distinct names, got {names}")
    return tuple(rules)


def _check_now(now: float) -> float:
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        raise ConfigError(f"now must be seconds since the epoch, got {shown(now)}")
    return float(now)
