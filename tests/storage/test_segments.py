"""Segments in every store: an outcome with a segment adds to its task and its segment,
in one step, additively; reports move both; wrappers see both; context is kept."""

from __future__ import annotations

import threading

import pytest

from storage import (
    BatchingStore,
    InvalidRecordError,
    MemoryStore,
    Outcome,
    ResilientStore,
    Store,
    open_store,
    outcomes_frame,
    store_tasks,
)
from storage._segments import segment_task

DE = "lang=de"


def outcome(
    task: str, i: int, score: float, *, segment: str | None = DE, **more: object
) -> Outcome:
    return Outcome(
        f"{task}-{i}",
        1,
        task,
        "a",
        score,
        created_at=float(i),
        segment=segment,
        context=None if segment is None else {"lang": "de", "length": 10 + i},
        **more,  # type: ignore[arg-type]
    )


def test_a_segment_outcome_adds_to_its_task_and_its_segment(store: Store, task: str) -> None:
    assert store.record(outcome(task, 0, 1.0))
    assert store.record(outcome(task, 1, 0.0, segment=None))
    assert store.record_many([outcome(task, 2, 1.0), outcome(task, 2, 1.0)]) == 1  # once
    whole = store.posteriors(task)["a"]
    part = store.posteriors(segment_task(task, DE))["a"]
    assert (whole.n, whole.alpha) == (3, 3.0)
    assert (part.n, part.alpha) == (2, 3.0)  # the prior's 1 and two successes
    assert part.faded_successes == pytest.approx(2.0, rel=1e-3)


def test_a_segment_fades_by_its_own_count_of_attempts(store: Store, task: str) -> None:
    name = segment_task(task, DE)
    store.ensure_paths(name, ["a"], horizon=10.0)
    store.record(outcome(task, 0, 1.0, tick=500, segment_tick=0))
    store.record(outcome(task, 1, 1.0, tick=501, segment_tick=10))
    row = store.posteriors(name)["a"]
    successes, _, _, _ = row.faded(10)
    assert successes == pytest.approx(1.0 + 1.0 / 2.718281828, rel=1e-6)


def test_a_report_moves_the_task_and_the_segment(store: Store, task: str) -> None:
    store.record(outcome(task, 0, 0.0))
    store.report(task, f"{task}-0", 1.0, at=5.0)
    assert store.posteriors(task)["a"].alpha == 2.0
    assert store.posteriors(segment_task(task, DE))["a"].alpha == 2.0
    assert store.posteriors(segment_task(task, DE))["a"].n == 1  # rescored, not counted twice


def test_resets_of_a_segment_leave_the_task_alone(store: Store, task: str) -> None:
    for i in range(4):
        store.record(outcome(task, i, 1.0))
    name = segment_task(task, DE)
    assert store.reset(name, "a", keep_successes=0.0, keep_count=0, seen_resets=0)
    assert store.posteriors(name)["a"].resets == 1
    assert store.posteriors(task)["a"].resets == 0


def test_the_context_is_kept_and_exported(store: Store, task: str) -> None:
    store.record(outcome(task, 0, 1.0))
    store.record(outcome(task, 1, 1.0, segment=None))
    assert [o.context for o in store.outcomes(task)] == [{"lang": "de", "length": 10}, None]
    assert [o.segment for o in store.outcomes(task)] == [DE, None]
    frame = outcomes_frame(store, task)
    assert list(frame["context"]) == [{"lang": "de", "length": 10}, None]


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        ({"length": float("nan")}, "not a finite number"),
        ({"tags": ["a"]}, "use a str, bool, int or float"),
        ({f"k{i}": i for i in range(33)}, "more than 32"),
        ("lang=de", "is not a dict"),
    ],
)
def test_a_context_no_store_can_hold_is_refused(context: object, problem: str) -> None:
    row = Outcome("r", 1, "t", "a", 1.0, created_at=0.0, context=context)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecordError, match=problem):
        MemoryStore().record(row)


def test_segments_are_not_listed_as_tasks(tmp_path: object, task: str) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s.db")
    try:
        store.record(outcome(task, 0, 1.0))
        assert store_tasks(store) == [task]
    finally:
        store.close()


@pytest.mark.parametrize("wrap", [ResilientStore, BatchingStore], ids=lambda w: w.__name__)
def test_wrappers_show_queued_outcomes_in_their_segment(wrap: type, task: str) -> None:
    inner = MemoryStore()
    store = (
        wrap(inner, flush_every=100, flush_interval=60.0) if wrap is BatchingStore else wrap(inner)
    )
    store.posteriors(segment_task(task, DE))  # read once (ResilientStore remembers it)
    store.record(outcome(task, 0, 1.0, segment_tick=0))
    assert store.posteriors(segment_task(task, DE))["a"].n == 1
    assert store.posteriors(task)["a"].n == 1
    store.flush()
    assert inner.posteriors(segment_task(task, DE))["a"].n == 1


def test_concurrent_segment_writes_lose_nothing(store: Store, task: str) -> None:
    def write(worker: int) -> None:
        for i in range(50):
            segment = DE if i % 2 else "lang=en"
            store.record(outcome(task, worker * 1000 + i, 1.0, segment=segment))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.posteriors(task)["a"].n == 200
    assert store.posteriors(segment_task(task, DE))["a"].n == 100
    assert store.posteriors(segment_task(task, "lang=en"))["a"].n == 100
