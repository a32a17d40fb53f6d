"""Every store, driven through random operations, behaves like a few dicts (hypothesis stateful).

The model is written from the Store protocol's docstrings, independently of the stores:
posteriors are sums of scores since the prior, records are idempotent per
(request_id, attempt), reports move a posterior by the change of score, resets move
the base, prune keeps per-day sums, and a row no store can hold (NaN, a NUL, a lone
surrogate, a name too long, metadata that is not JSON) is refused alike by every store,
alone or in a batch, changing nothing. Scores are dyadic, so float sums are exact in
any order and the comparison can be exact.
"""

from __future__ import annotations

import datetime
import math
import uuid
from dataclasses import dataclass, field, replace
from operator import attrgetter

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from router import FakeClock
from storage import (
    InvalidRecordError,
    MemoryStore,
    Outcome,
    Report,
    ResilientStore,
    UnknownRequestError,
)
from storage._sql import SQLStore
from tests.storage.proxy import TcpProxy

PATHS = ["a", "b", "c"]
START = 1_767_225_600.0
TIMES = [START + hours * 3600.0 for hours in (1, 13, 25, 37, 49)]  # three UTC days
DYADIC = [0.0, 0.25, 0.5, 1.0]
EPOCH = datetime.date(1970, 1, 1)

attempts = st.tuples(
    st.sampled_from(["r0", "r1", "r2", "r3", "r4"]),  # few ids: duplicates are common
    st.integers(min_value=1, max_value=2),
    st.sampled_from(PATHS),
    st.sampled_from([None, *DYADIC]),
    st.booleans(),  # errored, when the score is 0
    st.sampled_from(TIMES),
    st.sampled_from([None, 0.5, 0.25]),
)
AttemptArgs = tuple[str, int, str, float | None, bool, float, float | None]
# Values no store can hold (issue 16): each store refuses them alike and changes nothing.
BAD_FIELDS = st.sampled_from(
    [
        {"score": math.nan},
        {"cost": math.inf},
        {"cost": -1000.0},
        {"latency_ms": math.nan},
        {"tokens_in": 1.5},
        {"customer": "a\x00b"},
        {"path": "a\ud800"},
        {"request_id": "r" * 65},
        {"metadata": {"x": object()}},
    ]
)


@dataclass
class Row:
    """A posterior as the protocol describes it."""

    prior: tuple[float, float]
    alpha: float = 0.0
    beta: float = 0.0
    n: int = 0
    errors: int = 0
    base: tuple[float, float, int, int] | None = None  # alpha, beta, n, errors at the reset
    resets: int = 0

    def __post_init__(self) -> None:
        self.alpha, self.beta = self.prior

    def add(self, score: float, count: int, errors: int = 0) -> None:
        self.alpha += score
        self.beta += count - score
        self.n += count
        self.errors += errors

    def as_tuple(self) -> tuple[object, ...]:
        base = self.base or (*self.prior, 0, 0)
        return (self.alpha, self.beta, self.n, *self.prior, *base, self.resets, self.errors)


@dataclass
class Model:
    """One task's posteriors, kept outcomes and the per-day sums of pruned ones."""

    rows: dict[str, Row] = field(default_factory=dict)
    kept: dict[tuple[str, int], Outcome] = field(default_factory=dict)
    pruned: list[Outcome] = field(default_factory=list)

    def record(self, outcome: Outcome) -> bool:
        key = (outcome.request_id, outcome.attempt)
        if key in self.kept:
            return False
        if outcome.score is not None:
            self.row(outcome.path).add(outcome.score, 1, int(outcome.errored))
        self.kept[key] = outcome
        return True

    def row(self, path: str) -> Row:
        return self.rows.setdefault(path, Row((1.0, 1.0)))

    def report(self, task: str, request_id: str, score: float) -> Report:
        tried = [a for (r, a) in self.kept if r == request_id]
        if not tried:
            raise UnknownRequestError(request_id)
        key = (request_id, max(tried))
        stored = self.kept[key]
        if stored.error_class not in (None, "invalid_score", "scoring_error"):
            raise UnknownRequestError(request_id)  # no path served it
        if stored.score != score:
            if stored.score is None:
                self.row(stored.path).add(score, 1)
            else:
                self.row(stored.path).add(score - stored.score, 0)
            self.kept[key] = replace(stored, score=score)
        return Report(request_id, task, stored.path, key[1], stored.score, score)

    def daily(self) -> list[tuple[object, ...]]:
        days: dict[tuple[int, str], list[float]] = {}
        for o in [*self.pruned, *self.kept.values()]:
            sums = days.setdefault((math.floor(o.created_at / 86_400), o.path), [0.0] * 7)
            for index, value in enumerate(
                (1, o.score is not None, o.score or 0.0, o.errored, o.cost or 0.0, 0, 0)
            ):
                sums[index] += value
        return [(day, path, *sums) for (day, path), sums in sorted(days.items())]


