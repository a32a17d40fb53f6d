"""Validation of task and path names (they are keys in the store)."""

from __future__ import annotations

import unicodedata

from bandits import ConfigError
from bandits._names import shown as shown  # noqa: PLC0414 (old home)

MAX_NAME_LENGTH = 200


def check_name(kind: str, value: object) -> str:
    """Return ``value`` if it is a usable task or path name, else raise ConfigError.

    A name is a non-empty string of at most 200 characters, without control characters
    and without leading or trailing whitespace.

    Example:
        >>> check_name("task", "order-extraction")
        'order-extraction'
    """
    if not isinstance(value, str):
        raise ConfigError(
            f"{kind} name must be a string, got {type(value).__name__} {shown(value)}"
        )
    if not value or not value.strip():
        raise ConfigError(f"{kind} name must not be empty; use e.g. 'order-extraction'")
    if len(value) > MAX_NAME_LENGTH:
        raise ConfigError(
            f"{kind} name is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}: "
            f"{value[:40]!r}..."
        )
    if value != value.strip():
        raise ConfigError(f"{kind} name {value!r} has leading or trailing whitespace; strip it")
    # Cs: a lone surrogate, which is not text: no store can encode it.
    bad = sorted({c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")})
    if bad:
        raise ConfigError(
            f"{kind} name {value!r} contains control characters or lone surrogates {bad!r}; "
            "use printable text"
        )
    return value
