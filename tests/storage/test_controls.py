"""Path modes, circuit-breaker counters and spending, on every backend."""

from __future__ import annotations

import threading

import pytest

from router import ConfigError
from storage import PathState, Spend, Store


def test_a_path_without_a_row_has_no_state(store: Store, task: str) -> None:
    assert store.path_states(task) == {}


def test_modes_are_set_and_forcing_one_path_unforces_the_others(store: Store, task: str) -> None:
    store.set_path_mode(task, "a", "disabled", at=1.0)
    store.set_path_mode(task, "b", "forced", at=2.0)
    store.set_path_mode(task, "c", "forced", at=3.0)
    modes = {path: state.mode for path, state in store.path_states(task).items()}
    assert modes == {"a": "disabled", "b": "auto", "c": "forced"}
    store.set_path_mode(task, "a", "auto", at=4.0)
    assert store.path_states(task)["a"] == PathState("a", "auto", 0, None, None, 4.0)


def test_an_unknown_mode_is_refused(store: Store, task: str) -> None:
    with pytest.raises(ConfigError, match="auto, disabled, forced"):
        store.set_path_mode(task, "a", "off", at=0.0)


def test_the_breaker_opens_at_the_threshold_and_closes_on_success(store: Store, task: str) -> None:
    assert store.count_failure(task, "a", at=1.0, threshold=3).opened_at is None
    assert store.count_failure(task, "a", at=2.0, threshold=3).opened_at is None
    opened = store.count_failure(task, "a", at=3.0, threshold=3)
    assert (opened.failures, opened.opened_at, opened.is_open) == (3, 3.0, True)
    store.count_success(task, "a", at=4.0)
    closed = store.path_states(task)["a"]
    assert (closed.failures, closed.opened_at, closed.trial_at) == (0, None, None)


def test_one_claimant_gets_the_half_open_trial(store: Store, task: str) -> None:
    store.count_failure(task, "a", at=0.0, threshold=1)
    assert not store.claim_trial(task, "a", at=5.0, recovery=10.0)  # still open
    assert store.claim_trial(task, "a", at=10.0, recovery=10.0)
    assert not store.claim_trial(task, "a", at=11.0, recovery=10.0)  # taken
    assert store.claim_trial(task, "a", at=20.0, recovery=10.0)  # the trial never reported
    store.count_failure(task, "a", at=21.0, threshold=1)  # the trial failed: open again
    assert not store.claim_trial(task, "a", at=25.0, recovery=10.0)
    assert store.claim_trial(task, "a", at=31.0, recovery=10.0)


def test_concurrent_claims_give_the_trial_to_one_thread(store: Store, task: str) -> None:
    store.count_failure(task, "a", at=0.0, threshold=1)
    won: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        won.append(store.claim_trial(task, "a", at=100.0, recovery=10.0))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]


def test_spending_adds_up_per_scope_and_day(store: Store, task: str) -> None:
    scope = f"task:{task}"
    assert store.spend(scope, 10) == Spend()
    assert store.add_spend(scope, 10, 100, 0.25) == Spend(100, 0.25)
    assert store.add_spend(scope, 10, 50, 0.5) == Spend(150, 0.75)
    store.add_spend(scope, 11, 1, 1.0)
    store.add_spend(f"customer:{task}:acme", 10, 7, 0.125)
    assert store.spend(scope, 10) == Spend(150, 0.75)
    assert store.spend(scope, 11) == Spend(1, 1.0)


def test_concurrent_spending_loses_nothing(store: Store, task: str) -> None:
    scope = f"task:{task}"

    def spend() -> None:
        for _ in range(25):
            store.add_spend(scope, 1, 2, 0.5)

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.spend(scope, 1) == Spend(200, 50.0)


def test_reservations_stop_at_the_limit(store: Store, task: str) -> None:
    scope = f"task:{task}"
    limits = (1.0, None)
    granted = [store.reserve_spend(scope, 3, 0, 0.3, limits) for _ in range(6)]
    assert [g is not None for g in granted] == [True, True, True, True, False, False]
    assert store.spend(scope, 3).cost == pytest.approx(1.2)  # over by at most one reservation
    assert store.reserve_spend(scope, 4, 5, 0.0, (None, 5)) == Spend(5, 0.0)
    assert store.reserve_spend(scope, 4, 5, 0.0, (None, 5)) is None


def test_concurrent_reservations_overshoot_by_at_most_one(store: Store, task: str) -> None:
    scope = f"task:{task}"
    granted: list[bool] = []
    barrier = threading.Barrier(4)

    def reserve() -> None:
        barrier.wait()
        for _ in range(20):
            granted.append(store.reserve_spend(scope, 1, 0, 0.25, (2.0, None)) is not None)

    threads = [threading.Thread(target=reserve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 8
    assert store.spend(scope, 1).cost == pytest.approx(2.0)
