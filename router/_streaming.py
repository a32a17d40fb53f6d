"""Streaming runs: ``Router.run_stream`` / ``arun_stream`` yield the chosen path's chunks.

The path order, retries, fallbacks, budgets and rate limits are those of ``run``: the
same :class:`RunPlan` decides. What streaming changes is when the run commits:

* a path that fails before its first chunk (an error, or its timeout, which bounds the
  time to the first chunk) is an ordinary failed attempt: retried or fallen back from;
* from the first chunk on, the run has committed to that path: its chunks are yielded
  as they come, then ``success_fn`` scores the assembled output and the outcome is
  recorded (a low score cannot fall back any more: it was already sent);
* a path that fails after its first chunk is recorded as failed, and
  :class:`StreamInterrupted` is raised: what was sent cannot be taken back.

A path streams when its function has ``stream(input)`` (``astream(input)`` for async
code: LLM paths do), or returns an iterator or async iterator of chunks (a generator).
Any other path answers with one chunk, its whole output, so a last resort that does
not stream still serves. The output scored is the stream object's ``finish(chunks)``
when it has one (LLM paths: the text, parsed and validated, with its tokens and cost),
else the chunks joined (text) or listed.

The bookkeeping is :class:`_StreamRun`, shared by the two short loops of
:class:`Stream` and :class:`AsyncStream`, which differ only in how they pull chunks.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from router._attempts import Judged
from router._calls import Called
from router._errors import StreamInterrupted
from router._flow import CallPath, Escalate, GiveUp, Serve
from router._guard import CURRENT_GUARD
from router._result import Attempt, RunResult

if TYPE_CHECKING:
    from router._router import Router

_END = object()  # no more chunks

Finish = Callable[[list[Any]], Any]


def assemble(chunks: list[Any]) -> Any:
    """The output of a stream without ``finish``: text chunks joined, others listed.

    Example:
        >>> assemble(["Hel", "lo"]), assemble([{"a": 1}]), assemble([])
        ('Hello', [{'a': 1}], '')
    """
    if all(isinstance(chunk, str) for chunk in chunks):
        return "".join(chunks)
    return list(chunks)


def _sync_source(made: Any) -> tuple[Iterator[Any], Finish]:
    """The chunks and the finish of what a path returned (sync iteration)."""
    if isinstance(made, Iterator) or hasattr(made, "finish"):
        return iter(made), getattr(made, "finish", assemble)
    return iter((made,)), lambda chunks: made  # not a stream: one chunk, the output


def _made(fn: Any, maker: str, request_input: Any) -> Any:
    stream = getattr(fn, maker, None)
    return stream(request_input) if stream is not None else fn(request_input)


def _pull(chunks: Iterator[Any]) -> Any:
    return next(chunks, _END)


async def _apull(chunks: AsyncIterator[Any]) -> Any:
    return await anext(chunks, _END)


class _Opened:
    """A path's stream, once its first chunk (or its end) has come; ``started``: when
    its call began."""

    __slots__ = ("finish", "first", "pull", "started")

    def __init__(self, first: Any, pull: Callable[[], Any], finish: Finish) -> None:
        self.first, self.pull, self.finish = first, pull, finish
        self.started = 0.0


async def _aopen_made(made: Any, to_thread: bool) -> tuple[Any, Any, Finish]:
    """Await what an async path made; its first chunk, a puller (async) and its finish."""
    import asyncio

    if inspect.isawaitable(made):
        made = await made
    if isinstance(made, AsyncIterator) or hasattr(made, "__aiter__"):
        chunks = made.__aiter__()
        finish = getattr(made, "finish", assemble)
        return await _apull(chunks), lambda: _apull(chunks), finish
    sync_chunks, finish = _sync_source(made)
    if to_thread:
        first = await asyncio.to_thread(_pull, sync_chunks)
        return first, lambda: asyncio.to_thread(_pull, sync_chunks), finish

    async def pull() -> Any:
        return _pull(sync_chunks)

    return _pull(sync_chunks), pull, finish


def _on_time(action: CallPath, started: float, now: float) -> None:
    """Raise PathTimeout when the first chunk came after the call's timeout on the
    router's clock (simulated time: no worker thread could have cut it)."""
    if action.timeout is not None and now - started > action.timeout:
        from router._calls import timeout_error

        raise timeout_error(action.path, action.timeout)


