"""Whether a path's calls answer: a change detector and a breaker-like state machine."""

from __future__ import annotations

import math
from enum import Enum

from bandits import ChangeDetector

DOWN_SHARE = 0.8  # a change point after which at most 80% of calls answer: the path is down
TRIAL_CALLS = 4  # calls a path back from down must all answer before it is fully up
# A path whose calls since it went down number at least PARTIAL_EVIDENCE and answered at
# least PARTIAL_SHARE of the time comes back partly up: judged by that record.
PARTIAL_EVIDENCE = 20
PARTIAL_SHARE = 0.25


class State(Enum):
    """Where a path stands: ``up`` (routed normally), ``down`` (probed now and then),
    ``trial`` (a probe answered; a few calls must answer before it is up again)."""

    UP = "up"
    DOWN = "down"
    TRIAL = "trial"


class Availability:
    """One path's record of answers and errors, as one router has seen them.

    * **up**: every call counts; a Bernoulli GLR test (:class:`bandits.ChangeDetector`)
      watches the answer stream. A change point after which at most half the calls
      answered sends the path down; a milder one restarts the record at the recent
      calls.
    * **down**: the path is offered only as a probe, first ``probe_every`` ticks
      later, then at doubling intervals up to ``max_probe_every``.
    * **trial**: a probe answered, but failures took longer to show than that answer
      (timeouts), so a false dawn would be costly: ``TRIAL_CALLS`` calls go out, first
      in line, and only when all have answered is the path up again; any error sends
      it back down. When failures show in at most half the time answers take (a 503),
      the first answering probe brings the path straight back up.

    The record fades with age: an answer or error ``t`` ticks old counts
    ``exp(-t / horizon)``, so an error rate that has passed stops weighing on a path
    that is only tried now and then. A path back up keeps the answers it had before it
    went down (faded by the time it was down) and starts with no errors: the outage
    is over. Straight back up, it stays *fragile* for a while: the
    first error of a call planned since then sends it down again.

    ``outage`` counts (answers, errors): the errors of the change point that sent the
    path down (its answers were calls in flight), then its probes, fallback calls and
    fragile spells: how much of a down path's traffic answers, for ranking it as a
    fallback. When that record holds at least
    ``PARTIAL_EVIDENCE`` calls of which at least ``PARTIAL_SHARE`` answered, an
    answering probe brings the path *partly* up: a brown-out, not an outage that is
    over, so the path is judged by that record (errors included) and is not fragile.

    Ticks are the task's count of scored attempts. Answers to calls planned before
    the current state began are stale (they were in flight) and ignored.

    Example:
        >>> path = Availability(answered=500, failed=0, tick=500, probe_every=8)
        >>> for planned in range(500, 506):  # six errors in a row, seen at tick 506
        ...     path.observe(False, planned, now=506)
        >>> path.state.value, path.probe_due(513), path.probe_due(514)
        ('down', False, True)
    """

    __slots__ = (
        "answered",
        "detector",
        "error_lag",
        "failed",
        "fragile_until",
        "horizon",
        "issued",
        "max_probe_every",
        "next_probe",
        "outage",
        "probe_base",
        "probe_every",
        "saved",
        "since",
        "state",
        "trial_answers",
        "updated",
    )

    def __init__(
        self,
        *,
        answered: float = 0.0,
        failed: float = 0.0,
        tick: int = 0,
        delta: float = 0.005,
        probe_every: int = 8,
        max_probe_every: int = 32,
        horizon: float = 1000.0,
    ) -> None:
        self.detector = ChangeDetector(delta=delta)
        self.horizon = horizon
        self.updated = tick  # the tick the record was last faded to
        self.state = State.UP
        self.since = tick
        self.answered, self.failed = float(answered), float(failed)
        self.saved = (0.0, 0.0)  # the record before the path went down
        self.outage = (0.0, 0.0)  # (answers, errors): those that sent it down, then every call
        self.probe_base = self.probe_every = probe_every
        self.max_probe_every = max_probe_every
        self.next_probe = tick
        self.issued = 0  # trial calls sent
        self.trial_answers = 0
        self.error_lag = 0  # ticks from planning a call to seeing it fail, last error
        self.fragile_until = tick  # straight back up: until then one error sends it down
        if answered + failed >= 1:  # the record so far is what a change is measured against
            self.detector.add(round(answered + failed), float(answered))

    def offered(self, tick: int) -> bool:
        """Is the path up, to be weighed against the others?"""
        return self.state is State.UP

    def record(self) -> tuple[float, float]:
        """(answers, errors) to judge the path by: on trial, its answers before the outage."""
        if self.state is State.UP:
            return self.answered, self.failed
        return self.saved[0] + self.trial_answers, 0.0

    def probe_due(self, tick: int) -> bool:
        """Should the path be tried first now: a due probe, or a trial call still to send?"""
        if self.state is State.TRIAL:
            if tick - self.since > 4 * self.max_probe_every:  # its answers never came
                self._down(tick, doubled=True)
                return False
            return self.issued < TRIAL_CALLS
        return self.state is State.DOWN and tick >= self.next_probe

    def chosen(self, tick: int) -> None:
        """The router is about to call the path first."""
        if self.state is State.DOWN:
            self.next_probe = tick + self.probe_every
        elif self.state is State.TRIAL:
            self.issued += 1

    def observe(self, answered: bool, planned: int, now: int) -> None:
        """One of this router's calls, planned at tick ``planned``, answered or raised.

        ``now`` is the latest tick the router has planned at: a state entered now only
        counts calls planned from now on.
        """
        if not answered:
            self.error_lag = now - planned
        if self.state is State.UP:
            if planned >= self.since and now < self.fragile_until:  # straight back up
                self._count_outage(answered)
                if not answered:
                    self._down(now, doubled=True)  # a false dawn: back down at the first error
                    return
            self._observe_up(answered, now)
            return
        if planned < self.since:
            return  # in flight before the path went down (or on trial): stale
        self._count_outage(answered)
        if not answered:
            self._down(now, doubled=True)
        elif self.state is State.DOWN:
            if 2 * self.error_lag <= now - planned:
                # Failures show far sooner than answers, so a false dawn is cheap to undo:
                # back up at once, but the first error in the next while sends it down.
                if not self._up(now):
                    self.fragile_until = now + max(16, 4 * (now - planned))
            else:
                self.state, self.since = State.TRIAL, now
                self.issued, self.trial_answers = 0, 0
        else:
            self.trial_answers += 1
            if self.trial_answers >= TRIAL_CALLS:
                self._up(now)

    def _count_outage(self, answered: bool) -> None:
        answers, errors = self.outage
        self.outage = (answers + 1.0, errors) if answered else (answers, errors + 1.0)

    def _up(self, now: int) -> bool:
        """Back up; True if only partly: the outage record shows a share of calls that
        still fails, and the path is judged by that record, not as recovered."""
        answers = self.trial_answers + 1  # the probe and the trial calls
        self.state, self.since = State.UP, now
        seen_answers, seen_errors = self.outage
        seen = seen_answers + seen_errors
        partly = seen >= PARTIAL_EVIDENCE and seen_answers >= PARTIAL_SHARE * seen
        if partly:
            # A partial outage (a brown-out, a rate limit on part of the calls): what its
            # calls answer since it went down is its availability now.
            self.answered, self.failed = seen_answers, seen_errors
            history, history_answers = round(seen), float(seen_answers)
        else:
            # The outage is over: its errors (including those of its onset, which landed
            # mixed with answers from calls in flight) do not count on.
            away = now - self.updated  # the record was last faded when the path went down
            kept = self.saved[0] * math.exp(-away / self.horizon) if away > 0 else self.saved[0]
            self.answered, self.failed = kept + answers, 0.0
            history, history_answers = answers, float(answers)
        self.updated = now
        self.probe_every = self.probe_base
        self.detector.restart(0)
        self.detector.add(history, history_answers)
        self.trial_answers = 0
        return partly

    def faded(self, tick: int) -> tuple[float, float]:
        """(answers, errors) of the record, each ``t`` ticks old counting ``exp(-t / horizon)``.

        Example:
            >>> path = Availability(answered=90, failed=10, tick=0, horizon=1000)
            >>> [round(v, 1) for v in path.faded(1000)]
            [33.1, 3.7]
        """
        age = tick - self.updated
        if age <= 0:
            return self.answered, self.failed
        fade = math.exp(-age / self.horizon)
        return fade * self.answered, fade * self.failed

    def _observe_up(self, answered: bool, tick: int) -> None:
        if tick > self.updated:  # forgetting that a later answer does not undo
            self.answered, self.failed = self.faded(tick)
            self.updated = tick
        self.answered += answered
        self.failed += not answered
        changed = self.detector.add(1, float(answered))
        if changed is None:
            return
        kept_answered, kept = self.detector.window(changed)
        self.detector.restart(kept)
        before = (self.answered - kept_answered, self.failed - (kept - kept_answered))
        self.answered, self.failed = kept_answered, kept - kept_answered
        if kept_answered <= DOWN_SHARE * kept:
            self.saved = before
            # its answers landed mixed with those of calls in flight: only errors count
            self.outage = (0.0, kept - kept_answered)
            self._down(tick, doubled=False)

    def _down(self, tick: int, *, doubled: bool) -> None:
        self.state, self.since = State.DOWN, tick
        self.probe_every = (
            min(2 * self.probe_every, self.max_probe_every) if doubled else self.probe_base
        )
        self.next_probe = tick + self.probe_every
