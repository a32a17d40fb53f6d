"""Faded evidence in every store: additive, epoch-safe, shared, and what the formula says."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandits._fading import EPOCH_HORIZONS
from storage import MemoryStore, Outcome, Store, open_store


def direct(events: list[tuple[int, float, bool]], tick: int, horizon: float) -> list[float]:
    """(successes, failures, answers, errors) of ``events`` faded to ``tick``, by the formula."""
    sums = [0.0, 0.0, 0.0, 0.0]
    for at, score, errored in events:
        weight = math.exp(-(tick - at) / horizon)
        if errored:
            sums[3] += weight
        else:
            sums[0] += weight * score
            sums[1] += weight * (1.0 - score)
            sums[2] += weight
    return sums


def record(store: Store, task: str, events: list[tuple[int, float, bool]]) -> None:
    for i, (tick, score, errored) in enumerate(events):
        outcome = Outcome(f"{task}-{i}", 1, task, "a", score, 0.0, errored=errored, tick=tick)
        assert store.record(outcome)


def test_each_outcome_fades_by_its_own_age(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"], horizon=100.0)
    events = [(0, 1.0, False), (50, 0.0, False), (120, 0.25, False), (130, 0.0, True)]
    record(store, task, events)
    row = store.posteriors(task)["a"]
    assert row.horizon == 100.0
    assert row.faded(200) == pytest.approx(direct(events, 200, 100.0), rel=1e-9)


def test_sums_stay_exact_across_epochs(store: Store, task: str) -> None:
    horizon = 2.0  # an epoch is 32 ticks: the run below crosses a dozen of them
    store.ensure_paths(task, ["a"], horizon=horizon)
    events = [(t, float(t % 3 == 0), t % 7 == 0) for t in range(0, 400, 3)]
    record(store, task, events)
    row = store.posteriors(task)["a"]
    assert row.fade_epoch == int(399 // (EPOCH_HORIZONS * horizon))
    assert row.faded(400) == pytest.approx(direct(events, 400, horizon), rel=1e-9, abs=1e-12)


def test_a_batch_adds_the_same_as_one_by_one(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"], horizon=3.0)
    events = [(t, 0.5, t % 5 == 0) for t in range(0, 200, 4)]
    batch = [
        Outcome(f"{task}-{i}", 1, task, "a", s, 0.0, errored=e, tick=t)
        for i, (t, s, e) in enumerate(events)
    ]
    assert store.record_many(batch) == len(batch)
    assert store.posteriors(task)["a"].faded(200) == pytest.approx(
        direct(events, 200, 3.0), rel=1e-9, abs=1e-12
    )


def test_an_outcome_without_a_tick_counts_as_made_at_the_tasks_tick(
    store: Store, task: str
) -> None:
    store.ensure_paths(task, ["a"], horizon=10.0)
    for i in range(3):
        store.record(Outcome(f"{task}-{i}", 1, task, "a", 1.0, 0.0))
    # ticks 0, 1 and 2: the task had that many scored attempts when each was recorded
    expected = direct([(0, 1.0, False), (1, 1.0, False), (2, 1.0, False)], 3, 10.0)
    assert store.posteriors(task)["a"].faded(3) == pytest.approx(expected, rel=1e-9)


def test_a_reset_keeps_its_window_as_fresh_quality_and_leaves_availability(
    store: Store, task: str
) -> None:
    store.ensure_paths(task, ["a"], horizon=50.0)
    events = [(t, 1.0, t % 4 == 0) for t in range(100)]
    record(store, task, events)
    assert store.reset(task, "a", keep_successes=3.0, keep_count=5, seen_resets=0, tick=100)
    successes, failures, answers, errors = store.posteriors(task)["a"].faded(100)
    assert (successes, failures) == pytest.approx((3.0, 2.0))
    _, _, direct_answers, direct_errors = direct(events, 100, 50.0)
    assert (answers, errors) == pytest.approx((direct_answers, direct_errors), rel=1e-9)


def test_a_report_moves_the_faded_quality_at_the_outcomes_own_age(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"], horizon=100.0)
    record(store, task, [(0, 1.0, False), (100, 1.0, False)])
    store.report(task, f"{task}-0", 0.0, at=1.0)
    expected = direct([(0, 0.0, False), (100, 1.0, False)], 100, 100.0)
    assert store.posteriors(task)["a"].faded(100) == pytest.approx(expected, rel=1e-9)


def test_paths_keep_the_horizon_they_were_stored_with(store: Store, task: str) -> None:
    store.ensure_paths(task, ["a"], horizon=100.0)
    store.ensure_paths(task, ["a", "b"], horizon=500.0)
    rows = store.posteriors(task)
    assert (rows["a"].horizon, rows["b"].horizon) == (100.0, 500.0)


def test_a_horizon_below_one_tick_is_refused(store: Store, task: str) -> None:
    from router import ConfigError

    with pytest.raises(ConfigError, match="fading horizon"):
        store.ensure_paths(task, ["a"], horizon=0.5)


def test_concurrent_writers_on_one_file_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    setup = open_store(url)
    setup.ensure_paths("t", ["a"], horizon=40.0)
    setup.close()
    events = [(t, float(t % 2), t % 9 == 0) for t in range(800)]

    def write(part: int) -> None:
        store = open_store(url)  # one store per thread, as processes would
        for i, (tick, score, errored) in enumerate(events):
            if i % 4 == part:
                store.record(Outcome(f"r{i}", 1, "t", "a", score, 0.0, errored=errored, tick=tick))
        store.close()

    threads = [threading.Thread(target=write, args=(part,)) for part in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reader = open_store(url)
    row = reader.posteriors("t")["a"]
    reader.close()
    assert row.n == len(events)
    assert row.faded(800) == pytest.approx(direct(events, 800, 40.0), rel=1e-9, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=600),
            st.sampled_from([0.0, 0.5, 1.0]),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_writes_in_any_order_give_the_formula(events: list[tuple[int, float, bool]]) -> None:
    # Writers may be behind (a process with a stale tick). What a store may drop is
    # evidence two epochs old or more, each such observation weighing at most
    # exp(-EPOCH_HORIZONS) of a fresh one.
    horizon = 5.0
    store = MemoryStore()
    store.ensure_paths("t", ["a"], horizon=horizon)
    record(store, "t", events)
    latest = max((t for t, _, _ in events), default=0)
    got = store.posteriors("t")["a"].faded(latest)
    want = direct(events, latest, horizon)
    dropped = len(events) * math.exp(-EPOCH_HORIZONS)
    assert got == pytest.approx(want, rel=1e-9, abs=dropped + 1e-12)