class _StreamRun:
    """One streaming request's bookkeeping on its router (shared by both loops)."""

    def __init__(
        self, router: Router, request_input: Any, customer: str | None, deadline: float | None
    ) -> None:
        self.router = router
        self.input = request_input
        self.customer = customer
        self.plan, self._guard = router._begin(request_input, customer, deadline)
        self.sent: list[Any] = []
        self.result: RunResult | None = None
        self.path: str | None = None

    def now(self) -> float:
        return self.router._clock()

    def admit(self, action: CallPath) -> tuple[float, float] | None:
        """The price reserved for calling ``action.path`` and the seconds to wait for its
        call slot (None: it is skipped); after a wait, :meth:`after_wait` takes the slot."""
        return self.router._prepare_call(self.plan, action, self.customer)

    def take(self, action: CallPath) -> float | None:
        """:meth:`admit`, waiting for the call slot when the path must (sync loop)."""
        admitted = self.admit(action)
        if admitted is None:
            return None
        reserved, slot_wait = admitted
        if slot_wait > 0:  # the last path, rate-limited: wait for its next slot
            self.router._sleep(slot_wait)
            if not self.router._after_wait(self.plan, action, self.customer, reserved):
                return None
        return reserved

    async def atake(self, action: CallPath) -> float | None:
        """:meth:`admit`, awaiting the call slot when the path must (async loop)."""
        admitted = self.admit(action)
        if admitted is None:
            return None
        reserved, slot_wait = admitted
        if slot_wait > 0:
            await self.router._asleep(slot_wait)
            if not self.router._after_wait(self.plan, action, self.customer, reserved):
                return None
        return reserved

    def release(self, action: CallPath) -> None:
        self.router._limiter.release(action.path.name)

    def settle(self, action: CallPath, called: Called, judged: Judged, reserved: float) -> None:
        """Record a judged attempt and tell the policy (as ``run`` does)."""
        self.router._settle(self.plan, action, self.input, called, judged, self.customer, reserved)

    def served(self, action: CallPath, called: Called, judged: Judged, reserved: float) -> None:
        """Record the committed path's scored attempt; it serves whatever its score."""
        self.settle(action, called, judged, reserved)
        self.result = self.router._conclude(self.plan, Serve(judged.attempt, judged.output))

    def interrupted(
        self, action: CallPath, called: Called, judged: Judged, reserved: float
    ) -> StreamInterrupted:
        """Record a path that failed mid-stream; the error to raise."""
        self.settle(action, called, judged, reserved)
        assert called.error is not None
        return StreamInterrupted(self.plan.request_id, action.path.name, self.sent, called.error)

    def abandoned(self, action: CallPath, started: float, reserved: float) -> None:
        """The caller stopped reading: an unscored attempt, nothing learned."""
        router = self.router
        latency_ms = (self.now() - started) * 1000.0
        attempt = Attempt(action.path.name, action.number, None, latency_ms, None, "abandoned")
        judged = Judged(attempt, None, False, {"streamed_chunks": len(self.sent)})
        outcome = judged.outcome(self.plan.request_id, router.task, started, self.customer)
        router._record(outcome)
        router._account(self.plan, action.path, judged, self.customer, reserved)

    def conclude(self, action: Serve | Escalate | GiveUp) -> Any:
        """No path streamed: the escalation handler's output (one chunk), or the error."""
        router = self.router
        if isinstance(action, Escalate):
            self.result = router._escalate(self.plan, action, self.input)
        else:
            self.result = router._conclude(self.plan, action)
        return self.result.output

    @staticmethod
    def final(action: CallPath) -> CallPath:
        """The committed call as judged at its end: its timeout bounded the first chunk."""
        return replace(action, timeout=None)

    def end(self, error: BaseException | None) -> None:
        from bandits import RouterError

        CURRENT_GUARD.reset(self._guard)
        problem = error if isinstance(error, RouterError) else None
        if self.result is not None or problem is not None:
            self.router._end(self.plan, self.input, self.customer, self.result, problem)


