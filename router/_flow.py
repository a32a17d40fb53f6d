"""The decision at the heart of a run, kept apart from the I/O that carries it out.

``RunPlan.next_action(now)`` is pure: given the attempts so far and the time, it says
whether to call a path (the same one again after a wait, or the next one), serve an
output, escalate, or give up. ``Router.route`` and ``Router.aroute`` are two short
loops around it that differ only in how they call and how they wait.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from router._path import Path
from router._result import Attempt
from router._taxonomy import ErrorClass

if TYPE_CHECKING:
    from router._context import RequestContext


@dataclass(slots=True)
class CallPath:
    """Call ``path`` as attempt ``number`` (after waiting ``wait`` seconds), within ``timeout``.

    ``feedback`` is the error to show the path when it is re-asked.
    """

    path: Path
    number: int
    timeout: float | None = None
    wait: float = 0.0
    feedback: BaseException | None = None


@dataclass(slots=True)
class Serve:
    """Return ``output``, produced by ``attempt``."""

    attempt: Attempt
    output: Any


@dataclass(slots=True)
class Escalate:
    """Hand the request to the escalation handler, for ``reason``."""

    reason: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    """No path is left to try (``reason`` says why the run stopped)."""

    reason: str = "every path failed"


Action = CallPath | Serve | Escalate | GiveUp


# What admission says of a path the plan would call (see router._admission).


@dataclass(frozen=True, slots=True)
class Admitted:
    """Call the path now: ``reserved`` of its price is counted already."""

    reserved: float = 0.0


@dataclass(frozen=True, slots=True)
class Skip:
    """Do not call the path now (its price, if reserved, was given back)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Call no further path: the daily budget of ``scope`` is spent."""

    scope: str

    @property
    def reason(self) -> str:
        """Why the run stops, as its result says."""
        return f"the daily budget of {self.scope} is spent"


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait ``seconds`` for the path's next slot, then take the slot (``Admission.after_wait``)."""

    seconds: float
    reserved: float = 0.0


Ticket = Admitted | Skip | Stop | Wait


@dataclass(frozen=True, slots=True)
class RunRules:
    """How one run behaves; the same for every request of a router unless overridden.

    ``fail_below``: a score under this counts as a failure and the next path is tried
    (None: only exceptions do). ``escalate_below``: a served score under this is
    escalated. ``deadline_at``: the clock time by which the run must finish.
    """

    fallback: bool = True
    fail_below: float | None = None
    escalate_below: float | None = None
    can_escalate: bool = False
    deadline_at: float | None = None

    def until(self, deadline_at: float) -> RunRules:
        """These rules with the run's deadline at ``deadline_at`` (clock seconds)."""
        return replace(self, deadline_at=deadline_at)


