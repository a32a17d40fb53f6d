"""What a router writes down: outcome rows, change points, observer events and alerts.

:class:`Recorder` is the one place a run's results leave the router. The store may be
down: a failed write is counted and logged (once when failures start, once when they
end), never raised, so a request never fails because of the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from router._clock import Clock
from router._escalation import Alert
from router._events import Observer, attempt_event, notify, run_event
from router._outage import OutageLog
from router._settings import ESCALATION
from router._taxonomy import ErrorClass
from storage import Outcome, PathPosterior, Store, StoreError

if TYPE_CHECKING:
    from bandits import RouterError
    from bandits._policy import Reset
    from router._attempts import Judged
    from router._flow import CallPath, Escalate, RunPlan
    from router._result import RunResult

logger = logging.getLogger("outcome_router")

AlertHandler = Callable[[Alert], None]


class Recorder:
    """Records one task's outcomes and resets, reads its posteriors, and tells observers
    and the alert hook what happened.

    Example:
        >>> from storage import MemoryStore
        >>> recorder = Recorder(MemoryStore(), "doc", lambda: 0.0)
        >>> recorder.unrecorded
        0
    """

    def __init__(
        self,
        store: Store,
        task: str,
        clock: Clock,
        observers: Sequence[Observer] = (),
        on_alert: AlertHandler | None = None,
    ) -> None:
        self.store = store
        self.task = task
        self.observers = tuple(observers)
        self._clock = clock
        self._on_alert = on_alert
        self._known: dict[str, PathPosterior] = {}
        self.unrecorded = 0
        """Outcomes the store failed to record."""
        self._read_log = OutageLog(f"routing task {task!r} from its last known posteriors")
        self._record_log = OutageLog(f"outcomes of task {task!r} not recorded")

    def record(self, outcome: Outcome) -> None:
        """Write one outcome row (and its posterior update); a store failure is counted."""
        try:
            self.store.record(outcome)
        except StoreError as exc:
            self.unrecorded += 1
            self._record_log.failed(exc, self._clock())  # redacted: a value may be a name
        else:
            if self._record_log.failures:
                self._record_log.succeeded(self._clock())

    def record_cancelled(
        self, plan: RunPlan, action: CallPath, customer: str | None, started: float, now: float
    ) -> None:
        """The unscored row of a call whose ``arun`` was cancelled."""
        self.record(
            Outcome(
                plan.request_id,
                action.number,
                self.task,
                action.path.name,
                None,
                started,
                error_class=ErrorClass.CANCELLED.value,
                latency_ms=(now - started) * 1000.0,
                propensity=plan.propensities.get(action.path.name),
                customer=customer,
                metadata={"error": "CancelledError"},
            )
        )

    def record_escalation(self, plan: RunPlan, action: Escalate, *, handled: bool) -> None:
        """An unscored outcome row on the ``escalation`` pseudo-path (for health rules)."""
        self.record(
            Outcome(
                plan.request_id,
                len(plan.attempts) + 1,
                self.task,
                ESCALATION,
                None,
                self._clock(),
                error_class="escalated",
                latency_ms=(self._clock() - plan.started_at) * 1000.0,
                metadata={"reason": action.reason, "handled": handled},
            )
        )

    def posteriors(self) -> dict[str, PathPosterior]:
        """The task's posteriors; the last ones read while the store is unreachable."""
        try:
            self._known = self.store.posteriors(self.task)
        except StoreError as exc:
            self._read_log.failed(exc, self._clock())
        else:
            if self._read_log.failures:
                self._read_log.succeeded(self._clock())
        return self._known

    def reset(self, reset: Reset, task: str | None = None) -> None:
        """Save a change point: the path restarts from its last scores (in ``task``, a
        segment's evidence, or the router's task)."""
        try:
            self.store.reset(
                self.task if task is None else task,
                reset.path,
                keep_successes=reset.keep_successes,
                keep_count=reset.keep_count,
                seen_resets=reset.seen_resets,
                tick=reset.tick,
            )
        except StoreError as exc:
            logger.warning("change point on path %r not saved: %s", reset.path, exc)
        else:
            logger.info(
                "path %r of task %r changed: restarted at its last %d scores",
                reset.path,
                self.task,
                reset.keep_count,
            )

    def attempted(
        self, plan: RunPlan, request_input: Any, judged: Judged, customer: str | None
    ) -> None:
        """Tell the observers of one judged attempt."""
        if self.observers:
            event = attempt_event(self.task, plan, request_input, judged, customer, self._clock())
            notify(self.observers, "on_attempt", event)

    def ended(
        self,
        plan: RunPlan,
        request_input: Any,
        customer: str | None,
        result: RunResult | None,
        error: RouterError | None,
    ) -> None:
        """Tell the observers how a run ended (``plan`` has no attempt if refused)."""
        if self.observers:
            event = run_event(
                self.task, plan, request_input, customer, result, error, self._clock()
            )
            notify(self.observers, "on_run", event)

    def alert(self, alert: Alert) -> None:
        """Hand ``alert`` to ``on_alert`` (default: a logged warning); never raises."""
        if self._on_alert is None:
            logger.warning("%s alert for task %r: %s", alert.kind, alert.task, alert.message)
            return
        try:
            self._on_alert(alert)
        except Exception:  # an alert hook must never fail the request
            logger.exception("on_alert raised while handling a %s alert", alert.kind)

    def warn(self, kind: str, path: str | None, message: str) -> None:
        """Raise an alert of ``kind`` about ``path`` (or the task) now."""
        self.alert(Alert(kind, self.task, path, message, self._clock()))
