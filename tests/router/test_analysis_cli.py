"""The ``outcome-router stats`` and ``outcome-router export`` commands."""

from __future__ import annotations

import builtins
import csv
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from router.cli import main
from storage import Outcome, open_store
from tests.conftest import IN_CI

START = 1_767_225_600.0


def require_pyarrow() -> None:
    """Skip without pyarrow, except in CI (the dev extra installs it)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        reason = "parquet export needs pyarrow: pip install pyarrow (the dev extra has it)"
        if IN_CI:
            pytest.fail(f"CI needs pyarrow: {reason}")
        pytest.skip(reason)


def make_store(path: Path, tasks: tuple[str, ...] = ("extract",)) -> str:
    """A SQLite store: path a succeeds 3 times in 4, path b once in 2; both cost money."""
    url = f"sqlite:///{path}"
    store = open_store(url)
    for task in tasks:
        store.ensure_paths(task, ["a", "b"])
        for i in range(12):
            path_name = "a" if i < 8 else "b"
            score = float(i % 4 != 0) if path_name == "a" else float(i % 2)
            store.record(
                Outcome(
                    f"{task}-{i}",
                    1,
                    task,
                    path_name,
                    score,
                    created_at=START + i,
                    latency_ms=100.0 + i,
                    cost=0.01,
                )
            )
    store.close()
    return url


def test_stats_prints_one_row_per_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = make_store(tmp_path / "s.db")
    assert main(["stats", "--store", url, "--task", "extract"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "task 'extract'" in out[0]
    header = out[1].split()
    for column in ("alpha", "beta", "mean", "CI", "n", "traffic", "success", "p50", "p99"):
        assert column in header
    rows = {line.split()[0]: line.split() for line in out[3:]}
    assert set(rows) == {"a", "b"}
    # a: 6 of 8 succeed, so alpha = 1 + 6, beta = 1 + 2; 8 of 12 requests.
    assert rows["a"][1:4] == ["7.0", "3.0", "0.700"]
    assert "66.7%" in rows["a"] and "75.0%" in rows["a"]
    assert "0.01333" in rows["a"]  # 8 calls at $0.01 for 6 successes


def test_stats_picks_the_only_task_and_names_the_tasks_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = make_store(tmp_path / "one.db")
    assert main(["stats", "--store", one]) == 0
    assert "task 'extract'" in capsys.readouterr().out
    two = make_store(tmp_path / "two.db", tasks=("x", "y"))
    assert main(["stats", "--store", two]) == 2
    assert "has 2 tasks; pick one with --task: x, y" in capsys.readouterr().err
    assert main(["stats", "--store", two, "--task", "nope"]) == 2
    assert "task 'nope' has no paths" in capsys.readouterr().err


def test_stats_refuses_a_store_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.db"
    assert main(["stats", "--store", str(missing), "--task", "t"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()


def test_export_csv_writes_every_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "s.db", tasks=("x", "y"))
    out = tmp_path / "all.csv"
    assert main(["export", "--store", url, "--out", str(out)]) == 0
    assert "wrote 24 outcomes" in capsys.readouterr().out
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 24 and {r["task"] for r in rows} == {"x", "y"}
    assert rows[0]["created_at"] == "2026-01-01T00:00:00.000000Z"
    only_x = tmp_path / "x.csv"
    assert main(["export", "--store", url, "--task", "x", "--out", str(only_x)]) == 0
    assert len(pd.read_csv(only_x)) == 12


def test_export_of_no_outcomes_writes_a_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "s.db")
    out = tmp_path / "none.csv"
    assert main(["export", "--store", url, "--task", "nope", "--out", str(out)]) == 0
    assert "wrote 0 outcomes" in capsys.readouterr().out
    assert out.read_text().startswith("request_id,attempt,task,path,score")


def test_export_into_a_missing_directory_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "s.db")
    out = tmp_path / "nodir" / "x.csv"
    assert main(["export", "--store", url, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"outcome-router: error: directory {out.parent} does not exist; "
        "create it or choose another --out\n"
    )
    assert not out.parent.exists()


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("x.xlsx", [], "export writes csv (.csv) or parquet (.parquet)"),
        ("x.json", [], "export writes csv (.csv) or parquet (.parquet)"),
        ("x.csv.gz", [], "export writes csv (.csv) or parquet (.parquet)"),
        ("x.csv", ["--format", "parquet"], "--format parquet does not match"),
    ],
)
def test_export_refuses_a_file_it_cannot_write_as_asked(
    tmp_path: Path,
    name: str,
    options: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = make_store(tmp_path / "s.db")
    out = tmp_path / name
    assert main(["export", "--store", url, *options, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_export_with_a_format_writes_any_suffix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_store(tmp_path / "s.db")
    out = tmp_path / "outcomes.txt"
    assert main(["export", "--store", url, "--format", "csv", "--out", str(out)]) == 0
    assert "(csv)" in capsys.readouterr().out
    assert len(pd.read_csv(out)) == 12


def test_export_parquet_keeps_the_types(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_pyarrow()
    url = make_store(tmp_path / "s.db")
    out = tmp_path / "o.parquet"
    assert main(["export", "--store", url, "--format", "parquet", "--out", str(out)]) == 0
    assert "(parquet)" in capsys.readouterr().out
    frame = pd.read_parquet(out)
    assert len(frame) == 12
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["score"].sum() == 8.0


def test_export_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".", maxsplit=1)[0] == "pyarrow":
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    monkeypatch.setattr("importlib.import_module", no_pyarrow)
    url = make_store(tmp_path / "s.db")
    out = tmp_path / "o.parquet"
    assert main(["export", "--store", url, "--out", str(out)]) == 2
    assert "pip install pyarrow" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_export_writes_each_context_as_json_text(tmp_path: Path, kind: str) -> None:
    import json

    if kind == "parquet":
        require_pyarrow()
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(url)
    contexts = [{"lang": "de", "length": 1840, "pro": True}, None, {"score": 0.5}]
    for i, context in enumerate(contexts):
        store.record(Outcome(f"r{i}", 1, "t", "a", 1.0, created_at=START + i, context=context))
    store.close()
    out = tmp_path / f"o.{kind}"
    assert main(["export", "--store", url, "--out", str(out)]) == 0
    frame = pd.read_csv(out) if kind == "csv" else pd.read_parquet(out)
    written = [None if pd.isna(text) else json.loads(text) for text in frame["context"]]
    assert written == contexts
