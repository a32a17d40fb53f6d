"""``memory://``: a pure in-process store (no SQL), the fastest; for tests and simulations."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from bandits import ConfigError
from bandits._fading import DEFAULT_HORIZON, add_in_epoch, check_horizon, weight
from storage._checks import (
    check_outcome,
    check_outcomes,
    check_request_id,
    check_text,
    known_good,
)
from storage._controls import MemoryControls
from storage._daily import DailyTotals, day_of, fold
from storage._errors import UnknownRequestError, check_served
from storage._evidence import FadedAdd
from storage._reads import OutcomeFilter, Row, chunks_of
from storage._records import DailyAggregate, Outcome, PathPosterior, Report, served_attempt
from storage._segments import evidence_tasks, segment_task


class _Row:
    """A mutable posterior row; only touched under the store's lock."""

    __slots__ = (
        "alpha",
        "base_alpha",
        "base_beta",
        "base_errors",
        "base_n",
        "beta",
        "errors",
        "fade_epoch",
        "faded_answers",
        "faded_errors",
        "faded_failures",
        "faded_successes",
        "horizon",
        "n",
        "prior_alpha",
        "prior_beta",
        "resets",
        "snapshot_cache",
        "updated_at",
    )

    def __init__(self, prior: tuple[float, float], horizon: float = DEFAULT_HORIZON) -> None:
        self.alpha, self.beta = prior
        self.prior_alpha, self.prior_beta = prior
        self.base_alpha, self.base_beta = prior
        self.n = self.base_n = self.resets = self.errors = self.base_errors = 0
        self.horizon = horizon
        self.fade_epoch = 0
        self.faded_successes = self.faded_failures = 0.0
        self.faded_answers = self.faded_errors = 0.0
        self.updated_at: float | None = None
        self.snapshot_cache: PathPosterior | None = None  # rebuilt only after a change

    def snapshot(self, path: str) -> PathPosterior:
        if self.snapshot_cache is not None:
            return self.snapshot_cache
        self.snapshot_cache = PathPosterior(
            path,
            self.alpha,
            self.beta,
            self.n,
            self.prior_alpha,
            self.prior_beta,
            self.base_alpha,
            self.base_beta,
            self.base_n,
            self.resets,
            self.updated_at,
            self.errors,
            self.base_errors,
            self.horizon,
            self.fade_epoch,
            self.faded_successes,
            self.faded_failures,
            self.faded_answers,
            self.faded_errors,
        )
        return self.snapshot_cache

    def add(self, score: float, count: int, at: float, errors: int = 0) -> None:
        self.alpha += score
        self.beta += float(count) - score
        self.n += count
        self.errors += errors
        self.updated_at = at
        self.snapshot_cache = None

    def fade_outcome(self, score: float, errored: bool, tick: int) -> None:
        """Add one attempt to the faded sums (FadedAdd.of, without building one when the
        epoch is the row's: this runs on every record)."""
        epoch, w = weight(tick, self.horizon)
        if epoch != self.fade_epoch:
            self.fade(FadedAdd.of(score, errored=errored, tick=tick, horizon=self.horizon))
            return
        if errored:
            self.faded_errors += w
        else:
            self.faded_successes += w * score
            self.faded_failures += w * (1.0 - score)
            self.faded_answers += w
        self.snapshot_cache = None

    def fade(self, add: FadedAdd) -> None:
        """Add weighted evidence to the faded sums, in the later of the two epochs."""
        mine, theirs = self.fade_epoch, add.epoch
        self.faded_successes = add_in_epoch(self.faded_successes, mine, add.successes, theirs)
        self.faded_failures = add_in_epoch(self.faded_failures, mine, add.failures, theirs)
        self.faded_answers = add_in_epoch(self.faded_answers, mine, add.answers, theirs)
        self.faded_errors = add_in_epoch(self.faded_errors, mine, add.errors, theirs)
        self.fade_epoch = max(mine, theirs)
        self.snapshot_cache = None


