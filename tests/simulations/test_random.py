"""Random environments: reproducible, balanced over kinds, valid, and replayable from the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from router import ConfigError
from simulations import random_scenario, random_scenarios
from simulations._random import KINDS
from simulations._random_experiment import format_random_table, run_random
from simulations.cli import main


def test_an_environment_depends_on_its_seed_only() -> None:
    batch = random_scenarios(5, seed=10_000)
    assert batch == [random_scenario(seed) for seed in range(10_000, 10_005)]
    assert random_scenarios(5, seed=10_000) == batch
    assert random_scenario(10_001) != random_scenario(10_002)


def test_every_range_of_seeds_holds_the_kinds_in_equal_shares() -> None:
    kinds = Counter(s.kind for s in random_scenarios(2 * len(KINDS), seed=123))
    assert kinds == dict.fromkeys(KINDS, 2)


def test_environments_stay_within_the_documented_ranges() -> None:
    for s in random_scenarios(90, seed=0):
        assert 2 <= len(s.paths) <= 8
        assert 1.0 <= s.rate <= 500.0
        assert s.requests == 12_000
        assert s.description.startswith(f"random environment {s.name.split('-')[1]}")
        values = s.paths[0].success.values(s.requests)
        assert values.min() >= 0.05 and values.max() <= 0.99
    outages = [s for s in random_scenarios(90, seed=0) if s.kind == "outage"]
    assert all(any(p.error_rate.values(12_000).max() == 1.0 for p in s.paths) for s in outages)


def test_the_static_chain_order_is_the_measured_quality_at_the_start() -> None:
    # Listed best first by a 100-example evaluation: mostly right, sometimes not.
    right = 0
    scenarios = random_scenarios(60, seed=500)
    for s in scenarios:
        start = [p.success.values(s.requests)[0] for p in s.paths]
        right += start[0] == max(start)
    assert 0.6 * len(scenarios) < right < len(scenarios)


@pytest.mark.parametrize(
    ("n", "seed", "requests", "message"),
    [
        (0, 1, 100, "n"),
        (True, 1, 100, "n"),
        (1, -1, 100, "seed"),
        (1, 1, 5, "requests"),
    ],
)
def test_bad_arguments_are_config_errors(
    n: object, seed: object, requests: int, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        random_scenarios(n, seed, requests=requests)  # type: ignore[arg-type]


def test_a_small_run_summarises_every_policy_per_kind() -> None:
    results = run_random(2, 10_000, ["router", "static-chain"], requests=300)
    assert len(results.runs) == 6  # two policies and the oracle, two environments each
    summary = results.summary("router")
    assert summary["n"] == 2 and summary["worst"] <= summary["mean"]
    table = format_random_table(results)
    assert (
        "router" in table and "static-chain" in table and table.splitlines()[-1].startswith("worst")
    )
    assert json.dumps(results.as_dict(), allow_nan=True)


def test_the_cli_replays_random_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["simulate", "--random", "2", "--seed", "5", "--requests", "200", "--jobs", "1",
         "--policies", "router", "thompson", "--out", str(tmp_path)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "% of the oracle" in out and "thompson" in out
    written = json.loads((tmp_path / "random-5-6.json").read_text())
    assert written["seeds"] == [5, 6] and set(written["summary"]) == {"router", "thompson"}


def test_the_cli_refuses_a_scenario_and_random_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "outage", "--random", "2"]) == 2
    assert "not both" in capsys.readouterr().err
