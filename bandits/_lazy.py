"""Package attributes loaded on first use (PEP 562), so importing a package stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_attributes(
    package: str,
    table: Mapping[str, str | tuple[str, str]],
    namespace: dict[str, Any],
    listed: Iterable[str],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names in ``table`` load lazily.

    ``table`` maps a public name to the module defining it (or to ``(module, name there)``);
    a loaded value is kept in the package's ``namespace``. ``listed`` is what ``dir()`` shows.

    Example:
        >>> space = {}
        >>> getattr_, dir_ = lazy_attributes("pkg", {"dumps": "json"}, space, ["dumps"])
        >>> getattr_("dumps")([1]), "dumps" in space, dir_()
        ('[1]', True, ['dumps'])
    """
    names = sorted(listed)

    def load(name: str) -> Any:
        found = table.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = (found, name) if isinstance(found, str) else found
        value = getattr(importlib.import_module(module), attribute)
        namespace[name] = value
        return value

    def listing() -> list[str]:
        return names

    return load, listing
