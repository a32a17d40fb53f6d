"""Costs and tokens from paths and judges are checked where they enter (issue 16, item 5).

A NaN, infinite or negative cost, or a token count that is not a whole number, is a
bug in user code: ``InvalidCostError`` (an ``InvalidScoreError``), the run stops and
no budget moves. Before, a NaN cost let SQLite's raw IntegrityError escape, made the
day's PostgreSQL spend NaN (every priced call refused for the rest of the day), and
``Metered(cost=-1000)`` added budget credit.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from router import (
    Budget,
    FakeClock,
    InvalidCostError,
    InvalidScoreError,
    Metered,
    MeteredScore,
    Path,
    Router,
)
from storage import MemoryStore, Store, StoreUnavailableError

pytestmark = pytest.mark.usefixtures("clean_shared_postgres")

BAD_USAGE = {
    "nan cost": {"cost": math.nan},
    "infinite cost": {"cost": math.inf},
    "negative cost": {"cost": -1000.0},
    "fractional tokens": {"tokens_in": 1.5},
    "negative tokens": {"tokens_out": -3},
    "tokens as text": {"tokens_in": "12"},
}


@pytest.mark.parametrize("usage", BAD_USAGE.values(), ids=BAD_USAGE.keys())
def test_metered_refuses_usage_that_is_not_a_count_or_an_amount(usage: dict[str, Any]) -> None:
    with pytest.raises(InvalidCostError, match=r"must be a (whole|finite) number"):
        Metered("out", **usage)


@pytest.mark.parametrize(("tokens", "cost"), [(0, math.nan), (0, -0.5), (2.5, 0.1), (-1, None)])
def test_metered_score_refuses_a_bad_cost_or_token_count(tokens: Any, cost: Any) -> None:
    with pytest.raises(InvalidCostError):
        MeteredScore(1.0, tokens=tokens, cost=cost)


def test_numpy_counts_are_accepted_as_plain_numbers() -> None:
    import numpy as np

    usage = Metered("out", tokens_in=np.int64(120), tokens_out=np.int32(30), cost=np.float64(0.5))
    assert (usage.tokens_in, usage.tokens_out, usage.cost) == (120, 30, 0.5)
    assert type(usage.tokens_in) is int and type(usage.cost) is float


@pytest.mark.parametrize("cost", [math.nan, math.inf, -1000.0])
def test_a_path_reporting_a_bad_cost_stops_the_run_and_moves_no_budget(
    store: Store, task: str, clock: FakeClock, cost: float
) -> None:
    def priced(text: str) -> Metered:
        return Metered(text.upper(), tokens_in=10, cost=cost)

    def spare(text: str) -> str:
        return text

    router = Router(
        [Path(priced, price=0.5), Path(spare, last_resort=True, price=0.0)],
        lambda out: True,
        task=task,
        store=store,
        clock=clock,
        budget=Budget(daily_cost=1.0),
    )
    with pytest.raises(InvalidCostError, match="Metered cost"):
        router.run("order")
    day = math.floor(clock() / 86_400)
    assert store.spend(f"task:{task}", day).cost == 0.0  # the reservation was given back
    (row,) = store.outcomes(task)
    assert (row.score, row.error_class, row.cost) == (None, "invalid_score", None)
    assert store.posteriors(task)["priced"].n == 0  # not learned as the path's failure
    router.close()


def test_a_judge_reporting_a_nan_cost_is_an_invalid_score(
    store: Store, task: str, clock: FakeClock
) -> None:
    def answer(text: str) -> str:
        return text

    router = Router(
        [Path(answer, price=0.0)],  # the judge's cost is the only one
        lambda out: MeteredScore(1.0, tokens=50, cost=math.nan),
        task=task,
        store=store,
        clock=clock,
        budget=Budget(daily_cost=1.0),
    )
    with pytest.raises(InvalidCostError, match="MeteredScore cost") as caught:
        router.run("order")
    assert isinstance(caught.value, InvalidScoreError)
    (row,) = store.outcomes(task)
    assert (row.score, row.error_class) == (None, "invalid_score")
    assert store.posteriors(task)["answer"].n == 0
    assert store.spend(f"task:{task}", math.floor(clock() / 86_400)).cost == 0.0


def test_a_cost_changed_on_the_score_after_it_was_made_is_checked(task: str) -> None:
    def answer(text: str) -> str:
        return text

    def judge(out: str) -> MeteredScore:
        score = MeteredScore(1.0, tokens=5, cost=0.01)
        score.cost = -5.0  # attributes can be set later: checked where the router reads them
        return score

    router = Router([answer], judge, task=task, store="memory://")
    with pytest.raises(InvalidCostError, match="cost"):
        router.run("order")


class ReservationsFailOnce(MemoryStore):
    """A store whose first budget reservation does not answer (a lock, a timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = 0

    def reserve_spend(self, *args: Any, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed += 1
            raise StoreUnavailableError("the store did not answer in time; try again")
        return super().reserve_spend(*args, **kwargs)


def test_a_call_whose_reservation_the_store_missed_is_counted_whole() -> None:
    # Before: the call went ahead as if its price were reserved, and only the
    # difference (cost - price = 0) was added after it, so the day's spend missed it.
    store, clock = ReservationsFailOnce(), FakeClock(start=1_000.0)
    router = Router(
        [Path(lambda x: x, name="model", price=0.25)],
        lambda out: True,
        task="reserve-missed",
        store=store,
        clock=clock,
        budget=Budget(daily_cost=10.0),
    )
    for i in range(3):
        assert router.run(i) == i
    router.close()
    assert store.failed == 1
    day = math.floor(clock() / 86_400)
    assert store.spend("task:reserve-missed", day).cost == pytest.approx(0.75)