class _View:
    """What a stream shows while it is read."""

    _run: _StreamRun | None

    @property
    def request_id(self) -> str | None:
        """The request's id (for ``Router.report``), once reading has started."""
        return None if self._run is None else self._run.plan.request_id

    @property
    def path(self) -> str | None:
        """The path streaming the reply, once its first chunk came."""
        return None if self._run is None else self._run.path

    @property
    def result(self) -> RunResult | None:
        """The run's result (``output``: the assembled output), once the stream is done."""
        return None if self._run is None else self._run.result

    @property
    def output(self) -> Any:
        """The assembled output (parsed and validated, for LLM paths), once done."""
        result = self.result
        return None if result is None else result.output


class Stream(_View):
    """The chunks of one request, from ``Router.run_stream``; iterate it once.

    Example:
        >>> from router import Router
        >>> def words(text):
        ...     yield from text.split()
        >>> router = Router([words], lambda out: len(out) > 0, store="memory://")
        >>> stream = router.run_stream("stream these words")
        >>> list(stream), stream.output, stream.result.path
        (['stream', 'these', 'words'], 'streamthesewords', 'words')
    """

    def __init__(
        self, router: Router, request_input: Any, customer: str | None, deadline: float | None
    ) -> None:
        self._run = None
        self._chunks = self._drive(router, request_input, customer, deadline)

    def __iter__(self) -> Iterator[Any]:
        return self._chunks

    def __next__(self) -> Any:
        return next(self._chunks)

    def close(self) -> None:
        """Stop reading (the attempt is recorded, unscored, as ``abandoned``)."""
        self._chunks.close()

    def _open(self, run: _StreamRun, action: CallPath) -> _Opened:
        path, caller = action.path, run.router._caller
        if path.is_async or (hasattr(path.fn, "astream") and not hasattr(path.fn, "stream")):
            return self._on_loop(run, action, _made(path.fn, "astream", run.input))

        def start() -> tuple[Any, tuple[Iterator[Any], Finish] | None]:
            made = _made(path.fn, "stream", run.input)
            if inspect.isawaitable(made) or isinstance(made, AsyncIterator):
                return made, None
            chunks, finish = _sync_source(made)
            return _pull(chunks), (chunks, finish)

        first, rest = caller.in_worker(path, start, action.timeout)
        if rest is None:  # a sync function that made a coroutine or an async iterator
            return self._on_loop(run, action, first)
        chunks, finish = rest
        return _Opened(first, lambda: _pull(chunks), finish)

    @staticmethod
    def _on_loop(run: _StreamRun, action: CallPath, made: Any) -> _Opened:
        """Read an async stream from sync code, on the router's own event loop."""
        path, caller = action.path, run.router._caller
        first, apull, finish = caller.on_loop(path, _aopen_made(made, False), action.timeout)
        return _Opened(first, lambda: caller.on_loop(path, apull(), None), finish)

    def _try_open(self, run: _StreamRun, action: CallPath, reserved: float) -> _Opened | None:
        """The path's stream with its first chunk, or None: it failed before (recorded,
        and the plan moves on as after any failed call)."""
        started = run.now()
        try:
            prepare = getattr(action.path.fn, "prepare", None)
            if prepare is not None:  # loading (litellm) is not part of the call
                prepare()
            started = run.now()
            opened = self._open(run, action)
            _on_time(action, started, run.now())
        except Exception as exc:
            called = Called(None, exc, started, run.now())
            run.settle(action, called, run.router._judge.judge(action, run.input, called), reserved)
            return None
        opened.started = started
        run.path = action.path.name
        return opened

    def _drive(
        self, router: Router, request_input: Any, customer: str | None, deadline: float | None
    ) -> Generator[Any, None, None]:
        run = self._run = _StreamRun(router, request_input, customer, deadline)
        judge, error = router._judge, None
        try:
            while isinstance(action := run.plan.next_action(run.now()), CallPath):
                if action.wait > 0:
                    router._sleep(action.wait)
                reserved = run.take(action)
                if reserved is None:
                    continue
                try:
                    opened = self._try_open(run, action, reserved)
                    if opened is None:
                        continue
                    try:
                        chunk = opened.first
                        while chunk is not _END:
                            run.sent.append(chunk)
                            yield chunk
                            chunk = opened.pull()
                        called = Called(opened.finish(run.sent), None, opened.started, run.now())
                    except GeneratorExit:
                        run.abandoned(action, opened.started, reserved)
                        raise
                    except Exception as exc:  # after the first chunk: recorded, and raised
                        called = Called(None, exc, opened.started, run.now())
                        broke = judge.judge(action, run.input, called)
                        raise run.interrupted(action, called, broke, reserved) from exc
                    judged = judge.judge(run.final(action), run.input, called)
                    run.served(action, called, judged, reserved)
                    return
                finally:
                    run.release(action)
            yield run.conclude(action)
        except BaseException as exc:
            error = exc
            raise
        finally:
            run.end(error)


