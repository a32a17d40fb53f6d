"""Calling a path: sync or async callables, from sync or async code, with a timeout."""

from __future__ import annotations

import concurrent.futures
import contextvars
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from router._clock import Clock
from router._errors import PathTimeout
from router._path import Path

if TYPE_CHECKING:
    import asyncio

MAX_TIMEOUT_WORKERS = 32


@dataclass(slots=True)
class Called:
    """What one call of a path gave: its output or the exception it raised, and when."""

    output: Any
    error: Exception | None
    started: float
    ended: float


class PathCaller:
    """Runs paths for one router; owns the threads that enforce timeouts.

    A sync path with a timeout runs in a worker thread so the caller returns on time
    (Python cannot kill the thread: a hung call keeps its worker until it returns).
    An async path called from sync code runs on a private event loop thread.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finalizers: list[weakref.finalize[Any, Any]] = []

    def call(
        self,
        path: Path,
        request_input: Any,
        timeout: float | None = None,
        feedback: BaseException | None = None,
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
                return Called(None, exc, self._clock(), self._clock())
        started = self._clock()
        try:
            if timeout is None and feedback is None and not path.is_async:
                output = path.fn(request_input)  # the common case, called directly
            else:
                output = self._call(path, _arguments(request_input, feedback), timeout)
        except Exception as exc:
            return Called(None, exc, started, self._clock())
        return Called(output, None, started, self._clock())

    async def acall(
        self,
        path: Path,
        request_input: Any,
        timeout: float | None = None,
        feedback: BaseException | None = None,
    ) -> Called:
        """Call ``path`` from async code; sync paths run in a worker thread."""
        try:
            await prepared(path)
        except Exception as exc:
            return Called(None, exc, self._clock(), self._clock())
        started = self._clock()
        try:
            output = await self._acall(path, _arguments(request_input, feedback), timeout)
        except Exception as exc:
            return Called(None, exc, started, self._clock())
        return Called(output, None, started, self._clock())

    def _call(self, path: Path, arguments: _Arguments, timeout: float | None) -> Any:
        args, kwargs = arguments
        if path.is_async:
            import asyncio  # loaded on first use: asyncio costs 20 ms of import time

            coroutine = path.fn(*args, **kwargs)
            future = asyncio.run_coroutine_threadsafe(coroutine, self._event_loop())
            return self._wait(future, path, timeout)
        if timeout is None:
            return path.fn(*args, **kwargs)
        if getattr(path.fn, "times_itself", False):  # e.g. an LLM path: its HTTP client
            return path.fn(*args, timeout=timeout, **kwargs)  # enforces it, no thread hop
        context = contextvars.copy_context()  # the run's guard goes with the call
        future = self._workers().submit(context.run, path.fn, *args, **kwargs)
        return self._wait(future, path, timeout)

    async def _acall(self, path: Path, arguments: _Arguments, timeout: float | None) -> Any:
        import asyncio

        args, kwargs = arguments
        if path.is_async:
            awaitable = path.fn(*args, **kwargs)
        else:
            awaitable = asyncio.to_thread(_carried, path.fn, *args, **kwargs)
        if timeout is None:
            return await awaitable
        try:
            return await asyncio.wait_for(awaitable, timeout)
        except TimeoutError as exc:
            raise timeout_error(path, timeout) from exc

    def in_worker(self, path: Path, fn: Callable[[], Any], timeout: float | None) -> Any:
        """``fn()`` for ``path`` from sync code, in a worker thread when there is a
        ``timeout`` (``PathTimeout`` when it overruns), else right here."""
        if timeout is None:
            return fn()
        context = contextvars.copy_context()  # the run's guard goes with the call
        return self._wait(self._workers().submit(context.run, fn), path, timeout)

    def on_loop(self, path: Path, awaitable: Awaitable[Any], timeout: float | None) -> Any:
        """Await ``awaitable`` for ``path`` on the private event loop, from sync code."""
        import asyncio

        future = asyncio.run_coroutine_threadsafe(awaited(awaitable), self._event_loop())
        return self._wait(future, path, timeout)

    def run_coroutine(self, awaitable: Awaitable[Any]) -> Any:
        """Await ``awaitable`` on the private event loop and return its result (sync code,
        e.g. an async ``success_fn`` scored by ``Router.run``)."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(awaited(awaitable), self._event_loop()).result()

    def close(self) -> None:
        """Stop the worker threads and the private loop (pending calls are abandoned)."""
        with self._lock:
            finalizers, self._finalizers = self._finalizers, []
            self._pool = None
            self._loop = None
        for finalizer in finalizers:
            finalizer()

    def _wait(
        self, future: concurrent.futures.Future[Any], path: Path, timeout: float | None
    ) -> Any:
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise timeout_error(path, timeout) from exc

    def _workers(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                pool = concurrent.futures.ThreadPoolExecutor(
                    MAX_TIMEOUT_WORKERS, thread_name_prefix="outcome-router-path"
                )
                # Also shut down when the router is garbage-collected without close().
                self._finalizers.append(
                    weakref.finalize(self, pool.shutdown, wait=False, cancel_futures=True)
                )
                self._pool = pool
            return self._pool

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        import asyncio

        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=_serve_forever, args=(loop,), name="outcome-router-loop", daemon=True
                ).start()
                self._finalizers.append(
                    weakref.finalize(self, loop.call_soon_threadsafe, loop.stop)
                )
                self._loop = loop
            return self._loop


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
