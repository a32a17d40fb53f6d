"""The per-path table of ``Router.stats()``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from storage import DailyAggregate, PathPosterior

if TYPE_CHECKING:
    import pandas as pd


def stats_table(
    names: Sequence[str],
    stored: Mapping[str, PathPosterior],
    daily: Sequence[DailyAggregate] = (),
) -> pd.DataFrame:
    """alpha, beta, mean, 95% credible interval, n and traffic share of each path, and
    from the daily aggregates its tokens, cost and cost per success (NaN: none scored).

    Example:
        >>> stats_table(["a"], {}).loc["a", "mean"]
        np.float64(0.5)
    """
    import pandas as pd

    spending: dict[str, list[float]] = {}
    for day in daily:
        tokens, cost, successes = spending.setdefault(day.path, [0.0, 0.0, 0.0])
        spending[day.path] = [
            tokens + day.tokens_in + day.tokens_out,
            cost + day.cost,
            successes + day.successes,
        ]

    rows = [stored.get(name) or PathPosterior(name, 1.0, 1.0, 0) for name in names]
    total = sum(row.n for row in rows)
    records = []
    for row in rows:
        low, high = row.posterior.credible_interval(0.95)
        records.append(
            {
                "path": row.path,
                "alpha": row.alpha,
                "beta": row.beta,
                "mean": row.posterior.mean,
                "ci_low": low,
                "ci_high": high,
                "n": int(row.n),
                "traffic_share": row.n / total if total else 0.0,
                **_spending(spending.get(row.path)),
            }
        )
    return pd.DataFrame.from_records(records, index="path")


def _spending(found: list[float] | None) -> dict[str, float | int]:
    tokens, cost, successes = found or (0.0, 0.0, 0.0)
    return {
        "tokens": int(tokens),
        "cost": cost,
        "cost_per_success": cost / successes if successes else float("nan"),
    }
