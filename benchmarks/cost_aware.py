"""Cost-aware routing on the price-change scenario, beside the default policy.

The scenario has two paths of equal quality (gpt-4o and claude-sonnet, 93%); gpt-4o's
price rises tenfold at half time; gpt-4o-mini is far cheaper but worse (85%). Prints,
for the last quarter of the run, which path served each request, the success rate and
the cost, per policy, as a markdown table.

Run from the repository root:
    python benchmarks/cost_aware.py [--requests 6000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from simulations import load_scenario, replay

POLICIES = ("router", "cost-aware(weight=20.0)", "cost-aware(max_cost_per_success=0.01)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenario = load_scenario("price-change").with_options(requests=args.requests)
    tail = args.requests // 4
    print(f"price-change, {args.requests} requests, seed {args.seed}: the last {tail}")
    print(
        "| policy | gpt-4o (price x10) | claude-sonnet (equal) | gpt-4o-mini (worse) "
        "| success | cost $ |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for policy in POLICIES:
        rows = list(replay(scenario, policy, seed=args.seed))[-tail:]
        served = Counter(str(r["served"]) for r in rows)
        success = sum(r["success"] for r in rows) / len(rows)
        cost = sum(r["cost"] for r in rows)
        print(
            f"| `{policy}` | {served['gpt-4o']} | {served['claude-sonnet']} | "
            f"{served['gpt-4o-mini']} | {success:.1%} | {cost:.2f} |"
        )


if __name__ == "__main__":
    main()
