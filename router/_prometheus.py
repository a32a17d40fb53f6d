"""Prometheus metrics of a router (``pip install outcome-router[ops]``).

prometheus_client is imported when a :class:`PrometheusMetrics` is built, never by
``import router``; nothing is served: expose the registry as you already do
(``prometheus_client.start_http_server``, a web framework's ``/metrics`` route ...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bandits import ConfigError
from router._events import AttemptEvent, RunEvent
from router._names import shown

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
"""Seconds: LLM calls take longer than the web requests of prometheus_client's defaults."""
NO_ERROR = "none"
"""The ``error_class`` label of attempts that did not raise."""


class PrometheusMetrics:
    """An observer counting requests, successes, fallbacks, escalations, cost and latency.

    Metrics (``namespace`` prefixed, ``outcome_router_`` by default):

    - ``requests_total{task,outcome}``: runs that ended ``served``, ``escalated`` or ``failed``;
    - ``successes_total{task}``: the sum of the served outputs' scores;
    - ``fallbacks_total{task}``, ``escalations_total{task}``;
    - ``cost_dollars_total{task,path}``: spending of attempts with a known cost;
    - ``attempts_total{task,path,error_class}`` (``error_class="none"`` when it answered);
    - ``latency_seconds{task,path}``: a histogram of attempt latencies.

    Args:
        registry: where the metrics are registered (default: prometheus_client's global
            ``REGISTRY``). Two instances need two registries.
        namespace: the metric name prefix.
        buckets: the latency histogram's upper bounds in seconds.

    Example:
        >>> from prometheus_client import CollectorRegistry
        >>> from router import Router
        >>> registry = CollectorRegistry()
        >>> router = Router([str.upper], lambda out: True, task="shout", store="memory://",
        ...                 observers=[PrometheusMetrics(registry)])
        >>> router.run("hi")
        'HI'
        >>> registry.get_sample_value(
        ...     "outcome_router_requests_total", {"task": "shout", "outcome": "served"})
        1.0
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        namespace: str = "outcome_router",
        *,
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        try:
            import prometheus_client as prom
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ConfigError(
                "PrometheusMetrics needs prometheus_client: pip install 'outcome-router[ops]'"
            ) from exc
        if registry is not None and not isinstance(registry, prom.CollectorRegistry):
            raise ConfigError(
                f"registry must be a prometheus_client.CollectorRegistry, got {shown(registry)}"
            )
        if not isinstance(namespace, str):
            raise ConfigError(
                f"namespace must be a string such as 'outcome_router', got {shown(namespace)}"
            )
        bounds = _buckets(buckets)
        where: dict[str, Any] = {
            "namespace": namespace,
            "registry": prom.REGISTRY if registry is None else registry,
        }
        try:
            self._requests = prom.Counter(
                "requests", "Requests by how they ended.", ["task", "outcome"], **where
            )
            self._successes = prom.Counter(
                "successes", "Sum of the scores of served outputs.", ["task"], **where
            )
            self._fallbacks = prom.Counter(
                "fallbacks", "Fallbacks from one path to another.", ["task"], **where
            )
            self._escalations = prom.Counter(
                "escalations", "Requests handed to the escalation handler.", ["task"], **where
            )
            self._cost = prom.Counter(
                "cost_dollars", "Spending of attempts, in dollars.", ["task", "path"], **where
            )
            self._attempts = prom.Counter(
                "attempts", "Path calls by error class.", ["task", "path", "error_class"], **where
            )
            self._latency = prom.Histogram(
                "latency_seconds",
                "Latency of path calls.",
                ["task", "path"],
                buckets=bounds,
                **where,
            )
        except ValueError as exc:  # "Duplicated timeseries in CollectorRegistry"
            raise ConfigError(
                f"{exc}: a registry holds one PrometheusMetrics per namespace; share one "
                "instance between routers, or pass registry=CollectorRegistry()"
            ) from exc

    def __repr__(self) -> str:
        return "PrometheusMetrics()"

    def on_attempt(self, event: AttemptEvent) -> None:
        """Count the attempt, its cost and its latency."""
        error_class = event.error_class or NO_ERROR
        self._attempts.labels(event.task, event.path, error_class).inc()
        self._latency.labels(event.task, event.path).observe(max(0.0, event.latency_ms) / 1000.0)
        if event.cost is not None and event.cost > 0:
            self._cost.labels(event.task, event.path).inc(event.cost)

    def on_run(self, event: RunEvent) -> None:
        """Count the run by outcome, with its score, fallbacks and escalation."""
        if event.error is not None:
            outcome = "failed"
        elif event.escalated:
            outcome = "escalated"
        else:
            outcome = "served"
        self._requests.labels(event.task, outcome).inc()
        if event.escalated:
            self._escalations.labels(event.task).inc()
        if event.fallbacks > 0:
            self._fallbacks.labels(event.task).inc(event.fallbacks)
        if outcome == "served" and event.score is not None and event.score > 0:
            self._successes.labels(event.task).inc(event.score)


def _buckets(buckets: Sequence[float]) -> tuple[float, ...]:
    try:
        bounds = tuple(float(b) for b in buckets)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"buckets must be numbers of seconds, got {shown(buckets)}") from exc
    if not bounds or any(not math.isfinite(b) or b <= 0 for b in bounds):
        raise ConfigError(f"buckets must be finite seconds > 0, got {shown(buckets)}")
    if list(bounds) != sorted(set(bounds)):
        raise ConfigError(f"buckets must be increasing, got {shown(buckets)}")
    return bounds
