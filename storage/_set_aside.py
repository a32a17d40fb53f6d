"""Outcomes a store refused: counted and kept aside, so one bad row cannot block a queue."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence

from storage._errors import InvalidRecordError, StoreError
from storage._protocol import Store
from storage._records import Outcome

logger = logging.getLogger("outcome_router")

KEEP = 1_000


class SetAside:
    """The outcomes a store refused: all counted, the last ``keep`` kept for inspection.

    Example:
        >>> aside = SetAside(keep=2)
        >>> for n in range(3):
        ...     aside.add(Outcome(f"r{n}", 1, "t", "a", 1.0, created_at=0.0), ValueError("bad"))
        >>> aside.count, [o.request_id for o in aside.outcomes]
        (3, ['r1', 'r2'])
    """

    def __init__(self, keep: int = KEEP) -> None:
        self.count = 0
        self._kept: deque[Outcome] = deque(maxlen=keep)
        self._lock = threading.Lock()

    @property
    def outcomes(self) -> list[Outcome]:
        """The last outcomes set aside, oldest first."""
        with self._lock:
            return list(self._kept)

    def add(self, outcome: Outcome, error: BaseException) -> None:
        """Set ``outcome`` aside because the store refused it with ``error``."""
        with self._lock:
            self.count += 1
            self._kept.append(outcome)
            count = self.count
        if len(str(count)) > len(str(count - 1)) or count == 1:  # at 1, 10, 100, ...
            logger.warning(
                "set aside outcome (%r, %d) of task %r: the store refuses it (%s); %d set "
                "aside so far, the rest are written",
                outcome.request_id,
                outcome.attempt,
                outcome.task,
                error,
                count,
            )


def write_batch(store: Store, batch: Sequence[Outcome], aside: SetAside) -> int:
    """``store.record_many(batch)``; if the store refuses a row, write the others one by
    one and set the refused ones aside. Returns how many outcomes were new.

    An unreachable store (or one that is corrupt) raises as ever: nothing is set aside
    for that, the caller keeps the batch queued.

    Example:
        >>> from storage import MemoryStore
        >>> aside = SetAside()
        >>> good = Outcome("r1", 1, "t", "a", 1.0, created_at=0.0)
        >>> bad = Outcome("r2", 1, "t", "a", float("nan"), created_at=0.0)
        >>> write_batch(MemoryStore(), [good, bad], aside), aside.count
        (1, 1)
    """
    try:
        return store.record_many(batch)
    except InvalidRecordError:
        pass  # one row or more is refused: find which
    stored = 0
    for outcome in batch:
        try:
            stored += store.record(outcome)
        except StoreError as exc:
            if not isinstance(exc, InvalidRecordError):
                raise
            aside.add(outcome, exc)
    return stored
