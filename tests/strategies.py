"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

from hypothesis import strategies as st

scores = st.one_of(
    st.booleans(),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    st.sampled_from([0, 1]),
)
"""Anything success_fn may legally return."""

bad_scores = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.floats(allow_nan=True).filter(lambda x: not 0.0 <= x <= 1.0),
    st.integers().filter(lambda x: x not in (0, 1)),
    st.lists(st.integers(), max_size=2),
)
"""Things that are not a score."""

beta_parameters = st.floats(min_value=0.05, max_value=5_000.0, allow_nan=False)

path_names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20
)
