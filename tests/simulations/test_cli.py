"""The ``outcome-router simulate`` command."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulations import BUILTIN
from simulations.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_list_shows_each_scenario_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(BUILTIN)
    assert all(len(line.split()) > 3 for line in lines)


def test_simulate_prints_a_table_and_writes_plots_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "sim.db"
    code = main(
        [
            "simulate",
            "outage",
            "--requests",
            "400",
            "--seeds",
            "2",
            "--jobs",
            "1",
            "--policies",
            "router",
            "static-chain",
            "--store",
            str(store),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "replays" in captured.err
    lines = captured.out.splitlines()
    assert lines[0].split()[:3] == ["policy", "success", "%"]
    assert {line.split()[0] for line in lines[2:5]} == {"oracle", "router", "static-chain"}
    for name in ("outage-traffic.png", "outage-regret.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((tmp_path / "out" / "outage.json").read_text())
    assert results["requests"] == 400 and results["seeds"] == 2
    assert set(results["policies"]) == {"router", "static-chain", "oracle"}
    assert store.exists()


def test_bad_arguments_get_clear_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "no-such-scenario"]) == 2
    assert "unknown scenario 'no-such-scenario'" in capsys.readouterr().err
    assert main(["simulate", "outage", "--policies", "magic"]) == 2
    assert "unknown policies ['magic']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "outage", "--requests", "3"])
    assert main(["simulate", "outage", "--rate", "0"]) == 2
    assert "rate: Input should be greater than 0" in capsys.readouterr().err


def test_a_bad_policy_setting_fails_before_any_replay(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "outage", "--policies", "router(foo=1)"]) == 2
    err = capsys.readouterr().err
    assert "unknown setting(s) foo; router takes horizon, horizon_per_path, delta" in err
    assert "replays" not in err  # the run header was not printed


def test_an_out_that_is_a_file_is_refused_before_any_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "results"
    taken.write_text("not a directory\n")
    argv = ["simulate", "outage", "--requests", "100", "--seeds", "1", "--policies", "router"]
    assert main([*argv, "--no-plots", "--out", str(taken)]) == 2
    err = capsys.readouterr().err
    assert f"--out {taken} is a file; give a directory" in err
    assert "replays" not in err and "Traceback" not in err
    assert taken.read_text() == "not a directory\n"


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


SHORT = ["simulate", "outage", "--requests", "60", "--seeds", "2", "--jobs", "1", "--no-plots"]


@pytest.mark.parametrize("tty", [False, True])
def test_the_progress_bar_is_drawn_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tty: bool
) -> None:
    err = Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert main([*SHORT, "--policies", "router", "--out", str(tmp_path)]) == 0
    shown = err.getvalue()
    assert shown.count("\r") > 0 if tty else "\r" not in shown  # no frames in a log file
    assert "simulated requests in" in shown.splitlines()[-1]


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"outcome-router {version('outcome-router')}\n"


def test_python_dash_m_simulations_is_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulations", "simulate", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "outage" in done.stdout


def test_a_scenario_nobody_passes_gives_dashes_and_standard_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "hopeless.toml"
    scenario.write_text(
        'name = "hopeless"\ndescription = "no path ever passes"\nrequests = 100\n'
        '[[paths]]\nname = "a"\nsuccess = 0.0\n[[paths]]\nname = "b"\nsuccess = 0.0\n'
    )
    out = tmp_path / "out"
    argv = ["simulate", str(scenario), "--seeds", "1", "--no-plots", "--out", str(out)]
    assert main([*argv, "--policies", "router"]) == 0
    table = capsys.readouterr().out
    assert "nan" not in table.lower()
    router_row = next(line for line in table.splitlines() if line.startswith("router"))
    assert router_row.split()[3] == "-"  # % of oracle: undefined, not NaN

    def refuse(constant: str) -> None:
        raise ValueError(f"non-standard JSON constant {constant}")

    results = json.loads((out / "hopeless.json").read_text(), parse_constant=refuse)
    assert results["policies"]["router"]["percent_of_oracle"]["mean"] is None
