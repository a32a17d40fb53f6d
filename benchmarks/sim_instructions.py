"""Instructions per simulated request (callgrind), here and at a baseline commit, side by side.

Wall-clock figures on a shared 2-core machine move by 20% from run to run; counted
instructions move by under 1%, so this is how a change to the hot path is judged.
Needs valgrind. Each side is measured as the difference between a replay of 3,000
and one of 500 requests (imports and set-up cancel out), with a fixed hash seed.

Run from the repository root:
    python benchmarks/sim_instructions.py                      # this checkout only
    python benchmarks/sim_instructions.py --baseline 1dd4748   # and a commit, side by side
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL, LARGE = 500, 3_000
REPLAY = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from simulations import load_scenario, replay; "
    "s = load_scenario('stationary').with_options(requests=int(sys.argv[2])); "
    "sum(1 for _ in replay(s, 'router', seed=1))"
)


def instructions(checkout: Path, requests: int) -> int:
    """Instructions callgrind counts for one replay of ``requests`` requests."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            REPLAY,
            str(checkout),
            str(requests),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_request(checkout: Path) -> float:
    """Instructions per simulated request (two replays in parallel)."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        small, large = pool.map(lambda n: instructions(checkout, n), (SMALL, LARGE))
    return (large - small) / (LARGE - SMALL)


def main(argv: list[str] | None = None) -> int:
    """Print instructions per request for this checkout and, if asked, a baseline commit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a commit to measure side by side")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind")
        return 1
    rows = [("this checkout", per_request(ROOT))]
    if args.baseline:
        with tempfile.TemporaryDirectory() as scratch:
            tree = Path(scratch) / "baseline"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.baseline],
                capture_output=True,
                check=True,
            )
            try:
                rows.append((f"baseline {args.baseline}", per_request(tree)))
            finally:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    capture_output=True,
                    check=False,
                )
    print(f"{'code':<30}{'instructions/request':>22}{'vs baseline':>13}")
    for label, count in rows:
        ratio = f"{count / rows[-1][1]:.3f}x" if len(rows) > 1 else ""
        print(f"{label:<30}{count:>22,.0f}{ratio:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
