"""A SQLite store is checked when it is opened, and a file it must not use is left as it was
(issue 16, items 3, 12, 13 and 15).

Read-only files: root may write to any file, so those tests run the open in a forked
child that has become user ``nobody`` (when the tests run as root).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets  # noqa: F401 - loaded before the fork: user nobody cannot read the stdlib here
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path as FilePath
from typing import Any

import pytest

from router import ConfigError, Router
from storage import (
    CorruptStoreError,
    Outcome,
    ResilientStore,
    SQLStore,
    StoreUnavailableError,
    open_store,
)
from tests.router.test_store_faults import LOCK_HOLDER

NOBODY = 65534


def as_nobody(call: Callable[[], Any]) -> Any:
    """``call()`` as an unprivileged user: in a forked child that became ``nobody`` when
    this process is root (root bypasses file permissions), else here. Its exception is
    raised here."""
    if os.geteuid() != 0:
        return call()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no imports, no logging, just the call
        os.close(read)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            outcome: tuple[str, Any] = ("value", call())
        except BaseException as exc:  # sent to the parent as it is
            outcome = ("error", exc)
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:
            data = pickle.dumps(("error", RuntimeError(f"unpicklable result: {exc!r}")))
        os.write(write, data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value


@pytest.fixture
def shared_dir(tmp_path: FilePath) -> Iterator[FilePath]:
    """A directory user ``nobody`` can enter (pytest's tmp_path is root's alone)."""
    open_router(str(tmp_path / "warm-up.db"))  # what the child needs is imported already
    path = FilePath(tempfile.mkdtemp(prefix="outcome-router-ro-"))
    path.chmod(0o755)
    yield path
    path.chmod(0o755)
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


def make_store(file: FilePath, outcomes: int = 3) -> None:
    store = open_store(f"sqlite:///{file}")
    store.record_many(Outcome(f"r{i}", 1, "t", "a", 1.0, created_at=0.0) for i in range(outcomes))
    store.close()
    file.chmod(0o644)


def digest(file: FilePath) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def echo(x: str) -> str:
    return x


def open_router(url: str) -> str:
    """Open a router on ``url`` and serve a request; what a service does at start-up."""
    router = Router([echo], lambda out: True, task="t", store=url)
    router.run("hi")
    router.close()
    return "served"


@pytest.mark.parametrize(
    ("file_mode", "dir_mode", "blamed"),
    [(0o444, 0o777, "the file"), (0o666, 0o555, "its directory")],
    ids=["read-only file", "read-only directory"],
)
def test_a_read_only_store_raises_at_open(
    shared_dir: FilePath, file_mode: int, dir_mode: int, blamed: str
) -> None:
    # Before: it opened, every run() succeeded and every outcome was lost at close().
    file = shared_dir / "routes.db"
    make_store(file)
    before = digest(file)
    file.chmod(file_mode)
    shared_dir.chmod(dir_mode)
    with pytest.raises(StoreUnavailableError, match=f"cannot be written: {blamed}") as raised:
        as_nobody(lambda: open_router(f"sqlite:///{file}"))
    assert "-wal" in str(raised.value) and "?mode=ro" in str(raised.value)
    shared_dir.chmod(0o755)
    assert digest(file) == before
    assert sorted(p.name for p in shared_dir.iterdir()) == ["routes.db"]


def test_a_new_store_in_a_read_only_directory_raises(shared_dir: FilePath) -> None:
    shared_dir.chmod(0o555)
    with pytest.raises(StoreUnavailableError, match=r"its directory .* is read-only"):
        as_nobody(lambda: open_router(str(shared_dir / "new.db")))
    shared_dir.chmod(0o755)
    assert list(shared_dir.iterdir()) == []


def test_mode_ro_reads_a_read_only_store_and_refuses_to_write(shared_dir: FilePath) -> None:
    file = shared_dir / "routes.db"
    make_store(file)
    before = digest(file)
    file.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    shared_dir.chmod(0o777)  # SQLite reads a WAL file only where it may make its -shm

    def read() -> tuple[int, str]:
        store = open_store(f"sqlite:///{file}?mode=ro")
        try:
            n = store.posteriors("t")["a"].n
            try:
                store.record(Outcome("new", 1, "t", "a", 1.0, created_at=0.0))
            except ConfigError as exc:
                return n, str(exc)
            return n, "written"
        finally:
            store.close()

    n, refusal = as_nobody(read)
    assert n == 3
    assert "opened read-only (?mode=ro)" in refusal
    assert digest(file) == before


def test_mode_ro_never_creates_a_store(tmp_path: FilePath) -> None:
    with pytest.raises(StoreUnavailableError, match="never created"):
        open_store(f"sqlite:///{tmp_path / 'missing.db'}?mode=ro")
    assert list(tmp_path.iterdir()) == []


def test_another_applications_sqlite_file_is_refused_untouched(tmp_path: FilePath) -> None:
    file = tmp_path / "app.db"
    conn = sqlite3.connect(file)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO customers (email) VALUES ('alice@example.com')")
    conn.commit()
    conn.close()
    before = digest(file)
    with pytest.raises(CorruptStoreError, match=r"another application's database \(tables"):
        open_store(str(file))
    with pytest.raises(CorruptStoreError, match="another application's"):
        Router([echo], lambda out: True, store=file)
    assert digest(file) == before  # neither switched to WAL nor given our tables
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def corrupt(file: FilePath) -> None:
    """Overwrite every page but the first (the schema) with garbage, as a bad disk might."""
    size = file.stat().st_size
    page = 4096
    assert size >= 3 * page, "a store big enough to have pages to damage"
    with file.open("r+b") as handle:
        handle.seek(page)
        handle.write(b"\xa5" * (size - page))


def test_a_corrupt_store_is_found_at_open(tmp_path: FilePath) -> None:
    # Before: it opened, and failed only once a write touched a damaged page.
    file = tmp_path / "routes.db"
    make_store(file, outcomes=500)
    corrupt(file)
    with pytest.raises(CorruptStoreError, match=r"integrity check|damaged|cannot be read"):
        open_store(str(file))


def test_a_corrupt_store_found_on_a_read_is_not_an_outage(tmp_path: FilePath) -> None:
    file = tmp_path / "routes.db"
    make_store(file, outcomes=500)
    inner = SQLStore(f"sqlite:///{file}")
    store = ResilientStore(inner)
    assert store.posteriors("t")["a"].n == 500
    inner.engine.dispose()  # the disk goes bad under the open store
    corrupt(file)
    with pytest.raises(CorruptStoreError):
        store.posteriors("t")
    assert not store.degraded  # degraded mode is for a store that is away, not a broken one
    inner.engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite+pysqlite://", "sqlite:///?x=1"])
def test_sqlite_without_a_file_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match=r"names no file.*sqlite:///:memory:"):
        open_store(url)
    with pytest.raises(ConfigError, match="names no file"):
        Router([echo], lambda out: True, store=url)


def test_sqlite_memory_asked_for_by_name_is_still_accepted() -> None:
    store = open_store("sqlite:///:memory:")
    store.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
    assert store.posteriors("t")["a"].n == 1
    store.close()


def test_a_pathlib_path_is_a_store(tmp_path: FilePath) -> None:
    file = tmp_path / "routes.db"
    router = Router([echo], lambda out: True, task="t", store=file)
    router.run("hi")
    router.close()
    store = open_store(file)
    assert store.url == f"sqlite:///{file.resolve()}"
    assert store.posteriors("t")["echo"].n == 1
    store.close()


def test_a_call_on_a_locked_sqlite_store_waits_its_timeout_only(tmp_path: FilePath) -> None:
    # Another process holds the write lock: the store gives up after its timeout
    # (before: SQLite's busy timeout, 30 s, whatever the caller's deadline).
    file = tmp_path / "routes.db"
    make_store(file)
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    store = open_store(file, timeout=0.2)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(
            StoreUnavailableError, match=r"did not answer within 0\.2 s \(database is locked\)"
        ):
            store.record(Outcome("late", 1, "t", "a", 1.0, created_at=0.0))
        assert time.monotonic() - started < 0.2 + 1.0
        assert store.posteriors("t")["a"].n == 3  # reads do not wait for the writer (WAL)
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    assert store.record(Outcome("late", 1, "t", "a", 1.0, created_at=0.0))  # the lock is gone
    store.close()


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), True, "5"])
def test_a_bad_store_timeout_is_refused(tmp_path: FilePath, timeout: object) -> None:
    with pytest.raises(ConfigError, match="timeout must be a number of seconds"):
        open_store(tmp_path / "routes.db", timeout=timeout)  # type: ignore[arg-type]
