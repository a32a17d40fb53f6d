"""Every policy on a set of random environments: % of the oracle per environment and kind."""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulations._policies import ORACLE, check_policies
from simulations._random import KINDS, REQUESTS, random_scenario
from simulations._replay import replay

# The baselines a random-environment run compares with the default policy, each at the
# setting with the best mean % of the oracle on the tuning seeds 0-89 (gamma 0.99-0.999,
# windows 500-4,000, alpha 0.005-0.05 tried): discounted and sliding-window Thompson
# sampling, GLR-klUCB (change detection with forced exploration), stationary Thompson
# sampling and the static chain.
BASELINES = (
    "discounted-ts(gamma=0.999)",
    "sliding-window-ts(window=2000)",
    "glr-klucb(alpha=0.005)",
    "thompson",
    "static-chain",
)


@dataclass(frozen=True, slots=True)
class EnvironmentRun:
    """One policy on one random environment."""

    seed: int
    kind: str
    policy: str
    success_rate: float
    cost_per_success: float
    fallback_rate: float


@dataclass
class RandomResults:
    """Every policy's runs on ``seeds``, with the oracle's, and summaries per kind."""

    seeds: list[int]
    requests: int
    policies: list[str]
    runs: list[EnvironmentRun] = field(default_factory=list)

    def percent_of_oracle(self, policy: str, kind: str | None = None) -> list[float]:
        """The policy's success as % of the oracle's, per environment (of one kind)."""
        oracle = {r.seed: r.success_rate for r in self.runs if r.policy == ORACLE}
        return [
            100.0 * r.success_rate / oracle[r.seed]
            for r in sorted(self.runs, key=lambda r: r.seed)
            if r.policy == policy and (kind is None or r.kind == kind) and oracle[r.seed] > 0
        ]

    def kinds(self) -> list[str]:
        """The kinds present, in the generator's order."""
        seen = {r.kind for r in self.runs}
        return [k for k in KINDS if k in seen]

    def summary(self, policy: str, kind: str | None = None) -> dict[str, float]:
        """Mean, 5th percentile and worst % of oracle (NaN when there is no run)."""
        import numpy as np

        shares = self.percent_of_oracle(policy, kind)
        if not shares:
            return {"mean": math.nan, "p5": math.nan, "worst": math.nan, "n": 0}
        values = np.asarray(shares)
        return {
            "mean": float(values.mean()),
            "p5": float(np.percentile(values, 5)),
            "worst": float(values.min()),
            "n": len(shares),
        }

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a JSON results file: every run and every summary."""
        policies = [p for p in self.policies if p != ORACLE]
        return {
            "seeds": [self.seeds[0], self.seeds[-1]] if self.seeds else [],
            "requests": self.requests,
            "summary": {
                policy: {
                    "all": self.summary(policy),
                    **{kind: self.summary(policy, kind) for kind in self.kinds()},
                }
                for policy in policies
            },
            "runs": [_as_dict(r) for r in self.runs],
        }


def _as_dict(run: EnvironmentRun) -> dict[str, Any]:
    return {name: getattr(run, name) for name in run.__slots__}


Progress = Callable[[int, int, str], None]


def run_random(
    n: int,
    seed: int,
    policies: Sequence[str],
    *,
    requests: int = REQUESTS,
    jobs: int = 1,
    progress: Progress | None = None,
) -> RandomResults:
    """Replay ``n`` random environments (seeds ``seed`` ..) with every policy and the oracle.

    Example:
        >>> results = run_random(2, 10_000, ["router"], requests=300)
        >>> len(results.runs), sorted(results.summary("router"))
        (4, ['mean', 'n', 'p5', 'worst'])
    """
    from simulations._random import random_scenarios

    random_scenarios(n, seed, requests=requests)  # validates n, seed and requests
    names = check_policies([*policies, ORACLE])
    tasks = [(s, requests, name) for s in range(seed, seed + n) for name in names]
    results = RandomResults(list(range(seed, seed + n)), requests, names)
    if jobs > 1:
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
            for run in pool.map(_run_one, tasks, chunksize=1):
                results.runs.append(run)
                if progress:
                    progress(len(results.runs), len(tasks), f"{run.policy} env {run.seed}")
    else:
        for task in tasks:
            results.runs.append(_run_one(task))
            if progress:
                progress(len(results.runs), len(tasks), f"{task[2]} env {task[0]}")
    return results


def _run_one(task: tuple[int, int, str]) -> EnvironmentRun:
    seed, requests, policy = task
    scenario = random_scenario(seed, requests=requests)
    success = cost = 0.0
    fallbacks = 0
    for row in replay(scenario, policy, seed=seed, task=f"random/{seed}/{policy}"):
        success += row["success"]
        cost += row["cost"]
        fallbacks += row["attempts"] > 1
    return EnvironmentRun(
        seed=seed,
        kind=scenario.kind or "",
        policy=policy,
        success_rate=success / requests,
        cost_per_success=cost / success if success > 0 else math.inf,
        fallback_rate=fallbacks / requests,
    )


def format_random_table(results: RandomResults, *, markdown: bool = False) -> str:
    """Per kind, each policy's mean and 5th percentile % of the oracle; then every kind.

    Example:
        >>> results = run_random(1, 10_000, ["router"], requests=200)
        >>> format_random_table(results).splitlines()[0].split()[:2]
        ['kind', 'n']
    """
    policies = [p for p in results.policies if p != ORACLE]
    header = ["kind", "n", *policies]
    rows = []
    for kind in [*results.kinds(), None]:
        cells = [kind or "all", str(results.summary(policies[0], kind)["n"])]
        for policy in policies:
            s = results.summary(policy, kind)
            cells.append(f"{s['mean']:.2f} / {s['p5']:.2f}")
        rows.append(cells)
    worst = ["worst", ""] + [f"{results.summary(p)['worst']:.2f}" for p in policies]
    rows.append(worst)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|---:|" + "---:|" * len(policies)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])
