"""Shared fixtures: every store backend, a fake clock, unique task names."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from router import FakeClock
from storage import Store, open_store
from tests.pg_server import PgServer, server_binaries

# The fake OpenAI-compatible provider, the network guard and offline litellm.
pytest_plugins = ["tests.fakes.fixtures"]

PG_URL = os.environ.get(
    "OUTCOME_ROUTER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Every PostgreSQL test of this run writes to a schema of its own, dropped when the run
# ends, so the shared database keeps nothing of it (other suites use it at the same time).
PG_SCHEMA = f"outcome_router_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
_MADE: set[str] = set()  # holds PG_SCHEMA once it exists
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[1]


def fresh_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter with only the repository on its path (what a
    fresh ``import router`` does, without this test process's modules or environment)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def postgres_url() -> str:
    """The test PostgreSQL URL, on this run's own schema (:data:`PG_SCHEMA`, created on
    first use, dropped at the end of the run); skip (or fail in CI) when the server is
    not there."""
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{PG_SCHEMA}"')
            conn.commit()
        _MADE.add(PG_SCHEMA)
    except Exception as exc:  # any failure to connect means "no server"
        reason = (
            f"PostgreSQL at {PG_URL} is not reachable ({type(exc).__name__}); "
            "set OUTCOME_ROUTER_TEST_PG to a server to run these tests"
        )
        if IN_CI:
            pytest.fail(f"CI needs PostgreSQL: {reason}")
        pytest.skip(reason)
    finally:
        engine.dispose()
    url = sa.make_url(PG_URL)
    options = f"{url.query.get('options', '')} -csearch_path={PG_SCHEMA}".strip()
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's PostgreSQL schema, and everything its tests wrote there."""
    if not _MADE:
        return
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET lock_timeout = '30s'")
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE')
            conn.commit()
    finally:
        engine.dispose()


def forget_task(url: str, task: str) -> None:
    """Delete every row of ``task`` from the shared PostgreSQL database (tests that write
    to it clean up after themselves)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table in ("outcomes", "posteriors", "path_state", "daily"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE task = :task"), {"task": task})
            conn.execute(sa.text("DELETE FROM spend WHERE scope LIKE :s"), {"s": f"%{task}%"})
    finally:
        engine.dispose()


@pytest.fixture
def clean_shared_postgres(request: pytest.FixtureRequest, task: str) -> Iterator[None]:
    """After the test, delete what it wrote under ``task`` to the shared PostgreSQL database
    (when its ``store_url`` was PostgreSQL)."""
    url = request.getfixturevalue("store_url") if "store_url" in request.fixturenames else ""
    yield
    if url.startswith("postgresql"):
        forget_task(url, task)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server of the tests' own (see tests/pg_server.py), for faults that
    must not touch the shared one: freezing it, restarting it. Skipped with a reason
    where the server binaries are missing; a failure under CI=true."""
    binaries = server_binaries()
    if binaries is None:
        reason = "the PostgreSQL server binaries (initdb, pg_ctl) are not installed"
        if IN_CI:
            pytest.fail(f"CI needs them: {reason}")
        pytest.skip(reason)
    server = PgServer(binaries)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def own_pg(pg_server: PgServer) -> Iterator[PgServer]:
    """The tests' own server, running and answering when the test starts and ends."""
    pg_server.thaw()
    yield pg_server
    pg_server.thaw()


BACKENDS = ["memory", "sqlite-file", "sqlite-memory", "postgres"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL of each backend."""
    kind = request.param
    if kind == "memory":
        return "memory://"
    if kind == "sqlite-file":
        return f"sqlite:///{tmp_path / 'store.db'}"
    if kind == "sqlite-memory":
        return "sqlite:///:memory:"
    return postgres_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open store of each backend (closed afterwards)."""
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def task() -> str:
    """A task name no other test uses (PostgreSQL is shared between tests)."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 2026-01-01T00:00:00Z."""
    return FakeClock(start=1_767_225_600.0)


@pytest.fixture(autouse=True)
def _isolated_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes outcome-router.db into the repo: the default store goes to tmp_path."""
    monkeypatch.setenv("OUTCOME_ROUTER_DB", str(tmp_path / "default.db"))
