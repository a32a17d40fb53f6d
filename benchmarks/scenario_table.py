"""Every policy on every built-in scenario at two request rates, and the default policy's targets.

For each rate (1 and 50 requests per simulated second) and each degradation scenario it
replays every policy (and the oracle) over ``--seeds`` seeds of ``--requests`` requests
through the real Router, then prints and writes:

* a markdown table per rate: % of oracle success per policy and scenario;
* the targets of the Router's default policy, each with the measured value and PASS/FAIL:
  >= 99% of oracle in outage and silent-drift; median recovery <= 150 (outage) and
  <= 400 (silent-drift) requests; stationary no worse than 0.5 points below stationary
  Thompson sampling; >= 98% of oracle in every other scenario; ahead of the static chain
  in every degradation scenario.

"Ahead of the static chain": the chain here lists the best path first, so it is handed
what the router has to learn, and wherever a fallback rescues every error it matches
the oracle's success. The router is ahead when it has more successes (by > 0.25
points), or when it gives up no more success than its own learning cost (its gap in
``stationary``, plus 0.1 point) and is better in operation: fewer fallbacks (failed
first calls), cheaper successes or a lower p99 latency (each by >= 5-10%).

Run from the repository root (about 10-15 minutes on two cores):
    python benchmarks/scenario_table.py --out benchmarks/results
    python benchmarks/scenario_table.py --quick          # 2 seeds x 4,000 requests
    python benchmarks/scenario_table.py --policies router thompson static-chain   # fewer
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from simulations import ALL_POLICIES, load_scenario
from simulations._experiment import Experiment, run_experiment

SCENARIOS = (
    "stationary",
    "outage",
    "silent-drift",
    "latency-spike",
    "rate-limit-storm",
    "price-change",
    "new-path",
    "flapping",
    "gradual-drift",
)
DEGRADATIONS = tuple(s for s in SCENARIOS if s not in ("stationary", "new-path"))
RATES = (1.0, 50.0)


def summarise(experiment: Experiment) -> dict[str, Any]:
    """Plain per-policy numbers of one experiment."""
    out = {}
    for name, policy in experiment.policies.items():
        recovery = policy.median_recovery
        out[name] = {
            "success": policy.spread("success_rate").mean,
            "success_sd": policy.spread("success_rate").std,
            "percent_of_oracle": policy.percent_of_oracle.mean,
            "regret": policy.spread("regret").mean,
            "cost_per_success": policy.spread("cost_per_success").mean,
            "p99_ms": policy.spread("latency_p99_ms").mean,
            "fallbacks": policy.spread("fallback_rate").mean,
            "median_recovery": None if recovery is None else recovery,
        }
    return out


def ahead_of_static(
    router: dict[str, Any], static: dict[str, Any], learning_cost: float
) -> str | None:
    """Why the router is ahead of the static chain, or None if it is not.

    ``learning_cost`` is how much success the router gives up to the static chain in
    ``stationary`` (where the chain, listing the best path first, is the oracle).
    """
    gap = router["success"] - static["success"]
    if gap > 0.0025:
        return f"+{100 * gap:.2f} pts success"
    if gap < -(learning_cost + 0.001):
        return None
    reasons = [f"success {100 * gap:+.2f} pts (learning cost {100 * learning_cost:.2f})"]
    if router["fallbacks"] < 0.9 * static["fallbacks"]:
        reasons.append(
            f"fallbacks {100 * router['fallbacks']:.1f}% vs {100 * static['fallbacks']:.1f}%"
        )
    if router["cost_per_success"] < 0.95 * static["cost_per_success"]:
        reasons.append(
            f"$/success {1000 * router['cost_per_success']:.2f} vs "
            f"{1000 * static['cost_per_success']:.2f} per 1k"
        )
    if router["p99_ms"] < 0.95 * static["p99_ms"]:
        reasons.append(f"p99 {router['p99_ms']:.0f} vs {static['p99_ms']:.0f} ms")
    return "; ".join(reasons) if len(reasons) > 1 else None


def targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for the default policy at one rate."""
    checks = []
    for name in ("outage", "silent-drift"):
        share = results[name]["router"]["percent_of_oracle"]
        checks.append((f"{name}: >= 99% of oracle", f"{share:.2f}%", share >= 99.0))
    for name, limit in (("outage", 150), ("silent-drift", 400)):
        recovery = results[name]["router"]["median_recovery"]
        shown = "never" if recovery is None or math.isinf(recovery) else f"{recovery:.0f}"
        ok = recovery is not None and recovery <= limit
        checks.append((f"{name}: median recovery <= {limit}", shown, ok))
    router = results["stationary"]["router"]["success"]
    thompson = results["stationary"]["thompson"]["success"]
    gap = 100 * (router - thompson)
    checks.append(("stationary: >= Thompson - 0.5 pts", f"{gap:+.2f} pts", gap >= -0.5))
    for name in SCENARIOS:
        if name in ("stationary", "outage", "silent-drift"):
            continue
        share = results[name]["router"]["percent_of_oracle"]
        checks.append((f"{name}: >= 98% of oracle", f"{share:.2f}%", share >= 98.0))
    stationary = results["stationary"]
    learning_cost = max(
        0.0, stationary["static-chain"]["success"] - stationary["router"]["success"]
    )
    for name in DEGRADATIONS:
        reason = ahead_of_static(
            results[name]["router"], results[name]["static-chain"], learning_cost
        )
        checks.append(
            (f"{name}: ahead of the static chain", reason or "not ahead", reason is not None)
        )
    return checks


