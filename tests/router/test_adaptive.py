"""The default policy through the Router: outages, recoveries, drift, shared stores."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from bandits._availability import Availability
from router import AdaptiveThompson, AllPathsFailed, Path, Router


class Switchable:
    """A path whose health the test flips: raising, or answering with a set quality."""

    def __init__(self, name: str, quality: float, seed: int) -> None:
        import numpy as np

        self.name, self.quality, self.down = name, quality, False
        self._rng = np.random.default_rng(seed)

    def __call__(self, request: Any) -> bool:
        if self.down:
            raise ConnectionError(f"{self.name}: 503")
        return bool(self._rng.random() < self.quality)


def make_router(store: str = "memory://", seed: int = 0) -> tuple[Router, Switchable, Switchable]:
    best, backup = Switchable("best", 0.95, seed), Switchable("backup", 0.85, seed + 1)
    router = Router(
        [Path(best, name="best"), Path(backup, name="backup")],
        success_fn=lambda ok: ok,
        task="t",
        store=store,
        seed=seed,
    )
    return router, best, backup


def firsts(router: Router, count: int) -> list[str]:
    return [router.route(i).attempts[0].path for i in range(count)]


def test_an_outage_moves_traffic_in_a_few_requests_and_it_comes_back() -> None:
    router, best, _ = make_router()
    assert firsts(router, 400)[-100:].count("best") >= 85
    best.down = True
    during = firsts(router, 300)
    assert during[:20].count("best") <= 6
    assert during[-100:].count("best") <= 8  # only probes
    assert isinstance(router.policy, AdaptiveThompson)
    assert router.policy.down_paths() == ["best"]
    best.down = False
    after = firsts(router, 200)
    assert after[-100:].count("best") >= 85
    assert router.policy.down_paths() == []


def test_errors_never_count_against_quality() -> None:
    router, best, _ = make_router()
    firsts(router, 300)
    best.down = True
    firsts(router, 300)
    row = router.store.posteriors("t")["best"]
    assert row.errors > 0
    assert row.quality_failures < 0.2 * (row.recent_n - row.recent_errors)


def test_a_silent_quality_drop_resets_the_path() -> None:
    router, best, _ = make_router(seed=4)
    firsts(router, 500)
    best.quality = 0.5
    after = firsts(router, 400)
    assert router.store.posteriors("t")["best"].resets >= 1
    assert after[-100:].count("backup") >= 80


def test_routers_sharing_a_store_share_quality_changes(tmp_path: FsPath) -> None:
    url = str(tmp_path / "shared.db")
    first, best_a, _ = make_router(url, seed=1)
    second, best_b, _ = make_router(url, seed=2)
    for i in range(300):
        (first if i % 2 else second).run(i)
    best_a.quality = best_b.quality = 0.4
    for i in range(400):
        (first if i % 2 else second).run(i)
    assert first.store.posteriors("t")["best"].resets >= 1
    assert firsts(second, 100).count("backup") >= 80
    first.close()
    second.close()


def _hold(path: Availability, tick: int, *, lag: int = 0) -> int:
    """Errors (each seen ``lag`` ticks after it was planned) until the path is held."""
    while not path.held:
        path.observe(False, tick, tick + lag)
        tick += 1
    return tick + lag


def test_availability_is_held_probed_then_released_by_an_answer() -> None:
    path = Availability(answered=300, tick=300, probe_every=8, max_probe_every=32)
    tick = _hold(path, 300)
    assert not path.probe_due(tick)
    tick += 8
    assert path.probe_due(tick)
    path.chosen(tick)
    path.observe(False, tick, tick)  # the probe fails: the next one comes later
    assert path.held and path.probe_every == 16 and not path.probe_due(tick + 15)
    tick += 16
    assert path.probe_due(tick)
    path.chosen(tick)
    path.observe(True, tick, tick + 1)  # a probe answers: the outage is over
    answered, failed = path.faded(tick + 1)
    assert not path.held
    assert failed == 0.0 and 1.0 < answered < 300.0  # its answers before, faded, and this one


def test_an_answer_that_takes_many_ticks_still_ends_a_hold() -> None:
    # At 500 requests per second a one-second call answers 500 ticks after it was
    # planned; a hold must wait for it rather than give up on its probes.
    path = Availability(answered=300, tick=300)
    tick = _hold(path, 300, lag=20)
    path.chosen(tick)
    path.observe(True, tick, tick + 500)
    assert not path.held


def test_stale_answers_from_before_the_outage_are_ignored() -> None:
    path = Availability(answered=300, tick=300)
    tick = _hold(path, 300)
    path.observe(True, 250, tick)  # planned long before it was held
    assert path.held


def test_a_brown_out_is_not_held_but_its_record_shows_the_errors() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    path = Availability(answered=300, tick=300)
    for tick in range(300, 700):
        path.observe(bool(rng.random() < 0.5), tick, tick)
    answered, failed = path.faded(700)
    assert not path.held
    assert 0.35 < answered / (answered + failed) < 0.65


class Flaky:
    """A path that raises on a set share of its calls and otherwise answers with a quality."""

    def __init__(self, quality: float, error_share: float, seed: int) -> None:
        import numpy as np

        self.quality, self.error_share = quality, error_share
        self._rng = np.random.default_rng(seed)

    def __call__(self, request: Any) -> bool:
        if self._rng.random() < self.error_share:
            raise ConnectionError("503")
        return bool(self._rng.random() < self.quality)


def flaky_router(paths: dict[str, Flaky], seed: int, *, fallback: bool = True) -> Router:
    return Router(
        [Path(path, name=name) for name, path in paths.items()],
        success_fn=lambda ok: ok,
        task="t",
        store="memory://",
        seed=seed,
        fallback=fallback,
    )


def test_a_strong_path_that_errors_often_still_goes_before_a_weak_one() -> None:
    # Half of "strong"'s calls raise, and the fallback catches them; "weak" never
    # raises, but nothing catches its wrong answers. Trying "strong" first serves
    # 0.5 x 0.95 + 0.5 x 0.55 = 0.75 against 0.55: it should go first.
    router = flaky_router({"weak": Flaky(0.55, 0.0, seed=2), "strong": Flaky(0.95, 0.5, seed=1)}, 3)
    results = [router.route(i) for i in range(600)]
    assert [r.attempts[0].path for r in results[-200:]].count("strong") >= 170
    served = sum(r.score for r in results[-200:]) / 200
    assert served > 0.65  # the weak path alone would serve about 0.55


def test_an_error_storm_that_has_passed_stops_weighing_on_a_path() -> None:
    # Two thirds of "best"'s calls fail for a while: "backup" (0.85, no errors)
    # serves better meanwhile and takes the traffic. Once the storm is over, "best"
    # must win its traffic back although it is tried only now and then.
    best = Flaky(0.95, 0.0, seed=1)
    router = flaky_router({"best": best, "backup": Flaky(0.85, 0.0, seed=2)}, 4)
    firsts(router, 300)
    best.error_share = 0.67
    storm = firsts(router, 1500)
    assert storm[-300:].count("backup") >= 200
    best.error_share = 0.0
    after = firsts(router, 3000)
    assert after[-500:].count("best") >= 400


def test_the_availability_record_fades_with_age_and_an_answer_does_not_undo_it() -> None:
    path = Availability(answered=50, failed=50, tick=0, horizon=100)
    answered, failed = path.faded(100)
    assert (round(answered, 2), round(failed, 2)) == (18.39, 18.39)  # 50 / e
    path.observe(True, planned=1000, now=1000)
    answered, failed = path.faded(1000)
    assert failed < 0.01 and 1.0 < answered < 1.01  # old errors stay forgotten


def test_without_fallback_an_error_is_not_rescued() -> None:
    # The same two paths as above, but the router does not fall back: an error is a
    # failed request, so "strong" serves 0.5 x 0.95 = 0.475 and "weak" 0.55 goes first.
    paths = {"weak": Flaky(0.55, 0.0, seed=2), "strong": Flaky(0.95, 0.5, seed=1)}
    router = flaky_router(paths, 3, fallback=False)
    assert isinstance(router.policy, AdaptiveThompson) and router.policy.rescue_share == 0.0
    chosen = []
    for i in range(1000):  # evidence fades: the weak path is re-checked now and then
        try:
            chosen.append(router.route(i).attempts[0].path)
        except AllPathsFailed as exc:
            chosen.append(exc.attempts[0].path)
    assert chosen[-600:].count("weak") >= 450


def test_a_down_path_that_still_answers_often_rescues_before_a_weak_one() -> None:
    # "strong" degrades to failing 60% of its calls (down); "mid" has always failed
    # half of them; "weak" always answers, but only 55% of its answers pass. After an
    # error on "mid", trying "strong" serves 0.4 x 0.92 + 0.6 x 0.55 = 0.70 against
    # 0.55 for "weak", so "strong" must come next although it is down.
    strong = Flaky(0.92, 0.0, seed=1)
    paths = {"strong": strong, "mid": Flaky(0.85, 0.5, seed=2), "weak": Flaky(0.55, 0.0, seed=3)}
    router = flaky_router(paths, 5)
    firsts(router, 500)
    strong.error_share = 0.6
    results = [router.route(i) for i in range(1500)][-800:]
    after_mid = [
        r.attempts[1].path for r in results if len(r.attempts) > 1 and r.attempts[0].path == "mid"
    ]
    assert len(after_mid) >= 100
    assert after_mid.count("strong") >= 0.9 * len(after_mid)
    assert sum(r.score for r in results) / len(results) > 0.74  # "mid", then "weak": 0.70


def test_a_path_that_almost_never_answers_is_not_a_fallback_before_one_that_does() -> None:
    strong = Flaky(0.95, 0.0, seed=1)
    router = flaky_router({"strong": strong, "mid": Flaky(0.85, 0.0, seed=2)}, 6)
    firsts(router, 500)
    strong.error_share = 0.99
    results = [router.route(i) for i in range(1500)]
    tried_after_strong = [r.attempts[1].path for r in results[-800:] if len(r.attempts) > 1]
    assert [r.path for r in results[-800:]].count("mid") >= 760
    assert tried_after_strong.count("strong") == 0


def test_paths_in_a_partial_outage_keep_serving_before_a_weak_path_that_always_answers() -> None:
    # A brown-out: "strong" now fails 60% of its calls and "mid" half of them, after a
    # clean history. Both go down at first; their probes and fallback calls show that
    # many calls still answer, so they come back partly up, judged by that record:
    # trying them first (the fallback rescues their errors) serves about 0.78, against
    # 0.55 for "weak" alone.
    strong, mid = Flaky(0.92, 0.0, seed=1), Flaky(0.85, 0.0, seed=2)
    router = flaky_router({"strong": strong, "mid": mid, "weak": Flaky(0.55, 0.0, seed=3)}, 5)
    firsts(router, 500)
    strong.error_share, mid.error_share = 0.6, 0.5
    results = [router.route(i) for i in range(1500)][-800:]
    assert [r.attempts[0].path for r in results].count("weak") < 100
    assert sum(r.score for r in results) / len(results) > 0.72
    strong.error_share = mid.error_share = 0.0  # over: "strong" wins its traffic back
    assert firsts(router, 3000)[-500:].count("strong") >= 400
