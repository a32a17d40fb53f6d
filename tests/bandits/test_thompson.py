from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bandits import (
    BetaPosterior,
    ConfigError,
    rank_by_draws,
    rank_paths,
    thompson_draws,
    thompson_ranking,
)
from tests.strategies import beta_parameters, path_names

parameter_lists = st.integers(min_value=1, max_value=12).flatmap(
    lambda k: st.tuples(
        st.lists(beta_parameters, min_size=k, max_size=k),
        st.lists(beta_parameters, min_size=k, max_size=k),
    )
)


@given(parameter_lists, st.integers(min_value=0, max_value=2**32))
def test_ranking_is_a_permutation_of_the_eligible_paths(
    params: tuple[list[float], list[float]], seed: int
) -> None:
    alpha, beta = params
    ranking = thompson_ranking(alpha, beta, np.random.default_rng(seed))
    assert sorted(ranking) == list(range(len(alpha)))


@given(parameter_lists, st.integers(min_value=0, max_value=2**32))
def test_same_seed_gives_same_choices(params: tuple[list[float], list[float]], seed: int) -> None:
    alpha, beta = params
    rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
    runs_a = [thompson_ranking(alpha, beta, rng_a) for _ in range(5)]
    runs_b = [thompson_ranking(alpha, beta, rng_b) for _ in range(5)]
    assert runs_a == runs_b


@given(
    st.dictionaries(
        path_names, st.tuples(beta_parameters, beta_parameters), min_size=1, max_size=8
    ),
    st.integers(min_value=0, max_value=1000),
)
def test_rank_paths_returns_every_candidate_once(
    params: dict[str, tuple[float, float]], seed: int
) -> None:
    posteriors = {name: BetaPosterior(a, b) for name, (a, b) in params.items()}
    ranking = rank_paths(posteriors, np.random.default_rng(seed))
    assert sorted(ranking) == sorted(posteriors)


def test_ranking_follows_the_draws() -> None:
    alpha, beta = [2.0, 8.0, 5.0], [6.0, 2.0, 5.0]
    draws = thompson_draws(alpha, beta, np.random.default_rng(11))
    ranking = thompson_ranking(alpha, beta, np.random.default_rng(11))
    assert ranking == rank_by_draws(draws)
    assert [draws[i] for i in ranking] == sorted(draws, reverse=True)


def test_clearly_better_path_is_chosen_almost_always() -> None:
    rng = np.random.default_rng(5)
    firsts = [thompson_ranking([900, 100], [100, 900], rng)[0] for _ in range(500)]
    assert firsts.count(0) == 500


def test_zero_paths_or_mismatched_lengths_are_refused() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="zero paths"):
        thompson_ranking([], [], rng)
    with pytest.raises(ConfigError, match="differ in length"):
        thompson_draws([1, 2], [1], rng)
