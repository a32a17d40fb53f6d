"""Metrics of one replay, and their summary over seeds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

RECOVERY_WINDOW = 100
RECOVERY_SHARE = 0.8


@dataclass(frozen=True)
class RunMetrics:
    """What one policy achieved on one seeded replay.

    ``recoveries`` holds, per change point of the best path, the requests it took
    until the new best path was the first choice of at least 80% of the last 100
    requests (None: not before the next change point or the end).
    """

    success_rate: float
    regret: float
    cost_per_success: float
    latency_p50_ms: float
    latency_p99_ms: float
    fallback_rate: float
    failure_rate: float
    recoveries: list[int | None] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return asdict(self)


def run_metrics(
    rows: Sequence[dict[str, Any]], change_points: Sequence[int], best: Sequence[str]
) -> RunMetrics:
    """Summarise replay rows; ``best[i]`` is the true best path at request ``i``.

    Example:
        >>> rows = [{"success": 1.0, "cost": 0.1, "latency_ms": 10.0, "attempts": 1,
        ...          "served": "a", "first": "a", "expected": 0.9, "best_expected": 0.9}] * 4
        >>> m = run_metrics(rows, [], ["a"] * 4)
        >>> m.success_rate, m.regret, m.cost_per_success
        (1.0, 0.0, 0.1)
    """
    n = len(rows)
    successes = sum(r["success"] for r in rows)
    latencies = sorted(r["latency_ms"] for r in rows)
    firsts = [r["first"] for r in rows]
    return RunMetrics(
        success_rate=successes / n,
        regret=sum(r["best_expected"] - r["expected"] for r in rows),
        cost_per_success=sum(r["cost"] for r in rows) / successes if successes else math.inf,
        latency_p50_ms=_quantile(latencies, 0.50),
        latency_p99_ms=_quantile(latencies, 0.99),
        fallback_rate=sum(r["attempts"] > 1 for r in rows) / n,
        failure_rate=sum(r["served"] is None for r in rows) / n,
        recoveries=recoveries(firsts, change_points, best),
    )


def recoveries(
    firsts: Sequence[str | None], change_points: Sequence[int], best: Sequence[str]
) -> list[int | None]:
    """Requests from each change point until the new best path holds 80% of the last 100.

    Example:
        >>> firsts = ["a"] * 100 + ["b"] * 100
        >>> recoveries(firsts, [100], ["a"] * 100 + ["b"] * 100)
        [80]
    """
    found: list[int | None] = []
    ends = [*change_points[1:], len(firsts)][: len(change_points)]
    for change, end in zip(change_points, ends, strict=True):
        target = best[change]
        window = sum(1 for f in firsts[max(0, change - RECOVERY_WINDOW) : change] if f == target)
        result: int | None = None
        for t in range(change, end):
            window += firsts[t] == target
            if t - RECOVERY_WINDOW >= 0 and firsts[t - RECOVERY_WINDOW] == target:
                window -= 1
            if window >= RECOVERY_SHARE * RECOVERY_WINDOW:
                result = t - change + 1
                break
        found.append(result)
    return found


@dataclass(frozen=True)
class Spread:
    """Mean and standard deviation over seeds."""

    mean: float
    std: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        data = [v for v in values if math.isfinite(v)]
        if not data:
            return cls(math.nan, math.nan)
        return cls(statistics.fmean(data), statistics.pstdev(data) if len(data) > 1 else 0.0)


def median_recovery(runs: Iterable[RunMetrics]) -> float | None:
    """Median over every (seed, change point); an unrecovered change counts as infinite.

    Returns None when there was no change point.
    """
    values = [math.inf if r is None else float(r) for run in runs for r in run.recoveries]
    return statistics.median(values) if values else None


def _quantile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return math.nan
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
