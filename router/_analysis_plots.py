"""Plots of a store's outcomes: traffic, rolling success, posteriors, cost, latency, changes.

Each function takes a frame from :func:`storage.outcomes_frame` (or a store and a task)
and an optional matplotlib ``Axes`` to draw on, and returns the ``Axes``. Without one
it draws on a new ``matplotlib.figure.Figure`` (no pyplot, so no display is needed and
any backend works, Agg included; in Jupyter show it with ``ax.figure``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from storage import Store

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_traffic_share(
    data: pd.DataFrame | Store,
    task: str | None = None,
    *,
    freq: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Share of first attempts each path received per time interval, stacked to 1.

    ``freq`` is a pandas frequency such as ``"1h"``; by default about 50 intervals
    span the data.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i in range(40):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "ab"[i % 2], 1.0, created_at=i * 60.0))
        >>> plot_traffic_share(store, "t").get_title()
        'Traffic share per path (first attempts)'
    """
    import pandas as pd

    frame = _outcomes(data, task)
    firsts = frame[frame["attempt"] == 1]
    axes = _axes(ax)
    axes.set_title("Traffic share per path (first attempts)")
    axes.set_xlabel("time (UTC)")
    axes.set_ylabel("share of requests")
    if firsts.empty:
        return _no_data(axes)
    step = freq or _auto_freq(firsts)
    counts = (
        firsts.assign(path=firsts["path"].astype(str))
        .groupby([firsts["created_at"].dt.floor(step), "path"])
        .size()
        .unstack(fill_value=0)
    )
    shares = counts.div(counts.sum(axis=1), axis=0)
    axes.stackplot(
        pd.DatetimeIndex(shares.index).tz_localize(None).to_numpy(),
        *(shares[c].to_numpy(float) for c in shares.columns),
        labels=[str(c) for c in shares.columns],
        alpha=0.85,
    )
    axes.set_ylim(0.0, 1.0)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), title="path")
    _tilt_dates(axes)
    return axes


def plot_rolling_success(
    data: pd.DataFrame | Store,
    task: str | None = None,
    *,
    window: int = 100,
    level: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """Each path's mean score over its last ``window`` scored attempts, with a credible band.

    The band holds the ``level`` equal-tailed interval of Beta(1 + successes, 1 +
    failures) over the same window.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i in range(30):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "a", i % 3 > 0, created_at=i * 60.0))
        >>> ax = plot_rolling_success(store, "t", window=10)
        >>> ax.get_ylabel(), len(ax.get_lines())
        ('success rate (last 10 scored)', 1)
    """
    from scipy.stats import beta

    if window < 1:
        raise ConfigError(f"window must be >= 1 (scored attempts per path), got {window}")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"level must be in (0, 1), e.g. 0.95; got {level}")
    frame = _outcomes(data, task)
    scored = frame[frame["score"].notna()]
    axes = _axes(ax)
    axes.set_title(f"Rolling success per path ({level:.0%} credible band)")
    axes.set_xlabel("time (UTC)")
    axes.set_ylabel(f"success rate (last {window} scored)")
    if scored.empty:
        return _no_data(axes)
    tail = (1.0 - level) / 2.0
    for path, rows in scored.groupby("path", observed=True):
        rolling = rows["score"].rolling(window, min_periods=1)
        successes = rolling.sum().to_numpy(float)
        count = rolling.count().to_numpy(float)
        times = rows["created_at"].dt.tz_localize(None).to_numpy()
        (line,) = axes.plot(times, successes / count, label=str(path), linewidth=1.5)
        low = beta.ppf(tail, 1.0 + successes, 1.0 + count - successes)
        high = beta.ppf(1.0 - tail, 1.0 + successes, 1.0 + count - successes)
        axes.fill_between(times, low, high, color=line.get_color(), alpha=0.2)
    axes.set_ylim(-0.02, 1.02)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), title="path")
    _tilt_dates(axes)
    return axes


