"""Random contextual environments: request kinds, mixes and per-kind qualities nobody
hand-wrote, for testing context-aware routing where it was not tuned.

Tune on seeds below 1,000; the published results use seeds from 20,000 up. Each
environment is drawn from its own seed, so environment ``20_003`` is the same whether it
is asked for alone or among two hundred. Its *category* (what it tests) is
``CATEGORIES[seed % len(CATEGORIES)]``, so every range of seeds holds them in equal shares.

What is drawn, per environment (every draw documented here is the whole generator):

* K paths, 2 to 6 (uniform); each path's base quality uniform in [0.45, 0.95], median
  latency log-uniform in [0.2, 2] s (sigma 0.3, timeout 10 s), price log-uniform in
  [$0.00001, $0.01] per call. The request rate is log-uniform in [1, 100] per second.
* 2 to 5 kinds, each with a distinct ``lang`` and ``topic`` pair as its fixed context, a
  numeric ``length`` drawn per request (normal, mean log-uniform in [100, 3000], sd 30%
  of the mean, at least 1, an integer) and a share of traffic from a Dirichlet(2, ...)
  draw (at least 5% each).
* Per (kind, path) quality: the path's base quality plus normal noise (sd 0.08); then
  each kind has a *specialist*, taken in turn from a random order of the paths, raised
  0.03-0.12 above every other path for that kind (the others clipped to [0.05, 0.95],
  the specialist to at most 0.99).
* Irrelevant keys (half the environments, and every ``irrelevant`` one): a ``bucket``
  among 2-6 values, and half the time a ``noise`` number uniform in [0, 1].
* The category:

  ``by-kind``         only the above: the best path differs by kind.
  ``segment-outage``  the best path of one kind fails every call of that kind (503) for
                      10-35% of the run, from 15-60% of it.
  ``mix-shift``       the shares move to a second Dirichlet draw, linearly over 10-50%
                      of the run (half the time at once, a step).
  ``irrelevant``      every kind has the same qualities (its base): context carries no
                      signal; at least one irrelevant key.
  ``by-feature``      two kinds with the same fixed context, told apart only by length
                      (easy: mean 100-500; hard: 1,500-4,000): the dearest path is
                      0.1-0.35 better on hard requests, the cheapest 0.01 better than any
                      other on easy ones.

Example:
    >>> scenarios = random_contextual_scenarios(3, seed=20_000)
    >>> [s.kind for s in scenarios]
    ['by-kind', 'segment-outage', 'mix-shift']
    >>> random_contextual_scenarios(1, seed=20_001)[0] == scenarios[1]
    True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from simulations._contextual import ContextualScenario
from simulations._random import check_range

if TYPE_CHECKING:
    import numpy as np

CATEGORIES = ("by-kind", "segment-outage", "mix-shift", "irrelevant", "by-feature")
REQUESTS = 10_000  # the default length of a random contextual environment
PUBLISHED_SEED = 20_000  # published results: seeds from here up; tuning: below 1,000
LANGS = ("en", "de", "fr", "es", "ja")
TOPICS = ("chat", "code", "extract", "summary")
_STREAM = 0xC7A5  # apart from the environment's and the router's random streams


def random_contextual_scenarios(
    n: int, seed: int, *, requests: int = REQUESTS
) -> list[ContextualScenario]:
    """``n`` random contextual environments, from seeds ``seed`` to ``seed + n - 1``.

    Tune on seeds below 1,000; the published results use seeds from 20,000 up.

    Raises:
        ConfigError: ``n`` below 1, a negative seed, or fewer than 10 requests.

    Example:
        >>> [s.name for s in random_contextual_scenarios(2, seed=8)]
        ['contextual-8-irrelevant', 'contextual-9-by-feature']
    """
    check_range(n, seed, requests)
    return [random_contextual_scenario(seed + i, requests=requests) for i in range(n)]


def random_contextual_scenario(seed: int, *, requests: int = REQUESTS) -> ContextualScenario:
    """The random contextual environment of one seed (the module docstring says what is drawn).

    Example:
        >>> random_contextual_scenario(20_004).kind
        'by-feature'
    """
    import numpy as np

    rng = np.random.default_rng([seed, _STREAM])
    category = CATEGORIES[seed % len(CATEGORIES)]
    k = int(rng.integers(2, 7))
    base = rng.uniform(0.45, 0.95, size=k)
    paths: list[dict[str, Any]] = [
        {
            "name": f"p{i}",
            "latency": {"median": _log_uniform(rng, 0.2, 2.0), "sigma": 0.3},
            "price": _log_uniform(rng, 1e-5, 1e-2),
        }
        for i in range(k)
    ]
    rate = _log_uniform(rng, 1.0, 100.0)
    if category == "by-feature":
        kinds, summary = _by_feature(rng, paths, base)
    else:
        kinds, summary = _kinds(rng, paths, base, same=category == "irrelevant")
    irrelevant: dict[str, Any] = {}
    if category == "irrelevant" or rng.random() < 0.5:
        values = int(rng.integers(2, 7))
        irrelevant["bucket"] = {"choices": [f"b{j}" for j in range(values)]}
        if rng.random() < 0.5:
            irrelevant["noise"] = {"uniform": [0.0, 1.0]}
    if category == "segment-outage":
        summary += "; " + _segment_outage(rng, kinds)
    elif category == "mix-shift":
        summary += "; " + _mix_shift(rng, kinds)
    return ContextualScenario.model_validate(
        {
            "name": f"contextual-{seed}-{category}",
            "description": (
                f"random contextual environment {seed}: K={k}, {len(kinds)} kinds, "
                f"{rate:.3g} req/s; {summary}"
            ),
            "requests": requests,
            "rate": rate,
            "kind": category,
            "paths": paths,
            "kinds": kinds,
            "irrelevant": irrelevant,
        }
    )


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _shares(rng: np.random.Generator, count: int) -> list[float]:
    import numpy as np

    floored = np.maximum(rng.dirichlet(np.full(count, 2.0)), 0.05)
    return [round(float(s), 3) for s in floored / floored.sum()]


def _length(rng: np.random.Generator, low: float, high: float) -> dict[str, Any]:
    mean = round(_log_uniform(rng, low, high))
    return {"normal": [mean, round(0.3 * mean)], "low": 1, "integer": True}


def _kinds(
    rng: np.random.Generator, paths: list[dict[str, Any]], base: np.ndarray, *, same: bool
) -> tuple[list[dict[str, Any]], str]:
    import numpy as np

    count = int(rng.integers(2, 6))
    pairs = rng.choice(len(LANGS) * len(TOPICS), size=count, replace=False)
    shares = _shares(rng, count)
    specialists = rng.permutation(len(paths))
    kinds = []
    best = []
    for j, pair in enumerate(pairs.tolist()):
        lang, topic = LANGS[pair // len(TOPICS)], TOPICS[pair % len(TOPICS)]
        quality = base.copy()
        if not same:
            quality = np.clip(quality + rng.normal(0.0, 0.08, size=len(paths)), 0.05, 0.95)
            s = int(specialists[j % len(paths)])
            others = np.delete(quality, s)
            quality[s] = min(0.99, others.max() + rng.uniform(0.03, 0.12))
        quality = quality.round(3)
        best.append(f"p{int(quality.argmax())}")
        kinds.append(
            {
                "name": f"{lang}-{topic}",
                "share": shares[j],
                "context": {"lang": lang, "topic": topic},
                "features": {"length": _length(rng, 100.0, 3000.0)},
                "paths": {
                    p["name"]: {"success": float(q)} for p, q in zip(paths, quality, strict=True)
                },
            }
        )
    if same:
        return kinds, "every kind alike (no signal in the context)"
    return kinds, "best per kind: " + ", ".join(
        f"{kind['name']} {b}" for kind, b in zip(kinds, best, strict=True)
    )


def _by_feature(
    rng: np.random.Generator, paths: list[dict[str, Any]], base: np.ndarray
) -> tuple[list[dict[str, Any]], str]:
    import numpy as np

    prices = [p["price"] for p in paths]
    dear, cheap = int(np.argmax(prices)), int(np.argmin(prices))
    lang, topic = LANGS[int(rng.integers(len(LANGS)))], TOPICS[int(rng.integers(len(TOPICS)))]
    hard = np.clip(base - rng.uniform(0.1, 0.35, size=len(paths)), 0.05, 0.99)
    hard[dear] = min(0.99, max(base[dear], hard.max() + rng.uniform(0.1, 0.35)))
    easy = base.copy()
    easy[cheap] = min(0.99, easy.max() + 0.01)
    shares = _shares(rng, 2)
    kinds = [
        {
            "name": name,
            "share": share,
            "context": {"lang": lang, "topic": topic},
            "features": {"length": _length(rng, low, high)},
            "paths": {
                p["name"]: {"success": round(float(q), 3)}
                for p, q in zip(paths, quality, strict=True)
            },
        }
        for name, share, quality, (low, high) in (
            ("easy", shares[0], easy, (100.0, 500.0)),
            ("hard", shares[1], hard, (1500.0, 4000.0)),
        )
    ]
    return kinds, f"hard (long) requests need p{dear}, easy ones are as good on p{cheap}"


def _segment_outage(rng: np.random.Generator, kinds: list[dict[str, Any]]) -> str:
    kind = kinds[int(rng.integers(len(kinds)))]
    qualities = {name: q["success"] for name, q in kind["paths"].items()}
    best = max(qualities, key=lambda name: qualities[name])
    start = round(float(rng.uniform(0.15, 0.6)), 3)
    end = round(min(0.97, start + rng.uniform(0.1, 0.35)), 3)
    kind["paths"][best]["error_rate"] = {"steps": [[0.0, 0.0], [start, 1.0], [end, 0.0]]}
    return f"{best} fails (503) for {kind['name']} from {start:.0%} to {end:.0%}"


def _mix_shift(rng: np.random.Generator, kinds: list[dict[str, Any]]) -> str:
    after = _shares(rng, len(kinds))
    start = round(float(rng.uniform(0.15, 0.6)), 3)
    if rng.random() < 0.5:
        for kind, share in zip(kinds, after, strict=True):
            kind["share"] = {"steps": [[0.0, kind["share"]], [start, share]]}
        return f"the mix jumps at {start:.0%}"
    end = round(min(0.99, start + rng.uniform(0.1, 0.5)), 3)
    for kind, share in zip(kinds, after, strict=True):
        kind["share"] = {"linear": [[start, kind["share"]], [end, share]]}
    return f"the mix moves from {start:.0%} to {end:.0%}"
