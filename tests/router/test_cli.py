"""The operators' command line lives in router; the simulator registers its commands."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.conftest import fresh_python

ROOT = Path(__file__).resolve().parents[2]


def test_the_entry_point_is_router_cli_main() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"outcome-router": "router.cli:main"}


def test_importing_the_cli_does_not_import_the_simulator(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import router\n"
        "assert 'router.cli' not in sys.modules\n"
        "import router.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'simulations'))\n"
    )
    done = fresh_python(code, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_the_parser_has_the_operators_and_the_simulators_commands() -> None:
    import argparse

    from router.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == {"simulate", "stats", "export", "db", "paths", "health"}


def test_the_simulator_plugs_its_command_in_through_an_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["outcome_router.commands"] == {
        "simulate": "simulations.cli:add_simulator_commands"
    }
    from router.cli import plugged_in
    from simulations.cli import add_simulator_commands

    assert plugged_in() == [add_simulator_commands]


def test_a_plugin_that_fails_to_load_is_left_out_with_a_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from importlib import metadata

    import router.cli

    broken = metadata.EntryPoint("broken", "no_such_module:register", "outcome_router.commands")
    monkeypatch.setattr(metadata, "entry_points", lambda group: [broken])
    assert router.cli.plugged_in() == []
    assert "command 'broken' (no_such_module:register) is unavailable" in capsys.readouterr().err
    assert router.cli.main(["db", "upgrade", "memory://"]) == 0  # the rest still works


def test_python_m_simulations_runs_the_whole_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import router.cli
    import simulations.cli

    assert simulations.cli.main(["simulate", "--list"]) == 0
    assert "outage" in capsys.readouterr().out
    # passed in and plugged in as well: registered once, no argparse conflict
    parser = router.cli.build_parser([simulations.cli.add_simulator_commands])
    assert parser.parse_args(["simulate", "--list"]).command == "simulate"
