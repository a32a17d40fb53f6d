"""Posteriors seen through outcomes a wrapper holds but the store does not have yet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from storage._records import Outcome, PathPosterior


def with_outcomes(
    rows: Mapping[str, PathPosterior], outcomes: Iterable[Outcome]
) -> dict[str, PathPosterior]:
    """``rows`` plus the scores of ``outcomes``, added as the store would add them.

    Unscored outcomes change nothing; a path not in ``rows`` starts at the default
    prior Beta(1, 1), as :meth:`storage.Store.record` starts it. ``rows`` is not changed.

    Example:
        >>> row = PathPosterior("a", alpha=1.0, beta=1.0, n=0)
        >>> new = with_outcomes({"a": row}, [Outcome("r", 1, "t", "a", 0.25, created_at=5.0)])
        >>> new["a"].alpha, new["a"].beta, new["a"].n, new["a"].updated_at
        (1.25, 1.75, 1, 5.0)
    """
    result = dict(rows)
    for outcome in outcomes:
        if outcome.score is None:
            continue
        row = result.get(outcome.path) or PathPosterior(outcome.path, 1.0, 1.0, 0)
        latest = outcome.created_at if row.updated_at is None else row.updated_at
        result[outcome.path] = replace(
            row,
            alpha=row.alpha + outcome.score,
            beta=row.beta + 1.0 - outcome.score,
            n=row.n + 1,
            errors=row.errors + int(outcome.errored),
            updated_at=max(latest, outcome.created_at),
        )
    return result


def with_paths(
    rows: Mapping[str, PathPosterior], paths: Iterable[str], prior: tuple[float, float]
) -> dict[str, PathPosterior]:
    """``rows`` plus a posterior at ``prior`` for each path it lacks (as ``ensure_paths``).

    Example:
        >>> row = with_paths({}, ["a"], (2.0, 1.0))["a"]
        >>> row.alpha, row.beta, row.prior_alpha, row.n
        (2.0, 1.0, 2.0, 0)
    """
    result = dict(rows)
    for path in paths:
        if path not in result:
            result[path] = PathPosterior(path, prior[0], prior[1], 0, prior[0], prior[1])
    return result
