"""examples/order_extraction.py runs offline, against the fake provider it starts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "order_extraction.py"


def test_the_order_extraction_example_runs_offline(tmp_path: Path) -> None:
    keys = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LITELLM_LOCAL_MODEL_COST_MAP")
    env = {k: v for k, v in os.environ.items() if k not in keys}
    env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--rounds", "2"],
        cwd=tmp_path,  # the example finds the repository from its own path
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert out.startswith("mode: offline (fake provider)")
    served = re.findall(r"-> Order\(item='(\w+)', quantity=(\d+)\) via (\S+)", out)
    assert len(served) == 12 and ("pens", "3") in {s[:2] for s in served}
    assert {s[2] for s in served} <= {"openai/gpt-4o-mini", "claude-3-5-haiku", "regex_extract"}
    assert "traffic_share" in out and "openai/gpt-4o-mini" in out.split("traffic_share")[1]
    spent = re.search(r"spent: (\d+) tokens, \$([\d.]+) over \d+ attempts", out)
    assert spent is not None and int(spent.group(1)) > 0 and float(spent.group(2)) > 0
    assert list(tmp_path.iterdir()) == []  # the memory store leaves no file behind
