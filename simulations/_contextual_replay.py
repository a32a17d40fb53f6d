"""Replaying a contextual scenario through each contender: one plain row per request.

Contenders (``CONTENDERS``), all on the same environment draws:

``per-task``    the real Router without context: one posterior per (task, path).
``context``     the real Router with each request's context (``route(x, context=...)``):
                segments that borrow strength from the task's evidence.
``segments``    the real Router with context and ``segment_strength=0``: independent
                Thompson sampling per segment.
``lin-ts``      MABWiser's LinTS on the numeric and one-hot features (not the Router).
``lin-ucb``     MABWiser's LinUCB on the same features.
``oracle``      the real Router ranking paths by their true expected score on each
                request (its kind, its moment).
``only:NAME``   the real Router with the static chain ``NAME`` first (what one model
                alone achieves).
``linear``      the real Router with context and ``policy=ContextualThompson()``:
                Thompson sampling on a linear model of the features (numeric and
                one-hot), instead of segments.
``linear:N``    the same with ``ContextualThompson(noise=N)``.
``context:S``   the real Router with context and ``segment_strength=S`` (a fixed weight
                of the task's evidence instead of the estimated one).

The Router contenders run on the simulated clock with delayed feedback, as
``simulations.replay`` does; the MABWiser ones learn from an outcome only once the
simulated call has finished too, and fall back down their own ranking on an error.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from router import AllPathsFailed, ContextualThompson, Policy, Router, StaticOrder
from simulations._contextual import ContextualScenario, Value
from simulations._contextual_environment import ContextualEnvironment, ContextualOracle
from simulations._delay import DelayedPolicy, DelayedStore, SimClock
from simulations._policies import COST_AWARE_WEIGHT, make_policy
from simulations._replay import START
from storage import open_store

if TYPE_CHECKING:
    import numpy as np

ROUTER_CONTENDERS = ("per-task", "context", "segments", "linear", "oracle")
MABWISER_CONTENDERS = ("lin-ts", "lin-ucb")
CONTENDERS = ("per-task", "context", "segments", "linear", "lin-ts", "lin-ucb", "oracle")
ONLY = "only:"
FIXED = "context:"
LINEAR = "linear:"
_NEEDS_CONTEXT = ("context", "segments", "linear")


def check_contender(contender: str, names: Sequence[str]) -> None:
    """Raise a ConfigError naming the choices unless ``contender`` is one of them.

    Example:
        >>> check_contender("only:mini", ["mini", "gpt-4o"])
    """
    if contender in CONTENDERS:
        return
    if contender.startswith(ONLY) and contender[len(ONLY) :] in names:
        return
    if contender.startswith(FIXED) and _strength(contender) is not None:
        return
    if contender.startswith(LINEAR) and _number(contender[len(LINEAR) :]) is not None:
        return
    raise ConfigError(
        f"unknown contender {contender!r}; choose from {', '.join(CONTENDERS)}, "
        f"only:PATH with PATH one of {', '.join(names)}, or context:S with S >= 0"
    )


def _strength(contender: str) -> float | None:
    return _number(contender[len(FIXED) :])


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def _needs_context(contender: str) -> bool:
    return contender in _NEEDS_CONTEXT or contender.startswith((FIXED, LINEAR))


def replay_contextual(
    source: ContextualScenario | ContextualEnvironment,
    contender: str = "per-task",
    *,
    seed: int = 0,
    policy: str = "router",
    cost_weight: float = 0.0,
) -> Iterator[dict[str, Any]]:
    """Serve every request of a contextual scenario through one contender; yield a row each.

    ``policy`` is the Router contenders' policy (``"router"``: the default;
    ``"cost-aware"``: weighing success against cost); ``cost_weight`` the oracle's
    weight on price (``score - cost_weight * price``). An environment passed in is
    reused (its draws are the seed's; build it with the same seed).

    Rows hold ``request``, ``kind``, ``first`` (the path tried first), ``served`` (None
    if every path failed), ``success`` (the served score), ``attempts``, ``cost``,
    ``latency_ms``, ``expected`` (true expected score of the first choice on this
    request) and ``best_expected`` (that of the best path for it).

    Raises:
        ConfigError: an unknown contender; ``context`` or ``segments`` with a Router
            that takes no context; ``lin-ts`` or ``lin-ucb`` without MABWiser.

    Example:
        >>> from simulations import load_contextual_scenario
        >>> short = load_contextual_scenario("by-kind").with_options(requests=50)
        >>> rows = list(replay_contextual(short, "per-task", seed=1))
        >>> len(rows), rows[0]["kind"]
        (50, 'hard-code')
    """
    env = (
        source if isinstance(source, ContextualEnvironment) else ContextualEnvironment(source, seed)
    )
    check_contender(contender, env.names)
    if contender in MABWISER_CONTENDERS:
        return _mabwiser_rows(env, contender, seed)
    return _router_rows(env, contender, seed, policy, cost_weight)


def _policy_of(contender: str, policy: str, oracle: Callable[[], Policy]) -> Policy:
    """The policy a Router contender routes with."""
    if contender == "oracle":
        return oracle()
    if contender.startswith(ONLY):
        return StaticOrder()
    if contender == "linear":
        weight = COST_AWARE_WEIGHT if policy == "cost-aware" else 0.0
        return ContextualThompson(cost_weight=weight)
    if contender.startswith(LINEAR):
        return ContextualThompson(noise=_number(contender[len(LINEAR) :]) or 0.25)
    return make_policy(policy)


def _router_rows(
    env: ContextualEnvironment, contender: str, seed: int, policy: str, cost_weight: float
) -> Iterator[dict[str, Any]]:
    scenario = env.scenario
    clock = SimClock(START)
    ledger = {"cost": 0.0}
    paths = env.paths(clock, ledger)
    current = {"index": 0}
    order = list(env.names)
    if contender.startswith(ONLY):
        lead = contender[len(ONLY) :]
        order = [lead, *(name for name in env.names if name != lead)]
    chosen = _policy_of(
        contender, policy, lambda: ContextualOracle(env, lambda: current["index"], cost_weight)
    )
    options: dict[str, Any] = {}
    if contender == "segments":
        options["segment_strength"] = 0.0
    elif contender.startswith(FIXED):
        options["segment_strength"] = _strength(contender)
    store = open_store("memory://")
    delayed = DelayedStore(store, clock)
    router = Router(
        [paths[name] for name in order],
        success_fn=lambda output: output.ok,
        task=f"contextual/{scenario.name}/{contender}/seed-{seed}",
        store=delayed,
        seed=seed,
        clock=clock.reader(),
        sleep=clock.sleep,
        policy=DelayedPolicy(chosen, clock),
        **options,
    )
    contexts = env.contexts if _needs_context(contender) else None
    spacing = 1.0 / scenario.rate
    try:
        for index in range(scenario.requests):
            current["index"] = index
            arrival = START + index * spacing
            clock.set(arrival)
            ledger["cost"] = 0.0
            try:
                if contexts is None:
                    result = router.route(index)
                else:
                    result = router.route(index, context=contexts[index])
            except AllPathsFailed as failed:
                first = failed.attempts[0].path if failed.attempts else None
                served, success, attempts = None, 0.0, len(failed.attempts)
            else:
                first, served = result.attempts[0].path, result.path
                success, attempts = result.score, len(result.attempts)
            yield _row(
                env,
                index,
                first=first,
                served=served,
                success=success,
                attempts=attempts,
                cost=ledger["cost"],
                seconds=clock.now - arrival,
            )
    finally:
        router.close()
        delayed.flush()
        store.close()


def _row(
    env: ContextualEnvironment,
    index: int,
    *,
    first: str | None,
    served: str | None,
    success: float,
    attempts: int,
    cost: float,
    seconds: float,
) -> dict[str, Any]:
    return {
        "request": index,
        "kind": env.kinds[index],
        "first": first,
        "served": served,
        "success": success,
        "attempts": attempts,
        "cost": cost,
        "latency_ms": seconds * 1000.0,
        "expected": env.expected[first][index] if first else 0.0,
        "best_expected": env.best_expected(index),
    }


def feature_matrix(contexts: Sequence[dict[str, Value]]) -> tuple[np.ndarray, list[str]]:
    """The linear contenders' features: an intercept, each numeric key standardised over
    the run (mean 0, sd 1; missing: 0), and a one-hot column per categorical (key, value).

    Example:
        >>> x, columns = feature_matrix([{"lang": "de", "n": 1}, {"lang": "en", "n": 3}])
        >>> columns, x.tolist()
        (['1', 'n', 'lang=de', 'lang=en'], [[1.0, -1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0]])
    """
    import numpy as np

    numeric: dict[str, None] = {}
    categories: dict[tuple[str, Value], None] = {}
    for context in contexts:
        for key, value in context.items():
            if isinstance(value, str | bool):
                categories[key, value] = None
            else:
                numeric[key] = None
    columns = ["1", *numeric, *(f"{k}={v}" for k, v in categories)]
    x = np.zeros((len(contexts), len(columns)))
    x[:, 0] = 1.0
    where = {key: 1 + i for i, key in enumerate(numeric)}
    one_hot = {pair: 1 + len(numeric) + i for i, pair in enumerate(categories)}
    for row, context in enumerate(contexts):
        for key, value in context.items():
            if isinstance(value, str | bool):
                x[row, one_hot[key, value]] = 1.0
            else:
                x[row, where[key]] = float(value)
    for key, column in where.items():
        present = np.array([key in c for c in contexts])
        values = x[present, column]
        sd = values.std()
        x[present, column] = (values - values.mean()) / (sd if sd > 0 else 1.0)
    return x, columns


def _mabwiser_rows(
    env: ContextualEnvironment, contender: str, seed: int
) -> Iterator[dict[str, Any]]:
    try:
        from mabwiser.mab import MAB, LearningPolicy
    except ImportError as exc:
        raise ConfigError(
            f"contender {contender!r} needs MABWiser: pip install 'outcome-router[bench]' "
            "(or leave lin-ts and lin-ucb out)"
        ) from exc
    learning = LearningPolicy.LinTS() if contender == "lin-ts" else LearningPolicy.LinUCB()
    return _linear_rows(env, MAB(arms=list(env.names), learning_policy=learning, seed=seed))


def _linear_rows(env: ContextualEnvironment, mab: Any) -> Iterator[dict[str, Any]]:
    """Rank paths by the model's expectations for each request's features (round robin
    until the first outcome arrives), try them in that order until one does not error,
    and feed each attempt's score back once its simulated call has finished."""
    x, _ = feature_matrix(env.contexts)
    names, k = env.names, len(env.names)
    spacing = 1.0 / env.scenario.rate
    pending: list[tuple[float, int, str, float, int]] = []
    order_of = itertools.count()
    fitted = False
    for index in range(env.requests):
        arrival = index * spacing
        due: list[tuple[float, int, str, float, int]] = []
        while pending and pending[0][0] <= arrival:
            due.append(heapq.heappop(pending))
        if due:
            decisions = [d[2] for d in due]
            rewards = [d[3] for d in due]
            rows = x[[d[4] for d in due]]
            if fitted:
                mab.partial_fit(decisions, rewards, rows)
            else:
                mab.fit(decisions, rewards, rows)
                fitted = True
        if fitted:
            expectations = mab.predict_expectations(x[index : index + 1])
            order = sorted(names, key=lambda name: -float(expectations[name]))
        else:
            order = [names[(index + j) % k] for j in range(k)]
        now, cost, attempts = arrival, 0.0, 0
        served: str | None = None
        success = 0.0
        for name in order:
            call = env.call(index, name)
            attempts += 1
            now += call.latency
            cost += call.price
            score = 0.0 if call.errored else float(call.ok)
            heapq.heappush(pending, (now, next(order_of), name, score, index))
            if not call.errored:
                served, success = name, score
                break
        yield _row(
            env,
            index,
            first=order[0],
            served=served,
            success=success,
            attempts=attempts,
            cost=cost,
            seconds=now - arrival,
        )
