"""Change-point resets and error counts: posteriors gain a base and errors, outcomes errored.

Existing rows are backfilled as if they had been written by this revision: the base
is the prior (no reset has happened: ``base_alpha = prior_alpha``, ``base_n = 0``),
``errored`` is derived from what revision 1 stored, and ``errors`` counts the path's
errored outcomes.

Revision 1's router stored an ``error_class`` on two kinds of attempts: calls that
raised or timed out (score 0, later perhaps overridden by a report) and outputs the
success function could not score (``invalid_score``, ``scoring_error``; score NULL,
perhaps scored later by a report). Only the first kind is ``errored``.

Stores created by ``metadata.create_all`` between revisions 1 and 2 may already hold
some of the new columns; only the missing ones are added and backfilled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# error_class values of attempts whose output was judged, not of calls that failed.
SCORING_CLASSES = ("invalid_score", "scoring_error", "invalid_output")

POSTERIOR_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "base_alpha": sa.Double(),
    "base_beta": sa.Double(),
    "base_n": sa.BigInteger(),
    "resets": sa.Integer(),
    "errors": sa.BigInteger(),
    "base_errors": sa.BigInteger(),
}

posteriors = sa.table(
    "posteriors",
    sa.column("task", sa.String),
    sa.column("path", sa.String),
    sa.column("prior_alpha", sa.Double),
    sa.column("prior_beta", sa.Double),
    *(sa.column(name, type_) for name, type_ in POSTERIOR_COLUMNS.items()),
)
outcomes = sa.table(
    "outcomes",
    sa.column("task", sa.String),
    sa.column("path", sa.String),
    sa.column("score", sa.Double),
    sa.column("error_class", sa.String),
    sa.column("reported_at", sa.Double),
    sa.column("errored", sa.Boolean),
)


def _existing(table: str) -> set[str]:
    if context.is_offline_mode():
        return set()
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    added = [name for name in POSTERIOR_COLUMNS if name not in _existing("posteriors")]
    add_errored = "errored" not in _existing("outcomes")
    with op.batch_alter_table("posteriors") as batch:
        for name in added:
            batch.add_column(sa.Column(name, POSTERIOR_COLUMNS[name], nullable=True))
    if add_errored:
        with op.batch_alter_table("outcomes") as batch:
            batch.add_column(sa.Column("errored", sa.Boolean(), nullable=True))
        failed_call = sa.and_(
            outcomes.c.error_class.is_not(None),
            outcomes.c.error_class.not_in(SCORING_CLASSES),
            sa.or_(outcomes.c.score == 0, outcomes.c.reported_at.is_not(None)),
        )
        op.execute(outcomes.update().values(errored=sa.case((failed_call, True), else_=False)))
    backfill: dict[str, sa.ColumnElement[object]] = {
        "base_alpha": posteriors.c.prior_alpha,
        "base_beta": posteriors.c.prior_beta,
        "base_n": sa.literal(0),
        "resets": sa.literal(0),
        "base_errors": sa.literal(0),
        "errors": sa.select(sa.func.count())
        .where(
            outcomes.c.task == posteriors.c.task,
            outcomes.c.path == posteriors.c.path,
            outcomes.c.errored == sa.true(),
        )
        .scalar_subquery(),
    }
    if added:
        op.execute(posteriors.update().values({name: backfill[name] for name in added}))
        with op.batch_alter_table("posteriors") as batch:
            for name in added:
                batch.alter_column(name, existing_type=POSTERIOR_COLUMNS[name], nullable=False)
    if add_errored:
        with op.batch_alter_table("outcomes") as batch:
            batch.alter_column("errored", existing_type=sa.Boolean(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("errored")
    with op.batch_alter_table("posteriors") as batch:
        for name in POSTERIOR_COLUMNS:
            batch.drop_column(name)
