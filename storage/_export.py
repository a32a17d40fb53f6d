"""pandas exports of a store: outcomes, posterior history, daily spend, per-path stats.

Every function imports pandas (and, for SQL stores, SQLAlchemy) when called, so
``import storage`` stays light. Frames have typed columns: ``category`` for names,
``float64`` for scores, ``bool`` for ``errored``, ``Int64`` for token counts, and
timestamps as ``datetime64[ns, UTC]``.

Every function reads through :class:`storage.ReadStore` only, so a wrapped store
(the router's own ``router.store``) exports like the store it wraps. SQL stores stream
outcomes in chunks (server-side cursor on PostgreSQL), so millions of outcomes need
not fit in memory at once; a ``memory://`` store is read one task at a time.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from bandits import ConfigError
from bandits._fading import DEFAULT_HORIZON
from storage._daily import SECONDS_PER_DAY
from storage._protocol import ReadStore
from storage._reads import COLUMNS, OutcomeFilter
from storage._records import PathPosterior

if TYPE_CHECKING:
    import pandas as pd

_CATEGORIES = ("task", "path", "error_class", "customer")
_FLOATS = ("score", "latency_ms", "propensity", "cost")
_TOKENS = ("tokens_in", "tokens_out")
_TIMES = ("created_at", "reported_at")
DEFAULT_CHUNKSIZE = 100_000
_UTC_NS: Final = "datetime64[ns, UTC]"


def outcomes_frame(
    store: ReadStore,
    task: str | None = None,
    *,
    paths: Sequence[str] | None = None,
    since: float | datetime.datetime | str | None = None,
    until: float | datetime.datetime | str | None = None,
    customer: str | None = None,
) -> pd.DataFrame:
    """Every stored outcome (one row per attempt) matching the filters, oldest first.

    Rows are ordered by creation time, then insertion order.

    Args:
        store: any store; ``memory://`` and other non-SQL stores need ``task``.
        task: keep only this task (``None``: every task of a SQL store).
        paths: keep only these paths.
        since: keep outcomes created at or after this time.
        until: keep outcomes created before this time.
        customer: keep only this customer's outcomes.

    Returns:
        A frame with the columns of :data:`COLUMNS` (``metadata`` is left out);
        ``context`` holds each request's context dict, or None.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> _ = store.record(Outcome("r1", 1, "t", "a", score=1.0, created_at=0.0, tokens_in=5))
        >>> frame = outcomes_frame(store, "t")
        >>> frame[["path", "score", "tokens_in"]].to_dict("records")
        [{'path': 'a', 'score': 1.0, 'tokens_in': 5}]
        >>> str(frame["created_at"].dtype), str(frame["path"].dtype)
        ('datetime64[ns, UTC]', 'category')
    """
    import pandas as pd

    chunks = list(
        iter_outcome_frames(store, task, paths=paths, since=since, until=until, customer=customer)
    )
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return _frame([])
    return _typed(pd.concat(chunks, ignore_index=True))


def iter_outcome_frames(
    store: ReadStore,
    task: str | None = None,
    *,
    paths: Sequence[str] | None = None,
    since: float | datetime.datetime | str | None = None,
    until: float | datetime.datetime | str | None = None,
    customer: str | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
) -> Iterator[pd.DataFrame]:
    """The outcomes of :func:`outcomes_frame` as frames of at most ``chunksize`` rows.

    SQL stores stream rows from the database (a server-side cursor on PostgreSQL), so
    memory stays bounded by ``chunksize``. Category columns hold each chunk's own
    categories: ``pd.concat`` of the chunks gives the same values as
    :func:`outcomes_frame`. Yields nothing when no outcome matches.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i in range(5):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "a", score=1.0, created_at=i))
        >>> [len(chunk) for chunk in iter_outcome_frames(store, "t", chunksize=2)]
        [2, 2, 1]
    """
    if chunksize < 1:
        raise ConfigError(f"chunksize must be >= 1 (rows per frame), got {chunksize}")
    keep = OutcomeFilter(
        task,
        None if paths is None else tuple(paths),
        _seconds(since, "since"),
        _seconds(until, "until"),
        customer,
    )
    for rows in store.outcome_chunks(keep, chunksize):
        yield _frame(rows)


def posterior_history(
    store: ReadStore, task: str, *, freq: str = "1h", faded: bool = False
) -> pd.DataFrame:
    """Each path's Beta posterior at the end of every ``freq`` interval, from the outcomes.

    ``alpha = prior_alpha + cumsum(score)`` and ``beta = prior_beta + cumsum(1 - score)``
    over the scored outcomes still stored (change-point resets are not replayed: this
    is the full-evidence posterior, like :attr:`PathPosterior.alpha`).

    With ``faded=True`` it is the evidence the default policy acts on instead: the
    outputs judged (errors left out, they count against availability), each weighed
    ``exp(-age / horizon)`` at the end of the interval, its age counted in scored
    attempts of the task, with the horizon the path is stored with (resets still not
    replayed).

    Returns:
        Columns ``time`` (end of the interval, UTC), ``path``, ``alpha``, ``beta``,
        ``n``, ``mean``, ``ci_low``, ``ci_high`` (95% equal-tailed), one row per path
        and interval from the first outcome to the last.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i, s in enumerate([1.0, 0.0, 1.0]):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "a", score=s, created_at=i * 3600.0))
        >>> posterior_history(store, "t")[["alpha", "beta", "n"]].values.tolist()
        [[2.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 2.0, 3.0]]
    """
    import pandas as pd
    from scipy.stats import beta as beta_dist

    columns = ["time", "path", "alpha", "beta", "n", "mean", "ci_low", "ci_high"]
    frame = outcomes_frame(store, task)
    frame = frame[frame["score"].notna()]
    if frame.empty:
        empty = pd.DataFrame({name: pd.Series(dtype=float) for name in columns})
        empty["time"] = pd.Series(dtype=_UTC_NS)
        empty["path"] = pd.Series(dtype="category")
        empty["n"] = pd.Series(dtype="int64")
        return empty
    priors = store.posteriors(task)
    start = frame["created_at"].min().floor(freq)
    end = frame["created_at"].max().floor(freq)
    bins = pd.date_range(start, end, freq=freq, tz="UTC")
    if faded:
        return _faded_history(frame, priors, bins, freq, columns)
    parts = []
    for path, rows in frame.groupby("path", observed=True):
        binned = rows.set_index("created_at")["score"].resample(freq, origin=start)
        sums = binned.sum().reindex(bins, fill_value=0.0).cumsum()
        counts = binned.count().reindex(bins, fill_value=0).cumsum()
        prior = priors.get(str(path))
        alpha = (prior.prior_alpha if prior else 1.0) + sums
        beta = (prior.prior_beta if prior else 1.0) + (counts - sums)
        parts.append(
            pd.DataFrame(
                {
                    "time": bins + pd.tseries.frequencies.to_offset(freq),
                    "path": str(path),
                    "alpha": alpha.to_numpy(float),
                    "beta": beta.to_numpy(float),
                    "n": counts.to_numpy("int64"),
                }
            )
        )
    history = pd.concat(parts, ignore_index=True)
    history["mean"] = history["alpha"] / (history["alpha"] + history["beta"])
    history["ci_low"] = beta_dist.ppf(0.025, history["alpha"], history["beta"])
    history["ci_high"] = beta_dist.ppf(0.975, history["alpha"], history["beta"])
    history["time"] = history["time"].astype(_UTC_NS)
    history["path"] = history["path"].astype("category")
    return history.sort_values(["time", "path"], ignore_index=True)[columns]


def _faded_history(
    frame: pd.DataFrame,
    priors: Mapping[str, PathPosterior],
    bins: pd.DatetimeIndex,
    freq: str,
    columns: list[str],
) -> pd.DataFrame:
    """posterior_history(faded=True): each interval's end weighs every judged output by
    its age in scored attempts of the task (its rank among the scored outcomes)."""
    import numpy as np
    import pandas as pd
    from scipy.stats import beta as beta_dist

    ordered = frame.sort_values("created_at", kind="stable")
    ticks = np.arange(len(ordered), dtype=float)  # the task's tick when each was scored
    created = ordered["created_at"]
    judged = ~ordered["errored"].to_numpy(bool)
    scores = ordered["score"].to_numpy(float)
    names = ordered["path"].astype(str).to_numpy()
    ends = bins + pd.tseries.frequencies.to_offset(freq)
    rows = []
    for end in ends:
        seen = (created < end).to_numpy(bool)
        now = float(seen.sum())
        for path in sorted(set(names)):
            prior = priors.get(path)
            horizon = prior.horizon if prior else DEFAULT_HORIZON
            mine = seen & judged & (names == path)
            weights = np.exp(-(now - ticks[mine]) / horizon)
            successes = float(weights @ scores[mine])
            failures = float(weights.sum()) - successes
            rows.append(
                {
                    "time": end,
                    "path": path,
                    "alpha": (prior.prior_alpha if prior else 1.0) + successes,
                    "beta": (prior.prior_beta if prior else 1.0) + failures,
                    "n": int(mine.sum()),
                }
            )
    history = pd.DataFrame(rows)
    history["mean"] = history["alpha"] / (history["alpha"] + history["beta"])
    history["ci_low"] = beta_dist.ppf(0.025, history["alpha"], history["beta"])
    history["ci_high"] = beta_dist.ppf(0.975, history["alpha"], history["beta"])
    history["time"] = history["time"].astype(_UTC_NS)
    history["path"] = history["path"].astype("category")
    return history.sort_values(["time", "path"], ignore_index=True)[columns]


def daily_spend(store: ReadStore, task: str | None = None) -> pd.DataFrame:
    """Per UTC day, task and customer: requests, attempts, successes, tokens and cost.

    ``successes`` sums the scores, ``requests`` counts distinct request ids; tokens sum
    the known counts; ``unpriced`` counts the answered attempts of unknown cost, and
    ``cost`` is NaN on a row that has any (unknown stays unknown, never 0). Outcomes
    that ``prune`` folded away are still counted (from the store's daily aggregates)
    on a row whose ``customer`` is missing and whose ``requests`` is ``<NA>``: the
    aggregates keep neither.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> _ = store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0, cost=0.5,
        ...                          customer="acme", tokens_in=3, tokens_out=4))
        >>> row = daily_spend(store, "t").iloc[0]
        >>> row["customer"], int(row["requests"]), int(row["tokens"]), float(row["cost"])
        ('acme', 1, 7, 0.5)
    """
    import pandas as pd

    sums = ["attempts", "successes", "errors", "tokens_in", "tokens_out", "cost", "unpriced"]
    keys = ["day", "task", "customer"]
    parts, requests = [], []
    for chunk in iter_outcome_frames(store, task):
        frame = pd.DataFrame(
            {
                "day": (chunk["created_at"].astype("int64") // 10**9) // int(SECONDS_PER_DAY),
                "task": chunk["task"].astype(str),
                "customer": chunk["customer"].astype(object).fillna(""),
                "request_id": chunk["request_id"],
                "attempts": 1,
                "successes": chunk["score"].fillna(0.0),
                "errors": chunk["errored"].astype("int64"),
                "tokens_in": chunk["tokens_in"].fillna(0).astype("int64"),
                "tokens_out": chunk["tokens_out"].fillna(0).astype("int64"),
                "cost": chunk["cost"].fillna(0.0),
                "unpriced": (chunk["cost"].isna() & ~chunk["errored"]).astype("int64"),
            }
        )
        parts.append(frame.groupby(keys, as_index=False)[sums].sum())
        requests.append(frame[[*keys, "request_id"]].drop_duplicates())
    if parts:
        live = pd.concat(parts).groupby(keys, as_index=False)[sums].sum()
        counted = pd.concat(requests).drop_duplicates().groupby(keys).size()
        live = live.merge(counted.rename("requests").reset_index(), on=keys)
    else:
        live = pd.DataFrame(columns=[*keys, "requests", *sums])
    per_task_day: dict[tuple[str, int], list[float]] = {}
    for row in live.groupby(["task", "day"], as_index=False)[sums].sum().to_dict("records"):
        per_task_day[str(row["task"]), int(row["day"])] = [float(row[name]) for name in sums]
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in row.items()} for row in live.to_dict("records")
    ]
    records += _pruned(store, task, per_task_day, tuple(sums))
    frame = pd.DataFrame(records, columns=[*keys, "requests", *sums])
    frame["day"] = pd.to_datetime(
        frame["day"].astype("float64") * SECONDS_PER_DAY, unit="s", utc=True
    ).astype(_UTC_NS)
    frame["customer"] = frame["customer"].where(frame["customer"].astype(bool), None)
    for name in ("task", "customer"):
        frame[name] = frame[name].astype(object).astype("category")
    for name in ("requests", "attempts", "errors", "tokens_in", "tokens_out", "unpriced"):
        frame[name] = pd.to_numeric(frame[name]).round().astype("Int64")
    frame["tokens"] = frame["tokens_in"] + frame["tokens_out"]
    frame["cost"] = frame["cost"].astype(float).where(frame["unpriced"] == 0)
    frame["successes"] = frame["successes"].astype(float)
    order = [*keys, "requests", "attempts", "successes", "errors"]
    frame = frame[[*order, "tokens_in", "tokens_out", "tokens", "cost", "unpriced"]]
    return frame.sort_values(keys, ignore_index=True, na_position="last")


def path_stats(store: ReadStore, task: str) -> pd.DataFrame:
    """Per-path table of ``task``: posterior, traffic, spending, success and latency.

    The columns of ``Router.stats()``, with the same names and dtypes (see
    :mod:`storage._path_table`): ``alpha``, ``beta``, ``mean``, ``ci_low``, ``ci_high``
    (95% credible interval), ``n`` (scored attempts), ``traffic_share`` (share of the
    task's scored attempts), ``tokens``, ``cost`` (NaN while ``unpriced`` attempts have
    an unknown cost), ``unpriced``, ``cost_per_success``; then, from the stored
    outcomes, ``first_share`` (share of first attempts), ``success_rate`` (mean score),
    ``latency_p50_ms`` and ``latency_p99_ms``; indexed by path.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> _ = store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0, cost=0.5))
        >>> path_stats(store, "t").loc["a", ["success_rate", "cost_per_success"]].tolist()
        [1.0, 0.5]
    """
    import numpy as np

    from storage._path_table import path_table

    posteriors = store.posteriors(task)
    frame = outcomes_frame(store, task)
    names = sorted(set(posteriors) | {str(p) for p in frame["path"].unique()})
    daily = store.daily_aggregates(task)
    table = path_table(names, posteriors, daily)
    firsts = frame.loc[frame["attempt"] == 1, "path"].astype(str).value_counts()
    total_firsts = int(firsts.sum())
    observed = []
    for name in names:
        rows = frame[frame["path"] == name]
        latency = rows["latency_ms"].to_numpy(float)
        scores = rows["score"]
        observed.append(
            {
                "first_share": int(firsts.get(name, 0)) / total_firsts if total_firsts else 0.0,
                "success_rate": float(scores.mean()) if scores.notna().any() else math.nan,
                "latency_p50_ms": float(np.percentile(latency, 50)) if latency.size else math.nan,
                "latency_p99_ms": float(np.percentile(latency, 99)) if latency.size else math.nan,
            }
        )
    for column in ("first_share", "success_rate", "latency_p50_ms", "latency_p99_ms"):
        table[column] = [row[column] for row in observed]
    return table


def store_tasks(store: ReadStore) -> list[str]:
    """Every task with outcomes or posteriors in a SQL store, sorted.

    A ``memory://`` store does not list its tasks: this raises ConfigError for it.

    Example:
        >>> from storage import Outcome, open_store
        >>> store = open_store("sqlite:///:memory:")
        >>> _ = store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
        >>> store_tasks(store)
        ['t']
    """
    return store.tasks()


def _frame(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """Typed frame of raw outcome rows in :data:`COLUMNS` order."""
    import pandas as pd

    raw = pd.DataFrame.from_records(list(rows), columns=list(COLUMNS))
    return _typed(raw)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    out["request_id"] = frame["request_id"].astype(object).astype("str")  # also when empty
    out["attempt"] = frame["attempt"].astype("int64").to_numpy()
    for name in COLUMNS[2:]:
        column = frame[name].reset_index(drop=True)
        if name in _CATEGORIES:
            out[name] = column.astype(object).where(column.notna(), None).astype("category")
        elif name in _FLOATS:
            out[name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif name in _TOKENS:
            out[name] = pd.to_numeric(column, errors="coerce").astype("Int64")
        elif name == "errored":
            out[name] = column.fillna(False).astype(bool)
        elif name in _TIMES:
            out[name] = _utc(column)
        elif name == "context":  # a dict per row (None: the request had no context)
            out[name] = column.astype(object).where(column.notna(), None)
    return out


def _utc(column: pd.Series[Any]) -> pd.Series[Any]:
    import pandas as pd

    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.astype(_UTC_NS)
    seconds = pd.to_numeric(column, errors="coerce").astype("float64")
    return pd.to_datetime(seconds, unit="s", utc=True).astype(_UTC_NS)


def _seconds(value: float | datetime.datetime | str | None, name: str) -> float | None:
    """Seconds since the epoch of a ``since`` / ``until`` argument."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a time, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number of seconds, got {value!r}")
        return float(value)
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(
                f"{name} must be ISO 8601 text such as '2026-01-01T00:00:00Z', got {value!r}"
            ) from exc
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.timestamp()
    raise ConfigError(
        f"{name} must be seconds since the epoch, a datetime or ISO text, got {value!r}"
    )


