"""One request in flight: its plan, and the rooms that carry it out.

:class:`Crew` holds what every run of a router shares (its admission, recorder, caller,
judge and policy). :meth:`Crew.begin` checks a request and plans it; the :class:`Run` it
returns steps through the request: :meth:`Run.next` says what to do next —
:class:`Nap`, :class:`Call` a path, or end with the plan's Serve, Escalate or GiveUp —
and :meth:`Run.settle` takes what a call gave back. The loops that call and nap are in
:mod:`router._loops` (``run`` and ``arun``) and :mod:`router._streaming`.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bandits import ConfigError, RouterError
from bandits._policy import Choice, Policy
from router._admission import Admission
from router._attempts import AttemptJudge, Judged
from router._budget import BudgetExceeded
from router._calls import Called, PathCaller
from router._canary import Canary
from router._clock import Clock
from router._context import (
    ContextFn,
    ContextValue,
    RequestContext,
    check_context,
    derive_context,
    segment_of,
)
from router._errors import AllPathsFailed
from router._escalation import Alert, Escalation
from router._flow import (
    Admitted,
    CallPath,
    Escalate,
    GiveUp,
    RunPlan,
    RunRules,
    Serve,
    Stop,
    Wait,
)
from router._guard import CURRENT_GUARD, InputTooLarge, LoopDetected, RunGuard, input_size
from router._names import check_name
from router._path import Path
from router._recorder import Recorder
from router._result import RunResult
from router._segment_routing import MAX_SEGMENTS, SegmentRouting
from router._settings import (
    ESCALATION,
    Sleep,
    check_deadline,
    check_sleep,
    classifier,
    never_waits,
    rules,
)
from router._shadow import ShadowRunner
from storage import PathPosterior, Store, StoreWaits, store_waits

if TYPE_CHECKING:
    import numpy as np

    from router._config import RouterConfig


@dataclass(frozen=True, slots=True)
class Nap:
    """Wait ``seconds`` (before a retry, or for a rate limit's slot), then ask again."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Call:
    """Call ``action.path`` now; ``reserved`` of its price is counted already."""

    action: CallPath
    reserved: float


Step = Nap | Call | Serve | Escalate | GiveUp
ContextValues = Mapping[str, ContextValue]


@dataclass(slots=True)
class Crew:
    """What every run of one router shares."""

    task: str
    clock: Clock
    sleep: Sleep
    rng: np.random.Generator
    policy: Policy
    rules: RunRules
    admission: Admission
    recorder: Recorder
    caller: PathCaller
    judge: AttemptJudge
    store_timeout: float = 2.0
    store_never_waits: bool = False
    deadline: float | None = None
    escalation: Escalation | None = None
    max_input_size: int | None = None
    loop_limit: int | None = None
    context_fn: ContextFn | None = None
    segments: SegmentRouting | None = None
    shadow_runner: ShadowRunner = field(default_factory=ShadowRunner)
    # Request ids: 16 random hex digits per router, then a counter (unique, cheap).
    _prefix: str = field(default_factory=lambda: os.urandom(8).hex())
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    def of(cls, config: RouterConfig, store: Store, policy: Policy) -> Crew:
        """The rooms of a router, built from its checked ``config`` on ``store``."""
        import numpy as np

        clock = config.clock or time.time
        rng = np.random.default_rng(config.seed)
        task = config.task
        recorder = Recorder(store, task, clock, config.observers, config.on_alert)
        caller = PathCaller(clock)
        admission = Admission(
            store,
            task,
            clock,
            caller,
            recorder,
            config.breaker,
            config.budget,
            config.customer_limit,
        )
        judge = AttemptJudge(
            config.success_fn,
            classifier(config.classify),
            config.retry,
            rng,
            clock,
            run_coroutine=caller.run_coroutine,  # an async success_fn under run()
        )
        crew = cls(
            task,
            clock,
            check_sleep(config.sleep, clock),
            rng,
            policy,
            rules(config.fallback, config.deadline, config.fallback_below, config.escalation),
            admission,
            recorder,
            caller,
            judge,
            store_timeout=float(config.store_timeout),
            store_never_waits=never_waits(store),
            deadline=config.deadline,
            escalation=config.escalation,
            max_input_size=config.max_input_size,
            loop_limit=config.loop_limit,
            context_fn=config.context,
        )
        crew.segments = SegmentRouting(
            task, policy, recorder, config.segment_strength, MAX_SEGMENTS
        )
        return crew

    def adopt(
        self, paths: Sequence[Path], canary: Canary | None = None, shadow: float | None = None
    ) -> None:
        """Make sure the store holds new paths' posteriors, then admit them."""
        admission = self.admission
        names = [p.name for p in paths]
        fading = getattr(self.policy, "fading_horizon", None)
        # the policy's horizon for the task's evidence, with as many paths as it has now
        horizon = None if fading is None else fading(len({*admission.by_name, *names}))
        store = self.recorder.store
        with self.waiting():
            if horizon is None:
                store.ensure_paths(self.task, names)
            else:
                store.ensure_paths(self.task, names, horizon=horizon)
        admission.add(paths, canary, shadow)

    def new_id(self) -> str:
        """A fresh request id."""
        return f"{self._prefix}{next(self._ids):016x}"

    def begin(
        self,
        request_input: Any,
        customer: str | None,
        deadline: float | None,
        waits: StoreWaits | None = None,
        context: object = None,
    ) -> Run:
        """Guardrails and the plan of one request; observers hear of a refusal."""
        try:
            if self.max_input_size is not None:
                self._check_input(request_input, self.max_input_size)
            values = None
            if context is not None:
                values = check_context(context)
            elif self.context_fn is not None:
                values = derive_context(self.context_fn, request_input)
            plan = self._plan(customer, deadline, values)
        except RouterError as exc:  # refused before any path: observers still hear of it
            if self.recorder.observers:
                now = self.clock()
                refused = RunPlan(self.new_id(), [], {}, self.rules, started_at=now)
                self.recorder.ended(refused, request_input, customer, None, exc)
            raise
        guard = RunGuard(self.loop_limit) if self.loop_limit else None
        return Run(self, plan, request_input, customer, waits, CURRENT_GUARD.set(guard))

    def run_waits(self, deadline: float | None) -> StoreWaits:
        """The bound of a run's store calls: ``store_timeout`` each, and half of what is
        left of its deadline."""
        limit = self.deadline if deadline is None else deadline
        valid = isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0
        at = self.clock() + limit if valid and limit is not None else None
        return StoreWaits(self.store_timeout, at, self.clock)

    def waiting(self) -> contextlib.AbstractContextManager[Any]:
        """Bound a store call made outside a run (a report, the stats) by ``store_timeout``."""
        if self.store_never_waits:
            return contextlib.nullcontext(None)
        return store_waits(StoreWaits(self.store_timeout, None, self.clock))

    def _plan(
        self, customer: str | None, deadline: float | None, context: ContextValues | None = None
    ) -> RunPlan:
        admission, now = self.admission, self.clock()
        if customer is not None:
            admission.admit_customer(check_name("customer", customer), now)
        limit = self.deadline if deadline is None else check_deadline(deadline)
        posteriors = self.recorder.posteriors()
        tick = 0
        for row in posteriors.values():  # a plain loop: this runs on every request
            tick += row.n
        learned, last_resorts, trial, canaries = admission.candidates(now)
        over = admission.over(customer, now)
        if over is not None:
            learned, last_resorts = admission.within_budget(over, learned, last_resorts)
        contextual = context is not None and getattr(self.policy, "contextual", False)
        segment = None if context is None or contextual else segment_of(context)
        request = None
        if contextual and learned:  # a policy that reads the context itself
            choice = self.policy.choose_with(  # type: ignore[attr-defined]
                learned, posteriors, tick, self.rng, context
            )
            request = RequestContext(context or {}, None)
        elif segment is not None and self.segments is not None and learned:
            choice, segment_tick = self.segments.choose(
                segment, learned, posteriors, tick, self.rng
            )
            request = RequestContext(context or {}, segment, segment_tick)
        else:
            choice = (
                self.policy.choose(learned, posteriors, tick, self.rng)
                if learned
                else Choice([], {})
            )
            for reset in choice.resets:
                self.recorder.reset(reset)
            if context is not None:
                request = RequestContext(context, None)
        order = list(choice.order)
        propensities = choice.propensities
        if trial is not None and trial in order:  # the breaker's half-open trial goes first
            order.remove(trial)
            order.insert(0, trial)
            # ... chosen for certain, not drawn: that is the propensity to log
            propensities = {name: float(name == trial) for name in order}
        if admission.rollouts.active():
            order, propensities = self._canaries(
                order, propensities, posteriors, learned, allowed=canaries, now=now
            )
        by_name = admission.by_name
        rules = self.rules if limit is None else self.rules.until(now + limit)
        plan = RunPlan(
            self.new_id(),
            [by_name[name] for name in (*order, *last_resorts)],
            propensities,
            rules,
            started_at=now,
            tick=tick,
            request=request,
        )
        if over is not None and not learned and not last_resorts:  # "escalate"
            plan.stop(Stop(over).reason)
        return plan

    def _canaries(
        self,
        order: list[str],
        propensities: Mapping[str, float],
        posteriors: Mapping[str, PathPosterior],
        incumbents: Sequence[str],
        *,
        allowed: Sequence[str],
        now: float,
    ) -> tuple[list[str], Mapping[str, float]]:
        """Review the canaries' stages, and put one of ``allowed`` first on its share."""
        rollouts = self.admission.rollouts
        for change in rollouts.review(posteriors, incumbents, self.rng):
            if "rolled back" in change:
                self.recorder.alert(Alert("canary", self.task, change.split(":")[0], change, now))
        chosen, caps = rollouts.pick(allowed, self.rng)
        if not caps:
            return order, propensities
        share = 1.0 - sum(caps.values())
        scaled = {name: share * p for name, p in propensities.items()}
        scaled.update(caps)
        if chosen is not None:
            order = [chosen, *order]
        return order, scaled

    def _check_input(self, request_input: Any, limit: int) -> None:
        try:
            size = input_size(request_input)
        except Exception as exc:  # nested too deeply, or a repr() that raises
            raise InputTooLarge(
                f"the size of an input of task {self.task!r} cannot be measured against "
                f"max_input_size={limit} ({type(exc).__name__}: {exc}); pass a string, bytes "
                "or a JSON-serialisable value"
            ) from exc
        if size > limit:
            raise InputTooLarge(
                f"the input of task {self.task!r} has {size} characters, over "
                f"max_input_size={limit}; shorten or split it"
            )

    def shadow(self, plan: RunPlan, request_input: Any, customer: str | None) -> None:
        """Start the shadow calls sampled for this request (in the background), each
        admitted as any call is."""
        admission = self.admission
        for number, (name, share) in enumerate(admission.shadows.items(), start=1):
            if self.rng.random() >= share:
                continue
            path = admission.by_name[name]
            ticket = admission.admit(path, self.clock(), customer, shadow=True)
            if isinstance(ticket, Admitted):
                action = CallPath(path, -number, path.timeout)
                self.shadow_runner.submit(
                    self._run_shadow, action, plan, request_input, customer, ticket.reserved
                )

    def _run_shadow(
        self,
        action: CallPath,
        plan: RunPlan,
        request_input: Any,
        customer: str | None,
        reserved: float,
    ) -> None:
        path = action.path
        done = self.admission.releases.get(path.name)
        called = self.caller.call(path, request_input, path.timeout, done=done)
        judged = self.judge.judge(action, request_input, called)
        self.recorder.record(
            judged.outcome(
                plan.request_id,
                self.task,
                called.started,
                customer,
                shadow=True,
                tick=plan.tick,
                request=plan.request,
            )
        )
        self.admission.count(path, judged, customer, reserved)


class Run:
    """One request in flight: the plan decides, the run carries its decisions out."""

    __slots__ = ("_guard", "_pending", "crew", "customer", "input", "plan", "waits")

    def __init__(  # noqa: PLR0917 - made by Crew.begin only
        self,
        crew: Crew,
        plan: RunPlan,
        request_input: Any,
        customer: str | None,
        waits: StoreWaits | None,
        guard: contextvars.Token[RunGuard | None],
    ) -> None:
        self.crew = crew
        self.plan = plan
        self.input = request_input
        self.customer = customer
        self.waits = waits
        self._guard = guard
        self._pending: tuple[CallPath, float | None] | None = None  # what a Nap was for

    def next(self) -> Step:
        """What to do next: nap, call a path, or end (Serve, Escalate, GiveUp)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            action, reserved = pending
            if reserved is None:  # napped before a retry: now admit the call
                step = self._admit(action)
                if step is not None:
                    return step
            elif self.crew.admission.after_wait(action.path, self.customer, reserved):
                return Call(action, reserved)
            else:  # the slot waited for is gone
                self.plan.skip(action.path)
        plan, waits, clock = self.plan, self.waits, self.crew.clock
        while True:
            if waits is not None and waits.spent:  # a slow store is never charged to a path
                plan.excuse(waits.take())
            decided = plan.next_action(clock())
            if not isinstance(decided, CallPath):
                return decided
            if decided.wait > 0:
                self._pending = (decided, None)
                return Nap(decided.wait)
            step = self._admit(decided)
            if step is not None:
                return step

    def _admit(self, action: CallPath) -> Call | Nap | None:
        """Count the attempt (loop guard) and ask admission; None: the plan moved on."""
        guard = CURRENT_GUARD.get()
        if guard is not None:
            guard.count(f"path:{action.path.name}")
        plan = self.plan
        patience = plan.patience(action.path)
        ticket = self.crew.admission.admit(
            action.path, self.crew.clock(), self.customer, patience=patience
        )
        if isinstance(ticket, Admitted):
            return Call(action, ticket.reserved)
        if isinstance(ticket, Wait):
            self._pending = (action, ticket.reserved)
            return Nap(ticket.seconds)
        plan.refused(action.path, ticket)
        return None

    def release(self, call: Call) -> Any:
        """What gives back ``call``'s in-flight slot when it ends (None: it has none)."""
        return self.crew.admission.releases.get(call.action.path.name)

    def settle(self, call: Call, called: Called, judged: Judged) -> None:
        """Record a judged attempt, count it, tell the policy, and add it to the plan."""
        crew, plan, action = self.crew, self.plan, call.action
        # A loop, or a configuration error raised in the call (a prompt template the
        # input cannot fill): stop the run and say so, instead of learning it as the
        # path's failure and hiding it behind the fallback.
        stop = called.error if isinstance(called.error, LoopDetected | ConfigError) else None
        path = action.path
        propensity = plan.propensities.get(path.name)
        # With fallback_below, the best output so far is served if the run ends here.
        served = None if plan.rules.fail_below is None else plan.served_instead(judged.attempt)
        crew.recorder.record(
            judged.outcome(
                plan.request_id,
                crew.task,
                called.started,
                self.customer,
                propensity=propensity,
                tick=plan.tick,
                served=served,
                request=plan.request,
            )
        )
        self.account(call, judged)
        crew.recorder.attempted(plan, self.input, judged, self.customer)
        if stop is not None:
            raise stop
        if judged.broken is not None:
            broken = judged.broken
            raise type(broken)(
                f"{broken} (path {path.name!r}, request {plan.request_id}); the attempt was "
                "recorded as unscored and no posterior changed"
            ) from broken
        if judged.attempt.score is not None and not path.last_resort:
            request = plan.request
            policy = crew.policy
            if request is not None and getattr(policy, "contextual", False):
                policy.observe_with(  # type: ignore[attr-defined]
                    path.name, judged.attempt.score, plan.tick, judged.errored, request.values
                )
            elif request is not None and request.segment is not None and crew.segments is not None:
                crew.segments.observe(
                    request.segment,
                    path.name,
                    judged.attempt.score,
                    request.segment_tick or 0,
                    judged.errored,
                )
            else:
                crew.policy.observe(path.name, judged.attempt.score, plan.tick, judged.errored)
        if judged.refused:
            crew.admission.bench(path, judged.attempt.error)
        plan.observe(judged.attempt, judged.output)
        plan.allow_retry(crew.judge.retry_wait(path, judged.attempt, plan.tries))

    def account(self, call: Call, judged: Judged) -> None:
        """Breaker counts and spending of one attempt (its reservation already counted)."""
        crew, path = self.crew, call.action.path
        cost, tokens = crew.admission.count(path, judged, self.customer, call.reserved)
        if judged.cost is not None:
            observe_cost = getattr(crew.policy, "observe_cost", None)
            if observe_cost is not None:
                observe_cost(path.name, judged.cost)
                if crew.segments is not None:  # a price is the path's, whatever the segment
                    crew.segments.observe_cost(path.name, judged.cost)
        plan = self.plan
        plan.spend(cost, tokens)
        if crew.admission.run_spent(plan.spent_tokens, plan.spent_cost):
            plan.stop("the run's budget is spent")

    def cancelled(self, call: Call | None, started: float | None) -> None:
        """An arun cancelled between admitting a call and judging it (``call`` None: while
        napping): give the price back and record the attempt (if the call started) as
        cancelled, unscored. Its in-flight slot is given back when its worker ends (see
        PathCaller)."""
        crew = self.crew
        now = crew.clock()
        if call is None:  # napping: before a retry (nothing reserved) or for a slot
            pending, self._pending = self._pending, None
            if pending is not None and pending[1] is not None:
                crew.admission.give_back(self.customer, pending[1])
            return
        crew.admission.give_back(self.customer, call.reserved)
        if started is not None:
            crew.recorder.record_cancelled(self.plan, call.action, self.customer, started, now)

    def escalate(self, action: Escalate) -> RunResult:
        """Hand the request to the escalation handler; its output is the result."""
        from router._escalation import escalate
        from router._redact import error_text

        crew, plan = self.crew, self.plan
        assert crew.escalation is not None  # Escalate is only planned with a handler
        crew.recorder.warn("escalation", None, f"request {plan.request_id}: {action.reason}")
        try:
            output = escalate(crew.escalation, crew.caller, self.input, plan.attempts)
        except Exception as exc:
            crew.recorder.record_escalation(plan, action, handled=False)
            raise AllPathsFailed(
                crew.task,
                plan.request_id,
                plan.attempts,
                f"{action.reason}; escalation failed with {type(exc).__name__}: {error_text(exc)}",
            ) from exc
        crew.recorder.record_escalation(plan, action, handled=True)
        return RunResult(
            output=output,
            path=ESCALATION,
            request_id=plan.request_id,
            score=0.0,
            attempts=tuple(plan.attempts),
            latency_ms=(crew.clock() - plan.started_at) * 1000.0,
            escalated=True,
        )

    def conclude(self, action: Serve | GiveUp) -> RunResult:
        """The result of a served run; raise when it gave up."""
        plan = self.plan
        if isinstance(action, GiveUp):
            if plan.over_budget is not None:
                raise BudgetExceeded(
                    f"request {plan.request_id}: {action.reason}; raise Budget(...) limits or "
                    "wait for the next UTC day",
                    plan.over_budget,
                    plan.attempts,
                )
            last_error = plan.attempts[-1].error if plan.attempts else None
            raise AllPathsFailed(
                self.crew.task, plan.request_id, plan.attempts, action.reason
            ) from last_error
        attempt = action.attempt
        return RunResult(
            output=action.output,
            path=attempt.path,
            request_id=plan.request_id,
            score=attempt.score if attempt.score is not None else 0.0,
            attempts=tuple(plan.attempts),
            latency_ms=(self.crew.clock() - plan.started_at) * 1000.0,
        )

    def end(self, result: RunResult | None, error: RouterError | None) -> None:
        """Tell the observers how the run ended, and start its shadow calls."""
        crew = self.crew
        crew.recorder.ended(self.plan, self.input, self.customer, result, error)
        if result is not None and crew.admission.shadows:
            crew.shadow(self.plan, self.input, self.customer)

    def close(self) -> None:
        """Drop the run's loop guard."""
        CURRENT_GUARD.reset(self._guard)
