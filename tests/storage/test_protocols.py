"""The store protocols by role, and wrappers that implement every method themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pytest

import storage
from bandits import ConfigError
from router import Router
from simulations import DelayedStore, SimClock
from storage import (
    BatchingStore,
    ControlStore,
    EvidenceStore,
    MemoryStore,
    Outcome,
    ReadStore,
    ResilientStore,
    SpendStore,
    SQLStore,
    Store,
    StoreWrapper,
)

ROLES = [EvidenceStore, ControlStore, SpendStore, ReadStore]


def members(protocol: type) -> set[str]:
    """The public members a Protocol declares, its protocol bases' included."""
    return {
        name
        for cls in protocol.__mro__
        if getattr(cls, "_is_protocol", False) and cls is not Protocol
        for name in vars(cls)
        if not name.startswith("_")
    }


def _wrappers() -> list[Any]:
    return [
        ResilientStore(MemoryStore()),
        BatchingStore(MemoryStore()),
        DelayedStore(MemoryStore(), SimClock()),
        StoreWrapper(MemoryStore()),
    ]


def test_store_is_every_role_and_close() -> None:
    assert set().union(*(members(role) for role in ROLES)) | {"close"} == members(Store)
    assert all(role in Store.__mro__ for role in ROLES)


@pytest.mark.parametrize("store", _wrappers(), ids=lambda s: type(s).__name__)
def test_wrapper_implements_every_store_method_itself_without_getattr(store: Any) -> None:
    cls = type(store)
    assert not hasattr(cls, "__getattr__")
    written = {name for base in cls.__mro__ if base is not object for name in vars(base)}
    assert sorted(members(Store) - written) == []  # by the class or StoreWrapper, in full
    assert isinstance(store, Store)


@pytest.mark.parametrize("cls", [MemoryStore, SQLStore])
def test_concrete_stores_implement_every_store_method(cls: type) -> None:
    assert sorted(n for n in members(Store) if not hasattr(cls, n)) == []


def test_store_tasks_works_on_the_routers_own_wrapped_store(tmp_path: Path) -> None:
    router = Router(
        [str.upper], success_fn=lambda out: True, task="t", store=tmp_path / "r.db", seed=0
    )
    try:
        router.run("x")
        assert isinstance(router.store, ResilientStore)
        assert storage.store_tasks(router.store) == ["t"]
        assert list(storage.outcomes_frame(router.store)["task"]) == ["t"]
    finally:
        router.close()


def test_a_memory_store_does_not_list_its_tasks_through_a_wrapper() -> None:
    with pytest.raises(ConfigError, match="does not list its tasks"):
        storage.store_tasks(BatchingStore(MemoryStore()))


def test_batching_store_passes_controls_and_spending_straight_through() -> None:
    inner = MemoryStore()
    store = BatchingStore(inner, flush_every=100, flush_interval=60.0)
    store.set_path_mode("t", "a", "disabled", 0.0)
    store.count_failure("t", "b", 0.0, threshold=1)
    store.add_spend("task:t", 0, 10, 0.5)
    assert inner.path_states("t")["a"].mode == "disabled"
    assert inner.path_states("t")["b"].failures == 1
    assert inner.spend("task:t", 0).cost == 0.5


def test_batching_store_writes_its_queue_before_reads_and_prune() -> None:
    inner = MemoryStore()
    store = BatchingStore(inner, flush_every=100, flush_interval=60.0)
    store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
    assert store.pending == 1
    assert [d.attempts for d in store.daily_aggregates("t")] == [1]
    assert store.pending == 0 and store.prune(older_than=1.0) == 1


def test_delayed_store_records_pending_outcomes_before_reads() -> None:
    clock = SimClock(0.0)
    store = DelayedStore(MemoryStore(), clock)
    clock.advance(5.0)
    store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
    clock.set(1.0)
    assert store.posteriors("t") == {}
    assert [d.attempts for d in store.daily_aggregates("t")] == [1]


class _HoldsBack(StoreWrapper):
    """Holds recorded outcomes until flushed, as BatchingStore does."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.held: list[Outcome] = []

    def record(self, outcome: Outcome) -> bool:
        self.held.append(outcome)
        return True

    def flush(self) -> int:
        written = self.inner.record_many(self.held)
        self.held = []
        return written


def test_a_store_wrapper_flushes_before_reads_and_passes_controls_straight_through() -> None:
    inner = MemoryStore()
    store = _HoldsBack(inner)
    store.record(Outcome("r1", 1, "t", "a", 1.0, created_at=0.0))
    assert inner.outcomes("t") == []  # held back
    store.set_path_mode("t", "a", "disabled", 1.0)
    assert inner.path_states("t")["a"].mode == "disabled"  # at once, not held
    assert [o.request_id for o in store.outcomes("t")] == ["r1"]  # flushed first
    assert repr(store) == f"_HoldsBack({inner!r})"


def test_a_store_with_only_what_routing_calls_is_accepted() -> None:
    from types import SimpleNamespace

    from router._settings import routing_methods

    inner = MemoryStore()  # a user's store: what routing calls, none of the read methods
    store: Any = SimpleNamespace(**{name: getattr(inner, name) for name in routing_methods()})
    assert not isinstance(store, Store) and not hasattr(store, "tasks")
    router = Router([str.upper], success_fn=lambda out: True, task="t", store=store, seed=0)
    assert router.run("x") == "X"
    assert router.stats().loc["upper", "n"] == 1


def test_a_store_missing_what_routing_calls_is_refused_by_name() -> None:
    class Partial:
        url = "partial://"

        def posteriors(self, task: str) -> dict[str, Any]:
            return {}

    with pytest.raises(ConfigError, match=r"store Partial lacks .*record, record_many"):
        Router([str.upper], success_fn=lambda out: True, store=Partial())  # type: ignore[arg-type]
