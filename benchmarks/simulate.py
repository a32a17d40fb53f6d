"""Simulated requests per second through the real Router, beside the bare sampler loop.

Rows, all on the ``stationary`` scenario's four paths, measured in this run:

  bare sampler     bandits.thompson_ranking + a posterior update per request, no Router
  router, 1 proc   simulations.replay: the real Router (default policy, memory:// store),
                   synthetic paths, requests in flight, one process
  router, N procs  the same replays spread over N worker processes (as
                   ``outcome-router simulate`` runs them): requests per second machine-wide

Run from the repository root:
    python benchmarks/simulate.py            # 20,000 requests per replay
    python benchmarks/simulate.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

TARGET = 50_000  # simulated requests per second on this machine


def bare_sampler(requests: int, seed: int) -> float:
    """Requests per second of Thompson sampling alone, on the scenario's true means."""
    import numpy as np

    from bandits import thompson_ranking
    from simulations import load_scenario

    means = [spec.success.values(1)[0] for spec in load_scenario("stationary").paths]
    rng = np.random.default_rng(seed)
    alpha, beta = [1.0] * len(means), [1.0] * len(means)
    wins = rng.random(requests)
    started = time.perf_counter()
    for i in range(requests):
        first = thompson_ranking(alpha, beta, rng)[0]
        if wins[i] < means[first]:
            alpha[first] += 1.0
        else:
            beta[first] += 1.0
    return requests / (time.perf_counter() - started)


def router_one_process(requests: int, seed: int) -> float:
    """Requests per second of one replay through the Router with the default policy."""
    from simulations import load_scenario, replay

    scenario = load_scenario("stationary").with_options(requests=requests)
    started = time.perf_counter()
    count = sum(1 for _ in replay(scenario, "router", seed=seed))
    return count / (time.perf_counter() - started)


def router_processes(requests: int, replays: int, jobs: int) -> float:
    """Machine-wide requests per second: ``replays`` router replays over ``jobs`` processes."""
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        list(pool.map(router_one_process, [200] * jobs, range(jobs)))  # start the workers
        started = time.perf_counter()
        list(pool.map(router_one_process, [requests] * replays, range(replays)))
        elapsed = time.perf_counter() - started
    return requests * replays / elapsed


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; exit 0 (the numbers are the result)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per replay")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--quick", action="store_true", help="smoke run (2,000 requests)")
    args = parser.parse_args(argv)
    requests = 2_000 if args.quick else args.requests
    print(f"python {platform.python_version()} | {platform.platform()} | cpus={os.cpu_count()}")
    bare = bare_sampler(requests, seed=0)
    router_one_process(200, seed=0)  # warm up (imports), as the worker processes are
    single = router_one_process(requests, seed=0)
    machine = router_processes(requests, replays=2 * args.jobs, jobs=args.jobs)
    rows = [
        ("bare sampler (bandits only)", bare),
        ("router, 1 process", single),
        (f"router, {args.jobs} processes (machine-wide)", machine),
    ]
    print(f"\n{'loop':<40}{'requests/s':>14}{'vs bare':>10}")
    print("-" * 64)
    for label, rate in rows:
        print(f"{label:<40}{rate:>14,.0f}{rate / bare:>9.2f}x")
    verdict = "PASS" if machine >= TARGET else "FAIL"
    print(
        f"\ntarget: >= {TARGET:,} simulated requests/s on this machine: "
        f"{machine:,.0f}/s with {args.jobs} processes ({single:,.0f}/s per process)  {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
