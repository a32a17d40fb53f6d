"""The per-path table of ``Router.stats()``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from storage import PathPosterior

if TYPE_CHECKING:
    import pandas as pd


def stats_table(names: Sequence[str], stored: Mapping[str, PathPosterior]) -> pd.DataFrame:
    """alpha, beta, mean, 95% credible interval, n and traffic share of each path.

    Example:
        >>> stats_table(["a"], {}).loc["a", "mean"]
        np.float64(0.5)
    """
    import pandas as pd

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
            }
        )
    return pd.DataFrame.from_records(records, index="path")
