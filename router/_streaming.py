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
from router._loops import asleep
from router._result import Attempt, RunResult
from router._run import Call, Nap

if TYPE_CHECKING:
    from router._run import Crew

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
    """One streaming request: the :class:`Run` both loops step, and what was sent."""

    def __init__(
        self,
        crew: Crew,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        context: object = None,
    ) -> None:
        self.crew = crew
        self.input = request_input
        self.run = crew.begin(request_input, customer, deadline, context=context)
        self.plan = self.run.plan
        self.sent: list[Any] = []
        self.result: RunResult | None = None
        self.path: str | None = None

    def now(self) -> float:
        return self.crew.clock()

    def release(self, call: Call) -> None:
        self.crew.admission.limiter.release(call.action.path.name)

    def settle(self, call: Call, called: Called, judged: Judged) -> None:
        """Record a judged attempt and tell the policy (as ``run`` does)."""
        self.run.settle(call, called, judged)

    def served(self, call: Call, called: Called, judged: Judged) -> None:
        """Record the committed path's scored attempt; it serves whatever its score."""
        self.settle(call, called, judged)
        self.result = self.run.conclude(Serve(judged.attempt, judged.output))

    def interrupted(self, call: Call, called: Called, judged: Judged) -> StreamInterrupted:
        """Record a path that failed mid-stream; the error to raise."""
        self.settle(call, called, judged)
        assert called.error is not None
        name = call.action.path.name
        return StreamInterrupted(self.plan.request_id, name, self.sent, called.error)

    def abandoned(self, call: Call, started: float) -> None:
        """The caller stopped reading: an unscored attempt, nothing learned."""
        action = call.action
        latency_ms = (self.now() - started) * 1000.0
        attempt = Attempt(action.path.name, action.number, None, latency_ms, None, "abandoned")
        judged = Judged(attempt, None, False, {"streamed_chunks": len(self.sent)})
        outcome = judged.outcome(
            self.plan.request_id,
            self.crew.task,
            started,
            self.run.customer,
            request=self.plan.request,
        )
        self.crew.recorder.record(outcome)
        self.run.account(call, judged)

    def conclude(self, action: Serve | Escalate | GiveUp) -> Any:
        """No path streamed: the escalation handler's output (one chunk), or the error."""
        if isinstance(action, Escalate):
            self.result = self.run.escalate(action)
        else:
            self.result = self.run.conclude(action)
        return self.result.output

    @staticmethod
    def final(action: CallPath) -> CallPath:
        """The committed call as judged at its end: its timeout bounded the first chunk."""
        return replace(action, timeout=None)

    def end(self, error: BaseException | None) -> None:
        from bandits import RouterError

        self.run.close()
        problem = error if isinstance(error, RouterError) else None
        if self.result is not None or problem is not None:
            self.run.end(self.result, problem)


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
        self,
        crew: Crew,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        context: object = None,
    ) -> None:
        self._run = None
        self._chunks = self._drive(crew, request_input, customer, deadline, context)

    def __iter__(self) -> Iterator[Any]:
        return self._chunks

    def __next__(self) -> Any:
        return next(self._chunks)

    def close(self) -> None:
        """Stop reading (the attempt is recorded, unscored, as ``abandoned``)."""
        self._chunks.close()

    def _open(self, run: _StreamRun, action: CallPath) -> _Opened:
        path, caller = action.path, run.crew.caller
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
        path, caller = action.path, run.crew.caller
        first, apull, finish = caller.on_loop(path, _aopen_made(made, False), action.timeout)
        return _Opened(first, lambda: caller.on_loop(path, apull(), None), finish)

    def _try_open(self, run: _StreamRun, call: Call) -> _Opened | None:
        """The path's stream with its first chunk, or None: it failed before (recorded,
        and the plan moves on as after any failed call)."""
        action, started = call.action, run.now()
        try:
            prepare = getattr(action.path.fn, "prepare", None)
            if prepare is not None:  # loading (litellm) is not part of the call
                prepare()
            started = run.now()
            opened = self._open(run, action)
            _on_time(action, started, run.now())
        except Exception as exc:
            called = Called(None, exc, started, run.now())
            run.settle(call, called, run.crew.judge.judge(action, run.input, called))
            return None
        opened.started = started
        run.path = action.path.name
        return opened

    def _drive(
        self,
        crew: Crew,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        context: object,
    ) -> Generator[Any, None, None]:
        run = self._run = _StreamRun(crew, request_input, customer, deadline, context)
        judge, error = crew.judge, None
        try:
            while not isinstance(step := run.run.next(), Serve | Escalate | GiveUp):
                if isinstance(step, Nap):
                    crew.sleep(step.seconds)
                    continue
                action = step.action
                try:
                    opened = self._try_open(run, step)
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
                        run.abandoned(step, opened.started)
                        raise
                    except Exception as exc:  # after the first chunk: recorded, and raised
                        called = Called(None, exc, opened.started, run.now())
                        broke = judge.judge(action, run.input, called)
                        raise run.interrupted(step, called, broke) from exc
                    judged = judge.judge(run.final(action), run.input, called)
                    run.served(step, called, judged)
                    return
                finally:
                    run.release(step)
            yield run.conclude(step)
        except BaseException as exc:
            error = exc
            raise
        finally:
            run.end(error)