def make_outcome(task: str, args: AttemptArgs) -> Outcome:
    request, attempt, path, score, errored, created_at, cost = args
    return Outcome(
        f"{task}:{request}",
        attempt,
        task,
        path,
        score,
        created_at,
        error_class="timeout" if errored and score == 0.0 else None,
        errored=errored and score == 0.0,
        cost=cost,
    )


class StoreMachine(RuleBasedStateMachine):
    """Random operations on one task of ``store``; each example gets a new task."""

    def __init__(self, store: MemoryStore | SQLStore) -> None:
        super().__init__()
        self.store = store
        self.task = f"sm-{uuid.uuid4().hex[:12]}"
        self.model = Model()

    def outcome(self, args: AttemptArgs) -> Outcome:
        return make_outcome(self.task, args)

    @rule(paths=st.lists(st.sampled_from(PATHS), max_size=3), prior=st.sampled_from([1.0, 2.0]))
    def ensure_paths(self, paths: list[str], prior: float) -> None:
        self.store.ensure_paths(self.task, paths, (prior, 0.5))
        for path in paths:
            self.model.rows.setdefault(path, Row((prior, 0.5)))

    @rule(args=attempts)
    def record(self, args: AttemptArgs) -> None:
        outcome = self.outcome(args)
        assert self.store.record(outcome) == self.model.record(outcome)

    @rule(batch=st.lists(attempts, max_size=6))
    def record_many(self, batch: list[AttemptArgs]) -> None:
        outcomes = [self.outcome(args) for args in batch]
        ordered = sorted(outcomes, key=lambda o: (o.request_id, o.attempt))
        expected = sum(self.model.record(o) for o in ordered)
        assert self.store.record_many(outcomes) == expected

    @rule(args=attempts, bad=BAD_FIELDS)
    def record_bad(self, args: AttemptArgs, bad: dict[str, object]) -> None:
        with pytest.raises(InvalidRecordError):
            self.store.record(replace(self.outcome(args), **bad))  # type: ignore[arg-type]

    @rule(args=attempts, bad=BAD_FIELDS)
    def record_many_with_a_bad_row(self, args: AttemptArgs, bad: dict[str, object]) -> None:
        fine = self.outcome(("r9", 1, "a", 1.0, False, START, None))
        bad_row = replace(self.outcome(args), **bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidRecordError):  # refused whole: the good row is not kept
            self.store.record_many([fine, bad_row])

    @rule(request_id=st.sampled_from(["r\x00", "r\udfff", "r" * 65]))
    def report_unstorable_id(self, request_id: str) -> None:
        with pytest.raises(UnknownRequestError):
            self.store.report(self.task, request_id, 1.0, at=TIMES[-1])

    @rule(request=st.sampled_from(["r0", "r1", "r2", "r3", "r4"]), score=st.sampled_from(DYADIC))
    def report(self, request: str, score: float) -> None:
        request_id = f"{self.task}:{request}"
        try:
            expected = self.model.report(self.task, request_id, score)
        except UnknownRequestError:
            with pytest.raises(UnknownRequestError):
                self.store.report(self.task, request_id, score, at=TIMES[-1])
        else:
            assert self.store.report(self.task, request_id, score, at=TIMES[-1]) == expected

    @rule(
        path=st.sampled_from(PATHS),
        keep=st.sampled_from([(0, 0.0), (1, 1.0), (2, 0.5)]),
        stale=st.booleans(),
    )
    def reset(self, path: str, keep: tuple[int, float], stale: bool) -> None:
        row = self.model.rows.get(path)
        seen = (row.resets if row else 0) + int(stale)
        expected = row is not None and not stale
        done = self.store.reset(
            self.task, path, keep_successes=keep[1], keep_count=keep[0], seen_resets=seen
        )
        assert done == expected
        if row is not None and expected:
            row.base = (
                row.alpha - keep[1],
                row.beta - (keep[0] - keep[1]),
                row.n - keep[0],
                row.errors,
            )
            row.resets += 1

    @rule(cut=st.sampled_from(TIMES))
    def prune(self, cut: float) -> None:
        old = [key for key, o in self.model.kept.items() if o.created_at < cut]
        self.model.pruned += [self.model.kept.pop(key) for key in old]
        # Earlier examples' tasks lose outcomes too: only this task's count is checked.
        self.store.prune(older_than=cut)
        assert len(self.store.outcomes(self.task)) == len(self.model.kept)

    @invariant()
    def posteriors_match(self) -> None:
        fields = attrgetter(
            "alpha", "beta", "n", "prior_alpha", "prior_beta", "base_alpha", "base_beta",
            "base_n", "base_errors", "resets", "errors",
        )  # fmt: skip
        stored = {path: fields(p) for path, p in self.store.posteriors(self.task).items()}
        assert stored == {path: row.as_tuple() for path, row in self.model.rows.items()}

    @invariant()
    def outcomes_match(self) -> None:
        assert self.store.outcomes(self.task) == list(self.model.kept.values())

    @invariant()
    def daily_aggregates_match(self) -> None:
        fields = attrgetter(
            "path", "attempts", "scored", "successes", "errors", "cost", "tokens_in", "tokens_out"
        )
        stored = [
            ((d.day - EPOCH).days, *fields(d)) for d in self.store.daily_aggregates(self.task)
        ]
        assert stored == self.model.daily()


