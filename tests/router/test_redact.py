"""The Redactor masks personal data and secrets, everywhere in a value, and nothing else."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from router import Alert, AllPathsFailed, ConfigError, Redactor, Router, ScoringError
from router._redact import luhn_valid

redact = Redactor()


@pytest.mark.parametrize(
    "email",
    ["bob@example.com", "first.last+tag@mail.example.co.uk", "x_y-z%1@sub-domain.io"],
)
def test_emails_are_masked(email: str) -> None:
    assert redact.text(f"write to {email}, thanks") == "write to [REDACTED:email], thanks"


@pytest.mark.parametrize(
    "phone",
    [
        "+1 (555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "(555) 123 4567",
        "5551234567",
        "+44 20 7946 0958",
        "+4915112345678",
        "020 7946 0958",
    ],
)
def test_phone_numbers_are_masked(phone: str) -> None:
    assert redact.text(f"call {phone} today") == "call [REDACTED:phone] today"


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500 0000 0000 0004",
        "3782 822463 10005",  # Amex, 15 digits
        "6011000990139424",
        "4222222222222",  # 13 digits
    ],
)
def test_card_numbers_are_masked(card: str) -> None:
    assert redact.text(f"card {card} exp 12/29") == "card [REDACTED:card] exp 12/29"


def test_a_number_failing_the_luhn_check_is_not_a_card() -> None:
    assert "card" not in redact.text("ref 4111 1111 1111 1112")


@pytest.mark.parametrize(
    "text",
    [
        "2 pens for $12.50",
        "order 12345678 shipped",
        "on 2026-01-01 12:00:00 UTC",
        "version 1.2.3 at 192.168.1.1",
        "epoch 1767225600.5",
        "max_tokens=100 and tokens: 1234",
        "zip 90210",
        "the key insight",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact.text(text) == text


@pytest.mark.parametrize(
    "key",
    [
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
        "sk-abcdefghijklmnopqrstuvwx",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz-0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "xoxb-123456789012-1234567890123-abcdefghijklmnop",
        "xoxp-123456789012-abcdefghij",
        "AIzaSyA-1234567890abcdefghijklmnopqrstu",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
)
def test_api_keys_are_masked(key: str) -> None:
    masked = redact.text(f"using {key} now")
    assert key not in masked and masked == "using [REDACTED:api_key] now"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc123.def456-ghi", "Authorization: Bearer [REDACTED:secret]"),
        ("bearer 0123456789abcdef", "bearer [REDACTED:secret]"),
        (
            "GET /v1?api_key=deadbeefdeadbeefdeadbeef&page=2",
            "GET /v1?api_key=[REDACTED:secret]&page=2",
        ),
        ("token=YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=", "token=[REDACTED:secret]"),
        ('{"password": "hunter22", "user": "x"}', '{"password": "[REDACTED:secret]", "user": "x"}'),
        ("client_secret: 9f86d081884c7d659a2feaa0c55ad015", "client_secret: [REDACTED:secret]"),
        ("X-API-KEY=abcd1234efgh", "X-API-KEY=[REDACTED:secret]"),
    ],
)
def test_secrets_after_a_key_name_are_masked_and_the_key_kept(text: str, expected: str) -> None:
    assert redact.text(text) == expected


class Address(BaseModel):
    email: str
    city: str


class Customer(BaseModel):
    name: str
    address: Address
    phones: list[str]


@dataclasses.dataclass
class Ticket:
    body: str
    priority: int


def test_nested_values_are_walked_and_copied_not_changed() -> None:
    value: dict[str, Any] = {
        "customer": Customer(
            name="Bob",
            address=Address(email="bob@example.com", city="Leeds"),
            phones=["+44 20 7946 0958"],
        ),
        "tickets": [Ticket("reach me at ann@example.org", 2)],
        "pair": ("4111 1111 1111 1111", 3.5),
        "tags": {"vip"},
        "raw": b"key sk-abcdefghijklmnopqrstuvwx",
        "card_as_int": 4111111111111111,
        "count": 12,
        "ok": True,
        "none": None,
    }
    before = repr(value)
    assert redact(value) == {
        "customer": {
            "name": "Bob",
            "address": {"email": "[REDACTED:email]", "city": "Leeds"},
            "phones": ["[REDACTED:phone]"],
        },
        "tickets": [{"body": "reach me at [REDACTED:email]", "priority": 2}],
        "pair": ("[REDACTED:card]", 3.5),
        "tags": ["vip"],
        "raw": "key [REDACTED:api_key]",
        "card_as_int": "[REDACTED:card]",
        "count": 12,
        "ok": True,
        "none": None,
    }
    assert repr(value) == before


def test_values_of_sensitive_keys_are_masked_whole() -> None:
    masked = redact({"Password": "correct horse", "API-Key": 12345, "token": None, "x": "y"})
    assert masked == {
        "Password": "[REDACTED:secret]",
        "API-Key": "[REDACTED:secret]",
        "token": None,
        "x": "y",
    }


def test_sensitive_keys_are_configurable() -> None:
    custom = Redactor(sensitive_keys=["ssn"])
    assert custom({"ssn": "078-05-1120", "password": "x"}) == {
        "ssn": "[REDACTED:secret]",
        "password": "x",
    }


def test_keys_of_mappings_are_redacted_too() -> None:
    assert redact({"bob@example.com": 1}) == {"[REDACTED:email]": 1}


def test_other_objects_are_redacted_through_their_repr() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "Opaque(owner='bob@example.com')"

    assert redact(Opaque()) == "Opaque(owner='[REDACTED:email]')"


def test_cycles_and_deep_nesting_end_in_a_mask() -> None:
    loop: list[Any] = ["bob@example.com"]
    loop.append(loop)
    assert redact(loop) == ["[REDACTED:email]", "[REDACTED:nested]"]
    deep: Any = "x"
    for _ in range(100):
        deep = [deep]
    flat = repr(redact(deep))
    assert "[REDACTED:nested]" in flat and "'x'" not in flat


def test_extra_patterns_and_hooks_run_after_the_defaults() -> None:
    custom = Redactor(
        patterns={"order": r"ORD-\d+", "name": re.compile(r"\bBob\b")},
        hooks=[str.strip, lambda text: text.replace("Leeds", "[city]")],
    )
    assert custom.text("  Bob (bob@example.com) ORD-42 Leeds ") == (
        "[REDACTED:name] ([REDACTED:email]) [REDACTED:order] [city]"
    )


def test_defaults_can_be_turned_off() -> None:
    only = Redactor(patterns={"order": r"ORD-\d+"}, defaults=False)
    assert only.text("bob@example.com ORD-1") == "bob@example.com [REDACTED:order]"


def test_the_mask_is_configurable() -> None:
    assert Redactor(mask="<{kind}>").text("bob@example.com") == "<email>"
    assert Redactor(mask="***").text("bob@example.com") == "***"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patterns": ["ORD-\\d+"]},
        {"patterns": {"order": "ORD-("}},
        {"patterns": {"": "x"}},
        {"patterns": {"order": 5}},
        {"hooks": str.upper},
        {"hooks": ["not callable"]},
        {"sensitive_keys": "password"},
        {"mask": "[{what}]"},
        {"mask": 5},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Redactor(**kwargs)


def test_a_hook_returning_a_non_string_is_refused() -> None:
    broken = Redactor(hooks=[lambda text: None])  # type: ignore[list-item,return-value]
    with pytest.raises(ConfigError, match="must return a string"):
        broken.text("x")


def test_repr_names_the_extra_patterns() -> None:
    assert repr(Redactor(patterns={"order": "ORD"})) == (
        "Redactor(defaults=True, patterns=[order], hooks=0)"
    )


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    body = draw(st.lists(st.integers(0, 9), min_size=11, max_size=17))
    digits = "".join(map(str, [draw(st.integers(1, 9)), *body]))
    check = next(d for d in "0123456789" if luhn_valid(digits + d))
    number = digits + check
    separator = draw(st.sampled_from(["", " ", "-"]))
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@given(card_numbers())
def test_every_luhn_valid_card_number_is_masked(card: str) -> None:
    assert redact.text(f"pay with {card}.") == "pay with [REDACTED:card]."


@given(
    st.from_regex(r"[a-z][a-z0-9._+-]{0,15}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(com|org|io|co\.uk)", fullmatch=True),
)
def test_every_email_is_masked(local: str, domain: str) -> None:
    email = f"{local}@{domain}"
    masked = redact.text(f"from: {email}")
    assert email not in masked and "[REDACTED:email]" in masked


# Issue 16, item 10: more kinds of secrets, and the router's own messages redacted.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key=[REDACTED:secret]",
        ),
        (
            "AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SECRET_ACCESS_KEY: [REDACTED:secret]",
        ),
        ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY!", "secret [REDACTED:api_key]!"),
        ("using rk_live_51H8abcdEFGH1234567890 now", "using [REDACTED:api_key] now"),
        ("using sk_live_4eC39HqLyjWDarjtT1zdp7dc now", "using [REDACTED:api_key] now"),
        ("hook whsec_abcdefghijklmnop1234", "hook [REDACTED:api_key]"),
        (
            "cannot reach postgres://router:hunter2@db.internal:5432/prod",
            "cannot reach postgres://router:[REDACTED:secret]@db.internal:5432/prod",
        ),
        (
            "redis://:p4ss@cache.example.com:6379/0",
            "redis://:[REDACTED:secret]@cache.example.com:6379/0",
        ),
    ],
)
def test_aws_and_stripe_keys_and_url_passwords_are_masked(text: str, expected: str) -> None:
    assert redact.text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",  # 40 hex digits: a SHA-1
        "see https://example.com/docs/page and postgres://router@db/prod",
        "internationalizationlocalizationtesting1",  # 40 letters, no digits
    ],
)
def test_look_alikes_of_those_secrets_are_left_alone(text: str) -> None:
    assert redact.text(text) == text


SECRET_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e"
EMAIL = "alice.secret@example.com"


class Refused(Exception):
    status_code = 401


def refused(text: str) -> str:
    raise Refused(f"invalid api_key={SECRET_KEY} for {EMAIL}")


def test_the_auth_alert_and_all_paths_failed_are_redacted_by_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Before: the default alert logged the provider's text in clear, and AllPathsFailed
    # embedded it.
    router = Router([refused], lambda out: True, store="memory://")
    with (
        caplog.at_level(logging.WARNING, logger="outcome_router"),
        pytest.raises(AllPathsFailed) as failed,
    ):
        router.run("x")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "auth alert" in logged and "[REDACTED" in logged
    for secret in (SECRET_KEY, EMAIL, "sk-live"):
        assert secret not in logged
        assert secret not in str(failed.value)
    assert SECRET_KEY in str(failed.value.attempts[0].error)  # the exception itself is kept


def test_the_alert_handed_to_on_alert_is_redacted() -> None:
    alerts: list[Alert] = []
    router = Router([refused], lambda out: True, store="memory://", on_alert=alerts.append)
    with pytest.raises(AllPathsFailed):
        router.run("x")
    (alert,) = alerts
    assert alert.kind == "auth" and SECRET_KEY not in alert.message and EMAIL not in alert.message


def test_an_error_whose_str_raises_does_not_break_all_paths_failed() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    def broken(text: str) -> str:
        raise Unprintable

    router = Router([broken], lambda out: True, store="memory://")
    with pytest.raises(AllPathsFailed, match=r"Unprintable \(str failed\)"):
        router.run("x")


def test_a_scoring_error_does_not_quote_secrets() -> None:
    def strict(out: str) -> bool:
        raise KeyError(f"no order for {EMAIL}")

    router = Router([str.upper], strict, store="memory://")
    with pytest.raises(ScoringError) as failed:
        router.run("x")
    assert EMAIL not in str(failed.value) and "[REDACTED:email]" in str(failed.value)
