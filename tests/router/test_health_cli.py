"""``outcome-router health``: a table of rules with values, exit 1 on a breach."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from router.cli import main
from storage import Outcome, open_store, store_tasks


def record(url: str, task: str, *, cost: float, requests: int = 20) -> None:
    now = time.time()
    store = open_store(url)
    try:
        store.record_many(
            Outcome(
                f"{task}-{i}", 1, task, "good", 1.0, now - 10.0 * i, latency_ms=400.0, cost=cost
            )
            for i in range(requests)
        )
    finally:
        store.close()


def test_healthy_tasks_exit_zero_with_every_rule_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    record(url, "orders", cost=0.02)
    assert main(["health", "--store", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["task", "rule", "metric", "value", "threshold", "window", "status"]
    assert [line.split()[1] for line in lines[1:]] == [
        "completion",
        "escalations",
        "cost",
        "latency",
        "errors",
    ]
    assert lines[1].split()[3:] == ["100%", "<", "85%", "15m", "ok"]
    assert lines[3].split()[3:] == ["$0.02", ">", "$0.75", "1h", "ok"]
    assert lines[4].split()[3:] == ["0.4", "s", ">", "10", "s", "15m", "ok"]


def test_a_breach_exits_one_and_is_shouted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    record(url, "orders", cost=0.02)
    record(url, "summaries", cost=1.5)
    assert main(["health", "--store", url, "--task", "summaries"]) == 1
    out = capsys.readouterr().out
    assert "orders" not in out
    (cost,) = (line for line in out.splitlines() if " cost " in line)
    assert cost.split()[3:] == ["$1.5", ">", "$0.75", "1h", "BREACH"]


def test_no_recent_outcomes_is_not_a_breach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(url).close()
    assert main(["health", "--store", url]) == 0
    assert capsys.readouterr().out.startswith("no outcomes in the last 1h in sqlite:///")


def test_a_store_that_does_not_exist_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    assert main(["health", "--store", str(missing)]) == 2
    assert f"store {missing} does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_a_memory_store_without_a_task_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--store", "memory://"]) == 2
    assert "--task TASK" in capsys.readouterr().err


def test_an_unknown_task_is_refused_not_reported_as_no_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    record(url, "orders", cost=0.02)
    assert main(["health", "--store", url, "--task", "ordres"]) == 2
    assert "task 'ordres' is not in store" in capsys.readouterr().err


def test_health_and_stats_say_when_a_store_holds_simulated_outcomes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "sim.db"
    simulate = ["simulate", "outage", "--requests", "40", "--seeds", "1", "--jobs", "1"]
    options = ["--policies", "router", "--no-plots", "--out", str(tmp_path)]
    assert main([*simulate, *options, "--store", str(store)]) == 0
    capsys.readouterr()
    assert main(["health", "--store", str(store)]) == 0
    shown = capsys.readouterr().out
    # Their fake-clock times are never within the last hour: say so, not only "no outcomes".
    assert "1 task holds simulated outcomes" in shown and "outcome-router simulate" in shown
    opened = open_store(str(store))
    (task,) = store_tasks(opened)
    opened.close()
    assert main(["stats", "--store", str(store), "--task", task]) == 0
    assert "simulated outcomes" in capsys.readouterr().out.splitlines()[1]
