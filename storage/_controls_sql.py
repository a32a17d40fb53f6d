"""Path controls and spending in SQL: every change is one atomic statement.

Counters are additive (``failures = failures + 1``, ``cost = cost + :cost``) and the
half-open trial is claimed by a conditional ``UPDATE`` whose row count says who won, so
routers in many processes never lose an increment or both take the trial.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from storage._controls import PathState, Spend
from storage._schema import path_state, spend

_STATE_COLUMNS = (
    path_state.c.path,
    path_state.c.mode,
    path_state.c.failures,
    path_state.c.opened_at,
    path_state.c.trial_at,
    path_state.c.updated_at,
)


def path_states(conn: sa.Connection, task: str) -> dict[str, PathState]:
    """Every path of ``task`` with a row in ``path_state``."""
    rows = conn.execute(sa.select(*_STATE_COLUMNS).where(path_state.c.task == task))
    return {row[0]: PathState(*row) for row in rows}


def set_path_mode(conn: sa.Connection, task: str, path: str, mode: str, at: float) -> None:
    """Set a path's mode; forcing one path returns the task's other forced paths to auto."""
    if mode == "forced":
        conn.execute(
            sa.update(path_state)
            .where(path_state.c.task == task, path_state.c.mode == "forced")
            .values(mode="auto", updated_at=at)
        )
    _ensure(conn, task, path, at)
    conn.execute(_row(task, path).values(mode=mode, updated_at=at))


def count_failure(
    conn: sa.Connection, task: str, path: str, at: float, threshold: int
) -> PathState:
    """One more consecutive failure; opens the breaker when the count reaches ``threshold``."""
    _ensure(conn, task, path, at)
    failures = path_state.c.failures + 1
    conn.execute(
        _row(task, path).values(
            failures=failures,
            opened_at=sa.case((failures >= threshold, at), else_=path_state.c.opened_at),
            updated_at=at,
        )
    )
    row = conn.execute(
        sa.select(*_STATE_COLUMNS).where(path_state.c.task == task, path_state.c.path == path)
    ).one()
    return PathState(*row)


def count_success(conn: sa.Connection, task: str, path: str, at: float) -> None:
    """Close the breaker and clear the failure count (a no-op when already clear)."""
    conn.execute(
        _row(task, path)
        .where(sa.or_(path_state.c.failures > 0, path_state.c.opened_at.is_not(None)))
        .values(failures=0, opened_at=None, trial_at=None, updated_at=at)
    )


def claim_trial(conn: sa.Connection, task: str, path: str, at: float, recovery: float) -> bool:
    """Take the half-open trial if it is due; True for exactly one claimant."""
    trial = path_state.c.trial_at
    claimed = conn.execute(
        _row(task, path)
        .where(
            path_state.c.opened_at.is_not(None),
            path_state.c.opened_at <= at - recovery,
            sa.or_(trial.is_(None), trial < path_state.c.opened_at, trial <= at - recovery),
        )
        .values(trial_at=at, updated_at=at)
    )
    return claimed.rowcount == 1


def add_spend(conn: sa.Connection, scope: str, day: int, tokens: int, cost: float) -> Spend:
    """Add to a scope's spending of ``day`` in one upsert; returns the new totals."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(spend)
    statement = (
        insert.values(scope=scope, day=day, tokens=tokens, cost=cost)
        .on_conflict_do_update(
            index_elements=[spend.c.scope, spend.c.day],
            set_={"tokens": spend.c.tokens + tokens, "cost": spend.c.cost + cost},
        )
        .returning(spend.c.tokens, spend.c.cost)
    )
    found_tokens, found_cost = conn.execute(statement).one()
    return Spend(int(found_tokens), float(found_cost))


def reserve_spend(  # noqa: PLR0917 - mirrors Store.reserve_spend
    conn: sa.Connection,
    scope: str,
    day: int,
    tokens: int,
    cost: float,
    limits: tuple[float | None, int | None],
) -> Spend | None:
    """Add to a scope's spending in one conditional UPDATE, only while under ``limits``."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(spend)
    conn.execute(
        insert.values(scope=scope, day=day, tokens=0, cost=0.0).on_conflict_do_nothing(
            index_elements=[spend.c.scope, spend.c.day]
        )
    )
    cost_limit, token_limit = limits
    conditions = [spend.c.scope == scope, spend.c.day == day]
    if cost_limit is not None:
        conditions.append(spend.c.cost < cost_limit)
    if token_limit is not None:
        conditions.append(spend.c.tokens < token_limit)
    row = conn.execute(
        sa.update(spend)
        .where(*conditions)
        .values(tokens=spend.c.tokens + tokens, cost=spend.c.cost + cost)
        .returning(spend.c.tokens, spend.c.cost)
    ).one_or_none()
    return None if row is None else Spend(int(row[0]), float(row[1]))


def read_spend(conn: sa.Connection, scope: str, day: int) -> Spend:
    """A scope's spending of ``day`` (zero when nothing was spent)."""
    row = conn.execute(
        sa.select(spend.c.tokens, spend.c.cost).where(spend.c.scope == scope, spend.c.day == day)
    ).one_or_none()
    return Spend() if row is None else Spend(int(row[0]), float(row[1]))


def _row(task: str, path: str) -> sa.Update:
    return sa.update(path_state).where(path_state.c.task == task, path_state.c.path == path)


def _ensure(conn: sa.Connection, task: str, path: str, at: float) -> None:
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(path_state)
    conn.execute(
        insert.values(
            task=task, path=path, mode="auto", failures=0, updated_at=at
        ).on_conflict_do_nothing(index_elements=[path_state.c.task, path_state.c.path])
    )
