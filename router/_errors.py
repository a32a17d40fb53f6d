"""The router's exceptions: the tree drawn in ``bandits._errors``, re-exported here."""

from __future__ import annotations

from bandits._errors import (
    AllPathsFailed,
    ConfigError,
    CorruptStoreError,
    InvalidCostError,
    InvalidRecordError,
    InvalidScoreError,
    PathTimeout,
    RateLimitExceeded,
    RouterError,
    ScoringError,
    StoreError,
    StoreUnavailableError,
    StreamInterrupted,
    UnknownRequestError,
)

__all__ = [
    "AllPathsFailed",
    "ConfigError",
    "CorruptStoreError",
    "InvalidCostError",
    "InvalidRecordError",
    "InvalidScoreError",
    "PathTimeout",
    "RateLimitExceeded",
    "RouterError",
    "ScoringError",
    "StoreError",
    "StoreUnavailableError",
    "StreamInterrupted",
    "UnknownRequestError",
]
