"""``outcome-router paths ...``: the kill switch from a shell."""

from __future__ import annotations

from pathlib import Path

import pytest

from router import FakeClock, Router
from router.cli import main
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
    assert main(["paths", "disable", "fast", "--task", task, "--store", url]) == 0
    assert "path 'fast' is now disabled" in capsys.readouterr().out
    clock.advance(1.0)
    assert {router.run(i) for i in range(20)} == {"slow"}
    assert main(["paths", "force", "fast", "--task", task, "--store", url]) == 0
    clock.advance(1.0)
    assert {router.run(i) for i in range(20)} == {"fast"}
    assert main(["paths", "list", "--task", task, "--store", url]) == 0
    listing = capsys.readouterr().out
    assert "fast" in listing and "forced" in listing and "slow" in listing
    assert main(["paths", "enable", "fast", "--task", task, "--store", url]) == 0
    store = open_store(url)
    try:
        assert store.path_states(task)["fast"].mode == "auto"
    finally:
        store.close()
    router.close()


def make_store(path: Path, task: str, paths: list[str]) -> str:
    """A SQLite store at ``path`` where ``task`` has ``paths`` (none: an empty store)."""
    url = f"sqlite:///{path}"
    store = open_store(url)
    try:
        if paths:
            store.ensure_paths(task, paths)
    finally:
        store.close()
    return url


def test_listing_an_unknown_task_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = make_store(tmp_path / "empty.db", "nothing", [])
    assert main(["paths", "list", "--task", "nothing", "--store", url]) == 1
    assert "has no paths" in capsys.readouterr().out


@pytest.mark.parametrize("verb", ["disable", "enable", "force"])
def test_a_path_the_task_never_had_is_refused_with_its_paths(
    tmp_path: Path, task: str, verb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "ops.db", task, ["gpt4o", "regex"])
    assert main(["paths", verb, "gpt-4o", "--task", task, "--store", url]) == 2
    err = capsys.readouterr().err
    assert f"task {task!r} has no path 'gpt-4o'" in err and "its paths are: gpt4o, regex" in err
    store = open_store(url)
    try:
        assert store.path_states(task) == {}  # no phantom row
    finally:
        store.close()
    assert main(["paths", "list", "--task", task, "--store", url]) == 0
    assert "gpt-4o" not in capsys.readouterr().out


def test_a_task_with_no_paths_is_reported_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "ops.db", "orders", ["gpt4o"])
    assert main(["paths", "disable", "gpt4o", "--task", "order", "--store", url]) == 2
    assert "task 'order' is unknown" in capsys.readouterr().err


@pytest.mark.parametrize("verb", ["list", "disable", "enable", "force"])
def test_a_store_that_does_not_exist_is_refused_not_created(
    tmp_path: Path, verb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    names = ["--task", "orders"] if verb == "list" else ["gpt4o", "--task", "orders"]
    assert main(["paths", verb, *names, "--store", str(missing)]) == 2
    assert f"store {missing} does not exist" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["stats", "--help"],
        ["export", "--help"],
        ["health", "--help"],
        ["paths", "list", "--help"],
        ["paths", "disable", "--help"],
    ],
)
def test_every_command_names_the_task_with_task_option(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(command)
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "--task TASK" in shown and "%%" not in shown


def test_a_bad_command_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["paths", "pause", "t", "p"])
