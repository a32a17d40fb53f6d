"""The policies a simulation compares, by name, and the oracle that knows the truth."""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from router import (
    UCB1,
    AdaptiveThompson,
    Choice,
    CostAware,
    DiscountedThompson,
    EpsilonGreedy,
    GLRklUCB,
    Policy,
    RoundRobin,
    SlidingWindowThompson,
    StaticOrder,
    Thompson,
)
from storage import PathPosterior

if TYPE_CHECKING:
    import numpy as np

    from simulations._environment import Environment

ORACLE = "oracle"


COST_AWARE_WEIGHT = 20.0
"""Successes per dollar of the ``cost-aware`` policy when no weight or ceiling is given."""


def _cost_aware(
    weight: float | None = None, max_cost_per_success: float | None = None, **settings: Any
) -> CostAware:
    """CostAware with 20 successes per dollar unless a weight or a ceiling is given."""
    if weight is None and max_cost_per_success is None:
        weight = COST_AWARE_WEIGHT
    return CostAware(weight=weight, max_cost_per_success=max_cost_per_success, **settings)


_CLASSES: dict[str, tuple[Callable[..., Policy], dict[str, Any]]] = {
    "router": (AdaptiveThompson, {}),
    "static-chain": (StaticOrder, {}),
    "round-robin": (RoundRobin, {}),
    "epsilon-greedy": (EpsilonGreedy, {"epsilon": 0.1}),
    "ucb1": (UCB1, {}),
    "thompson": (Thompson, {}),
    "discounted-ts": (DiscountedThompson, {"gamma": 0.995}),
    "sliding-window-ts": (SlidingWindowThompson, {"window": 1000}),
    "cost-aware": (_cost_aware, {}),
    "glr-klucb": (GLRklUCB, {}),
}

POLICIES: dict[str, Callable[[], Policy]] = {
    name: functools.partial(kind, **defaults) for name, (kind, defaults) in _CLASSES.items()
}
"""Every comparable policy with its default settings; ``router`` is the Router's default."""

DESCRIPTIONS = {
    "router": "the Router's default: Thompson sampling + change detection + availability",
    "static-chain": "the hand-written chain: first path, next on failure",
    "round-robin": "each request starts one path further along",
    "epsilon-greedy": "best average first, a random order 10% of the time",
    "ucb1": "UCB1 upper confidence bounds",
    "thompson": "stationary Thompson sampling",
    "discounted-ts": "discounted Thompson sampling, gamma = 0.995",
    "sliding-window-ts": "sliding-window Thompson sampling, last 1000 scores",
    "cost-aware": "the router's default weighing success against cost (20 successes per $)",
    "glr-klucb": "GLR-klUCB: change detection with local restarts and forced exploration",
    ORACLE: "knows the true best path at every moment",
}

ALL_POLICIES = (*POLICIES, ORACLE)

_SPEC = re.compile(r"^\s*([a-z0-9-]+)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def make_policy(spec: str) -> Policy:
    """Build a policy from its name, optionally with settings: ``discounted-ts(gamma=0.95)``.

    Example:
        >>> make_policy("discounted-ts(gamma=0.9)")
        DiscountedThompson(gamma=0.9)
    """
    name, settings = _parse(spec)
    if name == ORACLE:
        raise ConfigError("the oracle needs the scenario's ground truth; replay() builds it")
    kind, defaults = _CLASSES[name]
    parameters = inspect.signature(kind).parameters.values()
    accepted = [
        p.name for p in parameters if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    unknown = sorted(set(settings) - set(accepted))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in parameters):
        raise ConfigError(
            f"policy {spec!r}: unknown setting(s) {', '.join(unknown)}; "
            f"{name} takes {', '.join(accepted) or 'no settings'}"
        )
    try:
        return kind(**{**defaults, **settings})
    except TypeError as exc:
        raise ConfigError(f"policy {spec!r}: {exc}") from exc


def check_policies(specs: Sequence[str]) -> list[str]:
    """Validate policy specs from the command line or an API call (each builds once)."""
    for spec in specs:
        if _parse(spec)[0] != ORACLE:
            make_policy(spec)
    return list(dict.fromkeys(specs))


def _parse(spec: str) -> tuple[str, dict[str, Any]]:
    match = _SPEC.match(spec)
    if match is None or match.group(1) not in (*_CLASSES, ORACLE):
        raise ConfigError(
            f"unknown policies [{spec!r}]; choose from {', '.join(ALL_POLICIES)}, "
            "optionally with settings, e.g. 'discounted-ts(gamma=0.95)'"
        )
    settings: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in (match.group(2) or "").split(","))):
        key, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError(part)
            settings[key.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError) as exc:
            raise ConfigError(f"policy {spec!r}: settings are key=value, got {part!r}") from exc
    return match.group(1), settings


class Oracle:
    """Ranks paths by their true expected score at the current request (simulation only)."""

    def __init__(self, environment: Environment, current: Callable[[], int]) -> None:
        self._expected = environment.expected
        self._current = current

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Best expected score first."""
        index = self._current()
        order = sorted(candidates, key=lambda name: -self._expected[name][index])
        return Choice(order, {name: float(name == order[0]) for name in candidates})

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """The oracle needs no feedback."""
