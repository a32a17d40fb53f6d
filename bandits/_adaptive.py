"""``AdaptiveThompson``: the default policy, Thompson sampling that notices change."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bandits._availability import Availability
from bandits._changepoint import ChangeDetector
from bandits._errors import ConfigError
from bandits._fading import EPOCH_HORIZONS, check_horizon
from bandits._matching import ProbabilityMatching
from bandits._path_posterior import PathPosterior
from bandits._policy import Choice, Reset

if TYPE_CHECKING:
    import numpy as np

AVAILABILITY_PRIOR = (1.0, 0.1)  # optimistic: a path is presumed to answer until it does not


NO_EVIDENCE = (1.0, 1.0, 1.0, AVAILABILITY_PRIOR[1])  # a path the store has no row for
# By default an error the next path rescues counts this share of that path's score: the
# failed call cost time and money, so of two paths that serve alike, the one that answers
# goes first.
RESCUE_SHARE = 0.9


def _served_scores(
    evidence: Sequence[tuple[float, float, float, float]],
    rescue_share: float = RESCUE_SHARE,
    held: Sequence[tuple[float, float, float, float]] = (),
) -> tuple[list[float], list[float], list[float]]:
    """Beta parameters of what trying each path first serves, from (quality alpha, beta,
    availability alpha, beta) per path.

    When a path answers, its output is final: it passes with the path's quality Q
    (availability A). When it errors, the request falls back and the next path serves
    it: the best of the others, by its own mean, stands for that rescue, counted at
    ``rescue_share`` (R). A path's mean is E[A] E[Q] + R x its observed error share
    (errors seen, not the prior's doubt, so a path that has never failed scores plain
    availability x quality), with the spread of A x Q; moment-matched to a Beta.

    The third list ranks the paths, then the ``held`` ones (down: not drawn first), as
    fallbacks: E[Q] - c / E[A], c = (1 - R) x the best mean, the price of a failed call.
    Trying paths until one answers serves the most, less c per failed call, in
    decreasing order of that index (swap two neighbours: i goes first iff
    a_i a_j (q_i - q_j) > c (a_j - a_i)); with c = 0, simply by quality.

    Example:
        >>> alpha, beta, rank = _served_scores([(90, 10, 50, 50.1), (55, 45, 100, 0.1)])
        >>> [round(a / (a + b), 3) for a, b in zip(alpha, beta)]  # 0.5*0.9 + 0.5*0.9*0.55
        [0.697, 0.549]
        >>> [round(r, 3) for r in rank]  # c = 0.1 x 0.55: 0.9 - c / 0.5, 0.55 - c / 1.0
        [0.79, 0.495]
    """
    means = [qa / (qa + qb) * aa / (aa + ab) for qa, qb, aa, ab in evidence]
    top = max(means, default=0.0)
    best = means.index(top) if means else 0
    runner_up = max(means[:best] + means[best + 1 :], default=0.0)
    penalty = (1.0 - rescue_share) * top  # what a failed call costs, in score
    # rescue_share x the rescuer's mean, hoisted (the loop runs on every request)
    rescued_by_top, rescued_by_runner_up = rescue_share * top, rescue_share * runner_up
    prior_errors = AVAILABILITY_PRIOR[1]
    alpha: list[float] = []
    beta: list[float] = []
    rank: list[float] = []
    for index, (qa, qb, aa, ab) in enumerate(evidence):
        nq, na = qa + qb, aa + ab
        mq, ma = qa / nq, aa / na
        quality_square = mq * mq + mq * (1.0 - mq) / (nq + 1.0)  # E[Q^2]
        answer_square = ma * ma + ma * (1.0 - ma) / (na + 1.0)  # E[A^2]
        mean = mq * ma
        variance = quality_square * answer_square - mean * mean
        errors = ab - prior_errors
        if errors > 0.0:
            mean += (rescued_by_runner_up if index == best else rescued_by_top) * errors / na
        concentration = mean * (1.0 - mean) / variance - 1.0 if variance > 1e-12 else 1e12
        concentration = max(concentration, 1e-3)
        alpha.append(mean * concentration)
        beta.append((1.0 - mean) * concentration)
        rank.append(mq - penalty / ma)
    for qa, qb, aa, ab in held:
        rank.append(qa / (qa + qb) - penalty * (aa + ab) / aa)
    return alpha, beta, rank


class _Watch:
    """What this process follows of one path: its quality stream and its availability."""

    __slots__ = ("availability", "errors", "n", "quality", "resets", "successes")

    def __init__(self, row: PathPosterior, tick: int, policy: AdaptiveThompson) -> None:
        self.quality = ChangeDetector(delta=policy.delta)  # scores of the outputs it returned
        _, _, answers, errors = row.faded(tick)
        self.availability = Availability(
            answered=answers,
            failed=errors,
            tick=tick,
            delta=policy.delta,
            probe_every=policy.probe_every,
            max_probe_every=policy.max_probe_every,
            horizon=policy.availability_horizon,
            hold=policy.hold,
        )
        self.n, self.successes, self.errors, self.resets = row.n, row.alpha, row.errors, row.resets


class AdaptiveThompson:
    """Thompson sampling on evidence that fades by its age, telling a broken path from a
    poor one, and noticing change.

    Each path has two score streams, read from the store so that every router on it
    contributes: **quality** (did the output pass ``success_fn``) and **availability**
    (did the call answer at all, or raise / time out).

    * **Fading.** Every observation counts ``exp(-age / horizon)``, its age counted in
      scored attempts of the task since it was made, whichever path was tried. The
      store keeps these sums additively, shared by every router and process. No
      record, however old, locks a path out: as a path's evidence fades its posterior
      widens, so Thompson sampling tries it again (within about ``horizon`` ticks of
      its evidence going stale, and at least as often as a fresh path would beat the
      best one), and a silent improvement is found; gradual drift is followed.
    * **Change detection.** A Bernoulli GLR test (:class:`bandits.ChangeDetector`)
      watches each path's quality; when recent scores differ credibly from the
      path's history, the path is reset in the store to its recent evidence (for
      every router): an abrupt change costs tens of requests, not a horizon.
    * **Holding a broken path.** The same test watches whether this router's calls
      answer (:class:`bandits._availability.Availability`): after a change point
      where most calls fail, the path is held out of routing but for probes, at
      doubling intervals from ``probe_every`` to ``max_probe_every`` scored attempts;
      the first probe that answers brings it back, its quality record intact (errors
      never count against quality).
    * **Errors are rescued, wrong answers are not.** A path's expected score is what
      trying it first serves: its quality when it answers and, for the share of
      calls it has been seen to fail, what the best other path serves after the
      fallback (at ``rescue_share``: the failed call cost time and money). Fallbacks
      follow in the order that serves the most, less the price of each failed call
      (see :func:`_served_scores`).

    The first choice is drawn with each path's probability of having the highest
    expected score (probability matching), and that probability is the logged
    propensity. Time is the task's count of scored attempts, not seconds, so the
    policy behaves alike at 1 and at 5,000 requests per second.

    Args:
        horizon: scored attempts of the task after which an observation counts 1/e
            (None: ``horizon_per_path`` times the task's number of paths when they
            are first stored). A task keeps the horizon its paths were stored with.
        horizon_per_path: the horizon per path of the task, when ``horizon`` is None.
        delta: false-alarm level of the change detectors (smaller: fewer false
            resets, slower detection).
        availability_horizon: scored attempts after which an answer or error on this
            router's availability record counts 1/e (errors are forgotten faster
            than quality: a storm that has passed should not weigh for long).
        probe_every: scored attempts before a held path's first probe.
        max_probe_every: longest interval between probes of a held path.
        rescue_share: how much an error the fallback rescues counts of what the next
            path serves; 0 when the router does not fall back (``Router`` builds its
            default policy so when ``fallback=False``).
        detect_changes: reset paths at change points of their quality.
        hold: hold paths whose calls mostly fail out of routing but for probes.

    Example:
        >>> import numpy as np
        >>> from bandits._path_posterior import PathPosterior
        >>> policy = AdaptiveThompson()
        >>> rows = {"a": PathPosterior("a", 90, 10, 98), "b": PathPosterior("b", 10, 90, 98)}
        >>> policy.choose(["a", "b"], rows, 196, np.random.default_rng(0)).order
        ['a', 'b']
    """

    def __init__(
        self,
        *,
        horizon: float | None = None,
        horizon_per_path: float = 700.0,
        delta: float = 0.005,
        availability_horizon: float = 1000.0,
        probe_every: int = 8,
        max_probe_every: int = 32,
        rescue_share: float = RESCUE_SHARE,
        detect_changes: bool = True,
        hold: bool = True,
    ) -> None:
        if not (isinstance(rescue_share, int | float) and 0.0 <= rescue_share <= 1.0):
            raise ConfigError(f"rescue_share must be a number in [0, 1], got {rescue_share!r}")
        self.horizon = None if horizon is None else check_horizon(horizon)
        self.horizon_per_path = check_horizon(horizon_per_path)
        if not (
            isinstance(availability_horizon, int | float)
            and math.isfinite(availability_horizon)
            and availability_horizon > 0
        ):
            raise ConfigError(
                f"availability_horizon must be a positive number, got {availability_horizon!r}"
            )
        if not 1 <= probe_every <= max_probe_every:
            raise ConfigError(
                "need 1 <= probe_every <= max_probe_every, got "
                f"{probe_every!r} and {max_probe_every!r}"
            )
        ChangeDetector(delta=delta)  # validates delta
        self.delta = delta
        self.probe_every = probe_every
        self.max_probe_every = max_probe_every
        self.rescue_share = float(rescue_share)
        self.availability_horizon = float(availability_horizon)
        self.detect_changes = bool(detect_changes)
        self.hold = bool(hold)
        self._watches: dict[str, _Watch] = {}
        self._matching = ProbabilityMatching()
        self._now = 0  # the latest tick this policy has chosen at

    def __repr__(self) -> str:
        return (
            f"AdaptiveThompson(horizon={self.horizon!r}, "
            f"horizon_per_path={self.horizon_per_path!r}, delta={self.delta!r}, "
            f"availability_horizon={self.availability_horizon!r}, "
            f"probe_every={self.probe_every!r}, max_probe_every={self.max_probe_every!r}, "
            f"rescue_share={self.rescue_share!r}, detect_changes={self.detect_changes!r}, "
            f"hold={self.hold!r})"
        )

    def fresh(self) -> AdaptiveThompson:
        """A new policy of the same settings that has seen nothing (one per segment).

        Example:
            >>> AdaptiveThompson(delta=0.01).fresh().delta
            0.01
        """
        return AdaptiveThompson(
            horizon=self.horizon,
            horizon_per_path=self.horizon_per_path,
            delta=self.delta,
            availability_horizon=self.availability_horizon,
            probe_every=self.probe_every,
            max_probe_every=self.max_probe_every,
            rescue_share=self.rescue_share,
            detect_changes=self.detect_changes,
            hold=self.hold,
        )

    def fading_horizon(self, paths: int) -> float | None:
        """The horizon a task's evidence fades with, for a task of ``paths`` paths.

        Example:
            >>> AdaptiveThompson().fading_horizon(4)
            2800.0
            >>> AdaptiveThompson(horizon=500).fading_horizon(4)
            500.0
        """
        return self.horizon if self.horizon is not None else self.horizon_per_path * max(1, paths)

    def down_paths(self) -> list[str]:
        """Paths this process currently holds out of routing (but for probes)."""
        return [n for n, w in self._watches.items() if w.availability.held]

    def choose(
        self,
        candidates: Sequence[str],
        posteriors: Mapping[str, PathPosterior],
        tick: int,
        rng: np.random.Generator,
    ) -> Choice:
        """Probe a held path if one is due, else draw among the paths that answer."""
        self._now = max(self._now, tick)
        resets: list[Reset] = []
        offered: list[str] = []
        held: list[str] = []
        evidence: list[tuple[float, float, float, float]] = []
        held_evidence: list[tuple[float, float, float, float]] = []
        watches, exp = self._watches, math.exp  # locals: this loop runs on every request
        for name in candidates:
            row = posteriors.get(name)
            if row is None:
                offered.append(name)
                evidence.append(NO_EVIDENCE)
                continue
            watch = watches.get(name)
            if watch is None or watch.n != row.n or watch.resets != row.resets:
                watch = self._follow(name, row, tick, resets)
            # row.faded(tick)[:2] and availability.faded(tick), inlined: this runs per path
            # on every request
            successes = row.faded_successes
            if successes is None:
                successes, failures = row.recent_successes, row.quality_failures
            else:
                failures = row.faded_failures or 0.0
                exponent = EPOCH_HORIZONS * row.fade_epoch - tick / row.horizon
                if exponent < 0.0:
                    scale = exp(exponent)
                    successes, failures = successes * scale, failures * scale
            availability = watch.availability
            answered, failed = availability.answered, availability.failed
            age = tick - availability.updated
            if age > 0:
                scale = exp(-age / availability.horizon)
                answered, failed = answered * scale, failed * scale
            seen = (
                row.prior_alpha + successes,
                row.prior_beta + failures,
                AVAILABILITY_PRIOR[0] + answered,
                AVAILABILITY_PRIOR[1] + failed,
            )
            if availability.held:
                held.append(name)
                held_evidence.append(seen)
            else:
                offered.append(name)
                evidence.append(seen)
        alpha, beta, rank = _served_scores(evidence, self.rescue_share, held_evidence)
        due = [n for n in held if watches[n].availability.probe_due(tick)] if held else held
        if due or not offered:
            choice = self._probe((due or held)[0], candidates, offered, held, alpha, beta, resets)
        else:
            choice = self._draw(offered, held, alpha, beta, rank, tick, rng, resets)
        first_watch = watches.get(choice.order[0])
        if first_watch is not None:
            first_watch.availability.chosen(tick)
        return choice

    def _draw(  # noqa: PLR0917 - private, called from choose only
        self,
        offered: list[str],
        held: list[str],
        alpha: list[float],
        beta: list[float],
        rank: list[float],
        tick: int,
        rng: np.random.Generator,
        resets: list[Reset],
    ) -> Choice:
        """Thompson sampling's first choice by probability matching; fallbacks by rank."""
        matched = self._matching.lookup(tuple(offered), alpha, beta, tick)
        first = self._matching.pick(matched.probabilities, rng)
        names = [*offered, *held] if held else offered
        rest = sorted(range(len(names)), key=rank.__getitem__, reverse=True)
        order = [offered[first], *(names[i] for i in rest if i != first)]
        propensities = matched.as_dict
        if held:
            propensities = {**propensities, **dict.fromkeys(held, 0.0)}
        return Choice(order, propensities, resets)

    def observe(self, path: str, score: float, tick: int, errored: bool = False) -> None:
        """Follow whether this router's calls to ``path`` answer (quality comes from the store)."""
        watch = self._watches.get(path)
        if watch is not None:
            watch.availability.observe(not errored, tick, self._now)

    @staticmethod
    def _probe(  # noqa: PLR0917 - private, called from choose only
        name: str,
        candidates: Sequence[str],
        offered: list[str],
        held: list[str],
        alpha: list[float],
        beta: list[float],
        resets: list[Reset],
    ) -> Choice:
        """Try a held path first (deterministically); the rest follow by posterior mean."""
        means = {n: a / (a + b) for n, a, b in zip(offered, alpha, beta, strict=True)}
        order = [name, *sorted(offered, key=lambda n: -means[n]), *(n for n in held if n != name)]
        return Choice(order, {n: float(n == name) for n in candidates}, resets)

    def _follow(self, name: str, row: PathPosterior, tick: int, resets: list[Reset]) -> _Watch:
        """Feed the path's new attempts (from any router) to its quality detector."""
        watch = self._watches.get(name)
        if watch is None:
            watch = self._watches[name] = _Watch(row, tick, self)
        if row.resets != watch.resets:  # another router found a change point
            watch.quality.restart(0)
            watch.resets = row.resets
        answered = (row.n - watch.n) - (row.errors - watch.errors)
        if answered > 0 and self.detect_changes:
            changed = watch.quality.add(answered, row.alpha - watch.successes)
            if changed is not None:
                kept_s, kept_n = watch.quality.window(changed)
                resets.append(Reset(name, kept_s, kept_n, row.resets, tick))
                watch.quality.restart(kept_n)
                watch.resets = row.resets + 1
        watch.n, watch.successes, watch.errors = row.n, row.alpha, row.errors
        return watch
