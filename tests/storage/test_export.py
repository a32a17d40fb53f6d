"""pandas exports: typed columns, filters, streaming, posterior history, daily spend."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bandits import ConfigError
from storage import (
    MemoryStore,
    Outcome,
    SQLStore,
    Store,
    daily_spend,
    iter_outcome_frames,
    outcomes_frame,
    path_stats,
    posterior_history,
    store_tasks,
)

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
HOUR = 3600.0
ROOT = Path(__file__).resolve().parents[2]


def fill(store: Store, task: str, n: int = 60) -> list[Outcome]:
    """``n`` requests over 3 days: path a succeeds, b fails every third; customers alternate."""
    rows = []
    for i in range(n):
        path = "a" if i % 2 == 0 else "b"
        errored = path == "b" and i % 3 == 0
        rows.append(
            Outcome(
                f"{task}-r{i}",
                1,
                task,
                path,
                score=None if i == 7 else (0.0 if errored else 1.0),
                created_at=START + i * 72 * 60.0,  # 60 requests span 3 days
                error_class="ServerError" if errored else None,
                errored=errored,
                latency_ms=10.0 * (i + 1),
                propensity=0.5,
                customer="acme" if i % 2 else "globex",
                tokens_in=None if i == 5 else 10,
                tokens_out=20,
                cost=0.01,
            )
        )
    store.ensure_paths(task, ["a", "b"])
    assert store.record_many(rows) == n
    return rows


def test_outcomes_frame_has_typed_columns_and_utc_times(store: Store, task: str) -> None:
    rows = fill(store, task)
    frame = outcomes_frame(store, task)
    assert len(frame) == len(rows)
    dtypes = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    assert dtypes["task"] == dtypes["path"] == dtypes["error_class"] == "category"
    assert dtypes["score"] == "float64" and dtypes["latency_ms"] == "float64"
    assert dtypes["errored"] == "bool"
    assert dtypes["tokens_in"] == dtypes["tokens_out"] == "Int64"
    assert dtypes["created_at"] == dtypes["reported_at"] == "datetime64[ns, UTC]"
    assert frame["created_at"].iloc[0] == pd.Timestamp("2026-01-01T00:00:00Z")
    assert frame["created_at"].is_monotonic_increasing
    assert pd.isna(frame.loc[7, "score"]) and pd.isna(frame.loc[5, "tokens_in"])
    assert frame["tokens_in"].sum() == 10 * (len(rows) - 1)
    assert frame["errored"].sum() == sum(o.errored for o in rows)
    assert set(frame["error_class"].dropna()) == {"ServerError"}
    assert frame["request_id"].tolist() == [o.request_id for o in rows]  # oldest first


def test_filters_select_paths_times_and_customers(store: Store, task: str) -> None:
    fill(store, task)
    only_a = outcomes_frame(store, task, paths=["a"])
    assert set(only_a["path"]) == {"a"} and len(only_a) == 30
    day_two = outcomes_frame(store, task, since="2026-01-02T00:00:00Z", until=START + 2 * 86_400)
    assert len(day_two) == 20
    assert day_two["created_at"].dt.date.unique().tolist() == [datetime.date(2026, 1, 2)]
    naive = outcomes_frame(store, task, since=datetime.datetime(2026, 1, 2), until="2026-01-03")
    assert naive["request_id"].tolist() == day_two["request_id"].tolist()
    acme = outcomes_frame(store, task, customer="acme")
    assert set(acme["customer"]) == {"acme"} and len(acme) == 30
    assert outcomes_frame(store, task, paths=["nope"]).empty


def test_empty_export_keeps_the_columns_and_types(store: Store, task: str) -> None:
    frame = outcomes_frame(store, task)
    assert frame.empty and str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["path"].dtype) == "category"


def test_chunks_stream_and_concatenate_to_the_whole(store: Store, task: str) -> None:
    fill(store, task)
    chunks = list(iter_outcome_frames(store, task, chunksize=25))
    assert [len(c) for c in chunks] == [25, 25, 10]
    whole = outcomes_frame(store, task)
    joined = pd.concat(chunks, ignore_index=True)
    for name in ("task", "path", "error_class", "customer"):
        joined[name] = joined[name].astype(str)
        whole[name] = whole[name].astype(str)
    pd.testing.assert_frame_equal(joined, whole)


def test_sql_stores_export_every_task_without_naming_one(store: Store, task: str) -> None:
    if isinstance(store, MemoryStore):
        with pytest.raises(ConfigError, match="one task at a time"):
            outcomes_frame(store)
        return
    fill(store, task, n=10)
    fill(store, f"{task}-other", n=4)
    frame = outcomes_frame(store)
    assert {task, f"{task}-other"} <= set(frame["task"])
    assert {task, f"{task}-other"} <= set(store_tasks(store))


def test_bad_arguments_raise_config_errors(store: Store, task: str) -> None:
    with pytest.raises(ConfigError, match="chunksize must be >= 1"):
        list(iter_outcome_frames(store, task, chunksize=0))
    with pytest.raises(ConfigError, match="ISO 8601"):
        outcomes_frame(store, task, since="yesterday")
    with pytest.raises(ConfigError, match="finite"):
        outcomes_frame(store, task, until=float("nan"))


def test_posterior_history_ends_at_the_stored_posterior(store: Store, task: str) -> None:
    fill(store, task)
    history = posterior_history(store, task, freq="6h")
    assert str(history["time"].dtype) == "datetime64[ns, UTC]"
    assert set(history["path"]) == {"a", "b"}
    assert len(history) == 2 * 12  # 3 days in 6-hour bins, per path
    for path, rows in history.groupby("path", observed=True):
        assert rows["alpha"].is_monotonic_increasing and rows["beta"].is_monotonic_increasing
        assert rows["n"].is_monotonic_increasing
        stored = store.posteriors(task)[str(path)]
        assert rows["alpha"].iloc[-1] == pytest.approx(stored.alpha)
        assert rows["beta"].iloc[-1] == pytest.approx(stored.beta)
        assert rows["n"].iloc[-1] == stored.n
    assert (history["ci_low"] < history["mean"]).all()
    assert (history["mean"] < history["ci_high"]).all()


def test_posterior_history_of_an_empty_task_is_empty(store: Store, task: str) -> None:
    history = posterior_history(store, task)
    assert history.empty and "alpha" in history.columns


def test_daily_spend_sums_per_day_and_customer(store: Store, task: str) -> None:
    rows = fill(store, task)
    spend = daily_spend(store, task)
    assert str(spend["day"].dtype) == "datetime64[ns, UTC]"
    assert str(spend["tokens"].dtype) == "Int64" and str(spend["customer"].dtype) == "category"
    assert len(spend) == 3 * 2  # days x customers
    assert spend["requests"].sum() == len(rows)
    assert spend["cost"].sum() == pytest.approx(0.01 * len(rows))
    assert spend["tokens"].sum() == 30 * len(rows) - 10
    assert spend["successes"].sum() == pytest.approx(sum(o.score or 0.0 for o in rows))
    first = spend[spend["day"] == pd.Timestamp("2026-01-01", tz="UTC")]
    assert sorted(first["customer"].astype(str)) == ["acme", "globex"]
    assert first["requests"].sum() == 20


def test_daily_spend_keeps_pruned_days(own_store: MemoryStore | SQLStore, task: str) -> None:
    rows = fill(own_store, task)
    before = daily_spend(own_store, task)
    assert own_store.prune(older_than=START + 86_400) == 20
    after = daily_spend(own_store, task)
    pruned = after[after["customer"].isna()]
    assert len(pruned) == 1 and pruned["attempts"].iloc[0] == 20
    assert pd.isna(pruned["requests"].iloc[0])
    assert after["attempts"].sum() == before["attempts"].sum() == len(rows)
    assert after["cost"].sum() == pytest.approx(before["cost"].sum())


def test_path_stats_has_a_row_per_path(store: Store, task: str) -> None:
    fill(store, task)
    stats = path_stats(store, task)
    assert stats.index.tolist() == ["a", "b"]
    assert stats["traffic_share"].sum() == pytest.approx(1.0)
    assert stats.loc["a", "success_rate"] == 1.0
    assert stats.loc["b", "success_rate"] < 1.0
    assert stats.loc["a", "cost_per_success"] == pytest.approx(0.01)
    assert stats.loc["b", "latency_p50_ms"] < stats.loc["b", "latency_p99_ms"]
    assert (stats["ci_low"] < stats["mean"]).all()


def test_import_storage_loads_neither_pandas_nor_sqlalchemy() -> None:
    code = (
        "import sys, storage\n"
        "assert callable(storage.outcomes_frame)\n"
        "assert 'pandas' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def unpriced_rows(task: str) -> list[Outcome]:
    """Path a priced at $0.01 a call; path b answered twice at an unknown cost and failed
    once before any reply (no cost, nothing known spent)."""
    return [
        Outcome(f"{task}-1", 1, task, "a", 1.0, created_at=START, cost=0.01, tokens_in=3),
        Outcome(f"{task}-2", 1, task, "b", 1.0, created_at=START + 1, tokens_in=3),
        Outcome(f"{task}-3", 1, task, "b", 0.0, created_at=START + 2, errored=True),
        Outcome(f"{task}-4", 1, task, "b", 1.0, created_at=START + 3, tokens_in=3),
    ]


def test_unknown_costs_stay_unknown_in_path_stats_and_daily_spend(store: Store, task: str) -> None:
    store.record_many(unpriced_rows(task))
    stats = path_stats(store, task)
    assert stats.loc["a", "cost"] == pytest.approx(0.01) and stats.loc["a", "unpriced"] == 0
    assert pd.isna(stats.loc["b", "cost"]) and pd.isna(stats.loc["b", "cost_per_success"])
    assert stats.loc["b", "unpriced"] == 2  # the failed call cost nothing known
    (day,) = daily_spend(store, task).itertuples()
    assert pd.isna(day.cost) and day.unpriced == 2  # not $0.01: b's calls are unpriced


def test_pruned_days_remember_their_unpriced_attempts(
    own_store: MemoryStore | SQLStore, task: str
) -> None:
    own_store.record_many(unpriced_rows(task))
    before = path_stats(own_store, task)[["cost", "unpriced"]]
    assert own_store.prune(older_than=START + 86_400) == 4
    after = path_stats(own_store, task)[["cost", "unpriced"]]
    pd.testing.assert_frame_equal(after, before)
    assert int(daily_spend(own_store, task)["unpriced"].sum()) == 2


def test_path_stats_begins_with_the_columns_and_dtypes_of_router_stats(
    store: Store, task: str
) -> None:
    from router import Router

    router = Router([str.upper, str.lower], lambda out: True, task=task, store=store, seed=0)
    for _ in range(6):
        router.run("x")
    ours, theirs = router.stats(), path_stats(store, task)
    shared = theirs[ours.columns].loc[ours.index]
    pd.testing.assert_frame_equal(shared, ours)
    assert str(ours["tokens"].dtype) == "Int64" and str(ours["unpriced"].dtype) == "Int64"


def test_request_id_is_a_string_column_even_when_empty(store: Store, task: str) -> None:
    empty = outcomes_frame(store, task)
    fill(store, task, n=4)
    full = outcomes_frame(store, task)
    assert (
        empty["request_id"].dtype
        == full["request_id"].dtype
        == pd.StringDtype(na_value=float("nan"))
    )


def test_the_faded_history_ends_at_the_evidence_the_policy_reads() -> None:
    from storage import MemoryStore, posterior_history

    store = MemoryStore()
    store.ensure_paths("t", ["a", "b"], horizon=10.0)
    for i in range(40):
        errored = i % 7 == 0
        store.record(
            Outcome(f"r{i}", 1, "t", "ab"[i % 2], 0.0 if errored else float(i < 20),
                    created_at=i * 60.0, tick=i, errored=errored)
        )  # fmt: skip
    history = posterior_history(store, "t", freq="5min", faded=True)
    last = history[history["time"] == history["time"].max()].set_index("path")
    for path, row in store.posteriors("t").items():
        successes, failures, _, _ = row.faded(40)
        assert last.loc[path, "alpha"] == pytest.approx(1.0 + successes, rel=1e-9)
        assert last.loc[path, "beta"] == pytest.approx(1.0 + failures, rel=1e-9)
    full = posterior_history(store, "t", freq="5min")
    assert (full.groupby("path", observed=True)["n"].max() == 20).all()
