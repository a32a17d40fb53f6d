"""The public surface in both directions, in httpx's ``test_exported_members`` manner.

Everything public a package offers as an attribute is in its ``__all__``, everything in
``__all__`` resolves, and nothing private leaks (helpers, ``typing`` names, modules).
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

PACKAGES = ["bandits", "storage", "router", "simulations"]


def _public_submodules(package: types.ModuleType) -> set[str]:
    return {m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")}


def _public_attributes(package: types.ModuleType) -> set[str]:
    """Every public name in the package's namespace, lazy ones loaded, submodules aside."""
    for name in getattr(package, "_LAZY", {}):
        getattr(package, name)
    submodules = _public_submodules(package)
    return {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not (isinstance(value, types.ModuleType) and name in submodules)
    }


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_attribute_is_exported(name: str) -> None:
    package = importlib.import_module(name)
    assert sorted(_public_attributes(package) - set(package.__all__)) == []


@pytest.mark.parametrize("name", PACKAGES)
def test_everything_exported_resolves(name: str) -> None:
    package = importlib.import_module(name)
    assert len(set(package.__all__)) == len(package.__all__)
    missing = [n for n in package.__all__ if not hasattr(package, n)]
    assert missing == []
    assert set(package.__all__) <= _public_attributes(package)


@pytest.mark.parametrize("name", ["bandits", "storage", "router"])
def test_lazy_names_are_exported_and_dir_lists_exactly_the_exports(name: str) -> None:
    package = importlib.import_module(name)
    assert set(package._LAZY) <= set(package.__all__)
    assert set(dir(package)) == set(package.__all__)


@pytest.mark.parametrize(
    ("name", "private"),
    [
        ("router", "lazy_attributes"),
        ("bandits", "lazy_attributes"),
        ("storage", "lazy_attributes"),
        ("router", "TYPE_CHECKING"),
        ("storage", "logging"),
    ],
)
def test_helpers_do_not_leak(name: str, private: str) -> None:
    with pytest.raises(AttributeError):
        getattr(importlib.import_module(name), private)


def test_router_exports_the_store_errors_a_router_user_can_see() -> None:
    import router
    import storage

    errors = [n for n in storage.__all__ if n.endswith("Error")]
    assert "SchemaTooNewError" in errors
    assert all(getattr(router, n) is getattr(storage, n) for n in errors)
    assert set(errors) <= set(router.__all__)
