"""bandits is the bottom of the house: it imports nothing of ours, not even lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BANDITS = Path(__file__).resolve().parents[2] / "bandits"
UPPER = ("router", "storage", "simulations")


@pytest.mark.parametrize("module", sorted(BANDITS.glob("*.py")), ids=lambda p: p.name)
def test_bandits_modules_import_no_upper_layer(module: Path) -> None:
    found = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in UPPER]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UPPER:
            found.append(str(node.module))
    assert found == []
