"""Analysis plots drawn from a store's outcomes: titles, labels and what they draw."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.stats import beta

from bandits import ConfigError
from router import (
    change_point_times,
    plot_change_points,
    plot_cost_per_success,
    plot_latency_percentiles,
    plot_path_dashboard,
    plot_posteriors,
    plot_rolling_success,
    plot_traffic_share,
)
from simulations import load_scenario, replay
from storage import MemoryStore, Outcome, Store, open_store, outcomes_frame, path_stats

TASK = "plots"
PATHS = ["claude-sonnet", "gpt-4o", "gpt-4o-mini", "regex"]


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def simulated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """An outage replayed through the router into a store of each kind."""
    url = "memory://"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('plots') / 'store.db'}"
    store = open_store(url)
    scenario = load_scenario("outage").with_options(requests=1500, rate=0.1)
    for _ in replay(scenario, "router", seed=0, store=store, task=TASK):
        pass
    yield store
    store.close()


@pytest.fixture(scope="module")
def frame(simulated: Store) -> pd.DataFrame:
    return outcomes_frame(simulated, TASK)


def labelled(ax: Axes) -> None:
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_traffic_share_stacks_every_path_to_one(frame: pd.DataFrame) -> None:
    ax = plot_traffic_share(frame, freq="30min")
    labelled(ax)
    assert sorted(ax.get_legend_handles_labels()[1]) == sorted(set(frame["path"].astype(str)))
    tops = ax.collections[-1].get_paths()[0].vertices[:, 1]
    assert np.allclose(tops.max(), 1.0) and ax.get_ylim() == (0.0, 1.0)


def test_rolling_success_draws_a_line_and_a_band_per_scored_path(frame: pd.DataFrame) -> None:
    ax = plot_rolling_success(frame, window=50)
    labelled(ax)
    scored_paths = frame.loc[frame["score"].notna(), "path"].astype(str).unique()
    assert len(ax.get_lines()) == len(scored_paths) == len(ax.collections)
    for line in ax.get_lines():
        values = np.asarray(line.get_ydata(), dtype=float)
        assert ((values >= 0) & (values <= 1)).all()
    assert "50" in ax.get_ylabel()


def test_rolling_success_band_contains_the_rolling_mean() -> None:
    store = MemoryStore()
    for i in range(200):
        store.record(Outcome(f"r{i}", 1, "t", "a", float(i % 4 > 0), created_at=i * 60.0))
    ax = plot_rolling_success(store, "t", window=40)
    means = np.asarray(ax.get_lines()[0].get_ydata(), dtype=float)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert means[-1] == pytest.approx(0.75)  # 30 of the last 40 scores
    # The last window's band is Beta(1 + 30, 1 + 10)'s 95% interval, around the mean.
    low, high = beta.ppf([0.025, 0.975], 31, 11)
    assert low < 0.75 < high
    assert np.isclose(band, low).any() and np.isclose(band, high).any()


def test_posteriors_plot_one_density_per_path(simulated: Store, frame: pd.DataFrame) -> None:
    ax = plot_posteriors(simulated, TASK)
    labelled(ax)
    labels = [line.get_label() for line in ax.get_lines()]
    assert [label.split(":")[0] for label in labels] == PATHS
    from_table = plot_posteriors(path_stats(simulated, TASK))
    assert [line.get_label() for line in from_table.get_lines()] == labels
    for line in ax.get_lines():
        density = np.asarray(line.get_ydata(), dtype=float)
        x = np.asarray(line.get_xdata(), dtype=float)
        assert (density >= 0).all() and np.trapezoid(density, x) <= 1.0 + 1e-6


def test_cost_per_success_has_a_bar_per_successful_path(frame: pd.DataFrame) -> None:
    priced = frame.assign(cost=np.where(frame["path"] == "regex", 0.0, 0.002))
    ax = plot_cost_per_success(priced)
    labelled(ax)
    sums = priced.assign(path=priced["path"].astype(str)).groupby("path")[["cost", "score"]].sum()
    expected = (sums["cost"] / sums["score"])[sums["score"] > 0].sort_values()
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == pytest.approx(expected.tolist())
    assert [t.get_text() for t in ax.get_yticklabels()] == expected.index.tolist()


def test_cost_per_success_without_known_costs_says_no_data(frame: pd.DataFrame) -> None:
    ax = plot_cost_per_success(frame.assign(cost=np.nan))
    assert not ax.patches and [t.get_text() for t in ax.texts] == ["no data"]


def test_latency_percentiles_are_ordered_per_path(frame: pd.DataFrame) -> None:
    ax = plot_latency_percentiles(frame, percentiles=(50, 99))
    labelled(ax)
    heights = [bar.get_height() for bar in ax.patches]
    paths = sorted(set(frame["path"].astype(str)))
    p50, p99 = heights[: len(paths)], heights[len(paths) :]
    assert all(low <= high for low, high in zip(p50, p99, strict=True))
    assert [t.get_text() for t in ax.get_xticklabels()] == paths
    assert ax.get_legend_handles_labels()[1] == ["p50", "p99"]


def test_change_points_come_from_given_indices_or_the_store_resets() -> None:
    store = MemoryStore()
    for i in range(10):
        store.record(Outcome(f"r{i}", 1, "t", "a", 1.0, created_at=1_767_225_600.0 + i * 60))
    assert change_point_times(store, "t") == {}
    assert store.reset("t", "a", keep_successes=3.0, keep_count=3, seen_resets=0)
    assert change_point_times(store, "t") == {"a": pd.Timestamp("2026-01-01T00:07:00Z")}
    ax = plot_rolling_success(store, "t")
    before = len(ax.get_lines())
    plot_change_points(ax, store=store, task="t")
    assert len(ax.get_lines()) == before + 1
    assert [t.get_text() for t in ax.texts] == ["reset: a"]
    plot_change_points(ax, [pd.Timestamp("2026-01-01T00:02:00").to_pydatetime()])
    assert len(ax.get_lines()) == before + 2


def test_dashboard_is_a_figure_of_six_titled_axes(simulated: Store, tmp_path: Path) -> None:
    figure = plot_path_dashboard(simulated, TASK)
    assert isinstance(figure, Figure) and len(figure.axes) == 6
    assert all(ax.get_title() for ax in figure.axes)
    target = tmp_path / "dashboard.png"
    figure.savefig(target)  # renders on the Agg canvas without pyplot
    assert target.stat().st_size > 10_000


def test_plots_given_an_axes_draw_on_it(frame: pd.DataFrame) -> None:
    figure = Figure()
    ax = figure.add_subplot()
    assert plot_cost_per_success(frame, ax=ax) is ax


def test_empty_data_says_no_data() -> None:
    ax = plot_traffic_share(MemoryStore(), "t")
    assert [t.get_text() for t in ax.texts] == ["no data"]


def test_bad_input_raises_config_errors(frame: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="pass the task"):
        plot_traffic_share(MemoryStore())
    with pytest.raises(ConfigError, match="missing columns"):
        plot_traffic_share(pd.DataFrame({"x": [1]}))
    with pytest.raises(ConfigError, match="window must be >= 1"):
        plot_rolling_success(frame, window=0)
    with pytest.raises(ConfigError, match="alpha and beta"):
        plot_posteriors(frame)
    with pytest.raises(ConfigError, match="percentiles"):
        plot_latency_percentiles(frame, percentiles=[150])
    with pytest.raises(ConfigError, match="either change points"):
        plot_change_points(Figure().add_subplot())
