"""Every contender on one contextual scenario and seed: % of the oracle, cost, and regret
over time (how much of the gap between the per-task router and the oracle is closed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simulations._contextual import ContextualScenario
from simulations._contextual_environment import ContextualEnvironment
from simulations._contextual_replay import CONTENDERS, check_contender, replay_contextual

GAP_AT = 2_000  # "half the gap closed within 2,000 requests"
GAP_WINDOW = 500  # measured on the requests just before it
MIN_GAP = 0.002  # below this regret per request (0.2 points) the base leaves no gap to close
CHECKPOINTS = (500, 1_000, 2_000, 5_000, 10_000, 20_000)


@dataclass(frozen=True)
class ContenderRun:
    """One contender on one seeded contextual scenario, request by request.

    ``regret[i]`` is the best path's expected score minus that of the contender's first
    choice on request ``i`` (the expected score, so luck does not enter).
    """

    contender: str
    success: list[float]
    cost: list[float]
    regret: list[float]
    attempts: list[int]

    @property
    def success_rate(self) -> float:
        """Mean served score."""
        return sum(self.success) / len(self.success)

    @property
    def cost_per_success(self) -> float:
        """Dollars per successful request (inf with no success)."""
        successes = sum(self.success)
        return sum(self.cost) / successes if successes else math.inf

    def cumulative_regret(self, at: int) -> float:
        """The regret summed over the first ``at`` requests."""
        return sum(self.regret[:at])

    def window_regret(self, start: int, stop: int) -> float:
        """Mean regret per request over requests ``start`` .. ``stop - 1``."""
        window = self.regret[start:stop]
        return sum(window) / len(window) if window else math.nan


@dataclass
class ContextualComparison:
    """Every contender's run on one scenario and seed, side by side.

    Example:
        >>> from simulations import load_contextual_scenario
        >>> short = load_contextual_scenario("by-kind").with_options(requests=300)
        >>> result = compare_contextual(short, seed=0, contenders=["per-task", "oracle"])
        >>> round(result.percent_of_oracle("oracle"), 1)
        100.0
    """

    scenario: str
    seed: int
    requests: int
    runs: dict[str, ContenderRun] = field(default_factory=dict)

    def percent_of_oracle(self, contender: str) -> float:
        """The contender's success rate as % of the oracle's (NaN without an oracle run)."""
        oracle = self.runs.get("oracle")
        if oracle is None or oracle.success_rate == 0:
            return math.nan
        return 100.0 * self.runs[contender].success_rate / oracle.success_rate

    def gap_closed(
        self, contender: str, *, base: str = "per-task", at: int = GAP_AT, window: int = GAP_WINDOW
    ) -> float:
        """The share of ``base``'s regret that ``contender`` avoids on the ``window``
        requests before ``at``: 1 means it matches the oracle there, 0 the base, and
        negative is worse than the base (NaN: no such run, or the base's regret there is
        below ``MIN_GAP`` per request, so there is no gap worth closing).
        """
        if base not in self.runs or contender not in self.runs:
            return math.nan
        start, stop = max(0, min(at, self.requests) - window), min(at, self.requests)
        theirs = self.runs[base].window_regret(start, stop)
        if not theirs >= MIN_GAP:
            return math.nan
        return 1.0 - self.runs[contender].window_regret(start, stop) / theirs

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: per contender its summary figures."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "requests": self.requests,
            "contenders": {
                name: {
                    "success_rate": run.success_rate,
                    "percent_of_oracle": self.percent_of_oracle(name),
                    "cost_per_success": run.cost_per_success,
                    "regret": run.cumulative_regret(self.requests),
                    "regret_at": {
                        str(at): run.cumulative_regret(at)
                        for at in CHECKPOINTS
                        if at <= self.requests
                    },
                    "gap_closed": self.gap_closed(name),
                }
                for name, run in self.runs.items()
            },
        }


def compare_contextual(
    scenario: ContextualScenario,
    *,
    seed: int = 0,
    contenders: Sequence[str] = CONTENDERS,
    policy: str = "router",
    cost_weight: float = 0.0,
) -> ContextualComparison:
    """Replay ``scenario`` with every contender on one environment (the same draws).

    Raises:
        ConfigError: an unknown contender, or one this installation cannot run (see
            ``replay_contextual``).
    """
    env = ContextualEnvironment(scenario, seed)
    for contender in contenders:
        check_contender(contender, env.names)
    result = ContextualComparison(scenario.name, seed, scenario.requests)
    for contender in dict.fromkeys(contenders):
        rows = list(
            replay_contextual(env, contender, seed=seed, policy=policy, cost_weight=cost_weight)
        )
        result.runs[contender] = ContenderRun(
            contender=contender,
            success=[r["success"] for r in rows],
            cost=[r["cost"] for r in rows],
            regret=[r["best_expected"] - r["expected"] for r in rows],
            attempts=[r["attempts"] for r in rows],
        )
    return result
