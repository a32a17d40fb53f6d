"""The house's layers, checked on the source: nothing imports upward, not even lazily.

``simulations`` sits on ``router``, which sits on ``storage``, which sits on
``bandits`` (tests/bandits/test_layering.py checks the bottom). The command line
reaches the simulator only through an entry point (router.cli).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABOVE = {"storage": ("router", "simulations"), "router": ("simulations",)}


def _imported(module: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize(
    "module",
    sorted(p for package in ABOVE for p in (ROOT / package).glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_module_imports_a_layer_above_its_own(module: Path) -> None:
    above = ABOVE[module.parent.name]
    assert [n for n in _imported(module) if n.split(".")[0] in above] == []
