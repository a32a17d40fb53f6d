"""A context-aware reward model for doubly robust off-policy evaluation (pure numpy).

Per path, a ridge regression of the logged reward on the request's context: numeric
values (int, float) standardised over the logged rows, categorical values (str, bool)
one-hot, and an intercept. The penalty ``ridge * |beta|^2`` leaves the intercept free,
so ``ridge`` works like that many pseudo-observations pulling every coefficient toward
0: a path with few rows predicts close to its mean reward (as
:func:`bandits.fit_reward_model` does), one with many follows its context. A missing
numeric value counts as its logged mean, a missing categorical value as none of the
seen ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bandits._errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from numpy.typing import ArrayLike

    FloatArray = npt.NDArray[np.float64]

ContextValue = str | bool | int | float
Context = Mapping[str, ContextValue] | None
DEFAULT_RIDGE = 1.0
MAX_FEATURES = 256  # columns of the design matrix (numeric keys + categorical values)


@dataclass(frozen=True, slots=True)
class ContextualRewardModel:
    """Per-path ridge regressions of the reward on the context (see the module docs).

    ``features`` names the columns after the intercept: a numeric key (``"length"``)
    or a categorical value (``"lang=de"``); ``coefficients`` is ``(K, 1 + features)``
    on standardised numeric values (``means``, ``scales``). Predictions are clipped to
    the logged rewards' range (``low``, ``high``).
    """

    numeric: tuple[str, ...]
    categories: tuple[tuple[str, str], ...]
    means: FloatArray
    scales: FloatArray
    coefficients: FloatArray
    low: float
    high: float

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + tuple(f"{key}={value}" for key, value in self.categories)

    def predict(self, contexts: Sequence[Context]) -> FloatArray:
        """The ``(n, K)`` predicted rewards of every path for each context.

        Example:
            >>> contexts = [{"x": 0}, {"x": 1}, {"x": 0}, {"x": 1}]
            >>> model = fit_contextual_reward_model([0, 0, 1, 1], [0, 1, 1, 1], 2, contexts,
            ...                                     ridge=0.0)
            >>> model.predict([{"x": 0}, {"x": 1}, None]).round(3).tolist()
            [[0.0, 1.0], [1.0, 1.0], [0.5, 1.0]]
        """
        import numpy as np

        x = _design(contexts, self.numeric, self.categories, self.means, self.scales)
        predicted: FloatArray = np.clip(x @ self.coefficients.T, self.low, self.high)
        return predicted


def fit_contextual_reward_model(
    actions: ArrayLike,
    rewards: ArrayLike,
    n_actions: int,
    contexts: Sequence[Context],
    *,
    ridge: float = DEFAULT_RIDGE,
) -> ContextualRewardModel:
    """Fit one ridge regression per path on the logged rows that took it.

    ``contexts`` holds each logged row's context (a dict of str, bool, int or float
    values, or None). A path never taken predicts the overall mean reward. With
    ``ridge=0`` the fit is least squares (a singular design falls back to the
    minimum-norm solution).

    Example:
        >>> contexts = [{"length": n, "lang": "de" if n % 2 else "en"} for n in range(40)]
        >>> rewards = [0.5 + 0.01 * c["length"] for c in contexts]
        >>> model = fit_contextual_reward_model([0] * 40, rewards, 2, contexts, ridge=1e-9)
        >>> model.features  # path 1 was never taken: it predicts the mean reward, 0.695
        ('length', 'lang=de', 'lang=en')
        >>> model.predict([{"length": 10}, {"length": 30}]).round(3).tolist()
        [[0.6, 0.695], [0.8, 0.695]]
    """
    import numpy as np

    from bandits._logged import check_actions, check_rewards, check_same_length

    if n_actions < 1:
        raise ConfigError(f"n_actions must be >= 1 (the number of paths), got {n_actions}")
    if not (math.isfinite(ridge) and ridge >= 0):
        raise ConfigError(f"ridge must be a finite number >= 0 (1.0 is usual), got {ridge}")
    a, r = check_actions(actions, n_actions), check_rewards(rewards)
    rows = list(contexts)
    if len(rows) != a.size:
        raise ConfigError(
            f"lengths differ ({a.size} actions, {len(rows)} contexts); "
            "pass one context (or None) per logged request"
        )
    check_same_length(actions=a, rewards=r)
    numeric, categories = _columns(rows)
    values = np.array([[_number(c, key) for key in numeric] for c in rows], dtype=float)
    values = values.reshape(len(rows), len(numeric))
    means = np.zeros(len(numeric))
    scales = np.ones(len(numeric))
    if numeric:
        seen = ~np.isnan(values)
        counts = seen.sum(axis=0)
        means = np.where(seen, values, 0.0).sum(axis=0) / counts
        spread = np.sqrt(np.where(seen, (values - means) ** 2, 0.0).sum(axis=0) / counts)
        scales = np.where(spread > 0, spread, 1.0)  # a constant value: its column is all 0
    x = _design(rows, numeric, categories, means, scales)
    penalty = ridge * np.eye(x.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    coefficients = np.zeros((n_actions, x.shape[1]))
    coefficients[:, 0] = r.mean()
    for k in range(n_actions):
        mine = a == k
        if mine.any():
            xk, rk = x[mine], r[mine]
            gram = xk.T @ xk + penalty
            coefficients[k] = np.linalg.lstsq(gram, xk.T @ rk, rcond=None)[0]
    return ContextualRewardModel(
        numeric, categories, means, scales, coefficients, float(r.min()), float(r.max())
    )


def _columns(contexts: Sequence[Context]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The numeric keys and the (key, value) categories seen in the logged contexts."""
    numeric: set[str] = set()
    categories: set[tuple[str, str]] = set()
    for i, context in enumerate(contexts):
        if context is None:
            continue
        if not isinstance(context, Mapping):
            raise ConfigError(
                f"contexts[{i}] is {context!r}; pass a dict of str, bool, int or float "
                "values (or None) per logged request"
            )
        for key, value in context.items():
            if isinstance(value, str | bool):
                categories.add((str(key), _category(value)))
            elif isinstance(value, int | float) and math.isfinite(value):
                numeric.add(str(key))
            else:
                raise ConfigError(
                    f"contexts[{i}][{key!r}] is {value!r}; context values must be str, bool "
                    "or finite int or float"
                )
    clash = numeric & {key for key, _ in categories}
    if clash:
        raise ConfigError(
            f"context key(s) {sorted(clash)} hold numbers in some rows and text in others; "
            "give each key one kind of value"
        )
    if len(numeric) + len(categories) > MAX_FEATURES:
        raise ConfigError(
            f"the contexts make {len(numeric) + len(categories)} features (numeric keys plus "
            f"distinct categorical values), over {MAX_FEATURES}; leave high-cardinality keys "
            "(ids, free text) out of the contexts you pass"
        )
    return tuple(sorted(numeric)), tuple(sorted(categories))


def _design(
    contexts: Sequence[Context],
    numeric: tuple[str, ...],
    categories: tuple[tuple[str, str], ...],
    means: FloatArray,
    scales: FloatArray,
) -> FloatArray:
    """Rows ``[1, standardised numbers..., one-hot categories...]``."""
    import numpy as np

    column = {category: j for j, category in enumerate(categories)}
    x = np.zeros((len(contexts), 1 + len(numeric) + len(categories)))
    x[:, 0] = 1.0
    for i, context in enumerate(contexts):
        for j, key in enumerate(numeric):
            number = _number(context, key)
            if not math.isnan(number):
                x[i, 1 + j] = (number - means[j]) / scales[j]
        for key, value in (context or {}).items():
            at = column.get((key, _category(value))) if isinstance(value, str | bool) else None
            if at is not None:
                x[i, 1 + len(numeric) + at] = 1.0
    return x


def _number(context: Context, key: str) -> float:
    """The numeric value of ``key``, NaN when the context lacks it."""
    value = None if context is None else context.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _category(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
