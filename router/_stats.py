"""The per-path table of ``Router.stats()`` (shared with ``storage.path_stats``)."""

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
    from the daily aggregates its tokens, cost, unpriced attempts and cost per success
    (cost NaN while any answered attempt's cost is unknown).

    Example:
        >>> stats_table(["a"], {}).loc["a", "mean"]
        np.float64(0.5)
    """
    from storage import path_table

    return path_table(names, stored, daily)
