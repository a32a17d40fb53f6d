"""Judging one attempt: did it answer, does the output fit, what score, retry or not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from bandits import InvalidScoreError, RouterError
from router._budget import Metered, spent_before
from router._calls import Called, timeout_error
from router._clock import Clock
from router._errors import ScoringError
from router._flow import CallPath
from router._path import Path
from router._result import Attempt
from router._retry import Retry
from router._scoring import Scorer
from router._taxonomy import Classifier, ErrorClass, retry_after_of
from router._validation import InvalidOutput, validate_output
from storage import SERVED_ATTEMPT, Outcome

if TYPE_CHECKING:
    import numpy as np

    from router._context import RequestContext

_REASKABLE = (ErrorClass.CLIENT, ErrorClass.INVALID_OUTPUT)
_NO_USAGE = Metered(None)
NO_METADATA: Mapping[str, Any] = MappingProxyType({})
"""The metadata of an attempt with nothing to say (shared, read-only)."""


@dataclass(slots=True)
class Judged:
    """The verdict on one attempt.

    ``errored``: the call raised or timed out (no output; availability, not quality).
    ``broken``: ``success_fn`` failed (the run stops with this error after recording).
    ``refused``: the provider refused the path's credentials (error class ``auth``).
    """

    attempt: Attempt
    output: Any
    errored: bool
    metadata: Mapping[str, Any] | None = None
    broken: RouterError | None = None
    refused: bool = False
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    judge_tokens: int = 0  # what success_fn spent scoring it (a MeteredScore)
    judge_cost: float = 0.0

    @property
    def tokens(self) -> int:
        """Tokens the attempt used (unknown counts as 0)."""
        return (self.tokens_in or 0) + (self.tokens_out or 0)

    def outcome(
        self,
        request_id: str,
        task: str,
        started: float,
        customer: str | None,
        *,
        propensity: float | None = None,
        shadow: bool = False,
        tick: int | None = None,
        served: int | None = None,
        request: RequestContext | None = None,
    ) -> Outcome:
        """The store's row for this attempt (a shadow call's is marked ``{"shadow": True}``;
        ``served``: the earlier attempt whose output the run serves if it ends here;
        ``request``: the request's context and segment)."""
        attempt = self.attempt
        metadata = self.metadata or NO_METADATA
        if served is not None:
            metadata = {**metadata, SERVED_ATTEMPT: served}
        return Outcome(
            request_id,
            attempt.number,
            task,
            attempt.path,
            attempt.score,
            started,
            error_class=attempt.error_class,
            errored=self.errored,
            latency_ms=attempt.latency_ms,
            propensity=propensity,
            customer=customer,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            cost=self.cost,
            metadata={**metadata, "shadow": True} if shadow else metadata,
            tick=tick,
            segment=None if request is None else request.segment,
            segment_tick=None if request is None else request.segment_tick,
            context=None if request is None else request.values,
        )


