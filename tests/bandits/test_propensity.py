from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandits import ConfigError, first_place_probabilities, thompson_ranking
from tests.strategies import beta_parameters

parameter_lists = st.integers(min_value=1, max_value=8).flatmap(
    lambda k: st.tuples(
        st.lists(beta_parameters, min_size=k, max_size=k),
        st.lists(beta_parameters, min_size=k, max_size=k),
    )
)


@settings(max_examples=60, deadline=None)
@given(parameter_lists)
def test_propensities_sum_to_one_and_lie_in_unit_interval(
    params: tuple[list[float], list[float]],
) -> None:
    p = first_place_probabilities(*params)
    assert p.sum() == pytest.approx(1.0)
    assert np.all((p >= 0.0) & (p <= 1.0))


@pytest.mark.parametrize(
    ("alpha", "beta"),
    [
        ([1, 1], [1, 1]),
        ([2, 300, 5], [3, 200, 1]),
        ([1, 10, 100, 1000, 3], [1, 10, 100, 1000, 2]),  # vague next to sharp
        ([5000, 4990], [5000, 5010]),  # two sharp, nearly equal
        ([0.5, 0.5, 40, 3], [0.5, 2, 60, 3]),
    ],
)
def test_propensities_match_empirical_first_place_frequencies(
    alpha: list[float], beta: list[float]
) -> None:
    rng = np.random.default_rng(2024)
    draws = 60_000
    firsts = (
        np.bincount(
            [thompson_ranking(alpha, beta, rng)[0] for _ in range(draws)], minlength=len(alpha)
        )
        / draws
    )
    # 60k draws: the standard error of a frequency is at most 0.002.
    assert first_place_probabilities(alpha, beta) == pytest.approx(firsts, abs=0.01)
    assert first_place_probabilities(alpha, beta, exact=True) == pytest.approx(firsts, abs=0.01)


def test_identical_posteriors_share_first_place_equally() -> None:
    p = first_place_probabilities([3.0] * 5, [7.0] * 5)
    assert p == pytest.approx([0.2] * 5, abs=1e-9)


def test_single_path_is_always_first() -> None:
    assert first_place_probabilities([4.0], [2.0]).tolist() == [1.0]


@pytest.mark.parametrize(
    ("alpha", "beta", "message"),
    [([], [], "non-empty"), ([1, 2], [1], "equal-length"), ([0, 1], [1, 1], "> 0")],
)
def test_bad_parameters_are_refused(alpha: list[float], beta: list[float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        first_place_probabilities(alpha, beta)
