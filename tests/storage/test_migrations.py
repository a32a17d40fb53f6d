"""Schema migrations: new stores, stores older versions left behind, and stores from the future."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage import CorruptStoreError, Outcome, SchemaTooNewError, open_store
from storage._migrate import HEAD, REVISIONS, alembic_config
from storage._schema import VERSION_TABLE, metadata
from storage._sql import SQLStore
from tests.storage.legacy import (
    OLD_OUTCOMES,
    PRIORS,
    RESET_COLUMNS,
    first_commit_metadata,
    insert_old_rows,
    migrate,
)

ROOT = Path(__file__).resolve().parents[2]


def revision_of(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.exec_driver_sql(f"SELECT * FROM {VERSION_TABLE}")]
    finally:
        engine.dispose()


def schema_drift(url: str) -> list[Any]:
    """Differences between the database's tables and storage/_schema.py (none expected)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, object]:
    """Every table's columns and rows, to show that nothing changed."""
    engine = sa.create_engine(url)
    try:
        reflected = sa.MetaData()
        reflected.reflect(engine)
        with engine.connect() as conn:
            return {
                name: (
                    [column.name for column in table.columns],
                    sorted(map(repr, conn.execute(table.select()))),
                )
                for name, table in reflected.tables.items()
            }
    finally:
        engine.dispose()


def open_sql(url: str) -> SQLStore:
    store = open_store(url)
    assert isinstance(store, SQLStore)
    return store


def test_revisions_list_the_migration_files_in_order() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    walked = [rev.revision for rev in script.walk_revisions()]  # newest first
    assert tuple(reversed(walked)) == REVISIONS
    assert script.get_current_head() == HEAD


def test_new_store_is_created_by_the_migrations(fresh_url: str) -> None:
    store = open_sql(fresh_url)
    assert store.found_revision is None
    store.close()
    assert revision_of(fresh_url) == [HEAD]
    assert schema_drift(fresh_url) == []
    again = open_sql(fresh_url)
    assert again.found_revision == HEAD
    again.close()


def check_upgraded_rows(store: SQLStore, task: str) -> None:
    """The rows of tests.storage.legacy after revision 2's backfill."""
    kept = {o.request_id.split(":", 1)[1]: o for o in store.outcomes(task)}
    assert {name: o.errored for name, o in kept.items()} == {
        o.request_id: o.errored for o in OLD_OUTCOMES
    }
    assert [kept[o.request_id].score for o in OLD_OUTCOMES] == [o.score for o in OLD_OUTCOMES]
    rows = store.posteriors(task)
    for path, (prior_alpha, prior_beta) in PRIORS.items():
        old = [o for o in OLD_OUTCOMES if o.path == path and o.score is not None]
        row = rows[path]
        assert row.alpha == prior_alpha + sum(o.score or 0.0 for o in old)
        assert row.n == len(old)
        assert row.errors == sum(o.errored for o in old)
        assert (row.base_alpha, row.base_beta, row.base_n) == (prior_alpha, prior_beta, 0)
        assert (row.resets, row.base_errors) == (0, 0)
        assert row.recent_errors == row.errors


def test_revision_1_store_upgrades_in_place(fresh_url: str) -> None:
    task = f"old-{uuid.uuid4().hex[:8]}"
    migrate(fresh_url, "0001")
    insert_old_rows(fresh_url, task)
    store = open_sql(fresh_url)
    assert store.found_revision == "0001"
    check_upgraded_rows(store, task)
    before = store.posteriors(task)["a"]
    store.record(Outcome(f"{task}:new", 1, task, "a", 0.0, created_at=2e9, errored=True))
    store.report(task, f"{task}:partial", 1.0, at=2e9)
    after = store.posteriors(task)["a"]
    assert (after.n, after.errors, after.alpha) == (
        before.n + 1,
        before.errors + 1,
        before.alpha + 0.75,
    )
    store.close()
    assert revision_of(fresh_url) == [HEAD]
    assert schema_drift(fresh_url) == []