def plot_posteriors(
    data: pd.DataFrame | Store,
    task: str | None = None,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Each path's current Beta posterior density.

    ``data`` is a store (with ``task``), a frame with ``alpha`` and ``beta`` columns
    indexed by path (:func:`storage.path_stats`), or :func:`storage.posterior_history`
    (its last row per path is drawn).

    Example:
        >>> import pandas as pd
        >>> table = pd.DataFrame({"alpha": [9.0, 3.0], "beta": [2.0, 5.0]}, index=["a", "b"])
        >>> [line.get_label() for line in plot_posteriors(table).get_lines()]
        ['a: mean 0.82, n 9', 'b: mean 0.38, n 6']
    """
    import numpy as np
    from scipy.stats import beta

    table = _posterior_table(data, task)
    axes = _axes(ax)
    axes.set_title("Posterior of each path's success rate (now)")
    axes.set_xlabel("success rate")
    axes.set_ylabel("density")
    if table.empty:
        return _no_data(axes)
    lows = np.atleast_1d(beta.ppf(0.001, table["alpha"], table["beta"]))
    highs = np.atleast_1d(beta.ppf(0.999, table["alpha"], table["beta"]))
    grid = np.linspace(max(0.0, float(lows.min()) - 0.02), min(1.0, float(highs.max()) + 0.02), 400)
    for path, row in table.iterrows():
        a, b = float(row["alpha"]), float(row["beta"])
        label = f"{path}: mean {a / (a + b):.2f}, n {round(a + b - 2)}"
        (line,) = axes.plot(grid, beta.pdf(grid, a, b), label=label, linewidth=1.6)
        axes.fill_between(grid, beta.pdf(grid, a, b), color=line.get_color(), alpha=0.12)
    axes.set_xlim(grid[0], grid[-1])
    axes.set_ylim(bottom=0.0)
    axes.legend(loc="upper left", title="path")
    return axes


def plot_cost_per_success(
    data: pd.DataFrame | Store, task: str | None = None, *, ax: Axes | None = None
) -> Axes:
    """Total cost divided by total score, per path (left out: no success, or no known cost).

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> _ = store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0, cost=0.5))
        >>> [round(float(p.get_width()), 2) for p in plot_cost_per_success(store, "t").patches]
        [0.5]
    """
    frame = _outcomes(data, task)
    axes = _axes(ax)
    axes.set_title("Cost per success per path")
    axes.set_xlabel("cost per success ($)")
    axes.set_ylabel("path")
    grouped = frame.assign(path=frame["path"].astype(str)).groupby("path")
    sums = grouped[["cost", "score"]].sum(min_count=1)  # NaN cost: none known
    sums = sums[(sums["score"] > 0) & sums["cost"].notna()]
    if sums.empty:
        return _no_data(axes)
    per_success = (sums["cost"] / sums["score"]).sort_values()
    bars = axes.barh(per_success.index.tolist(), per_success.to_numpy(float), color="tab:blue")
    axes.bar_label(bars, labels=[f"${v:.4g}" for v in per_success], padding=3, fontsize=8)
    axes.margins(x=0.2)
    return axes


def plot_latency_percentiles(
    data: pd.DataFrame | Store,
    task: str | None = None,
    *,
    percentiles: Sequence[float] = (50, 90, 99),
    ax: Axes | None = None,
) -> Axes:
    """Latency percentiles of every attempt, per path, as grouped bars (log scale).

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i in range(10):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "a", 1.0, created_at=i, latency_ms=i + 1))
        >>> ax = plot_latency_percentiles(store, "t", percentiles=[50, 99])
        >>> [round(float(p.get_height()), 1) for p in ax.patches]
        [5.5, 9.9]
    """
    import numpy as np

    if not percentiles or not all(0 <= p <= 100 for p in percentiles):
        raise ConfigError(f"percentiles must be values in [0, 100], got {list(percentiles)}")
    frame = _outcomes(data, task)
    axes = _axes(ax)
    axes.set_title("Latency percentiles per path")
    axes.set_xlabel("path")
    axes.set_ylabel("latency (ms, log scale)")
    if frame.empty:
        return _no_data(axes)
    latency = frame.assign(path=frame["path"].astype(str)).groupby("path")["latency_ms"]
    paths = sorted(str(name) for name in latency.groups)
    width = 0.8 / len(percentiles)
    x = np.arange(len(paths))
    for i, p in enumerate(percentiles):
        values = [float(np.percentile(latency.get_group(name), p)) for name in paths]
        axes.bar(x + (i - (len(percentiles) - 1) / 2) * width, values, width, label=f"p{p:g}")
    axes.set_xticks(x, paths)
    if float(frame["latency_ms"].min()) > 0:
        axes.set_yscale("log")
    axes.legend(title="percentile")
    return axes


def change_point_times(store: Store, task: str) -> dict[str, pd.Timestamp]:
    """When each reset path's current evidence starts: the store's last change point.

    A reset keeps a path's last scores as its recent evidence (``base_n`` marks where
    they start), so the time of the path's ``base_n``-th scored outcome is where the
    detector placed the change. Only the last reset of each path is known, and pruned
    outcomes shift the estimate.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i in range(4):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", "a", 1.0, created_at=i * 60.0))
        >>> store.reset("t", "a", keep_successes=1.0, keep_count=1, seen_resets=0)
        True
        >>> change_point_times(store, "t")
        {'a': Timestamp('1970-01-01 00:03:00+0000', tz='UTC')}
    """
    from storage import outcomes_frame

    changed = {p: row for p, row in store.posteriors(task).items() if row.resets > 0}
    if not changed:
        return {}
    frame = outcomes_frame(store, task, paths=sorted(changed))
    scored = frame[frame["score"].notna()]
    times = {}
    for path, row in sorted(changed.items()):
        rows = scored.loc[scored["path"] == path, "created_at"]
        if 0 <= row.base_n < len(rows):
            times[path] = rows.iloc[row.base_n]
    return times


def plot_change_points(
    ax: Axes,
    at: Sequence[Any] | None = None,
    *,
    store: Store | None = None,
    task: str | None = None,
) -> Axes:
    """Dashed vertical lines at change points: given x positions, or a store's resets.

    ``at`` holds x values of ``ax`` (request indices, or times for the time-axis plots
    here); with ``store`` and ``task`` the lines go at :func:`change_point_times`,
    labelled by path.

    Example:
        >>> import pandas as pd
        >>> ax = plot_posteriors(pd.DataFrame({"alpha": [9.0], "beta": [2.0]}, index=["a"]))
        >>> plot_change_points(ax, [0.5]).get_lines()[-1].get_xdata()
        [0.5, 0.5]
    """
    if (at is None) == (store is None):
        raise ConfigError("pass either change points (at=...) or store= and task=, not both")
    if at is not None:
        for x in at:
            ax.axvline(x, color="grey", linestyle="--", linewidth=1.0)
        return ax
    if store is None or task is None:
        raise ConfigError("plot_change_points(store=...) needs task=...")
    for path, when in change_point_times(store, task).items():
        when_x: Any = when.tz_localize(None).to_pydatetime()  # matplotlib converts dates
        ax.axvline(when_x, color="grey", linestyle="--")
        ax.annotate(
            f"reset: {path}",
            (when_x, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
            color="grey",
        )
    return ax


def plot_path_dashboard(store: Store, task: str, *, window: int = 100) -> Figure:
    """A 3x2 figure of every plot above for one task, change points marked.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> _ = store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
        >>> len(plot_path_dashboard(store, "t").axes)
        6
    """
    from matplotlib.figure import Figure

    from storage import outcomes_frame

    frame = outcomes_frame(store, task)
    figure = Figure(figsize=(14, 12), layout="constrained")
    grid = figure.subplots(3, 2)
    plot_traffic_share(frame, ax=grid[0, 0])
    plot_rolling_success(frame, window=window, ax=grid[0, 1])
    plot_posteriors(store, task, ax=grid[1, 0])
    plot_cost_per_success(frame, ax=grid[1, 1])
    plot_latency_percentiles(frame, ax=grid[2, 0])
    table = grid[2, 1]
    table.set_title("Outcomes")
    table.axis("off")
    if not frame.empty:
        for axes in (grid[0, 0], grid[0, 1]):
            plot_change_points(axes, store=store, task=task)
        summary = _summary_lines(frame)
        table.text(0.0, 1.0, summary, va="top", family="monospace", fontsize=9)
    figure.suptitle(f"Task {task!r}: {len(frame):,} attempts")
    return figure


def _summary_lines(frame: pd.DataFrame) -> str:
    first, last = frame["created_at"].min(), frame["created_at"].max()
    lines = [
        f"from  {first:%Y-%m-%d %H:%M} UTC",
        f"to    {last:%Y-%m-%d %H:%M} UTC",
        f"requests  {frame['request_id'].nunique():,}",
        f"attempts  {len(frame):,}",
        f"errors    {int(frame['errored'].sum()):,}",
        f"mean score {frame['score'].mean():.3f}",
        f"cost      ${frame['cost'].sum():,.4f}",
    ]
    return "\n".join(lines)


def _outcomes(data: pd.DataFrame | Store, task: str | None) -> pd.DataFrame:
    import pandas as pd

    from storage import outcomes_frame

    if isinstance(data, pd.DataFrame):
        missing = {"path", "created_at"} - set(data.columns)
        if missing:
            raise ConfigError(
                f"expected a frame from storage.outcomes_frame(); missing columns {sorted(missing)}"
            )
        return data if task is None else data[data["task"] == task]
    if task is None:
        raise ConfigError("pass the task to plot along with the store")
    return outcomes_frame(data, task)


def _posterior_table(data: pd.DataFrame | Store, task: str | None) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        if task is None:
            raise ConfigError("pass the task to plot along with the store")
        rows = data.posteriors(task)
        return pd.DataFrame(
            {"alpha": [r.alpha for r in rows.values()], "beta": [r.beta for r in rows.values()]},
            index=list(rows),
        ).sort_index()
    if not {"alpha", "beta"} <= set(data.columns):
        raise ConfigError(
            "expected a frame with alpha and beta columns (storage.path_stats or "
            "storage.posterior_history)"
        )
    if "time" in data.columns and "path" in data.columns:  # a posterior history
        last = data.sort_values("time").groupby("path", observed=True).tail(1)
        return last.set_index(last["path"].astype(str))[["alpha", "beta"]].sort_index()
    return data[["alpha", "beta"]]


def _auto_freq(frame: pd.DataFrame) -> str:
    span = (frame["created_at"].max() - frame["created_at"].min()).total_seconds()
    seconds = max(1, math.ceil(span / 50))
    return f"{seconds}s"


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ConfigError("plots need matplotlib: pip install 'outcome-router[plot]'") from exc
    figure = Figure(figsize=(10, 5), layout="constrained")
    axes: Axes = figure.add_subplot()
    return axes


def _no_data(axes: Axes) -> Axes:
    axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    return axes


def _tilt_dates(axes: Axes) -> None:
    for label in axes.get_xticklabels():
        label.set_rotation(20)
        label.set_horizontalalignment("right")
