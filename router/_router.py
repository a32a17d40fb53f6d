"""``Router``: pick a path by Thompson sampling, call it, score it, learn, fall back."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bandits import check_score
from bandits._adaptive import AdaptiveThompson
from bandits._policy import Policy
from router._breaker import Breaker
from router._budget import Budget
from router._clock import Clock
from router._config import RouterConfig, warn_unpriced_paths
from router._context import ContextFn, ContextValue
from router._escalation import Escalation
from router._events import Observer
from router._idempotency import IdempotencyCache
from router._limits import Limiter, RateLimit
from router._loops import aroute, route
from router._names import check_name
from router._path import Path
from router._path_controls import PathControls
from router._recorder import AlertHandler
from router._result import RunResult
from router._retry import Retry
from router._run import Crew
from router._settings import (
    PathLike,
    Sleep,
    check_key,
    check_observers,
    check_paths,
    check_request_id,
    open_store_of,
    replayed,
)
from router._stats import stats_table
from router._taxonomy import Classifier, Classify
from storage import Report, Store

if TYPE_CHECKING:
    import pandas as pd

    from router._streaming import AsyncStream, Stream


class Router(PathControls):
    """Route each request to one of several paths and learn which one works.

    Each run samples every path's Beta posterior once (Thompson sampling), calls the
    best-sampled path, scores its output with ``success_fn`` and records the outcome in
    the store, which updates that path's posterior. A path that raises scores 0 and,
    with ``fallback=True``, the next path in the sampled order is tried.

    Args:
        paths: callables (sync or async, one argument) or :class:`Path` objects.
        success_fn: ``success_fn(output)`` or ``success_fn(input, output)`` returning a
            bool or a float in [0, 1].
        task, store, **options: the name posteriors are kept under, where they are kept
            (a Store, a URL, a file path, or None for the default SQLite file), and the
            other options: each is a field of :class:`router._config.RouterConfig`,
            which documents and checks it.

    Raises:
        ConfigError: an option is wrong (the message says what to pass).

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
        context: ContextFn | None = None,
        segment_strength: float | None = None,
    ) -> None:
        config = RouterConfig(
            paths=check_paths(paths),
            success_fn=success_fn,
            task=task,
            store=store,
            seed=seed,
            clock=clock,
            sleep=sleep,
            fallback=fallback,
            policy=policy,
            retry=retry,
            deadline=deadline,
            fallback_below=fallback_below,
            escalation=escalation,
            classify=classify,
            on_alert=on_alert,
            customer_limit=customer_limit,
            idempotency_window=idempotency_window,
            store_timeout=store_timeout,
            breaker=breaker,
            budget=budget,
            observers=check_observers(observers),
            max_input_size=max_input_size,
            loop_limit=loop_limit,
            context=context,
            segment_strength=segment_strength,
        )
        warn_unpriced_paths(config)
        self._config = config
        self.task = config.task
        policy = config.policy
        if policy is None:  # errors are rescued only when the router falls back
            policy = AdaptiveThompson() if fallback else AdaptiveThompson(rescue_share=0.0)
        self.policy: Policy = policy
        self._store, self._owns_store = open_store_of(config.store)
        self._crew = crew = Crew.of(config, self._store, self.policy)
        self._admission = crew.admission
        self._idempotency = IdempotencyCache(config.idempotency_window)
        crew.adopt(config.paths)

    @property
    def paths(self) -> tuple[Path, ...]:
        """The router's paths, in the order given."""
        return self._admission.paths

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

    def run(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Any:
        """Serve one request and return the output of the path that served it.

        Args:
            request_input: passed to the path.
            customer: who the request is for (rate limits; recorded on each outcome).
            deadline: seconds this run may take (overrides the router's).
            idempotency_key: a repeated key within ``idempotency_window`` returns the
                first request's output without calling a path again.
            context: the request's features (str, bool, int or float values; overrides
                ``Router(context=fn)``): str and bool values pick its segment, whose
                posteriors are shrunk toward the task's; all are stored with the outcome.

        Raises:
            AllPathsFailed: no path served (every attempt is in its ``attempts``).
            RateLimitExceeded: ``customer`` is over ``customer_limit``.
            InvalidScoreError, ScoringError: ``success_fn`` is broken (the attempt is
                recorded as unscored and the posterior left alone).
        """
        return self.route(
            request_input,
            customer=customer,
            deadline=deadline,
            idempotency_key=idempotency_key,
            context=context,
        ).output

    def route(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> RunResult:
        """Like :meth:`run`, returning the full :class:`RunResult`."""
        if idempotency_key is None:
            return route(self._crew, request_input, customer, deadline, context)
        return self._idempotency.once(
            check_key(idempotency_key),
            self._crew.clock,
            lambda: route(self._crew, request_input, customer, deadline, context),
            replayed,
        )

    async def arun(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> Any:
        """Async :meth:`run`: async paths are awaited, sync paths run in a worker thread."""
        result = await self.aroute(
            request_input,
            customer=customer,
            deadline=deadline,
            idempotency_key=idempotency_key,
            context=context,
        )
        return result.output

    async def aroute(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        idempotency_key: str | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> RunResult:
        """Async :meth:`route`."""
        if idempotency_key is None:
            return await aroute(self._crew, request_input, customer, deadline, context)
        return await self._idempotency.aonce(
            check_key(idempotency_key),
            self._crew.clock,
            lambda: aroute(self._crew, request_input, customer, deadline, context),
            replayed,
        )

    def run_stream(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        context: Mapping[str, ContextValue] | None = None,
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

        return Stream(self._crew, request_input, customer, deadline, context)

    def arun_stream(
        self,
        request_input: Any,
        *,
        customer: str | None = None,
        deadline: float | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> AsyncStream:
        """:meth:`run_stream` for async code: ``async for chunk in router.arun_stream(x)``."""
        from router._streaming import AsyncStream

        return AsyncStream(self._crew, request_input, customer, deadline, context)

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

    def stats(self, by: str | None = None) -> pd.DataFrame:
        """Per-path table: alpha, beta, mean, 95% credible interval, n, traffic share,
        tokens, cost, unpriced attempts and cost per success.

        With ``by`` (a context key, ``stats(by="lang")``): one row per (value, path) of
        the stored outcomes instead (see :func:`router._stats.stats_by`).

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
        if by is not None:
            from router._stats import stats_by

            with self._crew.waiting():
                return stats_by(self._store, self.task, check_name("context key", by))
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
