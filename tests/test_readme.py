"""The README's two commands are one line each and its quickstart shows the whole table.

Its Python examples run with those of the docs, in tests/test_docs.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_first_two_bash_blocks_are_single_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    main_job, tests = (b.strip() for b in blocks[:2])
    assert "\n" not in main_job and "outcome-router simulate" in main_job
    assert "\n" not in tests and "pytest" in tests


def test_the_quickstart_prints_the_whole_stats_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    quickstart = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(quickstart, "README.md", "exec"), {"__name__": "readme"})
    shown = capsys.readouterr().out
    assert "..." not in shown  # pandas elides columns of a wide frame with "..."
    header = shown.splitlines()[1].split()
    assert {"ci_low", "ci_high", "n", "traffic_share", "cost", "unpriced"} <= set(header)