async def _wait(router: Router, seconds: float) -> None:
    """Wait before a retry or for a call slot, without blocking the event loop."""
    await router._asleep(seconds)


class AsyncStream(_View):
    """The chunks of one request, from ``Router.arun_stream``: ``async for`` it once.

    The same attributes as :class:`Stream`.
    """

    def __init__(
        self, router: Router, request_input: Any, customer: str | None, deadline: float | None
    ) -> None:
        self._run = None
        self._chunks = self._drive(router, request_input, customer, deadline)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._chunks

    async def __anext__(self) -> Any:
        return await anext(self._chunks)

    async def aclose(self) -> None:
        """Stop reading (the attempt is recorded, unscored, as ``abandoned``)."""
        await self._chunks.aclose()

    @staticmethod
    async def _open(run: _StreamRun, action: CallPath) -> tuple[Any, Callable[[], Any], Finish]:
        import asyncio

        from router._calls import timeout_error

        path = action.path
        if path.is_async or hasattr(path.fn, "astream"):
            opening = _aopen_made(_made(path.fn, "astream", run.input), to_thread=False)
        else:  # a sync path: made, and read, in worker threads
            made = await asyncio.to_thread(_made, path.fn, "stream", run.input)
            opening = _aopen_made(made, to_thread=True)
        if action.timeout is None:
            return await opening
        try:
            return await asyncio.wait_for(opening, action.timeout)
        except TimeoutError as exc:
            raise timeout_error(path, action.timeout) from exc

    async def _try_open(self, run: _StreamRun, action: CallPath, reserved: float) -> _Opened | None:
        """As :meth:`Stream._try_open`, awaiting."""
        from router._calls import prepared

        started = run.now()
        try:
            await prepared(action.path)
            started = run.now()
            first, pull, finish = await self._open(run, action)
            _on_time(action, started, run.now())
        except Exception as exc:
            called = Called(None, exc, started, run.now())
            run.settle(
                action, called, await run.router._judge.ajudge(action, run.input, called), reserved
            )
            return None
        opened = _Opened(first, pull, finish)
        opened.started = started
        run.path = action.path.name
        return opened

    async def _drive(
        self, router: Router, request_input: Any, customer: str | None, deadline: float | None
    ) -> AsyncGenerator[Any, None]:
        import asyncio

        run = self._run = _StreamRun(router, request_input, customer, deadline)
        judge, error = router._judge, None
        try:
            while isinstance(action := run.plan.next_action(run.now()), CallPath):
                if action.wait > 0:
                    await _wait(router, action.wait)
                reserved = await run.atake(action)
                if reserved is None:
                    continue
                try:
                    opened = await self._try_open(run, action, reserved)
                    if opened is None:
                        continue
                    try:
                        chunk = opened.first
                        while chunk is not _END:
                            run.sent.append(chunk)
                            yield chunk
                            chunk = await opened.pull()
                        called = Called(opened.finish(run.sent), None, opened.started, run.now())
                    except GeneratorExit:
                        run.abandoned(action, opened.started, reserved)
                        raise
                    except Exception as exc:  # after the first chunk: recorded, and raised
                        called = Called(None, exc, opened.started, run.now())
                        broke = await judge.ajudge(action, run.input, called)
                        raise run.interrupted(action, called, broke, reserved) from exc
                    judged = await judge.ajudge(run.final(action), run.input, called)
                    run.served(action, called, judged, reserved)
                    return
                finally:
                    run.release(action)
            if isinstance(action, Escalate):  # the handler may block: not on the loop
                yield await asyncio.to_thread(run.conclude, action)
            else:
                yield run.conclude(action)
        except BaseException as exc:
            error = exc
            raise
        finally:
            run.end(error)
