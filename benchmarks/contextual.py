"""Context-aware routing beside its baselines, on the built-in contextual scenarios and on
random contextual environments.

Replays each built-in contextual scenario (``simulations.CONTEXTUAL_BUILTIN``) and
``--envs`` random ones (``simulations.random_contextual_scenarios``; published results
use seeds from 20,000 up, which nothing was tuned on: tuning uses seeds below 1,000)
with, on the same environment draws: the Router without context (``per-task``), with
context (``context``), with independent segments (``segments``: ``segment_strength=0``),
MABWiser's LinTS and LinUCB on the numeric and one-hot features, and the contextual
oracle. The RouteLLM-style scenario (``strong-or-cheap``) is also replayed with the
cost-aware objective (20 successes per dollar) beside the strong model alone. Prints
per scenario each contender's % of the oracle, success, cost and regret, then the
random environments per category, then the targets of issue 19:

* random environments: ``context`` >= 97% of the oracle on average, ahead of every baseline;
* ``by-kind``: at least half the gap between ``per-task`` and the oracle closed within
  2,000 requests (on the 500 requests before the 2,000th);
* ``irrelevant-context``: ``context`` no worse than ``per-task`` - 0.3 points of success;
* ``strong-or-cheap`` with the cost-aware objective: the strong model's success at under
  half its cost.

Contenders this installation cannot run are left out with a note: ``lin-ts`` and
``lin-ucb`` need MABWiser (``pip install 'outcome-router[bench]'``).

Run from the repository root (small: a minute or two on one core):
    python benchmarks/contextual.py --envs 5 --requests 3000
    python benchmarks/contextual.py --seed 0 --envs 50      # a tuning range
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from simulations import (
    CONTENDERS,
    CONTEXTUAL_BUILTIN,
    ContextualComparison,
    ContextualScenario,
    compare_contextual,
    load_contextual_scenario,
    random_contextual_scenarios,
)
from simulations._contextual_random import CATEGORIES, PUBLISHED_SEED
from simulations._contextual_replay import MABWISER_CONTENDERS
from simulations._policies import COST_AWARE_WEIGHT

COST_WEIGHT = COST_AWARE_WEIGHT  # successes per dollar of the cost-aware runs
Job = tuple[ContextualScenario, int, tuple[str, ...], str, float]


def available(contenders: list[str]) -> tuple[list[str], list[str]]:
    """The contenders this installation can run, and a note for each one left out."""
    notes, keep = [], []
    try:
        import mabwiser  # noqa: F401
    except ImportError:
        has_mabwiser = False
    else:
        has_mabwiser = True
    for name in contenders:
        if name in MABWISER_CONTENDERS and not has_mabwiser:
            notes.append(f"{name}: skipped, pip install 'outcome-router[bench]' for MABWiser")
        else:
            keep.append(name)
    return keep, notes


def run(job: Job) -> tuple[ContextualComparison, list[str]]:
    """One scenario and seed with every contender (a process pool's unit of work), and
    a line for each contender that raised (left out of the result, so one failing
    contender does not hide the others' figures)."""
    scenario, seed, contenders, policy, weight = job
    result = ContextualComparison(scenario.name, seed, scenario.requests)
    failures = []
    for contender in contenders:
        try:
            part = compare_contextual(
                scenario, seed=seed, contenders=[contender], policy=policy, cost_weight=weight
            )
        except Exception as exc:  # reported, and the benchmark goes on
            failures.append(
                f"{contender} failed on {scenario.name} (seed {seed}, policy {policy}): "
                f"{type(exc).__name__}: {exc}"
            )
        else:
            result.runs.update(part.runs)
    return result, failures


def _percent(result: ContextualComparison, contender: str) -> float:
    """% of the oracle; NaN when the contender (or the oracle) has no run."""
    return result.percent_of_oracle(contender) if contender in result.runs else math.nan


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.fmean(finite) if finite else math.nan


def scenario_table(result: ContextualComparison) -> list[str]:
    """Per contender: % of the oracle, success, $ per success, regret at 2,000 and at the
    end, and the share of the per-task router's gap closed by request 2,000."""
    header = f"{'contender':<14} {'% oracle':>9} {'success':>8} {'$/success':>10} "
    header += f"{'regret@2k':>10} {'regret':>8} {'gap@2k':>7}"
    lines = [header, "-" * len(header)]
    for name, r in result.runs.items():
        gap = result.gap_closed(name)
        lines.append(
            f"{name:<14} {result.percent_of_oracle(name):>9.2f} {100 * r.success_rate:>8.2f} "
            f"{r.cost_per_success:>10.5f} {r.cumulative_regret(2_000):>10.1f} "
            f"{r.cumulative_regret(result.requests):>8.1f} "
            f"{'' if math.isnan(gap) else f'{gap:.2f}':>7}"
        )
    return lines


WINDOWS = ((0, 500), (500, 1_000), (1_000, 2_000), (2_000, 5_000), (5_000, 10_000))


def regret_over_time(result: ContextualComparison) -> list[str]:
    """Per contender, its mean regret per request (points of expected success) by window."""
    windows = [(a, min(b, result.requests)) for a, b in WINDOWS if a < result.requests]
    header = f"{'regret, pts':<14} " + " ".join(f"{f'{a}-{b}':>10}" for a, b in windows)
    lines = [header, "-" * len(header)]
    for name, run in result.runs.items():
        cells = " ".join(f"{100 * run.window_regret(a, b):>10.2f}" for a, b in windows)
        lines.append(f"{name:<14} {cells}")
    return lines


def random_table(
    results: list[tuple[str, ContextualComparison]], contenders: list[str]
) -> list[str]:
    """Per category, each contender's mean % of the oracle; then all, p5 and worst."""
    names = [c for c in contenders if c != "oracle"]
    header = f"{'category':<16} {'n':>3} " + " ".join(f"{c:>10}" for c in names)
    lines = [header, "-" * len(header)]
    for category in [*CATEGORIES, None]:
        chosen = [r for kind, r in results if category is None or kind == category]
        if not chosen:
            continue
        cells = []
        for name in names:
            cells.append(f"{_mean([_percent(r, name) for r in chosen]):>10.2f}")
        lines.append(f"{category or 'all':<16} {len(chosen):>3} " + " ".join(cells))
    for label, q in (("p5", 5.0), ("worst", 0.0)):
        cells = [f"{_percentile([_percent(r, n) for _, r in results], q):>10.2f}" for n in names]
        lines.append(f"{label:<16} {'':>3} " + " ".join(cells))
    failed = [sum(n not in r.runs for _, r in results) for n in names]
    if any(failed):
        lines.append(f"{'failed runs':<16} {'':>3} " + " ".join(f"{f:>10}" for f in failed))
    return lines


def _percentile(values: list[float], q: float) -> float:
    import numpy as np

    finite = [v for v in values if math.isfinite(v)]
    return float(np.percentile(finite, q)) if finite else math.nan


def targets(
    builtin: dict[str, ContextualComparison],
    cost_aware: ContextualComparison | None,
    randoms: list[tuple[str, ContextualComparison]],
) -> list[tuple[str, str, bool | None]]:
    """(target, measured, passed; None: not measurable in this run)."""
    rows: list[tuple[str, str, bool | None]] = []
    if randoms and any("context" in r.runs for _, r in randoms):
        # A failed run fails the target: its figures are missing, not good.
        failed = sum("context" not in r.runs for _, r in randoms)
        ours = _mean([_percent(r, "context") for _, r in randoms])
        note = f" ({failed} of {len(randoms)} runs failed)" if failed else ""
        rows.append(
            (
                "random: context >= 97% of the oracle",
                f"{ours:.2f}%{note}",
                ours >= 97.0 and not failed,
            )
        )
        others = sorted({c for _, r in randoms for c in r.runs} - {"context", "oracle"})
        behind = [
            f"{c} {mean:.2f}"
            for c in others
            if (mean := _mean([_percent(r, c) for _, r in randoms])) >= ours
        ]
        rows.append(("random: ahead of every baseline", ", ".join(behind) or "ahead", not behind))
    else:
        rows.append(("random: context >= 97% of the oracle", "no context runs", None))
    by_kind = builtin.get("by-kind")
    if by_kind is not None and "context" in by_kind.runs:
        gap = by_kind.gap_closed("context")
        rows.append(("by-kind: half the gap closed by 2,000", f"{gap:.2f}", gap >= 0.5))
    else:
        rows.append(("by-kind: half the gap closed by 2,000", "no context run", None))
    irrelevant = builtin.get("irrelevant-context")
    if irrelevant is not None and {"context", "per-task"} <= set(irrelevant.runs):
        points = 100 * (
            irrelevant.runs["context"].success_rate - irrelevant.runs["per-task"].success_rate
        )
        rows.append(("irrelevant: >= per-task - 0.3 pts", f"{points:+.2f} pts", points >= -0.3))
    else:
        rows.append(("irrelevant: >= per-task - 0.3 pts", "no context run", None))
    ran = [] if cost_aware is None else [c for c in ("context", "linear") if c in cost_aware.runs]
    if cost_aware is not None and ran and "only:strong" in cost_aware.runs:
        strong = cost_aware.runs["only:strong"]
        for name in ran:
            ours = cost_aware.runs[name]
            cost_ratio = sum(ours.cost) / sum(strong.cost)
            ok = ours.success_rate >= strong.success_rate and cost_ratio < 0.5
            rows.append(
                (
                    f"strong-or-cheap ({name}): strong's success at < half its cost",
                    f"success {100 * ours.success_rate:.2f} vs "
                    f"{100 * strong.success_rate:.2f}, cost {cost_ratio:.2f}x",
                    ok,
                )
            )
    else:
        rows.append(
            ("strong-or-cheap: strong's success at < half its cost", "no context run", None)
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=20, help="random environments (0: none)")
    parser.add_argument("--seed", type=int, default=PUBLISHED_SEED, help="first random seed")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--builtin-seed", type=int, default=0, help="seed of the built-ins")
    parser.add_argument("--contenders", nargs="+", default=list(CONTENDERS))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write contextual.json here")
    args = parser.parse_args(argv)
    contenders, notes = available(args.contenders)
    started = time.perf_counter()
    jobs: list[Job] = [
        (
            load_contextual_scenario(name).with_options(requests=args.requests),
            args.builtin_seed,
            tuple(contenders),
            "router",
            0.0,
        )
        for name in CONTEXTUAL_BUILTIN
    ]
    cheap = load_contextual_scenario("strong-or-cheap").with_options(requests=args.requests)
    cost_contenders = tuple(
        c for c in ("per-task", "context", "linear", "oracle") if c in contenders
    )
    jobs.append(
        (cheap, args.builtin_seed, (*cost_contenders, "only:strong"), "cost-aware", COST_WEIGHT)
    )
    randoms = (
        random_contextual_scenarios(args.envs, args.seed, requests=args.requests)
        if args.envs
        else []
    )
    jobs += [
        (s, s_seed, tuple(contenders), "router", 0.0) for s_seed, s in enumerate(randoms, args.seed)
    ]
    outcomes = _map(jobs, args.jobs)
    results = [result for result, _ in outcomes]
    notes += [failure for _, failures in outcomes for failure in failures]
    elapsed = time.perf_counter() - started
    builtin = dict(zip(CONTEXTUAL_BUILTIN, results[: len(CONTEXTUAL_BUILTIN)], strict=True))
    cost_aware = results[len(CONTEXTUAL_BUILTIN)]
    random_results = [
        (s.kind or "", r)
        for s, r in zip(randoms, results[len(CONTEXTUAL_BUILTIN) + 1 :], strict=True)
    ]
    lines = [
        f"contextual routing: {len(CONTEXTUAL_BUILTIN)} built-in scenarios (seed "
        f"{args.builtin_seed}) and {args.envs} random ones (seeds {args.seed}-"
        f"{args.seed + args.envs - 1}), {args.requests:,} requests each; {elapsed:.0f} s",
        *(f"note: {n}" for n in notes),
    ]
    for name, result in builtin.items():
        lines += [
            "",
            f"{name}: {load_contextual_scenario(name).description}",
            *scenario_table(result),
        ]
    lines += ["", "by-kind: regret over time", *regret_over_time(builtin["by-kind"])]
    lines += [
        "",
        "strong-or-cheap, cost-aware objective (20 successes per $):",
        *scenario_table(cost_aware),
    ]
    if random_results:
        lines += [
            "",
            "random environments: mean % of the oracle",
            *random_table(random_results, contenders),
        ]
    lines.append("")
    checks = targets(builtin, cost_aware, random_results)
    for target, measured, passed in checks:
        verdict = "n/a " if passed is None else "PASS" if passed else "FAIL"
        lines.append(f"{verdict}  {target}: {measured}")
    print("\n".join(lines))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "requests": args.requests,
            "seeds": [args.seed, args.seed + args.envs - 1] if args.envs else [],
            "builtin": {name: r.as_dict() for name, r in builtin.items()},
            "strong-or-cheap cost-aware": cost_aware.as_dict(),
            "random": [r.as_dict() for _, r in random_results],
            "targets": [{"target": t, "measured": m, "passed": p} for t, m, p in checks],
            "elapsed_s": elapsed,
        }
        (args.out / "contextual.json").write_text(json.dumps(data, indent=1, default=str))
    return 0


def _map(jobs: list[Job], processes: int) -> list[tuple[ContextualComparison, list[str]]]:
    if processes <= 1:
        return [run(job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        return list(pool.map(run, jobs, chunksize=1))


if __name__ == "__main__":
    sys.exit(main())
