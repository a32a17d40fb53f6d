"""Replaying a scenario through the real Router: one plain row per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from router import AllPathsFailed, Policy, Router
from simulations._delay import DelayedPolicy, DelayedStore, SimClock
from simulations._environment import Environment
from simulations._policies import ORACLE, Oracle, make_policy
from simulations._scenario import Scenario
from storage import Store, open_store

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: simulated outcomes get readable timestamps


def replay(
    scenario: Scenario,
    policy: str = "router",
    *,
    seed: int = 0,
    store: Store | str = "memory://",
    task: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Serve ``scenario.requests`` requests through a Router; yield one row each.

    ``policy`` is a policy name, optionally with settings (``"discounted-ts(gamma=0.9)"``),
    or ``"oracle"``.

    Requests arrive every ``1 / scenario.rate`` simulated seconds; an outcome reaches the
    store only when its call has finished, so at high rates many requests are routed
    before the outcomes of the previous ones are known, as in production.

    Rows hold: ``request``, ``first`` (the path tried first), ``served`` (None if every
    path failed), ``success`` (the served score), ``attempts``, ``latency_ms``,
    ``cost``, ``expected`` (true expected score of the first choice) and
    ``best_expected`` (that of the best path).

    Example:
        >>> from simulations import load_scenario
        >>> short = load_scenario("outage").with_options(requests=50)
        >>> rows = list(replay(short, "router", seed=1))
        >>> len(rows), rows[0]["request"]
        (50, 0)
    """
    env = Environment(scenario, seed)
    clock = SimClock(START)
    ledger = {"cost": 0.0}
    paths = env.paths(clock, ledger)
    current = {"index": 0}
    chosen: Policy = (
        Oracle(env, lambda: current["index"]) if policy == ORACLE else make_policy(policy)
    )
    opened = open_store(store) if isinstance(store, str) else store
    delayed = DelayedStore(opened, clock)
    canaries = {spec.name: spec.canary for spec in scenario.paths}
    starts = sorted((env.start[name], name) for name in env.names if env.start[name] > 0)
    router = Router(
        [paths[name] for name in env.names if env.start[name] == 0],
        success_fn=lambda output: output.ok,
        task=task or f"simulate/{scenario.name}/{policy}/seed-{seed}",
        store=delayed,
        seed=seed,
        clock=clock.reader(),
        sleep=clock.sleep,
        policy=DelayedPolicy(chosen, clock),
    )
    spacing = 1.0 / scenario.rate
    expected, best_expected = env.expected, env.best_expected
    try:
        for index in range(scenario.requests):
            current["index"] = index
            arrival = START + index * spacing
            clock.set(arrival)
            while starts and starts[0][0] <= index:
                name = starts.pop(0)[1]
                router.add_path(paths[name], canary=canaries[name])
            ledger["cost"] = 0.0
            try:
                result = router.route(index)
            except AllPathsFailed as failed:
                first = failed.attempts[0].path if failed.attempts else None
                served, success, attempts = None, 0.0, len(failed.attempts)
            else:
                first, served = result.attempts[0].path, result.path
                success, attempts = result.score, len(result.attempts)
            yield {
                "request": index,
                "first": first,
                "served": served,
                "success": success,
                "attempts": attempts,
                "latency_ms": (clock.now - arrival) * 1000.0,
                "cost": ledger["cost"],
                "expected": expected[first][index] if first else 0.0,
                "best_expected": best_expected(index),
            }
    finally:
        router.close()
        delayed.flush()
        if isinstance(store, str):
            opened.close()