def test_store_behaves_like_the_model(own_store: MemoryStore | SQLStore) -> None:
    run_state_machine_as_test(
        lambda: StoreMachine(own_store),
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None),
    )


class OutageMachine(RuleBasedStateMachine):
    """ResilientStore over PostgreSQL through a proxy that goes away and comes back, fed good
    rows and rows no store can hold (issue 16): once the store is back and the queue
    written, the database holds every good row exactly once and none of the bad ones."""

    def __init__(self, url: str, proxy: TcpProxy) -> None:
        super().__init__()
        self.proxy = proxy
        self.clock = FakeClock()
        self.store = ResilientStore(SQLStore(url), retry_interval=1.0, clock=self.clock)
        self.task = f"om-{uuid.uuid4().hex[:12]}"
        self.model = Model()

    def outcome(self, args: AttemptArgs) -> Outcome:
        return make_outcome(self.task, args)

    @rule(args=attempts)
    def record(self, args: AttemptArgs) -> None:
        outcome = self.outcome(args)
        expected = self.model.record(outcome)
        through = self.proxy.running and not self.store.degraded
        stored = self.store.record(outcome)
        if through:  # queued while down, a repeat of a stored outcome cannot be told yet
            assert stored == expected

    @rule(batch=st.lists(attempts, max_size=6))
    def record_many(self, batch: list[AttemptArgs]) -> None:
        outcomes = [self.outcome(args) for args in batch]
        for outcome in sorted(outcomes, key=lambda o: (o.request_id, o.attempt)):
            self.model.record(outcome)
        self.store.record_many(outcomes)

    @rule(args=attempts, bad=BAD_FIELDS)
    def record_bad(self, args: AttemptArgs, bad: dict[str, object]) -> None:
        with pytest.raises(InvalidRecordError):  # up or down: refused, never queued
            self.store.record(replace(self.outcome(args), **bad))  # type: ignore[arg-type]

    @rule()
    def go_down(self) -> None:
        self.proxy.stop()

    @rule()
    def come_back(self) -> None:
        if not self.proxy.running:
            self.proxy.start()
        self.clock.advance(1.0)

    @invariant()
    def bad_rows_are_never_queued(self) -> None:
        assert self.store.rejected == 0 and self.store.dropped == 0

    def teardown(self) -> None:
        if not self.proxy.running:
            self.proxy.start()
        self.store.flush()
        key = attrgetter("request_id", "attempt")
        stored = sorted(self.store.inner.outcomes(self.task), key=key)
        assert stored == sorted(self.model.kept.values(), key=key)  # each once, no bad one
        fields = attrgetter("alpha", "beta", "n", "errors")
        rows = {path: fields(p) for path, p in self.store.inner.posteriors(self.task).items()}
        assert rows == {path: fields(row) for path, row in self.model.rows.items()}
        self.store.close()


def test_resilient_store_through_outages_behaves_like_the_model(
    proxied_url: str, proxy: TcpProxy
) -> None:
    run_state_machine_as_test(
        lambda: OutageMachine(proxied_url, proxy),
        settings=settings(max_examples=15, stateful_step_count=20, deadline=None),
    )