def test_unversioned_first_commit_store_is_stamped_and_upgraded(fresh_url: str) -> None:
    task = f"legacy-{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(fresh_url)
    first_commit_metadata().create_all(engine)
    engine.dispose()
    insert_old_rows(fresh_url, task)
    store = open_sql(fresh_url)
    assert store.found_revision == "0001"
    check_upgraded_rows(store, task)
    store.close()
    assert revision_of(fresh_url) == [HEAD]
    assert schema_drift(fresh_url) == []


def test_unversioned_store_with_reset_columns_keeps_its_bases(fresh_url: str) -> None:
    # The commit that added change-point resets had base columns but no error counts.
    task = f"resets-{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(fresh_url)
    first_commit_metadata(posterior_extras=RESET_COLUMNS).create_all(engine)
    engine.dispose()
    bases = {"base_alpha": 1.5, "base_beta": 2.5, "base_n": 1, "resets": 1}
    insert_old_rows(fresh_url, task, extras=bases)
    store = open_sql(fresh_url)
    assert store.found_revision == "0001"
    row = store.posteriors(task)["a"]
    assert (row.base_alpha, row.base_beta, row.base_n, row.resets) == (1.5, 2.5, 1, 1)
    assert (row.errors, row.base_errors) == (3, 0)
    assert sum(o.errored for o in store.outcomes(task)) == 4
    store.close()
    assert revision_of(fresh_url) == [HEAD]


def test_unversioned_store_of_the_last_create_all_schema_is_stamped_at_revision_2(
    fresh_url: str,
) -> None:
    engine = sa.create_engine(fresh_url)
    before_migrations = sa.MetaData()
    for name in ("posteriors", "outcomes"):
        metadata.tables[name].to_metadata(before_migrations)
    before_migrations.create_all(engine)
    engine.dispose()
    store = open_sql(fresh_url)
    assert store.found_revision == "0002"
    store.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
    assert store.daily_aggregates("t")[0].attempts == 1  # revision 3's table exists
    store.close()
    assert schema_drift(fresh_url) == []


def test_store_of_a_newer_version_is_refused_and_left_unchanged(fresh_url: str) -> None:
    store = open_sql(fresh_url)
    store.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
    store.close()
    engine = sa.create_engine(fresh_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'")
    engine.dispose()
    before = snapshot(fresh_url)
    with pytest.raises(SchemaTooNewError, match=r"0099_future.*upgrade outcome-router"):
        open_store(fresh_url)
    assert snapshot(fresh_url) == before


def test_downgrade_to_revision_1_keeps_the_rows(fresh_url: str) -> None:
    store = open_sql(fresh_url)
    store.record(
        Outcome("r", 1, "t", "a", 0.0, created_at=0.0, error_class="timeout", errored=True)
    )
    store.close()
    migrate(fresh_url, "0001")
    tables = snapshot(fresh_url)
    assert "daily" not in tables
    assert "errored" not in tables["outcomes"][0]  # type: ignore[index]
    reopened = open_sql(fresh_url)
    assert reopened.found_revision == "0001"
    assert reopened.posteriors("t")["a"].errors == 1  # rebuilt by revision 2's backfill
    reopened.close()


def test_another_applications_alembic_version_table_is_ignored(fresh_pg_url: str) -> None:
    # A PostgreSQL database is often shared with the application (our tables have names
    # of their own). A SQLite file of another application is refused instead: see
    # tests/storage/test_open_checks.py.
    engine = sa.create_engine(fresh_pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('their_head')")
    engine.dispose()
    store = open_sql(fresh_pg_url)
    assert store.found_revision is None
    store.close()
    assert revision_of(fresh_pg_url) == [HEAD]


def test_half_a_store_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'half.db'}"
    engine = sa.create_engine(url)
    first_commit_metadata().tables["posteriors"].create(engine)
    engine.dispose()
    with pytest.raises(CorruptStoreError, match="no 'outcomes' table"):
        open_store(url)


def test_opening_a_current_store_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'current.db'}"
    open_store(url).close()
    code = (
        "import sys\n"
        "from storage import open_store\n"
        f"store = open_store({url!r})\n"
        "assert store.found_revision == store.found_revision\n"
        "assert 'alembic' not in sys.modules, 'alembic imported on the fast path'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
