"""In-memory per-request overhead of a 3-key context at K = 5, beside the context-free
router, in the same run (issue 19: at most 2x).

Runs ``Router(5 trivial paths, store="memory://")`` in fresh subprocesses, alternating
between requests without context and with ``{"lang": one of 3, "tier": one of 2,
"length": an int}`` (6 segments) for ``--rounds`` rounds, each timing ``--requests``
requests after a warm-up with the garbage collector off, and prints each round's p50
and p99, their medians and the ratio. MABWiser's LinTS, timed the same way (fit on one
row, then predict, per request) when the ``bench`` extra is installed.

Run from the repository root:
    python benchmarks/context_overhead.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 2.0  # a context may at most double the per-request overhead

MEASURE = """
import gc, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
from router import Path, Router
with_context = sys.argv[4] == "context"
router = Router([Path(lambda x: x, name=f"p{i}") for i in range(5)],
                success_fn=lambda out: True, task="bench", store="memory://", seed=0)
langs, tiers = ("de", "en", "fr"), ("free", "pro")
contexts = [{"lang": langs[i % 3], "tier": tiers[i % 2], "length": i % 2000}
            for i in range(6000)]
def one(i):
    router.run(1, context=contexts[i % 6000] if with_context else None)
for i in range(int(sys.argv[3])):
    one(i)
n = int(sys.argv[2])
samples = np.empty(n, dtype=np.int64)
clock = time.perf_counter_ns
gc.collect(); gc.disable()
for i in range(n):
    t0 = clock(); one(i); samples[i] = clock() - t0
gc.enable()
print(np.percentile(samples, 50) / 1000.0, np.percentile(samples, 99) / 1000.0)
"""

LINTS = """
import gc, sys, time
import numpy as np
from mabwiser.mab import MAB, LearningPolicy
rng = np.random.default_rng(0)
arms = [f"p{i}" for i in range(5)]
features = rng.random((1000, 3))
mab = MAB(arms, LearningPolicy.LinTS(), seed=0)
mab.fit(rng.choice(arms, 1000), rng.integers(0, 2, 1000), features)
def one(i):
    row = features[i % 1000 : i % 1000 + 1]
    arm = mab.predict(row)
    mab.partial_fit([arm], [1], row)
for i in range(int(sys.argv[2])):
    one(i)
n = int(sys.argv[1])
samples = np.empty(n, dtype=np.int64)
clock = time.perf_counter_ns
gc.collect(); gc.disable()
for i in range(n):
    t0 = clock(); one(i); samples[i] = clock() - t0
gc.enable()
print(np.percentile(samples, 50) / 1000.0, np.percentile(samples, 99) / 1000.0)
"""


def measure(code: str, *args: str) -> tuple[float, float]:
    """(p50, p99) in microseconds of one subprocess run."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    p50, p99 = done.stdout.split()
    return float(p50), float(p99)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=2_000)
    args = parser.parse_args(argv)
    try:
        import mabwiser  # noqa: F401
    except ImportError:
        lints = False
        print("MABWiser not installed (pip install -e '.[bench]'): LinTS left out")
    else:
        lints = True
    runs: dict[str, list[tuple[float, float]]] = {"no context": [], "3-key context": []}
    if lints:
        runs["MABWiser LinTS"] = []
    print(f"K=5, memory://, {args.requests:,} requests per run, p50 / p99 in us")
    for round_ in range(args.rounds):
        for name, kind in (("no context", "none"), ("3-key context", "context")):
            runs[name].append(
                measure(MEASURE, str(ROOT), str(args.requests), str(args.warmup), kind)
            )
        if lints:
            runs["MABWiser LinTS"].append(
                measure(LINTS, str(min(args.requests, 2_000)), str(min(args.warmup, 200)))
            )
        line = "  ".join(f"{n}: {r[-1][0]:.2f} / {r[-1][1]:.2f}" for n, r in runs.items())
        print(f"round {round_ + 1}: {line}")
    medians = {name: statistics.median(p for p, _ in r) for name, r in runs.items()}
    ratio = medians["3-key context"] / medians["no context"]
    print("\nmedian p50: " + ", ".join(f"{n} {m:.2f} us" for n, m in medians.items()))
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"context / no context: {ratio:.2f}x (target <= {TARGET:.1f}x)  {verdict}")
    if lints:
        below = medians["3-key context"] < medians["MABWiser LinTS"]
        print(f"below MABWiser LinTS: {'PASS' if below else 'FAIL'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
