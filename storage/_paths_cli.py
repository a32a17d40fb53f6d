"""``outcome-router paths ...``: the kill switch from a shell (every router obeys within 1 s)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bandits import ConfigError
from storage._open import open_existing_store
from storage._protocol import ReadStore

_MODE_OF = {"disable": "disabled", "enable": "auto", "force": "forced"}


def add_paths_commands(subparsers: Any) -> None:
    """Add the ``paths`` command group (``list``, ``disable``, ``enable``, ``force``).

    The store must exist and the path must be one the task has (see ``paths list``).

    Example:
        >>> parser = argparse.ArgumentParser(prog="outcome-router")
        >>> add_paths_commands(parser.add_subparsers(dest="command", required=True))
        >>> args = parser.parse_args(["paths", "disable", "gpt", "--task", "extract",
        ...                           "--store", "x.db"])
        >>> args.handler.__name__, args.task, args.path, args.mode
        ('run_set_mode', 'extract', 'gpt', 'disabled')
    """
    paths = subparsers.add_parser(
        "paths",
        help="disable, enable or force a path of a task (the kill switch)",
        description="Change how every router on the store treats a path: disable takes it "
        "out of routing, force sends every request to it first, enable gives it back to the "
        "policy. Routers pick the change up within one second.",
    )
    commands = paths.add_subparsers(dest="paths_command", required=True)
    listing = commands.add_parser("list", help="show each path's mode and breaker")
    _task_option(listing)
    _store_option(listing)
    listing.set_defaults(handler=run_list)
    for verb, mode in _MODE_OF.items():
        command = commands.add_parser(verb, help=f"set a path's mode to {mode}")
        command.add_argument("path", help="the path name")
        _task_option(command)
        _store_option(command)
        command.set_defaults(handler=run_set_mode, mode=mode)


def run_set_mode(args: argparse.Namespace) -> int:
    """Set the mode of ``args.path`` of ``args.task`` in the store.

    Raises:
        ConfigError: the store does not exist, or the task has no such path.
    """
    store = open_existing_store(args.store)
    try:
        _check_known(store, args.task, args.path)
        store.set_path_mode(args.task, args.path, args.mode, time.time())
    finally:
        store.close()
    print(f"task {args.task!r}: path {args.path!r} is now {args.mode}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print every known path of ``args.task`` with its mode and breaker state."""
    store = open_existing_store(args.store)
    try:
        states = store.path_states(args.task)
        names = _known_paths(store, args.task)
    finally:
        store.close()
    if not names:
        print(f"task {args.task!r} has no paths in {store.url}")
        return 1
    print(f"{'path':<30} {'mode':<9} breaker")
    for name in names:
        state = states.get(name)
        mode = state.mode if state else "auto"
        breaker = "closed"
        if state is not None and state.is_open:
            breaker = (
                f"open since {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(state.opened_at))}"
            )
        elif state is not None and state.failures:
            breaker = f"closed ({state.failures} consecutive failures)"
        print(f"{name:<30} {mode:<9} {breaker}")
    return 0


def _known_paths(store: ReadStore, task: str) -> list[str]:
    """The paths of ``task`` the store holds a posterior or a mode for, sorted."""
    return sorted(set(store.posteriors(task)) | set(store.path_states(task)))


def _check_known(store: ReadStore, task: str, path: str) -> None:
    """Raise unless ``path`` is a known path of ``task``: a typo must not create a row."""
    known = _known_paths(store, task)
    if path in known:
        return
    if not known:
        raise ConfigError(
            f"task {task!r} is unknown in {store.url}: no path of it was ever recorded; "
            "check the task name and --store"
        )
    raise ConfigError(
        f"task {task!r} has no path {path!r} in {store.url}; its paths are: "
        f"{', '.join(known)} (names are case-sensitive)"
    )


def _task_option(parser: argparse.ArgumentParser) -> None:
    # --task, as in every other command (stats, export, health).
    parser.add_argument("--task", required=True, help="the task name")


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        help="store URL or SQLite file (default: $OUTCOME_ROUTER_DB, else ./outcome-router.db)",
    )
