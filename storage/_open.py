"""``open_store(url)``: pick and open the right store for a URL or a file path."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from storage._memory import MemoryStore
from storage._passwords import hide_password
from storage._protocol import Store

if TYPE_CHECKING:
    from storage._sql import SQLStore

DEFAULT_FILE = "outcome-router.db"
ENV_VAR = "OUTCOME_ROUTER_DB"
URL_FORMS = "memory://, sqlite:///path.db, postgresql+psycopg://user@host/db, or a file path"
# The schemes (and scheme+driver) SQLStore runs on: the built-in sqlite3, psycopg 3.
_SQL_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"})
_SCHEMES = ("memory", "sqlite", "postgresql", "postgres")
_SCHEME_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9]*)(\+[A-Za-z0-9_]*)?:(.*)", re.DOTALL)
# postgres:// is the common DATABASE_URL spelling (Heroku, Render, Fly...).
_POSTGRES_ALIAS = re.compile(r"(?i)postgres(?:ql)?(?:\+psycopg)?://")
# The password of a URL, with or without its //: scheme://user:PASSWORD@host.


def default_store_url() -> str:
    """The store used when none is given: ``$OUTCOME_ROUTER_DB``, else ``./outcome-router.db``.

    Example:
        >>> default_store_url().startswith(("sqlite:///", "memory://", "postgresql"))
        True
    """
    return resolve_url(os.environ.get(ENV_VAR) or DEFAULT_FILE)


def open_store(
    url: str | os.PathLike[str] | None = None,
    *,
    engine_options: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> Store:
    """Open (creating if needed) the store at ``url``.

    Args:
        url: ``memory://``; ``sqlite:///path.db`` (``?mode=ro`` to only read it) or
            ``sqlite:///:memory:``; ``postgresql+psycopg://user@host/db`` (or
            ``postgres://...``, the usual ``DATABASE_URL`` spelling); or a plain file
            path (SQLite), as a string or a ``pathlib.Path``. ``None`` means
            :func:`default_store_url`.
        timeout: SQL stores only: seconds a call may wait for the database (a lock, a
            connection, an answer) before ``StoreUnavailableError``; default 30 (a
            caller may bound it further, see :func:`storage.store_waits`).
        engine_options: PostgreSQL only: passed to ``sqlalchemy.create_engine``, e.g.
            ``{"pool_size": 20}``, or ``{"connect_args": {"prepare_threshold": None}}``
            behind PgBouncer in transaction mode (no server-side prepared statements).

    Raises:
        ConfigError: unsupported scheme or driver, a URL missing its ``//``,
            ``sqlite://`` without a file, or psycopg missing for PostgreSQL. No error
            message shows a URL's password.
        StoreUnavailableError: the database cannot be reached.
        CorruptStoreError: the file or database is not an outcome-router store.
        SchemaTooNewError: a newer outcome-router migrated the store.

    Opening a SQL store that an older outcome-router wrote migrates it to this
    version's schema first (see ``outcome-router db upgrade``).

    Example:
        >>> store = open_store("memory://")
        >>> store.url
        'memory://'
    """
    resolved = default_store_url() if url is None else resolve_url(url)
    if resolved == "memory://":
        if engine_options:
            raise ConfigError("engine_options apply to PostgreSQL stores, not memory://")
        return MemoryStore()
    return open_sql_store(resolved, engine_options=engine_options, timeout=timeout)


def open_sql_store(
    url: str,
    *,
    engine_options: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> SQLStore:
    """Open the SQLite or PostgreSQL store at a resolved ``url`` (see :func:`resolve_url`).

    Example:
        >>> open_sql_store("sqlite:///:memory:").found_revision is None  # a new store
        True
    """
    driver = url.split(":", 1)[0].lower()
    scheme = driver.split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql"):
        raise ConfigError(f"unsupported store URL {hide_password(url)!r}; use {URL_FORMS}")
    if driver not in _SQL_DRIVERS:
        raise ConfigError(
            f"store URLs of the form {driver}:// are not supported: outcome-router runs "
            f"SQLite on Python's sqlite3 and PostgreSQL on psycopg 3; use {URL_FORMS}"
        )
    if scheme == "postgresql":
        _require_psycopg()
    from storage._sql import SQLStore

    if timeout is None:
        return SQLStore(url, engine_options=engine_options)
    return SQLStore(url, engine_options=engine_options, timeout=timeout)


def resolve_url(value: str | os.PathLike[str]) -> str:
    """The store URL ``value`` means: URLs as they are (``postgres://`` as
    ``postgresql+psycopg://``), ``memory:`` spelled out, paths as SQLite files.

    Raises:
        ConfigError: ``value`` is empty, a URL missing its ``//`` (``sqlite:routes.db``),
            or ``sqlite://`` / ``sqlite:///`` with no file (a database that would vanish
            with the process: ask for ``sqlite:///:memory:`` if that is what you want).

    Example:
        >>> resolve_url("memory:"), resolve_url("sqlite:///:memory:")
        ('memory://', 'sqlite:///:memory:')
        >>> resolve_url("postgres://router@db/prod")
        'postgresql+psycopg://router@db/prod'
    """
    if isinstance(value, os.PathLike):
        return sqlite_file_url(value)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"a store URL must be a non-empty string or a path, got {hide_password(repr(value))}"
        )
    value = value.strip()
    if value.rstrip("/") == "memory:":
        return "memory://"
    if "://" in value:
        if _POSTGRES_ALIAS.match(value):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        _refuse_sqlite_without_file(value)
        return value
    _refuse_scheme_without_slashes(value)
    return sqlite_file_url(value)


def open_existing_store(url: str | os.PathLike[str] | None) -> Store:
    """Open a store for a command that reads or changes it: a missing SQLite file is an
    error, not a new empty store.

    Raises:
        ConfigError: ``url`` names a SQLite file that does not exist.

    Example:
        >>> open_existing_store("/no/such/routes.db")
        Traceback (most recent call last):
        ...
        router.ConfigError: store /no/such/routes.db does not exist; ...
    """
    resolved = default_store_url() if url is None else resolve_url(url)
    if resolved.startswith("sqlite:///") and resolved != "sqlite:///:memory:":
        file = Path(resolved.removeprefix("sqlite:///"))
        if not file.exists():
            raise ConfigError(
                f"store {file} does not exist; pass --store with the store your router writes "
                "(e.g. outcome-router simulate outage --store outcome-router.db makes one)"
            )
    return open_store(resolved)


def _refuse_sqlite_without_file(value: str) -> None:
    """Raise for ``sqlite://`` and ``sqlite:///``: SQLite's throwaway in-memory database."""
    scheme, rest = value.split("://", 1)
    if scheme.lower() not in ("sqlite", "sqlite+pysqlite"):
        return
    if rest.split("?", 1)[0] in ("", "/"):
        raise ConfigError(
            f"store URL {value!r} names no file: SQLite would keep the store in memory and "
            "lose it when the process ends. Give a file, sqlite:///path/to/routes.db, or "
            "ask for a throwaway store explicitly with sqlite:///:memory: (or memory://)"
        )


def _refuse_scheme_without_slashes(value: str) -> None:
    """Raise for ``sqlite:routes.db`` and the like: a URL missing its ``//``, not a file name."""
    match = _SCHEME_PREFIX.fullmatch(value)
    if match is None or match.group(1).lower() not in _SCHEMES:
        return
    scheme, rest = match.group(1).lower(), match.group(3)
    if scheme == "memory":
        meant = "memory://"
    elif scheme == "sqlite":
        meant = f"sqlite:///{rest or 'routes.db'}"
    else:
        meant = f"postgresql+psycopg://{rest.lstrip('/') or 'user@host/db'}"
    raise ConfigError(
        f"store URL {hide_password(value)!r} lacks the '//' after '{match.group(1)}:'; did you "
        f"mean {hide_password(meant)!r}? Use {URL_FORMS}"
    )


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "PostgreSQL stores need psycopg 3: pip install 'outcome-router[postgres]'"
        ) from exc


def sqlite_file_url(path: str | os.PathLike[str]) -> str:
    """``sqlite:///`` URL of a file path, made absolute so a later chdir does not move it.

    Example:
        >>> sqlite_file_url("/tmp/x.db")
        'sqlite:////tmp/x.db'
    """
    return f"sqlite:///{Path(path).expanduser().resolve()}"
