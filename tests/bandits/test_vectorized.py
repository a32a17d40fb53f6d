from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
import pytest

from bandits import ConfigError
from bandits._vectorized import (
    RegretCurve,
    lai_robbins_bound,
    log_checkpoints,
    simulate_thompson,
    simulate_ucb1,
)

Simulate = Callable[..., RegretCurve]
POLICIES = [simulate_thompson, simulate_ucb1]
policies = pytest.mark.parametrize("simulate", POLICIES, ids=["thompson", "ucb1"])


def chapelle_li(eps: float) -> list[float]:
    return [0.5] + [0.5 - eps] * 9


def kl(p: float, q: float) -> float:
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


@policies
def test_curve_has_one_entry_per_requested_checkpoint(simulate: Simulate) -> None:
    curve = simulate([0.6, 0.5, 0.4], 300, 7, np.random.default_rng(0), checkpoints=[3, 30, 300])
    assert curve.checkpoints == (3, 30, 300)
    assert len(curve.regret) == len(curve.stderr) == 3
    assert curve.runs == 7


@policies
def test_default_checkpoints_are_log_spaced_from_1_to_the_horizon(simulate: Simulate) -> None:
    curve = simulate([0.6, 0.5], 2000, 3, np.random.default_rng(0))
    assert curve.checkpoints == log_checkpoints(2000)
    assert curve.checkpoints[0] == 1 and curve.checkpoints[-1] == 2000


@policies
def test_cumulative_regret_is_monotone_and_bounded_by_the_worst_arm(simulate: Simulate) -> None:
    means = [0.9, 0.5, 0.2]
    curve = simulate(means, 2000, 10, np.random.default_rng(1))
    assert all(b >= a for a, b in pairwise(curve.regret))
    assert all(
        0.0 <= r <= 0.7 * t + 1e-9 for t, r in zip(curve.checkpoints, curve.regret, strict=True)
    )
    assert all(se >= 0.0 for se in curve.stderr)


@policies
def test_same_seed_reproduces_and_another_seed_differs(simulate: Simulate) -> None:
    def run(seed: int) -> RegretCurve:
        return simulate(chapelle_li(0.1), 1000, 8, np.random.default_rng(seed))

    assert run(5) == run(5)
    assert run(5).regret != run(6).regret


@policies
def test_a_single_run_has_no_standard_error(simulate: Simulate) -> None:
    curve = simulate([0.6, 0.4], 50, 1, np.random.default_rng(0))
    assert all(math.isnan(se) for se in curve.stderr)


@policies
def test_no_regret_when_every_arm_is_best(simulate: Simulate) -> None:
    curve = simulate([0.3, 0.3, 0.3], 500, 4, np.random.default_rng(0))
    assert set(curve.regret) == {0.0}


def test_ucb1_plays_every_arm_once_first() -> None:
    means = [0.5, 0.4, 0.3, 0.2]
    curve = simulate_ucb1(means, 100, 6, np.random.default_rng(3), checkpoints=[4, 100])
    assert curve.regret[0] == pytest.approx(0.1 + 0.2 + 0.3)
    assert curve.stderr[0] == pytest.approx(0.0)


def test_thompson_first_choice_is_uniform_under_the_flat_prior() -> None:
    # Beta(1, 1) draws are exchangeable, so step 1 picks each arm with probability 1/K.
    means = [0.9, 0.5, 0.1]
    curve = simulate_thompson(means, 1, 4000, np.random.default_rng(4))
    expected = (0.0 + 0.4 + 0.8) / 3
    assert abs(curve.regret[0] - expected) < 4 * curve.stderr[0]


def test_thompson_beats_ucb1_on_an_easy_two_arm_problem() -> None:
    means = [0.7, 0.3]
    ts = simulate_thompson(means, 2000, 50, np.random.default_rng(11))
    ucb = simulate_ucb1(means, 2000, 50, np.random.default_rng(11))
    # Over seeds 0..29: TS 4.6-6.9, UCB1 24-27.5 (its sqrt(2 ln t / n) bonus explores more).
    assert ts.regret[-1] < 0.5 * ucb.regret[-1]


def test_thompson_regret_is_of_the_order_of_the_lai_robbins_bound() -> None:
    means, horizon = chapelle_li(0.1), 20_000
    curve = simulate_thompson(means, horizon, 20, np.random.default_rng(2011))
    ratio = curve.regret[-1] / lai_robbins_bound(means, horizon)
    # Over seeds 0..29 (20 runs each) the ratio stayed in [0.39, 0.48]: below the asymptotic
    # line at this horizon (its o(1) term), and far under UCB1's ratio (~2).
    assert 0.25 < ratio < 1.0


