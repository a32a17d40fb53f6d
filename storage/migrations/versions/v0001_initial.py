"""The schema as it first shipped: posteriors and outcomes.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

NAME_LENGTH = 200


def upgrade() -> None:
    op.create_table(
        "posteriors",
        sa.Column("task", sa.String(NAME_LENGTH), primary_key=True),
        sa.Column("path", sa.String(NAME_LENGTH), primary_key=True),
        sa.Column("alpha", sa.Double, nullable=False),
        sa.Column("beta", sa.Double, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("prior_alpha", sa.Double, nullable=False),
        sa.Column("prior_beta", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=True),
    )
    op.create_table(
        "outcomes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("task", sa.String(NAME_LENGTH), nullable=False),
        sa.Column("path", sa.String(NAME_LENGTH), nullable=False),
        sa.Column("score", sa.Double, nullable=True),
        sa.Column("error_class", sa.String(100), nullable=True),
        sa.Column("latency_ms", sa.Double, nullable=False),
        sa.Column("propensity", sa.Double, nullable=True),
        sa.Column("customer", sa.String(NAME_LENGTH), nullable=True),
        sa.Column("tokens_in", sa.Integer, nullable=True),
        sa.Column("tokens_out", sa.Integer, nullable=True),
        sa.Column("cost", sa.Double, nullable=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("reported_at", sa.Double, nullable=True),
        sa.Column("metadata", sa.JSON, nullable=True),
        sa.UniqueConstraint("request_id", "attempt", name="uq_outcomes_request_attempt"),
    )
    op.create_index("ix_outcomes_task_created_at", "outcomes", ["task", "created_at"])


def downgrade() -> None:
    op.drop_table("outcomes")
    op.drop_table("posteriors")
