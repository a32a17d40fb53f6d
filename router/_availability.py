"""Whether a path's calls answer, as one router has seen them: a record and a hold."""

from __future__ import annotations

import math

from bandits import ChangeDetector

# After a change point, a path whose calls answered at most this share is held.
HOLD_SHARE = 0.2


class Availability:
    """One path's record of answers and errors, and whether it is held out of routing.

    * The **record** counts each answer and error ``exp(-age / horizon)`` (age in
      ticks), so an error storm that has passed stops weighing on a path.
    * A Bernoulli GLR test (:class:`bandits.ChangeDetector`) watches the answers. At a
      change point the record restarts at the calls after it, and calls planned
      before it (in flight when it was seen) are ignored from then on.
    * When the calls after a change point answered at most ``HOLD_SHARE`` of the
      time (an outage), the path is **held**: not drawn first, but tried first as a
      probe ``probe_every`` ticks later, then at doubling intervals up to
      ``max_probe_every``. The first probe that answers ends the hold: the outage is
      over, and the record restarts at that answer. A brown-out (a path failing part
      of its calls) is not held: its record says how often it fails, and the policy
      weighs that.

    Ticks are the task's count of scored attempts, so probes keep their pace at any
    request rate, and an answer that takes many ticks to come back still ends a hold.

    Example:
        >>> path = Availability(answered=500, failed=0, tick=500, probe_every=8)
        >>> for planned in range(500, 506):  # six errors in a row, seen at tick 506
        ...     path.observe(False, planned, now=506)
        >>> path.held, path.probe_due(513), path.probe_due(514)
        (True, False, True)
        >>> path.chosen(514); path.observe(True, planned=514, now=520)  # the probe answers
        >>> path.held, path.faded(520)
        (False, (1.0, 0.0))
    """

    __slots__ = (
        "answered",
        "detector",
        "failed",
        "held",
        "horizon",
        "max_probe_every",
        "next_probe",
        "probe_base",
        "probe_every",
        "since",
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
        self.answered, self.failed = float(answered), float(failed)
        self.updated = tick  # the tick the record was last faded to
        self.since = tick  # the last change point: calls planned before it are stale
        self.held = False
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
        if planned < self.since:
            return  # in flight before the last change point: stale
        if self.held:
            if answered:  # the outage is over: the record restarts at this answer
                self.held = False
                self.probe_every = self.probe_base
                self.detector.restart(0)
                self.detector.add(1, 1.0)
                self._restart(1.0, 0.0, now)
            return
        if now > self.updated:  # forgetting that a later answer does not undo
            self.answered, self.failed = self.faded(now)
            self.updated = now
        self.answered += answered
        self.failed += not answered
        changed = self.detector.add(1, float(answered))
        if changed is None:
            return
        kept_answered, kept = self.detector.window(changed)
        self.detector.restart(kept)
        self._restart(kept_answered, kept - kept_answered, now)
        if kept_answered <= HOLD_SHARE * kept:
            self.held = True
            self.probe_every = self.probe_base
            self.next_probe = now + self.probe_base

    def _restart(self, answered: float, failed: float, now: int) -> None:
        """A change point at ``now``: the record is the calls after it."""
        self.answered, self.failed, self.updated, self.since = answered, failed, now, now
