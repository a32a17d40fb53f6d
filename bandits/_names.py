"""Values shown in error messages."""

from __future__ import annotations


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
