"""Outcomes keep their request's context and segment (context-aware routing).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "segment": sa.String(200),
    "segment_tick": sa.BigInteger(),
    "context": sa.JSON(),
}


def _existing(table: str) -> set[str]:
    if context.is_offline_mode():
        return set()
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # Outcomes recorded before this revision had no context: NULL in all three. A store
    # made by metadata.create_all of this schema (then stamped at an older revision)
    # has the columns already: only the missing ones are added.
    existing = _existing("outcomes")
    for name, type_ in COLUMNS.items():
        if name not in existing:
            op.add_column("outcomes", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("context")
        batch.drop_column("segment_tick")
        batch.drop_column("segment")
