"""The default policy where nobody tuned it: stale records, silent rises, gradual drift."""

from __future__ import annotations

from typing import Any

from router import Path, Router
from simulations import Scenario, replay
from storage import MemoryStore, Outcome


def scenario(paths: list[dict[str, Any]], requests: int, rate: float = 1.0) -> Scenario:
    return Scenario(name="test", description="test", requests=requests, rate=rate, paths=paths)


def first_share(rows: list[dict[str, Any]], path: str) -> float:
    return sum(row["first"] == path for row in rows) / len(rows)


class Coin:
    """A path whose outputs pass with a set probability."""

    def __init__(self, quality: float, seed: int) -> None:
        import numpy as np

        self.quality = quality
        self._rng = np.random.default_rng(seed)

    def __call__(self, request: Any) -> bool:
        return bool(self._rng.random() < self.quality)


def test_a_stale_record_of_early_bad_luck_cannot_lock_a_good_path_out() -> None:
    # "left" lost 16 of its first 20 calls by bad luck; it is really the better path.
    # Its old failures fade with their age, whether or not it is tried, so it is tried
    # again and wins the traffic however rarely the tries come.
    store = MemoryStore()
    router = Router(
        [Path(Coin(0.92, seed=1), name="left"), Path(Coin(0.70, seed=2), name="steady")],
        success_fn=lambda ok: ok,
        task="t",
        store=store,
        seed=0,
    )
    for i in range(20):
        store.record(Outcome(f"l{i}", 1, "t", "left", float(i < 4), 0.0, tick=i))
    for i in range(300):
        store.record(Outcome(f"s{i}", 1, "t", "steady", float(i % 10 < 7), 0.0, tick=20 + i))
    firsts = [router.route(i).attempts[0].path for i in range(6000)]
    assert firsts[:200].count("steady") >= 150  # the record says "steady" at first
    assert firsts[-1000:].count("left") >= 800


def share_of_oracle(rows: list[dict[str, Any]]) -> float:
    return sum(row["success"] for row in rows) / sum(row["best_expected"] for row in rows)


def test_a_path_nobody_serves_that_silently_improves_is_found() -> None:
    # The example: a path the router left behind (0.70, beside 0.85) silently
    # improves to 0.95. Only trying it again finds out; its old record must fade.
    rise = scenario(
        [
            {"name": "served", "success": 0.85},
            {"name": "left", "success": {"steps": [[0.0, 0.7], [0.3, 0.95]]}},
        ],
        requests=10_000,
    )
    runs = [list(replay(rise, "router", seed=seed)) for seed in range(4)]
    assert all(first_share(rows[2000:2900], "left") < 0.2 for rows in runs)  # left behind
    assert sum(share_of_oracle(rows) for rows in runs) / len(runs) >= 0.985
    assert all(first_share(rows[-2000:], "left") >= 0.85 for rows in runs)


def test_a_gradual_decline_is_followed_not_only_abrupt_changes() -> None:
    # The example: a path declines from 0.90 to 0.50 over 10,000 requests
    # beside a steady 0.75 path. Once it is clearly worse, the steady path serves.
    drift = scenario(
        [
            {"name": "declining", "success": {"linear": [[0.0, 0.9], [1.0, 0.5]]}},
            {"name": "steady", "success": 0.75},
        ],
        requests=10_000,
    )
    rows = list(replay(drift, "router", seed=5))
    assert first_share(rows[:2000], "declining") >= 0.8
    assert first_share(rows[-2500:], "steady") >= 0.85  # declining is below 0.6 by then
    assert share_of_oracle(rows) >= 0.97
