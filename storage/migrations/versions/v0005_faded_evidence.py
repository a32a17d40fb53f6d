"""Evidence that fades by its age: posteriors gain faded sums, outcomes the tick.

Each posterior row gains its fading ``horizon`` and the epoch-weighted sums of
:mod:`bandits._fading` (quality since the last reset, answers and errors). Existing rows
are backfilled with their evidence since the last reset, counted as fresh at the task's
current tick (its count of scored attempts): their true ages are not known, and fresh
is what the policy saw them as before. Outcomes gain ``tick`` (NULL for old rows: a
report on one counts it at the task's tick then).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

HORIZON = 3000.0  # bandits._fading.DEFAULT_HORIZON when this revision was written
EPOCH_HORIZONS = 16.0
FADED = ("faded_successes", "faded_failures", "faded_answers", "faded_errors")

posteriors = sa.table(
    "posteriors",
    sa.column("task", sa.String),
    sa.column("path", sa.String),
    sa.column("alpha", sa.Double),
    sa.column("beta", sa.Double),
    sa.column("n", sa.BigInteger),
    sa.column("base_alpha", sa.Double),
    sa.column("base_beta", sa.Double),
    sa.column("base_n", sa.BigInteger),
    sa.column("errors", sa.BigInteger),
    sa.column("base_errors", sa.BigInteger),
    sa.column("horizon", sa.Double),
    sa.column("fade_epoch", sa.BigInteger),
    *(sa.column(name, sa.Double) for name in FADED),
)


def _existing(table: str) -> set[str]:
    if context.is_offline_mode():
        return set()
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # A store made by metadata.create_all of this schema (then stamped at an older
    # revision) has the columns already: only the missing ones are added.
    columns: dict[str, sa.types.TypeEngine[Any]] = {
        "horizon": sa.Double(),
        "fade_epoch": sa.BigInteger(),
    }
    columns.update({name: sa.Double() for name in FADED})
    missing = [name for name in columns if name not in _existing("posteriors")]
    with op.batch_alter_table("posteriors") as batch:
        for name in missing:
            batch.add_column(sa.Column(name, columns[name], nullable=True))
    if "tick" not in _existing("outcomes"):
        with op.batch_alter_table("outcomes") as batch:
            batch.add_column(sa.Column("tick", sa.BigInteger(), nullable=True))
    if not missing:
        return
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            posteriors.c.task,
            posteriors.c.path,
            posteriors.c.alpha - posteriors.c.base_alpha,
            posteriors.c.beta - posteriors.c.base_beta,
            posteriors.c.n - posteriors.c.base_n,
            posteriors.c.errors - posteriors.c.base_errors,
            posteriors.c.n,
        )
    ).all()
    ticks: dict[str, int] = {}
    for task, *_, n in rows:
        ticks[task] = ticks.get(task, 0) + int(n)
    for task, path, successes, failures, count, errors, _ in rows:
        epoch = int(ticks[task] // (EPOCH_HORIZONS * HORIZON))
        w = math.exp(ticks[task] / HORIZON - EPOCH_HORIZONS * epoch)
        bind.execute(
            posteriors.update()
            .where(posteriors.c.task == task, posteriors.c.path == path)
            .values(
                horizon=HORIZON,
                fade_epoch=epoch,
                faded_successes=w * float(successes),
                faded_failures=w * max(0.0, float(failures) - float(errors)),
                faded_answers=w * max(0.0, float(count) - float(errors)),
                faded_errors=w * float(errors),
            )
        )
    with op.batch_alter_table("posteriors") as batch:
        for name in missing:
            batch.alter_column(name, existing_type=columns[name], nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("tick")
    with op.batch_alter_table("posteriors") as batch:
        for name in (*FADED, "fade_epoch", "horizon"):
            batch.drop_column(name)
