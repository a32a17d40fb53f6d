"""The root of outcome-router's exception tree.

It lives in ``bandits`` because that is the lowest layer: ``storage`` and ``router``
extend it without importing upward. ``router`` re-exports the whole tree::

    RouterError
    ├── ConfigError (ValueError)          bad argument or configuration: fix the call
    │   └── InvalidScoreError             success_fn / report gave a non-score
    ├── ScoringError                      success_fn itself raised
    ├── AllPathsFailed                    every eligible path failed this run
    └── StoreError                        the store could not do what was asked
        ├── StoreUnavailableError         cannot reach or open the store
        ├── CorruptStoreError             the file is not a usable database
        └── UnknownRequestError (KeyError) report() for an id the store does not hold
"""

from __future__ import annotations


class RouterError(Exception):
    """Base class of every error outcome-router raises on purpose."""


class ConfigError(RouterError, ValueError):
    """An argument or setting is invalid; the message names it and what to use instead."""


class InvalidScoreError(ConfigError):
    """A success function or report gave something that is not a score in [0, 1]."""
