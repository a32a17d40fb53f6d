"""outcome-router: route each request to the path that works, learning from outcomes.

Example:
    >>> from router import Router
    >>> def model_a(text): return {"item": text}
    >>> def regex(text): return None
    >>> router = Router([model_a, regex], success_fn=lambda order: order is not None,
    ...                 task="order-extraction", store="memory://", seed=0)
    >>> router.run("2 pens") in ({"item": "2 pens"}, None)
    True
"""

import typing as _typing

from bandits._adaptive import AdaptiveThompson
from bandits._errors import (
    AllPathsFailed,
    BudgetExceeded,
    ConfigError,
    CorruptStoreError,
    InputTooLarge,
    InvalidCostError,
    InvalidOutput,
    InvalidRecordError,
    InvalidScoreError,
    JudgeError,
    LoopDetected,
    PathTimeout,
    RateLimitExceeded,
    RouterError,
    SchemaTooNewError,
    ScoringError,
    StoreError,
    StoreUnavailableError,
    StreamInterrupted,
    UnknownRequestError,
)
from bandits._lazy import lazy_attributes as _lazy_attributes
from bandits._policy import Choice, Policy, Reset
from router._breaker import Breaker
from router._budget import Budget, Metered, MeteredScore, UnpricedPathWarning
from router._canary import Canary
from router._clock import Clock, FakeClock
from router._config import RouterConfig
from router._escalation import Alert, Escalation
from router._events import AttemptEvent, Observer, RunEvent
from router._guard import note_tool_call
from router._limits import RateLimit
from router._path import Path
from router._result import Attempt, RunResult
from router._retry import Retry
from router._router import Router
from router._taxonomy import Classifier, ErrorClass
from router._validation import strip_code_fences, validate_output

if _typing.TYPE_CHECKING:  # at run time these load on first use (see __getattr__): cold start
    from bandits._baselines import (
        UCB1,
        DiscountedThompson,
        EpsilonGreedy,
        RoundRobin,
        SlidingWindowThompson,
        StaticOrder,
        Thompson,
    )
    from bandits._contextual import ContextualThompson
    from bandits._cost import CostAware
    from bandits._glr import GLRklUCB
    from router._analysis_plots import (
        change_point_times,
        plot_change_points,
        plot_cost_per_success,
        plot_latency_percentiles,
        plot_path_dashboard,
        plot_posteriors,
        plot_rolling_success,
        plot_traffic_share,
    )
    from router._health import DEFAULT_RULES as DEFAULT_HEALTH_RULES
    from router._health import HealthResult, HealthRule, evaluate_health
    from router._logging import StructuredLog
    from router._otel import OpenTelemetryTracer
    from router._prometheus import PrometheusMetrics
    from router._redact import Redactor
    from router._streaming import AsyncStream, Stream

_LAZY = {
    "change_point_times": ("router._analysis_plots", "change_point_times"),
    "plot_change_points": ("router._analysis_plots", "plot_change_points"),
    "plot_cost_per_success": ("router._analysis_plots", "plot_cost_per_success"),
    "plot_latency_percentiles": ("router._analysis_plots", "plot_latency_percentiles"),
    "plot_path_dashboard": ("router._analysis_plots", "plot_path_dashboard"),
    "plot_posteriors": ("router._analysis_plots", "plot_posteriors"),
    "plot_rolling_success": ("router._analysis_plots", "plot_rolling_success"),
    "plot_traffic_share": ("router._analysis_plots", "plot_traffic_share"),
    "UCB1": ("bandits._baselines", "UCB1"),
    "DiscountedThompson": ("bandits._baselines", "DiscountedThompson"),
    "EpsilonGreedy": ("bandits._baselines", "EpsilonGreedy"),
    "RoundRobin": ("bandits._baselines", "RoundRobin"),
    "SlidingWindowThompson": ("bandits._baselines", "SlidingWindowThompson"),
    "StaticOrder": ("bandits._baselines", "StaticOrder"),
    "Thompson": ("bandits._baselines", "Thompson"),
    "ContextualThompson": ("bandits._contextual", "ContextualThompson"),
    "CostAware": ("bandits._cost", "CostAware"),
    "GLRklUCB": ("bandits._glr", "GLRklUCB"),
    "DEFAULT_HEALTH_RULES": ("router._health", "DEFAULT_RULES"),
    "HealthResult": ("router._health", "HealthResult"),
    "HealthRule": ("router._health", "HealthRule"),
    "evaluate_health": ("router._health", "evaluate_health"),
    "StructuredLog": ("router._logging", "StructuredLog"),
    "OpenTelemetryTracer": ("router._otel", "OpenTelemetryTracer"),
    "PrometheusMetrics": ("router._prometheus", "PrometheusMetrics"),
    "Redactor": ("router._redact", "Redactor"),
    "AsyncStream": ("router._streaming", "AsyncStream"),
    "Stream": ("router._streaming", "Stream"),
}

__all__ = [
    "DEFAULT_HEALTH_RULES",
    "UCB1",
    "AdaptiveThompson",
    "Alert",
    "AllPathsFailed",
    "AsyncStream",
    "Attempt",
    "AttemptEvent",
    "Breaker",
    "Budget",
    "BudgetExceeded",
    "Canary",
    "Choice",
    "Classifier",
    "Clock",
    "ConfigError",
    "ContextualThompson",
    "CorruptStoreError",
    "CostAware",
    "DiscountedThompson",
    "EpsilonGreedy",
    "ErrorClass",
    "Escalation",
    "FakeClock",
    "GLRklUCB",
    "HealthResult",
    "HealthRule",
    "InputTooLarge",
    "InvalidCostError",
    "InvalidOutput",
    "InvalidRecordError",
    "InvalidScoreError",
    "JudgeError",
    "LoopDetected",
    "Metered",
    "MeteredScore",
    "Observer",
    "OpenTelemetryTracer",
    "Path",
    "PathTimeout",
    "Policy",
    "PrometheusMetrics",
    "RateLimit",
    "RateLimitExceeded",
    "Redactor",
    "Reset",
    "Retry",
    "RoundRobin",
    "Router",
    "RouterConfig",
    "RouterError",
    "RunEvent",
    "RunResult",
    "SchemaTooNewError",
    "ScoringError",
    "SlidingWindowThompson",
    "StaticOrder",
    "StoreError",
    "StoreUnavailableError",
    "Stream",
    "StreamInterrupted",
    "StructuredLog",
    "Thompson",
    "UnknownRequestError",
    "UnpricedPathWarning",
    "change_point_times",
    "evaluate_health",
    "note_tool_call",
    "plot_change_points",
    "plot_cost_per_success",
    "plot_latency_percentiles",
    "plot_path_dashboard",
    "plot_posteriors",
    "plot_rolling_success",
    "plot_traffic_share",
    "strip_code_fences",
    "validate_output",
]


__getattr__, __dir__ = _lazy_attributes("router", _LAZY, globals(), __all__)
