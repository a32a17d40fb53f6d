"""The default policy beside the non-stationary bandit literature on random environments.

Replays ``--envs`` random environments (``simulations.random_scenarios``; published
results use seeds 10,000 to 10,199, which no policy was tuned on: tuning used seeds
below 1,000) of 12,000 requests each through the real Router, with the default policy
and, in the same run, discounted TS, sliding-window TS, GLR-klUCB (change detection
with forced exploration), stationary TS, the static chain and the oracle. Prints per
kind each policy's mean and 5th percentile % of the oracle, then the targets:

* every environment: mean >= 99.0%, 5th percentile >= 97.5%, worst >= 95%;
* stationary environments: >= Thompson sampling - 0.5 points;
* ahead of every baseline on the mean and the 5th percentile of every kind.

Run from the repository root (about 15 minutes on 2 cores):
    python benchmarks/random_envs.py --out benchmarks/results
    python benchmarks/random_envs.py --seed 0 --envs 90    # a tuning range
    python benchmarks/random_envs.py --ablation --out benchmarks/results  # without each mechanism
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from simulations._random_experiment import (
    BASELINES,
    RandomResults,
    format_random_table,
    run_random,
)
from simulations.cli import _json_safe

PUBLISHED_SEED = 10_000
# The default policy without each of its mechanisms (README: "The default policy").
ABLATIONS = {
    "router": "the default policy",
    "router(horizon=1e12)": "without fading (evidence never ages)",
    "router(detect_changes=False)": "without change detection (no resets)",
    "router(hold=False)": "without holding broken paths (no probes)",
    "router(rescue_share=0.0)": "without rescue (an error counts as a lost request)",
}


def targets(results: RandomResults, policy: str = "router") -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for each of the issue's targets."""
    whole = results.summary(policy)
    rows = [
        ("mean >= 99.0%", f"{whole['mean']:.2f}%", whole["mean"] >= 99.0),
        ("5th percentile >= 97.5%", f"{whole['p5']:.2f}%", whole["p5"] >= 97.5),
        ("worst >= 95%", f"{whole['worst']:.2f}%", whole["worst"] >= 95.0),
    ]
    if "thompson" in results.policies and "stationary" in results.kinds():
        ours = results.summary(policy, "stationary")["mean"]
        ts = results.summary("thompson", "stationary")["mean"]
        rows.append(
            (
                "stationary >= Thompson - 0.5 pts",
                f"{ours - ts:+.2f} pts",
                ours >= ts - 0.5,
            )
        )
    baselines = [p for p in results.policies if p not in (policy, "oracle")]
    for kind in results.kinds():
        ours = results.summary(policy, kind)
        behind = [
            f"{b} ({stat} {results.summary(b, kind)[stat]:.2f})"
            for b in baselines
            for stat in ("mean", "p5")
            if results.summary(b, kind)[stat] > ours[stat]
        ]
        rows.append(
            (
                f"{kind}: ahead of every baseline (mean and p5)",
                "ahead" if not behind else "behind " + ", ".join(behind),
                not behind,
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=PUBLISHED_SEED)
    parser.add_argument("--requests", type=int, default=12_000)
    parser.add_argument("--policies", nargs="+", default=["router", *BASELINES])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, help="write random_envs.md and .json here")
    parser.add_argument("--name", default="random_envs", help="file name of the results")
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="compare the default policy with itself without each mechanism instead",
    )
    args = parser.parse_args(argv)
    if args.ablation:
        return _ablation(args)
    started = time.perf_counter()
    results = run_random(
        args.envs, args.seed, args.policies, requests=args.requests, jobs=args.jobs
    )
    elapsed = time.perf_counter() - started
    head = (
        f"{args.envs} random environments (seeds {args.seed}-{args.seed + args.envs - 1}), "
        f"{args.requests:,} requests each; cells: mean / 5th percentile % of the oracle; "
        f"{elapsed:.0f} s on {args.jobs} processes"
    )
    table = format_random_table(results)
    lines = [head, "", table, ""]
    checks = targets(results, args.policies[0])
    for name, measured, passed in checks:
        lines.append(f"{'PASS' if passed else 'FAIL'}  {name}: {measured}")
    print("\n".join(lines))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        markdown = [
            head,
            "",
            format_random_table(results, markdown=True),
            "",
            "| target | measured | |",
            "|---|---|---|",
            *(f"| {n} | {m} | {'PASS' if p else 'FAIL'} |" for n, m, p in checks),
        ]
        (args.out / f"{args.name}.md").write_text("\n".join(markdown) + "\n")
        data = results.as_dict()
        data["elapsed_s"] = elapsed
        (args.out / f"{args.name}.json").write_text(
            json.dumps(_json_safe(data), indent=1, allow_nan=False)
        )
    return 0


def _ablation(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    results = run_random(
        args.envs, args.seed, list(ABLATIONS), requests=args.requests, jobs=args.jobs
    )
    elapsed = time.perf_counter() - started
    kinds = results.kinds()
    head = (
        f"Ablation on {args.envs} random environments (seeds {args.seed}-"
        f"{args.seed + args.envs - 1}), {args.requests:,} requests each, {elapsed:.0f} s; "
        "% of the oracle: mean, 5th percentile and worst of every environment, then the "
        "mean per kind"
    )
    header = ["policy", "mean", "p5", "worst", *kinds]
    rows = []
    for policy, label in ABLATIONS.items():
        whole = results.summary(policy)
        cells = [f"{whole[s]:.2f}" for s in ("mean", "p5", "worst")]
        cells += [f"{results.summary(policy, kind)['mean']:.2f}" for kind in kinds]
        rows.append([label, *cells])
    markdown = [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    print(head + "\n\n" + "\n".join(markdown))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "ablation.md").write_text(head + "\n\n" + "\n".join(markdown) + "\n")
        data = results.as_dict()
        data["elapsed_s"] = elapsed
        (args.out / "ablation.json").write_text(json.dumps(_json_safe(data), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
