"""The store's commands, ``outcome-router db ...`` (its schema) and ``outcome-router
paths ...`` (each path's mode), wired into the command line by :mod:`router.cli`."""

from __future__ import annotations

import argparse
from typing import Any

from storage._migrate import HEAD
from storage._open import default_store_url, resolve_url
from storage._paths_cli import add_paths_commands

__all__ = ["add_db_commands", "add_paths_commands", "run_upgrade"]


def add_db_commands(subparsers: Any) -> None:
    """Add the ``db`` command group to an argparse ``add_subparsers()`` object.

    Each command sets ``handler``: a function of the parsed arguments returning the
    exit status.

    Example:
        >>> parser = argparse.ArgumentParser(prog="outcome-router")
        >>> add_db_commands(parser.add_subparsers(dest="command", required=True))
        >>> args = parser.parse_args(["db", "upgrade", "memory://"])
        >>> args.handler(args)
        memory:// keeps nothing on disk; there is no schema to upgrade
        0
    """
    db = subparsers.add_parser(
        "db",
        help="manage the store's database schema",
        description="Manage the schema of a SQLite or PostgreSQL store.",
    )
    commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = commands.add_parser(
        "upgrade",
        help="migrate a store to this version's schema",
        description="Migrate a store to the schema this version of outcome-router uses, "
        "keeping its data. Opening a store does the same; this command lets you do it "
        "ahead of a deployment. Prints the revisions before and after.",
    )
    upgrade.add_argument(
        "url",
        nargs="?",
        default=None,
        help="store URL or SQLite file (default: $OUTCOME_ROUTER_DB, else ./outcome-router.db)",
    )
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    """Migrate the store named by ``args.url`` and print the revisions before and after."""
    url = default_store_url() if args.url is None else resolve_url(args.url)
    if url == "memory://":
        print("memory:// keeps nothing on disk; there is no schema to upgrade")
        return 0
    from storage._open import open_sql_store

    store = open_sql_store(url)
    try:
        before = store.found_revision
    finally:
        store.close()
    if before == HEAD:
        print(f"{store.url}: already at revision {HEAD}")
    else:
        print(f"{store.url}: upgraded from revision {before or '(new store)'} to {HEAD}")
    return 0