def markdown(results: dict[str, dict[str, Any]], rate: float) -> str:
    """Scenarios down, policies across; each cell the % of oracle success."""
    policies = [p for p in next(iter(results.values())) if p != "oracle"]
    lines = [
        f"| scenario ({rate:g} req/s) | " + " | ".join(policies) + " |",
        "|---|" + "---:|" * len(policies),
    ]
    for name in SCENARIOS:
        cells = []
        best = max(results[name][p]["percent_of_oracle"] for p in policies)
        for p in policies:
            value = results[name][p]["percent_of_oracle"]
            text = f"{value:.1f}"
            cells.append(f"**{text}**" if value == best else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the grid, print tables and targets; exit 1 if a target fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--quick", action="store_true", help="2 seeds x 4,000 requests")
    parser.add_argument(
        "--policies",
        nargs="+",
        default=[p for p in ALL_POLICIES if p != "oracle"],
        help="policies beside the oracle (router, thompson and static-chain are always run: "
        "the targets need them)",
    )
    args = parser.parse_args(argv)
    policies = list(dict.fromkeys(["router", "thompson", "static-chain", *args.policies]))
    policies = [p for p in policies if p != "oracle"] + ["oracle"]
    seeds, requests = (2, 4_000) if args.quick else (args.seeds, args.requests)
    started = time.perf_counter()
    everything: dict[str, Any] = {"seeds": seeds, "requests": requests, "rates": {}}
    failed = 0
    blocks = []
    for rate in RATES:
        results = {}
        for name in SCENARIOS:
            scenario = load_scenario(name).with_options(requests=requests, rate=rate)
            experiment = run_experiment(scenario, policies, seeds=seeds, jobs=args.jobs)
            results[name] = summarise(experiment)
            print(
                f"rate {rate:g}: {name} done ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
        checks = targets(results)
        failed += sum(not ok for _, _, ok in checks)
        everything["rates"][str(rate)] = {"results": results, "targets": checks}
        table = markdown(results, rate)
        lines = [f"| target ({rate:g} req/s) | measured | |", "|---|---|---|"]
        lines += [f"| {t} | {m} | {'PASS' if ok else 'FAIL'} |" for t, m, ok in checks]
        blocks.append(table + "\n\n" + "\n".join(lines))
        print(table + "\n\n" + "\n".join(lines) + "\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scenario_table.md").write_text(
        f"{seeds} seeds x {requests:,} requests per policy and scenario; cells: % of the "
        "oracle's success rate (bold: best non-oracle policy).\n\n" + "\n\n".join(blocks) + "\n"
    )
    (args.out / "scenario_table.json").write_text(json.dumps(everything, indent=1, default=str))
    print(
        f"{len(RATES) * len(SCENARIOS)} experiments in {time.perf_counter() - started:.0f} s; "
        f"{failed} target(s) failed; written to {args.out}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
