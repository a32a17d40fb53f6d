"""Routers on one store share what they learn; a restarted process continues."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from router import Router


def good(x: Any) -> str:
    return "good"


def bad(x: Any) -> str:
    raise RuntimeError("always fails")


def test_two_routers_on_one_file_share_what_they_learned(tmp_path: FsPath) -> None:
    url = str(tmp_path / "shared.db")
    first = Router([good, bad], lambda out: True, task="t", store=url, seed=1)
    second = Router([good, bad], lambda out: True, task="t", store=url, seed=2)
    for i in range(30):
        first.run(i)
    learned = first.stats()
    assert second.stats().equals(learned)
    second.run(0)
    assert first.stats().loc["good", "n"] + first.stats().loc["bad", "n"] == learned["n"].sum() + 1
    first.close()
    second.close()


def test_a_restarted_router_continues_from_the_store(tmp_path: FsPath) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    with Router([good, bad], lambda out: True, task="t", store=url, seed=1) as before:
        for i in range(50):
            before.run(i)
        learned = before.stats()
    with Router([good, bad], lambda out: True, task="t", store=url, seed=9) as after:
        assert after.stats().equals(learned)
        firsts = [after.route(i).attempts[0].path for i in range(20)]
    assert firsts.count("good") >= 18


def test_tasks_are_learned_separately(tmp_path: FsPath) -> None:
    url = str(tmp_path / "tasks.db")
    with Router([good, bad], lambda out: True, task="one", store=url, seed=1) as one:
        for i in range(20):
            one.run(i)
    with Router([good, bad], lambda out: True, task="two", store=url) as two:
        assert two.stats()["n"].sum() == 0
