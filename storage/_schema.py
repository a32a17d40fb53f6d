"""The SQL tables at the newest schema revision (storage/migrations creates and upgrades them).

One row per (task, path) posterior, one row per attempt outcome, and one row per
(task, path, UTC day) of outcomes folded away by ``prune``. A change here needs a new
revision in ``storage/migrations/versions`` (tests/storage/test_migrations.py checks
that the migrated schema equals these tables).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

NAME_LENGTH = 200  # task and path names; the router rejects longer ones

# Not "alembic_version": an application sharing the database may run Alembic for itself.
VERSION_TABLE = "outcome_router_version"
LEGACY_TABLES = frozenset({"posteriors", "outcomes"})
"""Tables of an unversioned store (one made before migrations existed)."""

posteriors = sa.Table(
    "posteriors",
    metadata,
    sa.Column("task", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("path", sa.String(NAME_LENGTH), primary_key=True),
    # alpha and beta include the prior; alpha - prior_alpha is the sum of scores.
    sa.Column("alpha", sa.Double, nullable=False),
    sa.Column("beta", sa.Double, nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("prior_alpha", sa.Double, nullable=False),
    sa.Column("prior_beta", sa.Double, nullable=False),
    # A change-point reset moves the base instead of rewriting the sums, so it is one
    # atomic UPDATE that never loses a concurrent increment: the evidence a policy
    # uses after a reset is alpha - base_alpha (and likewise for beta and n).
    sa.Column("base_alpha", sa.Double, nullable=False),
    sa.Column("base_beta", sa.Double, nullable=False),
    sa.Column("base_n", sa.BigInteger, nullable=False),
    sa.Column("resets", sa.Integer, nullable=False),
    # Attempts that raised or timed out (no output; they score 0 like any failure).
    sa.Column("errors", sa.BigInteger, nullable=False),
    sa.Column("base_errors", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=True),
    # The same evidence weighted by its age (bandits._fading): added with weight
    # exp(tick / horizon) from the start of epoch fade_epoch, so writers only add.
    # Quality (outputs judged) since the last reset; availability (calls answered or
    # raised) over the whole history.
    sa.Column("horizon", sa.Double, nullable=False),
    sa.Column("fade_epoch", sa.BigInteger, nullable=False),
    sa.Column("faded_successes", sa.Double, nullable=False),
    sa.Column("faded_failures", sa.Double, nullable=False),
    sa.Column("faded_answers", sa.Double, nullable=False),
    sa.Column("faded_errors", sa.Double, nullable=False),
)

outcomes = sa.Table(
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
    sa.Column("task", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("path", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("score", sa.Double, nullable=True),  # NULL: not scored (invalid)
    sa.Column("error_class", sa.String(100), nullable=True),
    sa.Column("errored", sa.Boolean, nullable=False),
    sa.Column("latency_ms", sa.Double, nullable=False),
    sa.Column("propensity", sa.Double, nullable=True),
    sa.Column("customer", sa.String(NAME_LENGTH), nullable=True),
    sa.Column("tokens_in", sa.Integer, nullable=True),
    sa.Column("tokens_out", sa.Integer, nullable=True),
    sa.Column("cost", sa.Double, nullable=True),
    sa.Column("created_at", sa.Double, nullable=False),  # seconds since the epoch, UTC
    sa.Column("reported_at", sa.Double, nullable=True),
    sa.Column("metadata", sa.JSON, nullable=True),
    # The task's count of scored attempts when the request was planned (its evidence's age).
    sa.Column("tick", sa.BigInteger, nullable=True),
    # The request's context as given (user features, for analysis), and its segment,
    # whose evidence the score also adds to at segment_tick (storage._segments).
    sa.Column("segment", sa.String(NAME_LENGTH), nullable=True),
    sa.Column("segment_tick", sa.BigInteger, nullable=True),
    sa.Column("context", sa.JSON, nullable=True),
    sa.UniqueConstraint("request_id", "attempt", name="uq_outcomes_request_attempt"),
    sa.Index("ix_outcomes_task_created_at", "task", "created_at"),
)

# Outcomes that prune() deleted, summed per UTC day, so daily aggregates outlive them.
daily = sa.Table(
    "daily",
    metadata,
    sa.Column("task", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("path", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),  # days since 1970-01-01
    sa.Column("attempts", sa.BigInteger, nullable=False),
    sa.Column("scored", sa.BigInteger, nullable=False),
    sa.Column("successes", sa.Double, nullable=False),  # sum of scores
    sa.Column("errors", sa.BigInteger, nullable=False),
    sa.Column("cost", sa.Double, nullable=False),
    sa.Column("tokens_in", sa.BigInteger, nullable=False),
    sa.Column("tokens_out", sa.BigInteger, nullable=False),
    # Answered attempts whose cost is unknown (their cost is not in ``cost``).
    sa.Column("unpriced", sa.BigInteger, nullable=False, server_default="0"),
)

# Operator modes (kill switch) and circuit-breaker counters, per (task, path).
path_state = sa.Table(
    "path_state",
    metadata,
    sa.Column("task", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("path", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("mode", sa.String(16), nullable=False),  # auto | disabled | forced
    sa.Column("failures", sa.Integer, nullable=False),  # consecutive failed calls
    sa.Column("opened_at", sa.Double, nullable=True),  # breaker open since (NULL: closed)
    sa.Column("trial_at", sa.Double, nullable=True),  # half-open trial claimed at
    sa.Column("updated_at", sa.Double, nullable=True),
)

# Tokens and dollars per scope ("task:<t>", "customer:<t>:<c>") per UTC day (budgets).
spend = sa.Table(
    "spend",
    metadata,
    sa.Column("scope", sa.String(2 * NAME_LENGTH + 16), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tokens", sa.BigInteger, nullable=False),
    sa.Column("cost", sa.Double, nullable=False),
)
