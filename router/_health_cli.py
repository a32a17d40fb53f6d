"""``outcome-router health``: evaluate the health rules over a store, exit 1 on a breach."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from bandits import ConfigError

if TYPE_CHECKING:
    from storage import ReadStore


def add_health_commands(subparsers: Any) -> None:
    """Add the ``health`` command to an argparse ``add_subparsers()`` object.

    Example:
        >>> from storage import Outcome
        >>> parser = argparse.ArgumentParser(prog="outcome-router")
        >>> add_health_commands(parser.add_subparsers(dest="command", required=True))
        >>> args = parser.parse_args(["health", "--store", "memory://", "--task", "t"])
        >>> args.handler(args)  # doctest: +NORMALIZE_WHITESPACE
        task  rule         metric            value  threshold  window  status
        t     completion   completion_rate       -  < 85%      15m     no data
        t     escalations  escalation_rate       -  > 30%      30m     no data
        t     cost         cost_per_request      -  > $0.75    1h      no data
        t     latency      latency_p99_s         -  > 10 s     15m     no data
        t     errors       error_rate            -  > 5%       5m      no data
        0
    """
    health = subparsers.add_parser(
        "health",
        help="check the health rules (completion, escalations, cost, latency, errors)",
        description="Evaluate the default health rules over the store's recent outcomes: "
        "completion rate < 85% (15 min), escalation rate > 30% (30 min), cost per request "
        "> $0.75 (1 h), p99 latency > 10 s (15 min), error rate > 5% (5 min). Prints each "
        "rule's value and status; exits 1 when a rule is breached.",
    )
    health.add_argument(
        "--store",
        default=None,
        help="store URL or SQLite file (default: $OUTCOME_ROUTER_DB, else ./outcome-router.db)",
    )
    health.add_argument(
        "--task",
        default=None,
        help="the task to check (default: every task with recent outcomes; required for memory://)",
    )
    health.set_defaults(handler=run_health)


def run_health(args: argparse.Namespace) -> int:
    """Print every rule of every task with its value and status; 1 if any is breached."""
    from router import DEFAULT_HEALTH_RULES, evaluate_health
    from router._health import format_value, format_window
    from router._simulated import simulated_note
    from storage import open_existing_store

    store = open_existing_store(args.store)
    try:
        if args.task is not None and not store.url.startswith("memory:"):
            _require_task(store, args.task)  # a typo must not read as "no data", exit 0
        results = evaluate_health(store, args.task, now=time.time(), rules=DEFAULT_HEALTH_RULES)
        tasks = [args.task] if args.task is not None else _store_tasks(store)
    finally:
        store.close()
    note = simulated_note(tasks)
    if note is not None:  # their fake-clock times are never "recent": say why
        print(
            f"{store.url}: {note}; health watches the last minutes of real traffic, so "
            "they report no data (read them with `outcome-router stats --task TASK`)"
        )
    if not results:
        window = format_window(max(rule.window for rule in DEFAULT_HEALTH_RULES))
        print(f"no outcomes in the last {window} in {store.url}")
        return 0
    rows = [("task", "rule", "metric", "value", "threshold", "window", "status")]
    for result in results:
        rule = result.rule
        value = "-" if result.value is None else format_value(rule.metric, result.value)
        threshold = f"{rule.op} {format_value(rule.metric, rule.threshold)}"
        rows.append(
            (
                result.task,
                rule.name,
                rule.metric,
                value,
                threshold,
                format_window(rule.window),
                result.status.upper() if result.breached else result.status,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(width) if i == 3 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    return 1 if any(result.breached for result in results) else 0


def _store_tasks(store: ReadStore) -> list[str]:
    """Every task of a SQL store (none for ``memory://``, which does not list them)."""
    from storage import store_tasks

    return [] if store.url.startswith("memory:") else store_tasks(store)


def _require_task(store: ReadStore, task: str) -> None:
    """Raise ConfigError unless the (SQL) store holds ``task``."""
    from router._analysis_cli import _tasks_hint
    from storage import store_tasks

    if task not in store_tasks(store):
        raise ConfigError(f"task {task!r} is not in store {store.url}; {_tasks_hint(store)}")
