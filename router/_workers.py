"""The router's own worker threads: bounded, and unable to hold the process hostage.

Why not ``concurrent.futures.ThreadPoolExecutor``: its threads are joined when the
interpreter exits, so one path call that never returns (a hung socket) keeps the
process from exiting, and ``shutdown()`` cannot stop it either. Python cannot kill a
thread; what it can do is not wait for one. These threads are daemons, started on
demand up to ``max_workers``, and leave when the pool is closed and their call (if
any) has returned.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_Item = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class WorkerPool:
    """Up to ``max_workers`` daemon threads running submitted calls, first come first served.

    Example:
        >>> pool = WorkerPool(2, "example")
        >>> pool.submit(sum, [1, 2, 3]).result()
        6
        >>> pool.close()
    """

    def __init__(self, max_workers: int, name: str) -> None:
        self._max = max_workers
        self._name = name
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # released by each worker done with a call
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._closed = False

    @property
    def threads(self) -> int:
        """Worker threads alive (idle or busy)."""
        with self._lock:
            return len(self._threads)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` on a worker; its future (never cancelled once it runs)."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the router is closed; its worker threads are stopped")
            self._queue.put((future, fn, args))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.add(thread)
                thread.start()
        return future

    def close(self) -> None:
        """Stop the idle workers now and the busy ones when their call returns; drop
        calls not started (their futures are cancelled)."""
        with self._lock:
            self._closed = True
            count = len(self._threads)
        while True:  # calls not started yet will not be
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in range(count):
            self._queue.put(None)

    def _work(self) -> None:
        try:
            while (item := self._queue.get()) is not None:
                _run(item)
                item = None  # do not keep the last call's objects alive while idle
                self._idle.release()  # free again: the next submit need not start a thread
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())


def _run(item: _Item) -> None:
    future, fn, args = item
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args)
    except BaseException as exc:  # the future carries it to the caller
        future.set_exception(exc)
    else:
        future.set_result(result)
