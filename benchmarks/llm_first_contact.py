"""The first request of a fresh process through an LLM path: output, timeouts, loop stalls.

Every figure comes from new interpreters (litellm not yet imported), against the test
suite's fake OpenAI-compatible provider on 127.0.0.1 (``tests/fakes``; no network):

1. quiet: lines printed to stdout and stderr while one request is served through a path
   whose model answers 500, 429 or 401 (``Retry(attempts=3)``, a last resort serves),
   beside the same run with ``litellm.suppress_debug_info = False`` set again after the
   router is built (litellm's default, what this project left before);
2. first request: of ``--runs`` fresh processes that build ``LLMPath(timeout=1.0)`` and
   serve one request, how many were served by the model (not timed out), beside a path
   that imports litellm inside its first call (how ``LLMPath`` loaded it before);
3. loop stall: the longest gap of a ticker coroutine (every 5 ms) from building the
   router to the end of the first ``await router.arun(x)``, for an ``AsyncLLMPath`` built
   inside the running loop and one built before it, beside a path that imports litellm
   inside its first call on the loop.

Run from the repository root:
    python benchmarks/llm_first_contact.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeProvider  # noqa: E402 - after the path is set

QUIET = """
import os, sys
from router import Path, Retry, Router
from router.llm import LLMPath
router = Router(
    [LLMPath("openai/fake/{fault}", "{{input}}", api_base=sys.argv[1], api_key="t",
             timeout=30.0),
     Path(lambda text: "regex", name="regex", last_resort=True)],
    success_fn=lambda out: out is not None, store="memory://", seed=0,
    retry=Retry(attempts=3), sleep=lambda seconds: None,
)
if {banners}:
    import litellm
    litellm.suppress_debug_info = False
print(router.run("two pens"))
"""

FIRST = """
import sys
from router import Path, Router
from router.llm import LLMPath
if {inside}:  # litellm imported inside the first call, as LLMPath did before
    def call(text):
        import litellm
        litellm.suppress_debug_info = True
        reply = litellm.completion(model="openai/gpt-4o-mini", api_base=sys.argv[1],
            api_key="t", messages=[{{"role": "user", "content": text}}], timeout=1.0,
            num_retries=0, max_retries=0)
        return reply.choices[0].message.content
    path = Path(call, name="model", timeout=1.0)
else:
    path = LLMPath("openai/gpt-4o-mini", "{{input}}", api_base=sys.argv[1], api_key="t",
                   timeout=1.0, name="model")
router = Router([path, Path(lambda t: "regex", name="regex", last_resort=True)],
                success_fn=lambda out: out is not None, store="memory://")
print(router.route("two pens").path)
"""

STALL = """
import asyncio, sys, time
from router import Path, Router
from router.llm import AsyncLLMPath
how = "{how}"

def build():
    if how == "inside":  # litellm imported inside the first call, on the loop
        async def call(text):
            import litellm
            litellm.suppress_debug_info = True
            reply = await litellm.acompletion(model="openai/gpt-4o-mini",
                api_base=sys.argv[1], api_key="t", messages=[{{"role": "user",
                "content": text}}], timeout=30.0, num_retries=0, max_retries=0)
            return reply.choices[0].message.content
        path = Path(call, name="model", timeout=30.0)
    else:
        path = AsyncLLMPath("openai/gpt-4o-mini", "{{input}}", api_base=sys.argv[1],
                            api_key="t", timeout=30.0, name="model")
    return Router([path], success_fn=lambda out: out is not None, store="memory://")

early = build() if how == "before" else None

async def main():
    stamps, done = [], asyncio.Event()
    async def ticker():
        while not done.is_set():
            stamps.append(time.perf_counter())
            await asyncio.sleep(0.005)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    start = len(stamps) - 1
    router = early or build()
    result = await router.aroute("two pens")
    done.set()
    await task
    gaps = [b - a for a, b in zip(stamps[start:], stamps[start + 1:])]
    print(result.path, [a.error_class for a in result.attempts], f"{{max(gaps):.3f}}")

asyncio.run(main())
"""


def child(code: str, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM")}
    env.update(PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    return subprocess.run(
        [sys.executable, "-c", code, base_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def lines(text: str) -> int:
    return len(text.splitlines())


def quiet(base_url: str) -> None:
    print("1. handled errors: lines printed while one request is served (Retry(attempts=3))")
    print(
        f"   {'fault':<6} {'stdout':>7} {'stderr':>7} {'banners':>8}   with banners on:"
        f" {'stdout':>7} {'banners':>8}"
    )
    for fault in ("500", "429", "401"):
        ours = child(QUIET.format(fault=fault, banners=False), base_url)
        loud = child(QUIET.format(fault=fault, banners=True), base_url)
        banners = ours.stdout.count("Give Feedback")
        print(
            f"   {fault:<6} {lines(ours.stdout):>7} {lines(ours.stderr):>7} {banners:>8}"
            f"   {'':>16} {lines(loud.stdout):>7} {loud.stdout.count('Give Feedback'):>8}"
        )


def first_requests(base_url: str, runs: int) -> None:
    print(f"\n2. first request with timeout=1.0 in {runs} fresh processes: served by the model")
    for label, inside in (
        ("LLMPath (loads litellm when built)", False),
        ("litellm imported inside the first call", True),
    ):
        served = [child(FIRST.format(inside=inside), base_url).stdout.strip() for _ in range(runs)]
        print(f"   {label:<42} {served.count('model'):>2}/{runs}")


def stalls(base_url: str, runs: int) -> None:
    print(
        f"\n3. event-loop stall: a 5 ms ticker's longest gap, build to the end of the first"
        f" arun ({runs} processes)"
    )
    for label, how in (
        ("AsyncLLMPath built inside the running loop", "in-loop"),
        ("AsyncLLMPath built before the loop", "before"),
        ("litellm imported inside the first call", "inside"),
    ):
        gaps, outcomes = [], []
        for _ in range(runs):
            done = child(STALL.format(how=how), base_url)
            *served, gap = done.stdout.split()
            gaps.append(float(gap))
            outcomes.append(" ".join(served))
        print(
            f"   {label:<44} median {statistics.median(gaps):.3f} s, "
            f"max {max(gaps):.3f} s ({outcomes[0]})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="fresh processes per figure")
    args = parser.parse_args()
    with FakeProvider() as provider:
        quiet(provider.base_url)
        first_requests(provider.base_url, args.runs)
        stalls(provider.base_url, max(3, args.runs // 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
