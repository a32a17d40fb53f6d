"""The store's per-request statements, built with Core and compiled once per dialect."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bandits._fading import SHRINK
from storage._compiled import CompiledStatement
from storage._schema import outcomes, posteriors

POSTERIOR_FIELDS = (
    "path",
    "alpha",
    "beta",
    "n",
    "prior_alpha",
    "prior_beta",
    "base_alpha",
    "base_beta",
    "base_n",
    "resets",
    "updated_at",
    "errors",
    "base_errors",
    "horizon",
    "fade_epoch",
    "faded_successes",
    "faded_failures",
    "faded_answers",
    "faded_errors",
)
FADED_SUMS = ("faded_successes", "faded_failures", "faded_answers", "faded_errors")
INSERTED_FIELDS = (
    "task",
    "path",
    "score",
    "errored",
    "created_at",
    "tick",
    "segment",
    "segment_tick",
)
OUTCOME_FIELDS = (
    "request_id",
    "attempt",
    "task",
    "path",
    "score",
    "error_class",
    "errored",
    "latency_ms",
    "propensity",
    "customer",
    "tokens_in",
    "tokens_out",
    "cost",
    "created_at",
    "tick",
    "segment",
    "segment_tick",
)


def _in_epoch(column: Any, amount: Any, epoch: Any) -> Any:
    """``column`` (kept in the row's epoch) plus ``amount`` (weighted in ``epoch``), in the
    later of the two epochs: bandits._fading.add_in_epoch as one SQL expression."""
    row_epoch = posteriors.c.fade_epoch
    return sa.case(
        (row_epoch == epoch, column + amount),
        (row_epoch == epoch - 1, column * SHRINK + amount),
        (row_epoch < epoch, amount),
        (row_epoch == epoch + 1, column + amount * SHRINK),
        else_=column,
    )


def _kept(weighted: Any, epoch: Any) -> Any:
    """A reset's kept window (weighted in ``epoch``) in the later of the two epochs."""
    row_epoch = posteriors.c.fade_epoch
    return sa.case(
        (row_epoch <= epoch, weighted), (row_epoch == epoch + 1, weighted * SHRINK), else_=0.0
    )


def _later_epoch(epoch: Any) -> Any:
    row_epoch = posteriors.c.fade_epoch
    return sa.case((row_epoch < epoch, epoch), else_=row_epoch)


class Statements:
    """The store's statements, built with Core and compiled once for the dialect."""

    def __init__(self, dialect: sa.Dialect, insert: Any) -> None:
        bind = sa.bindparam
        values: dict[str, Any] = {name: bind(name) for name in OUTCOME_FIELDS}
        # JSON travels as text; PostgreSQL needs the cast, SQLite would turn CAST AS JSON into 0.
        metadata_text = bind("metadata", type_=sa.Text)
        context_text = bind("context", type_=sa.Text)
        values["metadata"], values["context"] = (
            (metadata_text, context_text)
            if dialect.name == "sqlite"
            else (
                sa.cast(metadata_text, outcomes.c.metadata.type),
                sa.cast(context_text, outcomes.c.context.type),
            )
        )
        insert_outcome = (
            insert(outcomes)
            .values(values)
            .on_conflict_do_nothing(index_elements=["request_id", "attempt"])
        )
        self.insert_outcome = CompiledStatement.of(insert_outcome, dialect)
        # What record_many adds up: only the rows this statement inserted come back.
        self.insert_outcome_returning = CompiledStatement.of(
            insert_outcome.returning(*(outcomes.c[name] for name in INSERTED_FIELDS)), dialect
        )
        row = (posteriors.c.task == bind("task")) & (posteriors.c.path == bind("path"))
        epoch = bind("epoch", type_=sa.BigInteger)
        self.increment = CompiledStatement.of(
            posteriors.update()
            .where(row)
            .values(
                alpha=posteriors.c.alpha + bind("alpha_add", type_=sa.Double),
                beta=posteriors.c.beta + bind("beta_add", type_=sa.Double),
                n=posteriors.c.n + bind("n_add", type_=sa.BigInteger),
                errors=posteriors.c.errors + bind("errors_add", type_=sa.BigInteger),
                updated_at=bind("at", type_=sa.Double),
                **{
                    name: _in_epoch(posteriors.c[name], bind(f"{name}_add", type_=sa.Double), epoch)
                    for name in FADED_SUMS
                },
                fade_epoch=_later_epoch(epoch),
            ),
            dialect,
        )
        self.insert_path = CompiledStatement.of(
            insert(posteriors)
            .values(
                task=bind("task"),
                path=bind("path"),
                alpha=bind("prior_alpha"),
                beta=bind("prior_beta"),
                n=0,
                prior_alpha=bind("prior_alpha"),
                prior_beta=bind("prior_beta"),
                base_alpha=bind("prior_alpha"),
                base_beta=bind("prior_beta"),
                base_n=0,
                resets=0,
                errors=0,
                base_errors=0,
                updated_at=None,
                horizon=bind("horizon", type_=sa.Double),
                fade_epoch=0,
                **dict.fromkeys(FADED_SUMS, 0.0),
            )
            .on_conflict_do_nothing(),
            dialect,
        )
        self.read_horizons = CompiledStatement.of(
            sa.select(posteriors.c.path, posteriors.c.horizon).where(
                posteriors.c.task == bind("task")
            ),
            dialect,
        )
        self.task_tick = CompiledStatement.of(
            sa.select(sa.func.coalesce(sa.func.sum(posteriors.c.n), 0)).where(
                posteriors.c.task == bind("task")
            ),
            dialect,
        )
        self.read_posteriors = CompiledStatement.of(
            sa.select(*(posteriors.c[name] for name in POSTERIOR_FIELDS)).where(
                posteriors.c.task == bind("task")
            ),
            dialect,
        )
        self.reset = CompiledStatement.of(
            posteriors.update()
            .where(row, posteriors.c.resets == bind("seen_resets", type_=sa.Integer))
            .values(
                base_alpha=posteriors.c.alpha - bind("keep_successes", type_=sa.Double),
                base_beta=posteriors.c.beta - bind("keep_failures", type_=sa.Double),
                base_n=posteriors.c.n - bind("keep_count", type_=sa.BigInteger),
                base_errors=posteriors.c.errors,
                resets=posteriors.c.resets + 1,
                # The kept window counts as fresh evidence of the resetting tick's epoch.
                faded_successes=_kept(bind("kept_successes", type_=sa.Double), epoch),
                faded_failures=_kept(bind("kept_failures", type_=sa.Double), epoch),
                faded_answers=_in_epoch(posteriors.c.faded_answers, 0.0, epoch),
                faded_errors=_in_epoch(posteriors.c.faded_errors, 0.0, epoch),
                fade_epoch=_later_epoch(epoch),
            ),
            dialect,
        )
        reported = (
            outcomes.c.id,
            outcomes.c.path,
            outcomes.c.attempt,
            outcomes.c.score,
            outcomes.c.error_class,
            outcomes.c.tick,
            outcomes.c.segment,
            outcomes.c.segment_tick,
            outcomes.c.metadata,
        )
        request = (outcomes.c.request_id == bind("request_id"), outcomes.c.task == bind("task"))
        self.last_attempt = CompiledStatement.of(
            sa.select(*reported)
            .where(*request)
            .order_by(outcomes.c.attempt.desc())
            .limit(bind("one", type_=sa.Integer))
            .with_for_update(),
            dialect,
        )
        # The attempt a report scores when it is not the last (see SERVED_ATTEMPT).
        self.one_attempt = CompiledStatement.of(
            sa.select(*reported)
            .where(*request, outcomes.c.attempt == bind("attempt", type_=sa.Integer))
            .with_for_update(),
            dialect,
        )
        self.set_score = CompiledStatement.of(
            outcomes.update()
            .where(outcomes.c.id == bind("outcome_id"))
            .values(score=bind("score", type_=sa.Double), reported_at=bind("at", type_=sa.Double)),
            dialect,
        )
