"""The default policy on scenarios it was not tuned on (``benchmarks/scenarios/*.toml``).

The built-in scenarios are the ones the default policy was designed against. These
eleven were written afterwards, to find where it does not generalise: two or eight
paths, every path failing at once, a timeout storm that is not an outage, two 429
storms at once, a swap of best and worst, rates of 0.1 and 500 requests per second,
repeated short outages, a slowly improving path. For each it replays the router, the
static chain (paths in file order, the best first), stationary Thompson sampling and
the oracle through the real Router, and prints a markdown table.

"% of oracle" can pass 100 where errors are common: the oracle ranks paths by their
true availability x quality and ignores that a fallback rescues an error, so the
static chain, which tries every path in turn, beats it there.

Run from the repository root (about 8 minutes on two cores):
    python benchmarks/more_scenarios.py --out benchmarks/results
    python benchmarks/more_scenarios.py --seeds 2 --requests 4000   # quicker
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_table import summarise

from simulations import load_scenario
from simulations._experiment import run_experiment

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
POLICIES = ("router", "static-chain", "thompson")


def row(name: str, results: dict[str, dict[str, float]]) -> str:
    """One markdown row: success and % of oracle per policy, the router's recovery."""
    router, chain = results["router"], results["static-chain"]
    recovery = router["median_recovery"]
    shown = "-" if recovery is None else "never" if math.isinf(recovery) else f"{recovery:.0f}"
    cells = [
        f"{100 * results[p]['success']:.2f} ({results[p]['percent_of_oracle']:.1f})"
        for p in (*POLICIES, "oracle")
    ]
    gap = 100 * (router["success"] - chain["success"])
    fallbacks = f"{100 * router['fallbacks']:.1f}% / {100 * chain['fallbacks']:.1f}%"
    return f"| {name} | " + " | ".join(cells) + f" | {gap:+.2f} | {fallbacks} | {shown} |"


def main(argv: list[str] | None = None) -> int:
    """Replay every scenario file, print the table and write it under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--requests", type=int, help="per replay (default: each file's)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, help="directory for more_scenarios.md")
    args = parser.parse_args(argv)
    lines = [
        "| scenario | router | static-chain | thompson | oracle | router - chain (pts) "
        "| fallbacks router / chain | router recovery |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    started = time.perf_counter()
    for file in sorted(SCENARIOS.glob("*.toml")):
        scenario = load_scenario(file).with_options(requests=args.requests)
        experiment = run_experiment(scenario, list(POLICIES), seeds=args.seeds, jobs=args.jobs)
        lines.append(row(scenario.name, summarise(experiment)))
        print(f"{scenario.name} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    table = "\n".join(lines)
    note = (
        f"\n\nCells: success % (% of oracle), mean of {args.seeds} seeds; "
        "recovery: median requests until the new best path holds 80% of the last 100."
    )
    print(table + note)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "more_scenarios.md").write_text(table + note + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