class RunPlan:
    """One request's path order and the attempts made so far.

    Example:
        >>> from router import Path
        >>> def a(x): return x
        >>> plan = RunPlan("r1", [Path(a)], {"a": 1.0}, RunRules())
        >>> plan.next_action(now=0.0).path.name
        'a'
    """

    __slots__ = (
        "_outputs",
        "_position",
        "_retry_wait",
        "_skipped",
        "_stopped",
        "_tries",
        "attempts",
        "over_budget",
        "propensities",
        "ranking",
        "request",
        "request_id",
        "rules",
        "spent_cost",
        "spent_tokens",
        "started_at",
        "tick",
    )

    def __init__(
        self,
        request_id: str,
        ranking: Sequence[Path],
        propensities: Mapping[str, float],
        rules: RunRules,
        *,
        started_at: float = 0.0,
        tick: int = 0,
        request: RequestContext | None = None,
    ) -> None:
        self.request_id = request_id
        self.request = request  # the request's context and segment (None: no context)
        self.ranking = list(ranking)
        self.propensities = propensities
        self.rules = rules
        self.started_at = started_at
        self.tick = tick
        self.attempts: list[Attempt] = []
        self._outputs: dict[int, Any] = {}  # attempt number -> output
        self._position = -1  # index in ranking of the path being tried
        self._skipped = False  # that path was skipped without a call (rate limited)
        self._tries = 0  # calls of that path so far
        self._retry_wait: float | None = None  # set by allow_retry()
        self._stopped: str | None = None  # set by stop(): why no further path is called
        self.over_budget: str | None = None  # the spend scope that stopped the run
        self.spent_cost = 0.0
        self.spent_tokens = 0

    def next_action(self, now: float) -> Action:
        """What to do next at time ``now``; pure (reads the plan, changes nothing)."""
        if self._position < 0:  # nothing tried yet
            reason = self._stopped or (None if self.ranking else "no path is eligible")
            return self._conclude(reason) if reason else self._call(self.ranking[0], now, 0.0)
        last = self.attempts[-1] if self.attempts and not self._skipped else None
        if last is not None and last.ok:
            done = self._served(last)
            if done is not None:
                return done
        halted = self._stopped or (
            "the run's deadline passed" if self._past_deadline(now) else None
        )
        if halted is not None:
            return self._conclude(halted)
        if last is not None and self._retry_wait is not None and self.fits(now + self._retry_wait):
            feedback = last.error if last.error_class in _REASKED else None
            return self._call(self.ranking[self._position], now, self._retry_wait, feedback)
        if (self.rules.fallback or self._skipped) and self._position + 1 < len(self.ranking):
            return self._call(self.ranking[self._position + 1], now, 0.0)
        return self._conclude("every path failed")

    def _served(self, last: Attempt) -> Action | None:
        """Serve (or escalate) an answered attempt, or None when its score is too low."""
        rules = self.rules
        score = last.score or 0.0
        if rules.fail_below is not None and score < rules.fail_below:
            return None
        if rules.can_escalate and rules.escalate_below is not None and score < rules.escalate_below:
            return Escalate(f"score {score:g} below {rules.escalate_below:g}")
        return Serve(last, self._outputs.get(last.number))

    def observe(self, attempt: Attempt, output: Any) -> None:
        """Add the attempt just made (its path is not called again unless allow_retry says so)."""
        position = self._position + 1  # the usual case: the next path in the ranking
        ranking = self.ranking
        if not (0 <= position < len(ranking) and ranking[position].name == attempt.path):
            position = self._index(attempt.path)  # a retry of the same path, or a skip
        self._tries = self._tries + 1 if position == self._position else 1
        self._position, self._skipped, self._retry_wait = position, False, None
        self.attempts.append(attempt)
        if attempt.ok:
            self._outputs[attempt.number] = output

    def skip(self, path: Path) -> None:
        """``path`` could not be called now (rate limited): move past it without an attempt."""
        self._position, self._skipped, self._tries, self._retry_wait = (
            self._index(path.name),
            True,
            0,
            None,
        )

    def patience(self, path: Path) -> float | None:
        """Until when a call of ``path`` may wait for its rate limit's next slot: the
        run's deadline (``math.inf``: none) if it is the last path left, else None."""
        if not self.is_last(path):
            return None
        deadline = self.rules.deadline_at
        return math.inf if deadline is None else deadline

    def refused(self, path: Path, ticket: Skip | Stop) -> None:
        """Admission refused ``path``: move past it, or stop when a budget is spent."""
        if isinstance(ticket, Stop):
            self.stop(ticket.reason)
            self.over_budget = ticket.scope
        else:
            self.skip(path)

    def allow_retry(self, wait: float | None) -> None:
        """Let the path just tried be called again after ``wait`` seconds (None: move on)."""
        self._retry_wait = wait

    def excuse(self, seconds: float) -> None:
        """Move the run's deadline ``seconds`` later: time its store calls took, which is
        not the paths' to pay for.

        Example:
            >>> plan = RunPlan("r1", [], {}, RunRules(deadline_at=10.0))
            >>> plan.excuse(0.25)
            >>> plan.rules.deadline_at
            10.25
        """
        if self.rules.deadline_at is not None and seconds > 0:
            self.rules = self.rules.until(self.rules.deadline_at + seconds)

    def stop(self, reason: str) -> None:
        """Call no further path (an answered output may still be served)."""
        self._stopped = reason

    def spend(self, cost: float | None, tokens: int) -> None:
        """Count one attempt's spending against the run."""
        self.spent_cost += cost or 0.0
        self.spent_tokens += tokens

    def is_last(self, path: Path) -> bool:
        """Is ``path`` the last one this run could try?"""
        return self._index(path.name) == len(self.ranking) - 1

    def fits(self, at: float) -> bool:
        """Is clock time ``at`` still within the run's deadline?"""
        return self.rules.deadline_at is None or at < self.rules.deadline_at

    @property
    def tries(self) -> int:
        """Calls so far of the path being tried."""
        return self._tries

    def served_instead(self, attempt: Attempt) -> int | None:
        """The number of the earlier attempt whose output this run serves if it ends with
        ``attempt`` (not yet observed), when that is not ``attempt`` itself.

        Only with ``fallback_below``: when no output scored enough, the best one so far
        is served, and a report must score it rather than the run's last attempt.

        Example:
            >>> from router import Path
            >>> def a(x): return x
            >>> plan = RunPlan("r1", [Path(a)], {}, RunRules(fail_below=0.5))
            >>> plan.observe(Attempt("a", 1, 0.4, 1.0), "lowA")
            >>> plan.served_instead(Attempt("b", 2, 0.2, 1.0))
            1
        """
        if self.rules.fail_below is None:
            return None
        if attempt.ok and (attempt.score or 0.0) >= self.rules.fail_below:
            return None  # this one passes: it is served
        answered = [a for a in (*self.attempts, attempt) if a.ok]
        if not answered:
            return None
        best = max(answered, key=lambda a: a.score or 0.0)
        return None if best is attempt else best.number

    def best_output(self) -> tuple[Attempt, Any] | None:
        """The highest-scoring attempt that produced an output, if any."""
        answered = [a for a in self.attempts if a.ok]
        if not answered:
            return None
        best = max(answered, key=lambda a: a.score or 0.0)
        return best, self._outputs.get(best.number)

    def _index(self, name: str) -> int:
        for index, path in enumerate(self.ranking):
            if path.name == name:
                return index
        raise KeyError(name)

    def _call(
        self, path: Path, now: float, wait: float, feedback: BaseException | None = None
    ) -> CallPath:
        timeout = path.timeout
        deadline = self.rules.deadline_at
        if deadline is not None:
            remaining = max(deadline - now - wait, 0.0)
            timeout = remaining if timeout is None else min(timeout, remaining)
        return CallPath(path, len(self.attempts) + 1, timeout, wait, feedback)

    def _conclude(self, reason: str) -> Action:
        rules = self.rules
        best = self.best_output()
        if best is not None and rules.fail_below is not None:
            if rules.can_escalate:
                return Escalate(f"no output scored {rules.fail_below:g} or more")
            return Serve(*best)
        if rules.can_escalate:
            return Escalate(reason)
        return GiveUp(reason)

    def _past_deadline(self, now: float) -> bool:
        return self.rules.deadline_at is not None and now >= self.rules.deadline_at


_REASKED = (ErrorClass.CLIENT, ErrorClass.INVALID_OUTPUT)
