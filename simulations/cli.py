"""The simulator's commands (``outcome-router simulate``), plugged into :mod:`router.cli`
through the ``outcome_router.commands`` entry point (see ``pyproject.toml``).

``main`` is the whole command line, for ``python -m simulations``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bandits import ConfigError
from router.cli import main as router_main
from simulations._random_experiment import BASELINES

__all__ = ["add_simulator_commands", "main"]

# The policies a --random run compares by default (benchmarks/random_envs.py's set).
RANDOM_POLICIES = ("router", *BASELINES)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulations``: the ``outcome-router`` command line, ``simulate``
    included even where the distribution's entry points are not installed.

    Example:
        >>> main(["simulate", "--list"])  # doctest: +ELLIPSIS
        incident ...
        stationary ...
        0
    """
    return router_main(argv, commands=(add_simulator_commands,))


def add_simulator_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``simulate`` with the ``outcome-router`` command line (:mod:`router.cli`)."""
    _add_simulate(
        commands.add_parser(
            "simulate",
            help="replay a degradation scenario through the router and its baselines",
            description="Replay a scenario through the real Router with every policy side by "
            "side; print a table, write PNG plots and a JSON file of results.",
        )
    )


def _add_simulate(parser: argparse.ArgumentParser) -> None:
    from simulations._policies import ALL_POLICIES

    parser.add_argument(
        "scenario", nargs="?", help="a built-in scenario name (see --list) or a .toml/.yaml file"
    )
    parser.add_argument("--list", action="store_true", help="list the built-in scenarios")
    parser.add_argument(
        "--random",
        type=_at_least(1),
        metavar="N",
        help="replay N random environments (simulations.random_scenarios) instead of a "
        "scenario, and print each policy's %% of the oracle per kind of change",
    )
    parser.add_argument(
        "--seed",
        type=_at_least(0),
        default=10_000,
        help="first seed of the random environments (default 10000: the published range; "
        "policies were tuned on seeds below 1000)",
    )
    parser.add_argument(
        "--requests",
        type=_at_least(10),
        help="requests per run (default: the scenario's, 20,000 for the built-ins)",
    )
    parser.add_argument("--seeds", type=_at_least(1), default=5, help="seeds per policy (5)")
    parser.add_argument(
        "--rate", type=float, help="requests per simulated second (default: the scenario's)"
    )
    parser.add_argument(
        "--policies",
        nargs="+",
        default=None,
        metavar="POLICY",
        help=f"policies to compare: {', '.join(ALL_POLICIES)} (default: all of them; "
        f"with --random: {', '.join(RANDOM_POLICIES)})",
    )
    parser.add_argument(
        "--store",
        default="memory://",
        help="store URL or SQLite file for the router's first replay (seed 0; other "
        "replays and the baselines stay in memory); default memory://",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("simulation-output"),
        help="directory for the PNG plots and the JSON results",
    )
    parser.add_argument(
        "--jobs",
        type=_at_least(1),
        default=os.cpu_count() or 1,
        help="replays run in parallel (default: one per CPU)",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from simulations._policies import ALL_POLICIES
    from simulations._scenario import BUILTIN, load_scenario

    if args.random is not None:
        if args.scenario is not None:
            raise ConfigError(
                f"give a scenario or --random N, not both (got {args.scenario!r} and --random)"
            )
        return _simulate_random(args)
    if args.policies is None:
        args.policies = list(ALL_POLICIES)
    if args.list or args.scenario is None:
        for name in BUILTIN:
            print(f"{name:<20}{load_scenario(name).description}")
        return 0
    from simulations._experiment import run_experiment
    from simulations._policies import check_policies
    from simulations._table import format_table, verdict

    scenario = load_scenario(args.scenario).with_options(requests=args.requests, rate=args.rate)
    check_policies(args.policies)  # before the header: a typo fails at once
    _make_out_dir(args.out)  # before the replays: their results must have a place to go
    runs = args.seeds * (len(set(args.policies) | {"oracle"}))
    print(
        f"{scenario.name}: {scenario.description}\n{scenario.requests:,} requests at "
        f"{scenario.rate:g}/s simulated, {args.seeds} seeds, {runs} replays",
        file=sys.stderr,
    )
    started = time.perf_counter()
    with _ProgressBar(runs) as progress:
        experiment = run_experiment(
            scenario,
            args.policies,
            seeds=args.seeds,
            jobs=args.jobs,
            progress=progress,
            store_for={"router": args.store},
            run_id=time.strftime("%Y%m%dT%H%M%S"),
        )
    elapsed = time.perf_counter() - started
    total = scenario.requests * runs
    print(f"{total:,} simulated requests in {elapsed:.1f} s", file=sys.stderr)
    print(format_table(experiment))
    line = verdict(experiment)
    if line:
        print(f"\n{line}")
    results = args.out / f"{scenario.name}.json"
    results.write_text(json.dumps(_json_safe(experiment.as_dict()), indent=2, allow_nan=False))
    print(f"\nresults: {results}")
    if not args.no_plots:
        from simulations._plots import plot_regret, plot_traffic

        if "router" in experiment.policies:
            print(f"traffic: {plot_traffic(experiment, args.out / f'{scenario.name}-traffic.png')}")
        print(f"regret:  {plot_regret(experiment, args.out / f'{scenario.name}-regret.png')}")
    if args.store != "memory://" and "router" in experiment.policies:
        print(
            f"store:   the router's outcomes are in {args.store} "
            f"(task simulate/{scenario.name}/router/seed-0/...)"
        )
    print(f"wall time: {time.perf_counter() - started:.1f} s ({total:,} simulated requests)")
    return 0


def _simulate_random(args: argparse.Namespace) -> int:
    from simulations._policies import check_policies
    from simulations._random import REQUESTS
    from simulations._random_experiment import format_random_table, run_random

    policies = args.policies or list(RANDOM_POLICIES)
    check_policies(policies)
    _make_out_dir(args.out)
    requests = args.requests or REQUESTS
    last = args.seed + args.random - 1
    print(
        f"{args.random} random environments (seeds {args.seed}-{last}), "
        f"{requests:,} requests each, {len(set(policies) | {'oracle'})} policies",
        file=sys.stderr,
    )
    started = time.perf_counter()
    with _ProgressBar() as progress:
        results = run_random(
            args.random, args.seed, policies, requests=requests, jobs=args.jobs, progress=progress
        )
    elapsed = time.perf_counter() - started
    print(
        f"{len(results.runs) * requests:,} simulated requests in {elapsed:.1f} s", file=sys.stderr
    )
    print("cells: mean / 5th percentile of each policy's success, % of the oracle's")
    print(format_random_table(results))
    out = args.out / f"random-{args.seed}-{last}.json"
    out.write_text(json.dumps(_json_safe(results.as_dict()), indent=1, allow_nan=False))
    print(f"\nresults: {out}")
    return 0


def _make_out_dir(out: Path) -> None:
    """Create the ``--out`` directory; one that cannot be made is a ConfigError."""
    if out.exists() and not out.is_dir():
        raise ConfigError(
            f"--out {out} is a file; give a directory for the plots and the JSON results"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the --out directory {out} ({exc.strerror or exc}); "
            "choose another directory"
        ) from exc


class _ProgressBar:
    """The replays' progress on stderr, drawn by tqdm only when stderr is a terminal (a
    log file gets no ``\\r`` frames)."""

    def __init__(self, total: int | None = None) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit="replay", file=sys.stderr, disable=None, leave=False)

    def __call__(self, done: int, total: int, label: str) -> None:
        if self._bar.total != total:  # a caller that knows its total only when it starts
            self._bar.total = total
        self._bar.set_postfix_str(label, refresh=False)
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bar.close()


def _at_least(low: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _json_safe(value: object) -> object:
    """``value`` with every NaN or infinite float as None: standard JSON has neither.

    Example:
        >>> _json_safe({"mean": float("nan"), "runs": [1.0, float("inf")]})
        {'mean': None, 'runs': [1.0, None]}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
