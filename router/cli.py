"""The ``outcome-router`` command line: the operators' commands, and the simulator's.

``stats``, ``export`` and ``health`` read a store; ``paths`` sets a path's mode; ``db``
migrates the schema (those two are the store's, from :mod:`storage.cli`). Other
packages add commands through the ``outcome_router.commands`` entry point group: the
simulator registers ``simulate`` there (``import router`` never imports the simulator,
and nothing here does either).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bandits import RouterError

COMMANDS_GROUP = "outcome_router.commands"
Register = Callable[[Any], None]  # adds its commands to an argparse add_subparsers() object


def main(argv: Sequence[str] | None = None, *, commands: Sequence[Register] = ()) -> int:
    """Entry point of ``outcome-router``; ``commands`` registers more (as plugins do).

    Example:
        >>> main(["db", "upgrade", "memory://"])
        memory:// keeps nothing on disk; there is no schema to upgrade
        0
    """
    args = build_parser(commands).parse_args(argv)
    try:
        return int(args.handler(args))
    except RouterError as exc:
        print(f"outcome-router: error: {exc}", file=sys.stderr)
        return 2


def build_parser(commands: Sequence[Register] = ()) -> argparse.ArgumentParser:
    """The ``outcome-router`` parser: the operators' commands, then those plugged in
    (the ``outcome_router.commands`` entry points, then ``commands``).

    Example:
        >>> build_parser().parse_args(["paths", "list", "--task", "t"]).command
        'paths'
    """
    from router._analysis_cli import add_analysis_commands
    from router._health_cli import add_health_commands
    from storage.cli import add_db_commands, add_paths_commands

    parser = argparse.ArgumentParser(
        prog="outcome-router", description="Adaptive routing for LLM and agent workloads."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    registered: list[Register] = []
    for register in (
        add_analysis_commands,
        add_db_commands,
        add_paths_commands,
        add_health_commands,
        *plugged_in(),
        *commands,
    ):
        if register not in registered:  # a plugin also passed in is registered once
            registered.append(register)
            register(subparsers)
    return parser


def plugged_in(group: str = COMMANDS_GROUP) -> list[Register]:
    """The command registrars installed distributions declare in entry point ``group``.

    One that fails to load is left out with a note on stderr, so a broken plugin never
    takes the operators' commands down with it.

    Example:
        >>> [f.__name__ for f in plugged_in()]
        ['add_simulator_commands']
    """
    from importlib.metadata import entry_points

    found: list[Register] = []
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        try:
            found.append(point.load())
        except Exception as exc:  # any plugin failure leaves the rest working
            print(
                f"outcome-router: command {point.name!r} ({point.value}) is unavailable: "
                f"{exc}; reinstall the package that provides it",
                file=sys.stderr,
            )
    return found


def _version() -> str:
    """The installed distribution's version (``unknown`` when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("outcome-router")
    except PackageNotFoundError:
        return "unknown (not installed)"


if __name__ == "__main__":
    sys.exit(main())
