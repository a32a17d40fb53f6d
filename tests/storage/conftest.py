"""Fixtures for store tests that need a database of their own (migrations, processes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import MemoryStore, SQLStore
from tests.conftest import postgres_url
from tests.storage.proxy import TcpProxy


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards (the shared one stays untouched)."""
    base = sa.make_url(postgres_url())
    name = f"test_mig_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        # A database of its own: the run's schema (search_path) is not in it.
        fresh = base.set(
            database=name, query={k: v for k, v in base.query.items() if k != "options"}
        )
        yield fresh.render_as_string(hide_password=False)
        with admin.connect() as conn:  # FORCE: a killed child may have left a session
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite-file", "postgres"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each SQL backend that only this test uses."""
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-memory", "postgres"])
def own_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore | SQLStore]:
    """A store of each backend that no other test shares: for store-wide operations (prune)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'own.db'}"
    elif request.param == "sqlite-memory":
        url = "sqlite:///:memory:"
    else:
        url = request.getfixturevalue("fresh_pg_url")
    store = SQLStore(url)
    yield store
    store.close()


@pytest.fixture
def proxy(fresh_pg_url: str) -> Iterator[TcpProxy]:
    """A proxy to the test server; stop() makes the store unreachable."""
    url = sa.make_url(fresh_pg_url)
    proxied = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxied
    proxied.stop()


@pytest.fixture
def proxied_url(fresh_pg_url: str, proxy: TcpProxy) -> str:
    """A fresh PostgreSQL database, reached through ``proxy``."""
    url = sa.make_url(fresh_pg_url).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)
