"""LLM path tests: every one needs litellm (skipped without it, but failed in CI)."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from router import FakeClock, Router
from storage import MemoryStore
from tests.conftest import IN_CI

MISSING = "litellm is not installed; pip install 'outcome-router[llm]' to run the LLM path tests"


@pytest.fixture(autouse=True)
def _needs_litellm() -> None:
    """Skip when litellm is missing; in CI (CI=true) fail instead, so it cannot go unnoticed."""
    try:
        missing = importlib.util.find_spec("litellm") is None
    except ValueError:  # sys.modules["litellm"] = None: blocked, as when checking this skip
        missing = True
    if missing:
        if IN_CI:
            pytest.fail(f"CI must run the LLM path tests: {MISSING}")
        pytest.skip(MISSING)


@pytest.fixture
def store() -> MemoryStore:
    """An in-memory store whose outcome rows the tests read."""
    return MemoryStore()


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait the router asked for (nothing really sleeps)."""
    return []


@pytest.fixture
def make_router(store: MemoryStore, clock: FakeClock, sleeps: list[float]) -> Callable[..., Router]:
    """A router on the fake clock and the memory store, recording its waits in ``sleeps``."""

    def make(paths: list[Any], success_fn: Callable[..., Any] | None = None, **kw: Any) -> Router:
        return Router(
            paths,
            success_fn=success_fn or (lambda output: output is not None),
            task=f"llm-{uuid.uuid4().hex[:8]}",
            store=store,
            seed=0,
            clock=clock,
            sleep=sleeps.append,
            **kw,
        )

    return make
