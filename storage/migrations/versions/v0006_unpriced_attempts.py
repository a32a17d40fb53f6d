"""Daily aggregates count answered attempts of unknown cost (``unpriced``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Days folded before this revision: their unknown costs were already summed as 0.
    op.add_column(
        "daily",
        sa.Column("unpriced", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("daily", "unpriced")
