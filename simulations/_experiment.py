"""Running every policy over several seeds of a scenario, side by side."""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulations._environment import Environment
from simulations._metrics import RunMetrics, Spread, median_recovery, run_metrics
from simulations._policies import ORACLE, check_policies
from simulations._replay import replay
from simulations._scenario import Scenario

CURVE_POINTS = 200  # regret curves are kept at this many points per run


@dataclass
class RunRecord:
    """One (policy, seed) replay: its metrics, its regret curve, and (seed 0) its choices."""

    policy: str
    seed: int
    metrics: RunMetrics
    regret_curve: list[float]
    firsts: list[str | None] = field(default_factory=list)
    successes: list[float] = field(default_factory=list)


@dataclass
class PolicySummary:
    """A policy's metrics over every seed."""

    policy: str
    runs: list[RunRecord]
    percent_of_oracle: Spread

    def spread(self, metric: str) -> Spread:
        """Mean and standard deviation of one RunMetrics field over seeds."""
        return Spread.of(getattr(r.metrics, metric) for r in self.runs)

    @property
    def median_recovery(self) -> float | None:
        """Median recovery over seeds and change points (None without change points)."""
        return median_recovery(r.metrics for r in self.runs)


@dataclass
class Experiment:
    """Every policy's results on one scenario."""

    scenario: Scenario
    seeds: int
    change_points: list[int]
    policies: dict[str, PolicySummary]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the JSON results file."""
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "requests": self.scenario.requests,
            "rate": self.scenario.rate,
            "seeds": self.seeds,
            "change_points": self.change_points,
            "policies": {},
        }
        for name, summary in self.policies.items():
            entry: dict[str, Any] = {
                metric: vars(summary.spread(metric))
                for metric in (
                    "success_rate",
                    "regret",
                    "cost_per_success",
                    "latency_p50_ms",
                    "latency_p99_ms",
                    "fallback_rate",
                    "failure_rate",
                )
            }
            entry["percent_of_oracle"] = vars(summary.percent_of_oracle)
            recovery = summary.median_recovery
            entry["median_recovery"] = (
                None if recovery is None or math.isinf(recovery) else recovery
            )
            entry["recovered_every_change"] = recovery is not None and math.isfinite(recovery)
            entry["recoveries"] = [r.metrics.recoveries for r in summary.runs]
            out["policies"][name] = entry
        return out


Progress = Callable[[int, int, str], None]


def run_experiment(
    scenario: Scenario,
    policies: Sequence[str],
    *,
    seeds: int = 10,
    store_for: Mapping[str, str] | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    run_id: str = "",
) -> Experiment:
    """Replay ``scenario`` with every policy (and the oracle) for ``seeds`` seeds.

    Runs ``jobs`` replays at once in worker processes. ``progress(done, total, label)``
    is called after each replay. ``store_for`` maps a policy to the store URL its
    first replay (seed 0) writes to, for analysis afterwards; every other replay keeps
    its outcomes in memory (SQL writes would dominate the run time).

    Example:
        >>> from simulations import load_scenario
        >>> short = load_scenario("outage").with_options(requests=200)
        >>> experiment = run_experiment(short, ["router"], seeds=2)
        >>> sorted(experiment.policies)
        ['oracle', 'router']
    """
    names = check_policies([*policies, ORACLE])
    stores = dict(store_for or {})
    tasks = [
        (scenario, name, seed, stores.get(name, "memory://") if seed == 0 else "memory://", run_id)
        for name in names
        for seed in range(seeds)
    ]
    records: list[RunRecord] = []
    if jobs > 1:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
            for record in pool.map(_replay_one, tasks, chunksize=1):
                records.append(record)
                if progress:
                    progress(len(records), len(tasks), f"{record.policy} seed {record.seed}")
    else:
        for task in tasks:
            records.append(_replay_one(task))
            if progress:
                progress(len(records), len(tasks), f"{task[1]} seed {task[2]}")
    oracle = {r.seed: r.metrics.success_rate for r in records if r.policy == ORACLE}
    summaries = {}
    for name in names:
        runs = sorted((r for r in records if r.policy == name), key=lambda r: r.seed)
        share = Spread.of(
            100.0 * r.metrics.success_rate / oracle[r.seed] for r in runs if oracle[r.seed] > 0
        )
        summaries[name] = PolicySummary(name, runs, share)
    return Experiment(scenario, seeds, Environment(scenario, 0).change_points(), summaries)


def _replay_one(task: tuple[Scenario, str, int, str, str]) -> RunRecord:
    scenario, policy, seed, store, run_id = task
    env = Environment(scenario, seed)
    suffix = f"/{run_id}" if run_id else ""
    rows = list(
        replay(
            scenario,
            policy,
            seed=seed,
            store=store,
            task=f"simulate/{scenario.name}/{policy}/seed-{seed}{suffix}",
        )
    )
    best = [env.best_path(i) for i in range(scenario.requests)]
    metrics = run_metrics(rows, env.change_points(), best)
    step = max(1, len(rows) // CURVE_POINTS)
    curve, total = [], 0.0
    for index, row in enumerate(rows, start=1):
        total += row["best_expected"] - row["expected"]
        if index % step == 0 or index == len(rows):
            curve.append(total)
    keep = seed == 0
    return RunRecord(
        policy,
        seed,
        metrics,
        curve,
        firsts=[r["first"] for r in rows] if keep else [],
        successes=[r["success"] for r in rows] if keep else [],
    )
