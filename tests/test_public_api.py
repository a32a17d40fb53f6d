"""The public surface: what each package exports, its docs, and a side-effect-free import."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

from tests.conftest import fresh_python

PACKAGES = ["bandits", "storage", "router", "simulations"]
ROOT = Path(__file__).resolve().parents[1]


def _isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_every_name_exists(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__, key=_isort_key)
    for exported in module.__all__:
        assert hasattr(module, exported), f"{name}.{exported}"


@pytest.mark.parametrize("name", PACKAGES)
def test_packages_ship_py_typed(name: str) -> None:
    assert (ROOT / name / "py.typed").exists()


def test_router_exports() -> None:
    import router

    assert {
        "Router",
        "Path",
        "RunResult",
        "FakeClock",
        "RouterError",
        "AllPathsFailed",
        "ConfigError",
        "InvalidScoreError",
    } <= set(router.__all__)


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names += [
            f"{package}.{m.name}"
            for m in pkgutil.iter_modules(module.__path__)
            if m.name != "__main__"
        ]
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples may open the default store
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def _public_callables() -> list[tuple[str, str]]:
    found = []
    for package in ("router", "bandits", "storage"):
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and not (isinstance(obj, type) and issubclass(obj, BaseException)):
                found.append((package, name))
    return found


@pytest.mark.parametrize(("package", "name"), _public_callables())
def test_public_callables_have_docstrings(package: str, name: str) -> None:
    obj = getattr(importlib.import_module(package), name)
    assert (obj.__doc__ or "").strip(), f"{package}.{name} needs a docstring"


def test_import_router_is_light_and_has_no_side_effects(tmp_path: Path) -> None:
    code = (
        "import sys, os, logging\n"
        "before = set(os.listdir('.'))\n"
        "import router\n"
        "heavy = [m for m in ('numpy', 'scipy', 'pandas', 'sqlalchemy', 'litellm', 'asyncio',\n"
        "         'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert set(os.listdir('.')) == before, 'import created files'\n"
        "handlers = logging.getLogger('outcome_router').handlers\n"
        "assert [type(h) for h in handlers] == [logging.NullHandler], handlers\n"
        "assert not logging.getLogger().handlers\n"
    )
    done = fresh_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_router_warnings_reach_no_stderr_unless_the_application_configures_logging(
    tmp_path: Path,
) -> None:
    code = (
        "import logging, router\n"
        "class Refused(Exception):\n"
        "    status_code = 401\n"
        "def model(text):\n"
        "    raise Refused('invalid api key')\n"
        "upper = router.Path(str.upper, name='upper', last_resort=True)\n"
        "r = router.Router([model, upper], lambda out: True, store='memory://')\n"
        "print({r.run('x') for _ in range(3)})\n"  # the auth alert is a logged warning
        "logging.basicConfig(format='%(levelname)s %(message)s')\n"
        "r2 = router.Router([model, upper], lambda out: True, store='memory://')\n"
        "r2.run('x'); r2.run('x')\n"
    )
    done = fresh_python(code, tmp_path)
    assert (done.returncode, done.stdout) == (0, "{'X'}\n"), done.stderr
    # Only the router built after logging.basicConfig() was heard, once.
    assert done.stderr.count("auth alert") == 1, done.stderr
    assert done.stderr.startswith("WARNING auth alert"), done.stderr


# Loaded on first use, not by `import router` (cold start): see the packages' __getattr__.
LAZY_MODULES = [
    "bandits._ope",
    "bandits._thompson",
    "bandits._vectorized",
    "storage._batching",
    "storage._export",
    "storage._resilient",
    "storage._sql",
    "bandits._baselines",
    "bandits._cost",
    "router._health",
    "email.utils",
    "json",
]


def test_import_router_leaves_rarely_used_modules_unloaded(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import router\n"
        f"print(sorted(set({LAZY_MODULES!r}) & (set(sys.modules) - before)))\n"
    )
    done = fresh_python(code, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


@pytest.mark.parametrize("name", ["bandits", "storage", "router"])
def test_lazy_names_import_like_eager_ones(name: str) -> None:
    module = importlib.import_module(name)
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)
    assert set(module.__all__) <= set(namespace)
    assert all(namespace[n] is getattr(module, n) for n in module.__all__)
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match=f"^module '{name}' has no attribute 'foo'$"):
        module.foo  # noqa: B018