def _add(totals: dict[Any, list[float]], key: Any, values: list[float]) -> None:
    current = totals.get(key)
    if current is None:
        totals[key] = list(values)
    else:
        for i, value in enumerate(values):
            current[i] += value


def _pruned(
    store: ReadStore,
    task: str | None,
    live: dict[tuple[str, int], list[float]],
    sums: tuple[str, ...],
) -> list[dict[str, Any]]:
    """Rows for outcomes that prune folded away: daily aggregates minus the live outcomes."""
    tasks = [task] if task is not None else store_tasks(store)
    rows = []
    for name in tasks:
        folded: dict[int, list[float]] = {}
        for agg in store.daily_aggregates(name):
            day = round((agg.day - datetime.date(1970, 1, 1)).days)
            values = [agg.attempts, agg.successes, agg.errors, agg.tokens_in, agg.tokens_out]
            _add(folded, day, [float(v) for v in (*values, agg.cost, agg.unpriced)])
        for day, values in folded.items():
            seen = live.get((name, day), [0.0] * len(sums))
            if values[0] - seen[0] >= 1:  # attempts are whole numbers
                rest = [a - b for a, b in zip(values, seen, strict=True)]
                rows.append(
                    {"day": day, "task": name, "customer": None, "requests": None}
                    | dict(zip(sums, rest, strict=True))
                )
    return rows
