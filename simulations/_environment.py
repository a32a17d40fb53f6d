"""A scenario's ground truth for one seeded run, and the synthetic paths it drives."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from router import Metered, Path, PathTimeout
from simulations._scenario import PathSpec, Scenario

if TYPE_CHECKING:
    import numpy as np

    from simulations._contextual import ContextualPath
    from simulations._delay import SimClock

ERROR_LATENCY_SHARE = 0.1  # a 5xx or 429 comes back after a tenth of the usual latency


class ServerError(RuntimeError):
    """A synthetic 503 Service Unavailable."""

    status_code = 503


class RateLimited(RuntimeError):
    """A synthetic 429 Too Many Requests, with the Retry-After the provider sent."""

    status_code = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SimOutput:
    """What a synthetic path returns: whether the output would pass the success check."""

    ok: bool


_OUTPUTS = (SimOutput(ok=False), SimOutput(ok=True))  # shared (frozen): none built per call


class Environment:
    """Every path's behaviour at every request of one run, drawn up front.

    The random draws are fixed per (path, request), so every policy replayed with the
    same seed meets the same luck ("common random numbers"): differences between
    policies are differences in their choices.

    Example:
        >>> from simulations import load_scenario
        >>> env = Environment(load_scenario("outage"), seed=0)
        >>> env.best_path(0), env.best_path(7000)
        ('gpt-4o', 'claude-sonnet')
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        import numpy as np

        self.scenario = scenario
        n = scenario.requests
        self.requests = n
        self.specs = {spec.name: spec for spec in scenario.paths}
        self.names = list(self.specs)
        self.start = {spec.name: math.ceil(spec.starts_at * n) for spec in scenario.paths}
        rng = np.random.default_rng([seed, 1_000_003])  # apart from the router's stream
        self._draws: dict[str, tuple[list[float], list[float], list[float]]] = {}
        self._curves: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {}
        expected = np.zeros((len(self.names), n))
        for row, spec in enumerate(scenario.paths):
            success = spec.success.values(n)
            error_rate = spec.error_rate.values(n)
            median = spec.latency.median.values(n)
            price = spec.price.values(n)
            on_time = _on_time_probability(spec, median)
            expected[row] = (1.0 - error_rate) * success * on_time
            expected[row, : self.start[spec.name]] = -1.0  # not deployed yet
            self._curves[spec.name] = (
                success.tolist(),
                error_rate.tolist(),
                median.tolist(),
                price.tolist(),
            )
            self._draws[spec.name] = (
                rng.random(n).tolist(),
                rng.random(n).tolist(),
                rng.standard_normal(n).tolist(),
            )
        self.expected = {name: expected[row].tolist() for row, name in enumerate(self.names)}
        best = np.argmax(expected, axis=0)
        self._best: list[str] = [self.names[i] for i in best]
        self._best_expected: list[float] = expected.max(axis=0).tolist()

    def best_path(self, index: int) -> str:
        """The path with the highest expected score at ``index`` (what the oracle picks)."""
        return self._best[index]

    def best_expected(self, index: int) -> float:
        """The highest expected score of any path at ``index``."""
        return self._best_expected[index]

    def change_points(self) -> list[int]:
        """Request indices where the best path changes."""
        best = self._best
        return [i for i in range(1, self.requests) if best[i] != best[i - 1]]

    def paths(self, clock: SimClock, ledger: dict[str, float]) -> dict[str, Path]:
        """One synthetic ``Path`` per scenario path; each adds its cost to ``ledger['cost']``."""
        return {name: self._path(name, clock, ledger) for name in self.names}

    def _path(self, name: str, clock: SimClock, ledger: dict[str, float]) -> Path:
        spec = self.specs[name]
        return synthetic_path(spec, self._curves[name], self._draws[name], clock, ledger)


def synthetic_path(
    spec: PathSpec | ContextualPath,
    curves: tuple[list[float], list[float], list[float], list[float]],
    draws: tuple[list[float], list[float], list[float]],
    clock: SimClock,
    ledger: dict[str, float],
) -> Path:
    """A ``Path`` called with the request index: ``curves`` are the success, error rate,
    median latency and price at each request, ``draws`` its uniform (error, success) and
    normal (latency) draws; each call adds its cost to ``ledger['cost']``."""
    name = spec.name
    success, error_rate, median, price = curves
    u_error, u_success, z_latency = draws
    sigma, timeout = spec.latency.sigma, spec.timeout
    kind, retry_after = spec.error_kind, spec.retry_after
    replies: dict[tuple[bool, float], Metered] = {}  # frozen, so one per (ok, price)

    def call(index: int) -> Metered:
        latency = median[index] * math.exp(sigma * z_latency[index])
        if u_error[index] < error_rate[index]:
            if kind == "timeout":
                latency = math.inf  # hangs
            else:
                clock.advance(latency * ERROR_LATENCY_SHARE)
                if kind == "429":
                    raise RateLimited(f"{name}: 429 Too Many Requests", retry_after)
                raise ServerError(f"{name}: 503 Service Unavailable")
        if latency > timeout:
            # The router cuts a call at its timeout; the provider still bills it.
            clock.advance(timeout)
            ledger["cost"] += price[index]
            raise PathTimeout(f"path {name!r} did not return within its timeout of {timeout} s")
        clock.advance(latency)
        cost = price[index]
        ledger["cost"] += cost
        key = (u_success[index] < success[index], cost)
        reply = replies.get(key)
        if reply is None:
            reply = replies[key] = Metered(_OUTPUTS[key[0]], cost=cost)
        return reply

    # The call itself enforces the timeout on simulated time (no worker thread).
    return Path(call, name=name)


def _on_time_probability(spec: PathSpec | ContextualPath, median: np.ndarray) -> Any:
    """P(latency <= timeout) for a log-normal latency, per request."""
    import numpy as np
    from scipy.special import ndtr

    if spec.latency.sigma == 0.0:
        return (median <= spec.timeout).astype(float)
    with np.errstate(divide="ignore"):
        z = (np.log(spec.timeout) - np.log(median)) / spec.latency.sigma
    return ndtr(z)
