"""Retention in SQL: fold outcomes into ``daily`` before deleting them, and read days back.

``prune`` deletes old outcome rows but keeps what the daily aggregates need: the rows it
deletes are added to the ``daily`` table in the same transaction, and
:func:`read_daily` adds the surviving outcomes' sums to the folded ones, so a day's
aggregate is the same before and after pruning (up to the order of float additions).
Posteriors are running sums and are not touched.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage._daily import SECONDS_PER_DAY, SUMS, date_of
from storage._records import DailyAggregate
from storage._schema import daily, outcomes


def prune(conn: sa.Connection, older_than: float) -> int:
    """Fold the outcomes created before ``older_than`` into ``daily`` and delete them.

    Runs inside the caller's write transaction. On PostgreSQL one statement deletes and
    folds (``WITH gone AS (DELETE ... RETURNING ...) INSERT ...``), so a row written or
    reported concurrently is either folded and deleted or kept. On SQLite the write lock
    of ``BEGIN IMMEDIATE`` keeps writers out between the two statements.
    """
    dialect = conn.dialect.name
    old = outcomes.c.created_at < older_than
    if dialect == "postgresql":
        gone = sa.delete(outcomes).where(old).returning(*outcomes.c).cte("gone")
        folded = _upsert(dialect, _sums(gone, dialect)).returning(daily.c.day).cte("folded")
        count = sa.select(sa.func.count()).select_from(gone).add_cte(folded)
        return int(conn.execute(count).scalar_one())
    conn.execute(_upsert(dialect, _sums(outcomes, dialect).where(old)))
    return int(conn.execute(sa.delete(outcomes).where(old)).rowcount)


def read_daily(conn: sa.Connection, task: str) -> list[DailyAggregate]:
    """Per-(path, day) aggregates of ``task``: folded days plus the outcomes still stored."""
    live = _sums(outcomes, conn.dialect.name, with_task=False).where(outcomes.c.task == task)
    folded = sa.select(daily.c.path, daily.c.day, *(daily.c[name] for name in SUMS)).where(
        daily.c.task == task
    )
    both = sa.union_all(live, folded).subquery()
    query = (
        sa.select(
            both.c.path,
            both.c.day,
            *(sa.cast(sa.func.sum(both.c[name]), daily.c[name].type) for name in SUMS),
        )
        .group_by(both.c.path, both.c.day)
        .order_by(both.c.day, both.c.path)
    )
    return [
        DailyAggregate(path, date_of(int(day)), *values)
        for path, day, *values in conn.execute(query)
    ]


def _day(created_at: sa.ColumnElement[float], dialect: str) -> sa.ColumnElement[int]:
    """The UTC day number in SQL, equal to :func:`day_of` for the times we store."""
    days = created_at / SECONDS_PER_DAY
    if dialect == "postgresql":  # CAST rounds there: floor first
        return sa.cast(sa.func.floor(days), sa.Integer)
    return sa.cast(days, sa.Integer)  # SQLite's CAST truncates: floor for times >= 0


def _sums(rows: sa.FromClause, dialect: str, *, with_task: bool = True) -> sa.Select[Any]:
    """Per-(task, path, day) sums over ``rows`` (outcome columns), named as ``daily``'s."""
    day = _day(rows.c.created_at, dialect).label("day")
    keys = [rows.c.task, rows.c.path] if with_task else [rows.c.path]
    return sa.select(
        *keys,
        day,
        sa.func.count().label("attempts"),
        sa.func.count(rows.c.score).label("scored"),
        sa.func.coalesce(sa.func.sum(rows.c.score), 0.0).label("successes"),
        sa.func.coalesce(sa.func.sum(sa.case((rows.c.errored, 1), else_=0)), 0).label("errors"),
        sa.func.coalesce(sa.func.sum(rows.c.cost), 0.0).label("cost"),
        sa.func.coalesce(sa.func.sum(rows.c.tokens_in), 0).label("tokens_in"),
        sa.func.coalesce(sa.func.sum(rows.c.tokens_out), 0).label("tokens_out"),
        sa.func.coalesce(
            sa.func.sum(sa.case((sa.and_(rows.c.cost.is_(None), ~rows.c.errored), 1), else_=0)),
            0,
        ).label("unpriced"),
    ).group_by(*keys, day)


def _upsert(dialect: str, sums: sa.Select[Any]) -> postgresql.Insert | sqlite.Insert:
    """``INSERT INTO daily SELECT ...`` adding to the days already folded."""
    columns = ["task", "path", "day", *SUMS]
    if dialect == "postgresql":
        pg = postgresql.insert(daily).from_select(columns, sums)
        return pg.on_conflict_do_update(
            index_elements=["task", "path", "day"],
            set_={name: daily.c[name] + pg.excluded[name] for name in SUMS},
        )
    lite = sqlite.insert(daily).from_select(columns, sums)
    return lite.on_conflict_do_update(
        index_elements=["task", "path", "day"],
        set_={name: daily.c[name] + lite.excluded[name] for name in SUMS},
    )
