"""The ``outcome-router`` command line: the operators' commands, and the simulator's.

``stats``, ``export`` and ``health`` read a store; ``paths`` sets a path's mode; ``db``
migrates the schema. ``simulate`` comes from :mod:`simulations`, which registers it
here when the command line is built (``import router`` never imports the simulator).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bandits import RouterError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``outcome-router`` (and ``python -m simulations``).

    Example:
        >>> main(["simulate", "--list"])  # doctest: +ELLIPSIS
        incident ...
        stationary ...
        0
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except RouterError as exc:
        print(f"outcome-router: error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The ``outcome-router`` parser with every command registered.

    Example:
        >>> build_parser().parse_args(["paths", "list", "--task", "t"]).command
        'paths'
    """
    from router._analysis_cli import add_analysis_commands
    from router._health_cli import add_health_commands
    from simulations.cli import add_simulator_commands  # the simulator's own commands
    from storage._cli import add_db_commands
    from storage._paths_cli import add_paths_commands

    parser = argparse.ArgumentParser(
        prog="outcome-router", description="Adaptive routing for LLM and agent workloads."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    add_simulator_commands(commands)
    add_analysis_commands(commands)
    add_db_commands(commands)
    add_paths_commands(commands)
    add_health_commands(commands)
    return parser


def _version() -> str:
    """The installed distribution's version (``unknown`` when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("outcome-router")
    except PackageNotFoundError:
        return "unknown (not installed)"


if __name__ == "__main__":
    sys.exit(main())
