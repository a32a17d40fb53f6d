"""Stores as older outcome-router versions left them, with rows those versions wrote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import command

from storage._migrate import alembic_config
from storage._schema import VERSION_TABLE

NAME = 200


# The columns the change-point commit added before migrations existed (no error counts).
RESET_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "base_alpha": sa.Double(),
    "base_beta": sa.Double(),
    "base_n": sa.BigInteger(),
    "resets": sa.Integer(),
}


def first_commit_metadata(
    *, posterior_extras: dict[str, sa.types.TypeEngine[Any]] | None = None
) -> sa.MetaData:
    """The tables ``metadata.create_all`` made before migrations existed.

    ``posterior_extras`` adds columns of later unversioned commits (for example the
    reset columns of the commit that introduced change-point resets).
    """
    metadata = sa.MetaData()
    sa.Table(
        "posteriors",
        metadata,
        sa.Column("task", sa.String(NAME), primary_key=True),
        sa.Column("path", sa.String(NAME), primary_key=True),
        sa.Column("alpha", sa.Double, nullable=False),
        sa.Column("beta", sa.Double, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("prior_alpha", sa.Double, nullable=False),
        sa.Column("prior_beta", sa.Double, nullable=False),
        *(sa.Column(name, t, nullable=False) for name, t in (posterior_extras or {}).items()),
        sa.Column("updated_at", sa.Double, nullable=True),
    )
    sa.Table(
        "outcomes",
        metadata,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("task", sa.String(NAME), nullable=False),
        sa.Column("path", sa.String(NAME), nullable=False),
        sa.Column("score", sa.Double, nullable=True),
        sa.Column("error_class", sa.String(100), nullable=True),
        sa.Column("latency_ms", sa.Double, nullable=False),
        sa.Column("propensity", sa.Double, nullable=True),
        sa.Column("customer", sa.String(NAME), nullable=True),
        sa.Column("tokens_in", sa.Integer, nullable=True),
        sa.Column("tokens_out", sa.Integer, nullable=True),
        sa.Column("cost", sa.Double, nullable=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("reported_at", sa.Double, nullable=True),
        sa.Column("metadata", sa.JSON, nullable=True),
        sa.UniqueConstraint("request_id", "attempt", name="uq_outcomes_request_attempt"),
        sa.Index("ix_outcomes_task_created_at", "task", "created_at"),
    )
    return metadata


def migrate(url: str, revision: str) -> None:
    """Run the shipped migrations up or down to ``revision`` on the database at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config(connection=conn)
            current = (
                conn.dialect.has_table(conn, VERSION_TABLE)
                and conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalar()
            )
            if current and current > revision:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class OldOutcome:
    """An outcome row as revision 1 stored it, and what revision 2 must make of it."""

    request_id: str
    path: str
    score: float | None
    error_class: str | None
    reported: bool
    errored: bool


# What revision 1's router wrote: failed calls scored 0 with their exception's class;
# unscorable outputs kept NULL with invalid_score / scoring_error; reports override.
OLD_OUTCOMES = [
    OldOutcome("ok", "a", 1.0, None, reported=False, errored=False),
    OldOutcome("timeout", "a", 0.0, "timeout", reported=False, errored=True),
    OldOutcome("raised", "a", 0.0, "RuntimeError", reported=False, errored=True),
    OldOutcome("unscorable", "a", None, "invalid_score", reported=False, errored=False),
    OldOutcome("scored-late", "a", 0.5, "scoring_error", reported=True, errored=False),
    OldOutcome("failed-then-praised", "a", 1.0, "timeout", reported=True, errored=True),
    OldOutcome("partial", "a", 0.25, None, reported=False, errored=False),
    OldOutcome("judged-bad", "a", 0.0, None, reported=False, errored=False),
    OldOutcome("b-ok", "b", 1.0, None, reported=False, errored=False),
    OldOutcome("b-raised", "b", 0.0, "ConnectionError", reported=False, errored=True),
]
PRIORS = {"a": (2.0, 3.0), "b": (1.0, 1.0), "idle": (1.0, 1.0)}


def insert_old_rows(url: str, task: str, *, extras: dict[str, float] | None = None) -> None:
    """Insert revision-1 rows of ``task``: posteriors equal to the sums of OLD_OUTCOMES."""
    outcomes = sa.table(
        "outcomes",
        *(
            sa.column(name)
            for name in (
                "request_id",
                "attempt",
                "task",
                "path",
                "score",
                "error_class",
                "latency_ms",
                "created_at",
                "reported_at",
            )
        ),
    )
    extra_names = tuple(extras or {})
    posteriors = sa.table(
        "posteriors",
        *(
            sa.column(name)
            for name in (
                "task",
                "path",
                "alpha",
                "beta",
                "n",
                "prior_alpha",
                "prior_beta",
                *extra_names,
            )
        ),
    )
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for number, old in enumerate(OLD_OUTCOMES):
                conn.execute(
                    outcomes.insert().values(
                        request_id=f"{task}:{old.request_id}",
                        attempt=1,
                        task=task,
                        path=old.path,
                        score=old.score,
                        error_class=old.error_class,
                        latency_ms=1.0,
                        created_at=1_767_225_600.0 + number,
                        reported_at=1_767_225_700.0 if old.reported else None,
                    )
                )
            for path, (prior_alpha, prior_beta) in PRIORS.items():
                scores = [o.score for o in OLD_OUTCOMES if o.path == path and o.score is not None]
                conn.execute(
                    posteriors.insert().values(
                        task=task,
                        path=path,
                        alpha=prior_alpha + sum(scores),
                        beta=prior_beta + len(scores) - sum(scores),
                        n=len(scores),
                        prior_alpha=prior_alpha,
                        prior_beta=prior_beta,
                        **(extras or {}),
                    )
                )
    finally:
        engine.dispose()
