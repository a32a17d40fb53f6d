"""SQLite specifics: refuse non-database files, WAL, busy timeout, write transactions that queue."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from storage._errors import CorruptStoreError, StoreUnavailableError
from storage._watchdog import CURRENT

_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "outcome_router_read_only"  # execution option: begin a deferred transaction


def check_sqlite_file(path: str, *, read_only: bool = False) -> None:
    """Raise before SQLite writes to ``path`` unless it is a new or existing store we may use.

    Checked, in order: ``path`` is not a directory and its directory exists; an existing
    file is a SQLite database; the file and its directory can be written (WAL mode
    writes the file and creates ``-wal`` and ``-shm`` files beside it), unless
    ``read_only``; an existing database holds no other application's tables (or it
    would be switched to WAL and get ours), and passes ``PRAGMA quick_check``. Each
    check only reads, so a refused file is left exactly as it was.

    Raises:
        StoreUnavailableError: the directory is missing, or the file or directory is
            read-only, or (``read_only``) the file does not exist.
        CorruptStoreError: a directory, a file that is not SQLite, another
            application's database, or a database that fails the integrity check.
    """
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
    exists = target.exists() and target.stat().st_size > 0
    if exists:
        with target.open("rb") as handle:
            header = handle.read(len(_HEADER))
        if header != _HEADER:
            raise CorruptStoreError(
                f"{path} is not a SQLite database; it was left untouched. Move it away or "
                "set OUTCOME_ROUTER_DB to another file"
            )
    if read_only and not target.exists():
        raise StoreUnavailableError(
            f"store {path} does not exist; a store opened read-only (?mode=ro) is never created"
        )
    if not read_only:
        _check_writable(target)
    if exists:
        _inspect(target)


def _check_writable(target: Path) -> None:
    directory = target.parent
    if target.exists() and not os.access(target, os.W_OK):
        what = f"the file {target}"
    elif not os.access(directory, os.W_OK | os.X_OK):
        what = f"its directory {directory}"
    else:
        return
    raise StoreUnavailableError(
        f"store {target} cannot be written: {what} is read-only. SQLite in WAL mode writes "
        f"the file and creates {target.name}-wal and {target.name}-shm beside it, so both "
        "the file and its directory must be writable; fix the permissions, choose another "
        "file, or open it with ?mode=ro (sqlite:///path.db?mode=ro) to read only"
    )


def _inspect(target: Path) -> None:
    """Refuse another application's database, and a corrupt one, reading only."""
    from storage._schema import LEGACY_TABLES, VERSION_TABLE

    try:
        conn = sqlite3.connect(
            f"{target.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
        try:
            tables = {
                str(row[0])
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if tables and VERSION_TABLE not in tables and not tables & LEGACY_TABLES:
                shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
                raise CorruptStoreError(
                    f"{target} is another application's database (tables {shown}) and not an "
                    "outcome-router store; it was left untouched. Point the store at a file "
                    "of its own"
                )
            found = [str(row[0]) for row in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreUnavailableError(
                f"store {target} is locked by another process ({exc}); try again later"
            ) from exc
        if "readonly" in str(exc):
            raise StoreUnavailableError(
                f"store {target} cannot be read ({exc}): a store in WAL mode is read through "
                f"{target.name}-shm beside it, so its directory must be writable even to read"
            ) from exc
        raise CorruptStoreError(
            f"{target} cannot be read as a store ({exc}); restore it from a backup or move it away"
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise CorruptStoreError(
            f"{target} is damaged ({exc}); it was left untouched: restore it from a backup "
            "or move it away"
        ) from exc
    if found != ["ok"]:
        raise CorruptStoreError(
            f"{target} failed SQLite's integrity check ({'; '.join(found)}); it was left "
            "untouched: restore it from a backup or move it away"
        )


def create_sqlite_engine(url: sa.URL, *, read_only: bool = False) -> sa.Engine:
    """An engine with WAL, a busy timeout and ``BEGIN IMMEDIATE`` for writes.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers wait in
    the busy handler instead of failing with "database is locked" on lock upgrade.
    ``sqlite:///:memory:`` uses one connection shared by every thread of the process.
    ``read_only`` opens the file with SQLite's ``mode=ro``: nothing is ever written,
    not even the switch to WAL.
    """
    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = sa.StaticPool
    if read_only:
        assert url.database
        query = {k: v for k, v in url.query.items() if k not in ("mode", "uri")}
        url = url.set(
            database=Path(url.database).resolve().as_uri(),
            query={**query, "mode": "ro", "uri": "true"},
        )
    engine = sa.create_engine(url, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not (in_memory or read_only):
                cursor.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL survives process crashes; only an OS crash or power
                # loss can lose the last commits (see README, "How the store works").
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        timer = CURRENT.get()
        if timer is not None:
            dbapi_connection = connection.connection
            cursor = dbapi_connection.cursor()
            try:
                set_busy_timeout(cursor, dbapi_connection.info, timer.remaining())
            finally:
                cursor.close()
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def set_busy_timeout(cursor: Any, info: dict[Any, Any], seconds: float) -> None:
    """Let the next lock wait on this connection last at most ``seconds`` (SQLite's busy
    handler), in steps of 50 ms so a steady bound sets it once per connection."""
    ms = max(1, min(BUSY_TIMEOUT_MS, int(seconds * 20) * 50 or int(seconds * 1000)))
    if info.get("busy_timeout_ms") != ms:
        cursor.execute(f"PRAGMA busy_timeout = {ms}")
        info["busy_timeout_ms"] = ms
