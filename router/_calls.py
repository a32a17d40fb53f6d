"""Calling a path: sync or async callables, from sync or async code, with a timeout."""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import functools
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from router._clock import Clock
from router._errors import PathTimeout
from router._path import Path
from router._workers import WorkerPool

if TYPE_CHECKING:
    import asyncio

MAX_WORKERS = 64
"""Worker threads of one router: sync paths with a timeout, and sync paths under arun."""
ABANDON_LIMIT = 4
"""Calls of one path that overran their timeout (or whose run was cancelled) and still
hold a worker: at this many the path is not offered until one of them returns."""

Done = Callable[[], None]


@dataclass(slots=True)
class Called:
    """What one call of a path gave: its output or the exception it raised, and when."""

    output: Any
    error: Exception | None
    started: float
    ended: float


class PathCaller:
    """Runs paths for one router; owns the threads that enforce timeouts.

    A sync path with a timeout, and a sync path called from async code, runs on the
    router's own bounded pool of worker threads (never asyncio's default executor,
    which the application shares), so the caller returns on time. Python cannot kill a
    thread: a call that overran keeps its worker until it returns. Such workers are
    counted per path (:meth:`abandoned`); a path with :data:`ABANDON_LIMIT` of them is
    in :attr:`stuck`, and the router stops offering it, so a path that hangs cannot
    take every worker. An async path called from sync code runs on a private event
    loop thread.

    Each call takes ``done``: called once when the call's worker has really finished
    (at once for a call that returned; later for one that was abandoned), which is when
    its in-flight slot may be given back.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pool: WorkerPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._finalizers: list[weakref.finalize[Any, Any]] = []
        self._abandoned: dict[str, int] = {}
        self.stuck: frozenset[str] = frozenset()
        """Paths with :data:`ABANDON_LIMIT` abandoned calls or more (read without a lock)."""

    def abandoned(self) -> dict[str, int]:
        """Calls per path that overran their timeout, or were cancelled, and still run."""
        with self._lock:
            return {name: n for name, n in self._abandoned.items() if n}

    def call(
        self,
        path: Path,
        request_input: Any,
        timeout: float | None = None,
        feedback: BaseException | None = None,
        *,
        done: Done | None = None,
    ) -> Called:
        """Call ``path`` from sync code; an exception it raises is returned, not raised.

        ``timeout`` overrides the path's own (the run's deadline may be nearer);
        ``feedback`` is passed as a keyword argument when the path is re-asked.
        """
        prepare = getattr(path.fn, "prepare", None)
        if prepare is not None:  # loading what it needs (litellm) is not part of the call
            try:
                prepare()
            except Exception as exc:
                if done is not None:  # no worker ran: the slot is free at once
                    done()
                return Called(None, exc, self._clock(), self._clock())
        started = self._clock()
        try:
            if timeout is None and feedback is None and not path.is_async:
                try:
                    output = path.fn(request_input)  # the common case, called directly
                finally:
                    if done is not None:
                        done()
            else:
                output = self._call(path, _arguments(request_input, feedback), timeout, done)
        except Exception as exc:
            return Called(None, exc, started, self._clock())
        return Called(output, None, started, self._clock())

    async def acall(
        self,
        path: Path,
        request_input: Any,
        timeout: float | None = None,
        feedback: BaseException | None = None,
        *,
        done: Done | None = None,
    ) -> Called:
        """Call ``path`` from async code; sync paths run on a worker thread.

        A cancelled call raises ``asyncio.CancelledError``; its worker, if still busy,
        is counted as abandoned until it returns.
        """
        try:
            await prepared(path)
        except Exception as exc:
            if done is not None:  # no worker ran: the slot is free at once
                done()
            return Called(None, exc, self._clock(), self._clock())
        started = self._clock()
        try:
            output = await self._acall(path, _arguments(request_input, feedback), timeout, done)
        except Exception as exc:
            return Called(None, exc, started, self._clock())
        return Called(output, None, started, self._clock())

    def _call(
        self, path: Path, arguments: _Arguments, timeout: float | None, done: Done | None
    ) -> Any:
        args, kwargs = arguments
        if path.is_async:
            import asyncio  # loaded on first use: asyncio costs 20 ms of import time

            coroutine = path.fn(*args, **kwargs)
            future = asyncio.run_coroutine_threadsafe(coroutine, self._event_loop())
            return self._wait(future, path, timeout, done)  # a timeout cancels the coroutine
        if timeout is None:
            try:
                return path.fn(*args, **kwargs)
            finally:
                if done is not None:
                    done()
        if getattr(path.fn, "times_itself", False):  # e.g. an LLM path: its HTTP client
            try:  # enforces it, no thread hop
                return path.fn(*args, timeout=timeout, **kwargs)
            finally:
                if done is not None:
                    done()
        context = contextvars.copy_context()  # the run's guard goes with the call
        work = functools.partial(context.run, path.fn, *args, **kwargs)
        return self._wait(self._workers().submit(work), path, timeout, done)

    async def _acall(
        self, path: Path, arguments: _Arguments, timeout: float | None, done: Done | None
    ) -> Any:
        import asyncio

        args, kwargs = arguments
        if path.is_async:  # a coroutine ends when cancelled: done when it returns
            try:
                awaitable = path.fn(*args, **kwargs)
                if timeout is None:
                    return await awaitable
                try:
                    return await asyncio.wait_for(awaitable, timeout)
                except TimeoutError as exc:
                    raise timeout_error(path, timeout) from exc
            finally:
                if done is not None:
                    done()
        context = contextvars.copy_context()
        work = functools.partial(context.run, _carried, path.fn, *args, **kwargs)
        future = self._workers().submit(work)
        try:
            output = await wait_for_future(future, timeout)
        except TimeoutError as exc:
            self._let_go(path.name, future, done)
            if future.done() and not future.cancelled() and future.exception() is exc:
                raise  # the path's own TimeoutError
            raise timeout_error(path, timeout) from exc
        except BaseException:  # cancelled, or the path raised
            self._let_go(path.name, future, done)
            raise
        if done is not None:
            done()
        return output

    async def run_in_worker(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Await ``fn(*args)`` run on a worker thread, in the caller's context (a blocking
        ``sleep=`` or the escalation handler under arun)."""
        context = contextvars.copy_context()
        return await wait_for_future(self._workers().submit(context.run, fn, *args))

    def in_worker(self, path: Path, fn: Callable[[], Any], timeout: float | None) -> Any:
        """``fn()`` for ``path`` from sync code, in a worker thread when there is a
        ``timeout`` (``PathTimeout`` when it overruns), else right here."""
        if timeout is None:
            return fn()
        context = contextvars.copy_context()  # the run's guard goes with the call
        return self._wait(self._workers().submit(context.run, fn), path, timeout, None)

    def on_loop(self, path: Path, awaitable: Awaitable[Any], timeout: float | None) -> Any:
        """Await ``awaitable`` for ``path`` on the private event loop, from sync code."""
        import asyncio

        future = asyncio.run_coroutine_threadsafe(awaited(awaitable), self._event_loop())
        return self._wait(future, path, timeout, None)

    def run_coroutine(self, awaitable: Awaitable[Any]) -> Any:
        """Await ``awaitable`` on the private event loop and return its result (sync code,
        e.g. an async ``success_fn`` scored by ``Router.run``)."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(awaited(awaitable), self._event_loop()).result()

    def close(self) -> None:
        """Stop the worker threads and the private loop (pending calls are abandoned).

        Idle workers stop at once; a worker busy with a call that never returns cannot be
        stopped, but it is a daemon thread, so it never keeps the process from exiting.
        """
        with self._lock:
            finalizers, self._finalizers = self._finalizers, []
            loop_thread, self._loop_thread = self._loop_thread, None
            self._pool = None
            self._loop = None
        for finalizer in finalizers:
            finalizer()
        if loop_thread is not None:
            loop_thread.join(timeout=1.0)

    def _wait(
        self,
        future: concurrent.futures.Future[Any],
        path: Path,
        timeout: float | None,
        done: Done | None,
    ) -> Any:
        try:
            output = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError as exc:
            if future.done():  # the path's own TimeoutError, raised in time
                if done is not None:
                    done()
                raise
            self._let_go(path.name, future, done)
            raise timeout_error(path, timeout) from exc
        except BaseException:
            if done is not None:
                done()
            raise
        if done is not None:
            done()
        return output

    def _let_go(self, name: str, future: concurrent.futures.Future[Any], done: Done | None) -> None:
        """Stop waiting for ``future``: call ``done`` now if it is finished (or is
        cancelled before it started), else count it abandoned until it finishes."""
        if future.cancel() or future.done():
            if done is not None:
                done()
            return
        with self._lock:
            self._abandoned[name] = self._abandoned.get(name, 0) + 1
            self._restuck()

        def returned(_: concurrent.futures.Future[Any]) -> None:
            with self._lock:
                self._abandoned[name] -= 1
                self._restuck()
            if done is not None:
                done()

        future.add_done_callback(returned)

    def _restuck(self) -> None:
        self.stuck = frozenset(n for n, count in self._abandoned.items() if count >= ABANDON_LIMIT)

    def _workers(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                pool = WorkerPool(MAX_WORKERS, "outcome-router-path")
                # Also stopped when the router is garbage-collected without close().
                self._finalizers.append(weakref.finalize(self, pool.close))
                self._pool = pool
            return self._pool

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        import asyncio

        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_serve_forever, args=(loop,), name="outcome-router-loop", daemon=True
                )
                thread.start()
                self._finalizers.append(
                    weakref.finalize(self, loop.call_soon_threadsafe, loop.stop)
                )
                self._loop, self._loop_thread = loop, thread
            return self._loop


async def wait_for_future(
    future: concurrent.futures.Future[Any], timeout: float | None = None
) -> Any:
    """Await a thread's future from async code without ever cancelling it.

    ``asyncio.wrap_future`` cancels the future when the awaiting task is cancelled (or
    times out), and a future shared by several callers, or a worker still running, must
    not be: only this caller stops waiting. Raises TimeoutError after ``timeout``.

    Example:
        >>> import asyncio, concurrent.futures
        >>> shared = concurrent.futures.Future()
        >>> async def give_up():
        ...     try:
        ...         await wait_for_future(shared, timeout=0.01)
        ...     except TimeoutError:
        ...         return shared.cancelled()
        >>> asyncio.run(give_up())
        False
    """
    import asyncio

    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[Any] = loop.create_future()

    def wake(_: concurrent.futures.Future[Any]) -> None:
        # A RuntimeError: the caller's loop is closed, nobody waits any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_copy_state, future, waiter)

    future.add_done_callback(wake)
    if timeout is None:
        return await waiter
    return await asyncio.wait_for(waiter, timeout)


def _copy_state(source: concurrent.futures.Future[Any], waiter: asyncio.Future[Any]) -> None:
    if waiter.done():
        return
    if source.cancelled():
        waiter.cancel()
    elif (error := source.exception()) is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(source.result())


def _serve_forever(loop: asyncio.AbstractEventLoop) -> None:
    """Run the private loop until stopped, then cancel what is left and close it."""
    import asyncio

    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def prepared(path: Path) -> None:
    """Await ``path.fn.aprepare()`` (or run its ``prepare()`` in a worker thread), if it
    has one: a path that loads what it needs before its first call (``router.llm`` loads
    litellm) does so outside the call, its timeout and its latency."""
    fn = path.fn
    aprepare = getattr(fn, "aprepare", None)
    if aprepare is not None:
        await aprepare()
        return
    prepare = getattr(fn, "prepare", None)
    if prepare is not None:
        import asyncio

        await asyncio.to_thread(prepare)


async def awaited(awaitable: Awaitable[Any]) -> Any:
    """A coroutine of any awaitable (what ``asyncio.run`` and ``run_coroutine_threadsafe`` take)."""
    return await awaitable


_Arguments = tuple[tuple[Any, ...], dict[str, Any]]


def _carried(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a sync path for an async caller: a ``StopIteration`` it raises (``next()`` on
    an empty iterator) becomes a ``RuntimeError``, which a future can carry; asyncio
    cannot set ``StopIteration`` on a future, and the caller would wait for ever."""
    try:
        return fn(*args, **kwargs)
    except StopIteration as exc:
        raise RuntimeError(
            f"the path raised StopIteration{f': {exc}' if str(exc) else ''}"
        ) from exc


def _arguments(request_input: Any, feedback: BaseException | None) -> _Arguments:
    return (request_input,), ({} if feedback is None else {"feedback": feedback})


def timeout_error(path: Path, timeout: float | None = None) -> PathTimeout:
    """The error for a call of ``path`` that overran ``timeout`` (default: its own)."""
    limit = path.timeout if timeout is None else timeout
    if path.timeout is None or (limit is not None and limit < path.timeout):
        reason = f"the run's deadline left it {limit:.3g} s"
    else:
        reason = f"its timeout of {limit} s; raise Path(timeout=...) if that is too tight"
    return PathTimeout(f"path {path.name!r} did not return within {reason}")
