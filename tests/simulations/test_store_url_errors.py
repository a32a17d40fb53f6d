"""No command prints a store URL's password, whatever is wrong with the URL (issue 16, item 11).

Before, an unsupported or malformed URL (``postgres://user:PW@...``, the common
``DATABASE_URL`` spelling; ``postgresql:user:PW@host``; ``mysql://...``) was echoed,
password and all, by every command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from router import ConfigError, Router, StoreUnavailableError
from simulations.cli import main
from storage import open_store
from storage._open import resolve_url

SECRET = "Sup3r-S3cret.pw"
URLS = {
    "postgres:// (DATABASE_URL)": f"postgres://router:{SECRET}@127.0.0.1:1/prod",
    "no //": f"postgresql:router:{SECRET}@db.internal/prod",
    "mysql": f"mysql://router:{SECRET}@db.internal/prod",
    "psycopg2 driver": f"postgresql+psycopg2://router:{SECRET}@db.internal/prod",
    "unreachable": f"postgresql+psycopg://router:{SECRET}@127.0.0.1:1/prod",
    "bad port": f"postgresql+psycopg://router:{SECRET}@db.internal:port/prod",
}


def commands(url: str, out: Path) -> dict[str, list[str]]:
    return {
        "stats": ["stats", "--store", url, "--task", "t"],
        "export": ["export", "--store", url, "--out", str(out / "o.csv")],
        "health": ["health", "--store", url],
        "paths list": ["paths", "list", "--task", "t", "--store", url],
        "paths disable": ["paths", "disable", "p", "--task", "t", "--store", url],
        "db upgrade": ["db", "upgrade", url],
        "simulate": [
            *("simulate", "stationary", "--store", url, "--requests", "10", "--seeds", "1"),
            *("--policies", "router", "--jobs", "1", "--no-plots", "--out", str(out)),
        ],
    }


@pytest.mark.parametrize("command", list(commands("", Path())))
@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
def test_no_command_prints_the_password(
    url: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(commands(url, tmp_path)[command])
    printed = capsys.readouterr()
    assert status == 2, printed
    assert "error:" in printed.err
    assert SECRET not in printed.out + printed.err


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
def test_store_errors_never_show_the_password(url: str) -> None:
    with pytest.raises((ConfigError, StoreUnavailableError)) as raised:
        open_store(url)
    assert SECRET not in str(raised.value)
    with pytest.raises((ConfigError, StoreUnavailableError)) as raised:
        Router([str.upper], lambda out: True, store=url)
    assert SECRET not in str(raised.value)


def test_postgres_scheme_is_accepted_as_postgresql() -> None:
    assert resolve_url("postgres://router@db/prod") == "postgresql+psycopg://router@db/prod"
    assert resolve_url("POSTGRES://r@db/p") == "postgresql+psycopg://r@db/p"
    with pytest.raises(StoreUnavailableError, match=r"postgresql\+psycopg://router:\*\*\*@"):
        open_store(URLS["postgres:// (DATABASE_URL)"])  # reached the driver: it was accepted


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        (
            "see 'mysql://root:hunter2@10.0.0.1:3306/x' there",
            "see 'mysql://root:***@10.0.0.1:3306/x' there",
        ),
        ("postgresql:u:pw@h", "postgresql:u:***@h"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db"),
    ],
)
def test_hide_password(text: str, hidden: str) -> None:
    from storage._passwords import hide_password

    assert hide_password(text) == hidden
