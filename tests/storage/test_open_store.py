"""Opening stores: URLs, defaults, and refusing what is not a database."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import pytest

from bandits import ConfigError
from storage import (
    CorruptStoreError,
    MemoryStore,
    Outcome,
    StoreUnavailableError,
    default_store_url,
    open_store,
)


def test_memory_url_gives_the_pure_in_process_store() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)


def test_default_store_is_a_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OUTCOME_ROUTER_DB")
    monkeypatch.chdir(tmp_path)
    assert default_store_url() == f"sqlite:///{tmp_path / 'outcome-router.db'}"
    store = open_store()
    store.ensure_paths("t", ["a"])
    store.close()
    assert (tmp_path / "outcome-router.db").exists()


def test_environment_variable_overrides_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTCOME_ROUTER_DB", str(tmp_path / "elsewhere.db"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("OUTCOME_ROUTER_DB", "memory://")
    assert isinstance(open_store(), MemoryStore)


def test_sqlite_file_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "s.db"))
    store.ensure_paths("t", ["a"])
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.close()


def test_in_memory_sqlite_is_shared_by_all_threads() -> None:
    import threading

    store = open_store("sqlite:///:memory:")
    store.ensure_paths("t", ["a"])
    worker = threading.Thread(
        target=store.record, args=(Outcome("r", 1, "t", "a", 1.0, created_at=0.0),)
    )
    worker.start()
    worker.join()
    assert store.posteriors("t")["a"].n == 1


def test_data_survives_reopening_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    first = open_store(url)
    first.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
    first.close()
    second = open_store(url)
    assert second.posteriors("t")["a"].alpha == 2.0
    second.close()


def test_text_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("not a database at all\n")
    with pytest.raises(CorruptStoreError, match="not a SQLite database"):
        open_store(str(target))
    assert target.read_text() == "not a database at all\n"


def test_corrupt_sqlite_file_is_refused_without_changing_it(tmp_path: Path) -> None:
    target = tmp_path / "broken.db"
    good = open_store(str(target))
    good.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
    good.close()
    data = bytearray(target.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # header intact, first page scrambled
    target.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match="restore it from a backup or move it away"):
        open_store(str(target))
    assert target.read_bytes() == bytes(data)


def test_another_applications_tables_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "other.db"
    with sqlite3.connect(target) as conn:
        conn.execute("CREATE TABLE outcomes (id INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(CorruptStoreError, match="not outcome-router's"):
        open_store(str(target))


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorruptStoreError, match="is a directory"):
        open_store(str(tmp_path))


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        open_store(str(tmp_path / "no" / "such" / "dir" / "s.db"))


def test_unreachable_postgres_is_reported_with_the_url() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    with pytest.raises(StoreUnavailableError, match=r"127\.0\.0\.1:1"):
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/db")


def test_password_is_hidden_in_errors() -> None:
    with pytest.raises(StoreUnavailableError) as info:
        open_store("postgresql+psycopg://nobody:s3cr3t@127.0.0.1:1/db")
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize("url", ["http://example.com/db", "mysql://x@y/z", "redis://localhost"])
def test_unsupported_scheme_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="unsupported store URL"):
        open_store(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://127.0.0.1:5432/test",
        "postgresql+asyncpg://127.0.0.1:5432/test",
        "sqlite+aiosqlite:///x.db",
    ],
)
def test_an_unsupported_driver_is_a_config_error_naming_the_forms(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    driver = url.split(":", 1)[0]
    with pytest.raises(ConfigError, match=rf"{re.escape(driver)}:// are not supported") as info:
        open_store(url)
    assert "sqlite:///path.db" in str(info.value) and "postgresql+psycopg://" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "meant"),
    [
        ("sqlite:routes.db", "sqlite:///routes.db"),
        ("sqlite:/var/x.db", "sqlite:////var/x.db"),
        ("SQLite:routes.db", "sqlite:///routes.db"),
        ("sqlite+pysqlite:routes.db", "sqlite:///routes.db"),
        ("postgresql:/127.0.0.1/test", "postgresql+psycopg://127.0.0.1/test"),
        ("postgres:db-host/prod", "postgresql+psycopg://db-host/prod"),
        ("memory:x", "memory://"),
    ],
)
def test_a_scheme_without_slashes_is_a_config_error_not_a_file_name(
    url: str, meant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=f"did you mean {re.escape(repr(meant))}"):
        open_store(url)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["routes.db", "data/routes.db", "c:routes.db", "a:b.db"])
def test_relative_file_paths_still_open_sqlite_files(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    store = open_store(name)
    store.close()
    assert (tmp_path / name).exists()


@pytest.mark.parametrize("url", ["", "   "])
def test_empty_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="non-empty"):
        open_store(url)


# -- engine options (PostgreSQL: pool sizes, PgBouncer) ------------------------------------


def test_engine_options_reach_the_postgresql_engine() -> None:
    from tests.conftest import postgres_url

    options = {"pool_size": 3, "connect_args": {"prepare_threshold": None}}
    store = open_store(postgres_url(), engine_options=options)
    try:
        task = f"engine-options-{uuid.uuid4().hex}"  # the database is shared: unique ids
        store.ensure_paths(task, ["a"])
        for number in range(8):  # past psycopg's default prepare threshold of 5
            store.record(Outcome(f"{task}-{number}", 1, task, "a", 1.0, created_at=0.0))
        assert store.posteriors(task)["a"].n == 8
        engine = store.engine  # type: ignore[attr-defined]
        assert engine.pool.size() == 3
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection.prepare_threshold is None
    finally:
        store.close()


@pytest.mark.parametrize("url", ["memory://", "sqlite:///:memory:"])
def test_engine_options_for_other_stores_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="engine_options apply to PostgreSQL"):
        open_store(url, engine_options={"pool_size": 3})


def test_an_engine_option_sqlalchemy_refuses_is_a_config_error() -> None:
    from tests.conftest import postgres_url

    with pytest.raises(ConfigError, match="refused by SQLAlchemy"):
        open_store(postgres_url(), engine_options={"no_such_option": 1})
