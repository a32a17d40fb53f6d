"""Schema revisions: one query when the store is current, Alembic only when it is behind.

Opening a store happens in user processes, so the common case costs one
``SELECT version_num`` and never imports Alembic (which costs about as much as
SQLAlchemy itself). A store that is behind is migrated under a lock, so processes
that open a new store at once migrate it once: PostgreSQL takes a transaction-level
advisory lock, SQLite the write lock of ``BEGIN IMMEDIATE``. The migration runs in that
same transaction, so it commits whole or not at all.

Stores made before migrations existed (tables created by ``metadata.create_all``, no
version table) are recognised by their columns, stamped at the revision they match,
and upgraded in place.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bandits import ConfigError
from storage._errors import CorruptStoreError, SchemaTooNewError
from storage._schema import VERSION_TABLE
from storage._sqlite import READ_ONLY

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger("outcome_router")

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
"""Every revision in storage/migrations/versions, oldest first (a test checks the files)."""
HEAD = REVISIONS[-1]
MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK_KEY = int.from_bytes(b"outc-rtr", "big")  # one advisory lock id, per database
# Alembic's ``op`` and ``context`` are process-global proxies: one migration at a time.
# Taken before the database lock, and held only by threads that hold no other lock.
_PROCESS_LOCK = threading.Lock()

_REVISION_1 = {
    "posteriors": {"task", "path", "alpha", "beta", "n", "prior_alpha", "prior_beta"},
    "outcomes": {"id", "request_id", "attempt", "task", "path", "score", "created_at"},
}
_REVISION_2 = {
    "posteriors": {"base_alpha", "base_beta", "base_n", "resets", "errors", "base_errors"},
    "outcomes": {"errored"},
}


def ensure_schema(engine: sa.Engine, url: str, *, read_only: bool = False) -> str | None:
    """Bring the store at ``engine`` to :data:`HEAD`, migrating only when it is behind.

    Returns the revision the store had (``None`` for a new store).

    Raises:
        SchemaTooNewError: a newer outcome-router migrated the store (left unchanged).
        CorruptStoreError: the database holds tables of the same names that are not ours.
        ConfigError: ``read_only`` and the store is not at :data:`HEAD` (it cannot be
            migrated).

    Example:
        >>> engine = sa.create_engine("sqlite://")
        >>> ensure_schema(engine, "sqlite://") is None, ensure_schema(engine, "sqlite://")
        (True, '0007')
    """
    with engine.connect() as conn:
        try:
            found = _versions(conn.execution_options(**{READ_ONLY: True}))
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            found = None  # no version table yet: decided under the lock below
    if found == {HEAD}:
        return HEAD
    if found is not None:
        _check_known(found, url)
    if read_only:
        at = ", ".join(sorted(found)) if found else "none (an empty or pre-migration store)"
        raise ConfigError(
            f"store {url} is opened read-only (?mode=ro) but its schema revision is {at}, "
            f"not {HEAD}: run `outcome-router db upgrade` on it first, or open it without "
            "?mode=ro"
        )
    return upgrade(engine, url)


def upgrade(engine: sa.Engine, url: str) -> str | None:
    """Migrate the store to :data:`HEAD` under the migration lock; return where it started.

    Example:
        >>> upgrade(sa.create_engine("sqlite://"), "sqlite://") is None
        True
    """
    with _PROCESS_LOCK, engine.connect() as conn, conn.begin():  # SQLite: BEGIN IMMEDIATE
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
        before, stamped = _revision_under_lock(conn, url)
        if before == HEAD:
            return before
        from alembic import command

        config = alembic_config(connection=conn)
        if before is not None and not stamped:
            command.stamp(config, before)
        command.upgrade(config, HEAD)
    logger.info("store %s upgraded from revision %s to %s", url, before or "(empty)", HEAD)
    return before


def alembic_config(*, connection: sa.Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for the shipped migrations, on ``connection`` or ``url``.

    Example:
        >>> config = alembic_config(url="sqlite:///scratch.db")
        >>> Path(config.get_main_option("script_location")).name
        'migrations'
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def _versions(conn: sa.Connection) -> set[str]:
    rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")
    return {str(row[0]) for row in rows}


def _check_known(found: set[str], url: str) -> None:
    unknown = sorted(found - set(REVISIONS))
    if unknown or len(found) > 1:
        raise SchemaTooNewError(
            f"store {url} has schema revision {', '.join(sorted(found))}, newer than this "
            f"outcome-router knows (it knows up to {HEAD}); upgrade outcome-router "
            "(pip install -U outcome-router) to open it. The store was left unchanged"
        )


def _revision_under_lock(conn: sa.Connection, url: str) -> tuple[str | None, bool]:
    """The store's revision and whether it is recorded, read while holding the lock."""
    tables = set(sa.inspect(conn).get_table_names())
    if VERSION_TABLE in tables:
        found = _versions(conn)
        if found:
            _check_known(found, url)
            return found.pop(), True
    return _unversioned_revision(conn, tables, url), False


def _unversioned_revision(conn: sa.Connection, tables: set[str], url: str) -> str | None:
    """The revision whose ``create_all`` made these tables; None when there are none."""
    ours = set(_REVISION_1) & tables
    if not ours:
        return None
    inspector = sa.inspect(conn)
    columns = {table: {c["name"] for c in inspector.get_columns(table)} for table in ours}
    for table in sorted(ours):
        missing = _REVISION_1[table] - columns[table]
        if missing:
            raise CorruptStoreError(
                f"store {url} has a table {table!r} that is not outcome-router's "
                f"(missing columns {sorted(missing)}); use another database or file"
            )
    if ours != set(_REVISION_1):
        (absent,) = set(_REVISION_1) - ours
        raise CorruptStoreError(
            f"store {url} has outcome-router tables but no {absent!r} table; restore it "
            "from a backup, or use another database or file"
        )
    if all(_REVISION_2[table] <= columns[table] for table in _REVISION_2):
        return "0002"
    return "0001"
