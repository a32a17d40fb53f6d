"""Whether a path's calls answer, as one router has seen them: a record and a hold."""

from __future__ import annotations

import math

from bandits._changepoint import ChangeDetector

# A path whose record answers at most this share of its calls (plus one answer) is held.
HOLD_SHARE = 0.2


class Availability:
    """One path's record of answers and errors, and whether it is held out of routing.

    * The **record** counts each answer and error ``exp(-age / horizon)`` (age in
      ticks), so an error storm that has passed stops weighing on a path.
    * A Bernoulli GLR test (:class:`bandits.ChangeDetector`) watches the answers. At a
      change point the record restarts at the calls after it; of the calls in flight
      then, an outcome of the old regime (an answer when answers became rarer) is
      not counted.
    * When the record answers at most ``HOLD_SHARE`` of the calls (counting one
      answer more: an outage, seen a few calls after its change point), the path is
      **held**: not drawn first, but tried first as a probe ``probe_every`` ticks
      later, then at doubling intervals up to ``max_probe_every``; calls planned
      before the hold (in flight when it began) no longer count. The first probe
      that answers ends the hold: the outage is over, so the record restarts at that
      answer and the answers the path had before the change point (faded by the time
      since), without the outage's errors. A brown-out (a path failing part of its
      calls) is not held: its record says how often it fails, and the policy weighs
      that.

    Ticks are the task's count of scored attempts, so probes keep their pace at any
    request rate, and an answer that takes many ticks to come back still ends a hold.
    With ``hold=False`` the path is never held (the record still restarts at change
    points).

    Example:
        >>> path = Availability(answered=500, failed=0, tick=500, probe_every=8)
        >>> for planned in range(500, 506):  # six errors in a row, seen at tick 506
        ...     path.observe(False, planned, now=506)
        >>> path.held, path.probe_due(513), path.probe_due(514)
        (True, False, True)
        >>> path.chosen(514); path.observe(True, planned=514, now=520)  # the probe answers
        >>> path.held, [round(v, 1) for v in path.faded(520)]  # its answers before, and this one
        (False, [491.1, 0.0])
    """

    __slots__ = (
        "answered",
        "can_hold",
        "detector",
        "failed",
        "held",
        "horizon",
        "max_probe_every",
        "next_probe",
        "probe_base",
        "probe_every",
        "saved",
        "since",
        "stale_answers",
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
        hold: bool = True,
    ) -> None:
        self.detector = ChangeDetector(delta=delta)
        self.horizon = horizon
        self.answered, self.failed = float(answered), float(failed)
        self.updated = tick  # the tick the record was last faded to
        self.since = tick  # the last change point, or the start of the hold
        self.stale_answers: bool | None = None  # which outcome of calls planned before is stale
        self.held = False
        self.can_hold = hold
        self.saved = 0.0  # answers before the last change point, to restore after an outage
        self.probe_base = self.probe_every = probe_every
        self.max_probe_every = max_probe_every
        self.next_probe = tick
        if answered + failed >= 1:  # the record so far is what a change is measured against
            self.detector.add(round(answered + failed), float(answered))

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

    def probe_due(self, tick: int) -> bool:
        """Should the held path be tried first now?"""
        return self.held and tick >= self.next_probe

    def chosen(self, tick: int) -> None:
        """The router is about to call the path first (a held path: a probe)."""
        if self.held:  # the next probe waits twice as long
            self.probe_every = min(2 * self.probe_every, self.max_probe_every)
            self.next_probe = tick + self.probe_every

    def observe(self, answered: bool, planned: int, now: int) -> None:
        """One of this router's calls, planned at tick ``planned``, answered or raised.

        ``now`` is the latest tick the router has planned at.
        """
        if self.held:
            if planned < self.since:
                return  # in flight before the hold began: says nothing of the outage's end
            if answered:  # a probe answered: the outage is over, its errors no longer count
                self.held = False
                self.probe_every = self.probe_base
                before = self.saved * math.exp(-(now - self.since) / self.horizon)
                self.detector.restart(0)
                self.detector.add(1, 1.0)
                self._restart(before + 1.0, 0.0, now, stale_answers=False)
            return
        if planned < self.since and answered is self.stale_answers:
            return  # in flight at the last change point, with the old regime's outcome
        if now > self.updated:  # forgetting that a later answer does not undo
            self.answered, self.failed = self.faded(now)
            self.updated = now
        self.answered += answered
        self.failed += not answered
        changed = self.detector.add(1, float(answered))
        if changed is not None:
            kept_answered, kept = self.detector.window(changed)
            self.detector.restart(kept)
            before_answered = max(0.0, self.answered - kept_answered)
            before = before_answered + max(0.0, self.failed - (kept - kept_answered))
            fewer = kept_answered * before < before_answered * kept  # answers now rarer
            self.saved = before_answered
            self._restart(kept_answered, kept - kept_answered, now, stale_answers=fewer)
        if self.can_hold and self.answered + 1.0 <= HOLD_SHARE * (
            self.answered + self.failed + 1.0
        ):
            self.held, self.since = True, now
            self.probe_every = self.probe_base
            self.next_probe = now + self.probe_base

    def _restart(self, answered: float, failed: float, now: int, *, stale_answers: bool) -> None:
        """A change point at ``now``: the record is the calls after it, and the calls then
        in flight count only if their outcome is the new regime's (an error when answers
        became rarer, an answer when they became commoner)."""
        self.answered, self.failed, self.updated, self.since = answered, failed, now, now
        self.stale_answers = stale_answers
