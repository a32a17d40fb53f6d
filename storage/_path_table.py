"""The per-path table that ``Router.stats()`` and ``storage.path_stats()`` share.

One row per path: the posterior (``alpha``, ``beta``, ``mean``, 95% credible interval
``ci_low`` / ``ci_high``, ``n`` scored attempts), ``traffic_share`` (the path's share of
the task's scored attempts) and, from the daily aggregates (pruned outcomes included),
``tokens``, ``cost``, ``unpriced`` and ``cost_per_success``.

Unknown stays unknown: ``unpriced`` counts the answered attempts whose cost is unknown
(a model litellm's cost map does not know, a path with no ``price``), and while it is
above 0 ``cost`` and ``cost_per_success`` are NaN, never a total that reads as "free".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from storage._records import DailyAggregate, PathPosterior

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = (
    "alpha",
    "beta",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "traffic_share",
    "tokens",
    "cost",
    "unpriced",
    "cost_per_success",
)
COUNTS = ("tokens", "unpriced")  # nullable Int64, as token counts are everywhere


def path_table(
    names: Sequence[str],
    posteriors: Mapping[str, PathPosterior],
    daily: Sequence[DailyAggregate] = (),
) -> pd.DataFrame:
    """The table of :data:`COLUMNS` for ``names``, indexed by path.

    Example:
        >>> import datetime
        >>> day = datetime.date(2026, 1, 1)
        >>> daily = [DailyAggregate("a", day, 2, 2, 1.0, 0, 0.5, 10, 5),
        ...          DailyAggregate("b", day, 2, 2, 2.0, 0, 0.0, 10, 5, unpriced=2)]
        >>> table = path_table(["a", "b"], {}, daily)
        >>> table["cost"].tolist(), table["unpriced"].tolist(), str(table["tokens"].dtype)
        ([0.5, nan], [0, 2], 'Int64')
    """
    import pandas as pd

    spending: dict[str, list[float]] = {}
    for day in daily:
        tokens, cost, successes, unpriced = spending.get(day.path, [0.0, 0.0, 0.0, 0.0])
        spending[day.path] = [
            tokens + day.tokens_in + day.tokens_out,
            cost + day.cost,
            successes + day.successes,
            unpriced + day.unpriced,
        ]
    rows = [posteriors.get(name) or PathPosterior(name, 1.0, 1.0, 0) for name in names]
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
    table = pd.DataFrame.from_records(records, columns=["path", *COLUMNS]).set_index("path")
    table["n"] = table["n"].astype("int64")
    for name in COUNTS:
        table[name] = table[name].astype("Int64")
    return table


def _spending(found: list[float] | None) -> dict[str, Any]:
    tokens, cost, successes, unpriced = found or (0.0, 0.0, 0.0, 0.0)
    known = cost if unpriced == 0 else math.nan
    return {
        "tokens": int(tokens),
        "cost": known,
        "unpriced": int(unpriced),
        "cost_per_success": known / successes if successes else math.nan,
    }
