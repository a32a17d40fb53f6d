"""Off-policy evaluation on simulator traffic: estimates land on the target's true rate.

The logging policy is epsilon-greedy (epsilon 0.5, exact propensities) replayed through
the real Router; the reward is each request's first-attempt score. The truth is the
simulator's expected first-attempt score of the target policy, averaged over the run.
IPS is left out of the 2-point check: at 20,000 requests its standard error for a
rarely chosen single path is about 1.8 points (tests/bandits/test_ope.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from bandits import evaluate_policy
from bandits._ope import Method
from simulations import Environment, load_scenario, replay
from storage import MemoryStore, outcomes_frame

REQUESTS = 20_000
LOGGING = "epsilon-greedy(epsilon=0.5)"


@dataclass(frozen=True)
class Logged:
    env: Environment
    actions: np.ndarray
    propensities: np.ndarray
    rewards: np.ndarray


def first_attempts(scenario_name: str, policy: str) -> tuple[Environment, MemoryStore]:
    scenario = load_scenario(scenario_name).with_options(requests=REQUESTS)
    store = MemoryStore(max_outcomes=4 * REQUESTS)
    for _ in replay(scenario, policy, seed=0, store=store, task="ope"):
        pass
    return Environment(scenario, seed=0), store


@pytest.fixture(scope="module", params=["stationary", "outage"])
def logged(request: pytest.FixtureRequest) -> Logged:
    env, store = first_attempts(request.param, LOGGING)
    frame = outcomes_frame(store, "ope")
    firsts = frame[frame["attempt"] == 1]
    assert len(firsts) == REQUESTS and firsts["score"].notna().all()
    actions = firsts["path"].astype(str).map(env.names.index).to_numpy()
    return Logged(
        env,
        actions,
        firsts["propensity"].to_numpy(float),
        firsts["score"].to_numpy(float),
    )


def targets(env: Environment) -> dict[str, np.ndarray]:
    k = len(env.names)
    return {
        "static-chain": np.eye(k)[0],  # the chain always tries its first path first
        "single-path": np.eye(k)[env.names.index("gpt-4o-mini")],
        "uniform": np.full(k, 1.0 / k),
    }


def true_rate(env: Environment, target: np.ndarray) -> float:
    expected = np.array([env.expected[name] for name in env.names])
    return float((target @ expected).mean())


@pytest.mark.parametrize("target_name", ["static-chain", "single-path", "uniform"])
@pytest.mark.parametrize("method", ["snips", "dr"])
def test_estimate_is_within_two_points_of_the_true_rate(
    logged: Logged, target_name: str, method: Method
) -> None:
    target = targets(logged.env)[target_name]
    truth = true_rate(logged.env, target)
    est = evaluate_policy(
        logged.actions,
        logged.propensities,
        logged.rewards,
        np.tile(target, (logged.actions.size, 1)),
        method=method,
        n_bootstrap=300,
    )
    assert abs(est.value - truth) < 0.02, (est, truth)
    assert est.ci_low <= truth <= est.ci_high
    assert est.effective_sample_size > 0.05 * REQUESTS


def test_the_static_chain_replayed_scores_what_was_estimated(logged: Logged) -> None:
    """The estimate also matches the static chain's realised first-attempt success."""
    env, store = first_attempts(logged.env.scenario.name, "static-chain")
    frame = outcomes_frame(store, "ope")
    firsts = frame[frame["attempt"] == 1]
    assert set(firsts["path"].astype(str)) == {env.names[0]}
    realised = float(firsts["score"].mean())
    target = np.tile(targets(env)["static-chain"], (logged.actions.size, 1))
    est = evaluate_policy(
        logged.actions, logged.propensities, logged.rewards, target, n_bootstrap=100
    )
    assert abs(est.value - realised) < 0.02
    assert abs(realised - true_rate(env, targets(env)["static-chain"])) < 0.01
