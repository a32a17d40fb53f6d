"""Bad input gets a clear RouterError naming what to fix, and nothing stored changes."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

import pytest

from router import (
    ConfigError,
    CorruptStoreError,
    InvalidScoreError,
    Path,
    Router,
    RouterError,
    ScoringError,
    StoreUnavailableError,
)
from storage import Store


def extract(x: Any) -> str:
    return "order"


def regex(x: Any) -> str:
    return "order"


def test_empty_paths() -> None:
    with pytest.raises(ConfigError, match="at least one path"):
        Router([], lambda out: True, store="memory://")


def test_single_callable_instead_of_a_list() -> None:
    with pytest.raises(ConfigError, match=r"wrap a single path in a list"):
        Router(extract, lambda out: True, store="memory://")  # type: ignore[arg-type]


def test_duplicate_path_names() -> None:
    with pytest.raises(ConfigError, match=r"duplicate path names \['extract'\]"):
        Router([extract, Path(regex, name="extract")], lambda out: True, store="memory://")


@pytest.mark.parametrize("path", [42, "extract", None, extract("x")])
def test_non_callable_path(path: object) -> None:
    with pytest.raises(ConfigError, match="must be callable"):
        Router([extract, path], lambda out: True, store="memory://")  # type: ignore[list-item]


def test_unnamed_lambda_path() -> None:
    with pytest.raises(ConfigError, match="Path\\(fn, name="):
        Router([lambda x: x], lambda out: True, store="memory://")


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5"])
def test_bad_timeout(timeout: object) -> None:
    with pytest.raises(ConfigError, match="positive number of seconds"):
        Path(extract, timeout=timeout)  # type: ignore[arg-type]


def test_non_callable_success_fn() -> None:
    with pytest.raises(ConfigError, match="success_fn must be callable"):
        Router([extract], True, store="memory://")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 201, "limit is 200"),
        ("bad\ntask", "control characters"),
        ("tab\there", "control characters"),
        ("nul\x00", "control characters"),
        (" padded ", "whitespace"),
        (7, "must be a string"),
    ],
)
def test_bad_task_names(task: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Router([extract], lambda out: True, task=task, store="memory://")  # type: ignore[arg-type]


def test_task_name_of_exactly_200_characters_is_fine() -> None:
    assert Router([extract], lambda out: True, task="x" * 200, store="memory://").task == "x" * 200


@pytest.mark.parametrize("bad", [2, float("nan"), None, "yes", -0.5, [1]])
def test_success_fn_returning_a_non_score(store: Store, task: str, bad: object) -> None:
    router = Router([extract], lambda out: bad, task=task, store=store)
    with pytest.raises(InvalidScoreError) as info:
        router.run("text")
    message = str(info.value)
    assert repr(bad) in message and "'extract'" in message
    row = router.stats().loc["extract"]
    assert (row["alpha"], row["beta"], row["n"]) == (1.0, 1.0, 0)
    (logged,) = store.outcomes(task)
    assert (logged.score, logged.error_class) == (None, "invalid_score")


def test_success_fn_that_raises(store: Store, task: str) -> None:
    def strict(order: Any) -> bool:
        return order["item"] == "pen"

    router = Router([extract], strict, task=task, store=store)
    with pytest.raises(ScoringError, match="TypeError") as info:
        router.run("text")
    assert isinstance(info.value.__cause__, ScoringError)
    (logged,) = store.outcomes(task)
    assert (logged.score, logged.error_class) == (None, "scoring_error")
    assert router.stats().loc["extract", "n"] == 0


def test_invalid_score_keeps_what_was_already_learned(store: Store, task: str) -> None:
    answers = iter([True, True, "yes"])
    router = Router([extract], lambda out: next(answers), task=task, store=store)
    router.run(1)
    router.run(2)
    posterior = ["alpha", "beta", "mean", "ci_low", "ci_high", "n", "traffic_share"]
    learned = router.stats()[posterior]
    with pytest.raises(InvalidScoreError):
        router.run(3)
    assert router.stats()[posterior].equals(learned)  # (the call itself is still counted)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(ConfigError, match="seed must be"):
        Router([extract], lambda out: True, store="memory://", seed=seed)  # type: ignore[arg-type]


def test_bad_clock() -> None:
    with pytest.raises(ConfigError, match="clock must be"):
        Router([extract], lambda out: True, store="memory://", clock=12.0)  # type: ignore[arg-type]


def test_bad_store_argument() -> None:
    with pytest.raises(ConfigError, match="store must be a Store"):
        Router([extract], lambda out: True, store=3)  # type: ignore[arg-type]


def test_unreachable_store_url() -> None:
    with pytest.raises(StoreUnavailableError, match="unreachable"):
        Router([extract], lambda out: True, store="postgresql+psycopg://u@127.0.0.1:1/db")


def test_store_that_is_not_a_database(tmp_path: FsPath) -> None:
    target = tmp_path / "README.txt"
    target.write_text("hello")
    with pytest.raises(CorruptStoreError, match="not a SQLite database"):
        Router([extract], lambda out: True, store=str(target))
    assert target.read_text() == "hello"


def test_corrupt_store_file_keeps_its_bytes(tmp_path: FsPath) -> None:
    target = tmp_path / "s.db"
    with Router([extract], lambda out: True, store=str(target)) as router:
        router.run(1)
    data = bytearray(target.read_bytes())
    data[100:4096] = b"\x00\xff" * ((4096 - 100) // 2)
    target.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError):
        Router([extract], lambda out: True, store=str(target))
    assert target.read_bytes() == bytes(data)


def test_every_error_is_a_router_error() -> None:
    for error in (
        ConfigError,
        InvalidScoreError,
        ScoringError,
        StoreUnavailableError,
        CorruptStoreError,
    ):
        assert issubclass(error, RouterError)
    assert issubclass(ConfigError, ValueError)


# Issue 16, item 14: our own errors, never raw ones.


@pytest.mark.parametrize("bad", ["gpt-\ud800", "\udfffx"])
@pytest.mark.parametrize("where", ["task", "path", "customer"])
def test_a_lone_surrogate_in_a_name_is_a_config_error_for_every_store(
    store: Store, task: str, where: str, bad: str
) -> None:
    # Before: SQLite and PostgreSQL raised UnicodeEncodeError, memory:// accepted it.
    def build() -> object:
        if where == "task":
            return Router([extract], lambda out: True, task=bad, store=store)
        if where == "path":
            return Router([Path(extract, name=bad)], lambda out: True, task=task, store=store)
        return Router([extract], lambda out: True, task=task, store=store).run("x", customer=bad)

    with pytest.raises(ConfigError, match="lone surrogates"):
        build()


@pytest.mark.parametrize("request_id", [42, None, b"abc", ["r1"]])
def test_report_of_an_id_that_is_not_a_string(request_id: object) -> None:
    router = Router([extract], lambda out: True, store="memory://")
    with pytest.raises(ConfigError, match=r"request_id must be the string RunResult\.request_id"):
        router.report(request_id, 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("output", [int, dict, str])
def test_an_output_that_is_not_a_pydantic_model_is_refused_at_construction(
    output: type,
) -> None:
    with pytest.raises(ConfigError, match="pydantic model class"):
        Path(extract, output=output)


@pytest.mark.parametrize("window", ["x", None, True, 0, -5, float("nan"), float("inf")])
def test_a_bad_idempotency_window(window: object) -> None:
    with pytest.raises(ConfigError, match="idempotency_window must be a number of seconds"):
        Router([extract], lambda out: True, store="memory://", idempotency_window=window)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [True, False])
def test_a_timeout_that_is_a_bool_is_refused(timeout: bool) -> None:
    with pytest.raises(ConfigError, match="positive number of seconds"):
        Path(extract, timeout=timeout)


class BrokenRepr:
    """A user object whose repr raises: our messages must still be built."""

    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")


Broken = BrokenRepr


@pytest.mark.parametrize(
    "build",
    [
        lambda: Router([extract], lambda out: True, store="memory://", policy=BrokenRepr()),
        lambda: Router([extract], lambda out: True, store="memory://", on_alert=BrokenRepr()),
        lambda: Router([extract], lambda out: True, store="memory://", observers=[BrokenRepr()]),
        lambda: Router([extract], lambda out: True, store="memory://", retry=BrokenRepr()),
        lambda: Router([extract], lambda out: True, store="memory://", breaker=BrokenRepr()),
        lambda: Router([extract], lambda out: True, store="memory://", budget=BrokenRepr()),
        lambda: Router([extract], lambda out: True, store="memory://", escalation=BrokenRepr()),
        lambda: Router([extract], lambda out: True, store="memory://", seed=BrokenRepr()),
        lambda: Router([extract], BrokenRepr(), store="memory://", deadline=BrokenRepr()),
        lambda: Router([Path(extract, rate_limit=BrokenRepr())], lambda out: True),
        lambda: Router([Path(extract, timeout=BrokenRepr())], lambda out: True),
        lambda: Router([Path(extract, output=BrokenRepr())], lambda out: True),
        lambda: Router([extract], lambda out: True, store="memory://").run(
            "x", customer=BrokenRepr()
        ),
        lambda: Router([extract], lambda out: True, store="memory://").report(BrokenRepr(), 1),
        lambda: Router([extract], lambda out: True, store="memory://").run(
            "x", idempotency_key=BrokenRepr()
        ),
    ],
)
def test_a_raising_repr_never_breaks_our_messages(build: Any) -> None:
    with pytest.raises(ConfigError, match="repr failed"):
        build()
