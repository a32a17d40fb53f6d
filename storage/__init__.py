"""Persistence: posteriors and outcomes in memory, SQLite or PostgreSQL.

Example:
    >>> from storage import Outcome, open_store
    >>> store = open_store("memory://")
    >>> store.record(Outcome("r1", 1, "task", "path", score=1.0, created_at=0.0))
    True
"""

import logging as _logging
import typing as _typing

from bandits._errors import (
    CorruptStoreError,
    InvalidRecordError,
    SchemaTooNewError,
    StoreError,
    StoreUnavailableError,
    UnknownRequestError,
)
from bandits._lazy import lazy_attributes as _lazy_attributes
from storage._controls import MODES, PathState, Spend
from storage._memory import MemoryStore
from storage._open import default_store_url, open_existing_store, open_store, resolve_url
from storage._protocol import ControlStore, EvidenceStore, ReadStore, SpendStore, Store
from storage._reads import COLUMNS as OUTCOME_COLUMNS
from storage._reads import OutcomeFilter
from storage._records import SERVED_ATTEMPT, DailyAggregate, Outcome, PathPosterior, Report
from storage._waits import StoreWaits, store_waits

# The library's one logger (router and storage log to it): a NullHandler, as libraries
# do, so that its warnings reach only the handlers the application configures, and never
# stderr through logging's last-resort handler.
_logging.getLogger("outcome_router").addHandler(_logging.NullHandler())

if _typing.TYPE_CHECKING:  # at run time these load on first use (see __getattr__): cold start
    from storage._batching import BatchingStore
    from storage._export import (
        daily_spend,
        iter_outcome_frames,
        outcomes_frame,
        path_stats,
        posterior_history,
        store_tasks,
    )
    from storage._off_policy import (
        LoggedFirstAttempts,
        evaluate_policy_on_store,
        logged_first_attempts,
    )
    from storage._path_table import path_table
    from storage._resilient import ResilientStore
    from storage._sql import SQLStore
    from storage._wrapper import StoreWrapper

# `import router` needs none of these: wrappers, exports and SQLStore (which pulls in
# SQLAlchemy) load when first asked for.
_LAZY = {
    "BatchingStore": "storage._batching",
    "ResilientStore": "storage._resilient",
    "SQLStore": "storage._sql",
    "StoreWrapper": "storage._wrapper",
    "daily_spend": "storage._export",
    "LoggedFirstAttempts": "storage._off_policy",
    "evaluate_policy_on_store": "storage._off_policy",
    "logged_first_attempts": "storage._off_policy",
    "iter_outcome_frames": "storage._export",
    "outcomes_frame": "storage._export",
    "path_table": "storage._path_table",
    "path_stats": "storage._export",
    "posterior_history": "storage._export",
    "store_tasks": "storage._export",
}

__all__ = [
    "MODES",
    "OUTCOME_COLUMNS",
    "SERVED_ATTEMPT",
    "BatchingStore",
    "ControlStore",
    "CorruptStoreError",
    "DailyAggregate",
    "EvidenceStore",
    "InvalidRecordError",
    "LoggedFirstAttempts",
    "MemoryStore",
    "Outcome",
    "OutcomeFilter",
    "PathPosterior",
    "PathState",
    "ReadStore",
    "Report",
    "ResilientStore",
    "SQLStore",
    "SchemaTooNewError",
    "Spend",
    "SpendStore",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "StoreWaits",
    "StoreWrapper",
    "UnknownRequestError",
    "daily_spend",
    "default_store_url",
    "evaluate_policy_on_store",
    "iter_outcome_frames",
    "logged_first_attempts",
    "open_existing_store",
    "open_store",
    "outcomes_frame",
    "path_stats",
    "path_table",
    "posterior_history",
    "resolve_url",
    "store_tasks",
    "store_waits",
]


__getattr__, __dir__ = _lazy_attributes("storage", _LAZY, globals(), __all__)
