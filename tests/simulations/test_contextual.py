"""Contextual scenarios: data files, a seeded environment, the oracle, the generator and
the side-by-side replay of every contender."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bandits import ConfigError
from simulations import (
    CONTEXTUAL_BUILTIN,
    ContextualEnvironment,
    ContextualOracle,
    ContextualScenario,
    builtin_contextual_scenarios,
    compare_contextual,
    load_contextual_scenario,
    random_contextual_scenario,
    random_contextual_scenarios,
    replay_contextual,
)
from simulations._contextual_random import CATEGORIES


def _scenario(**changes: Any) -> dict[str, Any]:
    """A small valid scenario as data: two paths, two kinds with different best paths."""
    data: dict[str, Any] = {
        "name": "t",
        "description": "two kinds",
        "requests": 4_000,
        "paths": [{"name": "a", "success": 0.9}, {"name": "b", "success": 0.7}],
        "kinds": [
            {"name": "x", "share": 0.5, "context": {"lang": "en"}},
            {
                "name": "y",
                "share": 0.5,
                "context": {"lang": "de"},
                "paths": {"a": {"success": 0.5}},
            },
        ],
        "irrelevant": {"bucket": {"choices": ["p", "q", "r"]}},
    }
    data.update(changes)
    return data


def test_every_builtin_loads_and_its_contexts_hold_plain_values() -> None:
    scenarios = builtin_contextual_scenarios()
    assert list(scenarios) == list(CONTEXTUAL_BUILTIN)
    for name, scenario in scenarios.items():
        assert scenario.name == name and scenario.description
        assert len(scenario.paths) >= 2 and len(scenario.kinds) >= 1
        env = ContextualEnvironment(scenario.with_options(requests=500), seed=3)
        for context in env.contexts:
            assert all(type(v) in (str, bool, int, float) for v in context.values()), context
            assert all(math.isfinite(v) for v in context.values() if type(v) is float)


def test_the_environment_is_a_function_of_the_seed() -> None:
    scenario = load_contextual_scenario("by-kind").with_options(requests=2_000)
    one, again, other = (ContextualEnvironment(scenario, seed=s) for s in (5, 5, 6))
    assert one.kinds == again.kinds and one.contexts == again.contexts
    assert [one.call(i, "mini") for i in range(200)] == [again.call(i, "mini") for i in range(200)]
    assert one.kinds != other.kinds and one.contexts != other.contexts
    short = scenario.with_options(requests=300)
    first = list(replay_contextual(short, "per-task", seed=5))
    assert first == list(replay_contextual(short, "per-task", seed=5))


def test_a_path_added_to_the_scenario_leaves_the_others_luck_unchanged() -> None:
    # Each path and context key has its own random stream: common random numbers.
    base = ContextualScenario.model_validate(_scenario())
    more = ContextualScenario.model_validate(
        _scenario(paths=[*_scenario()["paths"], {"name": "c", "success": 0.6}])
    )
    one, two = ContextualEnvironment(base, seed=1), ContextualEnvironment(more, seed=1)
    assert one.contexts == two.contexts
    assert [one.call(i, "a") for i in range(500)] == [two.call(i, "a") for i in range(500)]


def test_shares_follow_the_mix_curve() -> None:
    scenario = load_contextual_scenario("mix-shift").with_options(requests=20_000)
    env = ContextualEnvironment(scenario, seed=0)
    chat = [kind == "chat" for kind in env.kinds]
    # chat: 80% until 30% of the run, linearly down to 20% at 70%, then 20%.
    early, late = chat[:6_000], chat[14_000:]
    assert sum(early) / len(early) == pytest.approx(0.8, abs=0.02)
    assert sum(late) / len(late) == pytest.approx(0.2, abs=0.02)
    middle = chat[9_500:10_500]  # the midpoint of the ramp: 50%
    assert sum(middle) / len(middle) == pytest.approx(0.5, abs=0.06)
    assert env.shares[0, 10_000] == pytest.approx(0.5)


def test_relative_shares_are_normalised() -> None:
    kinds = _scenario()["kinds"]
    kinds[0]["share"], kinds[1]["share"] = 3.0, 1.0
    env = ContextualEnvironment(
        ContextualScenario.model_validate(_scenario(kinds=kinds, requests=20_000)), seed=2
    )
    assert Counter(env.kinds)["x"] / 20_000 == pytest.approx(0.75, abs=0.015)


def test_irrelevant_keys_carry_no_signal() -> None:
    scenario = ContextualScenario.model_validate(_scenario(requests=20_000))
    env = ContextualEnvironment(scenario, seed=4)
    # The same values whatever the kinds and their mix: drawn from the key's own stream.
    kinds = _scenario()["kinds"]
    kinds[0]["share"] = 0.9
    shifted = ContextualEnvironment(
        ContextualScenario.model_validate(_scenario(kinds=kinds, requests=20_000)), seed=4
    )
    assert [c["bucket"] for c in env.contexts] == [c["bucket"] for c in shifted.contexts]
    # Alike in every kind, and the best path's share is alike under every value.
    for kind in ("x", "y"):
        values = Counter(
            c["bucket"] for c, k in zip(env.contexts, env.kinds, strict=True) if k == kind
        )
        total = sum(values.values())
        assert all(abs(values[v] / total - 1 / 3) < 0.02 for v in "pqr"), values
    best_a = {
        v: [env.best_path(i) == "a" for i, c in enumerate(env.contexts) if c["bucket"] == v]
        for v in "pqr"
    }
    shares = [sum(flags) / len(flags) for flags in best_a.values()]
    assert max(shares) - min(shares) < 0.03


def test_the_oracle_picks_the_best_path_of_each_request_kind() -> None:
    env = ContextualEnvironment(load_contextual_scenario("by-kind"), seed=0)
    right = {"easy-en": "mini", "hard-code": "claude-sonnet", "de": "gpt-4o"}
    assert all(env.best_path(i) == right[kind] for i, kind in enumerate(env.kinds))
    assert all(env.best_for_kind(kind, 0) == best for kind, best in right.items())
    current = {"index": 0}
    oracle = ContextualOracle(env, lambda: current["index"])
    for index in range(50):
        current["index"] = index
        choice = oracle.choose(env.names, {}, index, None)  # type: ignore[arg-type]
        assert choice.order[0] == right[env.kinds[index]]


def test_the_oracle_follows_a_segment_outage_and_weighs_price_when_asked() -> None:
    env = ContextualEnvironment(load_contextual_scenario("segment-outage"), seed=0)
    for i, kind in enumerate(env.kinds):
        broken = kind == "de" and 3_000 <= i < 6_000
        assert env.best_path(i) == ("claude-sonnet" if broken else "gpt-4o"), (i, kind)
    cheap = ContextualEnvironment(load_contextual_scenario("strong-or-cheap"), seed=0)
    for i, kind in enumerate(cheap.kinds[:500]):
        assert cheap.best_path(i, cost_weight=20.0) == ("cheap" if kind == "easy" else "strong")


def test_the_oracle_replays_with_no_regret_and_beats_the_per_task_router() -> None:
    scenario = load_contextual_scenario("by-kind").with_options(requests=1_500)
    result = compare_contextual(scenario, seed=0, contenders=["per-task", "oracle", "only:mini"])
    assert sum(result.runs["oracle"].regret) == pytest.approx(0.0, abs=1e-9)
    assert result.percent_of_oracle("oracle") == 100.0
    assert result.percent_of_oracle("per-task") < 100.0
    assert result.gap_closed("oracle") == pytest.approx(1.0)
    assert result.gap_closed("per-task") == pytest.approx(0.0)
    assert result.runs["only:mini"].cost_per_success < result.runs["per-task"].cost_per_success
    data = result.as_dict()["contenders"]
    assert set(data) == {"per-task", "oracle", "only:mini"}
    assert data["per-task"]["regret_at"]["1000"] <= data["per-task"]["regret"]


def test_mabwiser_contenders_learn_from_the_features() -> None:
    pytest.importorskip("mabwiser")
    scenario = load_contextual_scenario("by-kind").with_options(requests=1_500)
    result = compare_contextual(
        scenario, seed=1, contenders=["per-task", "lin-ucb", "lin-ts", "oracle"]
    )
    for name in ("lin-ucb", "lin-ts"):
        run = result.runs[name]
        assert len(run.success) == 1_500
        late, early = run.window_regret(1_000, 1_500), run.window_regret(0, 100)
        assert late < early, name  # it learns which path suits which kind


def test_the_router_with_context_closes_the_gap_where_the_best_path_differs_by_kind() -> None:
    scenario = load_contextual_scenario("by-kind").with_options(requests=2_000)
    result = compare_contextual(
        scenario, seed=0, contenders=["per-task", "context", "segments", "oracle"]
    )
    assert result.gap_closed("context") >= 0.5  # issue 19's target (0.68 on this seed)
    assert result.gap_closed("segments") > 0.0
    assert len(result.runs["context"].success) == 2_000


def test_a_segment_outage_moves_only_that_segment_off_the_broken_path() -> None:
    scenario = load_contextual_scenario("segment-outage").with_options(requests=4_000)
    env = ContextualEnvironment(scenario, seed=0)
    outage = range(1_600, 2_400)  # well inside 30%-60% of the run: the German outage

    def english_on_gpt4o(contender: str) -> float:
        rows = list(replay_contextual(env, contender, seed=0))
        firsts = [rows[i]["first"] for i in outage if env.kinds[i] == "en"]
        return sum(f == "gpt-4o" for f in firsts) / len(firsts)

    assert english_on_gpt4o("context") >= english_on_gpt4o("per-task") - 0.02
    assert english_on_gpt4o("context") > 0.8


def test_the_router_with_context_survives_random_environment_20004() -> None:
    # It once stopped at request 3,345 (a segment's row after a reset under delayed
    # feedback: "alpha and beta must be finite and > 0").
    rows = list(replay_contextual(random_contextual_scenario(20_004), "context", seed=20_004))
    assert len(rows) == 10_000


def test_the_benchmark_script_prints_its_tables_and_targets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "contextual.py"
    spec = importlib.util.spec_from_file_location("contextual_benchmark", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (
        module.main(["--envs", "1", "--requests", "300", "--contenders", "per-task", "oracle"]) == 0
    )
    out = capsys.readouterr().out
    assert "by-kind:" in out and "random environments: mean % of the oracle" in out
    assert "by-kind: half the gap closed by 2,000" in out


def test_unknown_contenders_name_the_choices() -> None:
    scenario = load_contextual_scenario("by-kind").with_options(requests=100)
    with pytest.raises(ConfigError, match=r"only:PATH with PATH one of gpt-4o, claude-sonnet"):
        compare_contextual(scenario, contenders=["per-task", "only:nobody"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kinds": []}, "kinds: List should have at least 1 item"),
        (
            {"kinds": [{"name": "x", "paths": {"c": {"success": 0.5}}}]},
            r"kind 'x' names unknown paths \['c'\]; the paths are \['a', 'b'\]",
        ),
        (
            {"paths": [{"name": "a"}, {"name": "b", "success": 0.5}]},
            r"kind 'x' gives no success for paths \['a'\]: set it in the kind's paths table",
        ),
        (
            {"kinds": [{"name": "x", "share": 0.0}]},
            "the kinds' shares are all 0 at request 0",
        ),
        (
            {"kinds": [{"name": "x"}, {"name": "x"}]},
            r"kind names must be unique, repeated: \['x'\]",
        ),
        (
            {"kinds": [{"name": "x", "paths": {"a": {"success": 1.2}}}]},
            r"success must stay within \[0, 1\]",
        ),
        (
            {"kinds": [{"name": "x", "features": {"n": {"normal": [1, 1], "uniform": [0, 1]}}}]},
            "exactly one of normal = \\[mean, sd\\], uniform = \\[low, high\\] or choices",
        ),
        (
            {"kinds": [{"name": "x", "features": {"t": {"choices": ["a"], "weights": [1, 2]}}}]},
            "weights need choices, one weight per choice",
        ),
        (
            {"kinds": [{"name": "x", "context": {"bucket": "p"}}]},
            r"irrelevant keys \['bucket'\] are also context of kind 'x'; rename them",
        ),
        (
            {"kinds": [{"name": "x", "context": {"n": 1}, "features": {"n": {"uniform": [0, 1]}}}]},
            r"keys \['n'\] are both fixed \(context\) and drawn \(features\)",
        ),
        (
            {"kinds": [{"name": "x", "context": {"n": [1, 2]}}]},
            r"kinds\.0\.context\.n",
        ),
        (
            {"kinds": [{"name": "x", "share": {"steps": [[0.5, 1.0], [0.2, 0.0]]}}]},
            "positions must increase strictly",
        ),
    ],
)
def test_bad_scenario_data_is_a_config_error_that_names_the_fault(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    import yaml  # the scenario goes through a file, as users write it

    target = tmp_path / "bad.yaml"
    target.write_text(yaml.safe_dump(_scenario(**changes)))
    with pytest.raises(ConfigError, match=message) as caught:
        load_contextual_scenario(target)
    assert str(caught.value).startswith(f"contextual scenario {target} is invalid: ")


def test_unknown_names_and_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown contextual scenario 'nope'; use one of by-kind"):
        load_contextual_scenario("nope")
    with pytest.raises(ConfigError, match="cannot read scenario file"):
        load_contextual_scenario(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_contextual_scenario(broken)


def test_a_scenario_file_in_toml_equals_the_same_data() -> None:
    file = Path(__file__).resolve().parents[2] / "simulations" / "scenarios" / "contextual"
    assert load_contextual_scenario(file / "by-kind.toml") == load_contextual_scenario("by-kind")


def test_the_generator_is_seed_stable_and_balanced() -> None:
    batch = random_contextual_scenarios(10, seed=20_000)
    assert batch == [random_contextual_scenario(s) for s in range(20_000, 20_010)]
    assert random_contextual_scenarios(3, seed=20_004)[0] == batch[4]
    assert random_contextual_scenario(20_001) != random_contextual_scenario(20_002)
    assert Counter(s.kind for s in batch) == dict.fromkeys(CATEGORIES, 2)


def test_generated_environments_are_what_their_category_says() -> None:
    for scenario in random_contextual_scenarios(25, seed=0, requests=2_000):
        env = ContextualEnvironment(scenario, seed=0)
        best = {kind.name: env.best_for_kind(kind.name, 0) for kind in scenario.kinds}
        assert 2 <= len(scenario.paths) <= 6 and 1.0 <= scenario.rate <= 100.0
        if scenario.kind == "by-kind":
            assert len(set(best.values())) >= 2, scenario.description
        if scenario.kind == "irrelevant":
            assert scenario.irrelevant
            assert len({tuple(env.kind_expected[k, p][0] for p in env.names) for k in best}) == 1
        if scenario.kind == "by-feature":
            contexts = {tuple(sorted(k.context.items())) for k in scenario.kinds}
            assert len(contexts) == 1 and len(set(best.values())) == 2, scenario.description
        if scenario.kind == "segment-outage":
            rates = [q.error_rate for k in scenario.kinds for q in k.paths.values()]
            assert sum(r is not None and r.values(2_000).max() == 1.0 for r in rates) == 1


@pytest.mark.parametrize(
    ("n", "seed", "requests", "message"),
    [(0, 1, 100, "n"), (True, 1, 100, "n"), (1, -1, 100, "seed"), (1, 1, 5, "requests")],
)
def test_bad_generator_arguments_are_config_errors(
    n: object, seed: object, requests: int, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        random_contextual_scenarios(n, seed, requests=requests)  # type: ignore[arg-type]
