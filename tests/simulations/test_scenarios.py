"""Scenarios as data: built-ins, files, curves and clear validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bandits import ConfigError
from simulations import BUILTIN, Environment, Scenario, builtin_scenarios, load_scenario
from simulations._curves import Constant, Linear, Steps


def test_every_builtin_loads_and_describes_itself() -> None:
    scenarios = builtin_scenarios()
    assert list(scenarios) == list(BUILTIN)
    for name, scenario in scenarios.items():
        assert scenario.name == name
        assert scenario.description
        assert len(scenario.paths) >= 2


def test_curves_step_and_interpolate() -> None:
    assert Steps(steps=[(0.0, 0.9), (0.5, 0.1)]).values(4).tolist() == [0.9, 0.9, 0.1, 0.1]
    assert Linear(linear=[(0.0, 1.0), (1.0, 0.0)]).values(4).tolist() == [1.0, 0.75, 0.5, 0.25]
    assert Constant(value=0.3).values(2).tolist() == [0.3, 0.3]


def test_a_scenario_file_in_toml_and_yaml(tmp_path: Path) -> None:
    toml = tmp_path / "mine.toml"
    toml.write_text(
        'name = "mine"\ndescription = "two paths"\nrequests = 100\n'
        '[[paths]]\nname = "a"\nsuccess = 0.9\n'
        '[[paths]]\nname = "b"\nsuccess = { steps = [[0.0, 0.5], [0.5, 0.95]] }\n'
    )
    yaml = tmp_path / "mine.yaml"
    yaml.write_text(
        "name: mine\ndescription: two paths\nrequests: 100\npaths:\n"
        "  - {name: a, success: 0.9}\n"
        "  - {name: b, success: {steps: [[0.0, 0.5], [0.5, 0.95]]}}\n"
    )
    assert load_scenario(toml) == load_scenario(yaml)
    env = Environment(load_scenario(toml), seed=0)
    assert (env.best_path(10), env.best_path(90), env.change_points()) == ("a", "b", [50])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('name = "x"\ndescription = "d"\npaths = []\n', "paths: List should have at least 1"),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\nsuccess = 1.5\n',
            r"success must stay within \[0, 1\]",
        ),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\nsuccess = 0.5\n'
            '[[paths]]\nname = "a"\nsuccess = 0.4\n',
            "path names must be unique",
        ),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\n'
            "success = { steps = [[0.5, 0.1], [0.2, 0.3]] }\n",
            "positions must increase",
        ),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\nsuccess = 0.5\nspeed = 3\n',
            "speed: Extra inputs are not permitted",
        ),
        ('name = "x"\n[[paths]\n', "not valid TOML"),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\nsuccess = "high"\n',
            r"paths.0.success: a curve is a number, \{steps = .*; got 'high'",
        ),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\nsuccess = { steps = [] }\n',
            r"paths.0.success: steps: List should have at least 1 item.*\(a curve is",
        ),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\nsuccess = 0.5\nprice = inf\n',
            r"price must be a number from 0 to 1e\+06, got \[inf\]",
        ),
        (
            'name = "x"\ndescription = "d"\n[[paths]]\nname = "a"\nsuccess = 0.5\n'
            "latency = { median = 1e308 }\n",
            "latency.median must be a number from 0 to 86400",
        ),
        (
            'name = "x"\ndescription = "d"\nrate = nan\n[[paths]]\nname = "a"\nsuccess = 0.5\n',
            "rate: Input should be a finite number",
        ),
    ],
)
def test_invalid_scenarios_name_the_field_at_fault(tmp_path: Path, body: str, message: str) -> None:
    target = tmp_path / "bad.toml"
    target.write_text(body)
    with pytest.raises(ConfigError, match=message):
        load_scenario(target)


def test_unknown_names_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown scenario 'nope'"):
        load_scenario("nope")
    with pytest.raises(ConfigError, match="cannot read scenario file"):
        load_scenario(tmp_path / "missing.toml")


def test_with_options_changes_length_and_rate() -> None:
    scenario = load_scenario("outage").with_options(requests=500, rate=50.0)
    assert (scenario.requests, scenario.rate) == (500, 50.0)
    assert isinstance(scenario, Scenario)


@pytest.mark.parametrize("rate", [0.0, -1.0, float("nan"), float("inf")])
def test_with_options_rejects_a_bad_rate_with_a_config_error(rate: float) -> None:
    with pytest.raises(ConfigError, match="scenario 'outage' is invalid: rate: "):
        load_scenario("outage").with_options(rate=rate)


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    target = tmp_path / "binary.toml"
    target.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(ConfigError, match=r"is not UTF-8 text .*save it as UTF-8"):
        load_scenario(target)


def test_environment_knows_the_best_path_and_its_changes() -> None:
    env = Environment(load_scenario("outage").with_options(requests=1000), seed=3)
    assert env.change_points() == [300, 600]
    assert [env.best_path(i) for i in (0, 300, 600)] == ["gpt-4o", "claude-sonnet", "gpt-4o"]
    assert env.best_expected(0) == pytest.approx(0.95, abs=0.01)


def test_new_path_is_absent_until_it_starts() -> None:
    env = Environment(load_scenario("new-path").with_options(requests=1000), seed=0)
    assert env.best_path(399) != "gpt-5"
    assert env.best_path(400) == "gpt-5"


EXTRA_SCENARIOS = sorted(
    (Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios").glob("*.toml")
)


@pytest.mark.parametrize("file", EXTRA_SCENARIOS, ids=lambda file: file.stem)
def test_the_benchmark_scenario_files_load(file: Path) -> None:
    scenario = load_scenario(file)
    assert scenario.name == file.stem and scenario.description


def test_there_are_benchmark_scenario_files() -> None:
    assert len(EXTRA_SCENARIOS) >= 10
