"""Off-policy evaluation on a store's logs: what a target policy, possibly contextual,
would have scored on the requests a task served.

Each request's first attempt is one logged row: the path tried, the propensity the
router logged for it, its score and the request's context. A *target* says what it
would have done with that context: ``target(context) -> {path: probability}`` (or a
path name, for a deterministic policy); a path name or a ``{path: probability}`` dict
alone is a target that ignores the context. IPS, SNIPS and DR come from
:func:`bandits.evaluate_policy`; DR's reward model is the context-aware ridge
regression of :func:`bandits.fit_contextual_reward_model`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from bandits import ConfigError
from bandits._reward_model import DEFAULT_RIDGE, ContextValue
from storage._protocol import ReadStore

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from bandits._ope import Method, OffPolicyEstimate

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.intp]

Choice: TypeAlias = Mapping[str, float] | str
Target: TypeAlias = Callable[[dict[str, ContextValue]], Choice] | Choice
_SUM_TOLERANCE = 1e-6
logger = logging.getLogger("outcome_router")


@dataclass(frozen=True, slots=True)
class LoggedFirstAttempts:
    """A task's scored first attempts that carry a propensity, as arrays to reweight.

    ``paths`` are the task's logged paths, sorted (``actions`` index them);
    ``contexts`` holds each row's context dict, or None, ``request_ids`` its request.
    ``scored`` counts the task's scored first attempts, ``left_out`` those of them
    without a propensity (a held path's trial, or rows logged before propensities
    were), which are not in the arrays.
    """

    task: str
    paths: tuple[str, ...]
    actions: IntArray
    propensities: FloatArray
    rewards: FloatArray
    contexts: tuple[dict[str, ContextValue] | None, ...]
    request_ids: tuple[str, ...]
    scored: int
    left_out: int

    @property
    def n(self) -> int:
        return int(self.actions.size)

    def target_probs(self, target: Target) -> FloatArray:
        """The ``(n, K)`` probabilities ``target`` gives each path on every logged row.

        Example:
            >>> from storage import MemoryStore, Outcome
            >>> store = MemoryStore()
            >>> for i, (path, length) in enumerate([("cheap", 40), ("strong", 900)]):
            ...     _ = store.record(Outcome(f"r{i}", 1, "t", path, 1.0, created_at=i,
            ...                              propensity=0.5, context={"length": length}))
            >>> logged = logged_first_attempts(store, "t")
            >>> by_length = lambda context: "cheap" if context["length"] < 100 else "strong"
            >>> logged.target_probs(by_length).tolist()
            [[1.0, 0.0], [0.0, 1.0]]
            >>> logged.target_probs({"cheap": 0.25, "strong": 0.75}).tolist()
            [[0.25, 0.75], [0.25, 0.75]]
        """
        import numpy as np

        index = {path: k for k, path in enumerate(self.paths)}
        pi = np.zeros((self.n, len(self.paths)))
        if not callable(target):
            pi[:] = self._row(target, index, None)
            return pi
        for i, context in enumerate(self.contexts):
            pi[i] = self._row(target(dict(context or {})), index, context)
        return pi

    def evaluate(
        self,
        target: Target,
        *,
        method: Method = "snips",
        ridge: float = DEFAULT_RIDGE,
        rng: np.random.Generator | None = None,
        n_bootstrap: int = 1000,
        level: float = 0.95,
    ) -> OffPolicyEstimate:
        """The target's mean first-attempt score by IPS, SNIPS or DR, with its interval.

        DR's reward model is :func:`bandits.fit_contextual_reward_model` (``ridge``) on
        these rows; the interval is :func:`bandits.evaluate_policy`'s bootstrap.

        Example:
            >>> from storage import MemoryStore, Outcome
            >>> store = MemoryStore()
            >>> for i, (path, score) in enumerate([("a", 1.0), ("b", 0.0), ("a", 0.0)]):
            ...     _ = store.record(Outcome(f"r{i}", 1, "t", path, score, created_at=i,
            ...                              propensity=0.5))
            >>> logged = logged_first_attempts(store, "t")
            >>> [round(logged.evaluate("a", method=m).value, 3) for m in ("ips", "snips")]
            [0.667, 0.5]
        """
        from bandits._ope import evaluate_policy
        from bandits._reward_model import fit_contextual_reward_model

        pi = self.target_probs(target)
        reward_model = None
        if method == "dr":
            model = fit_contextual_reward_model(
                self.actions, self.rewards, len(self.paths), self.contexts, ridge=ridge
            )
            reward_model = model.predict(self.contexts)
        return evaluate_policy(
            self.actions,
            self.propensities,
            self.rewards,
            pi,
            method=method,
            reward_model=reward_model,
            rng=rng,
            n_bootstrap=n_bootstrap,
            level=level,
        )

    def _row(
        self, choice: object, index: Mapping[str, int], context: Mapping[str, Any] | None
    ) -> list[float]:
        """One row of probabilities, from a path name or a ``{path: probability}`` dict."""
        where = "" if context is None else f" for context {context!r}"
        if isinstance(choice, str):
            choice = {choice: 1.0}
        if not isinstance(choice, Mapping):
            raise ConfigError(
                f"the target returned {choice!r}{where}; return a path name or a dict "
                f"{{path: probability}} over the task's paths {list(self.paths)}"
            )
        unknown = sorted(str(path) for path in choice if path not in index)
        if unknown:
            raise ConfigError(
                f"the target chose {unknown}{where}, not among the task's logged paths "
                f"{list(self.paths)}; a path the log never tried cannot be evaluated"
            )
        row = [0.0] * len(self.paths)
        for path, probability in choice.items():
            number = isinstance(probability, int | float) and not isinstance(probability, bool)
            row[index[path]] = float(probability) if number else math.nan
        total = math.fsum(row)
        if not all(p >= 0 for p in row) or abs(total - 1.0) > _SUM_TOLERANCE:
            raise ConfigError(
                f"the target's probabilities{where} are {dict(choice)!r} (sum {total:g}); "
                "they must be numbers >= 0 that sum to 1"
            )
        return row


def logged_first_attempts(store: ReadStore, task: str) -> LoggedFirstAttempts:
    """The scored first attempts of ``task`` that carry a propensity, oldest first.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> _ = store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0, propensity=0.5))
        >>> _ = store.record(Outcome("r2", 1, "t", "b", 0.0, created_at=1.0))  # none
        >>> logged = logged_first_attempts(store, "t")
        >>> logged.paths, logged.actions.tolist(), logged.scored, logged.left_out
        (('a', 'b'), [0], 2, 1)
    """
    import numpy as np

    from storage._export import outcomes_frame

    frame = outcomes_frame(store, task)
    firsts = frame[(frame["attempt"] == 1) & frame["score"].notna()]
    if firsts.empty:
        raise ConfigError(
            f"task {task!r} has no scored first attempts in this store: nothing to "
            "evaluate; check the task name (storage.store_tasks lists a SQL store's tasks)"
        )
    kept = firsts[firsts["propensity"] > 0]  # a held path's trial has none to reweight
    left_out = len(firsts) - len(kept)
    if kept.empty:
        raise ConfigError(
            f"none of the {left_out} scored first attempts of task {task!r} has a "
            "propensity, so none can be reweighted (all left out); log with a router "
            "whose policy gives propensities, such as the default one"
        )
    if left_out:
        logger.warning(
            "off-policy evaluation of %r left out %d of %d scored first attempts: "
            "they have no propensity",
            task,
            left_out,
            len(firsts),
        )
    paths = tuple(sorted({str(path) for path in frame["path"]}))
    index = {path: k for k, path in enumerate(paths)}
    return LoggedFirstAttempts(
        task=task,
        paths=paths,
        actions=np.array([index[str(p)] for p in kept["path"]], dtype=np.intp),
        propensities=kept["propensity"].to_numpy(float),
        rewards=kept["score"].to_numpy(float),
        contexts=tuple(kept["context"]),
        request_ids=tuple(str(r) for r in kept["request_id"]),
        scored=len(firsts),
        left_out=left_out,
    )


def evaluate_policy_on_store(
    store: ReadStore,
    task: str,
    target: Target,
    *,
    method: Method = "snips",
    ridge: float = DEFAULT_RIDGE,
    rng: np.random.Generator | None = None,
    n_bootstrap: int = 1000,
    level: float = 0.95,
) -> OffPolicyEstimate:
    """What ``target`` would have scored on ``task``'s first attempts, from the store.

    ``target(context)`` is called with each logged request's context (``{}`` when it
    had none) and returns ``{path: probability}`` or a path name; a path name or a dict
    alone is a context-free target. To compare several targets, read the rows once
    with :func:`logged_first_attempts` and call its ``evaluate``.

    Example:
        >>> from storage import MemoryStore, Outcome
        >>> store = MemoryStore()
        >>> for i, (path, length, score) in enumerate([("a", 10, 1.0), ("b", 900, 1.0),
        ...                                            ("a", 800, 0.0), ("b", 20, 0.0)]):
        ...     _ = store.record(Outcome(f"r{i}", 1, "t", path, score, created_at=i,
        ...                              propensity=0.5, context={"length": length}))
        >>> by_length = lambda context: "a" if context["length"] < 100 else "b"
        >>> evaluate_policy_on_store(store, "t", by_length, method="ips").value
        1.0
    """
    return logged_first_attempts(store, task).evaluate(
        target, method=method, ridge=ridge, rng=rng, n_bootstrap=n_bootstrap, level=level
    )
