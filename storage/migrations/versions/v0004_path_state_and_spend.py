"""Kill switch, circuit breakers and budgets: the ``path_state`` and ``spend`` tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

NAME_LENGTH = 200


def upgrade() -> None:
    op.create_table(
        "path_state",
        sa.Column("task", sa.String(NAME_LENGTH), primary_key=True),
        sa.Column("path", sa.String(NAME_LENGTH), primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.Double, nullable=True),
        sa.Column("trial_at", sa.Double, nullable=True),
        sa.Column("updated_at", sa.Double, nullable=True),
    )
    op.create_table(
        "spend",
        sa.Column("scope", sa.String(2 * NAME_LENGTH + 16), primary_key=True),
        sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tokens", sa.BigInteger, nullable=False),
        sa.Column("cost", sa.Double, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spend")
    op.drop_table("path_state")
