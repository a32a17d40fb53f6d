"""The store protocols, one per role, and ``Store``: all of them.

- :class:`EvidenceStore`: posteriors and outcomes, what routing learns from;
- :class:`ControlStore`: operator modes and circuit breakers;
- :class:`SpendStore`: daily spending against budgets;
- :class:`ReadStore`: what exports, analysis and the operators' CLI read.

A wrapper implements every method of ``Store`` itself, each with its own decision
(queued, flushed first, or passed through): ``ResilientStore`` on its own,
``BatchingStore`` and the simulator's ``DelayedStore`` by overriding
:class:`storage.StoreWrapper`, which forwards each method explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from bandits._fading import DEFAULT_HORIZON
from storage._controls import PathState, Spend
from storage._reads import OutcomeFilter, Row
from storage._records import DailyAggregate, Outcome, PathPosterior, Report


@runtime_checkable
class EvidenceStore(Protocol):
    """Posteriors and outcomes: what the router records and learns from."""

    @property
    def url(self) -> str:
        """Where the store lives, with any password hidden."""
        ...

    def ensure_paths(
        self,
        task: str,
        paths: Sequence[str],
        prior: tuple[float, float] = (1.0, 1.0),
        horizon: float = DEFAULT_HORIZON,
    ) -> None:
        """Create a posterior at ``prior`` for each path the store does not know yet,
        its evidence fading with ``horizon`` ticks (known paths keep their horizon)."""
        ...

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """Current posterior of every known path of ``task``."""
        ...

    def record(self, outcome: Outcome) -> bool:
        """Store one outcome and add its score to its path's posterior, atomically.

        Returns False (and changes nothing) when that (request_id, attempt) is
        already stored, so replaying an outcome never counts it twice.
        """
        ...

    def record_many(self, outcomes: Iterable[Outcome]) -> int:
        """Store a batch of outcomes and add their scores to the posteriors, atomically.

        One transaction for the whole batch: all of it is stored or none. Outcomes
        already stored, or repeated within the batch, are skipped and not counted, as
        by :meth:`record`. The batch is stored in (request_id, attempt) order. Returns
        how many outcomes were newly stored.
        """
        ...

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
        """Restart the path's recent evidence at the last ``keep_count`` scores (a change point).

        Moves the base so that ``keep_successes`` successes and ``keep_count -
        keep_successes`` failures remain as recent evidence; the full sums are untouched.
        The faded quality sums become that window, as if observed at ``tick`` (None: the
        task's count of scored attempts now). Returns False (and changes nothing) if the
        path was reset since ``seen_resets`` was read, so concurrent detectors reset a
        path once.
        """
        ...

    def report(self, task: str, request_id: str, score: float, at: float) -> Report:
        """Set the score of the request's last attempt; idempotent. Raises UnknownRequestError."""
        ...

    def prune(self, older_than: float) -> int:
        """Delete outcomes created before ``older_than`` (their daily sums and the
        posteriors stay); returns how many were deleted."""
        ...


@runtime_checkable
class ControlStore(Protocol):
    """Path modes (the kill switch) and circuit breakers, shared by every process."""

    def path_states(self, task: str) -> dict[str, PathState]:
        """Operator mode and circuit-breaker state of every path of ``task`` that has one."""
        ...

    def set_path_mode(self, task: str, path: str, mode: str, at: float) -> None:
        """Set a path's mode: ``auto``, ``disabled`` (kill switch) or ``forced``."""
        ...

    def count_failure(self, task: str, path: str, at: float, threshold: int) -> PathState:
        """One more consecutive failure; the breaker opens (again) when it reaches threshold."""
        ...

    def count_success(self, task: str, path: str, at: float) -> None:
        """The path answered: close its breaker and clear its failure count."""
        ...

    def claim_trial(self, task: str, path: str, at: float, recovery: float) -> bool:
        """Claim the half-open trial call of an open breaker; True for one claimant only."""
        ...


@runtime_checkable
class SpendStore(Protocol):
    """Spending per scope and UTC day, added and reserved atomically against budgets."""

    def add_spend(self, scope: str, day: int, tokens: int, cost: float) -> Spend:
        """Add to a scope's spending of a UTC day atomically; returns the new totals."""
        ...

    def reserve_spend(
        self,
        scope: str,
        day: int,
        tokens: int,
        cost: float,
        limits: tuple[float | None, int | None],
    ) -> Spend | None:
        """Add to a scope's spending only while it is under ``limits`` (cost, tokens),
        atomically; None (nothing added) once a limit is reached."""
        ...

    def spend(self, scope: str, day: int) -> Spend:
        """A scope's spending of a UTC day."""
        ...


@runtime_checkable
class ReadStore(Protocol):
    """What exports, analysis and the operators' CLI read; none of it writes."""

    @property
    def url(self) -> str:
        """Where the store lives, with any password hidden."""
        ...

    def posteriors(self, task: str) -> dict[str, PathPosterior]:
        """Current posterior of every known path of ``task``."""
        ...

    def outcomes(self, task: str) -> list[Outcome]:
        """Every stored outcome of ``task`` in insertion order (small stores and tests)."""
        ...

    def daily_aggregates(self, task: str) -> list[DailyAggregate]:
        """Per-path, per-UTC-day sums of every outcome of ``task``, pruned or not."""
        ...

    def path_states(self, task: str) -> dict[str, PathState]:
        """Operator mode and circuit-breaker state of every path of ``task`` that has one."""
        ...

    def spend(self, scope: str, day: int) -> Spend:
        """A scope's spending of a UTC day."""
        ...

    def tasks(self) -> list[str]:
        """Every task with outcomes or posteriors, sorted.

        Raises ConfigError for a store that does not list its tasks (``memory://``).
        """
        ...

    def outcome_chunks(self, keep: OutcomeFilter, chunksize: int) -> Iterator[list[Row]]:
        """The outcomes ``keep`` keeps, oldest first, as rows of ``storage._reads.COLUMNS``,
        at most ``chunksize`` rows a chunk (streamed, for stores larger than memory).

        Raises ConfigError without ``keep.task`` for a store read one task at a time.
        """
        ...


@runtime_checkable
class Store(EvidenceStore, ControlStore, SpendStore, ReadStore, Protocol):
    """Every role's methods, and ``close``: a whole store, safe to share between threads.

    Implementations: :class:`storage.MemoryStore` (``memory://``) and
    :class:`storage.SQLStore` (SQLite, PostgreSQL), both from :func:`storage.open_store`.
    """

    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""
        ...
