"""The per-path table of ``Router.stats()`` (shared with ``storage.path_stats``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from storage import DailyAggregate, PathPosterior, ReadStore

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


def stats_by(store: ReadStore, task: str, key: str) -> pd.DataFrame:
    """Per (value of context ``key``, path): scored attempts ``n``, mean score, errors,
    the path's share of that value's attempts, the sum of the known costs and the cost
    per success, from the stored outcomes (those pruned are not in it). Requests
    without ``key`` in their context are under a missing value (NaN, as pandas shows
    missing keys).

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i, lang in enumerate(["de", "de", "en"]):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "a", float(lang == "de"),
        ...                              created_at=0.0, context={"lang": lang}))
        >>> stats_by(store, "t", "lang")[["n", "mean"]].to_dict("index")
        {('de', 'a'): {'n': 2, 'mean': 1.0}, ('en', 'a'): {'n': 1, 'mean': 0.0}}
    """
    import pandas as pd

    from storage import outcomes_frame

    frame = outcomes_frame(store, task)
    frame = frame[frame["score"].notna()]
    values = frame["context"].map(lambda c: None if c is None else c.get(key))
    scored = pd.DataFrame(
        {
            key: values.astype(object).to_numpy(),
            "path": frame["path"].astype(str).to_numpy(),
            "score": frame["score"].to_numpy(),
            "errored": frame["errored"].to_numpy(),
            "cost": frame["cost"].fillna(0.0).to_numpy(),
        }
    )
    table = scored.groupby([key, "path"], dropna=False, sort=True).agg(
        n=("score", "size"),
        mean=("score", "mean"),
        errors=("errored", "sum"),
        cost=("cost", "sum"),
    )
    table["n"] = table["n"].astype("int64")
    table["errors"] = table["errors"].astype("int64")
    per_value = table.groupby(level=0, dropna=False)["n"].transform("sum")
    table["traffic_share"] = table["n"] / per_value
    successes = table["mean"] * table["n"]
    table["cost_per_success"] = table["cost"] / successes.where(successes > 0)
    return table[["n", "mean", "errors", "traffic_share", "cost", "cost_per_success"]]
