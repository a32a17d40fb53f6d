"""Structured logs: a structlog event per attempt and per run (``pip install outcome-router[ops]``).

structlog is imported when a :class:`StructuredLog` is built, never by ``import router``;
it leaves structlog's global configuration alone.
"""

from __future__ import annotations

import datetime
import logging
import sys
from typing import Any, TextIO

from bandits import ConfigError
from router._events import AttemptEvent, RunEvent
from router._names import shown
from router._redact import Redactor

ATTEMPT_EVENT = "outcome_router.attempt"
RUN_EVENT = "outcome_router.run"


class StructuredLog:
    """An observer writing one structured log event per attempt and per run.

    Each event holds the request id, task, path, score, error class, latency, tokens
    and cost; a run also its decision (the path order), fallbacks and whether it was
    escalated. Attempts that raised log at ``warning``, escalated runs at ``warning``
    and failed runs at ``error``; the rest at ``info``. The time is the router clock's.

    Inputs and outputs are never logged unless ``log_payloads=True``, and then only
    through the ``redactor`` (e-mails, phones, card numbers and keys masked by default).
    Customer names and error messages always go through it.

    Args:
        json: render JSON lines (production); False: a readable console line. Default:
            JSON unless the stream is a terminal.
        stream: where lines go (default: ``sys.stderr``).
        logger: send events to this logger instead of ``stream``: a ``logging.Logger``
            (rendered lines become its messages) or a structlog logger (its own
            processors render them).
        log_payloads: add the redacted ``input`` and ``output`` to each event.
        redactor: masks payloads, customers and error messages (default: ``Redactor()``).
        attempts: log every attempt (True) or runs only.

    Example:
        >>> import io, json
        >>> from router import Router
        >>> out = io.StringIO()
        >>> log = StructuredLog(stream=out, json=True)
        >>> router = Router([str.upper], lambda out: True, task="shout", store="memory://",
        ...                 observers=[log])
        >>> router.run("bob@example.com")
        'BOB@EXAMPLE.COM'
        >>> attempt, run = (json.loads(line) for line in out.getvalue().splitlines())
        >>> attempt["event"], attempt["path"], attempt["score"], "input" in attempt
        ('outcome_router.attempt', 'upper', 1.0, False)
        >>> run["event"], run["served_by"], run["level"]
        ('outcome_router.run', 'upper', 'info')
    """

    def __init__(
        self,
        *,
        json: bool | None = None,
        stream: TextIO | None = None,
        logger: Any = None,
        log_payloads: bool = False,
        redactor: Redactor | None = None,
        attempts: bool = True,
    ) -> None:
        if logger is not None and stream is not None:
            raise ConfigError(
                "StructuredLog takes a logger or a stream, not both: drop stream= to log "
                "through the logger"
            )
        if redactor is not None and not isinstance(redactor, Redactor):
            raise ConfigError(f"redactor must be a Redactor(...), got {shown(redactor)}")
        if json is not None and not isinstance(json, bool):
            raise ConfigError(f"json must be True, False or None (automatic), got {shown(json)}")
        self._payloads = bool(log_payloads)
        self._attempts = bool(attempts)
        self._redact = redactor if redactor is not None else Redactor()
        if logger is not None and not isinstance(logger, logging.Logger):
            if not all(callable(getattr(logger, m, None)) for m in ("info", "warning", "error")):
                raise ConfigError(
                    f"logger must be a logging.Logger or a structlog logger, got {shown(logger)}"
                )
            self._log: Any = logger
            return
        target = sys.stderr if stream is None else stream
        if json is None:
            isatty = getattr(target, "isatty", None)
            json = not (callable(isatty) and isatty())
        self._log = _wrap(logger, target, json=json)

    def __repr__(self) -> str:
        return f"StructuredLog(log_payloads={self._payloads}, attempts={self._attempts})"

    def on_attempt(self, event: AttemptEvent) -> None:
        """Log one attempt (``warning`` when it raised)."""
        if not self._attempts:
            return
        fields: dict[str, Any] = {
            "timestamp": _iso(event.at),
            "task": event.task,
            "request_id": event.request_id,
            "attempt": event.attempt,
            "path": event.path,
            "score": event.score,
            "error_class": event.error_class,
            "latency_ms": round(event.latency_ms, 3),
            "tokens": event.tokens,
            "cost": event.cost,
            "customer": self._redact(event.customer),
            "propensity": event.propensity,
        }
        if self._payloads:
            fields["input"] = self._redact(event.input)
            fields["output"] = self._redact(event.output)
        emit = self._log.warning if event.error_class is not None else self._log.info
        emit(ATTEMPT_EVENT, **fields)

    def on_run(self, event: RunEvent) -> None:
        """Log one run: ``error`` when it raised, ``warning`` when escalated."""
        fields: dict[str, Any] = {
            "timestamp": _iso(event.at),
            "task": event.task,
            "request_id": event.request_id,
            "decision": list(event.decision),
            "served_by": event.served_by,
            "score": event.score,
            "attempts": event.attempts,
            "fallbacks": event.fallbacks,
            "escalated": event.escalated,
            "latency_ms": round(event.latency_ms, 3),
            "cost": event.cost,
            "customer": self._redact(event.customer),
            "error": self._redact(event.error),
        }
        if self._payloads:
            fields["input"] = self._redact(event.input)
            fields["output"] = self._redact(event.output)
        if event.error is not None:
            self._log.error(RUN_EVENT, **fields)
        elif event.escalated:
            self._log.warning(RUN_EVENT, **fields)
        else:
            self._log.info(RUN_EVENT, **fields)


def _wrap(logger: logging.Logger | None, stream: TextIO, *, json: bool) -> Any:
    """A structlog logger of our own (structlog's global configuration is left alone)."""
    try:
        import structlog
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConfigError(
            "StructuredLog needs structlog: pip install 'outcome-router[ops]'"
        ) from exc

    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors = [structlog.processors.add_log_level, renderer]
    target: Any = structlog.PrintLogger(stream) if logger is None else logger
    return structlog.wrap_logger(target, processors=processors)


def _iso(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat()