class AsyncStream(_View):
    """The chunks of one request, from ``Router.arun_stream``: ``async for`` it once.

    The same attributes as :class:`Stream`.
    """

    def __init__(
        self,
        crew: Crew,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        context: object = None,
    ) -> None:
        self._run = None
        self._chunks = self._drive(crew, request_input, customer, deadline, context)

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

    async def _try_open(self, run: _StreamRun, call: Call) -> _Opened | None:
        """As :meth:`Stream._try_open`, awaiting."""
        import asyncio

        from router._calls import prepared

        action, started = call.action, run.now()
        try:
            await prepared(action.path)
            started = run.now()
            first, pull, finish = await self._open(run, action)
            _on_time(action, started, run.now())
        except asyncio.CancelledError:  # before its first chunk: an unscored, cancelled attempt
            run.run.cancelled(call, started)
            raise
        except Exception as exc:
            called = Called(None, exc, started, run.now())
            run.settle(call, called, await run.crew.judge.ajudge(action, run.input, called))
            return None
        opened = _Opened(first, pull, finish)
        opened.started = started
        run.path = action.path.name
        return opened

    async def _drive(
        self,
        crew: Crew,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        context: object,
    ) -> AsyncGenerator[Any, None]:
        import asyncio

        run = self._run = _StreamRun(crew, request_input, customer, deadline, context)
        judge, error = crew.judge, None
        try:
            while not isinstance(step := run.run.next(), Serve | Escalate | GiveUp):
                if isinstance(step, Nap):
                    try:
                        await asleep(crew, step.seconds)
                    except asyncio.CancelledError:  # waiting for a slot: its price goes back
                        run.run.cancelled(None, None)
                        raise
                    continue
                action = step.action
                try:
                    opened = await self._try_open(run, step)
                    if opened is None:
                        continue
                    try:
                        chunk = opened.first
                        while chunk is not _END:
                            run.sent.append(chunk)
                            yield chunk
                            chunk = await opened.pull()
                        called = Called(opened.finish(run.sent), None, opened.started, run.now())
                    except (GeneratorExit, asyncio.CancelledError):  # the call ran: it is paid
                        run.abandoned(step, opened.started)
                        raise
                    except Exception as exc:  # after the first chunk: recorded, and raised
                        called = Called(None, exc, opened.started, run.now())
                        broke = await judge.ajudge(action, run.input, called)
                        raise run.interrupted(step, called, broke) from exc
                    judged = await judge.ajudge(run.final(action), run.input, called)
                    run.served(step, called, judged)
                    return
                finally:
                    run.release(step)
            if isinstance(step, Escalate):  # the handler may block: not on the loop
                yield await asyncio.to_thread(run.conclude, step)
            else:
                yield run.conclude(step)
        except BaseException as exc:
            error = exc
            raise
        finally:
            run.end(error)
