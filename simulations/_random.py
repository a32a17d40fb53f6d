"""Random degradation environments: scenarios nobody hand-wrote, for testing a policy
where it was not tuned.

Each environment is drawn from its own seed, so environment ``10_005`` is the same
whether it is asked for alone or among two hundred. Its *kind* (the change it replays)
is ``KINDS[seed % len(KINDS)]``, so every range of seeds holds the kinds in equal
shares.

What is drawn, per environment (every draw documented here is the whole generator):

* K paths, 2 to 8 (uniform); each path's quality uniform in [0.35, 0.97], median
  latency log-uniform in [0.2, 2] s (sigma 0.3, timeout 10 s) and price log-uniform
  in [$0.00001, $0.01] per call.
* The request rate, log-uniform in [1, 500] per simulated second: with the latencies
  above, from under one to about a thousand requests are in flight.
* The change, by kind (times are fractions of the run, drawn in [0.15, 0.85]):

  ``drop``        a path (the best, 70% of the time) loses 0.15-0.5 of its quality
                  silently; it recovers later 60% of the time.
  ``rise``        a path that is not the best rises silently to 0.03-0.2 above the best.
  ``rotation``    three times, the best path swaps its quality with another path's.
  ``drift``       any path's quality moves linearly by 0.2-0.45 (up or down) over
                  20-80% of the run.
  ``outage``      a path (the best, 70% of the time) fails every call (503, or a
                  timeout 30% of the time) for 5-40% of the run.
  ``brownout``    one or two paths (the best first) fail 30-70% of their calls for
                  10-50% of the run.
  ``storm-429``   one to three bursts of 2-10% of the run in which 70-100% of a path's
                  calls are rate limited (429, Retry-After 0.5-5 s).
  ``price``       a path's price rises 5-20 fold (the best, 70% of the time).
  ``stationary``  nothing changes.

The paths are listed in the order a careful engineer would write a static fallback
chain: by their qualities at the start as measured on a 100-example evaluation set
(binomial noise), best first. The static chain (``StaticOrder``) follows that order.

Example:
    >>> scenarios = random_scenarios(3, seed=10_000)
    >>> [s.kind for s in scenarios]
    ['rise', 'rotation', 'drift']
    >>> random_scenarios(1, seed=10_001)[0] == scenarios[1]
    True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from simulations._scenario import Scenario

if TYPE_CHECKING:
    import numpy as np

KINDS = (
    "drop",
    "rise",
    "rotation",
    "drift",
    "outage",
    "brownout",
    "storm-429",
    "price",
    "stationary",
)
REQUESTS = 12_000  # the default length of a random environment
EVALUATION_SET = 100  # examples per path in the evaluation that orders the static chain
_STREAM = 0x5EED  # apart from the environment's and the router's random streams


def random_scenarios(n: int, seed: int, *, requests: int = REQUESTS) -> list[Scenario]:
    """``n`` random environments, from seeds ``seed`` to ``seed + n - 1``.

    Tune on seeds below 1,000; the published results use seeds from 10,000 up.

    Raises:
        ConfigError: ``n`` below 1, a negative seed, or fewer than 10 requests.

    Example:
        >>> [s.name for s in random_scenarios(2, seed=7)]
        ['random-7-price', 'random-8-stationary']
    """
    check_range(n, seed, requests)
    return [random_scenario(seed + i, requests=requests) for i in range(n)]


def check_range(n: object, seed: object, requests: object) -> None:
    """Raise ConfigError unless ``n`` >= 1 environments from ``seed`` >= 0 of ``requests``
    >= 10 requests each can be drawn (every random environment generator checks this).

    Example:
        >>> check_range(2, seed=0, requests=10)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n (how many environments) must be an integer >= 1, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    if isinstance(requests, bool) or not isinstance(requests, int) or requests < 10:
        raise ConfigError(f"requests must be an integer >= 10, got {requests!r}")


def random_scenario(seed: int, *, requests: int = REQUESTS) -> Scenario:
    """The random environment of one seed (see the module docstring for what is drawn).

    Example:
        >>> random_scenario(4).kind
        'outage'
    """
    import numpy as np

    rng = np.random.default_rng([seed, _STREAM])
    kind = KINDS[seed % len(KINDS)]
    k = int(rng.integers(2, 9))
    quality = rng.uniform(0.35, 0.97, size=k)
    paths: list[dict[str, Any]] = [
        {
            "name": f"p{i}",
            "success": float(round(quality[i], 3)),
            "latency": {"median": _log_uniform(rng, 0.2, 2.0), "sigma": 0.3},
            "price": _log_uniform(rng, 1e-5, 1e-2),
        }
        for i in range(k)
    ]
    rate = _log_uniform(rng, 1.0, 500.0)
    summary = _CHANGES[kind](rng, paths, quality)
    measured = rng.binomial(EVALUATION_SET, quality) / EVALUATION_SET
    chain = sorted(range(k), key=lambda i: (-measured[i], i))
    return Scenario.model_validate(
        {
            "name": f"random-{seed}-{kind}",
            "description": f"random environment {seed}: K={k}, {rate:.3g} req/s; {summary}",
            "requests": requests,
            "rate": rate,
            "kind": kind,
            "paths": [paths[i] for i in chain],
        }
    )


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _when(rng: np.random.Generator, count: int = 1) -> list[float]:
    """``count`` distinct sorted change times in [0.15, 0.85], rounded to 1/1000 of the run."""
    times = sorted(round(float(t), 3) for t in rng.uniform(0.15, 0.85, size=count))
    for i in range(1, len(times)):
        times[i] = max(times[i], round(times[i - 1] + 0.001, 3))
    return times


