"""The results table printed in the terminal (and pasted into the README)."""

from __future__ import annotations

import math

from simulations._experiment import Experiment, PolicySummary

HEADER = (
    "policy",
    "success",
    "% oracle",
    "regret",
    "$/1k ok",
    "p50 ms",
    "p99 ms",
    "fallbacks",
    "failed",
    "recovery",
)


def format_table(experiment: Experiment, *, markdown: bool = False) -> str:
    """One row per policy, best success first; values are means over seeds (± sd).

    ``recovery`` is the median number of requests after a change of best path until the
    new best path was the first choice of 80% of the last 100 requests.
    """
    ordered = sorted(
        experiment.policies.values(),
        key=lambda p: (p.policy != "oracle", -p.spread("success_rate").mean),
    )
    rows = [_row(p) for p in ordered]
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(HEADER[i]), *(len(r[i]) for r in rows)) for i in range(len(HEADER))]

    def line(cells: tuple[str, ...] | list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(HEADER), "-" * len(line(HEADER)), *(line(r) for r in rows)])


def _row(summary: PolicySummary) -> list[str]:
    success = summary.spread("success_rate")
    regret = summary.spread("regret")
    cost = summary.spread("cost_per_success")
    recovery = summary.median_recovery
    oracle_share = summary.percent_of_oracle.mean  # NaN when the oracle had no success
    if recovery is None:
        recovery_text = "-"
    elif math.isinf(recovery):
        recovery_text = "never"
    else:
        recovery_text = f"{recovery:.0f}"
    return [
        summary.policy,
        f"{100 * success.mean:.2f}% ±{100 * success.std:.2f}",
        f"{oracle_share:.2f}%" if math.isfinite(oracle_share) else "-",
        f"{regret.mean:.0f}",
        f"{1000 * cost.mean:.2f}" if math.isfinite(cost.mean) else "-",
        f"{summary.spread('latency_p50_ms').mean:.0f}",
        f"{summary.spread('latency_p99_ms').mean:.0f}",
        f"{100 * summary.spread('fallback_rate').mean:.1f}%",
        f"{100 * summary.spread('failure_rate').mean:.2f}%",
        recovery_text,
    ]


def verdict(
    experiment: Experiment, *, policy: str = "router", baseline: str = "static-chain"
) -> str:
    """One line: ``policy`` against ``baseline`` on what a user pays for (empty if either
    was not replayed): served success, cost per 1,000 successes and fallbacks.

    Example:
        >>> from simulations import load_scenario
        >>> from simulations._experiment import run_experiment
        >>> short = load_scenario("incident").with_options(requests=300)
        >>> verdict(run_experiment(short, ["router", "static-chain"], seeds=1)).split(":")[0]
        'verdict'
    """
    if policy not in experiment.policies or baseline not in experiment.policies:
        return ""
    ours, theirs = experiment.policies[policy], experiment.policies[baseline]

    def mean(summary: PolicySummary, metric: str) -> float:
        return summary.spread(metric).mean

    success = 100 * mean(ours, "success_rate"), 100 * mean(theirs, "success_rate")
    cost = 1000 * mean(ours, "cost_per_success"), 1000 * mean(theirs, "cost_per_success")
    fallbacks = 100 * mean(ours, "fallback_rate"), 100 * mean(theirs, "fallback_rate")
    money = (
        f"at ${cost[0]:.2f} against ${cost[1]:.2f} per 1,000 successes, "
        if all(math.isfinite(c) for c in cost)
        else ""
    )
    return (
        f"verdict: the {policy} served {success[0]:.1f}% of requests successfully against the "
        f"{baseline}'s {success[1]:.1f}% ({success[0] - success[1]:+.1f} points), {money}"
        f"falling back on {fallbacks[0]:.1f}% of requests against {fallbacks[1]:.1f}%"
    )
