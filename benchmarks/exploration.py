"""How often the default policy goes back to the paths it has left behind, on stationary traffic.

Fading is the default policy's forced exploration: no record is ever final, so every
path that is not held is tried first again within a bounded time. This measures, on
the published random environments of kind ``stationary`` (nothing changes; seeds from
10,000), for every path that is not the best: the share of first choices it got in
the second half of the run, and the longest stretch of requests without one. Beside it,
in the same run, the same policy without fading (``horizon=1e12``) and stationary
Thompson sampling, and each one's % of the oracle: the price of the re-exploration.

Run from the repository root (a few minutes):
    python benchmarks/exploration.py
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import multiprocessing
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from simulations import Environment, random_scenario, replay
from simulations._random import KINDS

POLICIES = ("router", "router(horizon=1e12)", "thompson", "oracle")


def one(task: tuple[int, str]) -> dict[str, Any]:
    seed, policy = task
    scenario = random_scenario(seed)
    env = Environment(scenario, seed)
    rows = list(replay(scenario, policy, seed=seed, task=f"x/{seed}/{policy}"))
    best = env.best_path(0)
    half = rows[len(rows) // 2 :]
    shares, gaps = [], []
    for name in env.names:
        if name == best:
            continue
        tried = [r["request"] for r in half if r["first"] == name]
        shares.append(len(tried) / len(half))
        edges = [half[0]["request"], *tried, half[-1]["request"]]
        gaps.append(max(b - a for a, b in itertools.pairwise(edges)))
    return {
        "seed": seed,
        "policy": policy,
        "success": sum(r["success"] for r in rows) / len(rows),
        "share": statistics.fmean(shares) if shares else 0.0,
        "gap": max(gaps, default=0),
        "k": len(env.names),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument("--envs", type=int, default=200, help="environments of every kind")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    stationary = KINDS.index("stationary")
    seeds = [s for s in range(args.seed, args.seed + args.envs) if s % len(KINDS) == stationary]
    tasks = [(s, p) for s in seeds for p in POLICIES]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        runs = list(pool.map(one, tasks, chunksize=1))
    oracle = {r["seed"]: r["success"] for r in runs if r["policy"] == "oracle"}
    print(
        f"{len(seeds)} stationary environments (seeds {seeds[0]}-{seeds[-1]}), second half "
        "of each run, paths other than the best\n"
    )
    header = f"{'policy':<22}{'% oracle':>10}{'first-choice share':>20}{'longest gap':>13}"
    print(header + "\n" + "-" * len(header))
    for policy in POLICIES[:-1]:
        mine = [r for r in runs if r["policy"] == policy]
        share = statistics.fmean(100 * r["success"] / oracle[r["seed"]] for r in mine)
        explore = statistics.fmean(r["share"] for r in mine)
        gap = max(r["gap"] for r in mine)
        print(f"{policy:<22}{share:>9.2f}%{100 * explore:>19.2f}%{gap:>13,}")
    print(
        "\nfirst-choice share: mean over environments of the mean share per non-best path;"
        "\nlongest gap: the most requests any non-best path went without being tried first"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
