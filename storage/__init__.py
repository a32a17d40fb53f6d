"""Persistence: posteriors and outcomes in memory, SQLite or PostgreSQL.

Example:
    >>> from storage import Outcome, open_store
    >>> store = open_store("memory://")
    >>> store.record(Outcome("r1", 1, "task", "path", score=1.0, created_at=0.0))
    True
"""

from typing import TYPE_CHECKING

from storage._batching import BatchingStore
from storage._controls import MODES, PathState, Spend
from storage._errors import (
    CorruptStoreError,
    SchemaTooNewError,
    StoreError,
    StoreUnavailableError,
    UnknownRequestError,
)
from storage._export import (
    daily_spend,
    iter_outcome_frames,
    outcomes_frame,
    path_stats,
    posterior_history,
    store_tasks,
)
from storage._memory import MemoryStore
from storage._open import default_store_url, open_store
from storage._protocol import Store
from storage._records import DailyAggregate, Outcome, PathPosterior, Report
from storage._resilient import ResilientStore

if TYPE_CHECKING:  # at run time SQLStore loads lazily (see __getattr__)
    from storage._sql import SQLStore as SQLStore

__all__ = [
    "MODES",
    "BatchingStore",
    "CorruptStoreError",
    "DailyAggregate",
    "MemoryStore",
    "Outcome",
    "PathPosterior",
    "PathState",
    "Report",
    "ResilientStore",
    "SchemaTooNewError",
    "Spend",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "UnknownRequestError",
    "daily_spend",
    "default_store_url",
    "iter_outcome_frames",
    "open_store",
    "outcomes_frame",
    "path_stats",
    "posterior_history",
    "store_tasks",
]


def __getattr__(name: str) -> object:
    # SQLStore pulls in SQLAlchemy; load it only when asked for.
    if name == "SQLStore":
        from storage._sql import SQLStore

        return SQLStore
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
