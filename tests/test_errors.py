"""The one exception tree: drawn completely in its docstring, shown under public names."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import re
import traceback

import pytest

import bandits._errors
from bandits import RouterError

PACKAGES = ("bandits", "storage", "router", "simulations")
_LINE = re.compile(r"^(?P<indent>[│├└─ ]*)(?P<name>[A-Z]\w+)(?: \((?P<mixins>[\w, ]+)\))?")


def _drawn() -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """Each class in the docstring's drawing: its parent in the tree and its other bases."""
    doc = bandits._errors.__doc__ or ""
    block = doc.split("::\n", 1)[1]
    drawn: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    parents: list[str] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line.removeprefix("    "))
        assert match, line
        depth = len(match["indent"]) // 4
        del parents[depth:]
        mixins = tuple(m.strip() for m in (match["mixins"] or "").split(",") if m.strip())
        drawn[match["name"]] = (parents[-1] if parents else None, mixins)
        parents.append(match["name"])
    return drawn


def _ours() -> dict[str, type[BaseException]]:
    """Every subclass of RouterError defined in the packages (all their modules loaded)."""
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if not info.name.endswith("__main__") and ".migrations" not in info.name:
                importlib.import_module(info.name)
    found: dict[str, type[BaseException]] = {}
    todo: list[type[BaseException]] = [RouterError]
    while todo:
        cls = todo.pop()
        if cls.__module__.split(".")[0] in PACKAGES:
            found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def test_the_docstring_draws_every_exception_with_its_parent_and_nothing_else() -> None:
    drawn = _drawn()
    actual = {
        name: (
            next((b.__name__ for b in cls.__bases__ if issubclass(b, RouterError)), None),
            tuple(b.__name__ for b in cls.__bases__ if not issubclass(b, RouterError)),
        )
        for name, cls in _ours().items()
    }
    actual["RouterError"] = (None, ())  # its base is Exception, left out of the drawing
    assert drawn == actual


@pytest.mark.parametrize("name", sorted(_ours()))
def test_each_exception_lives_in_the_one_module(name: str) -> None:
    assert vars(bandits._errors).get(name) is _ours()[name]


@pytest.mark.parametrize("name", sorted(_ours()))
def test_each_exception_is_named_for_a_public_package_that_exports_it(name: str) -> None:
    cls = _ours()[name]
    package = importlib.import_module(cls.__module__)
    assert cls.__module__ in {"router", "storage"}
    assert name in package.__all__ and getattr(package, name) is cls


@pytest.mark.parametrize("name", sorted(_ours()))
def test_router_exports_every_exception(name: str) -> None:
    import router

    assert name in router.__all__ and getattr(router, name) is _ours()[name]


def test_tracebacks_show_the_public_module_path() -> None:
    from router import ConfigError
    from storage import StoreUnavailableError

    assert traceback.format_exception_only(ConfigError("fix it")) == [
        "router.ConfigError: fix it\n"
    ]
    assert traceback.format_exception_only(StoreUnavailableError("down")) == [
        "storage.StoreUnavailableError: down\n"
    ]


def test_exceptions_pickle_under_their_public_names() -> None:
    from router import ConfigError
    from storage import UnknownRequestError

    for error in (ConfigError("bad"), UnknownRequestError("no such request")):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy)) == (type(error), str(error))


@pytest.mark.parametrize(
    ("old_home", "name"),
    [
        ("bandits", "ConfigError"),
        ("bandits", "InvalidScoreError"),
        ("bandits", "RouterError"),
        ("router._errors", "AllPathsFailed"),
        ("router._errors", "InvalidCostError"),
        ("router._budget", "BudgetExceeded"),
        ("router._guard", "InputTooLarge"),
        ("router._guard", "LoopDetected"),
        ("router._validation", "InvalidOutput"),
        ("router._llm_judge", "JudgeError"),
        ("router.llm", "JudgeError"),
        ("storage._errors", "UnknownRequestError"),
        ("storage", "SchemaTooNewError"),
    ],
)
def test_every_exception_is_still_importable_from_its_old_home(old_home: str, name: str) -> None:
    assert getattr(importlib.import_module(old_home), name) is vars(bandits._errors)[name]
