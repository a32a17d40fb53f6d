"""The piecewise-stationary benchmark of SMPyBandits, through the real Router.

K = 3 Bernoulli arms, T = 5000, a change every 1000 steps, segment means
[.3,.5,.9], [.3,.2,.9], [.3,.2,.1], [.7,.2,.1], [.7,.5,.1]; 40 runs. Prints the mean
pseudo-regret (sum over steps of the best mean minus the chosen arm's mean) of the
Router's default policy beside our own runs of plain Thompson sampling and discounted
Thompson sampling, and the figures published with SMPyBandits (Besson & Kaufmann)
for reference: oracle restarts 34, GLR-klUCB 71, CUSUM-klUCB 151, discounted TS 211,
plain TS 446. Target for the default policy: at most 45.

Run from the repository root:
    python benchmarks/piecewise.py
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from simulations import load_scenario
from simulations._experiment import run_experiment

PUBLISHED = {
    "oracle restarts": 34,
    "GLR-klUCB": 71,
    "CUSUM-klUCB": 151,
    "discounted TS": 211,
    "plain TS": 446,
}
TARGET = 45.0


def main(argv: list[str] | None = None) -> int:
    """Run 40 replays per policy; exit 1 if the default policy misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    scenario = load_scenario("piecewise-benchmark")
    started = time.perf_counter()
    experiment = run_experiment(
        scenario,
        ["router", "thompson", "discounted-ts", "discounted-ts(gamma=0.95)"],
        seeds=args.runs,
        jobs=args.jobs,
    )
    labels = {
        "router": "router default policy (ours)",
        "thompson": "plain Thompson sampling (ours)",
        "discounted-ts": "discounted TS, gamma 0.995 (ours)",
        "discounted-ts(gamma=0.95)": "discounted TS, gamma 0.95 (ours)",
    }
    print(f"{scenario.description}; {args.runs} runs, {time.perf_counter() - started:.0f} s\n")
    print(f"{'policy':<38}{'mean pseudo-regret':>20}{'± s.e.':>10}")
    print("-" * 68)
    for name, label in labels.items():
        regrets = [run.metrics.regret for run in experiment.policies[name].runs]
        error = statistics.stdev(regrets) / math.sqrt(len(regrets))
        print(f"{label:<38}{statistics.fmean(regrets):>20.1f}{error:>10.1f}")
    for label, value in PUBLISHED.items():
        print(f"{label + ' (published)':<38}{value:>20}{'':>10}")
    ours = statistics.fmean(run.metrics.regret for run in experiment.policies["router"].runs)
    verdict = "PASS" if ours <= TARGET else "FAIL"
    print(f"\ntarget: default policy <= {TARGET:g}: {ours:.1f}  {verdict}")
    return 0 if ours <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