class AttemptJudge:
    """Turns what a call gave into an :class:`Attempt`, and decides about retrying.

    Example:
        >>> import numpy as np
        >>> from router._calls import Called
        >>> from router._flow import CallPath
        >>> def echo(x): return x
        >>> judge = AttemptJudge(lambda out: out == "hi", Classifier(), None,
        ...                      np.random.default_rng(0), lambda: 0.0)
        >>> judge.judge(CallPath(Path(echo), 1), "hi", Called("hi", None, 0.0, 0.1)).attempt.score
        1.0
    """

    def __init__(
        self,
        success_fn: Callable[..., Any],
        classifier: Classifier,
        retry: Retry | None,
        rng: np.random.Generator,
        clock: Clock,
        *,
        run_coroutine: Callable[[Awaitable[Any]], Any] | None = None,
    ) -> None:
        self._scorer = Scorer(success_fn, run_coroutine)
        self._classifier = classifier
        self._retry = retry
        self._rng = rng
        self._clock = clock

    def judge(self, action: CallPath, request_input: Any, called: Called) -> Judged:
        """Classify, validate and score one call of ``action.path``."""
        checked = self._check(action, called)
        if isinstance(checked, Judged):
            return checked
        output, usage, latency_ms = checked
        try:
            measured = self._scorer.measure(request_input, output)
        except (InvalidScoreError, ScoringError) as exc:
            return _billed(_broken(action, latency_ms, exc), usage, action.path)
        return _scored(action, output, usage, latency_ms, measured)

    async def ajudge(self, action: CallPath, request_input: Any, called: Called) -> Judged:
        """:meth:`judge` from async code (an async ``success_fn`` is awaited)."""
        checked = self._check(action, called)
        if isinstance(checked, Judged):
            return checked
        output, usage, latency_ms = checked
        try:
            measured = await self._scorer.ameasure(request_input, output)
        except (InvalidScoreError, ScoringError) as exc:
            return _billed(_broken(action, latency_ms, exc), usage, action.path)
        return _scored(action, output, usage, latency_ms, measured)

    def _check(self, action: CallPath, called: Called) -> Judged | tuple[Any, Metered, float]:
        """The verdict on a call that raised, overran or returned a misfit; else the
        output to score, its usage and the latency."""
        path = action.path
        latency_ms = (called.ended - called.started) * 1000.0
        error: BaseException | None = called.error
        limit = action.timeout
        if error is None and limit is not None and latency_ms > limit * 1000.0:
            error = timeout_error(path, limit)  # the clock says it overran (simulated time)
        if isinstance(error, InvalidScoreError):  # a Metered with a NaN cost, say: a bug
            return _broken(action, latency_ms, error)  # recorded unscored, the run stops
        if error is not None:
            failed = self._failed(action, latency_ms, error, self._classifier(error), True)
            spent = spent_before(error)  # paid for before it raised (Metered.attach_to)
            return failed if spent is None else _billed(failed, spent, path)
        output, usage = called.output, _NO_USAGE
        if isinstance(output, Metered):
            output, usage = output.output, output
        if path.output is not None:
            try:
                output = validate_output(path.output, output)
            except InvalidOutput as exc:
                misfit = self._failed(action, latency_ms, exc, ErrorClass.INVALID_OUTPUT, False)
                return _billed(misfit, usage, path)  # the call answered: it was paid for
        return output, usage, latency_ms

    def retry_wait(self, path: Path, attempt: Attempt, tries: int) -> float | None:
        """Seconds before calling ``path`` again after ``tries`` calls, or None to move on."""
        if attempt.ok or attempt.error is None or attempt.error_class is None:
            return None
        error_class = ErrorClass(attempt.error_class)
        if path.reask and error_class in _REASKABLE:
            return 0.0 if tries == 1 else None
        retry = path.retry or self._retry
        if retry is None:
            return None
        retry_after = retry_after_of(attempt.error, self._clock())
        return retry.wait(tries, error_class, retry_after, self._rng)

    @staticmethod
    def _failed(
        action: CallPath,
        latency_ms: float,
        error: BaseException,
        error_class: ErrorClass,
        errored: bool,
    ) -> Judged:
        attempt = Attempt(
            action.path.name, action.number, 0.0, latency_ms, error, error_class.value
        )
        return Judged(
            attempt,
            None,
            errored,
            {"error": type(error).__name__},
            refused=error_class is ErrorClass.AUTH,
        )


def _broken(action: CallPath, latency_ms: float, exc: RouterError) -> Judged:
    """An attempt ``success_fn`` could not score: recorded unscored, the run stops."""
    error_class = "invalid_score" if isinstance(exc, InvalidScoreError) else "scoring_error"
    attempt = Attempt(action.path.name, action.number, None, latency_ms, exc, error_class)
    return Judged(attempt, None, False, {"error": type(exc).__name__}, broken=exc)


def _scored(
    action: CallPath,
    output: Any,
    usage: Metered,
    latency_ms: float,
    measured: tuple[float, tuple[int, float | None]],
) -> Judged:
    """An answered, scored attempt with what it (and scoring it) spent."""
    path = action.path
    score, (judge_tokens, judge_cost) = measured
    judged = Judged(Attempt(path.name, action.number, score, latency_ms), output, False)
    if judge_tokens or judge_cost is not None:  # success_fn spent money (a model judge)
        judged.metadata = {"judge_tokens": judge_tokens, "judge_cost": judge_cost}
        judged.judge_cost = judge_cost or 0.0
        judged.judge_tokens = judge_tokens
    return _billed(judged, usage, path)


def _billed(judged: Judged, usage: Metered, path: Path) -> Judged:
    """``judged`` with the tokens and cost of the call (its ``Metered`` usage, else the
    path's price)."""
    judged.tokens_in, judged.tokens_out = usage.tokens_in, usage.tokens_out
    judged.cost = usage.cost if usage.cost is not None else path.price
    return judged
