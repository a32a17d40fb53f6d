"""``outcome-router db upgrade [URL]``: migrate a store ahead of time, printing the revisions."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import SchemaTooNewError, StoreUnavailableError
from storage._migrate import HEAD
from storage._schema import VERSION_TABLE
from storage.cli import add_db_commands
from tests.storage.legacy import insert_old_rows, migrate


def db(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="outcome-router")
    add_db_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["db", *argv])
    status: int = args.handler(args)
    return status


def test_upgrade_migrates_an_old_store_and_prints_both_revisions(
    fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(fresh_url, "0001")
    insert_old_rows(fresh_url, "cli")
    assert db("upgrade", fresh_url) == 0
    assert f"upgraded from revision 0001 to {HEAD}" in capsys.readouterr().out
    assert db("upgrade", fresh_url) == 0
    assert f"already at revision {HEAD}" in capsys.readouterr().out


def test_upgrade_without_a_url_creates_the_default_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # tests/conftest.py points OUTCOME_ROUTER_DB at tmp_path/default.db.
    assert db("upgrade") == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "default.db") in out
    assert f"upgraded from revision (new store) to {HEAD}" in out


def test_upgrade_accepts_a_file_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert db("upgrade", str(tmp_path / "by-path.db")) == 0
    assert (tmp_path / "by-path.db").exists()
    assert "by-path.db: upgraded" in capsys.readouterr().out


def test_upgrade_of_memory_store_says_there_is_nothing_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert db("upgrade", "memory://") == 0
    assert "no schema to upgrade" in capsys.readouterr().out


def test_upgrade_refuses_a_store_from_a_newer_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'future.db'}"
    db("upgrade", url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = '0100'")
    engine.dispose()
    with pytest.raises(SchemaTooNewError, match="upgrade outcome-router"):
        db("upgrade", url)


def test_upgrade_reports_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        db("upgrade", str(tmp_path / "missing" / "s.db"))
