"""SQLStore: the SQLAlchemy Core store for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from bandits import ConfigError
from bandits._fading import DEFAULT_HORIZON, check_horizon, weight
from storage import _controls_sql, _daily_sql, _reads_sql
from storage._checks import (
    check_outcome,
    check_outcomes,
    check_request_id,
    check_spend,
    metadata_text,
    shown,
)
from storage._controls import PathState, Spend, check_mode
from storage._errors import (
    CorruptStoreError,
    InvalidRecordError,
    StoreError,
    StoreUnavailableError,
    UnknownRequestError,
    check_served,
)
from storage._evidence import FadedAdd
from storage._migrate import ensure_schema
from storage._passwords import hide_password
from storage._postgres import postgres_engine
from storage._reads import OutcomeFilter, Row
from storage._records import DailyAggregate, Outcome, PathPosterior, Report, served_attempt_of
from storage._schema import outcomes as outcome_rows
from storage._segments import evidence_of, evidence_tasks
from storage._sqlite import READ_ONLY, check_sqlite_file, create_sqlite_engine, set_busy_timeout
from storage._statements import INSERTED_FIELDS, OUTCOME_FIELDS, Statements
from storage._waits import WAITS, store_waits
from storage._watchdog import WATCHDOG, CallTimer, timed_call

STORE_TIMEOUT = 30.0
"""Seconds a store call waits for the database (a lock, a connection, an answer) before
StoreUnavailableError, unless its caller bounds it more (see storage.store_waits)."""

_Key = tuple[str, str]


class SQLStore:
    """Posteriors and outcomes in SQLite or PostgreSQL, shared by every process that opens it.

    Each outcome is inserted and its score added to the posterior in one transaction,
    with an additive ``UPDATE ... SET alpha = alpha + :score`` (never read-modify-write),
    so concurrent writers lose nothing. Open it with :func:`storage.open_store`.

    Example:
        >>> store = SQLStore("sqlite:///:memory:")
        >>> store.ensure_paths("t", ["a"])
        >>> store.record(Outcome("r1", 1, "t", "a", score=0.5, created_at=0.0))
        True
        >>> store.posteriors("t")["a"].alpha
        1.5
    """

    def __init__(
        self,
        url: str | sa.URL,
        *,
        engine_options: Mapping[str, Any] | None = None,
        timeout: float = STORE_TIMEOUT,
    ) -> None:
        if isinstance(timeout, bool) or not (
            isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0
        ):
            raise ConfigError(f"timeout must be a number of seconds > 0, got {shown(timeout)}")
        self._timeout = float(timeout)
        try:
            parsed = sa.make_url(url)
        except (sa.exc.ArgumentError, ValueError) as exc:
            given = url if isinstance(url, str) else url.render_as_string()
            raise ConfigError(
                f"store URL {hide_password(given)!r} cannot be parsed ({hide_password(str(exc))}); "
                "use sqlite:///path.db or postgresql+psycopg://user@host:5432/db"
            ) from None
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self._url = parsed
        self._dialect = parsed.get_backend_name()
        if self._dialect == "sqlite":
            if engine_options:
                raise ConfigError(
                    "engine_options apply to PostgreSQL stores; a SQLite store sets its own "
                    f"(WAL, busy timeout), got {dict(engine_options)!r}"
                )
            self._read_only = parsed.query.get("mode") == "ro"
            if parsed.database not in (None, "", ":memory:"):
                check_sqlite_file(parsed.database, read_only=self._read_only)
            elif self._read_only:
                raise ConfigError(f"?mode=ro opens a file read-only; {self.url} has no file")
            self._engine = create_sqlite_engine(parsed, read_only=self._read_only)
        else:
            self._read_only = False
            self._engine = postgres_engine(parsed, engine_options or {})
        in_memory = self._dialect == "sqlite" and parsed.database in (None, "", ":memory:")
        # One shared SQLite connection must not run two transactions at once.
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if in_memory else contextlib.nullcontext()
        )
        self._insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        dbapi = self._engine.dialect.loaded_dbapi
        self._dbapi_errors = (dbapi.OperationalError, dbapi.DatabaseError)
        # Values the database refuses (a text too long, bad JSON, a constraint): that
        # row's fault, not an outage and not a corrupt store.
        self._refused_errors = (
            sa.exc.DataError,
            sa.exc.IntegrityError,
            dbapi.DataError,
            dbapi.IntegrityError,
        )
        # Programming errors are our bugs, not a corrupt store: let them through.
        self._bug_errors = (sa.exc.ProgrammingError, dbapi.ProgrammingError)
        self._sql = Statements(self._engine.dialect, self._insert)
        self._horizons: dict[_Key, float] = {}  # each row's fading horizon, as last read
        self._open()

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self._url.render_as_string(hide_password=True)

    @property
    def found_revision(self) -> str | None:
        """The schema revision the store had when opened (None: it was new).

        It differs from the current revision when opening migrated the store.
        """
        return self._found_revision

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for storage-layer extensions and tests)."""
        return self._engine

    def ensure_paths(
        self,
        task: str,
        paths: Sequence[str],
        prior: tuple[float, float] = (1.0, 1.0),
        horizon: float = DEFAULT_HORIZON,
    ) -> None:
        """Create a posterior at ``prior`` for each path the store does not know yet,
        fading with ``horizon`` (paths already known keep theirs)."""
        horizon = check_horizon(horizon)
        statement = self._sql.insert_path
        rows = [
            statement.params(
                {
                    "task": task,
                    "path": path,
                    "prior_alpha": prior[0],
                    "prior_beta": prior[1],
                    "horizon": horizon,
                }
            )
            for path in sorted(set(paths))  # one lock order: concurrent callers cannot deadlock
        ]
        if rows:
            with self._cursor(write=True) as cursor:
                cursor.executemany(statement.sql, rows)
                self._read_horizons(cursor, task)

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """Current posterior of every known path of ``task``."""
        statement = self._sql.read_posteriors
        with self._cursor(write=False) as cursor:
            cursor.execute(statement.sql, statement.params({"task": task}))
            rows = {row[0]: PathPosterior(*row) for row in cursor.fetchall()}
        self._horizons.update({(task, path): row.horizon for path, row in rows.items()})
        return rows

    def record(self, outcome: Outcome) -> bool:
        """Insert the outcome and add its score to the posterior in one transaction."""
        outcome = check_outcome(outcome)
        insert = self._sql.insert_outcome
        with self._cursor(write=True) as cursor:
            cursor.execute(insert.sql, insert.params(_values(outcome)))
            if cursor.rowcount == 0:
                return False
            if outcome.score is not None:
                for task, planned in evidence_tasks(outcome):  # its task, and its segment's
                    key = (task, outcome.path)
                    tick = self._tick(cursor, task) if planned is None else planned
                    self._add(
                        cursor,
                        key,
                        score=outcome.score,
                        count=1,
                        at=outcome.created_at,
                        errors=int(outcome.errored),
                        faded=FadedAdd.of(
                            outcome.score,
                            errored=outcome.errored,
                            tick=tick,
                            horizon=self._horizon(cursor, key),
                        ),
                    )
        return True

    def record_many(self, outcomes: Iterable[Outcome]) -> int:
        """Record a batch in one transaction; return how many were new.

        Outcomes already stored (or repeated within the batch) are skipped, and only the
        rows actually inserted are added to the posteriors, one additive update per
        (task, path). The batch is written in (request_id, attempt) order and the
        posteriors in (task, path) order, so concurrent batches cannot deadlock.
        """
        batch = sorted(check_outcomes(list(outcomes)), key=lambda o: (o.request_id, o.attempt))
        if not batch:
            return 0
        with self._cursor(write=True) as cursor:
            inserted = self._insert_many(cursor, batch)
            deltas = _deltas(inserted, lambda key: self._horizon(cursor, key), self._ticks(cursor))
            for key, (score, count, errors, at, faded) in sorted(deltas.items()):
                self._add(cursor, key, score=score, count=count, at=at, errors=errors, faded=faded)
        return len(inserted)

    def reset(
        self,
        task: str,
        path: str,
        *,
        keep_successes: float,
        keep_count: int,
        seen_resets: int,
        tick: int | None = None,
    ) -> bool:
        """Restart the path's recent evidence at the last ``keep_count`` scores."""
        statement = self._sql.reset
        with self._cursor(write=True) as cursor:
            now = self._tick(cursor, task) if tick is None else tick
            epoch, w = weight(now, self._horizon(cursor, (task, path), create=False))
            values = {
                "task": task,
                "path": path,
                "seen_resets": seen_resets,
                "keep_count": keep_count,
                "keep_successes": keep_successes,
                "keep_failures": keep_count - keep_successes,
                "epoch": epoch,
                "kept_successes": w * keep_successes,
                "kept_failures": w * (keep_count - keep_successes),
            }
            cursor.execute(statement.sql, statement.params(values))
            return bool(cursor.rowcount == 1)

    def report(self, task: str, request_id: str, score: float, at: float) -> Report:
        """Set the score of the request's last attempt; the posterior moves by the difference."""
        check_request_id(task, request_id)
        sql = self._sql
        with self._cursor(write=True) as cursor:
            cursor.execute(
                sql.last_attempt.sql,
                sql.last_attempt.params({"request_id": request_id, "task": task, "one": 1}),
            )
            row = cursor.fetchone()
            served = None if row is None else served_attempt_of(_metadata(row[-1]))
            if served is not None:  # an earlier attempt's output was served: score that one
                cursor.execute(
                    sql.one_attempt.sql,
                    sql.one_attempt.params(
                        {"request_id": request_id, "task": task, "attempt": served}
                    ),
                )
                row = cursor.fetchone()
            if row is None:
                raise UnknownRequestError(
                    f"no outcome of task {task!r} has request id {request_id!r}; report ids "
                    "returned by Router.route() (RunResult.request_id) on the same store"
                )
            outcome_id, path, attempt, previous, error_class, tick, segment, segment_tick, _ = row
            check_served(task, request_id, path, error_class)
            if previous != score:
                cursor.execute(
                    sql.set_score.sql,
                    sql.set_score.params({"outcome_id": outcome_id, "score": score, "at": at}),
                )
                for evidence_task, planned in evidence_of(task, tick, segment, segment_tick):
                    key = (evidence_task, path)
                    now = self._tick(cursor, evidence_task) if planned is None else planned
                    horizon = self._horizon(cursor, key)
                    if previous is None:
                        added, count = score, 1
                        faded = FadedAdd.of(score, errored=False, tick=now, horizon=horizon)
                    else:
                        added, count = score - previous, 0
                        faded = FadedAdd.rescored(added, tick=now, horizon=horizon)
                    self._add(cursor, key, score=added, count=count, at=at, faded=faded)
        return Report(request_id, task, path, attempt, previous, score)

    def outcomes(self, task: str) -> list[Outcome]:
        """Every stored outcome of ``task``, oldest first."""
        columns = [outcome_rows.c[name] for name in OUTCOME_FIELDS]
        query = (
            sa.select(*columns, outcome_rows.c.context, outcome_rows.c.metadata)
            .where(outcome_rows.c.task == task)
            .order_by(outcome_rows.c.id)
        )
        with self._read() as conn:
            return [
                Outcome(
                    **dict(zip(OUTCOME_FIELDS, row[:-2], strict=True)),
                    context=row[-2],
                    metadata=row[-1] or {},
                )
                for row in conn.execute(query)
            ]

    def prune(self, older_than: float) -> int:
        """Delete outcomes created before ``older_than``, keeping their daily sums.

        Posteriors are untouched (they are running sums), and :meth:`daily_aggregates`
        returns the same rows before and after. A pruned outcome can no longer be
        reported, and replaying it would record it again: keep outcomes for longer
        than any report or replay can arrive. Returns the number of outcomes deleted.
        """
        with self._write() as conn:
            return _daily_sql.prune(conn, older_than)

    def daily_aggregates(self, task: str) -> list[DailyAggregate]:
        """Per-path, per-UTC-day sums of every outcome of ``task``, pruned or not.

        Sorted by day, then path. See :class:`storage.DailyAggregate`.
        """
        with self._read() as conn:
            return _daily_sql.read_daily(conn, task)

    def tasks(self) -> list[str]:
        """Every task with outcomes, posteriors or daily sums in the store, sorted."""
        return _reads_sql.task_names(self._engine)

    def outcome_chunks(self, keep: OutcomeFilter, chunksize: int) -> Iterator[list[Row]]:
        """The kept outcomes of every task (or ``keep.task``), oldest first, streamed in
        chunks of ``chunksize`` rows (a server-side cursor on PostgreSQL)."""
        return _reads_sql.outcome_chunks(self._engine, keep, chunksize)

    def path_states(self, task: str) -> dict[str, PathState]:
        """Mode and breaker state of every path of ``task`` that has one."""
        with self._read() as conn:
            return _controls_sql.path_states(conn, task)

    def set_path_mode(self, task: str, path: str, mode: str, at: float) -> None:
        """Set a path's operator mode (``auto``, ``disabled`` or ``forced``)."""
        check_mode(mode)
        with self._write() as conn:
            _controls_sql.set_path_mode(conn, task, path, mode, at)

    def count_failure(self, task: str, path: str, at: float, threshold: int) -> PathState:
        """One more consecutive failure of the path; the breaker opens at ``threshold``."""
        with self._write() as conn:
            return _controls_sql.count_failure(conn, task, path, at, threshold)

    def count_success(self, task: str, path: str, at: float) -> None:
        """The path answered: close its breaker and clear its failure count."""
        with self._write() as conn:
            _controls_sql.count_success(conn, task, path, at)

    def claim_trial(self, task: str, path: str, at: float, recovery: float) -> bool:
        """Claim the half-open trial of an open breaker; True for one router only."""
        with self._write() as conn:
            return _controls_sql.claim_trial(conn, task, path, at, recovery)

    def add_spend(self, scope: str, day: int, tokens: int, cost: float) -> Spend:
        """Add to a scope's spending of ``day`` atomically; returns the new totals."""
        check_spend(scope, tokens, cost)
        with self._write() as conn:
            return _controls_sql.add_spend(conn, scope, day, tokens, cost)

    def reserve_spend(
        self,
        scope: str,
        day: int,
        tokens: int,
        cost: float,
        limits: tuple[float | None, int | None],
    ) -> Spend | None:
        """Add to a scope's spending only while under ``limits``; None when refused."""
        check_spend(scope, tokens, cost)
        with self._write() as conn:
            return _controls_sql.reserve_spend(conn, scope, day, tokens, cost, limits)

    def spend(self, scope: str, day: int) -> Spend:
        """A scope's spending of ``day``."""
        with self._read() as conn:
            return _controls_sql.read_spend(conn, scope, day)

    def close(self) -> None:
        """Dispose of the connection pool."""
        self._engine.dispose()

    def _add(
        self,
        cursor: Any,
        key: _Key,
        *,
        score: float,
        count: int,
        at: float,
        faded: FadedAdd,
        errors: int = 0,
    ) -> None:
        """Atomic additive update of one posterior row (it exists: see :meth:`_horizon`)."""
        sql = self._sql
        values = {
            "task": key[0],
            "path": key[1],
            "alpha_add": score,
            "beta_add": count - score,
            "n_add": count,
            "errors_add": errors,
            "at": at,
            "epoch": faded.epoch,
            "faded_successes_add": faded.successes,
            "faded_failures_add": faded.failures,
            "faded_answers_add": faded.answers,
            "faded_errors_add": faded.errors,
        }
        cursor.execute(sql.increment.sql, sql.increment.params(values))
        if cursor.rowcount == 0:  # deleted since its horizon was read: create it again
            self._horizons.pop(key, None)
            self._horizon(cursor, key)
            cursor.execute(sql.increment.sql, sql.increment.params(values))

    def _horizon(self, cursor: Any, key: _Key, *, create: bool = True) -> float:
        """The row's fading horizon; a row not in the store is created at the default
        prior (or, with ``create=False``, the default horizon is returned)."""
        horizon = self._horizons.get(key)
        if horizon is None:
            self._read_horizons(cursor, key[0])
            horizon = self._horizons.get(key)
        if horizon is None and not create:
            return DEFAULT_HORIZON
        if horizon is None:
            sql = self._sql
            new = {
                "task": key[0],
                "path": key[1],
                "prior_alpha": 1.0,
                "prior_beta": 1.0,
                "horizon": DEFAULT_HORIZON,
            }
            cursor.execute(sql.insert_path.sql, sql.insert_path.params(new))
            self._read_horizons(cursor, key[0])
            horizon = self._horizons.get(key, DEFAULT_HORIZON)
        return horizon

    def _read_horizons(self, cursor: Any, task: str) -> None:
        statement = self._sql.read_horizons
        cursor.execute(statement.sql, statement.params({"task": task}))
        self._horizons.update({(task, path): float(h) for path, h in cursor.fetchall()})

    def _tick(self, cursor: Any, task: str) -> int:
        """The task's count of scored attempts (the tick of an outcome that has none)."""
        statement = self._sql.task_tick
        cursor.execute(statement.sql, statement.params({"task": task}))
        return int(cursor.fetchone()[0])

    def _ticks(self, cursor: Any) -> Callable[[str], int]:
        """Each task's tick, read once per batch and only if an outcome lacks one."""
        seen: dict[str, int] = {}

        def tick(task: str) -> int:
            if task not in seen:
                seen[task] = self._tick(cursor, task)
            return seen[task]

        return tick

    def _insert_many(self, cursor: Any, batch: list[Outcome]) -> list[tuple[Any, ...]]:
        """Insert what is new; return (task, path, score, errored, created_at) of those rows."""
        if self._dialect == "postgresql":
            # psycopg pipelines executemany; a skipped duplicate returns an empty result.
            statement = self._sql.insert_outcome_returning
            params = [statement.params(_values(outcome)) for outcome in batch]
            cursor.executemany(statement.sql, params, returning=True)
            inserted = []
            while True:
                inserted.extend(cursor.fetchall())
                if not cursor.nextset():
                    return inserted
        # SQLite runs in process: a statement per row costs microseconds, and rowcount
        # says whether it inserted (sqlite3's executemany drops RETURNING rows).
        insert = self._sql.insert_outcome
        rows = []
        for outcome in batch:
            cursor.execute(insert.sql, insert.params(_values(outcome)))
            if cursor.rowcount == 1:
                rows.append(tuple(getattr(outcome, name) for name in INSERTED_FIELDS))
        return rows

    @contextlib.contextmanager
    def _cursor(self, *, write: bool) -> Iterator[Any]:
        """A DBAPI cursor from the pool, in a transaction committed on success."""
        if write:
            self._refuse_read_only()
        with self._call() as timer:
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                if self._dialect == "sqlite":
                    set_busy_timeout(cursor, connection.info, timer.remaining())
                    if write:
                        cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                if WATCHDOG.disarm(timer):  # cut by the watchdog: do not pool it again
                    connection.invalidate()
                connection.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._call() as timer, self._connection(timer, read_only=True) as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        self._refuse_read_only()
        with self._call() as timer, self._connection(timer) as conn, conn.begin():
            yield conn  # SQLite: BEGIN IMMEDIATE

    @contextlib.contextmanager
    def _connection(self, timer: CallTimer, *, read_only: bool = False) -> Iterator[sa.Connection]:
        conn = self._engine.connect()
        if read_only:  # SQLite: a deferred BEGIN (see storage._sqlite)
            conn.execution_options(**{READ_ONLY: True})
        try:
            yield conn
        finally:
            if WATCHDOG.disarm(timer):  # cut by the watchdog: do not pool it again
                conn.invalidate()
            conn.close()

    @contextlib.contextmanager
    def _call(self) -> Iterator[CallTimer]:
        """One store call, bounded by the store's timeout and the caller's (see
        ``storage.store_waits``), its time counted for the caller, its errors ours."""
        waits = WAITS.get()
        started = 0.0 if waits is None else waits.clock()
        limit = self._timeout if waits is None else min(self._timeout, waits.limit())
        try:
            with self._lock, timed_call(limit) as timer, self._errors(timer):
                yield timer
        finally:
            if waits is not None:
                waits.spent += waits.clock() - started

    @contextlib.contextmanager
    def _errors(self, timer: CallTimer | None = None) -> Iterator[None]:
        try:
            yield
        except UnicodeEncodeError as exc:  # sqlite3 and psycopg encode every text as UTF-8
            raise InvalidRecordError(
                f"store {self.url} cannot hold a text with a lone surrogate ({exc.reason} at "
                f"position {exc.start}); pass valid Unicode text"
            ) from exc
        except (sa.exc.OperationalError, self._dbapi_errors[0]) as exc:
            waited = timer is not None and (
                timer.fired or timer.remaining() <= 0 or "locked" in _first_line(exc)
            )  # the watchdog cut it, or SQLite's busy timeout (the same bound) ran out
            if timer is not None and waited:
                raise StoreUnavailableError(
                    f"store {self.url} did not answer within {timer.limit:.3g} s "
                    f"({_first_line(exc)}); it is frozen, overloaded or locked"
                ) from exc
            raise StoreUnavailableError(
                f"store {self.url} is unreachable or busy ({_first_line(exc)}); check that the "
                "database is running and the URL is right"
            ) from exc
        except (sa.exc.DatabaseError, self._dbapi_errors[1]) as exc:
            if isinstance(exc, self._refused_errors):  # this row's values, not the store
                raise InvalidRecordError(
                    f"store {self.url} refused a value ({_first_line(exc)}); nothing was "
                    "written, and the store is still usable"
                ) from exc
            if isinstance(exc, self._bug_errors):
                raise
            raise CorruptStoreError(
                f"store {self.url} is not a usable outcome-router database "
                f"({_first_line(exc)}); restore it from a backup or move it away"
            ) from exc

    def _refuse_read_only(self) -> None:
        if self._read_only:
            raise ConfigError(
                f"store {self.url} is opened read-only (?mode=ro), so nothing can be written "
                "to it; open it without ?mode=ro to record outcomes"
            )

    def _open(self) -> None:
        try:
            with store_waits(None), self._call():  # the store's own timeout only
                self._found_revision = ensure_schema(
                    self._engine, self.url, read_only=self._read_only
                )
        except StoreError:
            self._engine.dispose()
            raise


