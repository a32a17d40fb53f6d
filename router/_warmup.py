"""Warming paths up before traffic: what ``Router.warm_up()`` and ``awarm_up()`` do.

A path's function may have ``warm_up()`` (and, for async paths, ``awarm_up()``): load
what it needs and open its connections, so the first request does not pay for them.
LLM paths (``router.llm``) send one minimal request each. A failure is returned, and
logged, not raised: a provider that is down at start-up is the router's to route around.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from router._path import Path

logger = logging.getLogger("outcome_router")

WarmUps = dict[str, Exception | None]


def warm_up(
    paths: Sequence[Path], run_coroutine: Callable[[Coroutine[Any, Any, None]], Any]
) -> WarmUps:
    """Warm each path that can be, in turn; async ones on the router's own loop.

    Returns each warmed path's name with None, or the error its warm-up raised.

    Example:
        >>> class Model:
        ...     def __call__(self, text): return text
        ...     def warm_up(self): print("connected")
        >>> warm_up([Path(Model(), name="model"), Path(str.upper, name="plain")], print)
        connected
        {'model': None}
    """
    results: WarmUps = {}
    for path in paths:
        fn = path.fn
        awarm = getattr(fn, "awarm_up", None) if path.is_async else None
        warm = getattr(fn, "warm_up", None)
        if awarm is None and warm is None:
            continue
        try:
            if awarm is not None:
                run_coroutine(awarm())  # where Router.run calls async paths
            elif warm is not None:
                warm()
        except Exception as exc:
            results[path.name] = _failed(path, exc)
        else:
            results[path.name] = None
    return results


async def awarm_up(paths: Sequence[Path]) -> WarmUps:
    """Warm every path that can be, concurrently, on the running event loop (sync
    warm-ups in worker threads)."""
    import asyncio

    warmed, jobs = [], []
    for path in paths:
        fn = path.fn
        awarm = getattr(fn, "awarm_up", None)
        warm = getattr(fn, "warm_up", None)
        if awarm is not None:
            jobs.append(awarm())
        elif warm is not None:
            jobs.append(asyncio.to_thread(warm))
        else:
            continue
        warmed.append(path)
    done = await asyncio.gather(*jobs, return_exceptions=True)
    results: WarmUps = {}
    for path, outcome in zip(warmed, done, strict=True):
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome  # cancelled, or interrupted: not the path's failure
        results[path.name] = _failed(path, outcome) if isinstance(outcome, Exception) else None
    return results


def _failed(path: Path, error: Exception) -> Exception:
    logger.warning("warm-up of path %r failed: %s: %s", path.name, type(error).__name__, error)
    return error
