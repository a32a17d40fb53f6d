"""A contextual scenario's ground truth for one seeded run: each request's kind and
context, every path's behaviour on it, and the oracle that knows the best path per request."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from router import Choice, Path
from simulations._contextual import ContextualScenario, Draw, Value
from simulations._environment import ERROR_LATENCY_SHARE, _on_time_probability, synthetic_path
from storage import PathPosterior

if TYPE_CHECKING:
    import numpy as np

    from simulations._delay import SimClock

_KIND_STREAM = 0xC0DE  # which kind each request is
_CONTEXT_STREAM = 0xC0DF  # drawn context values, one stream per key
_PATH_STREAM = 0xC0E0  # each path's luck, one stream per path


@dataclass(frozen=True, slots=True)
class Call:
    """What calling a path on one request does: an error, or an output that passes the
    success check or not; ``latency`` in seconds (a timeout: the path's timeout) and the
    ``price`` billed (a 5xx or 429 is not billed)."""

    errored: bool
    ok: bool
    latency: float
    price: float


class ContextualEnvironment:
    """Every request's kind and context, and every path's behaviour on it, drawn up front.

    The draws are fixed per (seed, request), and each context key and each path has a
    random stream of its own, so every contender replayed with the same seed meets the
    same requests and the same luck ("common random numbers").

    Per request ``i``: ``kinds[i]``, ``contexts[i]`` (str, bool, int and float values),
    ``expected[path][i]`` (the path's true expected score on it: its kind, its moment)
    and ``prices[path][i]``; ``shares[k, i]`` is kind ``k``'s true share of traffic
    then, and ``kind_expected[kind, path][i]`` a path's expected score for any kind.

    Example:
        >>> from simulations import load_contextual_scenario
        >>> env = ContextualEnvironment(load_contextual_scenario("by-kind"), seed=0)
        >>> env.kinds[0], env.contexts[0]["lang"], env.best_path(0)
        ('easy-en', 'en', 'mini')
    """

    def __init__(self, scenario: ContextualScenario, seed: int) -> None:
        import numpy as np

        self.scenario = scenario
        n = self.requests = scenario.requests
        self.names = [p.name for p in scenario.paths]
        self.kind_names = [k.name for k in scenario.kinds]
        shares = np.array([k.share.values(n) for k in scenario.kinds])
        cumulative = np.cumsum(shares / shares.sum(axis=0), axis=0)
        u_kind = np.random.default_rng([seed, _KIND_STREAM]).random(n)
        chosen = np.minimum((u_kind[None, :] >= cumulative).sum(axis=0), len(shares) - 1)
        self.kind_index: list[int] = chosen.tolist()
        self.kinds: list[str] = [self.kind_names[i] for i in self.kind_index]
        self.shares = shares / shares.sum(axis=0)  # the true mix at each request
        self.contexts = self._contexts(seed, chosen)
        columns = np.arange(n)
        self._curves: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {}
        self._draws: dict[str, tuple[list[float], list[float], list[float]]] = {}
        expected, prices = np.zeros((len(self.names), n)), np.zeros((len(self.names), n))
        self.kind_expected: dict[tuple[str, str], list[float]] = {}
        for row, spec in enumerate(scenario.paths):
            median = spec.latency.median.values(n)
            on_time = _on_time_probability(spec, median)
            per_kind = [scenario.quality(kind, spec.name) for kind in self.kind_names]
            success = np.array([q.success.values(n) for q in per_kind])[chosen, columns]
            error_rate = np.array([q.error_rate.values(n) for q in per_kind])[chosen, columns]
            price = np.array([q.price.values(n) for q in per_kind])[chosen, columns]
            for kind, q in zip(self.kind_names, per_kind, strict=True):
                value = (1.0 - q.error_rate.values(n)) * q.success.values(n) * on_time
                self.kind_expected[kind, spec.name] = value.tolist()
            expected[row] = (1.0 - error_rate) * success * on_time
            prices[row] = price
            self._curves[spec.name] = (
                success.tolist(),
                error_rate.tolist(),
                median.tolist(),
                price.tolist(),
            )
            rng = np.random.default_rng([seed, _PATH_STREAM, _stable(spec.name)])
            self._draws[spec.name] = (
                rng.random(n).tolist(),
                rng.random(n).tolist(),
                rng.standard_normal(n).tolist(),
            )
        self.expected = {name: expected[row].tolist() for row, name in enumerate(self.names)}
        self.prices = {name: prices[row].tolist() for row, name in enumerate(self.names)}
        self._expected_array, self._price_array = expected, prices
        self._best: dict[float, tuple[list[str], list[float]]] = {}

    def best_path(self, index: int, cost_weight: float = 0.0) -> str:
        """The path with the highest expected score for request ``index`` (its kind, its
        moment), or of ``score - cost_weight * price`` when a weight is given."""
        return self._oracle(cost_weight)[0][index]

    def best_expected(self, index: int, cost_weight: float = 0.0) -> float:
        """The expected score of the best path for request ``index``."""
        return self._oracle(cost_weight)[1][index]

    def best_for_kind(self, kind: str, index: int) -> str:
        """The best path for a request of ``kind`` at the moment of request ``index``."""
        return max(self.names, key=lambda name: self.kind_expected[kind, name][index])

    def call(self, index: int, path: str) -> Call:
        """What ``path`` does on request ``index`` (for contenders that bypass the Router).

        Example:
            >>> from simulations import load_contextual_scenario
            >>> env = ContextualEnvironment(load_contextual_scenario("by-kind"), seed=0)
            >>> env.call(0, "mini") == env.call(0, "mini")
            True
        """
        spec = self.scenario.paths[self.names.index(path)]
        success, error_rate, median, price = self._curves[path]
        u_error, u_success, z_latency = self._draws[path]
        latency = median[index] * math.exp(spec.latency.sigma * z_latency[index])
        if u_error[index] < error_rate[index]:
            if spec.error_kind != "timeout":
                return Call(True, False, latency * ERROR_LATENCY_SHARE, 0.0)
            latency = math.inf
        if latency > spec.timeout:
            return Call(True, False, spec.timeout, price[index])
        return Call(False, u_success[index] < success[index], latency, price[index])

    def paths(self, clock: SimClock, ledger: dict[str, float]) -> dict[str, Path]:
        """One synthetic ``Path`` per scenario path, called with the request index; each
        adds its cost to ``ledger['cost']``."""
        specs = {p.name: p for p in self.scenario.paths}
        return {
            name: synthetic_path(specs[name], self._curves[name], self._draws[name], clock, ledger)
            for name in self.names
        }

    def _oracle(self, cost_weight: float) -> tuple[list[str], list[float]]:
        import numpy as np

        if cost_weight not in self._best:
            objective = self._expected_array - cost_weight * self._price_array
            best = np.argmax(objective, axis=0)
            self._best[cost_weight] = (
                [self.names[i] for i in best],
                self._expected_array[best, np.arange(self.requests)].tolist(),
            )
        return self._best[cost_weight]

    def _contexts(self, seed: int, chosen: np.ndarray) -> list[dict[str, Value]]:
        n, scenario = self.requests, self.scenario
        drawn: dict[str, list[Value]] = {}
        for key, draw in scenario.irrelevant.items():
            drawn[key] = _values(draw, _stream(seed, key), n)
        per_kind: list[dict[str, list[Value]]] = []
        for kind in scenario.kinds:
            per_kind.append(
                {key: _values(draw, _stream(seed, key), n) for key, draw in kind.features.items()}
            )
        contexts: list[dict[str, Value]] = []
        for i, k in enumerate(chosen.tolist()):
            kind = scenario.kinds[k]
            context: dict[str, Value] = dict(kind.context)
            for key, values in per_kind[k].items():
                context[key] = values[i]
            for key, values in drawn.items():
                context[key] = values[i]
            contexts.append(context)
        return contexts


def _stable(text: str) -> int:
    """A hash of ``text`` that is the same in every process (``hash()`` is salted)."""
    return zlib.crc32(text.encode("utf-8"))


def _stream(seed: int, key: str) -> np.random.Generator:
    import numpy as np

    return np.random.default_rng([seed, _CONTEXT_STREAM, _stable(key)])


def _values(draw: Draw, rng: np.random.Generator, n: int) -> list[Value]:
    """``n`` values of one drawn context key (every kind draws a key from the same stream)."""
    import numpy as np

    if draw.choices is not None:
        weights = np.ones(len(draw.choices)) if draw.weights is None else np.array(draw.weights)
        cumulative = np.cumsum(weights / weights.sum())
        picks = np.minimum(
            np.searchsorted(cumulative, rng.random(n), side="right"), len(weights) - 1
        )
        return [draw.choices[i] for i in picks.tolist()]
    if draw.normal is not None:
        mean, sd = draw.normal
        values = mean + sd * rng.standard_normal(n)
    else:
        assert draw.uniform is not None
        low, high = draw.uniform
        values = low + (high - low) * rng.random(n)
    if draw.low is not None or draw.high is not None:
        values = np.clip(values, draw.low, draw.high)
    if draw.integer:
        return [int(v) for v in np.rint(values).tolist()]
    return [float(v) for v in values.tolist()]


class ContextualOracle:
    """Ranks paths by their true expected score on the current request (simulation only):
    it knows each request's kind and every path's quality for it at that moment; with a
    ``cost_weight``, by ``score - cost_weight * price`` (the objective of ``CostAware``)."""

    def __init__(
        self,
        environment: ContextualEnvironment,
        current: Callable[[], int],
        cost_weight: float = 0.0,
    ) -> None:
        self._expected = environment.expected
        self._prices = environment.prices
        self._current = current
        self._weight = cost_weight

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Best objective first."""
        i, weight = self._current(), self._weight
        order = sorted(
            candidates, key=lambda name: -(self._expected[name][i] - weight * self._prices[name][i])
        )
        return Choice(order, {name: float(name == order[0]) for name in candidates})

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """The oracle needs no feedback."""

    def __repr__(self) -> str:
        return f"ContextualOracle(cost_weight={self._weight})"
