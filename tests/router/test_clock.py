from __future__ import annotations

import pytest

from router import ConfigError, FakeClock


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(start=10.0)
    assert clock() == clock() == 10.0
    clock.advance(1.5)
    clock.sleep(0.5)
    assert clock() == 12.0


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_fake_clock_refuses_bad_steps(bad: float) -> None:
    with pytest.raises(ConfigError):
        FakeClock().advance(bad)
