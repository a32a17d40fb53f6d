"""The operators' command line lives in router; the simulator registers its commands."""

from __future__ import annotations

import tomllib
from pathlib import Path

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


def test_python_m_simulations_runs_the_same_main() -> None:
    import router.cli
    import simulations.cli

    assert simulations.cli.main is router.cli.main
