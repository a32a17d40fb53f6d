"""Every notebook in notebooks/ runs top to bottom on a fresh clone (a short simulation)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds; the four notebooks take about 30 s together
# The analysis guide, where the headless command is documented.
ANALYSIS_GUIDE = (ROOT / "docs" / "guides" / "analysis.md").read_text()
# What a notebook must show (its text outputs), beyond running and plotting.
EXPECTED_TEXT = {
    # The truth replayed beside the estimates, and the flags on estimates not to trust.
    "counterfactual": ("truth", "small ESS", "mean weight"),
    # A contextual target (routing by length) beside the logged policy and single paths,
    # each with its effective sample size, and the simulation's truth beside the estimates.
    "contextual_counterfactual": ("logged (router)", "below 600 chars", "effective_n", "truth"),
}


def nbclient_modules() -> tuple[Any, Any]:
    """nbformat and nbclient; skip (or fail in CI) when they or ipykernel are missing."""
    try:
        import ipykernel  # noqa: F401
        import nbclient
        import nbformat
    except ImportError as exc:
        reason = f"running notebooks needs nbclient, nbformat and ipykernel ({exc.name} missing)"
        if IN_CI:
            pytest.fail(f"CI runs the notebooks: {reason}")
        pytest.skip(f"{reason}: pip install nbclient nbformat ipykernel")
    return nbformat, nbclient


def test_the_four_notebooks_exist() -> None:
    names = [path.stem for path in NOTEBOOKS]
    assert names == ["contextual_counterfactual", "counterfactual", "path_performance", "scenarios"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_without_errors(
    notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat, nbclient = nbclient_modules()
    book = nbformat.read(notebook, as_version=4)
    first = book.cells[0]
    assert first.cell_type == "markdown" and "**Question:**" in first.source
    # No store at $OUTCOME_ROUTER_DB: the notebook simulates its own data.
    monkeypatch.setenv("OUTCOME_ROUTER_DB", str(tmp_path / "missing.db"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the simulated store goes
    client = nbclient.NotebookClient(
        book,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    outputs = [output for cell in book.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "every notebook draws at least one plot"
    shown = "".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for o in outputs
    )
    for expected in EXPECTED_TEXT.get(notebook.stem, ()):
        assert expected in shown, f"{notebook.stem} shows no {expected!r}"


def test_the_documented_command_runs_a_notebook(tmp_path: Path) -> None:
    """The analysis guide's headless command (what [dev] installs: nbclient's jupyter execute)."""
    nbclient_modules()
    (command,) = re.findall(r"^(jupyter execute \S+)$", ANALYSIS_GUIDE, re.M)
    notebook = ROOT / command.split()[-1]
    env = {**os.environ, "OUTCOME_ROUTER_DB": str(tmp_path / "missing.db"), "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("jupyter")),
            "execute",
            str(notebook),
            f"--output={tmp_path / 'executed'}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "executed.ipynb").exists()