class MemoryStore(MemoryControls):
    """Posteriors and outcomes in this process's memory; lost when it exits.

    Outcomes are kept up to ``max_outcomes`` (oldest dropped first, posteriors keep
    their counts, daily aggregates their sums), so a long-running process does not
    grow without bound.

    Example:
        >>> store = MemoryStore()
        >>> store.ensure_paths("t", ["a"])
        >>> store.record(Outcome("r1", 1, "t", "a", score=1.0, created_at=0.0))
        True
        >>> store.posteriors("t")["a"].alpha
        2.0
    """

    def __init__(self, *, max_outcomes: int = 100_000) -> None:
        super().__init__()  # path states and spending (kill switch, breakers, budgets)
        if max_outcomes < 1:
            raise ConfigError(f"max_outcomes must be >= 1, got {max_outcomes}")
        self._max_outcomes = max_outcomes
        self._lock = threading.Lock()
        self._tasks: dict[str, dict[str, _Row]] = {}
        self._outcomes: OrderedDict[tuple[str, int], Outcome] = OrderedDict()
        self._last_attempt: dict[str, int] = {}
        self._folded: dict[tuple[str, str, int], DailyTotals] = {}

    @property
    def url(self) -> str:
        """Always ``memory://``."""
        return "memory://"

    def ensure_paths(
        self,
        task: str,
        paths: Sequence[str],
        prior: tuple[float, float] = (1.0, 1.0),
        horizon: float = DEFAULT_HORIZON,
    ) -> None:
        """Create a posterior at ``prior`` fading with ``horizon`` for each path not seen
        before (paths already known keep theirs)."""
        horizon = check_horizon(horizon)
        check_text("task", task)
        for path in paths:
            check_text("path", path)
        with self._lock:
            rows = self._tasks.setdefault(task, {})
            for path in paths:
                if path not in rows:
                    rows[path] = _Row(prior, horizon)

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """Snapshot of every path's posterior for ``task``."""
        if not known_good(task):
            check_text("task", task)
        with self._lock:
            rows = self._tasks.get(task, {})
            return {path: row.snapshot(path) for path, row in rows.items()}

    def record(self, outcome: Outcome) -> bool:
        """Keep the outcome and add its score to the posterior; False if already kept."""
        outcome = check_outcome(outcome)
        with self._lock:
            return self._record(outcome)

    def record_many(self, outcomes: Iterable[Outcome]) -> int:
        """Record a batch under one lock, in (request_id, attempt) order; count the new ones.

        Example:
            >>> store = MemoryStore()
            >>> batch = [Outcome(r, 1, "t", "a", 1.0, created_at=0.0) for r in ("x", "y", "x")]
            >>> store.record_many(batch), store.posteriors("t")["a"].n
            (2, 2)
        """
        batch = sorted(check_outcomes(list(outcomes)), key=lambda o: (o.request_id, o.attempt))
        with self._lock:
            return sum(self._record(outcome) for outcome in batch)

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
        """Restart the path's recent evidence at the last ``keep_count`` scores, which
        count as fresh (made at ``tick``) in the faded sums."""
        check_text("task", task)
        check_text("path", path)
        with self._lock:
            row = self._tasks.get(task, {}).get(path)
            if row is None or row.resets != seen_resets:
                return False
            row.base_alpha = row.alpha - keep_successes
            row.base_beta = row.beta - (keep_count - keep_successes)
            row.base_n = row.n - keep_count
            row.base_errors = row.errors
            row.resets += 1
            epoch, w = weight(self._tick(task) if tick is None else tick, row.horizon)
            row.fade(FadedAdd(epoch, 0.0, 0.0, 0.0, 0.0))  # into the later of the epochs
            w = add_in_epoch(0.0, row.fade_epoch, w, epoch)  # the kept window's weight there
            row.faded_successes = w * keep_successes
            row.faded_failures = w * (keep_count - keep_successes)
            row.snapshot_cache = None
            return True

    def report(self, task: str, request_id: str, score: float, at: float) -> Report:
        """Set the score of the request's last attempt; the posterior moves by the difference."""
        check_text("task", task)
        check_request_id(task, request_id)
        with self._lock:
            attempt = self._last_attempt.get(request_id)
            stored = self._outcomes.get((request_id, attempt)) if attempt else None
            served = None if stored is None else served_attempt(stored)
            if served is not None:  # an earlier attempt's output was served
                stored = self._outcomes.get((request_id, served))
            if stored is None or stored.task != task:
                raise UnknownRequestError(
                    f"no outcome of task {task!r} has request id {request_id!r}; report ids "
                    "returned by Router.route() (RunResult.request_id) on the same store"
                )
            check_served(task, request_id, stored.path, stored.error_class)
            previous = stored.score
            if previous != score:
                for evidence, planned in evidence_tasks(stored):
                    row = self._row(evidence, stored.path)
                    tick = self._tick(evidence) if planned is None else planned
                    if previous is None:
                        row.add(score, 1, at)
                        row.fade(FadedAdd.of(score, errored=False, tick=tick, horizon=row.horizon))
                    else:
                        row.add(score - previous, 0, at)
                        change = score - previous
                        row.fade(FadedAdd.rescored(change, tick=tick, horizon=row.horizon))
                self._outcomes[(request_id, stored.attempt)] = replace(stored, score=score)
            return Report(request_id, task, stored.path, stored.attempt, previous, score)

    def outcomes(self, task: str) -> list[Outcome]:
        """Kept outcomes of ``task``, oldest first."""
        check_text("task", task)
        with self._lock:
            return [o for o in self._outcomes.values() if o.task == task]

    def prune(self, older_than: float) -> int:
        """Drop outcomes created before ``older_than``; their sums stay in the daily aggregates.

        Example:
            >>> store = MemoryStore()
            >>> store.record(Outcome("r", 1, "t", "a", 1.0, created_at=0.0))
            True
            >>> store.prune(older_than=1.0), store.outcomes("t")
            (1, [])
            >>> store.daily_aggregates("t")[0].scored
            1
        """
        with self._lock:
            old = [key for key, o in self._outcomes.items() if o.created_at < older_than]
            for key in old:
                self._forget(key)
            return len(old)

    def daily_aggregates(self, task: str) -> list[DailyAggregate]:
        """Per-path, per-UTC-day sums of every outcome of ``task``, pruned or not."""
        with self._lock:
            totals = {(p, d): t for (k, p, d), t in self._folded.items() if k == task}
            live = fold(o for o in self._outcomes.values() if o.task == task)
        for (_, path, day), more in live.items():
            totals[path, day] = totals[path, day].merged(more) if (path, day) in totals else more
        return [totals[key].aggregate(*key) for key in sorted(totals, key=lambda k: (k[1], k[0]))]

    def tasks(self) -> list[str]:
        """Raises ConfigError: a ``memory://`` store does not list its tasks."""
        raise ConfigError(f"store {self.url} does not list its tasks; name the task")

    def outcome_chunks(self, keep: OutcomeFilter, chunksize: int) -> Iterator[list[Row]]:
        """The kept outcomes of ``keep.task`` (ConfigError without one), in chunks."""
        if keep.task is None:
            return chunks_of(self.url, (), keep, chunksize)
        return chunks_of(self.url, self.outcomes(keep.task), keep, chunksize)

    def close(self) -> None:
        """Nothing to release."""

    def _row(self, task: str, path: str) -> _Row:
        rows = self._tasks.setdefault(task, {})
        row = rows.get(path)
        if row is None:
            row = rows[path] = _Row((1.0, 1.0))
        return row

    def _tick(self, task: str) -> int:
        """The task's count of scored attempts (the tick of an outcome that has none)."""
        return sum(row.n for row in self._tasks.get(task, {}).values())

    def _record(self, outcome: Outcome) -> bool:
        key = (outcome.request_id, outcome.attempt)
        if key in self._outcomes:
            return False
        if outcome.score is not None:
            row = self._row(outcome.task, outcome.path)
            tick = self._tick(outcome.task) if outcome.tick is None else outcome.tick
            row.add(outcome.score, 1, outcome.created_at, int(outcome.errored))
            row.fade_outcome(outcome.score, outcome.errored, tick)
            if outcome.segment is not None:  # and to its segment's evidence
                evidence = segment_task(outcome.task, outcome.segment)
                row = self._row(evidence, outcome.path)
                tick = (
                    self._tick(evidence) if outcome.segment_tick is None else outcome.segment_tick
                )
                row.add(outcome.score, 1, outcome.created_at, int(outcome.errored))
                row.fade_outcome(outcome.score, outcome.errored, tick)
        self._outcomes[key] = outcome
        if self._last_attempt.get(outcome.request_id, 0) < outcome.attempt:
            self._last_attempt[outcome.request_id] = outcome.attempt
        while len(self._outcomes) > self._max_outcomes:
            self._forget(next(iter(self._outcomes)))
        return True

    def _forget(self, key: tuple[str, int]) -> None:
        """Drop one kept outcome, folding it into the daily sums."""
        outcome = self._outcomes.pop(key)
        day = (outcome.task, outcome.path, day_of(outcome.created_at))
        self._folded.setdefault(day, DailyTotals()).add(outcome)
        request_id, attempt = key
        if self._last_attempt.get(request_id) == attempt:
            del self._last_attempt[request_id]
            earlier = [a for a in range(attempt - 1, 0, -1) if (request_id, a) in self._outcomes]
            if earlier:
                self._last_attempt[request_id] = earlier[0]
