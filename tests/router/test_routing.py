"""Routing, fallback, learning and results of Router.run / Router.route."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from router import AllPathsFailed, FakeClock, Path, Router, RunResult
from storage import Store


def ok(x: Any) -> str:
    return f"ok:{x}"


def broken(x: Any) -> str:
    raise ConnectionError("provider down")


def test_run_returns_the_serving_paths_output(store: Store, task: str) -> None:
    router = Router([ok], success_fn=lambda out: out is not None, task=task, store=store)
    assert router.run(7) == "ok:7"


def test_route_describes_the_run(store: Store, task: str, clock: FakeClock) -> None:
    def slow(x: Any) -> str:
        clock.advance(0.25)
        return "slow"

    router = Router([slow], lambda out: 0.5, task=task, store=store, clock=clock)
    result = router.route("in")
    assert isinstance(result, RunResult)
    assert (result.output, result.path, result.score, result.fallbacks) == ("slow", "slow", 0.5, 0)
    assert result.latency_ms == pytest.approx(250.0)
    assert len(result.request_id) == 32
    (attempt,) = result.attempts
    assert (attempt.path, attempt.number, attempt.score, attempt.ok) == ("slow", 1, 0.5, True)
    (stored,) = store.outcomes(task)
    assert (stored.request_id, stored.path, stored.score) == (result.request_id, "slow", 0.5)
    assert stored.latency_ms == pytest.approx(250.0)
    assert stored.created_at == 1_767_225_600.0


def test_a_raising_path_scores_zero_and_the_next_path_serves(store: Store, task: str) -> None:
    router = Router([broken, ok], lambda out: True, task=task, store=store, seed=0)
    results = [router.route(i) for i in range(40)]
    assert all(r.output == f"ok:{i}" for i, r in enumerate(results))
    fell_back = [r for r in results if r.fallbacks == 1]
    assert fell_back, "with seed 0 the broken path is sampled first at least once"
    first, second = fell_back[0].attempts
    assert (first.path, first.score, first.error_class, first.ok) == (
        "broken",
        0.0,
        "transient",
        False,
    )
    assert isinstance(first.error, ConnectionError)
    assert (second.path, second.number) == ("ok", 2)
    stored = [o for o in store.outcomes(task) if o.request_id == fell_back[0].request_id]
    assert [(o.attempt, o.path, o.score) for o in stored] == [(1, "broken", 0.0), (2, "ok", 1.0)]


def test_all_paths_failing_raises_with_every_attempt(store: Store, task: str) -> None:
    def also_broken(x: Any) -> str:
        raise TimeoutError("slow upstream")

    router = Router([broken, also_broken], lambda out: True, task=task, store=store)
    with pytest.raises(AllPathsFailed) as info:
        router.run("x")
    error = info.value
    assert sorted(a.path for a in error.attempts) == ["also_broken", "broken"]
    assert {a.error_class for a in error.attempts} == {"transient", "timeout"}
    assert "broken" in str(error) and "also_broken" in str(error)
    assert len(store.outcomes(task)) == 2
    assert all(o.score == 0.0 for o in store.outcomes(task))


def test_without_fallback_the_first_failure_ends_the_run(store: Store, task: str) -> None:
    router = Router([broken, ok], lambda out: True, task=task, store=store, seed=3, fallback=False)
    failures: list[AllPathsFailed] = []
    served = 0
    for i in range(30):
        try:
            router.run(i)
            served += 1
        except AllPathsFailed as exc:
            failures.append(exc)
    assert failures and served
    assert all(len(exc.attempts) == 1 for exc in failures)
    assert all(isinstance(exc.__cause__, ConnectionError) for exc in failures)
    assert max(o.attempt for o in store.outcomes(task)) == 1


def test_a_failing_path_loses_traffic(store: Store, task: str) -> None:
    router = Router([broken, ok], lambda out: True, task=task, store=store, seed=1)
    firsts = [router.route(i).attempts[0].path for i in range(200)]
    assert firsts[-100:].count("ok") >= 95
    stats = router.stats()
    assert stats.loc["ok", "mean"] > 0.95
    assert stats.loc["broken", "alpha"] == 1.0  # never a success: every attempt scored 0
    assert stats.loc["broken", "n"] <= 10


def test_low_scores_move_traffic_to_the_better_path(store: Store, task: str) -> None:
    def good(x: Any) -> float:
        return 0.9

    def poor(x: Any) -> float:
        return 0.3

    router = Router([poor, good], lambda out: out, task=task, store=store, seed=2)
    firsts = [router.route(i).path for i in range(300)]
    assert firsts[-100:].count("good") >= 90


def test_same_seed_gives_the_same_choices(task: str) -> None:
    def a(x: Any) -> int:
        return 1

    def b(x: Any) -> int:
        return 0

    runs = []
    for _ in range(2):
        router = Router([a, b], lambda out: out, task=task, store="memory://", seed=42)
        runs.append([router.route(i).attempts[0].path for i in range(50)])
    assert runs[0] == runs[1]


def test_success_fn_may_take_input_and_output(store: Store, task: str) -> None:
    def echo(x: Any) -> Any:
        return x

    seen = []

    def check(request_input: Any, output: Any) -> bool:
        seen.append((request_input, output))
        return request_input == output

    router = Router([echo], check, task=task, store=store)
    assert router.route("q").score == 1.0
    assert seen == [("q", "q")]


def test_propensities_are_logged_and_sum_to_one(store: Store, task: str) -> None:
    def a(x: Any) -> int:
        return 1

    def b(x: Any) -> int:
        return 0

    router = Router([a, b, Path(ok, name="c")], bool, task=task, store=store, seed=4)
    router.run(0)
    (first,) = store.outcomes(task)
    assert first.propensity == pytest.approx(1 / 3, abs=1e-6)
    for i in range(30):
        router.run(i)
    assert all(0.0 < o.propensity <= 1.0 for o in store.outcomes(task))


def test_path_objects_carry_names_and_timeouts(store: Store, task: str) -> None:
    router = Router(
        [Path(ok, name="primary", timeout=5.0)], lambda out: True, task=task, store=store
    )
    assert router.route(1).path == "primary"
    assert router.paths[0].timeout == 5.0
    assert "primary" in repr(router)


def test_stats_table(store: Store, task: str) -> None:
    router = Router([ok, broken], lambda out: True, task=task, store=store, seed=0)
    for i in range(20):
        router.run(i)
    stats = router.stats()
    assert list(stats.columns) == [
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
    ]
    assert list(stats.index) == ["ok", "broken"]
    assert stats["traffic_share"].sum() == pytest.approx(1.0)
    assert (stats["ci_low"] < stats["mean"]).all() and (stats["mean"] < stats["ci_high"]).all()
    assert stats.loc["ok", "alpha"] == 1.0 + stats.loc["ok", "n"]
    assert stats["n"].sum() == len(store.outcomes(task))


def test_stats_of_a_fresh_router_show_the_prior(task: str) -> None:
    stats = Router([ok], lambda out: True, task=task, store="memory://").stats()
    row = stats.loc["ok"].to_dict()  # a nullable row (tokens and unpriced are Int64)
    assert pd.isna(row.pop("cost_per_success"))
    assert row | {"ci_low": 0, "ci_high": 0} == {
        "alpha": 1.0,
        "beta": 1.0,
        "mean": 0.5,
        "ci_low": 0,
        "ci_high": 0,
        "n": 0,
        "traffic_share": 0.0,
        "tokens": 0,
        "cost": 0.0,  # nothing spent: known
        "unpriced": 0,
    }