def _target(rng: np.random.Generator, quality: np.ndarray) -> int:
    """The path a change hits: the best 70% of the time, else any path."""
    return int(quality.argmax()) if rng.random() < 0.7 else int(rng.integers(len(quality)))


def _drop(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    i = _target(rng, quality)
    low = round(max(0.05, quality[i] - rng.uniform(0.15, 0.5)), 3)
    start = _when(rng)[0]
    steps = [[0.0, paths[i]["success"]], [start, low]]
    recovers = rng.random() < 0.6
    if recovers:
        end = round(min(0.95, start + rng.uniform(0.1, 0.4)), 3)
        steps.append([end, paths[i]["success"]])
    paths[i]["success"] = {"steps": steps}
    back = f", back at {steps[-1][0]:.0%}" if recovers else ""
    return f"p{i} drops silently to {low} at {start:.0%}{back}"


def _rise(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    best = int(quality.argmax())
    i = int(rng.choice([j for j in range(len(quality)) if j != best]))
    high = round(min(0.99, quality[best] + rng.uniform(0.03, 0.2)), 3)
    start = _when(rng)[0]
    paths[i]["success"] = {"steps": [[0.0, paths[i]["success"]], [start, high]]}
    return f"p{i} (not served) rises silently to {high} at {start:.0%}"


def _rotation(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    current = [float(round(q, 3)) for q in quality]
    series: list[list[list[float]]] = [[[0.0, q]] for q in current]
    moves = []
    for at in _when(rng, 3):
        best = current.index(max(current))
        other = int(rng.choice([j for j in range(len(current)) if j != best]))
        current[best], current[other] = current[other], current[best]
        series[best].append([at, current[best]])
        series[other].append([at, current[other]])
        moves.append(f"p{other} best at {at:.0%}")
    for path, steps in zip(paths, series, strict=True):
        path["success"] = {"steps": steps} if len(steps) > 1 else steps[0][1]
    return "the best path rotates: " + ", ".join(moves)


def _drift(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    i = int(rng.integers(len(quality)))
    step = rng.uniform(0.2, 0.45) * (1.0 if rng.random() < 0.5 else -1.0)
    end_value = round(min(0.99, max(0.05, quality[i] + step)), 3)
    start = round(float(rng.uniform(0.05, 0.5)), 3)
    end = round(min(0.99, start + rng.uniform(0.2, 0.8)), 3)
    begin = paths[i]["success"]
    paths[i]["success"] = {"linear": [[start, begin], [end, end_value]]}
    return f"p{i} drifts from {begin} to {end_value} ({start:.0%}-{end:.0%})"


def _outage(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    i = _target(rng, quality)
    start = _when(rng)[0]
    end = round(min(0.97, start + rng.uniform(0.05, 0.4)), 3)
    paths[i]["error_rate"] = {"steps": [[0.0, 0.0], [start, 1.0], [end, 0.0]]}
    paths[i]["error_kind"] = "timeout" if rng.random() < 0.3 else "5xx"
    return f"p{i} fails every call ({paths[i]['error_kind']}) from {start:.0%} to {end:.0%}"


def _brownout(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    order = [int(j) for j in quality.argsort()[::-1]]
    hit = order[: 1 + int(rng.random() < 0.5 and len(order) > 2)]
    start = _when(rng)[0]
    end = round(min(0.97, start + rng.uniform(0.1, 0.5)), 3)
    parts = []
    for i in hit:
        share = round(float(rng.uniform(0.3, 0.7)), 2)
        paths[i]["error_rate"] = {"steps": [[0.0, 0.0], [start, share], [end, 0.0]]}
        parts.append(f"p{i} fails {share:.0%}")
    return f"brown-out from {start:.0%} to {end:.0%}: " + ", ".join(parts)


def _storm(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    i = _target(rng, quality)
    bursts = int(rng.integers(1, 4))
    share = round(float(rng.uniform(0.7, 1.0)), 2)
    steps: list[list[float]] = [[0.0, 0.0]]
    for at in _when(rng, bursts):
        if at <= steps[-1][0]:
            continue  # overlaps the previous burst: one longer storm
        end = round(min(0.97, at + rng.uniform(0.02, 0.1)), 3)
        steps += [[at, share], [end, 0.0]]
    paths[i]["error_rate"] = {"steps": steps}
    paths[i]["error_kind"] = "429"
    paths[i]["retry_after"] = round(float(rng.uniform(0.5, 5.0)), 2)
    return f"p{i}: {(len(steps) - 1) // 2} burst(s) of 429 on {share:.0%} of calls"


def _price(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    i = _target(rng, quality)
    factor = float(rng.uniform(5.0, 20.0))
    start = _when(rng)[0]
    paths[i]["price"] = {"steps": [[0.0, paths[i]["price"]], [start, paths[i]["price"] * factor]]}
    return f"p{i}'s price rises {factor:.1f}x at {start:.0%}"


def _stationary(rng: np.random.Generator, paths: list[dict[str, Any]], quality: np.ndarray) -> str:
    return "nothing changes"


_CHANGES = {
    "drop": _drop,
    "rise": _rise,
    "rotation": _rotation,
    "drift": _drift,
    "outage": _outage,
    "brownout": _brownout,
    "storm-429": _storm,
    "price": _price,
    "stationary": _stationary,
}
