"""``outcome-router stats`` and ``outcome-router export``: a store's paths and outcomes."""

from __future__ import annotations

import argparse
import importlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from storage import open_existing_store

if TYPE_CHECKING:
    import pandas as pd

    from storage import ReadStore

_ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"
_FORMATS = {".csv": "csv", ".parquet": "parquet"}  # --out suffix: export format
_STORE_HELP = "store URL or SQLite file (default: $OUTCOME_ROUTER_DB, else ./outcome-router.db)"


def add_analysis_commands(subparsers: Any) -> None:
    """Add the ``stats`` and ``export`` commands to an argparse ``add_subparsers()`` object.

    Each command sets ``handler``: a function of the parsed arguments returning the
    exit status.

    Example:
        >>> parser = argparse.ArgumentParser(prog="outcome-router")
        >>> add_analysis_commands(parser.add_subparsers(dest="command", required=True))
        >>> args = parser.parse_args(["export", "--store", "x.db", "--out", "o.csv"])
        >>> args.handler.__name__, args.format
        ('run_export', None)
    """
    stats = subparsers.add_parser(
        "stats",
        help="print each path's posterior, traffic, success, cost and latency",
        description="Print the per-path table of one task of a store: alpha, beta, mean, "
        "95% credible interval, n, traffic share, success rate, cost per success and "
        "p50/p99 latency.",
    )
    stats.add_argument("--store", default=None, help=_STORE_HELP)
    stats.add_argument("--task", default=None, help="the task (default: the store's only task)")
    stats.set_defaults(handler=run_stats)
    export = subparsers.add_parser(
        "export",
        help="write a store's outcomes to CSV or Parquet",
        description="Write every outcome (one row per attempt) of a store, or of one task, "
        "to a CSV or Parquet file, streaming so large stores fit in memory.",
    )
    export.add_argument("--store", default=None, help=_STORE_HELP)
    export.add_argument("--task", default=None, help="only this task (default: every task)")
    export.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default=None,
        help="file format (default: from the --out suffix, else csv)",
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.set_defaults(handler=run_export)


