"""OpenTelemetry traces of a router (``pip install outcome-router[ops]``).

opentelemetry-api is imported when an :class:`OpenTelemetryTracer` is built, never by
``import router``; no exporter or provider is installed: configure the SDK as usual.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from router._events import AttemptEvent, RunEvent
from router._names import shown
from router._redact import Redactor

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

RUN_SPAN = "outcome_router.run"
ATTEMPT_SPAN = "outcome_router.attempt"
MAX_PENDING = 10_000
"""Runs whose attempts are held until the run ends; the oldest are dropped beyond this."""


class OpenTelemetryTracer:
    """An observer making one span per run, with a child span per attempt.

    A run's span starts when the run started (``event.at - latency``) and ends when it
    ended, on the router's clock; it is a child of the span current when the run
    ended (wrap ``router.run`` in your own span to nest it). Attempts are held until
    their run ends, then become child spans timed by their own latency. Attributes are
    named ``outcome_router.*``; a failed run or an attempt that raised has status ERROR.
    Inputs and outputs are never recorded; customer names and error messages are
    redacted (see :class:`Redactor`).

    Args:
        tracer: the tracer to use (default: ``opentelemetry.trace.get_tracer("outcome_router")``,
            which follows the global tracer provider).

    Example:
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        ...     InMemorySpanExporter)
        >>> from router import Router
        >>> exporter, provider = InMemorySpanExporter(), TracerProvider()
        >>> provider.add_span_processor(SimpleSpanProcessor(exporter))
        >>> tracer = OpenTelemetryTracer(provider.get_tracer("example"))
        >>> router = Router([str.upper], lambda out: True, task="shout", store="memory://",
        ...                 observers=[tracer])
        >>> router.run("hi")
        'HI'
        >>> [(s.name, s.attributes["outcome_router.path"]) for s in exporter.get_finished_spans()]
        [('outcome_router.attempt', 'upper'), ('outcome_router.run', 'upper')]
    """

    def __init__(self, tracer: Tracer | None = None) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ConfigError(
                "OpenTelemetryTracer needs opentelemetry-api: pip install 'outcome-router[ops]'"
            ) from exc
        if tracer is None:
            tracer = trace.get_tracer("outcome_router")
        elif not callable(getattr(tracer, "start_span", None)):
            raise ConfigError(
                "tracer must be an OpenTelemetry Tracer (from provider.get_tracer(name)), "
                f"got {shown(tracer)}"
            )
        self._tracer = tracer
        self._pending: OrderedDict[tuple[str, str], list[AttemptEvent]] = OrderedDict()
        self._lock = threading.Lock()
        self._redact = Redactor()

    def __repr__(self) -> str:
        return f"OpenTelemetryTracer({self._tracer!r})"

    def on_attempt(self, event: AttemptEvent) -> None:
        """Hold the attempt until its run ends (spans need their parent first)."""
        key = (event.task, event.request_id)
        with self._lock:
            self._pending.setdefault(key, []).append(event)
            self._pending.move_to_end(key)
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)

    def on_run(self, event: RunEvent) -> None:
        """Emit the run's span and its attempts' child spans."""
        from opentelemetry import trace
        from opentelemetry.trace import Status, StatusCode

        with self._lock:
            attempts = self._pending.pop((event.task, event.request_id), [])
        ended = _ns(event.at)
        started = min(
            [_ns(event.at - event.latency_ms / 1000.0)]
            + [_ns(a.at - a.latency_ms / 1000.0) for a in attempts]
        )
        error = self._redact.text(event.error) if event.error is not None else None
        customer = self._redact.text(event.customer) if event.customer is not None else None
        attributes = _run(event) | _attributes({"customer": customer, "error": error})
        run = self._tracer.start_span(RUN_SPAN, start_time=started, attributes=attributes)
        if error is not None:
            run.set_status(Status(StatusCode.ERROR, error))
        context = trace.set_span_in_context(run)
        for attempt in attempts:
            span = self._tracer.start_span(
                ATTEMPT_SPAN,
                context=context,
                start_time=_ns(attempt.at - attempt.latency_ms / 1000.0),
                attributes=_attempt(attempt),
            )
            if attempt.error_class is not None:
                span.set_status(Status(StatusCode.ERROR, attempt.error_class))
            span.end(end_time=max(_ns(attempt.at), started))
        run.end(end_time=ended)


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    """OpenTelemetry attributes cannot be None: leave those out."""
    return {f"outcome_router.{k}": v for k, v in values.items() if v is not None}


def _run(event: RunEvent) -> dict[str, Any]:
    return _attributes(
        {
            "task": event.task,
            "request_id": event.request_id,
            "decision": list(event.decision),
            "path": event.served_by,
            "score": event.score,
            "attempts": event.attempts,
            "fallbacks": event.fallbacks,
            "escalated": event.escalated,
            "latency_ms": event.latency_ms,
            "cost": event.cost,
        }
    )


def _attempt(event: AttemptEvent) -> dict[str, Any]:
    return _attributes(
        {
            "task": event.task,
            "request_id": event.request_id,
            "attempt": event.attempt,
            "path": event.path,
            "score": event.score,
            "error_class": event.error_class,
            "latency_ms": event.latency_ms,
            "tokens": event.tokens,
            "cost": event.cost,
            "propensity": event.propensity,
        }
    )
