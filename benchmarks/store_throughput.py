"""Outcomes per second into one shared store from 1, 2, 4 and 8 processes, batched or not.

Each row starts N processes (``spawn``, as separate services would be) on a fresh
store: a new SQLite file in a temp dir, or a new PostgreSQL database (created with
``CREATE DATABASE``, dropped ``WITH (FORCE)`` afterwards). Once all have opened the
store, each records distinct outcomes for ``--seconds``:

  record    ``store.record(outcome)``: one transaction per outcome
  batch=B   ``BatchingStore(store, flush_every=B)``: one ``record_many`` per B outcomes
            (the default flush_interval, 0.05 s), flushed on close

``outcomes/s`` is every process's outcomes over the longest process's time from the
start signal to its last commit (its final flush included). ``lost`` checks the run
afterwards: outcomes the processes say they recorded but the outcomes table lacks,
plus, per path, the difference between the posterior's n and the table's count of
scored outcomes; ``sums`` compares each posterior's alpha - prior with the table's
score sum. Both must be 0 / ok.

Run from the repository root:
    python benchmarks/store_throughput.py                 # full run (~1-2 minutes)
    python benchmarks/store_throughput.py --quick         # smoke run (~20 s)
    python benchmarks/store_throughput.py --seconds 5 --processes 1 8 --backends postgres
PostgreSQL comes from ``$OUTCOME_ROUTER_TEST_PG`` (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); its user must be allowed to create
databases. A backend that cannot be reached is skipped with a note.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

sys.path.insert(0, str(FsPath(__file__).resolve().parents[1]))  # run from a checkout

import sqlalchemy as sa

from storage import BatchingStore, Outcome, Store, open_store

PG_URL = os.environ.get(
    "OUTCOME_ROUTER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PATHS = ("a", "b", "c")
SCORES = (0.0, 0.25, 0.5, 0.75, 1.0)  # dyadic: sums are exact in any order
START = 1_767_225_600.0
TASK = "bench"


@dataclass(frozen=True)
class Row:
    backend: str
    batching: str
    processes: int
    outcomes: int
    seconds: float
    lost: int
    sums_ok: bool

    @property
    def rate(self) -> float:
        return self.outcomes / self.seconds if self.seconds > 0 else 0.0


def outcome(process: int, index: int) -> Outcome:
    """The ``index``-th outcome of a process: distinct ids, a fixed mix of paths and scores."""
    return Outcome(
        f"p{process}-{index}",
        1,
        TASK,
        PATHS[index % len(PATHS)],
        SCORES[index % len(SCORES)],
        created_at=START + index * 0.001,
        latency_ms=12.5,
    )


@dataclass(frozen=True)
class Job:
    """What one writer process does (picklable, for ``spawn``)."""

    url: str
    process: int
    batch: int  # flush_every of a BatchingStore; 0: record() one by one
    seconds: float


def worker(job: Job, start: Any, results: Any) -> None:
    """Child body: open, wait for every sibling, record for ``seconds``, close (flush)."""
    store: Store = open_store(job.url)
    if job.batch:
        store = BatchingStore(store, flush_every=job.batch)
    start.wait(timeout=120)
    began = time.monotonic()
    deadline = began + job.seconds
    count = 0
    while time.monotonic() < deadline:
        store.record(outcome(job.process, count))
        count += 1
    store.close()  # the batching store writes its queue here
    results.put((count, time.monotonic() - began))


@contextlib.contextmanager
def fresh_store(backend: str) -> Iterator[str]:
    """The URL of a new, empty store of ``backend``; removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    base = sa.make_url(PG_URL)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def check(url: str, recorded: int) -> tuple[int, bool]:
    """(lost outcomes, posterior sums match) of a finished run, from the store itself."""
    store = open_store(url)
    try:
        table: dict[str, tuple[int, int, float]] = {}
        for day in store.daily_aggregates(TASK):  # type: ignore[attr-defined]
            attempts, scored, total = table.get(day.path, (0, 0, 0.0))
            table[day.path] = (attempts + day.attempts, scored + day.scored, total + day.successes)
        rows = store.posteriors(TASK)
    finally:
        store.close()
    lost = max(0, recorded - sum(attempts for attempts, _, _ in table.values()))
    sums_ok = set(rows) == set(table)
    for path, (_, scored, total) in table.items():
        row = rows.get(path)
        if row is None:
            lost += scored
            continue
        lost += abs(row.n - scored)
        sums_ok = sums_ok and abs((row.alpha - row.prior_alpha) - total) < 1e-6
    return lost, sums_ok


