"""Every control a call passes before it is made, for ordinary and shadow calls alike.

:class:`Admission` holds the router's paths and its controls: the kill switch and the
breakers (through :class:`PathGate`), paths benched after their credentials were
refused, paths whose calls hang, canaries and shadows kept out of the policy's choice,
daily budgets, rate limits and in-flight caps, and each customer's rate limit.

At plan time :meth:`Admission.candidates` says which paths a run may rank; at call time
:meth:`Admission.admit` says of one path: :class:`Admitted` (its price reserved, its
slot taken), :class:`Skip`, :class:`Stop` (a daily budget is spent) or :class:`Wait`
(for its rate limit's next slot). It decides and reserves; the run loops do the waiting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from bandits import ConfigError
from router._breaker import Breaker, PathGate
from router._budget import Budget, BudgetExceeded, BudgetKeeper
from router._canary import Canary, Rollouts
from router._clock import Clock
from router._errors import RateLimitExceeded
from router._flow import Admitted, Skip, Stop, Ticket, Wait
from router._limits import Limiter, RateLimit
from router._path import Path
from storage import Store

if TYPE_CHECKING:
    from router._attempts import Judged
    from router._calls import PathCaller
    from router._recorder import Recorder

AUTH_COOLDOWN = 300.0  # seconds a path whose credentials were refused stays out of routing


class Spending(Protocol):
    """What admission asks of a budget (:class:`BudgetKeeper`, or :class:`NoBudget`)."""

    def over(self, customer: str | None, at: float) -> str | None: ...
    def reserve(self, customer: str | None, cost: float, at: float) -> tuple[str | None, bool]: ...
    def spend(self, customer: str | None, cost: float, tokens: int, at: float) -> None: ...


class NoBudget:
    """The budget of a router without one: nothing is ever spent or refused."""

    budget: Budget | None = None

    def over(self, customer: str | None, at: float) -> str | None:
        return None

    def reserve(self, customer: str | None, cost: float, at: float) -> tuple[str | None, bool]:
        return None, False

    def spend(self, customer: str | None, cost: float, tokens: int, at: float) -> None:
        return None


class Admission:
    """Which of a router's paths may be called now, and the spending of those that were.

    Example:
        >>> from router import FakeClock
        >>> from storage import MemoryStore
        >>> def a(x): return x
        >>> from router._calls import PathCaller
        >>> from router._recorder import Recorder
        >>> clock, store = FakeClock(), MemoryStore()
        >>> admission = Admission(
        ...     store, "t", clock, PathCaller(clock), Recorder(store, "t", clock)
        ... )
        >>> admission.add([Path(a)])
        >>> admission.admit(admission.paths[0], 0.0, None)
        Admitted(reserved=0.0)
    """

    def __init__(  # noqa: PLR0917 - the controls of one router, named once
        self,
        store: Store,
        task: str,
        clock: Clock,
        caller: PathCaller,
        recorder: Recorder,
        breaker: Breaker | None = None,
        budget: Budget | None = None,
        customer_limit: RateLimit | None = None,
    ) -> None:
        self.task = task
        self._clock = clock
        self._caller = caller
        self._recorder = recorder
        self.limiter = Limiter(store, task)  # shared limits count in the store
        self.gate = PathGate(store, task, clock, breaker)
        self.budget: BudgetKeeper | None = (
            None if budget is None else BudgetKeeper(budget, store, task, self._budget_alert)
        )
        self._spending: Spending = NoBudget() if self.budget is None else self.budget
        self._customer_limit = customer_limit
        self.rollouts = Rollouts()
        self.shadows: dict[str, float] = {}
        self.paths: tuple[Path, ...] = ()
        self.by_name: dict[str, Path] = {}
        self.releases: dict[str, Callable[[], None]] = {}  # capped path -> give back a slot
        self._benched: dict[str, float] = {}  # path -> until when it is kept out (auth)
        self._names: tuple[str, ...] = ()
        self._learned: tuple[str, ...] = ()
        self._last_resorts: tuple[str, ...] = ()

    def add(
        self, paths: Sequence[Path], canary: Canary | None = None, shadow: float | None = None
    ) -> None:
        """Admit new paths, with their rate limits and in-flight caps (and as a canary, or
        a shadow called on a ``shadow`` share of requests)."""
        for path in paths:
            self.limiter.configure(path.name, path.rate_limit, path.max_in_flight)
            if path.max_in_flight is not None:  # its slot is given back when a call ends
                self.releases[path.name] = functools.partial(self.limiter.release, path.name)
            if canary is not None:
                self.rollouts.start(path.name, canary)
            if shadow is not None:
                self.shadows = {**self.shadows, path.name: shadow}
        self.by_name = {**self.by_name, **{p.name: p for p in paths}}
        self.paths = (*self.paths, *paths)
        self._names = tuple(p.name for p in self.paths)
        self._learned = tuple(p.name for p in self.paths if not p.last_resort)
        self._last_resorts = tuple(p.name for p in self.paths if p.last_resort)

    def known(self, name: str) -> str:
        """``name`` if it is one of the paths, else ConfigError."""
        if name not in self.by_name:
            raise ConfigError(
                f"task {self.task!r} has no path {name!r}; its paths are {list(self.by_name)}"
            )
        return name

    def modes(self) -> dict[str, str]:
        """Each path's mode in the store: ``auto``, ``disabled`` or ``forced``."""
        states = self.gate.states()
        return {name: states[name].mode if name in states else "auto" for name in self.by_name}

    # At plan time: who may be ranked.

    def admit_customer(self, customer: str, now: float) -> None:
        """Take a slot of ``customer``'s rate limit, or raise :class:`RateLimitExceeded`."""
        if self._customer_limit is None:
            return
        key = f"customer:{customer}"
        limiter = self.limiter
        if not limiter.limited(key):
            limiter.configure(key, self._customer_limit, None)
        if not limiter.acquire(key, now):  # a rate, no in-flight cap: nothing to release
            wait = limiter.wait(key, now)
            raise RateLimitExceeded(
                f"customer {customer!r} is over its rate limit for task {self.task!r}; "
                f"retry in {wait:.3g} s",
                retry_after=wait,
            )

    def candidates(
        self, now: float
    ) -> tuple[Sequence[str], Sequence[str], str | None, Sequence[str]]:
        """The learned paths the policy may choose from, the last resorts (in order), the
        path whose half-open breaker trial this run makes, and the canaries admitted."""
        benched = self._benched
        if benched:
            for name, until in list(benched.items()):
                if until <= now:
                    del benched[name]
        names = self._names
        if benched:
            names = tuple(n for n in names if n not in benched)
        stuck = self._caller.stuck  # too many of their calls hang: not offered for now
        if stuck:
            names = tuple(n for n in names if n not in stuck)
        admitted, trial = self.gate.admit(names, now)
        by_name, rollouts, shadows = self.by_name, self.rollouts, self.shadows
        hidden = bool(shadows) or rollouts.held_back_any()
        if admitted is self._names and not hidden:
            return self._learned, self._last_resorts, trial, ()  # the common case: no copies
        canaries = [n for n in admitted if n in rollouts]
        if hidden:
            admitted = [n for n in admitted if n not in shadows and not rollouts.held_back(n)]
        learned = [n for n in admitted if not by_name[n].last_resort]
        last_resorts = [n for n in admitted if by_name[n].last_resort]
        return learned, last_resorts, trial, canaries

    def over(self, customer: str | None, now: float) -> str | None:
        """The scope whose daily budget is spent, if any."""
        return self._spending.over(customer, now)

    def within_budget(
        self, scope: str, learned: Sequence[str], last_resorts: Sequence[str]
    ) -> tuple[Sequence[str], Sequence[str]]:
        """The candidates left when ``scope``'s daily budget is spent (or BudgetExceeded)."""
        assert self.budget is not None  # only a real budget is ever spent
        action = self.budget.budget.when_exceeded
        if action == "escalate":
            return [], []
        cheapest = self._cheapest()
        if action == "cheapest" and cheapest is not None:
            return [cheapest], []
        how = "" if action == "block" else " (no path has a price to pick the cheapest by)"
        raise BudgetExceeded(
            f"the daily budget of {scope} is spent{how}; raise Budget(...) limits or wait "
            "for the next UTC day",
            scope,
        )

    # At call time: may this path be called now?

    def admit(
        self,
        path: Path,
        now: float,
        customer: str | None,
        *,
        patience: float | None = None,
        shadow: bool = False,
    ) -> Ticket:
        """May ``path`` be called now? Reserves its price and takes its call slot.

        Args:
            path: the path to call.
            now: the clock time.
            customer: whose daily budget is charged too.
            patience: the clock time until which the call may wait for its rate limit's
                next slot (None: it may not wait; ``math.inf``: no deadline).
            shadow: a shadow call, never ranked: its path's mode, breaker and bench are
                checked here, and a spent budget skips it instead of stopping the run.
        """
        name = path.name
        if shadow and (
            name in self._benched or name in self._caller.stuck or self.gate.blocks(name, now)
        ):
            return Skip()
        reserved = self._reserve(path, now, customer, shadow=shadow)
        if not isinstance(reserved, float):
            return reserved
        limiter = self.limiter
        if not limiter.limited(name) or limiter.acquire(name, self._clock()):
            return Admitted(reserved)
        if patience is not None:  # nothing else to try: wait for the rate limit
            at = self._clock()
            wait = limiter.wait(name, at)
            if wait > 0 and at + wait < patience:
                return Wait(wait, reserved)
        self.give_back(customer, reserved)
        return Skip()

    def _reserve(
        self, path: Path, now: float, customer: str | None, *, shadow: bool
    ) -> float | Skip | Stop:
        """Reserve a priced path's cost against the daily budgets (0.0: nothing to
        reserve), or say what to do when a budget refused."""
        price = path.price
        if not price:
            return 0.0
        refused, reserved = self._spending.reserve(customer, price, now)
        if refused is None:  # not reserved (the store did not answer): counted after the call
            return float(price) if reserved else 0.0
        if shadow:
            return Skip()
        if self._when_exceeded() != "cheapest":
            return Stop(refused)
        if path.name != self._cheapest():
            return Skip()
        return 0.0  # the fallback of last resort: counted after the call

    def after_wait(self, path: Path, customer: str | None, reserved: float) -> bool:
        """Take the slot waited for; if it is gone, give the path's price back."""
        if self.limiter.acquire(path.name, self._clock()):
            return True
        self.give_back(customer, reserved)
        return False

    def give_back(self, customer: str | None, reserved: float) -> None:
        """Give back a price reserved for a call that was not made."""
        if reserved:
            self._spending.spend(customer, -reserved, 0, self._clock())

    # After the call: count it.

    def count(
        self, path: Path, judged: Judged, customer: str | None, reserved: float
    ) -> tuple[float, int]:
        """Count one call towards its path's breaker, rate limit and the daily budgets
        (``reserved``: already counted); its cost and tokens."""
        gate = self.gate
        if gate.breaker is not None:
            failed = judged.errored and judged.attempt.error_class != "client_error"
            gate.observe(path.name, failed, self._clock())
        cost = (judged.cost or 0.0) + judged.judge_cost
        tokens = judged.tokens + judged.judge_tokens
        if judged.tokens:  # against the path's tokens_per_minute, if it has one
            self.limiter.used(path.name, judged.tokens, self._clock())
        if self.budget is not None:
            self.budget.spend(customer, cost - reserved, tokens, self._clock())
        return cost, tokens

    def run_spent(self, tokens: int, cost: float) -> bool:
        """Has one run spent its ``Budget(run_tokens=..., run_cost=...)``?"""
        return self.budget is not None and self.budget.budget.run_spent(tokens, cost)

    def bench(self, path: Path, error: BaseException | None) -> None:
        """Keep a path whose credentials were refused out of routing for a while."""
        from router._redact import error_text  # a provider's error text may hold keys

        self._benched[path.name] = self._clock() + AUTH_COOLDOWN
        self._recorder.warn(
            "auth",
            path.name,
            f"path {path.name!r} was refused ({type(error).__name__}: {error_text(error)}); "
            f"it is out of routing for {AUTH_COOLDOWN:g} s: check its credentials",
        )

    def _when_exceeded(self) -> str:
        return "" if self.budget is None else self.budget.budget.when_exceeded

    def _cheapest(self) -> str | None:
        priced = [p for p in self.paths if p.price is not None]
        return min(priced, key=lambda p: p.price or 0.0).name if priced else None

    def _budget_alert(self, scope: str, message: str, share: float) -> None:
        self._recorder.warn("budget", None, message)