def run_stats(args: argparse.Namespace) -> int:
    """Print the per-path table of ``args.task`` in the store ``args.store``."""
    from router._simulated import simulated_note
    from storage import path_stats

    store = open_existing_store(args.store)
    try:
        task = args.task or _only_task(store)
        table = path_stats(store, task)
        if table.empty:
            raise ConfigError(
                f"task {task!r} has no paths in store {store.url}; {_tasks_hint(store)}"
            )
        print(f"{store.url}  task {task!r}")
        note = simulated_note([task])
        if note is not None:
            print(f"({note})")
        print(_format_stats(table))
    finally:
        store.close()
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the outcomes of the store ``args.store`` to ``args.out``.

    Raises:
        ConfigError: the store does not exist, or ``args.out`` cannot be written in the
            format asked for (unknown suffix, missing directory, a directory).
    """
    from storage import iter_outcome_frames

    kind = _export_format(args.out, args.format)
    store = open_existing_store(args.store)
    try:
        writer = _open_writer(kind, args.out)
        rows = 0
        try:
            for chunk in iter_outcome_frames(store, args.task):
                writer.write(chunk)
                rows += len(chunk)
        finally:
            writer.close()
    finally:
        store.close()
    print(f"wrote {rows:,} outcomes to {args.out} ({kind})")
    return 0


def _export_format(out: Path, chosen: str | None) -> str:
    """The format to write ``out`` in: ``chosen`` (``--format``), else from the suffix.

    Raises:
        ConfigError: the suffix names no supported format, or another one than ``chosen``;
            or ``out`` is a directory or sits in one that does not exist.

    Example:
        >>> _export_format(Path("o.csv"), None), _export_format(Path("o"), "parquet")
        ('csv', 'parquet')
    """
    suffix = out.suffix.lower()
    implied = _FORMATS.get(suffix) if suffix else "csv"
    supported = " or ".join(f"{kind} ({ext})" for ext, kind in _FORMATS.items())
    if implied is None and chosen is None:
        raise ConfigError(
            f"export writes {supported}, not {suffix}; name --out with one of those "
            "suffixes, or pass --format"
        )
    if chosen is not None and suffix in _FORMATS and implied != chosen:
        raise ConfigError(
            f"--format {chosen} does not match --out {out} ({implied}); change one of them"
        )
    if out.is_dir():
        raise ConfigError(f"--out {out} is a directory; give a file name such as {out / 'o.csv'}")
    if not out.parent.is_dir():
        raise ConfigError(
            f"directory {out.parent} does not exist; create it or choose another --out"
        )
    return chosen or implied or "csv"


def _open_writer(kind: str, out: Path) -> _CsvWriter | _ParquetWriter:
    """The writer of ``kind`` on ``out``; a file the OS refuses is a ConfigError."""
    try:
        return _ParquetWriter(out) if kind == "parquet" else _CsvWriter(out)
    except OSError as exc:
        raise ConfigError(
            f"cannot write --out {out} ({exc.strerror or exc}); choose another file"
        ) from exc


class _CsvWriter:
    """Appends chunks to a CSV file; the header is written up front, so no rows is valid CSV."""

    def __init__(self, target: Path) -> None:
        from storage import OUTCOME_COLUMNS

        self._handle = target.open("w", newline="", encoding="utf-8")
        self._handle.write(",".join(OUTCOME_COLUMNS) + "\n")

    def write(self, chunk: pd.DataFrame) -> None:
        plain = chunk.assign(context=_context_text(chunk["context"]))
        plain.to_csv(self._handle, header=False, index=False, date_format=_ISO_UTC)

    def close(self) -> None:
        self._handle.close()


class _ParquetWriter:
    """Appends chunks to a Parquet file as row groups of one fixed schema."""

    def __init__(self, target: Path) -> None:
        try:  # pyarrow has no type stubs: use it as Any
            pa: Any = importlib.import_module("pyarrow")
            pq: Any = importlib.import_module("pyarrow.parquet")
        except ImportError as exc:
            raise ConfigError(
                "--format parquet needs pyarrow: pip install pyarrow (or use --format csv)"
            ) from exc
        text, number = pa.string(), pa.float64()
        time = pa.timestamp("ns", tz="UTC")
        self._schema = pa.schema(
            [
                ("request_id", text),
                ("attempt", pa.int64()),
                ("task", text),
                ("path", text),
                ("score", number),
                ("error_class", text),
                ("errored", pa.bool_()),
                ("latency_ms", number),
                ("propensity", number),
                ("customer", text),
                ("tokens_in", pa.int64()),
                ("tokens_out", pa.int64()),
                ("cost", number),
                ("created_at", time),
                ("reported_at", time),
                ("context", text),  # JSON text: keys and value types differ by request
            ]
        )
        self._pa = pa
        self._writer = pq.ParquetWriter(str(target), self._schema)

    def write(self, chunk: pd.DataFrame) -> None:
        plain = chunk.astype(dict.fromkeys(("task", "path", "error_class", "customer"), object))
        plain["context"] = _context_text(chunk["context"])
        table = self._pa.Table.from_pandas(plain, schema=self._schema, preserve_index=False)
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def _context_text(contexts: pd.Series[Any]) -> pd.Series[Any]:
    """Each context dict as JSON text (None stays None), for files of one column type."""
    import json

    return contexts.map(lambda c: None if c is None else json.dumps(c, sort_keys=True))


def _only_task(store: ReadStore) -> str:
    from storage import store_tasks

    tasks = store_tasks(store)
    if len(tasks) == 1:
        return tasks[0]
    if not tasks:
        raise ConfigError(f"store {store.url} has no tasks yet")
    raise ConfigError(
        f"store {store.url} has {len(tasks)} tasks; pick one with --task: " + _list(tasks)
    )


def _tasks_hint(store: ReadStore) -> str:
    from storage import store_tasks

    tasks = store_tasks(store)
    return f"its tasks are: {_list(tasks)}" if tasks else "it has no tasks yet"


def _list(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


def _format_stats(table: pd.DataFrame) -> str:
    """The per-path table as aligned text."""
    headers = [
        "path",
        "alpha",
        "beta",
        "mean",
        "95% CI",
        "n",
        "traffic",
        "success",
        "$/success",
        "p50 ms",
        "p99 ms",
    ]
    rows = [
        [
            str(path),
            f"{row['alpha']:.1f}",
            f"{row['beta']:.1f}",
            f"{row['mean']:.3f}",
            f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]",
            f"{int(row['n']):,}",
            f"{row['traffic_share']:.1%}",
            _maybe(row["success_rate"], "{:.1%}"),
            _maybe(row["cost_per_success"], "{:.5f}"),
            _maybe(row["latency_p50_ms"], "{:.1f}"),
            _maybe(row["latency_p99_ms"], "{:.1f}"),
        ]
        for path, row in table.iterrows()
    ]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [headers, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _maybe(value: float, pattern: str) -> str:
    return "-" if value is None or math.isnan(value) else pattern.format(value)
