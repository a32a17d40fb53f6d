"""``outcome-router paths ...``: the kill switch from a shell."""

from __future__ import annotations

from pathlib import Path

import pytest

from router import FakeClock, Router
from simulations.cli import main
from storage import open_store


def test_disable_force_enable_and_list(
    tmp_path: Path, task: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    clock = FakeClock(start=1_767_225_600.0)

    def fast(x: object) -> str:
        return "fast"

    def slow(x: object) -> str:
        return "slow"

    router = Router([fast, slow], lambda out: True, task=task, store=url, clock=clock, seed=0)
    assert main(["paths", "disable", task, "fast", "--store", url]) == 0
    assert "path 'fast' is now disabled" in capsys.readouterr().out
    clock.advance(1.0)
    assert {router.run(i) for i in range(20)} == {"slow"}
    assert main(["paths", "force", task, "fast", "--store", url]) == 0
    clock.advance(1.0)
    assert {router.run(i) for i in range(20)} == {"fast"}
    assert main(["paths", "list", task, "--store", url]) == 0
    listing = capsys.readouterr().out
    assert "fast" in listing and "forced" in listing and "slow" in listing
    assert main(["paths", "enable", task, "fast", "--store", url]) == 0
    store = open_store(url)
    try:
        assert store.path_states(task)["fast"].mode == "auto"
    finally:
        store.close()
    router.close()


def test_listing_an_unknown_task_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main(["paths", "list", "nothing", "--store", url]) == 1
    assert "has no paths" in capsys.readouterr().out


def test_a_bad_command_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["paths", "pause", "t", "p"])
