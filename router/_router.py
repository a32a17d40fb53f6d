"""``Router``: pick a path by Thompson sampling, call it, score it, learn, fall back."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from bandits import ConfigError, check_score
from router._adaptive import AdaptiveThompson
from router._admission import Admission
from router._attempts import AttemptJudge
from router._breaker import Breaker
from router._budget import Budget, warn_unpriced
from router._calls import PathCaller, wait_for_future
from router._canary import Canary
from router._clock import Clock
from router._escalation import Alert, Escalation
from router._events import Observer
from router._idempotency import HANDED_OVER, IdempotencyCache
from router._limits import Limiter, RateLimit
from router._names import check_name, shown
from router._path import Path
from router._policy import Policy
from router._recorder import Recorder
from router._result import RunResult
from router._retry import Retry
from router._run import Crew, aroute, route
from router._settings import (
    PathLike,
    Sleep,
    check_clock,
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
    never_waits,
    open_store_of,
    replayed,
    rules,
)
from router._stats import stats_table
from router._taxonomy import Classifier, Classify
from storage import Report, Store

if TYPE_CHECKING:
    import pandas as pd

    from router._streaming import AsyncStream, Stream

AlertHandler = Callable[[Alert], None]


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

        self.task = check_name("task", task)
        clock_ = check_clock(clock) or time.time
        store_, self._owns_store = open_store_of(store)
        if policy is not None and not isinstance(policy, Policy):
            raise ConfigError(
                f"policy must have choose() and observe() (see router.Policy), got {shown(policy)}"
            )
        if policy is None:  # errors are rescued only when the router falls back
            policy = AdaptiveThompson() if fallback else AdaptiveThompson(rescue_share=0.0)
        self.policy: Policy = policy
        checked = check_paths(paths)
        run_rules = rules(fallback, deadline, fallback_below, escalation)
        if on_alert is not None and not callable(on_alert):
            raise ConfigError(f"on_alert must be callable with an Alert, got {shown(on_alert)}")
        if customer_limit is not None and not isinstance(customer_limit, RateLimit):
            raise ConfigError(
                f"customer_limit must be a RateLimit(...), got {shown(customer_limit)}"
            )
        rng = np.random.default_rng(check_seed(seed))
        recorder = Recorder(store_, self.task, clock_, check_observers(observers), on_alert)
        caller = PathCaller(clock_)
        admission = Admission(
            store_, self.task, clock_, caller, recorder, breaker, budget, customer_limit
        )
        if budget is not None:
            _check_budget(budget, checked, escalation)
        judge = AttemptJudge(
            success_fn,
            classifier(classify),
            check_retry(retry),
            rng,
            clock_,
            run_coroutine=caller.run_coroutine,  # an async success_fn under run()
        )
        self._crew = Crew(
            self.task,
            clock_,
            check_sleep(sleep, clock_),
            rng,
            policy,
            run_rules,
            admission,
            recorder,
            caller,
            judge,
            store_timeout=check_store_timeout(store_timeout),
            store_never_waits=never_waits(store_),
            deadline=deadline,
            escalation=escalation,
            max_input_size=check_positive_int("max_input_size", max_input_size),
            loop_limit=check_positive_int("loop_limit", loop_limit),
        )
        self._store = store_
        self._admission = admission
        self._idempotency = IdempotencyCache(idempotency_window)
        self._adopt(checked)

    @property
    def paths(self) -> tuple[Path, ...]:
        """The router's paths, in the order given."""
        return self._admission.paths

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
        new = check_paths([*self._admission.paths, path])[-1]
        rollout = Canary() if canary is True else canary or None
        if rollout is not None and not isinstance(rollout, Canary):
            raise ConfigError(f"canary must be True, False or a Canary(...), got {shown(canary)}")
        if shadow is not None and not (
            isinstance(shadow, int | float) and not isinstance(shadow, bool) and 0 < shadow <= 1
        ):
            raise ConfigError(f"shadow must be a share of requests in (0, 1], got {shown(shadow)}")
        if rollout is not None and shadow is not None:
            raise ConfigError("a path is either a canary or a shadow, not both")
        self._adopt([new], rollout, None if shadow is None else float(shadow))
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
        return self._admission.rollouts.states()

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
        return self._crew.caller.abandoned()

    def wait_for_shadows(self, timeout: float | None = None) -> None:
        """Wait until the shadow calls started so far have been recorded."""
        self._crew.shadow_runner.wait(timeout)

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

        return warm_up(self.paths, self._crew.caller.run_coroutine)

    async def awarm_up(self) -> dict[str, Exception | None]:
        """:meth:`warm_up` for :meth:`arun`: every path at once, on the running loop."""
        from router._warmup import awarm_up

        return await awarm_up(self.paths)

    @property
    def unrecorded(self) -> int:
        """Outcomes the store failed to record (logged when the failures start and end)."""
        return self._crew.recorder.unrecorded

    @property
    def _limiter(self) -> Limiter:
        """The rate limits and in-flight caps of the paths (tests check their slots)."""
        return self._admission.limiter

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
        self._admission.gate.set_mode(self._known_path(name), "disabled")

    def enable_path(self, name: str) -> None:
        """Undo :meth:`disable_path` or :meth:`force_path`: the policy decides again."""
        self._admission.gate.set_mode(self._known_path(name), "auto")

    def force_path(self, name: str) -> None:
        """Route every request to ``name`` first (in every router on the store), bypassing
        the policy; other paths remain fallbacks only if ``name`` is the sole candidate."""
        self._admission.gate.set_mode(self._known_path(name), "forced")

    def path_modes(self) -> dict[str, str]:
        """Each path's mode in the store: ``auto``, ``disabled`` or ``forced``."""
        states = self._admission.gate.states()
        return {
            name: states[name].mode if name in states else "auto"
            for name in self._admission.by_name
        }

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
            return route(self._crew, request_input, customer, deadline)
        key = check_key(idempotency_key)
        while True:
            owner, future = self._idempotency.claim(key, self._crew.clock())
            if owner:
                break
            first = future.result()
            if first is not HANDED_OVER:  # else the first caller was cancelled: claim again
                return replayed(first)
        with self._keyed(idempotency_key, future) as kept:
            kept.append(route(self._crew, request_input, customer, deadline))
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
            return await aroute(self._crew, request_input, customer, deadline)
        key = check_key(idempotency_key)
        while True:
            owner, future = self._idempotency.claim(key, self._crew.clock())
            if owner:
                break
            # Never asyncio.wrap_future: a waiter cancelled would cancel the shared future.
            first = await wait_for_future(future)
            if first is not HANDED_OVER:  # else the first caller was cancelled: claim again
                return replayed(first)
        with self._keyed(idempotency_key, future) as kept:
            kept.append(await aroute(self._crew, request_input, customer, deadline))
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

        return Stream(self._crew, request_input, customer, deadline)

    def arun_stream(
        self, request_input: Any, *, customer: str | None = None, deadline: float | None = None
    ) -> AsyncStream:
        """:meth:`run_stream` for async code: ``async for chunk in router.arun_stream(x)``."""
        from router._streaming import AsyncStream

        return AsyncStream(self._crew, request_input, customer, deadline)

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
        with self._crew.waiting():
            return self._store.report(self.task, request_id, value, self._crew.clock())

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
        with self._crew.waiting():
            spent = daily(self.task) if callable(daily) else ()
            rows = self._store.posteriors(self.task)
        return stats_table(list(self._admission.by_name), rows, spent)

    def close(self) -> None:
        """Stop worker threads and close the store if this router opened it."""
        self._crew.shadow_runner.close()
        self._crew.caller.close()
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        names = list(self._admission.by_name)
        return f"Router(task={self.task!r}, paths={names!r}, store={self._store.url!r})"

    # Private helpers of the public methods.

    @contextlib.contextmanager
    def _keyed(self, key: str, future: Future[Any]) -> Iterator[list[RunResult]]:
        """Around the first run of an idempotency key: remember its result, or its error."""
        kept: list[RunResult] = []
        try:
            yield kept
        except BaseException as exc:
            self._idempotency.fail(key, future, exc)
            raise
        self._idempotency.finish(key, future, kept[0], self._crew.clock())

    def _known_path(self, name: str) -> str:
        if name not in self._admission.by_name:
            raise ConfigError(
                f"task {self.task!r} has no path {name!r}; its paths are "
                f"{list(self._admission.by_name)}"
            )
        return name

    def _adopt(
        self, paths: Sequence[Path], canary: Canary | None = None, shadow: float | None = None
    ) -> None:
        """Make sure the store holds the new paths' posteriors, then admit them."""
        admission = self._admission
        names = [p.name for p in paths]
        fading = getattr(self.policy, "fading_horizon", None)
        # the policy's horizon for the task's evidence, with as many paths as it has now
        horizon = None if fading is None else fading(len({*admission.by_name, *names}))
        with self._crew.waiting():
            if horizon is None:
                self._store.ensure_paths(self.task, names)
            else:
                self._store.ensure_paths(self.task, names, horizon=horizon)
        admission.add(paths, canary, shadow)


def _check_budget(budget: Budget, paths: Sequence[Path], escalation: Escalation | None) -> None:
    """Warn once of paths a cost budget cannot price; refuse "escalate" with no handler."""
    warn_unpriced(budget, paths)
    if budget.when_exceeded == "escalate" and escalation is None:
        raise ConfigError(
            "Budget(when_exceeded='escalate') needs an escalation handler: "
            "Router(..., escalation=Escalation(handler))"
        )
