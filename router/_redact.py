"""Redaction: mask personal data and secrets in values before they reach a log.

Pure standard library (``re``). A :class:`Redactor` masks e-mail addresses, phone
numbers, payment card numbers (13-19 digits that pass the Luhn check, spaces or dashes
allowed) and API keys or tokens (``sk-...``, ``sk-ant-...``, ``AKIA...`` and AWS secret
access keys, Stripe ``sk_live_``/``rk_live_``, ``ghp_...``, ``xoxb-...``, ``Bearer
<token>``, JWTs, ``api_key=...``/``token=...`` values, the password of a URL such as
``postgres://user:PASSWORD@host``) in strings, and walks dicts, lists, tuples, sets,
dataclasses and pydantic models.

:func:`redacted` is what the router itself applies to the error texts it puts in
alerts, log lines and exception messages (``AllPathsFailed``), by default.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from bandits import ConfigError
from router._names import shown

_KEY_NAMES = (
    r"aws[_-]?secret[_-]?access[_-]?key|secret[_-]?access[_-]?key|"
    r"api[_-]?key|apikey|access[_-]?key|secret[_-]?key|secret|client[_-]?secret|"
    r"access[_-]?token|refresh[_-]?token|auth[_-]?token|token|password|passwd|pwd|"
    r"authorization|private[_-]?key"
)

# Order matters: secrets first (their values may hold digits), then e-mail, cards, phones.
_SECRETS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    # The password of a URL, before the e-mail pattern reads "pw@host.com" as an address.
    (
        "secret",
        re.compile(r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s/]+)(?=@)"),
    ),
    ("secret", re.compile(r"(?i)(?P<keep>\bbearer\s+)(?P<secret>[A-Za-z0-9._~+/=-]{8,})")),
    # "api_key=abc", "token: abc", '"password": "abc"': keep the key, mask the value.
    (
        "secret",
        re.compile(
            rf"""(?ix)(?P<keep>\b(?:{_KEY_NAMES})["']?\s*[:=]\s*["']?)"""
            r"""(?!bearer\s)(?P<secret>[^\s"'&,;}{)\]]{4,})"""
        ),
    ),
    ("api_key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{16,}")),
    ("api_key", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")),
    ("api_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("api_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}")),  # Stripe
    ("api_key", re.compile(r"\bwhsec_[A-Za-z0-9]{16,}")),  # Stripe webhook secrets
    ("api_key", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("api_key", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("api_key", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)
# An AWS secret access key: 40 characters of base64 (see _aws_secret for the rest).
_AWS_SECRET: Final = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD: Final = re.compile(r"(?<![\w+-])\d(?:[ -]?\d){12,18}(?![\w-])")
_PHONE: Final = re.compile(
    r"(?<![\w+])(?!\d{4}-\d\d-\d\d)"  # not a date
    r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,12}(?:[ .-]\d{2,5}){0,4}(?!\w|\.\d)"
)
DEFAULT_SENSITIVE_KEYS: Final = frozenset(
    {
        "api_key",
        "apikey",
        "access_key",
        "access_token",
        "refresh_token",
        "auth_token",
        "authorization",
        "client_secret",
        "password",
        "passwd",
        "private_key",
        "secret",
        "secret_key",
        "token",
    }
)
"""Mapping keys whose whole value is masked (compared lowercased, ``-`` read as ``_``)."""
_MAX_DEPTH: Final = 32


def luhn_valid(digits: str) -> bool:
    """True when the string of digits passes the Luhn check of card numbers.

    Example:
        >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
        (True, False)
    """
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


class Redactor:
    """Masks personal data and secrets in strings and nested values.

    Args:
        patterns: extra ``{kind: regex}`` whose matches are masked as ``[REDACTED:kind]``.
        hooks: extra ``hook(text) -> text`` functions run on every string after the patterns.
        defaults: mask e-mails, phones, card numbers and API keys (True).
        sensitive_keys: mapping keys whose values are masked whole (``password``, ``token``...).
        mask: the replacement; ``{kind}`` becomes ``email``, ``phone``, ``card``, ``api_key``,
            ``secret`` or the name of an extra pattern.

    Example:
        >>> redact = Redactor(patterns={"order": r"ORD-\\d+"})
        >>> redact("mail bob@example.com re ORD-77, card 4111 1111 1111 1111")
        'mail [REDACTED:email] re [REDACTED:order], card [REDACTED:card]'
        >>> redact({"user": {"phone": "+44 20 7946 0958", "password": "hunter2"}, "n": 2})
        {'user': {'phone': '[REDACTED:phone]', 'password': '[REDACTED:secret]'}, 'n': 2}
    """

    __slots__ = ("_defaults", "_hooks", "_keys", "_mask", "_patterns")

    def __init__(
        self,
        patterns: Mapping[str, str | re.Pattern[str]] | None = None,
        hooks: Sequence[Callable[[str], str]] = (),
        *,
        defaults: bool = True,
        sensitive_keys: Iterable[str] = DEFAULT_SENSITIVE_KEYS,
        mask: str = "[REDACTED:{kind}]",
    ) -> None:
        self._patterns = _compile(patterns or {})
        if isinstance(hooks, str) or not isinstance(hooks, Sequence):
            raise ConfigError(f"hooks must be a list of functions of a string, got {shown(hooks)}")
        for hook in hooks:
            if not callable(hook):
                raise ConfigError(f"each hook must be a function text -> text, got {shown(hook)}")
        self._hooks = tuple(hooks)
        self._defaults = bool(defaults)
        if isinstance(sensitive_keys, str):
            raise ConfigError(
                f"sensitive_keys must be a collection of key names, got the string "
                f"{shown(sensitive_keys)}; wrap it in a list"
            )
        self._keys = frozenset(_key(name) for name in sensitive_keys)
        if not isinstance(mask, str):
            raise ConfigError(f"mask must be a string such as '[{{kind}}]', got {shown(mask)}")
        try:
            mask.format(kind="email")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"mask {shown(mask)} may only use the field {{kind}}; escape other braces "
                "as {{ }}"
            ) from exc
        self._mask = mask

    def __repr__(self) -> str:
        extra = ", ".join(self._patterns_names())
        return f"Redactor(defaults={self._defaults}, patterns=[{extra}], hooks={len(self._hooks)})"

    def __call__(self, value: Any) -> Any:
        """The value with every string in it redacted (a new value; the input is untouched)."""
        return self._walk(value, 0, set())

    def text(self, text: str) -> str:
        """One string with every match masked.

        Example:
            >>> Redactor().text("Authorization: Bearer abc.def.ghi123")
            'Authorization: Bearer [REDACTED:secret]'
        """
        if self._defaults:
            text = self._default_text(text)
        for kind, pattern in self._patterns:
            text = pattern.sub(self._mask.format(kind=kind), text)
        for hook in self._hooks:
            text = hook(text)
            if not isinstance(text, str):
                raise ConfigError(
                    f"redaction hook {shown(hook)} must return a string, got {shown(text)}"
                )
        return text

    def _patterns_names(self) -> list[str]:
        return [kind for kind, _ in self._patterns]

    def _default_text(self, text: str) -> str:
        for kind, pattern in _SECRETS:
            text = pattern.sub(self._keep_and_mask(kind), text)
        text = _AWS_SECRET.sub(self._aws_secret, text)
        text = _EMAIL.sub(self._mask.format(kind="email"), text)
        text = _CARD.sub(self._card, text)
        return _PHONE.sub(self._phone, text)

    def _keep_and_mask(self, kind: str) -> Callable[[re.Match[str]], str]:
        masked = self._mask.format(kind=kind)

        def replace(match: re.Match[str]) -> str:
            groups = match.groupdict()
            return (groups.get("keep") or "") + masked

        return replace

    def _aws_secret(self, match: re.Match[str]) -> str:
        """40 base64 characters with upper and lower case letters and digits: an AWS
        secret key (a 40-digit hex SHA-1 has no capitals; words have no digits)."""
        found = match.group()
        mixed = (
            any(c.isupper() for c in found)
            and any(c.islower() for c in found)
            and any(c.isdigit() for c in found)
        )
        return self._mask.format(kind="api_key") if mixed else found

    def _card(self, match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return self._mask.format(kind="card")
        return match.group()

    def _phone(self, match: re.Match[str]) -> str:
        found = match.group()
        digits = re.sub(r"\D", "", found)
        international = found.startswith("+") and len(digits) >= 7
        grouped = (found != digits) and 9 <= len(digits) <= 15
        plain = found == digits and 10 <= len(digits) <= 11
        if international or grouped or plain:
            return self._mask.format(kind="phone")
        return found

    def _walk(self, value: Any, depth: int, seen: set[int]) -> Any:  # noqa: PLR0911
        if value is None or isinstance(value, bool | float):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int):
            text = str(value)
            redacted = self.text(text)
            return value if redacted == text else redacted
        if isinstance(value, bytes | bytearray):
            return self.text(bytes(value).decode("utf-8", "replace"))
        if depth >= _MAX_DEPTH or id(value) in seen:
            return self._mask.format(kind="nested")
        seen = seen | {id(value)}
        if isinstance(value, Mapping):
            return {
                self._walk(key, depth + 1, seen): self._mask.format(kind="secret")
                if isinstance(key, str) and _key(key) in self._keys and item is not None
                else self._walk(item, depth + 1, seen)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            items = [self._walk(item, depth + 1, seen) for item in value]
            return tuple(items) if isinstance(value, tuple) else items
        dump = getattr(value, "model_dump", None)
        if callable(dump) and not isinstance(value, type):  # a pydantic model
            return self._walk(dump(), depth + 1, seen)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self._walk(fields, depth + 1, seen)
        return self.text(repr(value))  # anything else would reach the log through its repr


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


def _compile(
    patterns: Mapping[str, str | re.Pattern[str]],
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    if not isinstance(patterns, Mapping):
        raise ConfigError(
            f"patterns must be a mapping {{kind: regex}} such as {{'order': r'ORD-\\d+'}}, "
            f"got {shown(patterns)}"
        )
    compiled = []
    for kind, pattern in patterns.items():
        if not isinstance(kind, str) or not kind:
            raise ConfigError(f"a pattern's kind must be a non-empty string, got {kind!r}")
        if isinstance(pattern, re.Pattern):
            compiled.append((kind, pattern))
            continue
        if not isinstance(pattern, str):
            raise ConfigError(f"pattern {kind!r} must be a regex string, got {shown(pattern)}")
        try:
            compiled.append((kind, re.compile(pattern)))
        except re.error as exc:
            raise ConfigError(
                f"pattern {kind!r} is not a valid regex ({exc}): {shown(pattern)}"
            ) from exc
    return tuple(compiled)


_DEFAULT: Redactor | None = None


def redacted(text: str) -> str:
    """``text`` through the default :class:`Redactor`: what the router does to error texts
    it puts in alerts, logs and exception messages.

    Example:
        >>> redacted("401: invalid api_key=sk-live-4f9a8b7c6d5e4f3a for bob@example.com")
        '401: invalid api_key=[REDACTED:secret] for [REDACTED:email]'
    """
    global _DEFAULT  # noqa: PLW0603 - one default instance, built on first use
    if _DEFAULT is None:
        _DEFAULT = Redactor()
    return _DEFAULT.text(text)


def error_text(error: BaseException | None) -> str:
    """``str(error)``, redacted, and never raising (a broken ``__str__`` included).

    Example:
        >>> error_text(ConnectionError("reset by 10.0.0.1 for alice@example.com"))
        'reset by 10.0.0.1 for [REDACTED:email]'
    """
    if error is None:
        return "None"
    try:
        text = str(error)
    except Exception:
        return f"<{type(error).__name__} (str failed)>"
    return redacted(text)
