"""The test suite leaves nothing behind in the shared PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_URL, postgres_url

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import os
from storage import Outcome
import tests.conftest


def test_write(store, task):
    store.record(Outcome(f"{task}-r1", 1, task, "a", 1.0, created_at=0.0))
    assert store.posteriors(task)["a"].n == 1
    with open(os.environ["CHILD_OUT"], "w") as out:
        out.write(f"{task} {tests.conftest.PG_SCHEMA}")
"""


def test_a_test_run_drops_what_it_wrote_to_postgresql(tmp_path: Path) -> None:
    import sqlalchemy as sa

    postgres_url()  # skips (or fails in CI) without a server
    (tmp_path / "test_child.py").write_text(CHILD)
    out = tmp_path / "child.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHILD_OUT": str(out)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-k", "postgres"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    task, schema = out.read_text().split()
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            schemas = {row[0] for row in conn.exec_driver_sql("SELECT nspname FROM pg_namespace")}
            assert schema not in schemas  # the child's schema went with its run
            tables = sa.inspect(conn).get_table_names()  # the shared (public) schema
            if "posteriors" in tables:
                left = conn.execute(
                    sa.text("SELECT count(*) FROM posteriors WHERE task = :task"), {"task": task}
                ).scalar_one()
                assert left == 0
    finally:
        engine.dispose()


def test_this_run_writes_to_a_schema_of_its_own() -> None:
    url = postgres_url()
    assert "search_path" in url and url != PG_URL
