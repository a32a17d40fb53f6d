"""The first request of a fresh process: quiet about handled errors, litellm loaded before
it (off the event loop for async code), and warm-ups that open connections first."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path as FilePath
from types import ModuleType

import pytest

from router import Path, Router
from router.llm import AsyncLLMPath, LLMPath
from storage import MemoryStore
from tests.fakes import FakeProvider

ROOT = FilePath(__file__).resolve().parents[2]


def fresh(
    code: str, provider: FakeProvider, *, warnings: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter (litellm not yet imported, nothing set) with the
    fake provider's base URL as ``sys.argv[1]``, and the ``-W`` option ``warnings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM")}
    env.update(PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    options = [] if warnings is None else ["-W", warnings]
    return subprocess.run(
        [sys.executable, *options, "-c", code, provider.base_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


HANDLED = """
import os, sys
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # offline, as router.llm would set it
import litellm  # the user's own import, and settings, come first
from router import Path, Retry, Router
from router.llm import LLMPath

SIMPLE = (bool, int, float, str, type(None))
def settings():
    return {k: repr(v) for k, v in vars(litellm).items()
            if not k.startswith("_") and isinstance(v, SIMPLE)}

before = settings()
router = Router(
    [LLMPath("openai/fake/FAULT", "{input}", api_base=sys.argv[1], api_key="t", timeout=30.0),
     Path(lambda text: "regex", name="regex", last_resort=True)],
    success_fn=lambda out: out is not None, store="memory://", seed=0,
    retry=Retry(attempts=3), sleep=lambda seconds: None,
)
print(router.run("two pens"))
changed = {k for k, v in settings().items() if before.get(k) != v}
assert changed == {"suppress_debug_info"}, changed
"""


@pytest.mark.parametrize("fault", ["500", "429", "401"])
def test_a_handled_error_prints_nothing_and_changes_no_other_litellm_setting(
    provider: FakeProvider, fault: str
) -> None:
    done = fresh(HANDLED.replace("FAULT", fault), provider)
    assert done.returncode == 0, done.stderr[-3000:]
    # No "Give Feedback / Get Help" banner; the 401's auth alert is a warning that only
    # logging configured by the application would show.
    assert (done.stdout, done.stderr) == ("regex\n", "")
    assert provider.hits == (1 if fault == "401" else 3)  # auth is never retried


FIRST_REQUEST = """
import sys
from router import Router
from router.llm import LLMPath

path = LLMPath("openai/gpt-4o-mini", "{input}", api_base=sys.argv[1], api_key="t", timeout=3.0)
assert "litellm" in sys.modules, "building an LLM path loads litellm"
router = Router([path], success_fn=lambda out: out is not None, store="memory://")
result = router.route("two pens")
print(result.path, [attempt.error_class for attempt in result.attempts])
"""


def test_litellm_loads_when_the_path_is_built_so_the_first_request_is_not_timed_out(
    provider: FakeProvider,
) -> None:
    done = fresh(FIRST_REQUEST, provider)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "openai/gpt-4o-mini [None]\n"


FIRST_ASYNC = """
import asyncio, sys, time
from router import Router
from router.llm import AsyncLLMPath

async def main():
    ticks = []
    done = asyncio.Event()
    async def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    path = AsyncLLMPath("openai/gpt-4o-mini", "{input}", api_base=sys.argv[1], api_key="t",
                        timeout=3.0)
    router = Router([path], success_fn=lambda out: out is not None, store="memory://")
    result = await router.aroute("two pens")
    done.set()
    await task
    print(result.path, [attempt.error_class for attempt in result.attempts], len(ticks))

asyncio.run(main())
"""


def test_an_async_path_built_on_a_running_loop_loads_litellm_off_it(
    provider: FakeProvider,
) -> None:
    done = fresh(FIRST_ASYNC, provider, warnings="default")  # shows "never awaited"
    assert done.returncode == 0, done.stderr[-3000:]
    served, ticks = done.stdout.rsplit(" ", 1)
    assert served == "openai/gpt-4o-mini [None]", done.stdout
    # litellm takes seconds to import: a loop that kept serving ticked all along (a
    # blocked one ticks a handful of times, then once after the import).
    assert int(ticks) >= 20, done.stdout
    assert "never awaited" not in done.stderr, done.stderr[-3000:]


def test_warm_up_sends_one_minimal_request_per_model_path_and_records_nothing(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    base = {"api_base": provider.base_url, "api_key": "t", "temperature": 0, "max_tokens": 300}
    store = MemoryStore()
    router = Router(
        [
            LLMPath("openai/gpt-4o-mini", "Extract: {input}", **base),
            AsyncLLMPath("openai/gpt-4o", "Extract: {input}", **base),
            Path(lambda text: "regex", name="regex", last_resort=True),
        ],
        success_fn=lambda out: out is not None,
        task="warm",
        store=store,
    )
    assert router.warm_up() == {"openai/gpt-4o-mini": None, "openai/gpt-4o": None}
    assert sorted(r.model for r in provider.requests) == ["gpt-4o", "gpt-4o-mini"]
    for request in provider.requests:
        assert request.messages == [{"role": "user", "content": "ping"}]
        assert (request.json["max_tokens"], request.json["temperature"]) == (1, 0)
    assert store.outcomes("warm") == []
    assert {row.n for row in store.posteriors("warm").values()} == {0}


def test_a_failed_warm_up_is_returned_not_raised(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    router = Router(
        [LLMPath("openai/fake/401", "{input}", api_base=provider.base_url, api_key="t")],
        success_fn=lambda out: out is not None,
        store="memory://",
    )
    (error,) = router.warm_up().values()
    assert isinstance(error, litellm.AuthenticationError)


def test_awarm_up_warms_every_path_on_the_running_loop(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    base = {"api_base": provider.base_url, "api_key": "t"}
    router = Router(
        [
            AsyncLLMPath("openai/gpt-4o-mini", "{input}", **base),
            LLMPath("openai/gpt-4o", "{input}", **base),
            Path(lambda text: "regex", name="regex", last_resort=True),
        ],
        success_fn=lambda out: out is not None,
        store="memory://",
    )
    warmed = asyncio.run(router.awarm_up())
    assert warmed == {"openai/gpt-4o-mini": None, "openai/gpt-4o": None}
    assert provider.hits == 2
    assert provider.requests[0].headers["x-stainless-async"].startswith("async") != (
        provider.requests[1].headers["x-stainless-async"].startswith("async")
    )  # the async path warmed litellm's async client, the sync one its sync client
