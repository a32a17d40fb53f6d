"""In-memory per-request overhead at K = 5, here and at a baseline commit, side by side.

``benchmarks/overhead.py`` times one checkout; a change to the hot path is judged by the
ratio to the code before it, measured in the same run on the same machine. This runs
``Router(5 trivial paths, store="memory://").run(1)`` in fresh subprocesses, alternating
between this checkout and the baseline (a ``git worktree`` of the commit) for
``--rounds`` rounds, each timing ``--requests`` requests after a warm-up with the garbage
collector off, and prints each round's p50 and p99, their medians and the ratio.

Run from the repository root:
    python benchmarks/overhead_vs.py --baseline bb98d82
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.10  # at most 10% above the baseline

MEASURE = """
import gc, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from router import Path, Router
router = Router([Path(lambda x: x, name=f"p{i}") for i in range(5)],
                success_fn=lambda out: True, task="bench", store="memory://", seed=0)
for _ in range(int(sys.argv[3])):
    router.run(1)
n = int(sys.argv[2])
samples = np.empty(n, dtype=np.int64)
clock = time.perf_counter_ns
gc.collect(); gc.disable()
for i in range(n):
    t0 = clock(); router.run(1); samples[i] = clock() - t0
gc.enable()
print(np.percentile(samples, 50) / 1000.0, np.percentile(samples, 99) / 1000.0)
"""


def measure(checkout: Path, requests: int, warmup: int) -> tuple[float, float]:
    """(p50, p99) in microseconds of one subprocess run against ``checkout``."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(checkout), str(requests), str(warmup)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    p50, p99 = done.stdout.split()
    return float(p50), float(p99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="commit to compare with")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            runs: dict[str, list[tuple[float, float]]] = {"this checkout": [], args.baseline: []}
            print(f"K=5, memory://, {args.requests:,} requests per run, p50 / p99 in us")
            for round_ in range(args.rounds):
                for name, checkout in ((args.baseline, base), ("this checkout", ROOT)):
                    runs[name].append(measure(checkout, args.requests, args.warmup))
                line = "  ".join(f"{n}: {r[-1][0]:.2f} / {r[-1][1]:.2f}" for n, r in runs.items())
                print(f"round {round_ + 1}: {line}")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                check=False,
                capture_output=True,
            )
    ours = statistics.median(p for p, _ in runs["this checkout"])
    theirs = statistics.median(p for p, _ in runs[args.baseline])
    ratio = ours / theirs
    print(f"\nmedian p50: this checkout {ours:.2f} us, {args.baseline} {theirs:.2f} us")
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"ratio {ratio:.3f} (target <= {TARGET:.2f})  {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