def _values(outcome: Outcome) -> dict[str, Any]:
    values = {name: getattr(outcome, name) for name in OUTCOME_FIELDS}
    values["metadata"] = metadata_text(outcome.metadata) if outcome.metadata else None
    values["context"] = None if outcome.context is None else metadata_text(outcome.context)
    return values


def _metadata(value: Any) -> dict[str, Any] | None:
    """A metadata column as read by the raw cursor: a dict (psycopg), or JSON text (sqlite3)."""
    if value is None or isinstance(value, dict):
        return value
    import json

    loaded = json.loads(value)
    return loaded if isinstance(loaded, dict) else None


_Delta = tuple[float, int, int, float, FadedAdd]


def _deltas(
    inserted: Iterable[tuple[Any, ...]],
    horizon: Callable[[_Key], float],
    task_tick: Callable[[str], int],
) -> dict[_Key, _Delta]:
    """Per-(task, path) (score sum, scored count, errors, latest time, faded sums) of
    inserted rows."""
    deltas: dict[_Key, _Delta] = {}
    for task, path, score, errored, created_at, tick, segment, segment_tick in inserted:
        if score is None:
            continue  # kept for the record; the posterior is untouched
        for evidence_task, planned in evidence_of(task, tick, segment, segment_tick):
            key = (evidence_task, path)
            faded = FadedAdd.of(
                score,
                errored=bool(errored),
                tick=task_tick(evidence_task) if planned is None else planned,
                horizon=horizon(key),
            )
            previous = deltas.get(key)
            if previous is None:
                deltas[key] = (score, 1, int(errored), created_at, faded)
            else:
                total, count, errors, at, summed = previous
                deltas[key] = (
                    total + score,
                    count + 1,
                    errors + int(errored),
                    max(at, created_at),
                    summed.plus(faded),
                )
    return deltas


def _first_line(exc: BaseException) -> str:
    message = hide_password(str(getattr(exc, "orig", None) or exc))
    return message.strip().splitlines()[0] if message.strip() else type(exc).__name__
