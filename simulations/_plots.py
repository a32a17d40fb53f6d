"""PNG plots of an experiment: where the router sends traffic, and regret per policy."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulations._experiment import Experiment
from simulations._policies import ORACLE

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes


def plot_traffic(experiment: Experiment, target: Path, policy: str = "router") -> Path:
    """Rolling traffic share per path and rolling success, seed 0, change points marked."""
    import numpy as np

    plt = _pyplot()
    scenario = experiment.scenario
    run = experiment.policies[policy].runs[0]
    window = max(50, scenario.requests // 100)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    firsts = np.array([f or "" for f in run.firsts])
    for spec in scenario.paths:
        share = _rolling(firsts == spec.name, window)
        top.plot(np.arange(len(share)) + window, share, label=spec.name, linewidth=1.6)
    top.set_ylabel(f"share of the last {window} requests")
    top.set_ylim(-0.02, 1.02)
    top.set_title(
        f"{scenario.name}: which path the router tries first (seed 0)\n"
        + textwrap.fill(f"{scenario.description}; dashed lines: the best path changes", 110),
        fontsize=11,
    )
    top.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), title="path")
    for name, style in ((policy, "-"), (ORACLE, "--"), ("static-chain", ":")):
        if name in experiment.policies:
            successes = np.array(experiment.policies[name].runs[0].successes)
            rolled = _rolling(successes, window)
            bottom.plot(np.arange(len(rolled)) + window, rolled, style, label=name, linewidth=1.4)
    bottom.set_ylabel(f"success rate (last {window})")
    bottom.set_xlabel("request")
    bottom.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), title="policy")
    for axes in (top, bottom):
        _mark_changes(axes, experiment.change_points)
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def plot_regret(experiment: Experiment, target: Path) -> Path:
    """Mean cumulative regret per policy over seeds, with a one-standard-deviation band."""
    import numpy as np

    plt = _pyplot()
    fig, axes = plt.subplots(figsize=(10, 5.5))
    requests = experiment.scenario.requests
    ranked = sorted(
        (p for p in experiment.policies.values() if p.policy != ORACLE),
        key=lambda p: -np.mean([r.regret_curve[-1] for r in p.runs]),
    )
    for summary in ranked:
        curves = np.array([r.regret_curve for r in summary.runs])
        mean, std = curves.mean(axis=0), curves.std(axis=0)
        x = np.linspace(requests / len(mean), requests, len(mean))
        width = 2.6 if summary.policy == "router" else 1.3
        (line,) = axes.plot(x, mean, label=summary.policy, linewidth=width)
        axes.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    _mark_changes(axes, experiment.change_points)
    axes.set_title(
        f"{experiment.scenario.name}: cumulative regret against the oracle "
        f"(mean of {experiment.seeds} seeds, band = 1 sd)",
        fontsize=11,
    )
    axes.set_xlabel("request")
    axes.set_ylabel("expected successes lost")
    axes.legend(loc="upper left", title="policy (worst first)")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def _rolling(values: np.ndarray, window: int) -> np.ndarray:
    import numpy as np

    kernel = np.ones(window) / window
    rolled: np.ndarray = np.convolve(values.astype(float), kernel, mode="valid")
    return rolled


def _mark_changes(axes: Axes, change_points: list[int]) -> None:
    """Dashed grey lines where the true best path changes."""
    for change in change_points:
        axes.axvline(change, color="grey", linestyle="--", linewidth=0.9)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        from bandits import ConfigError

        raise ConfigError(
            "plots need matplotlib: pip install 'outcome-router[plot]' (or pass --no-plots)"
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
