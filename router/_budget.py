"""Budgets: tokens and dollars per run, and per task and per customer per UTC day."""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bandits import ConfigError
from bandits._errors import BudgetExceeded as BudgetExceeded  # noqa: PLC0414 (old home)
from bandits._errors import InvalidCostError
from router._names import shown
from router._outage import OutageLog
from router._path import Path
from storage import Spend, Store, StoreError

logger = logging.getLogger("outcome_router")

SECONDS_PER_DAY = 86_400.0
Action = Literal["block", "cheapest", "escalate"]


@dataclass(frozen=True, slots=True)
class Metered:
    """A path's output together with what producing it cost.

    Return ``Metered(output, tokens_in=..., tokens_out=..., cost=...)`` from a path to
    have its spending recorded on the outcome and counted against budgets; the router
    serves ``output``. Without ``cost``, the path's ``Path(price=...)`` is used. Token
    counts must be whole numbers >= 0 and the cost a finite number of dollars >= 0 (a
    negative cost would be budget credit): anything else raises
    :class:`router.InvalidCostError`, which stops the run like any configuration error.

    Example:
        >>> Metered({"item": "pen"}, tokens_in=120, tokens_out=30, cost=0.0004).tokens
        150
    """

    output: Any
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None

    def __post_init__(self) -> None:
        for name in ("tokens_in", "tokens_out"):
            object.__setattr__(self, name, check_tokens(f"Metered {name}", getattr(self, name)))
        object.__setattr__(self, "cost", check_cost("Metered cost", self.cost))

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens (unknown counts as 0)."""
        return (self.tokens_in or 0) + (self.tokens_out or 0)

    def attach_to(self, error: BaseException) -> BaseException:
        """Mark ``error`` with this spending before raising it: a path that paid for a
        call and then failed (a reply it could not parse, a second call that raised)
        still has its tokens and cost recorded and counted against budgets.

        Example:
            >>> error = Metered(None, tokens_in=900, cost=0.002).attach_to(ValueError("bad"))
            >>> spent_before(error).cost
            0.002
        """
        with contextlib.suppress(AttributeError):  # an exception that takes no attributes
            setattr(error, _SPENT, self)
        return error


_SPENT = "_outcome_router_spent"


def spent_before(error: BaseException) -> Metered | None:
    """What a path spent before raising ``error`` (see :meth:`Metered.attach_to`), if any.

    Example:
        >>> spent_before(RuntimeError("no spending attached")) is None
        True
    """
    spent = getattr(error, _SPENT, None)
    return spent if isinstance(spent, Metered) else None


class MeteredScore(float):
    """A score (a float in [0, 1]) that carries what computing it cost.

    A ``success_fn`` that calls a model (``router.llm.llm_judge``) returns one, so the
    router records the judging spend on the attempt's outcome (metadata ``judge_tokens``
    and ``judge_cost``) and counts it against budgets. Everywhere else it is a float.
    ``tokens`` must be a whole number >= 0 and ``cost`` a finite number >= 0, else
    :class:`router.InvalidCostError`.

    Example:
        >>> score = MeteredScore(0.8, tokens=120, cost=0.0002)
        >>> score + 0.1 > 0.85, score.cost
        (True, 0.0002)
    """

    tokens: int
    cost: float | None

    def __new__(cls, value: float, *, tokens: int = 0, cost: float | None = None) -> MeteredScore:
        made = super().__new__(cls, value)
        made.tokens = check_tokens("MeteredScore tokens", tokens) or 0
        made.cost = check_cost("MeteredScore cost", cost)
        return made


def check_tokens(name: str, value: object) -> int | None:
    """``value`` as a token count: None, or a whole number >= 0 (else InvalidCostError).

    Example:
        >>> check_tokens("tokens_in", 120), check_tokens("tokens_in", None)
        (120, None)
        >>> check_tokens("tokens_in", 1.5)
        Traceback (most recent call last):
        ...
        router.InvalidCostError: tokens_in must be a whole number of tokens >= 0 ...
    """
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 0:
        return int(value)
    raise InvalidCostError(
        f"{name} must be a whole number of tokens >= 0 or None, got {shown(value)}; count "
        "the tokens the provider reported"
    )


def check_cost(name: str, value: object) -> float | None:
    """``value`` as dollars: None, or a finite number >= 0 (else InvalidCostError).

    Example:
        >>> check_cost("cost", 0.002), check_cost("cost", None)
        (0.002, None)
        >>> check_cost("cost", -1000)
        Traceback (most recent call last):
        ...
        router.InvalidCostError: cost must be a finite number of dollars >= 0 ...
    """
    if value is None:
        return None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        dollars = float(value)
        if math.isfinite(dollars) and dollars >= 0:
            return dollars
    raise InvalidCostError(
        f"{name} must be a finite number of dollars >= 0 or None, got {shown(value)}; a "
        "cost that is unknown is None, not NaN"
    )


@dataclass(frozen=True, slots=True)
class Budget:
    """Spending limits, enforced across every process on the store.

    Args:
        run_cost, run_tokens: most one run may spend, retries and fallbacks included;
            once spent, no further path is called (what was served stays served).
        daily_cost, daily_tokens: most the task may spend per UTC day.
        customer_daily_cost, customer_daily_tokens: most each customer of
            ``run(..., customer=...)`` may spend per UTC day.
        when_exceeded: at 100% of a daily limit, ``"block"`` raises
            :class:`BudgetExceeded`, ``"cheapest"`` routes only to the cheapest path
            (lowest ``Path(price=...)``), ``"escalate"`` hands the request to the
            router's escalation handler.
        alert_at: fraction of a daily limit at which an ``Alert("budget", ...)`` fires.

    Daily spending is an atomic increment in the store after each attempt; runs
    already in flight when the limit is reached may overshoot it by what they spend.

    Example:
        >>> Budget(daily_cost=50.0, when_exceeded="cheapest").alert_at
        0.8
    """

    run_cost: float | None = None
    run_tokens: int | None = None
    daily_cost: float | None = None
    daily_tokens: int | None = None
    customer_daily_cost: float | None = None
    customer_daily_tokens: int | None = None
    when_exceeded: Action = "block"
    alert_at: float = 0.8

    def __post_init__(self) -> None:
        for name in (
            "run_cost",
            "run_tokens",
            "daily_cost",
            "daily_tokens",
            "customer_daily_cost",
            "customer_daily_tokens",
        ):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ConfigError(
                    f"Budget {name} must be a positive number or None, got {shown(value)}"
                )
        if self.when_exceeded not in ("block", "cheapest", "escalate"):
            raise ConfigError(
                "Budget when_exceeded must be 'block', 'cheapest' or 'escalate', "
                f"got {self.when_exceeded!r}"
            )
        if not (isinstance(self.alert_at, int | float) and 0 < self.alert_at <= 1):
            raise ConfigError(f"Budget alert_at must be in (0, 1], got {shown(self.alert_at)}")

    def run_spent(self, tokens: int, cost: float) -> bool:
        """Has a run that spent this much reached its limit?"""
        return (self.run_cost is not None and cost >= self.run_cost) or (
            self.run_tokens is not None and tokens >= self.run_tokens
        )


class UnpricedPathWarning(UserWarning):
    """A budget limits cost, but some paths have no known price: it counts their calls as $0."""


def unpriced_paths(paths: Sequence[Path]) -> list[str]:
    """The paths whose calls have no known price: no ``Path(price=...)``, and a function
    that does not say it prices its calls (``fn.priced``, as LLM paths do; a plain
    function may still return ``Metered(cost=...)``).

    Example:
        >>> def regex(text): return text
        >>> unpriced_paths([Path(regex), Path(regex, name="priced", price=0.0)])
        ['regex']
    """
    return [
        path.name
        for path in paths
        if path.price is None and getattr(path.fn, "priced", False) is False
    ]


def warn_unpriced(budget: Budget, paths: Sequence[Path]) -> None:
    """Say once, when the router is built, that a cost budget cannot count some paths."""
    if budget.run_cost is None and budget.daily_cost is None and budget.customer_daily_cost is None:
        return  # a budget on tokens only: prices do not matter
    unpriced = unpriced_paths(paths)
    if unpriced:
        warnings.warn(
            f"the budget limits cost, but paths {unpriced} have no known price: it counts "
            "their calls as $0 (unless a path returns Metered(cost=...)) and tables show "
            "their cost as unknown; give them Path(price=...) (price=0.0 for a free one), "
            "or price_per_1k_tokens=... for a model litellm's cost map does not know",
            UnpricedPathWarning,
            stacklevel=4,  # the caller of Router(...): warn_unpriced < _check_budget < __init__
        )


def task_scope(task: str) -> str:
    """The spend scope of a task."""
    return f"task:{task}"


def customer_scope(task: str, customer: str) -> str:
    """The spend scope of one customer of a task."""
    return f"customer:{task}:{customer}"


class BudgetKeeper:
    """Reads and adds the daily spending of a router's task and customers.

    Example:
        >>> from storage import MemoryStore
        >>> keeper = BudgetKeeper(Budget(daily_cost=1.0), MemoryStore(), "t", lambda *a: None)
        >>> keeper.spend(None, 0.6, 0, at=0.0)
        >>> keeper.over(None, at=0.0) is None
        True
        >>> keeper.spend(None, 0.5, 0, at=1.0)
        >>> keeper.over(None, at=2.0)
        'task:t'
    """

    def __init__(
        self,
        budget: Budget,
        store: Store,
        task: str,
        alert: Callable[[str, str, float], None],
    ) -> None:
        if not isinstance(budget, Budget):
            raise ConfigError(f"budget must be a Budget(...) or None, got {shown(budget)}")
        self.budget = budget
        self._store = store
        self._task = task
        self._alert = alert
        self._log = OutageLog(f"budgets of task {task!r} not checked or not counted")

    def over(self, customer: str | None, at: float) -> str | None:
        """The scope whose daily limit is reached, if any (task first)."""
        day = math.floor(at / SECONDS_PER_DAY)
        for scope, cost_limit, token_limit in self._limits(customer):
            try:
                spent = self._store.spend(scope, day)
            except StoreError as exc:
                self._log.failed(exc, at)
                continue
            self._log.succeeded(at)
            if _reached(spent, cost_limit, token_limit, 1.0):
                return scope
        return None

    def reserve(self, customer: str | None, cost: float, at: float) -> tuple[str | None, bool]:
        """Reserve a priced call's cost before making it: (the scope that refused, if any;
        whether the cost is now counted in every scope).

        A reservation succeeds only while its scope is under its daily limits, and is
        atomic in the store, so concurrent routers overshoot a limit by at most one call.
        When the store cannot answer, the call goes ahead unreserved (what other scopes
        granted is given back) and its whole cost is counted after it.
        """
        if cost <= 0:
            return None, False
        day = math.floor(at / SECONDS_PER_DAY)
        reserved: list[str] = []
        for scope, cost_limit, token_limit in self._limits(customer):
            try:
                after = self._store.reserve_spend(scope, day, 0, cost, (cost_limit, token_limit))
            except StoreError as exc:
                self._log.failed(exc, at)
                self._give_back(reserved, day, cost, at)
                return None, False
            if after is None:
                self._give_back(reserved, day, cost, at)
                return scope, False
            reserved.append(scope)
            self._crossed(scope, (cost_limit, token_limit), after, Spend(0, cost))
        return None, bool(reserved)

    def _give_back(self, scopes: list[str], day: int, cost: float, at: float) -> None:
        """Undo the reservations ``scopes`` granted for a call that will not count them."""
        for scope in scopes:
            try:
                self._store.add_spend(scope, day, 0, -cost)
            except StoreError as exc:
                self._log.failed(exc, at)

    def spend(self, customer: str | None, cost: float, tokens: int, at: float) -> None:
        """Add one attempt's spending; alert when a limit's ``alert_at`` or 100% is crossed."""
        if cost == 0 and tokens == 0:
            return
        day = math.floor(at / SECONDS_PER_DAY)
        for scope, cost_limit, token_limit in self._limits(customer):
            try:
                after = self._store.add_spend(scope, day, tokens, cost)
            except StoreError as exc:
                self._log.failed(exc, at)
                continue
            self._crossed(scope, (cost_limit, token_limit), after, Spend(tokens, cost))

    def _crossed(
        self, scope: str, limits: tuple[float | None, int | None], after: Spend, added: Spend
    ) -> None:
        """Alert when ``added`` took ``scope`` past ``alert_at`` or 100% of a limit."""
        before = Spend(after.tokens - added.tokens, after.cost - added.cost)
        for share in sorted({self.budget.alert_at, 1.0}):
            if _reached(after, *limits, share) and not _reached(before, *limits, share):
                message = (
                    f"{scope} has spent {share:.0%} of its daily budget "
                    f"({after.cost:.4g} $, {after.tokens} tokens)"
                )
                self._alert(scope, message, share)

    def _limits(self, customer: str | None) -> list[tuple[str, float | None, int | None]]:
        budget = self.budget
        limits: list[tuple[str, float | None, int | None]] = []
        if budget.daily_cost is not None or budget.daily_tokens is not None:
            limits.append((task_scope(self._task), budget.daily_cost, budget.daily_tokens))
        if customer is not None and (
            budget.customer_daily_cost is not None or budget.customer_daily_tokens is not None
        ):
            limits.append(
                (
                    customer_scope(self._task, customer),
                    budget.customer_daily_cost,
                    budget.customer_daily_tokens,
                )
            )
        return limits


def _reached(spent: Spend, cost: float | None, tokens: int | None, share: float) -> bool:
    return (cost is not None and spent.cost >= share * cost - 1e-12) or (
        tokens is not None and spent.tokens >= share * tokens
    )
