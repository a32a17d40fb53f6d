"""Passwords kept out of messages: every URL in a text shown with its password masked."""

from __future__ import annotations

import re

_PASSWORD = re.compile(r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*:(?://)?[^:/@\s'\"]*:)[^\s'\"]*@")


def hide_password(text: str) -> str:
    """``text`` with the password of every URL in it masked (``user:***@host``).

    Example:
        >>> hide_password("could not open 'postgres://router:s3cret@db/prod'")
        "could not open 'postgres://router:***@db/prod'"
        >>> hide_password("postgresql:router:s3cret@db")
        'postgresql:router:***@db'
    """
    return _PASSWORD.sub(r"\g<keep>***@", text)
