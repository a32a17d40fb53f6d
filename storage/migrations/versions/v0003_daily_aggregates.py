"""Retention: a table of per-day sums that outlive the outcomes ``prune`` deletes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

NAME_LENGTH = 200


def upgrade() -> None:
    op.create_table(
        "daily",
        sa.Column("task", sa.String(NAME_LENGTH), primary_key=True),
        sa.Column("path", sa.String(NAME_LENGTH), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("attempts", sa.BigInteger, nullable=False),
        sa.Column("scored", sa.BigInteger, nullable=False),
        sa.Column("successes", sa.Double, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("cost", sa.Double, nullable=False),
        sa.Column("tokens_in", sa.BigInteger, nullable=False),
        sa.Column("tokens_out", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daily")
