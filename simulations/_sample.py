"""A store to analyse: the user's, or a short simulation when that store is empty."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from storage import Store

DEFAULT_FILE = "outcome-router.db"


def analysis_store(
    url: str | None = None,
    *,
    scenario: str = "outage",
    requests: int = 3000,
    policies: tuple[str, ...] = ("router",),
    seed: int = 0,
) -> tuple[Store, list[str]]:
    """Open the store to analyse and list its tasks; simulate into a temporary one if empty.

    ``url`` defaults to ``$OUTCOME_ROUTER_DB``, else ``outcome-router.db`` (the store
    ``outcome-router simulate outage --store outcome-router.db`` writes). When that
    store does not exist or has no outcomes, ``scenario`` is replayed ``requests``
    times per policy into a new SQLite file in a temporary directory (tasks
    ``simulate/<scenario>/<policy>/seed-<seed>``), so notebooks run on a fresh clone.

    Example:
        >>> store, tasks = analysis_store("missing.db", requests=50)
        >>> tasks, store.url.endswith("sample.db")
        (['simulate/outage/router/seed-0'], True)
    """
    from simulations._replay import replay
    from simulations._scenario import load_scenario
    from storage import open_store, resolve_url, store_tasks

    resolved = resolve_url(url or os.environ.get("OUTCOME_ROUTER_DB") or DEFAULT_FILE)
    missing = resolved.startswith("sqlite:///") and not _sqlite_file_exists(resolved)
    if not missing and resolved != "memory://":
        store = open_store(resolved)
        tasks = store_tasks(store)
        if tasks:
            return store, tasks
        store.close()
    target = Path(tempfile.mkdtemp(prefix="outcome-router-")) / "sample.db"
    store = open_store(str(target))
    chosen = load_scenario(scenario).with_options(requests=requests)
    for policy in policies:
        task = f"simulate/{chosen.name}/{policy}/seed-{seed}"
        for _ in replay(chosen, policy, seed=seed, store=store, task=task):
            pass
    return store, store_tasks(store)


def _sqlite_file_exists(url: str) -> bool:
    path = url.removeprefix("sqlite:///")
    return path == ":memory:" or Path(path).is_file()
