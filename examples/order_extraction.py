"""Order extraction routed across two models and a regex last resort.

Run it from the repository root::

    python examples/order_extraction.py             # real providers when keys are set
    python examples/order_extraction.py --offline   # always the local fake provider

With ``OPENAI_API_KEY`` and/or ``ANTHROPIC_API_KEY`` set, it calls gpt-4o-mini and/or
claude-3-5-haiku through litellm (a few cents' worth of tokens). Without keys, or with
``--offline``, it starts the fake OpenAI-compatible provider of ``tests/fakes`` on
127.0.0.1 (hence "from the repository root") and both model paths talk to it: the fake
"claude" sometimes answers in prose (re-asked once, then ``invalid_output``) and the fake
"gpt-4o-mini" has a short outage, so you can watch the router fall back and learn.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path as FilePath
from typing import Any

sys.path.insert(0, str(FilePath(__file__).resolve().parents[1]))  # router and tests.fakes

from pydantic import BaseModel

from router import Path, Router
from router.llm import LLMPath

PROMPT = "Extract the order (item and quantity) from this message: {input}"
MESSAGES = [
    "Please send 3 pens to the Leeds office.",
    "Could we get 12 notebooks by Friday?",
    "We need 40 staplers, thanks!",
    "Add 2 whiteboards to our order please.",
    "Hi, 5 lamps for the new room.",
    "Order 7 chairs for the meeting room.",
]
ORDER = re.compile(r"(\d+)\s+([a-z]+)", re.IGNORECASE)


class Order(BaseModel):
    """What the paths extract."""

    item: str
    quantity: int


def regex_extract(text: str) -> Order | None:
    """The deterministic last resort: the first "<number> <thing>" in the text."""
    match = ORDER.search(text)
    return Order(item=match.group(2).lower(), quantity=int(match.group(1))) if match else None


def model_paths(offline_base: str | None) -> list[Path]:
    """The model paths: real providers, or both pointed at the fake provider."""
    if offline_base is not None:
        fake = {"api_base": offline_base, "api_key": "offline", "timeout": 10.0}
        return [
            LLMPath("openai/gpt-4o-mini", PROMPT, output=Order, temperature=0, **fake),
            LLMPath(
                "openai/claude-3-5-haiku",  # the fake speaks the OpenAI protocol only
                PROMPT,
                output=Order,
                name="claude-3-5-haiku",
                price_per_1k_tokens=(0.0008, 0.004),  # the fake's name is not in the cost map
                **fake,
            ),
        ]
    paths = []
    if os.environ.get("OPENAI_API_KEY"):
        paths.append(LLMPath("openai/gpt-4o-mini", PROMPT, output=Order, timeout=30.0))
    if os.environ.get("ANTHROPIC_API_KEY"):
        paths.append(
            LLMPath("anthropic/claude-3-5-haiku-20241022", PROMPT, output=Order, timeout=30.0)
        )
    return paths


def fake_model(request: dict[str, Any]) -> str:
    """How the fake provider answers: JSON like a model would, prose now and then."""
    question = request["messages"][-1]["content"]
    text = question.split("message: ", 1)[-1]
    order = regex_extract(text)
    answer = json.dumps(order.model_dump() if order else {})
    if request["model"].startswith("claude") and len(text) % 3 == 0:
        return "Sure! The customer would like some items."  # prose: fails the output model
    return f"```json\n{answer}\n```"


def main(argv: list[str] | None = None) -> int:
    """Route every message, print where each went, then the router's stats."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline", action="store_true", help="use the local fake provider")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the messages")
    args = parser.parse_args(argv)

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # as router.llm does
    import litellm

    litellm.suppress_debug_info = True  # the router handles failures: no help banners

    offline = args.offline or not model_paths(None)
    provider = None
    if offline:
        from tests.fakes import FakeProvider  # needs the repository checkout

        provider = FakeProvider(reply=fake_model).start()
        provider.script(["500"] * 4, model="gpt-4o-mini")  # a short outage
    print(f"mode: {'offline (fake provider)' if offline else 'real providers'}")
    try:
        paths = [
            *model_paths(provider.base_url if provider else None),
            Path(regex_extract, last_resort=True),
        ]
        with Router(
            paths,
            success_fn=lambda order: order is not None,
            task="order-extraction",
            store="memory://",
            seed=0,
        ) as router:
            for _ in range(args.rounds):
                for text in MESSAGES:
                    result = router.route(text)
                    print(f"{text!r} -> {result.output!r} via {result.path}")
            print(router.stats().to_string())
            rows = router.store.outcomes(router.task)
            tokens = sum((o.tokens_in or 0) + (o.tokens_out or 0) for o in rows)
            cost = sum(o.cost or 0.0 for o in rows)
            print(f"spent: {tokens} tokens, ${cost:.6f} over {len(rows)} attempts")
    finally:
        if provider is not None:
            provider.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
