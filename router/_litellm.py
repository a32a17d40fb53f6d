"""Loading litellm for model paths: offline, quiet, and never inside a timed call.

litellm takes seconds to import. Building an LLM path (or judge) starts the import, so
the first request does not pay for it inside its timeout:

* outside an event loop the import happens right there, in the constructor;
* inside a running event loop it happens in a worker thread, so the loop keeps
  serving; the first call awaits it (off the loop) before its timeout starts.

Before the import, ``LITELLM_LOCAL_MODEL_COST_MAP`` is set to ``True`` unless you set it,
so litellm prices calls from its bundled cost map instead of downloading one. After it,
``litellm.suppress_debug_info`` is set to ``True`` (as ``litellm.Router`` does): litellm
would otherwise print a "Give Feedback / Get Help" banner to stdout for every error the
router handles. No other litellm setting is touched.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import importlib.util
import os
import sys
import threading
from typing import Any

from bandits import ConfigError

COST_MAP_ENV = "LITELLM_LOCAL_MODEL_COST_MAP"
MISSING = "router.llm needs litellm; install it with: pip install 'outcome-router[llm]'"


def load_litellm() -> Any:
    """litellm, imported offline (the bundled cost map, never a download) and quiet."""
    os.environ.setdefault(COST_MAP_ENV, "True")
    try:
        litellm: Any = importlib.import_module("litellm")
    except ImportError as exc:  # pragma: no cover - checked when paths are built
        raise ConfigError(MISSING) from exc
    litellm.suppress_debug_info = True  # no banner on stdout per handled error
    return litellm


def require_litellm() -> None:
    """Raise ConfigError (saying how to install it) when litellm is not installed."""
    try:
        found = importlib.util.find_spec("litellm") is not None
    except ValueError:  # sys.modules["litellm"] is None: import blocked on purpose
        found = False
    if not found:
        raise ConfigError(MISSING)


def _loop_running() -> bool:
    """Is an asyncio event loop running in this thread? (asyncio is not imported for it.)"""
    if "asyncio" not in sys.modules:
        return False
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class Loader:
    """Imports litellm once per process; :meth:`start` never blocks an event loop.

    Example:
        >>> loader = Loader(lambda: "a module")
        >>> loader.start()  # no event loop runs here: loaded at once
        >>> loader.get()
        'a module'
    """

    def __init__(self, load: Any = load_litellm) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._future: concurrent.futures.Future[Any] | None = None

    def start(self) -> None:
        """Begin loading: here, or in a worker thread when an event loop runs in this one."""
        with self._lock:
            if self._future is not None:
                return
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            self._future = future
        if _loop_running():
            threading.Thread(
                target=self._run, args=(future,), name="outcome-router-litellm", daemon=True
            ).start()
        else:
            self._run(future)

    def loaded(self) -> Any | None:
        """The module if it is loaded already (never waits), else None."""
        future = self._future
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def get(self) -> Any:
        """The module, waiting for a load in progress (raises what the import raised)."""
        self.start()
        assert self._future is not None
        return self._future.result()

    async def aget(self) -> Any:
        """The module, awaiting a load in progress without blocking the event loop."""
        import asyncio

        with self._lock:
            future = self._future
        if future is None:  # nothing built yet: load in a worker thread, not on the loop
            return await asyncio.to_thread(self.get)
        return await asyncio.wrap_future(future)

    def _run(self, future: concurrent.futures.Future[Any]) -> None:
        try:
            module = self._load()
        except BaseException as exc:  # handed to whoever waits for the module
            future.set_exception(exc)
        else:
            future.set_result(module)


LITELLM = Loader()
"""The process's litellm loader (started by every LLM path and judge)."""
