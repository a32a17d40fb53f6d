"""The SQL reads behind exports: task names, and outcome rows streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from storage._reads import COLUMNS, OutcomeFilter, Row
from storage._schema import daily, outcomes, posteriors
from storage._segments import is_segment_task
from storage._sqlite import READ_ONLY


def task_names(engine: sa.Engine) -> list[str]:
    """Every task with outcomes, posteriors or daily sums, sorted (segments' evidence aside)."""
    query = sa.union(
        sa.select(outcomes.c.task).distinct(),
        sa.select(posteriors.c.task),
        sa.select(daily.c.task),
    )
    with engine.connect() as plain:
        conn = plain.execution_options(**{READ_ONLY: True})
        with conn.begin():
            names = (str(name) for (name,) in conn.execute(query))
            return sorted(name for name in names if not is_segment_task(name))


def outcome_chunks(engine: sa.Engine, keep: OutcomeFilter, chunksize: int) -> Iterator[list[Row]]:
    """The kept outcomes, oldest first, as rows of ``COLUMNS``, ``chunksize`` at a time."""
    query = sa.select(*(outcomes.c[name] for name in COLUMNS)).order_by(
        outcomes.c.created_at, outcomes.c.id
    )
    if keep.task is not None:
        query = query.where(outcomes.c.task == keep.task)
    if keep.paths is not None:
        query = query.where(outcomes.c.path.in_(keep.paths))
    if keep.since is not None:
        query = query.where(outcomes.c.created_at >= keep.since)
    if keep.until is not None:
        query = query.where(outcomes.c.created_at < keep.until)
    if keep.customer is not None:
        query = query.where(outcomes.c.customer == keep.customer)
    with engine.connect() as plain:
        # yield_per streams: a server-side cursor on PostgreSQL, fetchmany on SQLite.
        conn = plain.execution_options(**{READ_ONLY: True}, yield_per=chunksize)
        with conn.begin():
            for rows in conn.execute(query).partitions():
                yield [tuple(row) for row in rows]
