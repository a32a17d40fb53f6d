"""Child-process bodies of the multi-process store tests (spawned, so importable by name).

Every outcome a worker writes is a pure function of (task, process, thread, index), so
the parent computes what the store must hold without hearing from the children.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

from storage import Outcome, open_store

PATHS = ("a", "b", "c")
SCORES = (0.0, 0.25, 0.5, 0.75, 1.0, None)  # dyadic: sums are exact in any order
START = 1_767_225_600.0


def planned(task: str, process: int, thread: int, index: int) -> tuple[Outcome, float | None]:
    """The ``index``-th outcome of a worker thread, and the score a later report gives it."""
    mix = process * 7919 + thread * 104_729 + index * 31
    score = SCORES[mix % len(SCORES)]
    errored = score == 0.0 and index % 2 == 0
    report = SCORES[(mix // 7) % 5] if index % 5 == 0 and not errored else None
    outcome = Outcome(
        f"{task}:{process}-{thread}-{index}",
        1,
        task,
        PATHS[(mix // 6) % len(PATHS)],
        score,
        START + index,
        error_class="timeout" if errored else None,
        errored=errored,
        tick=index,
    )
    return outcome, report


def final_scores(task: str, processes: int, threads: int, per_thread: int) -> Iterator[Outcome]:
    """Every outcome the workers write, with the score it has once its report is applied."""
    for process, thread, index in itertools.product(
        range(processes), range(threads), range(per_thread)
    ):
        outcome, report = planned(task, process, thread, index)
        if report is not None:
            outcome.score = report
        yield outcome


BUDGET_LIMIT, RESERVATION = 100.0, 0.5  # dyadic: the sums are exact


def controls(store: Any, task: str) -> None:
    """Spend, reserve a budget and count a breaker failure: one of each per outcome."""
    store.add_spend(f"task:{task}", 1, 1, 0.25)
    store.reserve_spend(f"budget:{task}", 1, 0, RESERVATION, (BUDGET_LIMIT, None))
    store.count_failure(task, "breaker", START, 10**9)


def hammer(url: str, task: str, process: int, threads: int, per_thread: int, start: Any) -> None:
    """Open the store when every process is ready, then write from ``threads`` threads.

    Each thread records half its outcomes one by one (each twice: the replay must not
    count) and half in batches of five (with a repeated outcome in each batch), and
    reports a new score for every fifth outcome right after it is stored.
    """
    start.wait(timeout=120)
    store = open_store(url)
    failures: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            batch: list[tuple[Outcome, float | None]] = []
            for index in range(per_thread):
                controls(store, task)
                item = planned(task, process, thread, index)
                if index % 20 < 10:
                    store.record(item[0])
                    store.record(item[0])
                    _report(store, [item])
                    continue
                batch.append(item)
                if len(batch) == 5 or index == per_thread - 1:
                    store.record_many([o for o, _ in batch] + [batch[0][0]])
                    _report(store, batch)
                    batch = []
        except BaseException as exc:  # re-raised in the process below
            failures.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in pool:
        worker.start()
    for worker in pool:
        worker.join()
    store.close()
    if failures:
        raise failures[0]


def _report(store: Any, items: list[tuple[Outcome, float | None]]) -> None:
    for outcome, report in items:
        if report is not None:
            store.report(outcome.task, outcome.request_id, report, at=outcome.created_at + 1)


def scribble(url: str, task: str) -> None:
    """Write outcomes, batches and reports in a tight loop until killed."""
    store = open_store(url)
    for round_ in itertools.count():
        items = [planned(task, 0, 0, round_ * 6 + k) for k in range(6)]
        store.record_many([o for o, _ in items[:5]])
        store.record(items[5][0])
        _report(store, items)