def test_lai_robbins_bound_matches_a_hand_computation() -> None:
    expected = 2 * (0.1 / kl(0.4, 0.5)) * math.log(1000)
    assert lai_robbins_bound([0.5, 0.4, 0.4], 1000) == pytest.approx(expected)
    # KL(0.4, 0.5) = 0.4 ln 0.8 + 0.6 ln 1.2 = 0.020136; 9 * 0.1 / KL * ln 1e6 = 617.5
    assert lai_robbins_bound(chapelle_li(0.1), 10**6) == pytest.approx(617.5, abs=0.1)
    # A mean at 0 has a finite divergence: KL(0, q) = -ln(1 - q).
    assert lai_robbins_bound([0.5, 0.0], 100) == pytest.approx(0.5 / -math.log(0.5) * math.log(100))


@pytest.mark.parametrize(
    ("means", "horizon"),
    [([0.4, 0.4], 100), ([1.0, 0.5], 100), ([0.7], 100), ([0.9, 0.1], 1)],
    ids=["all-tied", "perfect-best-arm", "one-arm", "t=1"],
)
def test_lai_robbins_bound_is_zero_where_nothing_can_be_lost(
    means: list[float], horizon: int
) -> None:
    assert lai_robbins_bound(means, horizon) == 0.0


def test_log_checkpoints_are_distinct_increasing_and_cover_the_horizon() -> None:
    marks = log_checkpoints(10**6)
    assert marks[0] == 1 and marks[-1] == 10**6
    assert all(b > a for a, b in pairwise(marks))
    assert 80 <= len(marks) <= 100
    assert log_checkpoints(1) == (1,)


def test_regret_curve_yields_plain_rows() -> None:
    curve = RegretCurve(checkpoints=(1, 10), regret=(0.5, 2.0), stderr=(0.1, 0.2), runs=3)
    assert list(curve.rows()) == [
        {"t": 1, "regret": 0.5, "stderr": 0.1},
        {"t": 10, "regret": 2.0, "stderr": 0.2},
    ]
    assert "final regret=2" in repr(curve)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"checkpoints": (), "regret": (), "stderr": (), "runs": 1}, "at least one"),
        ({"checkpoints": (1, 2), "regret": (0.0,), "stderr": (0.0,), "runs": 1}, "one entry"),
        ({"checkpoints": (1,), "regret": (0.0,), "stderr": (0.0,), "runs": 0}, "runs"),
    ],
)
def test_regret_curve_rejects_inconsistent_fields(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RegretCurve(**kwargs)  # type: ignore[arg-type]


GOOD: dict[str, object] = {"means": [0.5, 0.4], "horizon": 100, "runs": 2}


@policies
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"means": []}, "means is empty"),
        ({"means": [0.5, 1.5]}, r"\[0, 1\]"),
        ({"means": [0.5, -0.1]}, r"\[0, 1\]"),
        ({"means": [0.5, math.nan]}, r"\[0, 1\]"),
        ({"means": ["a", "b"]}, "success probabilities"),
        ({"horizon": 0}, "horizon must be >= 1"),
        ({"horizon": 10.5}, "horizon must be a positive integer"),
        ({"horizon": True}, "horizon must be a positive integer"),
        ({"runs": 0}, "runs must be >= 1"),
        ({"rng": 42}, "numpy.random.default_rng"),
        ({"rng": np.random.RandomState(0)}, "numpy.random.Generator"),
        ({"checkpoints": []}, "checkpoints is empty"),
        ({"checkpoints": [10, 5]}, "strictly increasing"),
        ({"checkpoints": [10, 10]}, "strictly increasing"),
        ({"checkpoints": [0, 10]}, "checkpoint must be >= 1"),
        ({"checkpoints": [10, 101]}, "past the horizon"),
    ],
)
def test_bad_inputs_raise_config_error_naming_the_fix(
    simulate: Simulate, change: dict[str, object], message: str
) -> None:
    kwargs = GOOD | {"rng": np.random.default_rng(0)} | change
    with pytest.raises(ConfigError, match=message):
        simulate(**kwargs)


@pytest.mark.parametrize(
    ("means", "horizon"), [([], 10), ([0.5, 2.0], 10), ([0.5, 0.4], 0), ([0.5, 0.4], 2.5)]
)
def test_lai_robbins_bound_rejects_bad_inputs(means: Sequence[float], horizon: int) -> None:
    with pytest.raises(ConfigError):
        lai_robbins_bound(means, horizon)


def test_config_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="runs"):
        simulate_thompson([0.5], 10, -1, np.random.default_rng(0))
