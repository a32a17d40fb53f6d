"""Posteriors seen through outcomes a wrapper holds but the store does not have yet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from bandits._fading import DEFAULT_HORIZON, add_in_epoch
from storage._evidence import FadedAdd
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
        row = result.get(outcome.path) or _new_row(outcome.path, (1.0, 1.0), DEFAULT_HORIZON)
        latest = outcome.created_at if row.updated_at is None else row.updated_at
        tick = sum(r.n for r in result.values()) if outcome.tick is None else outcome.tick
        add = FadedAdd.of(outcome.score, errored=outcome.errored, tick=tick, horizon=row.horizon)
        epoch = row.fade_epoch
        result[outcome.path] = replace(
            row,
            alpha=row.alpha + outcome.score,
            beta=row.beta + 1.0 - outcome.score,
            n=row.n + 1,
            errors=row.errors + int(outcome.errored),
            updated_at=max(latest, outcome.created_at),
            fade_epoch=max(epoch, add.epoch),
            faded_successes=add_in_epoch(
                row.faded_successes or 0.0, epoch, add.successes, add.epoch
            ),
            faded_failures=add_in_epoch(row.faded_failures or 0.0, epoch, add.failures, add.epoch),
            faded_answers=add_in_epoch(row.faded_answers or 0.0, epoch, add.answers, add.epoch),
            faded_errors=add_in_epoch(row.faded_errors or 0.0, epoch, add.errors, add.epoch),
        )
    return result


def with_paths(
    rows: Mapping[str, PathPosterior],
    paths: Iterable[str],
    prior: tuple[float, float],
    horizon: float = DEFAULT_HORIZON,
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
            result[path] = _new_row(path, prior, horizon)
    return result


def _new_row(path: str, prior: tuple[float, float], horizon: float) -> PathPosterior:
    """A path's row as a store creates it: the prior, no evidence yet."""
    return PathPosterior(
        path,
        prior[0],
        prior[1],
        0,
        prior[0],
        prior[1],
        horizon=horizon,
        faded_successes=0.0,
        faded_failures=0.0,
        faded_answers=0.0,
        faded_errors=0.0,
    )
