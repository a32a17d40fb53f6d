"""The two run loops, the only twins: :func:`drive` calls and naps in this thread,
:func:`adrive` awaits them on the running event loop. What to do next is always the
:class:`Run`'s to say (see :mod:`router._run`); a loop only carries it out.
"""

from __future__ import annotations

import inspect
from typing import Any

from bandits import RouterError
from router._flow import Escalate
from router._result import RunResult
from router._run import Call, Crew, Nap, Run
from router._settings import RealSleep, never_blocks
from storage import store_waits


def route(
    crew: Crew,
    request_input: Any,
    customer: str | None,
    deadline: float | None,
    context: object = None,
) -> RunResult:
    """Serve one request in this thread, its store calls bounded (none for memory://)."""
    if crew.store_never_waits:
        return _served(crew.begin(request_input, customer, deadline, context=context))
    with store_waits(crew.run_waits(deadline)) as waits:
        return _served(crew.begin(request_input, customer, deadline, waits, context))


async def aroute(
    crew: Crew,
    request_input: Any,
    customer: str | None,
    deadline: float | None,
    context: object = None,
) -> RunResult:
    """Serve one request on the running event loop, its store calls bounded."""
    if crew.store_never_waits:
        return await _aserved(crew.begin(request_input, customer, deadline, context=context))
    with store_waits(crew.run_waits(deadline)) as waits:
        return await _aserved(crew.begin(request_input, customer, deadline, waits, context))


def _served(run: Run) -> RunResult:
    """Drive ``run``; the observers hear how it ended, and its shadow calls start."""
    try:
        result = drive(run)
    except RouterError as exc:
        run.end(None, exc)
        raise
    finally:
        run.close()
    run.end(result, None)
    return result


async def _aserved(run: Run) -> RunResult:
    """:func:`_served` on the running event loop."""
    try:
        result = await adrive(run)
    except RouterError as exc:
        run.end(None, exc)
        raise
    finally:
        run.close()
    run.end(result, None)
    return result


def drive(run: Run) -> RunResult:
    """The sync loop: call and sleep in this thread until the plan ends the run."""
    crew = run.crew
    while True:
        step = run.next()
        if isinstance(step, Nap):
            crew.sleep(step.seconds)
        elif isinstance(step, Call):
            action = step.action
            called = crew.caller.call(
                action.path, run.input, action.timeout, action.feedback, done=run.release(step)
            )
            run.settle(step, called, crew.judge.judge(action, run.input, called))
        elif isinstance(step, Escalate):
            return run.escalate(step)
        else:
            return run.conclude(step)


async def adrive(run: Run) -> RunResult:
    """The async loop: await calls and naps, never blocking the event loop."""
    import asyncio

    crew = run.crew
    while True:
        step = run.next()
        if isinstance(step, Nap):
            try:
                await asleep(crew, step.seconds)
            except asyncio.CancelledError:
                run.cancelled(None, None)
                raise
        elif isinstance(step, Call):
            action, started = step.action, None
            try:
                started = crew.clock()
                called = await crew.caller.acall(
                    action.path, run.input, action.timeout, action.feedback, done=run.release(step)
                )
                judged = await crew.judge.ajudge(action, run.input, called)
            except asyncio.CancelledError:
                run.cancelled(step, started)
                raise
            run.settle(step, called, judged)
        elif isinstance(step, Escalate):  # on a worker of ours, not asyncio's default pool
            escalated: RunResult = await crew.caller.run_in_worker(run.escalate, step)
            return escalated
        else:
            return run.conclude(step)


async def asleep(crew: Crew, seconds: float) -> None:
    """Wait under arun without blocking the event loop: ``asyncio.sleep``, an async
    ``sleep=`` awaited, a fake clock's sleep as it is, any other on a worker thread."""
    import asyncio

    sleep = crew.sleep
    if isinstance(sleep, RealSleep):
        await asyncio.sleep(seconds)
    elif never_blocks(sleep):
        sleep(seconds)
    elif inspect.iscoroutinefunction(sleep):
        await sleep(seconds)
    else:
        await crew.caller.run_in_worker(sleep, seconds)
