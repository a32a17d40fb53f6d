"""Validation of task and path names (they are keys in the store)."""

from __future__ import annotations

import unicodedata

from bandits import ConfigError

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


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for a message, shortened, and never raising (a broken ``__repr__``
    must not replace the error being reported).

    Example:
        >>> class Broken:
        ...     def __repr__(self): raise RuntimeError("no repr")
        >>> shown(Broken()), shown("x" * 100)[-5:]
        ('<Broken object (repr failed)>', 'xx...')
    """
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} object (repr failed)>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
