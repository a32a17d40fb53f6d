"""Chaos: 10,000 requests over 4 threads through paths that fail in every way we know."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path as FilePath

import numpy as np
import pytest
from pydantic import BaseModel

from router import (
    AllPathsFailed,
    Attempt,
    Breaker,
    Budget,
    BudgetExceeded,
    FakeClock,
    Path,
    RateLimit,
    Retry,
    Router,
    RouterError,
)
from storage import Store, open_store

REQUESTS = 10_000
THREADS = 4
PRICES = {"model_a": 0.002, "model_b": 0.001, "model_c": 0.003}
DAILY_COST = 20.0  # runs out part-way: the rest of the day is refused


class Answer(BaseModel):
    value: int


class HTTPError(Exception):
    def __init__(self, status_code: int, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.headers = {"Retry-After": retry_after} if retry_after else {}


class ChaoticPath:
    """Fails at random in every way a provider can; each thread has its own generator."""

    def __init__(self, name: str, clock: FakeClock, health: float) -> None:
        self.__name__ = name
        self.clock = clock
        self.health = health
        self.local = threading.local()
        self.release = threading.Event()

    def __call__(self, x: int) -> str:
        rng = getattr(self.local, "rng", None)
        if rng is None:
            rng = self.local.rng = np.random.default_rng(abs(hash((self.__name__, x))))
        roll = rng.random()
        self.clock.advance(0.001)
        if roll < self.health:
            return f'```json\n{{"value": {x}}}\n```'
        kind = int(rng.integers(0, 9))
        if kind == 0:
            raise HTTPError(503)
        if kind == 1:
            raise HTTPError(429, retry_after="0.5")
        if kind == 2:
            raise HTTPError(400)
        if kind == 3:
            raise ConnectionResetError("connection reset by peer")
        if kind == 4:
            self.clock.advance(5.0)  # slower than its timeout on the router's clock
            return f'{{"value": {x}}}'
        if kind == 5 and roll > 0.999:
            self.release.wait(0.2)  # really hangs: the caller must come back at the timeout
            return f'{{"value": {x}}}'
        if kind == 6:
            return "I am sorry, as an AI model I cannot"  # invalid output
        if kind == 7 and self.__name__ == "model_b":  # its key is revoked: benched for good
            raise HTTPError(401)
        raise RuntimeError("unexpected provider bug")


def test_chaos_loses_nothing_and_fails_only_clearly(tmp_path: FilePath) -> None:
    url = f"sqlite:///{tmp_path / 'chaos.db'}"
    store = open_store(url)
    clock = FakeClock(start=1_767_225_600.0)
    health = {"model_a": 0.7, "model_b": 0.5, "model_c": 0.85}
    paths = [
        Path(
            ChaoticPath(name, clock, health[name]),
            name=name,
            timeout=2.0 if name != "model_b" else 0.05,
            output=Answer,
            price=PRICES[name],
            rate_limit=RateLimit(per_second=200) if name == "model_c" else None,
        )
        for name in PRICES
    ]
    paths.append(Path(lambda x: Answer(value=x), name="regex", last_resort=True, price=0.0))
    router = Router(
        paths,
        lambda x, out: out.value == x,
        task="chaos",
        store=store,
        clock=clock,
        seed=7,
        retry=Retry(attempts=2, base=0.1, cap=1.0),
        breaker=Breaker(failures=20, recovery=5.0),
        budget=Budget(daily_cost=DAILY_COST, run_cost=0.01),
        on_alert=lambda alert: None,
    )
    attempts: list[tuple[str, Attempt]] = []
    endings: Counter[str] = Counter()
    lock = threading.Lock()

    def serve(first: int) -> None:
        for x in range(first, REQUESTS, THREADS):
            try:
                result = router.route(x)
            except (AllPathsFailed, BudgetExceeded) as exc:
                made = [
                    (exc.request_id if isinstance(exc, AllPathsFailed) else "", a)
                    for a in exc.attempts
                ]
                ending = type(exc).__name__
            except RouterError as exc:  # any other error of ours is a clear one too
                made, ending = [], type(exc).__name__
            else:
                assert result.output == Answer(value=x)
                made = [(result.request_id, a) for a in result.attempts]
                ending = "served"
            with lock:
                attempts.extend(made)
                endings[ending] += 1

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    router.close()
    for path in paths:
        fn = path.fn
        if isinstance(fn, ChaoticPath):
            fn.release.set()

    assert sum(endings.values()) == REQUESTS
    assert endings["served"] > REQUESTS // 3 and endings["BudgetExceeded"] > 0
    assert set(endings) <= {"served", "AllPathsFailed", "BudgetExceeded"}

    check_store(store, attempts)
    store.close()


def check_store(store: Store, attempts: list[tuple[str, Attempt]]) -> None:
    """One row per attempt, posteriors equal to the scores, the budget kept."""
    rows = store.outcomes("chaos")
    assert len(rows) == len({(o.request_id, o.attempt) for o in rows}), "one row per attempt"
    assert len(rows) == len(attempts)
    classes = Counter(o.error_class for o in rows)
    for kind in ("transient", "rate_limited", "client_error", "timeout", "invalid_output", "auth"):
        assert classes[kind] > 0, kind
    posteriors = store.posteriors("chaos")
    for name, row in posteriors.items():
        scored = [o.score for o in rows if o.path == name and o.score is not None]
        assert row.n == len(scored)
        assert row.alpha - row.prior_alpha == pytest.approx(sum(scored))
        assert row.beta - row.prior_beta == pytest.approx(len(scored) - sum(scored))
    spent = store.spend("task:chaos", 20454)
    assert DAILY_COST <= spent.cost <= DAILY_COST + max(PRICES.values()) + 1e-9
    answered = sum(o.cost or 0.0 for o in rows)
    assert spent.cost == pytest.approx(answered)
