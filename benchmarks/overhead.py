"""Per-request overhead of ``Router.run`` with trivial paths, next to its floor and MABWiser.

For K in (2, 5, 10) trivial paths (``lambda x: x``, success_fn always True) it times, one
request at a time with ``time.perf_counter_ns`` after a warm-up, and with the garbage
collector off during each timing loop:

  bare      the path and success_fn called directly: the floor, no routing at all
  memory    ``Router(..., store="memory://").run(1)``: sampling, scoring, in-process store
  sqlite    the same on a durable SQLite file (WAL, synchronous=NORMAL) in a temp dir
  mabwiser  MABWiser Thompson sampling: ``predict()``, call the path, ``partial_fit``

Times are raw per-request wall times (nothing subtracted). p50/p99 are in microseconds.
A "targets" section checks the K=5 numbers against the project's overhead goals.

With litellm installed, an LLM section times one chat completion against the test
suite's fake OpenAI-compatible provider on 127.0.0.1 (``tests/fakes``: no network, a
fresh local HTTP connection per request), three ways, interleaved in rounds so that
drift hits all rows alike (their order rotating from round to round):

  litellm   ``litellm.completion(...)``: the floor, what any litellm user pays
  litellm.Router  ``litellm.Router(model_list=[one deployment]).completion(...)``
  router    ``Router([LLMPath(...)], store="memory://").run(x)``: routing, scoring,
            tokens and cost, the outcome recorded

Each runs once over HTTP to the fake provider and once with litellm's ``mock_response``
(no I/O: litellm's own code and ours only). "added" is the median over rounds of a row's
p50 less litellm's p50 in the same round: the target is the router's added overhead at
most 1/5 of litellm.Router's.

Run from the repository root:
    python benchmarks/overhead.py            # full run (a minute or two)
    python benchmarks/overhead.py --quick    # smoke run, ~300 requests per row
    python benchmarks/overhead.py --requests 5000 --ks 5
    python benchmarks/overhead.py --llm-only      # the LLM section alone
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path as FsPath

import numpy as np

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1]))  # run from a checkout

from router import Path, Router

try:
    from mabwiser.mab import MAB, LearningPolicy
except ImportError:  # optional baseline: pip install 'outcome-router[bench]'
    MAB = None

DEFAULT_REQUESTS = {"bare": 20_000, "memory": 20_000, "sqlite": 5_000, "mabwiser": 2_000}
Step = Callable[[], object]


def success_fn(out: object) -> bool:
    return True


def make_paths(k: int) -> list[Path]:
    return [Path(lambda x: x, name=f"p{i}") for i in range(k)]


def time_requests(
    step: Step, warmup: int, n: int, clock: Callable[[], int] = time.perf_counter_ns
) -> np.ndarray:
    """Run ``step`` ``warmup`` times, then time ``n`` calls one by one (ns each, on
    ``clock``: wall time, or ``time.thread_time_ns`` for this thread's CPU time)."""
    for _ in range(warmup):
        step()
    samples = np.empty(n, dtype=np.int64)
    gc.collect()
    gc.disable()
    try:
        for i in range(n):
            t0 = clock()
            step()
            samples[i] = clock() - t0
    finally:
        gc.enable()
    return samples


@contextmanager
def router_step(k: int, store: str) -> Iterator[Step]:
    router = Router(make_paths(k), success_fn=success_fn, task="bench", store=store, seed=0)
    try:
        yield lambda: router.run(1)
    finally:
        router.close()


def bare_step(k: int) -> Step:
    fn = make_paths(k)[0].fn

    def step() -> object:
        return success_fn(fn(1))

    return step


def mabwiser_step(k: int) -> Step:
    fns = {p.name: p.fn for p in make_paths(k)}
    arms = list(fns)
    mab = MAB(arms=arms, learning_policy=LearningPolicy.ThompsonSampling(), seed=0)
    mab.fit(decisions=arms, rewards=[1] * len(arms))

    def step() -> object:
        arm = mab.predict()
        reward = int(success_fn(fns[arm](1)))
        mab.partial_fit([arm], [reward])
        return reward

    return step


def measure(k: int, kind: str, n: int, warmup: int) -> np.ndarray | None:
    """Per-request times (ns) of one row; None when the MABWiser baseline is unavailable."""
    if kind == "bare":
        return time_requests(bare_step(k), warmup, n)
    if kind == "mabwiser":
        return None if MAB is None else time_requests(mabwiser_step(k), warmup, n)
    if kind == "memory":
        with router_step(k, "memory://") as step:
            return time_requests(step, warmup, n)
    with tempfile.TemporaryDirectory() as tmp, router_step(k, f"{tmp}/bench.db") as step:
        return time_requests(step, warmup, n)


LLM_ROUNDS = 40  # rounds of the LLM rows, each timing every row in turn
REPLY = "This is a fake reply."


def llm_steps(base_url: str, mock: bool) -> dict[str, Step]:
    """One chat completion, three ways (see the docstring); ``mock``: litellm's own
    ``mock_response`` instead of the HTTP round trip (litellm's and our code only)."""
    import litellm

    from router.llm import LLMPath

    params = {"model": "openai/gpt-4o-mini", "api_base": base_url, "api_key": "bench"}
    messages = [{"role": "user", "content": "Extract: two pens"}]
    quiet = {"num_retries": 0, "max_retries": 0, "timeout": 10.0}
    if mock:
        quiet["mock_response"] = REPLY
    group = litellm.Router(model_list=[{"model_name": "gpt", "litellm_params": params}])
    options = {k: v for k, v in quiet.items() if k == "mock_response"}
    path = LLMPath(
        params["model"],
        "Extract: {input}",
        api_base=base_url,
        api_key="bench",
        timeout=10.0,
        **options,
    )
    router = Router(
        [path], success_fn=lambda out: out is not None, task="bench-llm", store="memory://"
    )
    return {
        "litellm": lambda: litellm.completion(**params, messages=messages, **quiet),
        "litellm.Router": lambda: group.completion(model="gpt", messages=messages, **quiet),
        "router": lambda: router.run("two pens"),
    }


def measure_llm(
    per_round: int, warmup: int, mock: bool, clock: Callable[[], int]
) -> dict[str, list[np.ndarray]]:
    """Per-request times (ns) of the LLM rows, one array per round, rows interleaved."""
    from tests.fakes import FakeProvider

    with FakeProvider() as provider:
        steps = llm_steps(provider.base_url, mock)
        for step in steps.values():
            for _ in range(warmup):
                step()
        rounds: dict[str, list[np.ndarray]] = {name: [] for name in steps}
        names = list(steps)
        for number in range(LLM_ROUNDS):
            # Rotate the order: litellm's background logging after one row's calls
            # must not always spill into the same next row.
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                rounds[name].append(time_requests(steps[name], 0, per_round, clock))
    return rounds


def report_llm(per_round: int, warmup: int) -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # offline, as router.llm does
    try:
        import litellm  # noqa: F401
    except ImportError:
        print("LLM section skipped: litellm is not installed (pip install 'outcome-router[llm]')")
        return
    runs = (
        (False, "HTTP to the fake provider", "wall", time.perf_counter_ns),
        (True, "litellm mock_response", "wall", time.perf_counter_ns),
        # This thread's CPU time: what the caller's code costs, whatever else the
        # machine (or litellm's background logging thread) is doing meanwhile.
        (True, "litellm mock_response", "CPU", time.thread_time_ns),
    )
    for mock, transport, kind, clock in runs:
        rounds = measure_llm(per_round, warmup, mock, clock)
        floor = [pct_us(times, 50) for times in rounds["litellm"]]
        print(
            f"LLM, {transport}, {kind} time: one completion "
            f"({LLM_ROUNDS} rounds x {per_round} requests)"
        )
        header = f"{'row':<15} {'requests':>9} {'p50 us':>10} {'p99 us':>10} {'added us':>9}"
        print(header)
        print("-" * len(header))
        added: dict[str, float] = {}
        for name, parts in rounds.items():
            times = np.concatenate(parts)
            # A round's p50 less litellm's in the same round, then the median over rounds:
            # drift on a shared machine hits both sides of each difference alike.
            paired = [pct_us(t, 50) - f for t, f in zip(parts, floor, strict=True)]
            added[name] = float(np.median(paired))
            print(
                f"{name:<15} {times.size:>9} {pct_us(times, 50):>10.1f} "
                f"{pct_us(times, 99):>10.1f} {added[name]:>9.1f}"
            )
        theirs = added["litellm.Router"]
        share = added["router"] / theirs if theirs > 0 else float("inf")
        print(
            f"  router's added overhead = {share:.2f} x litellm.Router's "
            f"(target <= 0.20)   {verdict(share <= 0.2)}\n"
        )


def pct_us(samples: np.ndarray, q: float) -> float:
    return float(np.percentile(samples, q)) / 1000.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, help="timed requests per row (all rows)")
    parser.add_argument("--warmup", type=int, default=500, help="untimed requests per row")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 300 timed requests per row"
    )
    parser.add_argument("--ks", type=int, nargs="+", default=[2, 5, 10], help="path counts")
    parser.add_argument("--llm-only", action="store_true", help="only the LLM section")
    parser.add_argument(
        "--llm-requests", type=int, default=25, help="LLM requests per row and round (25)"
    )
    args = parser.parse_args(argv)
    counts = {
        kind: args.requests or (300 if args.quick else n) for kind, n in DEFAULT_REQUESTS.items()
    }

    print(
        f"python {platform.python_version()} ({platform.python_implementation()}) | "
        f"{platform.platform()} | {platform.processor() or platform.machine()} | "
        f"cpus={os.cpu_count()}"
    )
    print(
        f"warm-up {args.warmup} requests per row; gc disabled while timing; times are raw "
        "per-request wall time in microseconds\n"
    )
    report_llm(5 if args.quick else args.llm_requests, 5 if args.quick else 50)
    if args.llm_only:
        return 0
    if MAB is None:
        print(
            "MABWiser baseline skipped: mabwiser is not installed "
            "(pip install 'outcome-router[bench]')\n"
        )

    header = f"{'K':>3}  {'row':<9} {'requests':>9} {'p50 us':>9} {'p99 us':>9} {'p50/bare':>9}"
    print(header)
    print("-" * len(header))
    p50: dict[tuple[int, str], float] = {}
    for k in args.ks:
        for kind, n in counts.items():
            samples = measure(k, kind, n, args.warmup)
            if samples is None:
                print(f"{k:>3}  {kind:<9} {'skipped':>9}")
                continue
            p50[k, kind] = pct_us(samples, 50)
            rel = p50[k, kind] / p50[k, "bare"]
            print(
                f"{k:>3}  {kind:<9} {n:>9} {p50[k, kind]:>9.2f} "
                f"{pct_us(samples, 99):>9.2f} {rel:>8.0f}x"
            )
        if (k, "mabwiser") in p50:
            ratio = p50[k, "mabwiser"] / p50[k, "memory"]
            print(
                f"{'':>3}  -> {ratio:.1f}x less overhead than MABWiser "
                "(MABWiser p50 / router-memory p50)"
            )
        print()

    print("targets (K=5, p50)")
    if 5 not in args.ks:
        print("  not checked: K=5 was not measured (add 5 to --ks)")
        return 0
    memory, sqlite = p50[5, "memory"], p50[5, "sqlite"]
    print(f"  in-memory p50 <= 30 us        {memory:>9.2f} us   {verdict(memory <= 30)}")
    print(f"  durable SQLite p50 <= 300 us  {sqlite:>9.2f} us   {verdict(sqlite <= 300)}")
    if (5, "mabwiser") in p50:
        ratio = p50[5, "mabwiser"] / memory
        print(f"  >= 3x less overhead than MABWiser  {ratio:>6.1f}x      {verdict(ratio >= 3)}")
    else:
        print("  >= 3x less overhead than MABWiser  skipped (mabwiser not installed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
