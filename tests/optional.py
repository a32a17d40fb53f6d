"""Optional dependencies in tests: skip when one is missing, but fail in CI (``CI=true``)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from tests.conftest import IN_CI


def require(name: str, extra: str = "ops") -> ModuleType:
    """Import ``name``; skip the test without it, or fail it in CI (which installs every extra)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        reason = f"{name} is not installed: pip install 'outcome-router[{extra}]'"
        if IN_CI:
            pytest.fail(f"CI installs every extra; {reason}")
        pytest.skip(reason)
