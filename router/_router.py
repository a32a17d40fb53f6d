"""``Router``: pick a path by Thompson sampling, call it, score it, learn, fall back."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from bandits import ConfigError, RouterError, check_score
from bandits._adaptive import AdaptiveThompson
from bandits._policy import Choice, Policy, Reset
from router._attempts import AttemptJudge, Judged
from router._breaker import Breaker, PathGate
from router._budget import Budget, BudgetExceeded, BudgetKeeper, warn_unpriced
from router._calls import Called, PathCaller, wait_for_future
from router._canary import Canary, Rollouts
from router._clock import Clock
from router._errors import AllPathsFailed, RateLimitExceeded
from router._escalation import Alert, Escalation
from router._events import Observer, attempt_event, notify, run_event
from router._flow import CallPath, Escalate, GiveUp, RunPlan, Serve
from router._guard import CURRENT_GUARD, InputTooLarge, LoopDetected, RunGuard, input_size
from router._idempotency import HANDED_OVER, IdempotencyCache
from router._limits import Limiter, RateLimit
from router._names import check_name, shown
from router._outage import OutageLog
from router._path import Path
from router._result import RunResult
from router._retry import Retry
from router._settings import (
    ESCALATION,
    PathLike,
    RealSleep,
    Sleep,
    check_clock,
    check_deadline,
    check_key,
    check_observers,
    check_paths,
    check_positive_int,
    check_request_id,
    check_retry,
    check_seed,
    check_sleep,
    check_store_timeout,
    classifier,
    never_blocks,
    never_waits,
    open_store_of,
    replayed,
    rules,
)
from router._shadow import ShadowRunner
from router._stats import stats_table
from router._taxonomy import Classifier, Classify, ErrorClass
from storage import (
    Outcome,
    PathPosterior,
    Report,
    Store,
    StoreError,
    StoreWaits,
    store_waits,
)

if TYPE_CHECKING:
    import pandas as pd

    from router._streaming import AsyncStream, Stream

logger = logging.getLogger("outcome_router")

AlertHandler = Callable[[Alert], None]

AUTH_COOLDOWN = 300.0  # seconds a path whose credentials were refused stays out of routing


class Router:
    """Route each request to one of several paths and learn which one works.

    Each run samples every path's Beta posterior once (Thompson sampling), calls the
    best-sampled path, scores its output with ``success_fn`` and records the outcome in
    the store, which updates that path's posterior. A path that raises scores 0 and,
    with ``fallback=True``, the next path in the sampled order is tried.

    Args:
        paths: callables (sync or async, one argument) or :class:`Path` objects.
        success_fn: ``success_fn(output)`` or ``success_fn(input, output)`` returning a
            bool or a float in [0, 1]; an ``async def`` one is awaited (on the caller's
            event loop under :meth:`arun`, on the router's own loop under :meth:`run`).
        task: the name posteriors are kept under; routers sharing a task and a store
            share what they learn.
        store: a :class:`storage.Store`, a store URL, a file path (``str`` or
            ``pathlib.Path``), or None for the default SQLite file
            (``$OUTCOME_ROUTER_DB`` or ``./outcome-router.db``).
            A database the router opens from a URL is wrapped in
            :class:`storage.ResilientStore`: while it is unreachable the router routes
            from the last posteriors it read and queues up to 10,000 outcomes.
        seed: seed of the router's ``numpy.random.Generator``.
        clock: zero-argument callable returning seconds (default ``time.time``).
        sleep: how to wait before a retry (default: ``clock.sleep`` when the clock has
            one, as :class:`FakeClock` does, else ``time.sleep``).
        fallback: try the next path when one raises.
        policy: how paths are ordered (default :class:`AdaptiveThompson`).
        retry: how failed calls are retried (default: never; the next path is the
            retry). A path's own ``Path(retry=...)`` takes precedence.
        deadline: seconds one run may take, retries and fallbacks included.
        fallback_below: also fall back when an output scores below this; with no
            path left, the best output is served (or escalated).
        escalation: where requests go when no path serves them (see :class:`Escalation`).
        classify: a rule ``error -> ErrorClass | None`` (or a :class:`Classifier`)
            checked before the default classification of path exceptions.
        on_alert: called with an :class:`Alert` when a path's credentials are refused
            or a request is escalated (default: a logged warning).
        customer_limit: a :class:`RateLimit` applied to each customer of ``run(...,
            customer=...)``; over it, ``RateLimitExceeded`` is raised.
        idempotency_window: seconds a result is replayed for a repeated
            ``idempotency_key``.
        store_timeout: seconds any store call of a run may wait (for a lock, a
            connection, an answer), and at most half of what is left of the run's
            deadline; a store that does not answer in time is unreachable: a store the
            router opened goes to degraded mode (see :class:`storage.ResilientStore`).
            The time store calls take is not counted against the deadline of the run's
            path calls.
        breaker: a :class:`Breaker` per path, shared through the store (default: none).
        budget: a :class:`Budget` on tokens and cost per run, task-day and customer-day.
        observers: receive an event per attempt and per run (logs, metrics, traces;
            see :class:`Observer`).
        max_input_size: inputs larger than this (characters of a string, else of its
            JSON form) are refused with ``InputTooLarge`` before any path is called.
        loop_limit: a run that would attempt one path, or call one tool (see
            :func:`note_tool_call`), more than this many times stops with ``LoopDetected``.

    Example:
        >>> def fast(text): return text.upper()
        >>> def slow(text): return text.title()
        >>> router = Router([fast, slow], success_fn=lambda out: out is not None,
        ...                 task="doc", store="memory://", seed=1)
        >>> router.run("hi") in ("HI", "Hi")
        True
    """

    def __init__(
        self,
        paths: Sequence[PathLike],
        success_fn: Callable[..., Any],
        task: str = "default",
        store: Store | str | os.PathLike[str] | None = None,
        *,
        seed: int | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        fallback: bool = True,
        policy: Policy | None = None,
        retry: Retry | None = None,
        deadline: float | None = None,
        fallback_below: float | None = None,
        escalation: Escalation | None = None,
        classify: Classify | Classifier | None = None,
        on_alert: AlertHandler | None = None,
        customer_limit: RateLimit | None = None,
        idempotency_window: float = 3600.0,
        store_timeout: float = 2.0,
        breaker: Breaker | None = None,
        budget: Budget | None = None,
        observers: Sequence[Observer] = (),
        max_input_size: int | None = None,
        loop_limit: int | None = None,
    ) -> None:
        import numpy as np

        self._paths = check_paths(paths)
        self._by_name = {p.name: p for p in self._paths}
        self._index_paths()
        self.task = check_name("task", task)
        self._rng = np.random.default_rng(check_seed(seed))
        self._clock: Clock = check_clock(clock) or time.time
        self._sleep: Sleep = check_sleep(sleep, self._clock)
        self._store, self._owns_store = open_store_of(store)
        self._store_timeout = check_store_timeout(store_timeout)
        self._store_never_waits = never_waits(self._store)
        if policy is not None and not isinstance(policy, Policy):
            raise ConfigError(
                f"policy must have choose() and observe() (see router.Policy), got {shown(policy)}"
            )
        if policy is None:  # errors are rescued only when the router falls back
            policy = AdaptiveThompson() if fallback else AdaptiveThompson(rescue_share=0.0)
        self.policy: Policy = policy
        self._rules = rules(fallback, deadline, fallback_below, escalation)
        self._deadline = deadline
        self._escalation = escalation
        if on_alert is not None and not callable(on_alert):
            raise ConfigError(f"on_alert must be callable with an Alert, got {shown(on_alert)}")
        self._on_alert = on_alert
        self._limiter = Limiter(self._store, self.task)  # shared limits count in the store
        if customer_limit is not None and not isinstance(customer_limit, RateLimit):
            raise ConfigError(
                f"customer_limit must be a RateLimit(...), got {shown(customer_limit)}"
            )
        self._customer_limit = customer_limit
        self._idempotency = IdempotencyCache(idempotency_window)
        self._observers = check_observers(observers)
        self._max_input_size = check_positive_int("max_input_size", max_input_size)
        self._loop_limit = check_positive_int("loop_limit", loop_limit)
        self._rollouts = Rollouts()
        self._shadows: dict[str, float] = {}
        self._shadow_runner = ShadowRunner()
        self._gate = PathGate(self._store, self.task, self._clock, breaker)
        self._budget = (
            None
            if budget is None
            else BudgetKeeper(budget, self._store, self.task, self._budget_alert)
        )
        if budget is not None:
            _check_budget(budget, self._paths, escalation)
        self._caller = PathCaller(self._clock)
        self._judge = AttemptJudge(
            success_fn,
            classifier(classify),
            check_retry(retry),
            self._rng,
            self._clock,
            run_coroutine=self._caller.run_coroutine,  # an async success_fn under run()
        )
        # Request ids: 16 random hex digits per router, then a counter (unique, cheap).
        self._id_prefix = os.urandom(8).hex()
        self._ids = itertools.count()
        self._known: dict[str, PathPosterior] = {}
        self._benched: dict[str, float] = {}  # path -> until when it is kept out (auth)
        self._releases: dict[str, Callable[[], None]] = {}  # capped path -> give back a slot
        self.unrecorded = 0
        """Outcomes the store failed to record (logged when the failures start and end)."""
        self._read_log = OutageLog(f"routing task {self.task!r} from its last known posteriors")
        self._record_log = OutageLog(f"outcomes of task {self.task!r} not recorded")
        self._adopt(self._paths)

    @property
    def paths(self) -> tuple[Path, ...]:
        """The router's paths, in the order given."""
        return self._paths

    def add_path(
        self, path: PathLike, *, canary: bool | Canary = False, shadow: float | None = None
    ) -> Path:
        """Add a path while the router is serving; it starts from the prior.

        Args:
            path: the new path.
            canary: roll it out progressively (True for the default :class:`Canary`:
                1%, 5%, 25%, then all traffic), promoting it only while its posterior
                is not credibly worse than the best incumbent's, rolling it back as
                soon as it is (see :meth:`rollouts`).
            shadow: run it in the background on this share of requests (0 < shadow
                <= 1): its output is never served, its score is recorded and learned
                (outcome rows with a negative attempt number and ``{"shadow": True}``).

        Raises:
            ConfigError: the path is invalid or its name is taken.

        Example:
            >>> def a(x): return x
            >>> def b(x): return x
            >>> router = Router([a], lambda out: True, store="memory://")
            >>> router.add_path(b).name, [p.name for p in router.paths]
            ('b', ['a', 'b'])
        """
        new = check_paths([*self._paths, path])[-1]
        rollout = Canary() if canary is True else canary or None
        if rollout is not None and not isinstance(rollout, Canary):
            raise ConfigError(f"canary must be True, False or a Canary(...), got {shown(canary)}")
        if shadow is not None and not (
            isinstance(shadow, int | float) and not isinstance(shadow, bool) and 0 < shadow <= 1
        ):
            raise ConfigError(f"shadow must be a share of requests in (0, 1], got {shown(shadow)}")
        if rollout is not None and shadow is not None:
            raise ConfigError("a path is either a canary or a shadow, not both")
        self._adopt([new])
        if rollout is not None:
            self._rollouts.start(new.name, rollout)
        if shadow is not None:
            self._shadows = {**self._shadows, new.name: float(shadow)}
        self._by_name = {**self._by_name, new.name: new}
        self._paths = (*self._paths, new)
        self._index_paths()
        return new

    def rollouts(self) -> dict[str, str]:
        """Each canary's state: ``"canary at 5%"``, ``"promoted"`` or ``"rolled back"``.

        Example:
            >>> def a(x): return x
            >>> def b(x): return x
            >>> router = Router([a], lambda out: True, store="memory://")
            >>> _ = router.add_path(b, canary=True)
            >>> router.rollouts()
            {'b': 'canary at 1%'}
        """
        return self._rollouts.states()

    def abandoned_calls(self) -> dict[str, int]:
        """Calls per path still running after the router stopped waiting for them.

        A sync path that overran its timeout (or whose ``arun`` was cancelled) keeps its
        worker thread until it returns; Python cannot stop it. While a path has 4 such
        calls it is not offered (its in-flight slots stay taken until they end), so a
        path that hangs cannot take every worker of the router.

        Example:
            >>> def fast(x): return x
            >>> Router([fast], lambda out: True, store="memory://").abandoned_calls()
            {}
        """
        return self._caller.abandoned()

    def wait_for_shadows(self, timeout: float | None = None) -> None:
        """Wait until the shadow calls started so far have been recorded."""
        self._shadow_runner.wait(timeout)

    def warm_up(self) -> dict[str, Exception | None]:
        """Before traffic: load what the paths need and open their connections.

        Calls each path function's ``warm_up()`` (an async path's ``awarm_up()``, on the
        router's own loop, where :meth:`run` calls it); LLM paths send one minimal
        request each (one token out). Nothing is recorded or learned.

        Returns:
            Each path that has a warm-up, with None or the error it raised (also logged
            as a warning; a provider down at start-up is routed around, not raised).

        Example:
            >>> def a(x): return x
            >>> Router([a], lambda out: True, store="memory://").warm_up()  # nothing to warm
            {}
        """
        from router._warmup import warm_up

        return warm_up(self._paths, self._caller.run_coroutine)

    async def awarm_up(self) -> dict[str, Exception | None]:
        """:meth:`warm_up` for :meth:`arun`: every path at once, on the running loop."""
        from router._warmup import awarm_up

        return await awarm_up(self._paths)

    @property
    def store(self) -> Store:
        """The store this router reads and writes."""
        return self._store

    def disable_path(self, name: str) -> None:
        """Kill switch: stop routing to ``name`` in every router on the store (within 1 s).

        Example:
            >>> def a(x): return "a"
            >>> def b(x): return "b"
            >>> router = Router([a, b], lambda out: True, store="memory://")
            >>> router.disable_path("a")
            >>> {router.run(i) for i in range(20)}
            {'b'}
        """
        self._gate.set_mode(self._known_path(name), "disabled")

    def enable_path(self, name: str) -> None:
        """Undo :meth:`disable_path` or :meth:`force_path`: the policy decides again."""
        self._gate.set_mode(self._known_path(name), "auto")

    def force_path(self, name: str) -> None:
        """Route every request to ``name`` first (in every router on the store), bypassing
        the policy; other paths remain fallbacks only if ``name`` is the sole candidate."""
        self._gate.set_mode(self._known_path(name), "forced")

    def path_modes(self) -> dict[str, str]:
        """Each path's mode in the store: ``auto``, ``disabled`` or ``forced``."""
        states = self._gate.states()
        return {name: states[name].mode if name in states else "auto" for name in self._by_name}

    def run(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Serve one request and return the output of the path that served it.

        Args:
            request_input: passed to the path.
            customer: who the request is for (rate limits; recorded on each outcome).
            deadline: seconds this run may take (overrides the router's).
            idempotency_key: a repeated key within ``idempotency_window`` returns the
                first request's output without calling a path again.

        Raises:
            AllPathsFailed: no path served (every attempt is in its ``attempts``).
            RateLimitExceeded: ``customer`` is over ``customer_limit``.
            InvalidScoreError, ScoringError: ``success_fn`` is broken (the attempt is
                recorded as unscored and the posterior left alone).
        """
        return self.route(
            request_input, customer=customer, deadline=deadline, idempotency_key=idempotency_key
        ).output

    def route(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
    ) -> RunResult:
        """Like :meth:`run`, returning the full :class:`RunResult`."""
        if idempotency_key is None:
            if self._store_never_waits:  # memory://: nothing to bound (the hot path)
                return self._route(request_input, customer, deadline, None)
            return self._route_bounded(request_input, customer, deadline)
        key = check_key(idempotency_key)
        while True:
            owner, future = self._idempotency.claim(key, self._clock())
            if owner:
                break
            first = future.result()
            if first is not HANDED_OVER:  # else the first caller was cancelled: claim again
                return replayed(first)
        with self._keyed(idempotency_key, future) as kept:
            kept.append(self._route_bounded(request_input, customer, deadline))
        return kept[0]

    async def arun(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Async :meth:`run`: async paths are awaited, sync paths run in a worker thread."""
        result = await self.aroute(
            request_input, customer=customer, deadline=deadline, idempotency_key=idempotency_key
        )
        return result.output

    async def aroute(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
    ) -> RunResult:
        """Async :meth:`route`."""

        if idempotency_key is None:
            if self._store_never_waits:
                return await self._aroute(request_input, customer, deadline, None)
            return await self._aroute_bounded(request_input, customer, deadline)
        key = check_key(idempotency_key)
        while True:
            owner, future = self._idempotency.claim(key, self._clock())
            if owner:
                break
            # Never asyncio.wrap_future: a waiter cancelled would cancel the shared future.
            first = await wait_for_future(future)
            if first is not HANDED_OVER:  # else the first caller was cancelled: claim again
                return replayed(first)
        with self._keyed(idempotency_key, future) as kept:
            kept.append(await self._aroute_bounded(request_input, customer, deadline))
        return kept[0]

    def run_stream(
        self, request_input: Any, *, customer: str | None = None, deadline: float | None = None
    ) -> Stream:
        """Serve one request as a stream: iterate the result for the chosen path's chunks.

        A path that fails before its first chunk falls back as in :meth:`run`; once
        chunks flow, the run is committed to that path, ``success_fn`` scores the
        assembled output at the end, and a failure mid-stream is recorded and raised as
        :class:`StreamInterrupted`. See :mod:`router._streaming`.

        Example:
            >>> def words(text):
            ...     yield from text.split()
            >>> router = Router([words], lambda out: bool(out), store="memory://")
            >>> list(router.run_stream("one two"))
            ['one', 'two']
        """
        from router._streaming import Stream

        return Stream(self, request_input, customer, deadline)

    def arun_stream(
        self, request_input: Any, *, customer: str | None = None, deadline: float | None = None
    ) -> AsyncStream:
        """:meth:`run_stream` for async code: ``async for chunk in router.arun_stream(x)``."""
        from router._streaming import AsyncStream

        return AsyncStream(self, request_input, customer, deadline)

    def report(self, request_id: str, score: object) -> Report:
        """Set or override the score of a served request later (delayed feedback).

        Applies to the request's last attempt (the one whose output was served).
        Reporting the same score again changes nothing.

        Raises:
            InvalidScoreError: ``score`` is not a bool or a number in [0, 1].
            ConfigError: ``request_id`` is not a string.
            UnknownRequestError: the store holds no such request for this task, or no
                path served it (every attempt failed, or it was escalated).

        Example:
            >>> def echo(x): return x
            >>> router = Router([echo], lambda out: True, store="memory://")
            >>> result = router.route("hi")
            >>> router.report(result.request_id, False).score
            0.0
        """
        value = check_score(score)
        request_id = check_request_id(request_id)
        with self._waiting():
            return self._store.report(self.task, request_id, value, self._clock())

    def stats(self) -> pd.DataFrame:
        """Per-path table: alpha, beta, mean, 95% credible interval, n, traffic share,
        tokens, cost, unpriced attempts and cost per success.

        ``traffic_share`` is the path's share of all scored attempts of this task;
        tokens and cost sum what the path's attempts recorded (``Path(price=...)`` or
        ``Metered``), pruned outcomes included. ``unpriced`` counts the answered attempts
        whose cost is unknown; while there are any, ``cost`` and ``cost_per_success`` are
        NaN (unknown, not free). The same columns, with the same dtypes, begin
        :func:`storage.path_stats`.

        Example:
            >>> def echo(x): return x
            >>> router = Router([echo], lambda out: True, store="memory://")
            >>> router.stats().columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
            ['alpha', 'beta', 'mean', 'ci_low', 'ci_high', 'n', 'traffic_share', 'tokens',
             'cost', 'unpriced', 'cost_per_success']
        """
        daily = getattr(self._store, "daily_aggregates", None)
        with self._waiting():
            spent = daily(self.task) if callable(daily) else ()
            rows = self._store.posteriors(self.task)
        return stats_table(list(self._by_name), rows, spent)

    def close(self) -> None:
        """Stop worker threads and close the store if this router opened it."""
        self._shadow_runner.close()
        self._caller.close()
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        names = list(self._by_name)
        return f"Router(task={self.task!r}, paths={names!r}, store={self._store.url!r})"

    # The run loop, sync and async: identical but for how they call and wait.

    @contextlib.contextmanager
    def _keyed(self, key: str, future: Future[Any]) -> Iterator[list[RunResult]]:
        """Around the first run of an idempotency key: remember its result, or its error."""
        kept: list[RunResult] = []
        try:
            yield kept
        except BaseException as exc:
            self._idempotency.fail(key, future, exc)
            raise
        self._idempotency.finish(key, future, kept[0], self._clock())

    def _begin(
        self, request_input: Any, customer: str | None, deadline: float | None
    ) -> tuple[RunPlan, contextvars.Token[RunGuard | None]]:
        """Guardrails, the plan, and the run's loop guard; observers hear of a refusal."""
        try:
            if self._max_input_size is not None:
                self._check_input(request_input, self._max_input_size)
            plan = self._plan(customer, deadline)
        except RouterError as exc:  # refused before any path: observers still hear of it
            self._refused(request_input, customer, exc)
            raise
        guard = RunGuard(self._loop_limit) if self._loop_limit else None
        return plan, CURRENT_GUARD.set(guard)

    def _refused(self, request_input: Any, customer: str | None, error: RouterError) -> None:
        """Tell the observers of a request refused before any call (input too large, a
        customer over its rate limit, a spent budget): a run with no attempt."""
        if not self._observers:
            return
        now = self._clock()
        plan = RunPlan(
            f"{self._id_prefix}{next(self._ids):016x}", [], {}, self._rules, started_at=now
        )
        event = run_event(self.task, plan, request_input, customer, None, error, now)
        notify(self._observers, "on_run", event)

    def _end(
        self,
        plan: RunPlan,
        request_input: Any,
        customer: str | None,
        result: RunResult | None,
        error: RouterError | None,
    ) -> None:
        """Tell the observers how the run ended, and start its shadow calls."""
        if self._observers:
            event = run_event(
                self.task, plan, request_input, customer, result, error, self._clock()
            )
            notify(self._observers, "on_run", event)
        if result is not None and self._shadows:
            self._shadow(plan, request_input, customer)

    def _route_bounded(
        self, request_input: Any, customer: str | None, deadline: float | None
    ) -> RunResult:
        """:meth:`_route` with its store calls bounded (nothing to bound for memory://)."""
        if self._store_never_waits:
            return self._route(request_input, customer, deadline, None)
        with store_waits(self._run_waits(deadline)) as waits:
            return self._route(request_input, customer, deadline, waits)

    def _route(
        self,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        waits: StoreWaits | None,
    ) -> RunResult:
        plan, guard = self._begin(request_input, customer, deadline)
        try:
            result = self._drive(plan, request_input, customer, waits)
        except RouterError as exc:
            self._end(plan, request_input, customer, None, exc)
            raise
        finally:
            CURRENT_GUARD.reset(guard)
        self._end(plan, request_input, customer, result, None)
        return result

    def _run_waits(self, deadline: float | None) -> StoreWaits:
        """The bound of a run's store calls: ``store_timeout`` each, and half of what is
        left of its deadline."""
        limit = self._deadline if deadline is None else deadline
        valid = isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0
        at = self._clock() + limit if valid and limit is not None else None
        return StoreWaits(self._store_timeout, at, self._clock)

    def _waiting(self) -> contextlib.AbstractContextManager[Any]:
        """Bound a store call made outside a run (a report, the stats) by ``store_timeout``."""
        if self._store_never_waits:
            return contextlib.nullcontext(None)
        return store_waits(StoreWaits(self._store_timeout, None, self._clock))

    def _drive(
        self, plan: RunPlan, request_input: Any, customer: str | None, waits: StoreWaits | None
    ) -> RunResult:
        while True:
            if waits is not None and waits.spent:  # a slow store is never charged to a path
                plan.excuse(waits.take())
            if not isinstance(action := plan.next_action(self._clock()), CallPath):
                break
            if action.wait > 0:
                self._sleep(action.wait)
            prepared = self._prepare_call(plan, action, customer)
            if prepared is None:
                continue
            reserved, slot_wait = prepared
            if slot_wait > 0:  # the last path, rate-limited: wait for its next slot
                self._sleep(slot_wait)
                if not self._after_wait(plan, action, customer, reserved):
                    continue
            called = self._caller.call(
                action.path,
                request_input,
                action.timeout,
                action.feedback,
                done=self._releases.get(action.path.name),
            )
            judged = self._judge.judge(action, request_input, called)
            self._settle(plan, action, request_input, called, judged, customer, reserved)
        if isinstance(action, Escalate):
            return self._escalate(plan, action, request_input)
        return self._conclude(plan, action)

    async def _aroute_bounded(
        self, request_input: Any, customer: str | None, deadline: float | None
    ) -> RunResult:
        """:meth:`_aroute` with its store calls bounded (nothing to bound for memory://)."""
        if self._store_never_waits:
            return await self._aroute(request_input, customer, deadline, None)
        with store_waits(self._run_waits(deadline)) as waits:
            return await self._aroute(request_input, customer, deadline, waits)

    async def _aroute(
        self,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        waits: StoreWaits | None,
    ) -> RunResult:
        plan, guard = self._begin(request_input, customer, deadline)
        try:
            result = await self._adrive(plan, request_input, customer, waits)
        except RouterError as exc:
            self._end(plan, request_input, customer, None, exc)
            raise
        finally:
            CURRENT_GUARD.reset(guard)
        self._end(plan, request_input, customer, result, None)
        return result

    async def _adrive(
        self, plan: RunPlan, request_input: Any, customer: str | None, waits: StoreWaits | None
    ) -> RunResult:
        import asyncio

        while True:
            if waits is not None and waits.spent:  # a slow store is never charged to a path
                plan.excuse(waits.take())
            if not isinstance(action := plan.next_action(self._clock()), CallPath):
                break
            if action.wait > 0:
                await self._asleep(action.wait)
            prepared = self._prepare_call(plan, action, customer)
            if prepared is None:
                continue
            reserved, slot_wait = prepared
            started: float | None = None
            try:
                if slot_wait > 0:  # the last path, rate-limited: wait for its next slot
                    await self._asleep(slot_wait)
                    if not self._after_wait(plan, action, customer, reserved):
                        continue
                started = self._clock()
                called = await self._caller.acall(
                    action.path,
                    request_input,
                    action.timeout,
                    action.feedback,
                    done=self._releases.get(action.path.name),
                )
                judged = await self._judge.ajudge(action, request_input, called)
            except asyncio.CancelledError:
                self._cancelled(plan, action, customer, reserved, started)
                raise
            self._settle(plan, action, request_input, called, judged, customer, reserved)
        if isinstance(action, Escalate):  # on a worker of ours, not asyncio's default pool
            escalated: RunResult = await self._caller.run_in_worker(
                self._escalate, plan, action, request_input
            )
            return escalated
        return self._conclude(plan, action)

    async def _asleep(self, seconds: float) -> None:
        """Wait under arun without blocking the event loop: ``asyncio.sleep``, an async
        ``sleep=`` awaited, a fake clock's sleep as it is, any other on a worker thread."""
        import asyncio

        sleep = self._sleep
        if isinstance(sleep, RealSleep):
            await asyncio.sleep(seconds)
        elif never_blocks(sleep):
            sleep(seconds)
        elif inspect.iscoroutinefunction(sleep):
            await sleep(seconds)
        else:
            await self._caller.run_in_worker(sleep, seconds)

    def _cancelled(
        self,
        plan: RunPlan,
        action: CallPath,
        customer: str | None,
        reserved: float,
        started: float | None,
    ) -> None:
        """An arun cancelled between reserving a call and judging it: give the price back
        and record the attempt (if the call started) as cancelled, unscored. Its in-flight
        slot is given back when its worker ends (see PathCaller)."""
        now = self._clock()
        self._unreserve(customer, reserved, now)
        if started is None:
            return
        self._record(
            Outcome(
                plan.request_id,
                action.number,
                self.task,
                action.path.name,
                None,
                started,
                error_class=ErrorClass.CANCELLED.value,
                latency_ms=(now - started) * 1000.0,
                propensity=plan.propensities.get(action.path.name),
                customer=customer,
                metadata={"error": "CancelledError"},
            )
        )

    def _plan(self, customer: str | None, deadline: float | None) -> RunPlan:
        now = self._clock()
        if customer is not None:
            self._admit(check_name("customer", customer), now)
        limit = self._deadline if deadline is None else check_deadline(deadline)
        posteriors = self._posteriors()
        tick = 0
        for row in posteriors.values():  # a plain loop: this runs on every request
            tick += row.n
        learned, last_resorts, trial, canaries = self._candidates(now)
        over = None if self._budget is None else self._budget.over(customer, now)
        if over is not None:
            learned, last_resorts = self._over_budget(over, learned, last_resorts)
        choice = (
            self.policy.choose(learned, posteriors, tick, self._rng) if learned else Choice([], {})
        )
        for reset in choice.resets:
            self._reset(reset)
        order = list(choice.order)
        propensities = choice.propensities
        if trial is not None and trial in order:  # the breaker's half-open trial goes first
            order.remove(trial)
            order.insert(0, trial)
            # ... chosen for certain, not drawn: that is the propensity to log
            propensities = {name: float(name == trial) for name in order}
        if self._rollouts.active():
            order, propensities = self._canaries(
                order, propensities, posteriors, learned, allowed=canaries, now=now
            )
        by_name = self._by_name
        rules = self._rules if limit is None else self._rules.until(now + limit)
        plan = RunPlan(
            f"{self._id_prefix}{next(self._ids):016x}",
            [by_name[name] for name in (*order, *last_resorts)],
            propensities,
            rules,
            started_at=now,
            tick=tick,
        )
        if over is not None and not learned and not last_resorts:  # "escalate"
            plan.stop(f"the daily budget of {over} is spent")
        return plan

    def _canaries(
        self,
        order: list[str],
        propensities: Mapping[str, float],
        posteriors: Mapping[str, PathPosterior],
        incumbents: Sequence[str],
        *,
        allowed: Sequence[str],
        now: float,
    ) -> tuple[list[str], Mapping[str, float]]:
        """Review the canaries' stages, and put one of ``allowed`` first on its share."""
        for change in self._rollouts.review(posteriors, incumbents, self._rng):
            if "rolled back" in change:
                self._alert(Alert("canary", self.task, change.split(":")[0], change, now))
        chosen, caps = self._rollouts.pick(allowed, self._rng)
        if not caps:
            return order, propensities
        share = 1.0 - sum(caps.values())
        scaled = {name: share * p for name, p in propensities.items()}
        scaled.update(caps)
        if chosen is not None:
            order = [chosen, *order]
        return order, scaled

    def _check_input(self, request_input: Any, limit: int) -> None:
        try:
            size = input_size(request_input)
        except Exception as exc:  # nested too deeply, or a repr() that raises
            raise InputTooLarge(
                f"the size of an input of task {self.task!r} cannot be measured against "
                f"max_input_size={limit} ({type(exc).__name__}: {exc}); pass a string, bytes "
                "or a JSON-serialisable value"
            ) from exc
        if size > limit:
            raise InputTooLarge(
                f"the input of task {self.task!r} has {size} characters, over "
                f"max_input_size={limit}; shorten or split it"
            )

    def _prepare_call(
        self, plan: RunPlan, action: CallPath, customer: str | None
    ) -> tuple[float, float] | None:
        """Count the attempt (loop guard), reserve its price, take a call slot.

        Returns the cost reserved and the seconds to wait for the slot (0.0: taken; after
        a wait the loop takes it with :meth:`_after_wait`), or None when the path is
        skipped (or the run stops). Decides only: the loops do the waiting.
        """
        guard = CURRENT_GUARD.get()
        if guard is not None:
            guard.count(f"path:{action.path.name}")
        reserved = 0.0 if self._budget is None else self._reserve(plan, action, customer)
        if reserved is None:
            return None
        if not self._limiter.limited(action.path.name):
            return reserved, 0.0
        wait = self._slot_wait(plan, action)
        if wait is None:
            self._unreserve(customer, reserved, self._clock())
            return None
        return reserved, wait

    def _shadow(self, plan: RunPlan, request_input: Any, customer: str | None) -> None:
        """Start the shadow calls sampled for this request (in the background).

        A shadow call goes through the same controls as any call: not while its path
        is disabled, benched or its breaker open; within its rate limit; with its
        price reserved against the daily budgets.
        """
        for number, (name, share) in enumerate(self._shadows.items(), start=1):
            if self._rng.random() >= share:
                continue
            path, now = self._by_name[name], self._clock()
            if name in self._benched or name in self._caller.stuck or self._gate.blocks(name, now):
                continue
            reserved = self._reserve_shadow(path, customer, now)
            if reserved is None:
                continue
            if self._limiter.limited(name) and not self._limiter.acquire(name, now):
                self._unreserve(customer, reserved, now)
                continue
            self._shadow_runner.submit(
                self._run_shadow, path, -number, plan, request_input, customer, reserved
            )

    def _reserve_shadow(self, path: Path, customer: str | None, now: float) -> float | None:
        """The price reserved for a shadow call (0.0: none to reserve), None if refused."""
        if self._budget is None or not path.price:
            return 0.0
        return None if self._budget.reserve(customer, path.price, now) else path.price

    def _run_shadow(  # noqa: PLR0917 - private, submitted by _shadow only
        self,
        path: Path,
        number: int,
        plan: RunPlan,
        request_input: Any,
        customer: str | None,
        reserved: float,
    ) -> None:
        action = CallPath(path, number, path.timeout)
        done = self._releases.get(path.name)
        called = self._caller.call(path, request_input, path.timeout, done=done)
        judged = self._judge.judge(action, request_input, called)
        self._record(
            judged.outcome(
                plan.request_id, self.task, called.started, customer, shadow=True, tick=plan.tick
            )
        )
        self._count_call(path, judged, customer, reserved)

    def _over_budget(
        self, scope: str, learned: Sequence[str], last_resorts: Sequence[str]
    ) -> tuple[Sequence[str], Sequence[str]]:
        """The candidates left when ``scope``'s daily budget is spent (or BudgetExceeded)."""
        assert self._budget is not None
        action = self._budget.budget.when_exceeded
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

    def _candidates(
        self, now: float
    ) -> tuple[Sequence[str], Sequence[str], str | None, Sequence[str]]:
        """The learned paths the policy may choose from, the last resorts (in order), the
        path whose half-open breaker trial this run makes, and the canaries admitted."""
        if self._benched:
            for name, until in list(self._benched.items()):
                if until <= now:
                    del self._benched[name]
        names = self._names
        if self._benched:
            names = tuple(n for n in names if n not in self._benched)
        stuck = self._caller.stuck  # too many of their calls hang: not offered for now
        if stuck:
            names = tuple(n for n in names if n not in stuck)
        admitted, trial = self._gate.admit(names, now)
        by_name = self._by_name
        hidden = bool(self._shadows) or self._rollouts.held_back_any()
        if admitted is self._names and not hidden:
            return self._learned, self._last_resorts, trial, ()  # the common case: no copies
        canaries = [n for n in admitted if n in self._rollouts]
        if hidden:
            admitted = [
                n for n in admitted if n not in self._shadows and not self._rollouts.held_back(n)
            ]
        learned = [n for n in admitted if not by_name[n].last_resort]
        last_resorts = [n for n in admitted if by_name[n].last_resort]
        return learned, last_resorts, trial, canaries

    def _admit(self, customer: str, now: float) -> None:
        if self._customer_limit is None:
            return
        key = f"customer:{customer}"
        if not self._limiter.limited(key):
            self._limiter.configure(key, self._customer_limit, None)
        if not self._limiter.acquire(key, now):  # a rate, no in-flight cap: nothing to release
            wait = self._limiter.wait(key, now)
            raise RateLimitExceeded(
                f"customer {customer!r} is over its rate limit for task {self.task!r}; "
                f"retry in {wait:.3g} s",
                retry_after=wait,
            )

    def _reserve(self, plan: RunPlan, action: CallPath, customer: str | None) -> float | None:
        """Reserve a priced path's cost against the daily budgets (0.0: nothing to
        reserve); None when a budget refused, and the run stops."""
        price = action.path.price
        if self._budget is None or not price:
            return 0.0
        refused = self._budget.reserve(customer, price, self._clock())
        if refused is None:
            return price
        if self._budget.budget.when_exceeded == "cheapest":
            if action.path.name == self._cheapest():
                return 0.0  # the fallback of last resort: counted after the call
            plan.skip(action.path)
            return None
        plan.stop(f"the daily budget of {refused} is spent")
        plan.over_budget = refused
        return None

    def _cheapest(self) -> str | None:
        priced = [p for p in self._paths if p.price is not None]
        return min(priced, key=lambda p: p.price or 0.0).name if priced else None

    def _unreserve(self, customer: str | None, reserved: float, now: float) -> None:
        """Give back a price reserved for a call that was not made."""
        if reserved and self._budget is not None:
            self._budget.spend(customer, -reserved, 0, now)

    def _slot_wait(self, plan: RunPlan, action: CallPath) -> float | None:
        """Take a slot of the path's rate limit and in-flight cap (0.0); or, for the last
        path the run could try, the seconds until its rate limit allows one; else skip
        the path (None)."""
        name = action.path.name
        now = self._clock()
        if self._limiter.acquire(name, now):
            return 0.0
        if plan.is_last(action.path):  # nothing else to try: wait for the rate limit
            wait = self._limiter.wait(name, now)
            if wait > 0 and plan.fits(now + wait):
                return wait
        plan.skip(action.path)
        return None

    def _after_wait(
        self, plan: RunPlan, action: CallPath, customer: str | None, reserved: float
    ) -> bool:
        """Take the slot waited for; if it is gone, skip the path and give its price back."""
        if self._limiter.acquire(action.path.name, self._clock()):
            return True
        plan.skip(action.path)
        self._unreserve(customer, reserved, self._clock())
        return False

    def _settle(  # noqa: PLR0917 - private, called from the two run loops only
        self,
        plan: RunPlan,
        action: CallPath,
        request_input: Any,
        called: Called,
        judged: Judged,
        customer: str | None,
        reserved: float,
    ) -> None:
        """Record a judged attempt, tell the policy, and add it to the plan."""
        # A loop, or a configuration error raised in the call (a prompt template the
        # input cannot fill): stop the run and say so, instead of learning it as the
        # path's failure and hiding it behind the fallback.
        stop = called.error if isinstance(called.error, LoopDetected | ConfigError) else None
        path = action.path
        propensity = plan.propensities.get(path.name)
        # With fallback_below, the best output so far is served if the run ends here.
        served = None if self._rules.fail_below is None else plan.served_instead(judged.attempt)
        self._record(
            judged.outcome(
                plan.request_id,
                self.task,
                called.started,
                customer,
                propensity=propensity,
                tick=plan.tick,
                served=served,
            )
        )
        self._account(plan, path, judged, customer, reserved)
        if self._observers:
            self._attempted(plan, action, request_input, judged, customer)
        if stop is not None:
            raise stop
        if judged.broken is not None:
            broken = judged.broken
            raise type(broken)(
                f"{broken} (path {path.name!r}, request {plan.request_id}); the attempt was "
                "recorded as unscored and no posterior changed"
            ) from broken
        if judged.attempt.score is not None and not path.last_resort:
            self.policy.observe(path.name, judged.attempt.score, plan.tick, judged.errored)
        if judged.refused:
            self._bench(path, judged.attempt.error)
        plan.observe(judged.attempt, judged.output)
        plan.allow_retry(self._judge.retry_wait(path, judged.attempt, plan.tries))

    def _attempted(
        self,
        plan: RunPlan,
        action: CallPath,
        request_input: Any,
        judged: Judged,
        customer: str | None,
    ) -> None:
        event = attempt_event(self.task, plan, request_input, judged, customer, self._clock())
        notify(self._observers, "on_attempt", event)

    def _account(
        self, plan: RunPlan, path: Path, judged: Judged, customer: str | None, reserved: float
    ) -> None:
        """Breaker counts and spending of one attempt (``reserved``: already counted)."""
        cost, tokens = self._count_call(path, judged, customer, reserved)
        if judged.cost is not None:
            observe_cost = getattr(self.policy, "observe_cost", None)
            if observe_cost is not None:
                observe_cost(path.name, judged.cost)
        plan.spend(cost, tokens)
        if self._budget is not None and self._budget.budget.run_spent(
            plan.spent_tokens, plan.spent_cost
        ):
            plan.stop("the run's budget is spent")

    def _count_call(
        self, path: Path, judged: Judged, customer: str | None, reserved: float
    ) -> tuple[float, int]:
        """Count one call towards its path's breaker and the daily budgets (``reserved``:
        already counted); its cost and tokens."""
        if self._gate.breaker is not None:
            failed = judged.errored and judged.attempt.error_class != "client_error"
            self._gate.observe(path.name, failed, self._clock())
        cost = (judged.cost or 0.0) + judged.judge_cost
        tokens = judged.tokens + judged.judge_tokens
        if judged.tokens:  # against the path's tokens_per_minute, if it has one
            self._limiter.used(path.name, judged.tokens, self._clock())
        if self._budget is not None:
            self._budget.spend(customer, cost - reserved, tokens, self._clock())
        return cost, tokens

    def _budget_alert(self, scope: str, message: str, share: float) -> None:
        self._alert(Alert("budget", self.task, None, message, self._clock()))

    def _index_paths(self) -> None:
        """Name tuples of the paths, precomputed for the common case of each run."""
        self._names = tuple(p.name for p in self._paths)
        self._learned = tuple(p.name for p in self._paths if not p.last_resort)
        self._last_resorts = tuple(p.name for p in self._paths if p.last_resort)

    def _known_path(self, name: str) -> str:
        if name not in self._by_name:
            raise ConfigError(
                f"task {self.task!r} has no path {name!r}; its paths are {list(self._by_name)}"
            )
        return name

    def _bench(self, path: Path, error: BaseException | None) -> None:
        from router._redact import error_text  # a provider's error text may hold keys

        now = self._clock()
        self._benched[path.name] = now + AUTH_COOLDOWN
        self._alert(
            Alert(
                "auth",
                self.task,
                path.name,
                f"path {path.name!r} was refused ({type(error).__name__}: {error_text(error)}); "
                "it is "
                f"out of routing for {AUTH_COOLDOWN:g} s: check its credentials",
                now,
            )
        )

    def _record_escalation(self, plan: RunPlan, action: Escalate, *, handled: bool) -> None:
        """An unscored outcome row on the ``escalation`` pseudo-path (for health rules)."""
        self._record(
            Outcome(
                plan.request_id,
                len(plan.attempts) + 1,
                self.task,
                ESCALATION,
                None,
                self._clock(),
                error_class="escalated",
                latency_ms=(self._clock() - plan.started_at) * 1000.0,
                metadata={"reason": action.reason, "handled": handled},
            )
        )

    def _escalate(self, plan: RunPlan, action: Escalate, request_input: Any) -> RunResult:
        from router._escalation import escalate
        from router._redact import error_text

        assert self._escalation is not None  # Escalate is only planned with a handler
        now = self._clock()
        self._alert(
            Alert("escalation", self.task, None, f"request {plan.request_id}: {action.reason}", now)
        )
        try:
            output = escalate(self._escalation, self._caller, request_input, plan.attempts)
        except Exception as exc:
            self._record_escalation(plan, action, handled=False)
            raise AllPathsFailed(
                self.task,
                plan.request_id,
                plan.attempts,
                f"{action.reason}; escalation failed with {type(exc).__name__}: {error_text(exc)}",
            ) from exc
        self._record_escalation(plan, action, handled=True)
        return RunResult(
            output=output,
            path=ESCALATION,
            request_id=plan.request_id,
            score=0.0,
            attempts=tuple(plan.attempts),
            latency_ms=(self._clock() - plan.started_at) * 1000.0,
            escalated=True,
        )

    def _conclude(self, plan: RunPlan, action: Serve | GiveUp) -> RunResult:
        if isinstance(action, GiveUp):
            if plan.over_budget is not None:
                raise BudgetExceeded(
                    f"request {plan.request_id}: {action.reason}; raise Budget(...) limits or "
                    "wait for the next UTC day",
                    plan.over_budget,
                    plan.attempts,
                )
            last_error = plan.attempts[-1].error if plan.attempts else None
            raise AllPathsFailed(
                self.task, plan.request_id, plan.attempts, action.reason
            ) from last_error
        attempt = action.attempt
        return RunResult(
            output=action.output,
            path=attempt.path,
            request_id=plan.request_id,
            score=attempt.score if attempt.score is not None else 0.0,
            attempts=tuple(plan.attempts),
            latency_ms=(self._clock() - plan.started_at) * 1000.0,
        )

    def _alert(self, alert: Alert) -> None:
        if self._on_alert is None:
            logger.warning("%s alert for task %r: %s", alert.kind, alert.task, alert.message)
            return
        try:
            self._on_alert(alert)
        except Exception:  # an alert hook must never fail the request
            logger.exception("on_alert raised while handling a %s alert", alert.kind)

    def _adopt(self, paths: Sequence[Path]) -> None:
        for path in paths:
            self._limiter.configure(path.name, path.rate_limit, path.max_in_flight)
            if path.max_in_flight is not None:  # its slot is given back when a call ends
                self._releases[path.name] = functools.partial(self._limiter.release, path.name)
        names = [p.name for p in paths]
        fading = getattr(self.policy, "fading_horizon", None)
        # the policy's horizon for the task's evidence, with as many paths as it has now
        horizon = None if fading is None else fading(len({*self._by_name, *names}))
        with self._waiting():
            if horizon is None:
                self._store.ensure_paths(self.task, names)
            else:
                self._store.ensure_paths(self.task, names, horizon=horizon)

    def _posteriors(self) -> dict[str, PathPosterior]:
        try:
            self._known = self._store.posteriors(self.task)
        except StoreError as exc:
            self._read_log.failed(exc, self._clock())
        else:
            if self._read_log.failures:
                self._read_log.succeeded(self._clock())
        return self._known

    def _reset(self, reset: Reset) -> None:
        try:
            self._store.reset(
                self.task,
                reset.path,
                keep_successes=reset.keep_successes,
                keep_count=reset.keep_count,
                seen_resets=reset.seen_resets,
                tick=reset.tick,
            )
        except StoreError as exc:
            logger.warning("change point on path %r not saved: %s", reset.path, exc)
        else:
            logger.info(
                "path %r of task %r changed: restarted at its last %d scores",
                reset.path,
                self.task,
                reset.keep_count,
            )

    def _record(self, outcome: Outcome) -> None:
        try:
            self._store.record(outcome)
        except StoreError as exc:
            self.unrecorded += 1
            self._record_log.failed(exc, self._clock())  # redacted: a value may be a name
        else:
            if self._record_log.failures:
                self._record_log.succeeded(self._clock())


def _check_budget(budget: Budget, paths: Sequence[Path], escalation: Escalation | None) -> None:
    """Warn once of paths a cost budget cannot price; refuse "escalate" with no handler."""
    warn_unpriced(budget, paths)
    if budget.when_exceeded == "escalate" and escalation is None:
        raise ConfigError(
            "Budget(when_exceeded='escalate') needs an escalation handler: "
            "Router(..., escalation=Escalation(handler))"
        )
