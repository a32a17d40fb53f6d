from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandits import BetaPosterior, ConfigError, InvalidScoreError, check_score
from tests.strategies import bad_scores, scores


@given(st.lists(scores, max_size=200))
def test_posterior_sums_equal_score_sums(observed: list[float]) -> None:
    posterior = BetaPosterior()
    for s in observed:
        posterior = posterior.update(s)
    total = sum(float(s) for s in observed)
    assert posterior.alpha == pytest.approx(1.0 + total)
    assert posterior.beta == pytest.approx(1.0 + len(observed) - total)


@given(st.lists(scores, max_size=50), scores)
def test_revert_undoes_update(observed: list[float], extra: float) -> None:
    posterior = BetaPosterior()
    for s in observed:
        posterior = posterior.update(s)
    back = posterior.update(extra).revert(extra)
    assert back.alpha == pytest.approx(posterior.alpha)
    assert back.beta == pytest.approx(posterior.beta)


def test_fractional_score_splits_between_alpha_and_beta() -> None:
    assert BetaPosterior(1, 1).update(0.25) == BetaPosterior(1.25, 1.75)


@given(bad_scores)
def test_check_score_rejects_non_scores(bad: object) -> None:
    with pytest.raises(InvalidScoreError, match="bool or a finite number in"):
        check_score(bad)


@pytest.mark.parametrize(
    ("given_score", "expected"),
    [
        (True, 1.0),
        (False, 0.0),
        (1, 1.0),
        (0, 0.0),
        (0.5, 0.5),
        (np.float32(0.25), 0.25),
        (np.bool_(True), 1.0),
        (np.int64(1), 1.0),
    ],
)
def test_check_score_accepts_bools_and_unit_numbers(given_score: object, expected: float) -> None:
    assert check_score(given_score) == expected


@pytest.mark.parametrize("bad", [2, float("nan"), None, "yes", -0.01, float("inf"), 1.0000001])
def test_check_score_names_the_bad_value(bad: object) -> None:
    with pytest.raises(InvalidScoreError) as info:
        check_score(bad)
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize(("alpha", "beta"), [(0, 1), (1, -1), (math.nan, 1), (1, math.inf)])
def test_invalid_parameters_are_refused(alpha: float, beta: float) -> None:
    with pytest.raises(ConfigError, match="finite number > 0"):
        BetaPosterior(alpha, beta)


def test_mean_and_variance_match_scipy() -> None:
    from scipy import stats

    p = BetaPosterior(3.5, 7.25)
    assert p.mean == pytest.approx(stats.beta(3.5, 7.25).mean())
    assert p.variance == pytest.approx(stats.beta(3.5, 7.25).var())


def test_credible_interval_matches_scipy_quantiles() -> None:
    from scipy import stats

    low, high = BetaPosterior(12, 30).credible_interval(0.9)
    assert low == pytest.approx(stats.beta(12, 30).ppf(0.05))
    assert high == pytest.approx(stats.beta(12, 30).ppf(0.95))
    with pytest.raises(ConfigError):
        BetaPosterior().credible_interval(1.0)


def test_sample_is_reproducible_with_a_seed() -> None:
    p = BetaPosterior(2, 5)
    first = [p.sample(np.random.default_rng(3)) for _ in range(3)]
    assert first == [p.sample(np.random.default_rng(3)) for _ in range(3)]
    assert all(0.0 < x < 1.0 for x in first)
