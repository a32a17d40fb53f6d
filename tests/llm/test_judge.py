"""llm_judge: grades from a model, thresholds, sampling, its own spending, failures."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from router import ConfigError, Router, ScoringError
from router.llm import JudgeError, LLMPath, llm_judge
from storage import MemoryStore
from tests.fakes import FakeProvider

MakeRouter = Callable[..., Router]
JUDGE = "openai/gpt-4o"


def grading(grade: str) -> Callable[[dict[str, Any]], str]:
    """Replies: ``grade`` to the judge model, an answer to anyone else."""
    return lambda request: grade if request["model"] == "gpt-4o" else "2 pens"


def judge_of(provider: FakeProvider, **kw: Any) -> Any:
    return llm_judge(
        JUDGE, "The order names an item.", api_base=provider.base_url, api_key="t", **kw
    )


def test_the_grade_is_the_score_and_the_judge_keeps_its_spending(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter, store: MemoryStore
) -> None:
    provider.reply = grading("0.8")
    judge = judge_of(provider)
    path = LLMPath("openai/gpt-4o-mini", "{input}", api_base=provider.base_url, api_key="t")
    router = make_router([path], success_fn=judge)
    assert router.run("two pens") == "2 pens"
    (row,) = store.outcomes(router.task)
    assert row.score == pytest.approx(0.8)
    asked = provider.requests[1]
    assert asked.model == "gpt-4o" and asked.messages[0]["role"] == "system"
    assert all(s in asked.messages[1]["content"] for s in ("order names an item", "two pens"))
    tokens_in = sum(len(str(m["content"]).split()) for m in asked.messages)
    in_cost, out_cost = litellm.cost_per_token(
        model="gpt-4o", prompt_tokens=tokens_in, completion_tokens=1
    )
    assert (judge.calls, judge.judged, judge.spent_tokens) == (1, 1, tokens_in + 1)
    assert judge.spent_cost == pytest.approx(in_cost + out_cost) and judge.unpriced_calls == 0
    assert row.metadata["judge_tokens"] == tokens_in + 1  # also on the judged attempt's row
    assert row.metadata["judge_cost"] == pytest.approx(in_cost + out_cost)


@pytest.mark.parametrize(("grade", "score"), [("0.8", 1.0), ("Grade: 0.6", 0.0), ("0.7", 1.0)])
def test_a_threshold_makes_the_grade_pass_or_fail(
    litellm: ModuleType, provider: FakeProvider, grade: str, score: float
) -> None:
    provider.reply = grading(grade)
    assert judge_of(provider, threshold=0.7)("text", "2 pens") == score


def test_structured_outputs_are_shown_to_the_judge_as_json(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    class Order(BaseModel):
        item: str

    provider.reply = grading("1")
    assert judge_of(provider)({"text": "pens"}, Order(item="pen")) == 1.0
    content = provider.requests[0].messages[1]["content"]
    assert '{"item":"pen"}' in content and '{"text": "pens"}' in content


def test_sampling_judges_a_seeded_fraction_and_checks_the_rest_cheaply(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    provider.reply = grading("0.5")
    judge = judge_of(
        provider,
        sample=0.25,
        cheap_check=lambda text, order: order is not None,
        rng=np.random.default_rng(7),
    )
    scores = [judge("text", "2 pens") for _ in range(40)]
    draws = np.random.default_rng(7).random(40)
    assert scores == [0.5 if d < 0.25 else 1.0 for d in draws]
    assert (
        judge.calls == provider.hits == int((draws < 0.25).sum())
        and judge.cheap == 40 - judge.calls
    )


def test_a_failing_judge_falls_back_to_the_cheap_check(
    litellm: ModuleType, provider: FakeProvider
) -> None:
    provider.mode = "500"
    judge = judge_of(provider, cheap_check=lambda text, order: 0.25)
    assert judge("text", "2 pens") == 0.25
    assert (judge.failures, judge.cheap, judge.calls) == (1, 1, 0)


@pytest.mark.parametrize(("mode", "reply"), [("500", "0.5"), ("ok", "excellent"), ("ok", "7")])
def test_without_a_cheap_check_a_judge_failure_is_a_judge_error(
    litellm: ModuleType, provider: FakeProvider, mode: str, reply: str
) -> None:
    provider.mode, provider.reply = mode, reply
    with pytest.raises(JudgeError, match="judge"):
        judge_of(provider)("text", "2 pens")


def test_the_router_reports_a_judge_error_as_a_scoring_error(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    provider.reply = grading("no idea")
    path = LLMPath("openai/gpt-4o-mini", "{input}", api_base=provider.base_url, api_key="t")
    router = make_router([path], success_fn=judge_of(provider))
    with pytest.raises(ScoringError, match="JudgeError"):
        router.run("two pens")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample": 0.5}, "cheap_check"),
        ({"sample": 0.0, "cheap_check": bool}, "sample"),
        ({"threshold": 2}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"cheap_check": "yes"}, "cheap_check"),
        ({"rubric": " "}, "rubric"),
        ({"messages": []}, "set by the path or judge"),
    ],
)
def test_bad_judge_arguments_are_config_errors(
    litellm: ModuleType, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"model": JUDGE, "rubric": "good", **kwargs}
    with pytest.raises(ConfigError, match=message):
        llm_judge(**arguments)


def test_judge_settings_and_spending_start_at_zero(litellm: ModuleType) -> None:
    judge = llm_judge(JUDGE, "good", timeout=3.0, temperature=0)
    assert judge.litellm_kwargs == {
        "num_retries": 0,
        "max_retries": 0,
        "timeout": 3.0,
        "temperature": 0,
    }
    assert (judge.calls, judge.spent_tokens, judge.spent_cost, judge.failures) == (0, 0, 0.0, 0)
    assert repr(judge) == "Judge(model='openai/gpt-4o', sample=1.0, calls=0)"


def test_judging_spend_counts_against_the_run_budget(
    litellm: ModuleType, provider: FakeProvider, make_router: MakeRouter
) -> None:
    from router import Budget, MeteredScore

    provider.reply = grading("0.4")
    judge = judge_of(provider, price_per_1k_tokens=(1000.0, 1000.0))  # a dollar a token
    score = judge("two pens", "2 pens")
    assert isinstance(score, MeteredScore) and score.cost is not None and score.cost >= 1.0
    first = LLMPath("openai/gpt-4o-mini", "{input}", api_base=provider.base_url, api_key="t")
    second = LLMPath(
        "openai/gpt-4o-mini", "{input}", name="second", api_base=provider.base_url, api_key="t"
    )
    router = make_router(
        [first, second], success_fn=judge, fallback_below=0.5, budget=Budget(run_cost=1.0)
    )
    result = router.route("two pens")
    assert len(result.attempts) == 1, "the judge's spend used up the run budget: no fallback"