def run(backend: str, batch: int, processes: int, seconds: float) -> Row:
    context = multiprocessing.get_context("spawn")
    with fresh_store(backend) as url:
        open_store(url).close()  # create the schema here: the children only write
        start = context.Barrier(processes)
        results = context.Queue()
        children = [
            context.Process(target=worker, args=(Job(url, n, batch, seconds), start, results))
            for n in range(processes)
        ]
        for child in children:
            child.start()
        done = [results.get(timeout=seconds + 300) for _ in children]
        for child in children:
            child.join(timeout=60)
        failed = [c.exitcode for c in children if c.exitcode != 0]
        if failed:
            raise RuntimeError(f"{len(failed)} writer processes failed: exit codes {failed}")
        recorded = sum(count for count, _ in done)
        lost, sums_ok = check(url, recorded)
    label = f"batch={batch}" if batch else "record"
    elapsed = max(took for _, took in done)
    return Row(backend, label, processes, recorded, elapsed, lost, sums_ok)


def reachable(backend: str) -> str | None:
    """None when ``backend`` can be used, else why not."""
    if backend == "sqlite":
        return None
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar_one()
            print(f"PostgreSQL {version} at {engine.url.render_as_string(hide_password=True)}")
    except Exception as exc:  # any failure to connect means "no server"
        return f"{type(exc).__name__}: set OUTCOME_ROUTER_TEST_PG to a server"
    finally:
        engine.dispose()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="recording time per row")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--batch", type=int, default=100, help="flush_every of the batched rows")
    parser.add_argument("--quick", action="store_true", help="smoke run: 0.5 s, 1 and 4 processes")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.processes = 0.5, [1, 4]

    print(
        f"python {platform.python_version()} ({platform.python_implementation()}) | "
        f"{platform.platform()} | {platform.processor() or platform.machine()} | "
        f"cpus={os.cpu_count()}"
    )
    print(
        f"{args.seconds:g} s of recording per row; each process writes distinct outcomes "
        "(3 paths, scores in quarters)"
    )
    header = (
        f"{'backend':<9} {'batching':<10} {'procs':>5} {'outcomes':>9} {'seconds':>8} "
        f"{'outcomes/s':>11} {'per proc/s':>11} {'lost':>5} {'sums':>5}"
    )
    backends = []
    for backend in args.backends:
        why = reachable(backend)
        if why is None:
            backends.append(backend)
        else:
            print(f"{backend} skipped: {why}")
    print(f"\n{header}\n{'-' * len(header)}")
    rows: list[Row] = []
    for backend in backends:
        for batch in (0, args.batch):
            for processes in args.processes:
                row = run(backend, batch, processes, args.seconds)
                rows.append(row)
                print(
                    f"{row.backend:<9} {row.batching:<10} {row.processes:>5} "
                    f"{row.outcomes:>9} {row.seconds:>8.2f} {row.rate:>11,.0f} "
                    f"{row.rate / row.processes:>11,.0f} {row.lost:>5} "
                    f"{'ok' if row.sums_ok else 'BAD':>5}",
                    flush=True,
                )

    print("\nchecks")
    lost = sum(row.lost for row in rows)
    sums = all(row.sums_ok for row in rows)
    verdict = "PASS" if not lost and sums else "FAIL"
    print(f"  no outcome lost, posteriors == outcome table  {verdict}")
    batched_pg = [r.rate for r in rows if r.backend == "postgres" and r.batching != "record"]
    if batched_pg:
        best = max(batched_pg)
        verdict = "PASS" if best >= 5_000 else "FAIL"
        print(f"  PostgreSQL, batched, >= 5,000 outcomes/s      {best:,.0f}/s {verdict}")
    else:
        print("  PostgreSQL, batched, >= 5,000 outcomes/s      not measured")
    return 0 if not lost and sums else 1


if __name__ == "__main__":
    sys.exit(main())
