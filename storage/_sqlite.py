"""SQLite specifics: refuse non-database files, WAL, busy timeout, write transactions that queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from storage._errors import CorruptStoreError, StoreUnavailableError

_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "outcome_router_read_only"  # execution option: begin a deferred transaction


def check_sqlite_file(path: str) -> None:
    """Raise before SQLite touches ``path`` if it is not a new or existing SQLite database."""
    target = Path(path)
    if target.is_dir():
        raise CorruptStoreError(
            f"{path} is a directory; point the store at a file inside it, such as "
            f"{target / 'outcome-router.db'}"
        )
    if not target.parent.exists():
        raise StoreUnavailableError(
            f"directory {target.parent} does not exist; create it or choose another store path"
        )
    if target.exists() and target.stat().st_size > 0:
        with target.open("rb") as handle:
            header = handle.read(len(_HEADER))
        if header != _HEADER:
            raise CorruptStoreError(
                f"{path} is not a SQLite database; it was left untouched. Move it away or "
                "set OUTCOME_ROUTER_DB to another file"
            )


def create_sqlite_engine(url: sa.URL) -> sa.Engine:
    """An engine with WAL, a busy timeout and ``BEGIN IMMEDIATE`` for writes.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers wait in
    the busy handler instead of failing with "database is locked" on lock upgrade.
    ``sqlite:///:memory:`` uses one connection shared by every thread of the process.
    """
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = sa.StaticPool
    engine = sa.create_engine(url, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL survives process crashes; only an OS crash or power
                # loss can lose the last commits (see README, "How the store works").
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
