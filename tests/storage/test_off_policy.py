"""Off-policy evaluation on a store's logs: the rows taken, the target's probabilities
per logged context, and the errors that say what to fix."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from bandits import ConfigError, evaluate_policy, fit_contextual_reward_model
from storage import (
    MemoryStore,
    Outcome,
    evaluate_policy_on_store,
    logged_first_attempts,
    open_store,
)

# (path, propensity, score, length) of each request's first attempt.
FIRSTS = [
    ("cheap", 0.8, 1.0, 120),
    ("cheap", 0.6, 0.0, 1500),
    ("strong", 0.4, 1.0, 2000),
    ("strong", 0.25, 0.0, 90),
    ("cheap", 0.5, 1.0, 300),
]


def by_length(context: dict[str, Any]) -> str:
    return "cheap" if context["length"] < 1000 else "strong"


def make_store() -> MemoryStore:
    """Five requests; the second also fell back to strong (a second attempt: not a row)."""
    store = MemoryStore()
    for i, (path, propensity, score, length) in enumerate(FIRSTS):
        store.record(
            Outcome(
                f"r{i}",
                1,
                "t",
                path,
                score,
                created_at=float(i),
                propensity=propensity,
                context={"length": length, "lang": "de" if i % 2 else "en"},
                segment="lang=de" if i % 2 else "lang=en",
            )
        )
    store.record(Outcome("r1", 2, "t", "strong", 1.0, created_at=1.5, propensity=1.0))
    return store


def test_ips_of_a_contextual_target_is_the_hand_computed_value() -> None:
    # by_length picks cheap for r0, r3, r4 and strong for r1, r2. Weights pi(a)/p:
    # r0 cheap=cheap: 1/0.8; r1 took cheap, target strong: 0; r2 strong: 1/0.4;
    # r3 took strong, target cheap: 0; r4 cheap: 1/0.5.
    weighted = 1.0 / 0.8 * 1.0 + 1.0 / 0.4 * 1.0 + 1.0 / 0.5 * 1.0
    weights = 1.0 / 0.8 + 1.0 / 0.4 + 1.0 / 0.5
    store = make_store()
    ips = evaluate_policy_on_store(store, "t", by_length, method="ips")
    assert ips.value == pytest.approx(weighted / 5, rel=1e-12)
    assert ips.n == 5
    snips = evaluate_policy_on_store(store, "t", by_length, method="snips")
    assert snips.value == pytest.approx(weighted / weights, rel=1e-12)


def test_a_stochastic_target_and_the_logged_arrays() -> None:
    logged = logged_first_attempts(make_store(), "t")
    assert logged.paths == ("cheap", "strong")
    assert logged.actions.tolist() == [0, 0, 1, 1, 0]
    assert logged.propensities.tolist() == [p for _, p, _, _ in FIRSTS]
    assert logged.rewards.tolist() == [s for _, _, s, _ in FIRSTS]
    assert [c["length"] for c in logged.contexts if c] == [x for *_, x in FIRSTS]
    assert logged.request_ids == ("r0", "r1", "r2", "r3", "r4")
    assert (logged.scored, logged.left_out) == (5, 0)

    def share(context: dict[str, Any]) -> dict[str, float]:  # more strong as length grows
        strong = context["length"] / 2000
        return {"cheap": 1.0 - strong, "strong": strong}

    pi = logged.target_probs(share)
    expected = sum(
        (1 - x / 2000 if path == "cheap" else x / 2000) / p * score for path, p, score, x in FIRSTS
    )
    assert logged.evaluate(share, method="ips").value == pytest.approx(expected / 5)
    assert pi[:, 1].tolist() == pytest.approx([x / 2000 for *_, x in FIRSTS])


def test_context_free_targets_are_a_path_name_or_a_dict() -> None:
    logged = logged_first_attempts(make_store(), "t")
    only_cheap = logged.evaluate("cheap", method="ips").value
    assert only_cheap == pytest.approx((1 / 0.8 + 0 + 1 / 0.5) / 5)
    assert logged.evaluate({"cheap": 1.0}, method="ips").value == only_cheap
    assert logged.evaluate(lambda context: "cheap", method="ips").value == only_cheap


def test_doubly_robust_uses_the_contextual_reward_model() -> None:
    logged = logged_first_attempts(make_store(), "t")
    model = fit_contextual_reward_model(logged.actions, logged.rewards, 2, logged.contexts)
    q = model.predict(logged.contexts)
    pi = logged.target_probs(by_length)
    direct = evaluate_policy(
        logged.actions, logged.propensities, logged.rewards, pi, method="dr", reward_model=q
    )
    assert logged.evaluate(by_length, method="dr") == direct
    assert model.features == ("length", "lang=de", "lang=en")


def test_rows_without_a_propensity_are_left_out_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = make_store()
    store.record(Outcome("r9", 1, "t", "strong", 1.0, created_at=9.0))  # a held path's trial
    store.record(Outcome("r10", 1, "t", "cheap", None, created_at=10.0, propensity=0.5))
    with caplog.at_level(logging.WARNING, logger="outcome_router"):
        logged = logged_first_attempts(store, "t")
    assert (logged.n, logged.scored, logged.left_out) == (5, 6, 1)
    assert "left out 1 of 6 scored first attempts" in caplog.text


def test_on_a_sql_store_too(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'ope.db'}")
    try:
        for i, (path, propensity, score, length) in enumerate(FIRSTS):
            store.record(
                Outcome(
                    f"r{i}",
                    1,
                    "t",
                    path,
                    score,
                    float(i),
                    propensity=propensity,
                    context={"length": length},
                )
            )
        memory = evaluate_policy_on_store(make_store(), "t", by_length, method="ips")
        assert evaluate_policy_on_store(store, "t", by_length, method="ips").value == memory.value
    finally:
        store.close()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (lambda c: "medium", r"chose \['medium'\] for context \{'length': 120.*logged paths"),
        (lambda c: {"cheap": 0.5, "gpt": 0.5}, r"chose \['gpt'\]"),
        ("medium", r"chose \['medium'\], not among the task's logged paths"),
        (lambda c: {"cheap": 0.5, "strong": 0.4}, r"are \{'cheap': 0.5, 'strong': 0.4\} \(sum 0.9"),
        ({"cheap": 1.5, "strong": -0.5}, r"must be numbers >= 0 that sum to 1"),
        (lambda c: {"cheap": "1"}, r"must be numbers >= 0"),
        (lambda c: 0, r"returned 0 for context .*return a path name or a dict"),
        (lambda c: ["cheap"], r"returned \['cheap'\]"),
    ],
)
def test_bad_targets_raise_config_error(target: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        evaluate_policy_on_store(make_store(), "t", target)


def test_a_task_without_rows_raises_config_error() -> None:
    store = make_store()
    with pytest.raises(ConfigError, match="task 'other' has no scored first attempts"):
        evaluate_policy_on_store(store, "other", "cheap")
    store.record(Outcome("u1", 1, "unscored", "cheap", None, created_at=0.0, propensity=0.5))
    with pytest.raises(ConfigError, match="task 'unscored' has no scored first attempts"):
        evaluate_policy_on_store(store, "unscored", "cheap")


def test_a_task_whose_rows_all_lack_a_propensity_raises_config_error() -> None:
    store = MemoryStore()
    for i in range(3):
        store.record(Outcome(f"r{i}", 1, "t", "cheap", 1.0, created_at=float(i)))
    with pytest.raises(ConfigError, match="none of the 3 scored first attempts of task 't'"):
        evaluate_policy_on_store(store, "t", "cheap")


def test_estimator_options_are_checked_by_evaluate_policy() -> None:
    with pytest.raises(ConfigError, match="method must be"):
        evaluate_policy_on_store(make_store(), "t", "cheap", method="direct")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="ridge must be"):
        evaluate_policy_on_store(make_store(), "t", "cheap", method="dr", ridge=-1.0)
    seeded = evaluate_policy_on_store(
        make_store(), "t", by_length, rng=np.random.default_rng(1), n_bootstrap=50, level=0.8
    )
    assert seeded.level == 0.8
